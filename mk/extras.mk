# mk/extras.mk - the lua-rasdial command, the examples and the API reference:
# their specs and an install. Include it after the top-level Makefile's
# variables (BUILD, LUA, BUSTED, PLUGIN), e.g. next to `include mk/pppd.mk`.
#
#   make test-cli        rasdial, examples and reference specs (simulator)
#   make test-cli-pppd   the rasdial spec against real pppd in the sandbox
#   make install         PREFIX=/usr/local: ras.so (+ ras_pppd.so) and lua-rasdial
#   make install-check   install into build/install-tree and run lua-rasdial from there
#   make uninstall

# Included before the main targets, this file must not become the default goal.
extras_saved_goal := $(.DEFAULT_GOAL)

PREFIX ?= /usr/local
DESTDIR ?=
# Not $(LUA_VERSION): mk/windows.mk sets that to the full version (5.4.4).
LUA_LIBDIR ?= $(PREFIX)/lib/lua/$(or $(LUA_ABI),5.4)
BINDIR ?= $(PREFIX)/bin
INSTALL ?= install

CLI_SPECS := spec/rasdial_spec.lua spec/examples_spec.lua spec/reference_spec.lua

.PHONY: test-cli test-cli-pppd install uninstall install-check

# The embed example runs in build/embed-host: build it first.
test-cli: all $(BUILD)/embed-host
	@sh mk/deps.sh test
	$(BUSTED) $(CLI_SPECS)

test-cli-pppd: all
	@sh mk/deps.sh test pppd
	RAS_TEST_BACKEND=pppd RAS_SANDBOX_ENV="RAS_TEST_BACKEND LUA_PATH LUA_CPATH" \
		spec/pppd/sandbox $(BUSTED) spec/rasdial_spec.lua

# The plugin goes beside the module: that is where the pppd backend looks.
install: all
	$(INSTALL) -d $(DESTDIR)$(LUA_LIBDIR) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 755 $(BUILD)/ras.so $(DESTDIR)$(LUA_LIBDIR)/ras.so
	$(if $(PLUGIN),$(INSTALL) -m 755 $(PLUGIN) $(DESTDIR)$(LUA_LIBDIR)/ras_pppd.so)
	$(INSTALL) -m 755 bin/rasdial.lua $(DESTDIR)$(BINDIR)/lua-rasdial

uninstall:
	rm -f $(DESTDIR)$(LUA_LIBDIR)/ras.so $(DESTDIR)$(LUA_LIBDIR)/ras_pppd.so \
		$(DESTDIR)$(BINDIR)/lua-rasdial

# A private install, then lua-rasdial from it with nothing of the checkout
# on the module paths.
INSTALL_TREE := $(CURDIR)/$(BUILD)/install-tree
install-check:
	rm -rf $(INSTALL_TREE)
	$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) install PREFIX=$(INSTALL_TREE) >/dev/null
	cd / && LUA_CPATH="$(INSTALL_TREE)/lib/lua/5.4/?.so" LUA_PATH="" \
		$(INSTALL_TREE)/bin/lua-rasdial --scenario $(CURDIR)/spec/support/rasdial_scenarios.lua \
		Branch | tail -1 | grep -qx 'Command completed successfully.'
	@echo "install-check: lua-rasdial dials from $(INSTALL_TREE)"

.DEFAULT_GOAL := $(extras_saved_goal)
