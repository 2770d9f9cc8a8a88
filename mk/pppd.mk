# mk/pppd.mk - the pppd plugin of the Linux backend and its real-PPP check.
# Included by the top-level Makefile, which defines BUILD := build.

BUILD ?= build
# Included before the main targets, this file must not become the default goal.
pppd_saved_goal := $(.DEFAULT_GOAL)
PPPD_INCLUDE ?= /usr/include/pppd
PPPD_WARN := -Wall -Wextra -Werror

$(BUILD)/ras_pppd.so: src/pppd/plugin.c src/pppd/pppd_compat.h src/pppd/protocol.h
	@mkdir -p $(@D)
	$(CC) $(PPPD_WARN) -O2 -fPIC -shared -I$(PPPD_INCLUDE) -o $@ $<

# Test helper: the module's half of the plugin protocol.
$(BUILD)/plugin_peer: spec/pppd/plugin_peer.c
	@mkdir -p $(@D)
	$(CC) $(PPPD_WARN) -O2 -o $@ $<

# Bench helper: a pppd stand-in that speaks the plugin protocol (no PPP).
$(BUILD)/fake_pppd: spec/pppd/fake_pppd.c src/pppd/protocol.h
	@mkdir -p $(@D)
	$(CC) $(PPPD_WARN) -O2 -o $@ $<

# Boots the sandbox (UML unless the kernel has usable PPP) and dials for real.
.PHONY: check-pppd-plugin
check-pppd-plugin: $(BUILD)/ras_pppd.so $(BUILD)/plugin_peer
	RAS_PPPD_BUILD=$(abspath $(BUILD)) RAS_SANDBOX_ENV=RAS_PPPD_BUILD \
		spec/pppd/sandbox spec/pppd/plugin_smoke.sh

.DEFAULT_GOAL := $(pppd_saved_goal)
