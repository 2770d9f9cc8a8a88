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
# Targets install the Debian packages they miss (mk/deps.sh).

BUILD := build
LUA ?= lua5.4
LUA_CFLAGS := $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
ALL_CFLAGS = -std=c99 -fPIC $(WARN) $(CFLAGS) $(LUA_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS := -lpthread -lm

# Platform-neutral files, plus each platform's files (empty elsewhere).
RAS_SRC := src/ras.c src/options.c src/entries.c src/watch.c src/info.c src/queue.c src/idmap.c src/list.c src/states.c src/errors.c \
	src/backends.c src/backend_sim.c src/backend_win32.c src/os_posix.c src/os_win32.c \
	src/pppd/backend.c src/pppd/channel.c src/pppd/watcher.c src/pppd/spawn.c src/pppd/foreign.c src/pppd/watch.c src/pppd/info.c src/pppd/entries.c src/pppd/secrets.c
RAS_HDR := $(wildcard src/*.h src/pppd/*.h)

BUSTED := $(LUA) /usr/bin/busted
SPECS ?= spec
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;
export LUA_PATH := $(CURDIR)/?.lua;$(CURDIR)/spec/?.lua;;

.PHONY: all deps windows-deps demo demo-sim test test-pppd bench-pppd lint spec rock-check embed-check check check-valgrind check-asan check-tsan \
	bench clean

UNAME := $(shell uname -s)
ifeq ($(UNAME),Linux)
PLUGIN := $(BUILD)/ras_pppd.so
endif

all: $(BUILD)/ras.so $(PLUGIN)

deps:
	@sh mk/deps.sh build

$(BUILD)/ras.so: $(RAS_SRC) $(RAS_HDR) | deps
	@mkdir -p $(BUILD)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(RAS_SRC) $(LDLIBS)

# Sanitizer builds: -z nodelete keeps the module mapped at lua_close, so the
# reports have symbols.
$(BUILD)/asan/ras.so: $(RAS_SRC) $(RAS_HDR) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer -shared -Wl,-z,nodelete -o $@ $(RAS_SRC) $(LDLIBS)

$(BUILD)/tsan/ras.so: $(RAS_SRC) $(RAS_HDR) | deps
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
	spec/pppd_entries_spec.lua spec/entries_spec.lua

test-pppd: all
	@sh mk/deps.sh test pppd
	RAS_TEST_BACKEND=pppd RAS_SANDBOX_ENV="RAS_TEST_BACKEND LUA_PATH LUA_CPATH" \
		spec/pppd/sandbox $(BUSTED) $(PPPD_SPECS)

# test-windows (mk/windows.mk): the cross-built module under Wine, against the
# rasapi32 test double and Wine's own stub.
test: all lint spec rock-check embed-check install-check $(if $(PLUGIN),test-pppd test-pppd25) \
	windows-deps test-windows

windows-deps:
	@sh mk/deps.sh windows

# The issue-8 proofs (mk/check.mk): allocation-failure sweeps, the fuzz run,
# the stress specs under ThreadSanitizer.
check: check-valgrind check-asan check-tsan check-tsan-stress check-sweep check-fuzz

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

bench: all $(if $(PLUGIN),bench-pppd)
	$(LUA) bench/run.lua

clean:
	rm -rf $(BUILD)

include mk/pppd.mk
include mk/pppd25.mk
include mk/check.mk
include mk/extras.mk
-include mk/windows.mk

# A host program that links Lua and the module statically (embedding).
$(BUILD)/embed-host: examples/embed/host.c $(RAS_SRC) $(RAS_HDR) | deps
	@mkdir -p $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(LUA_CFLAGS) -o $@ examples/embed/host.c $(RAS_SRC) \
		-Wl,-Bstatic -llua5.4 -Wl,-Bdynamic $(LDLIBS) -ldl

embed-check: $(BUILD)/embed-host
	LUA_CPATH="/nonexistent/?.so" $(BUILD)/embed-host spec/support/smoke.lua "linked statically"

# `luarocks make` of the rockspec, offline into a private tree, then a dial.
ROCKSPEC := rockspec/ras-0.1.0-1.rockspec
rock-check:
	@sh mk/deps.sh test
	rm -rf $(BUILD)/rocktree
	luarocks --lua-version=5.4 --tree $(BUILD)/rocktree make $(ROCKSPEC) >/dev/null
	rm -f ras.so  # luarocks builds in the checkout
	LUA_CPATH="$(CURDIR)/$(BUILD)/rocktree/lib/lua/5.4/?.so" $(LUA) spec/support/smoke.lua "installed by luarocks"

bench-pppd: all $(BUILD)/fake_pppd
	@sh mk/deps.sh test pppd
	sh -c 'ulimit -n 16384 && exec $(LUA) bench/pppd_scale.lua $(BUILD)'
	RAS_TEST_BACKEND=pppd RAS_SANDBOX_ENV="RAS_TEST_BACKEND LUA_PATH LUA_CPATH" \
		RAS_SANDBOX_MEM=$${RAS_SANDBOX_MEM:-1G} spec/pppd/sandbox $(LUA) bench/pppd.lua
