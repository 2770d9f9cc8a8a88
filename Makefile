# ras - a Lua 5.4 module for Remote Access (RAS) connections.
#
#   make          build/ras.so (and, on Linux, the pppd plugin)
#   make demo     dial a simulated connection and print its states live
#   make test     build, luacheck and the whole spec suite
#   make check    the suite under valgrind, ASan+UBSan and ThreadSanitizer, the
#                 stress specs under TSan, allocation-failure sweeps, a fuzz run
#   make bench    the benchmarks, with figures
#   make windows  cross-build lua54.dll, lua.exe and ras.dll (mk/windows.mk)
#
# A plain `make` (and install, embed-check, any file target) never runs a
# package manager: it needs a C compiler and Lua's headers (mk/lua-cflags.sh
# finds them, or says what to install), and pppd's headers for the plugin.
# The targets that set up a whole machine (demo, test, check, windows, ...)
# install the Debian packages they miss (mk/deps.sh), where apt-get exists.
#
# Other Lua versions: make LUA=lua5.1 (lua5.2, lua5.3, luajit) builds into
# build/$(LUA)/; the default, lua5.4, stays in build/.

LUA ?= lua5.4
# The version: 5.1 5.2 5.3 5.4, or jit (LuaJIT 2.1, the 5.1 API and ABI).
LUA_V ?= $(patsubst lua%,%,$(notdir $(LUA)))
ifeq ($(filter 5.1 5.2 5.3 5.4 jit,$(LUA_V)),)
$(error ras: cannot tell the Lua version from LUA=$(LUA): add LUA_V=5.1|5.2|5.3|5.4|jit)
endif
LUA_ABI := $(if $(filter jit,$(LUA_V)),5.1,$(LUA_V))
BUILD := $(if $(filter 5.4,$(LUA_V)),build,build/$(notdir $(LUA)))
# Found when first used, after `deps` has run on a setup target (a fresh
# machine has no pkg-config before it); evaluated once.
LUA_CFLAGS = $(eval LUA_CFLAGS := $(shell sh mk/lua-cflags.sh $(LUA_V) 2>/dev/null))$(LUA_CFLAGS)
# The static library the embedding host links (Debian's names).
LUA_STATIC_LIB := $(if $(filter jit,$(LUA_V)),luajit-5.1,lua$(LUA_V))
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
ALL_CFLAGS = -std=c99 -fPIC $(WARN) $(CFLAGS) $(LUA_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS := -lpthread -lm

# Platform-neutral files, plus each platform's files (empty elsewhere).
RAS_SRC := src/ras.c src/options.c src/entries.c src/watch.c src/info.c src/queue.c src/idmap.c src/list.c src/states.c src/errors.c \
	src/backends.c src/backend_win32.c src/os_posix.c src/os_win32.c \
	src/sim/backend.c src/sim/options.c src/sim/scenario.c src/sim/book.c src/sim/text.c src/sim/thread.c src/sim/calls.c \
	src/sim/entries.c src/sim/watch.c src/sim/activity.c src/sim/info.c \
	src/pppd/backend.c src/pppd/channel.c src/pppd/watcher.c src/pppd/spawn.c src/pppd/foreign.c src/pppd/watch.c src/pppd/info.c src/pppd/entries.c src/pppd/secrets.c
RAS_HDR := $(wildcard src/*.h src/sim/*.h src/pppd/*.h)

BUSTED := $(LUA) /usr/bin/busted
SPECS ?= spec
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;
export LUA_PATH := $(CURDIR)/?.lua;$(CURDIR)/spec/?.lua;;

.PHONY: all deps lua-headers noapt-check test-lua-versions test-this-lua windows-deps demo demo-sim test test-pppd bench-pppd lint spec rock-check embed-check check check-valgrind check-asan check-tsan check-tsan-pppd \
	bench clean

UNAME := $(shell uname -s)
# Goals that only build (or install what was built) run no package manager;
# any other goal sets up the machine first (`deps`, an order-only prerequisite
# of every compile).
BUILD_ONLY_GOALS := all install uninstall install-check embed-check clean lua-headers noapt-check
SETUP_GOALS := $(filter-out $(BUILD_ONLY_GOALS) $(BUILD)/% build/%,$(MAKECMDGOALS))
DEPS := $(if $(SETUP_GOALS),deps)

# The plugin needs pppd's headers (Debian: ppp-dev). A build-only goal without
# them skips it with a note; a setup goal installs them.
ifeq ($(UNAME),Linux)
ifneq ($(DEPS)$(wildcard $(or $(PPPD_INCLUDE),/usr/include/pppd)/pppd.h),)
PLUGIN := $(BUILD)/ras_pppd.so
else
PLUGIN_SKIPPED := 1
endif
endif

all: $(BUILD)/ras.so $(PLUGIN) $(if $(PLUGIN_SKIPPED),plugin-note)

.PHONY: plugin-note
plugin-note:
	@echo "ras: pppd's headers ($(or $(PPPD_INCLUDE),/usr/include/pppd)/pppd.h) are missing: the pppd plugin" \
		"$(BUILD)/ras_pppd.so is not built, so the pppd backend cannot dial. Install ppp-dev" \
		"(Debian/Ubuntu; Fedora: ppp-devel) or set PPPD_INCLUDE=DIR." >&2

deps:
	@sh mk/deps.sh build $(LUA)

# Says what is missing when Lua's headers cannot be found.
lua-headers: | $(DEPS)
	@sh mk/lua-cflags.sh $(LUA_V) >/dev/null

$(BUILD)/ras.so: $(RAS_SRC) $(RAS_HDR) | $(DEPS) lua-headers
	@mkdir -p $(BUILD)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(RAS_SRC) $(LDLIBS)

# Sanitizer builds: -z nodelete keeps the module mapped at lua_close, so the
# reports have symbols.
$(BUILD)/asan/ras.so: $(RAS_SRC) $(RAS_HDR) | $(DEPS) lua-headers
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer -shared -Wl,-z,nodelete -o $@ $(RAS_SRC) $(LDLIBS)

$(BUILD)/tsan/ras.so: $(RAS_SRC) $(RAS_HDR) | $(DEPS) lua-headers
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 -fsanitize=thread -fno-omit-frame-pointer -shared \
		-Wl,-z,nodelete -o $@ $(RAS_SRC) $(LDLIBS)

# Linux: a real pppd dial in the sandbox; elsewhere the simulated one.
# The sanitizer builds find the pppd plugin beside them, like an install.
$(BUILD)/asan/ras_pppd.so $(BUILD)/tsan/ras_pppd.so: $(BUILD)/ras_pppd.so
	@mkdir -p $(dir $@)
	cp $< $@

demo: all
ifneq ($(PLUGIN),)
	@sh mk/deps.sh pppd
	RAS_TEST_BACKEND=pppd RAS_SANDBOX_ENV="RAS_TEST_BACKEND LUA_PATH LUA_CPATH" \
		spec/pppd/sandbox $(LUA) examples/demo_pppd.lua
else
	$(LUA) examples/demo.lua
endif

demo-sim: all
	$(LUA) examples/demo.lua

lint:
	@sh mk/deps.sh test
	luacheck -q spec bench $(wildcard examples bin)

# Every spec file; the examples spec runs the static embedding host too.
spec: all $(BUILD)/embed-host
	@sh mk/deps.sh test
	$(BUSTED) $(SPECS)

# The neutral specs and the pppd specs against real pppd, inside the sandbox
# (User-Mode Linux when the kernel has no PPP).
PPPD_SPECS := spec/pppd_spec.lua spec/dial_spec.lua spec/delivery_spec.lua spec/robust_spec.lua \
	spec/pause_spec.lua spec/hangup_spec.lua spec/enum_spec.lua spec/input_spec.lua \
	spec/secrets_spec.lua spec/scheduler_spec.lua spec/module_spec.lua \
	spec/rasdial_spec.lua spec/pppd_link_spec.lua spec/pppd_fault_spec.lua \
	spec/pppd_vpn_spec.lua spec/pppd_watch_spec.lua spec/pppd_info_spec.lua \
	spec/pppd_entries_spec.lua spec/entries_spec.lua spec/info_spec.lua spec/watch_spec.lua

test-pppd: all
	@sh mk/deps.sh test pppd
	RAS_TEST_BACKEND=pppd RAS_SANDBOX_ENV="RAS_TEST_BACKEND LUA_PATH LUA_CPATH" \
		spec/pppd/sandbox $(BUSTED) $(PPPD_SPECS)

# test-windows (mk/windows.mk): the cross-built module under Wine, against the
# rasapi32 test double and Wine's own stub.
test: all lint spec rock-check embed-check install-check noapt-check test-lua-versions $(if $(PLUGIN),test-pppd test-pppd25) \
	windows-deps test-windows

# A plain `make` with no apt-get, dpkg or sudo on PATH (mk/noapt-check.sh).
noapt-check:
	sh mk/noapt-check.sh $(BUILD)/noapt $(LUA)

# The backend-neutral specs (simulator; the examples spec among them) and the
# embedding host under Lua 5.1, 5.2, 5.3 and LuaJIT 2.1, each built into
# build/$(LUA)/; 5.4 is the rest of make test. Left out: the CLI's spec
# (bin/rasdial.lua is 5.4 code) and the API reference's (the same on every
# version). Every version runs even when one fails.
LUA_VERSIONS := lua5.1 lua5.2 lua5.3 luajit
LUA_NEUTRAL_SPECS := $(filter-out spec/win32% spec/pppd% spec/rasdial_spec.lua spec/reference_spec.lua, \
	$(wildcard spec/*_spec.lua))

test-lua-versions:
	@sh mk/deps.sh test luas
	@status=0; for lua in $(LUA_VERSIONS); do \
		echo "== $$lua"; \
		$(MAKE) --no-print-directory LUA=$$lua test-this-lua || status=1; \
	done; exit $$status

# One version: make LUA=lua5.1 test-this-lua.
test-this-lua: all $(BUILD)/embed-host
	LUA_CPATH="/nonexistent/?.so" $(BUILD)/embed-host spec/support/smoke.lua "linked statically into a $(LUA) host"
	RAS_TEST_LUA=$(LUA) RAS_EMBED_HOST=$(CURDIR)/$(BUILD)/embed-host $(BUSTED) $(LUA_NEUTRAL_SPECS)

windows-deps:
	@sh mk/deps.sh windows

# The issue-8 proofs (mk/check.mk): allocation-failure sweeps, the fuzz run,
# the stress specs under ThreadSanitizer.
check: check-valgrind check-asan check-tsan check-tsan-stress check-sweep check-fuzz \
	$(if $(PLUGIN),check-tsan-pppd)

check-valgrind: all
	@sh mk/deps.sh test check
	valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--keep-debuginfo=yes $(BUSTED) $(SPECS)

check-asan: $(BUILD)/asan/ras.so $(if $(PLUGIN),$(BUILD)/asan/ras_pppd.so)
	@sh mk/deps.sh test
	LUA_CPATH="$(CURDIR)/$(BUILD)/asan/?.so;;" ASAN_OPTIONS=detect_leaks=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/mk/lsan.supp,print_suppressions=0 \
	LD_PRELOAD=$$($(CC) -print-file-name=libasan.so) $(BUSTED) $(SPECS)

# A popen() from a process with the TSan runtime preloaded crashes the child
# (even with no ras loaded), so the specs that drive subprocesses (the CLI,
# the examples) are left out here: their threads live in those children.
TSAN_SPECS := $(if $(filter spec,$(SPECS)),$(filter-out spec/rasdial_spec.lua \
	spec/examples_spec.lua,$(wildcard spec/*_spec.lua)),$(SPECS))

check-tsan: $(BUILD)/tsan/ras.so $(if $(PLUGIN),$(BUILD)/tsan/ras_pppd.so)
	@sh mk/deps.sh test
	LUA_CPATH="$(CURDIR)/$(BUILD)/tsan/?.so;;" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	LD_PRELOAD=$$($(CC) -print-file-name=libtsan.so) $(BUSTED) $(TSAN_SPECS)

# The pppd backend's threads (its watcher thread, the watch threads, the Lua
# thread) under ThreadSanitizer, against fake pppds (shell scripts that speak
# the plugin protocol) on this host: TSan cannot map its shadow memory in
# User-Mode Linux, so real pppd is out of its reach. Not through LD_PRELOAD,
# which every pppd and shell the specs start would inherit (and crash on): a
# host program built with TSan links Lua and the module; its children (the
# subprocess specs') load $(BUILD)/ras.so.
TSAN_PPPD_SPECS ?= spec/pppd_watch_spec.lua spec/pppd_fault_spec.lua spec/pppd_spec.lua

$(BUILD)/tsan/embed-host: examples/embed/host.c $(RAS_SRC) $(RAS_HDR) | $(DEPS) lua-headers
	@mkdir -p $(@D)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(LUA_CFLAGS) -O1 -fsanitize=thread -fno-omit-frame-pointer \
		-o $@ examples/embed/host.c $(RAS_SRC) -Wl,-E -Wl,-Bstatic -l$(LUA_STATIC_LIB) \
		-Wl,-Bdynamic $(LDLIBS) -ldl

check-tsan-pppd: all $(BUILD)/tsan/embed-host
	@sh mk/deps.sh test
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		$(BUILD)/tsan/embed-host /usr/bin/busted $(TSAN_PPPD_SPECS)

bench: all $(if $(PLUGIN),bench-pppd)
	$(LUA) bench/run.lua

clean:
	rm -rf $(BUILD)

include mk/pppd.mk
include mk/pppd25.mk
include mk/check.mk
include mk/extras.mk
-include mk/windows.mk
# make windows installs mingw-w64 and Wine first (the Lua source fetch needs dpkg-dev).
$(if $(LUA_STAMP),$(LUA_STAMP)): | $(if $(DEPS),windows-deps)

# A host program that links Lua and the module statically (embedding).
$(BUILD)/embed-host: examples/embed/host.c $(RAS_SRC) $(RAS_HDR) | $(DEPS) lua-headers
	@mkdir -p $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(LUA_CFLAGS) -o $@ examples/embed/host.c $(RAS_SRC) \
		-Wl,-Bstatic -l$(LUA_STATIC_LIB) -Wl,-Bdynamic $(LDLIBS) -ldl

embed-check: $(BUILD)/embed-host
	LUA_CPATH="/nonexistent/?.so" $(BUILD)/embed-host spec/support/smoke.lua "linked statically"

# The rockspec offline (mk/rock-check.sh): luarocks lint, `luarocks make` into
# a private tree and a dial from it, `luarocks test` of two spec files; for
# this build's Lua (5.4) and for 5.1.
ROCKSPEC := rockspec/ras-0.1.0-1.rockspec
ROCK_TEST_SPECS := spec/module_spec.lua spec/dial_spec.lua
rock-check:
	@sh mk/deps.sh test
	sh mk/rock-check.sh $(ROCKSPEC) $(BUILD)/rocktree $(LUA_ABI) $(LUA) $(ROCK_TEST_SPECS)
	@sh mk/deps.sh lua5.1
	sh mk/rock-check.sh $(ROCKSPEC) $(BUILD)/rocktree-5.1 5.1 lua5.1 $(ROCK_TEST_SPECS)

bench-pppd: all $(BUILD)/fake_pppd
	@sh mk/deps.sh test pppd
	sh -c 'ulimit -n 16384 && exec $(LUA) bench/pppd_scale.lua $(BUILD)'
	RAS_TEST_BACKEND=pppd RAS_SANDBOX_ENV="RAS_TEST_BACKEND LUA_PATH LUA_CPATH" \
		RAS_SANDBOX_MEM=$${RAS_SANDBOX_MEM:-1G} spec/pppd/sandbox $(LUA) bench/pppd.lua
