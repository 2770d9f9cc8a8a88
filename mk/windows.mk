# mk/windows.mk -- cross-build of the module for Windows and its Wine test harness.
#
# Included by the top-level Makefile, which provides RAS_SRC, RAS_HDR and BUILD.
# Targets: windows (lua54.dll, liblua54.dll.a, lua.exe, ras.dll, rasapi32.dll
# and double_test.exe for x86_64 in build/windows, the same for i686 in
# build/windows-i686), check-double and test-windows (everything under Wine:
# spec/win32/run-specs; x86_64 only, see the README on 32-bit Wine).
#
# Lua for Windows is built from Debian's lua5.4 source package, fetched through a
# private apt directory under $(BUILD)/lua-src so /etc/apt is never touched.

BUILD ?= build
WIN := $(BUILD)/windows
WIN_CC ?= x86_64-w64-mingw32-gcc
WIN_WARN := -Wall -Wextra -Werror
# -static-libgcc keeps every DLL free of libgcc_s_seh-1.dll, which Wine cannot find.
WIN_LDFLAGS := -static-libgcc

LUA_VERSION := 5.4.4
LUA_FETCH := $(BUILD)/lua-src
LUA_SRC_DIR := $(LUA_FETCH)/lua5.4-$(LUA_VERSION)/src
LUA_STAMP := $(LUA_FETCH)/.unpacked
# LUA_COMPAT_5_3 matches Debian's Linux lua5.4, so specs behave alike on both.
LUA_WIN_CFLAGS := -O2 -DLUA_COMPAT_5_3 -DLUA_BUILD_AS_DLL
LUA_CORE := lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject \
	lopcodes lparser lstate lstring ltable ltm lundump lvm lzio lauxlib \
	lbaselib lcorolib ldblib liolib lmathlib loadlib loslib lstrlib ltablib \
	lutf8lib linit
LUA_OBJ := $(LUA_CORE:%=$(WIN)/lua-obj/%.o)

# apt options that point every state and cache directory into the private tree.
LUA_APT_DIR = $(abspath $(LUA_FETCH))/apt
LUA_APT = -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$(LUA_APT_DIR)/sources \
	-o Dir::State::Lists=$(LUA_APT_DIR)/lists -o Dir::Cache=$(LUA_APT_DIR)/cache \
	-o APT::Sandbox::User=root -qq

RAS_WIN_CFLAGS ?=
# Lua by path: with -L$(WIN), -lrasapi32 would find the double beside it
# instead of mingw's import library.
RAS_WIN_LIBS = $(WIN)/liblua54.dll.a -lrasapi32 -lws2_32
# The Windows backend, unless the top-level list has taken it in already.
RAS_WIN_SRC = $(RAS_SRC) $(filter-out $(RAS_SRC),src/backend_win32.c)

.PHONY: windows windows-target windows-i686 check-double

windows: windows-target windows-i686

# One target's files; windows-i686 makes them again with the i686 compiler.
windows-target: $(WIN)/lua54.dll $(WIN)/liblua54.dll.a $(WIN)/lua.exe $(WIN)/ras.dll \
	$(WIN)/rasapi32.dll $(WIN)/double_test.exe

# 32-bit Windows: the same sources; the backend's _Static_asserts check the
# i686 structure sizes (RAS structures are packed to 4) as it compiles.
windows-i686: | $(LUA_STAMP)
	$(MAKE) --no-print-directory WIN=$(BUILD)/windows-i686 WIN_CC=i686-w64-mingw32-gcc \
		windows-target

# --- Lua source -------------------------------------------------------------
# The deb-src list is a copy of the system's deb list; the patched source
# (Debian's CVE fixes included) is unpacked with dpkg-source. If the archive is
# unreachable, an orig tarball already on the machine is used instead.
$(LUA_STAMP):
	rm -rf $(LUA_FETCH)
	mkdir -p $(LUA_APT_DIR)/sources $(LUA_APT_DIR)/lists/partial \
		$(LUA_APT_DIR)/cache/archives/partial
	@if [ -f /etc/apt/sources.list.d/debian.sources ]; then \
		sed 's/^Types: deb$$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
			> $(LUA_APT_DIR)/sources/debian-src.sources; \
	else \
		sed -n 's/^deb /deb-src /p' /etc/apt/sources.list \
			> $(LUA_APT_DIR)/sources/debian-src.list; \
	fi
	@cd $(LUA_FETCH) && \
	if apt-get $(LUA_APT) update && \
	   apt-get $(LUA_APT) source --download-only lua5.4 && \
	   dpkg-source -x lua5.4_$(LUA_VERSION)-*.dsc lua5.4-$(LUA_VERSION) >/dev/null; then \
		echo "lua-src: Debian source package unpacked"; \
	else \
		orig=$$(find /var/cache -name 'lua5.4_$(LUA_VERSION).orig.tar.gz' 2>/dev/null | head -n1); \
		if [ -z "$$orig" ]; then \
			echo "lua-src: cannot fetch lua5.4 source (no deb-src access, no orig tarball in /var/cache)" >&2; \
			exit 1; \
		fi; \
		echo "lua-src: apt source failed, using $$orig"; \
		tar xzf "$$orig" && mv lua-$(LUA_VERSION) lua5.4-$(LUA_VERSION); \
	fi
	test -f $(LUA_SRC_DIR)/lua.h
	touch $@

# The sources appear when the stamp rule unpacks them; order-only, so their old
# tarball dates never force a rebuild.
$(LUA_SRC_DIR)/%.c: | $(LUA_STAMP) ;
.PRECIOUS: $(LUA_SRC_DIR)/%.c

# --- Lua for Windows --------------------------------------------------------
$(WIN)/lua-obj/%.o: $(LUA_SRC_DIR)/%.c
	@mkdir -p $(@D)
	$(WIN_CC) $(LUA_WIN_CFLAGS) -c $< -o $@

# The import library comes from the same link as the DLL.
$(WIN)/liblua54.dll.a: $(WIN)/lua54.dll ;

$(WIN)/lua54.dll: $(LUA_OBJ)
	$(WIN_CC) -shared $(WIN_LDFLAGS) -s -o $@ $^ -Wl,--out-implib,$(WIN)/liblua54.dll.a

$(WIN)/lua.exe: $(LUA_SRC_DIR)/lua.c $(WIN)/lua54.dll
	$(WIN_CC) $(LUA_WIN_CFLAGS) $(WIN_LDFLAGS) -s -o $@ $< -L$(WIN) -llua54

# --- the module ---------------------------------------------------------------
# One compiler call: the module is small, and this needs no object naming scheme
# for sources that may live outside src/.
$(WIN)/ras.dll: $(RAS_WIN_SRC) $(RAS_HDR) $(WIN)/liblua54.dll.a | $(LUA_STAMP)
	$(WIN_CC) -O2 $(WIN_WARN) -DLUA_BUILD_AS_DLL -I$(LUA_SRC_DIR) -Isrc $(RAS_WIN_CFLAGS) \
		-shared $(WIN_LDFLAGS) -o $@ $(RAS_WIN_SRC) $(RAS_WIN_LIBS)

# --- the rasapi32 test double and its own test ---------------------------------
# The .def names are undecorated, as rasapi32's own exports; on i686 they
# stand for the stdcall symbols (RasDialW@24): the fix-up is wanted.
$(WIN)/rasapi32.dll: spec/win32/rasapi32_double.c spec/win32/rasapi32_double.def
	@mkdir -p $(@D)
	$(WIN_CC) -O2 $(WIN_WARN) -shared $(WIN_LDFLAGS) -Wl,--enable-stdcall-fixup -o $@ $^

# Linked against mingw's import library, so it binds to whichever rasapi32.dll
# Wine loads, exactly as ras.dll does.
$(WIN)/double_test.exe: spec/win32/double_test.c
	@mkdir -p $(@D)
	$(WIN_CC) -O2 $(WIN_WARN) $(WIN_LDFLAGS) -o $@ $< -lrasapi32

# The environment gives the double its foreign connections and extra entry.
check-double: $(WIN)/double_test.exe $(WIN)/rasapi32.dll
	RAS_DOUBLE_FOREIGN='Office,Home;hangup_delay=50' RAS_DOUBLE_ENTRIES='Work VPN' \
	RAS_DOUBLE_LATE_MS=0 spec/win32/wine-run --exe $(WIN)/double_test.exe

# Everything under Wine: the double's test, the neutral specs against the win32
# backend, spec/win32_spec.lua and a smoke run against Wine's stub rasapi32.
# The last line is the total "N passed, N failed[, N skipped]".
.PHONY: test-windows
test-windows: windows $(WIN)/double_test.exe
	spec/win32/run-specs
