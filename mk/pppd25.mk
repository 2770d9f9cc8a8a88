# mk/pppd25.mk - the pppd plugin against pppd 2.5 (Debian 13's), and the pppd
# specs against a pppd 2.5 built from Debian 13's `ppp` source package.
# Included by the top-level Makefile, which defines BUILD, CC, BUSTED and
# PPPD_SPECS (and mk/pppd.mk PPPD_WARN).
#
# Both come from the Debian 13 archive (suite trixie) through a private apt
# directory under build/pppd-2.5/apt, so /etc/apt is never touched: its one
# source is the system's own Debian mirror entry with the suite changed.
#
#   build/pppd-2.5/dl/             ppp-dev_2.5.*.deb and the ppp source package
#   build/pppd-2.5/include/pppd/   ppp-dev's headers (what a Debian 13 user builds with)
#   build/pppd-2.5/src/            the source, Debian's patches applied
#   build/pppd-2.5/root/           its `make install DESTDIR=`: usr/sbin/pppd and
#                                  usr/lib/pppd/2.5.*/ (pppoe.so, with Debian's
#                                  rp-pppoe.so link, pppol2tp.so, ...)
#   $(BUILD)/pppd-2.5/ras_pppd.so  the plugin built against those headers, and
#   $(BUILD)/pppd-2.5/ras.so       a copy of the module beside it (the backend's
#                                  default plugin is the one beside the module)
#
# Each step is skipped when its stamp is there (`make clean` removes them).
# Targets: pppd25 (all of the above), test-pppd25 (the specs against it).

pppd25_saved_goal := $(.DEFAULT_GOAL)

PPPD25_HOME := build/pppd-2.5
PPPD25_INC := $(PPPD25_HOME)/include/pppd
PPPD25_ROOT := $(PPPD25_HOME)/root
PPPD25_MOD := $(BUILD)/pppd-2.5
PPPD25_SUITE ?= trixie

PPPD25_APT_DIR = $(abspath $(PPPD25_HOME))/apt
PPPD25_APT = -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$(PPPD25_APT_DIR)/sources \
	-o Dir::State::Lists=$(PPPD25_APT_DIR)/lists -o Dir::Cache=$(PPPD25_APT_DIR)/cache \
	-o Dir::State::status=/dev/null -o APT::Sandbox::User=root -qq

# Debian's own configure flags (debian/rules) but systemd, PAM and pcap, which
# the specs do not use: OpenSSL stays (MS-CHAP, MPPE, EAP-TLS). The tarball's
# configure is used as it is (--disable-maintainer-mode: Debian reruns
# autoreconf for its patches to Makefile.am and configure.ac, which add an
# ELF soname for its symbols file, move pppd.pc and trim pppoatm; none
# changes what pppd does).
PPPD25_CONFIGURE := --disable-maintainer-mode --prefix=/usr --libdir=/usr/lib --sysconfdir=/etc \
	--localstatedir=/var --disable-static --with-logfile-dir=/var/log --with-runtime-dir=/run/ \
	--enable-cbcp --enable-multilink --without-pam --without-pcap

# The packages the fetch and the build need, installed only for the goals
# that set up a machine.
PPPD25_DEPS := $(if $(filter test test-pppd25 test-pppd25-all pppd25,$(MAKECMDGOALS)),pppd25-deps)

.PHONY: pppd25 pppd25-deps test-pppd25 test-pppd25-all

pppd25: $(PPPD25_HOME)/.built $(PPPD25_MOD)/ras_pppd.so $(PPPD25_MOD)/ras.so

pppd25-deps:
	@sh mk/deps.sh pppd25

# --- fetch: ppp-dev's .deb and the ppp source package ------------------------
# One source: the first Debian (not security) entry of the system's list,
# deb822 or one-line, with its suite replaced.
$(PPPD25_HOME)/.fetched: | $(PPPD25_DEPS)
	rm -rf $(PPPD25_HOME)/apt $(PPPD25_HOME)/dl
	mkdir -p $(PPPD25_APT_DIR)/sources $(PPPD25_APT_DIR)/lists/partial \
		$(PPPD25_APT_DIR)/cache/archives/partial $(PPPD25_HOME)/dl
	@if [ -f /etc/apt/sources.list.d/debian.sources ]; then \
		awk -v suite=$(PPPD25_SUITE) 'BEGIN { RS = ""; FS = OFS = "\n" } \
			/(^|\n)URIs:/ && !/(^|\n)URIs:[^\n]*security/ && !done { \
				for (i = 1; i <= NF; i++) { \
					if ($$i ~ /^Types:/) $$i = "Types: deb deb-src"; \
					else if ($$i ~ /^Suites:/) $$i = "Suites: " suite; \
				} \
				print; done = 1 }' /etc/apt/sources.list.d/debian.sources \
			> $(PPPD25_APT_DIR)/sources/pppd25.sources; \
	else \
		awk -v suite=$(PPPD25_SUITE) '$$1 == "deb" && !/security/ && !done { \
				sub(/^deb[ \t]+/, ""); opts = ""; \
				if (substr($$0, 1, 1) == "[") { \
					opts = substr($$0, 1, index($$0, "]")) " "; \
					$$0 = substr($$0, index($$0, "]") + 1) } \
				print "deb " opts $$1 " " suite " main"; \
				print "deb-src " opts $$1 " " suite " main"; done = 1 }' \
			/etc/apt/sources.list > $(PPPD25_APT_DIR)/sources/pppd25.list; \
	fi
	@test -s $(PPPD25_APT_DIR)/sources/pppd25.* || \
		{ echo "pppd25: no Debian entry in /etc/apt to derive a $(PPPD25_SUITE) source from" >&2; exit 1; }
	apt-get $(PPPD25_APT) update
	cd $(PPPD25_HOME)/dl && apt-get $(PPPD25_APT) download ppp-dev && \
		apt-get $(PPPD25_APT) source --download-only ppp
	@v=$$(dpkg-deb -f $(PPPD25_HOME)/dl/ppp-dev_*.deb Version); case "$$v" in \
		2.5.*) echo "pppd25: fetched ppp-dev and the ppp source $$v from $(PPPD25_SUITE)" ;; \
		*) echo "pppd25: $(PPPD25_SUITE) has ppp $$v, not 2.5.x" >&2; exit 1 ;; esac
	touch $@

# --- (a) ppp-dev's headers ----------------------------------------------------
$(PPPD25_HOME)/include/.unpacked: $(PPPD25_HOME)/.fetched
	rm -rf $(PPPD25_HOME)/ppp-dev $(PPPD25_HOME)/include
	dpkg-deb -x $(PPPD25_HOME)/dl/ppp-dev_*.deb $(PPPD25_HOME)/ppp-dev
	mkdir -p $(PPPD25_HOME)/include
	cp -R $(PPPD25_HOME)/ppp-dev/usr/include/pppd $(PPPD25_HOME)/include/
	rm -rf $(PPPD25_HOME)/ppp-dev
	test -f $(PPPD25_INC)/pppdconf.h
	touch $@

# --- (b) pppd 2.5 from the source package -----------------------------------------
# The .dsc's files were checked against the archive's signed index by apt.
# Its own make runs without ours' MAKEFLAGS (command-line variables such as
# CFLAGS or LUA are ours, not pppd's).
$(PPPD25_HOME)/.built: $(PPPD25_HOME)/.fetched
	rm -rf $(PPPD25_HOME)/src $(PPPD25_ROOT)
	dpkg-source --no-check -x $(PPPD25_HOME)/dl/ppp_*.dsc $(PPPD25_HOME)/src >/dev/null
	cd $(PPPD25_HOME)/src && ./configure $(PPPD25_CONFIGURE) >../configure.log 2>&1 || \
		{ tail -n 30 ../configure.log >&2; exit 1; }
	cd $(PPPD25_HOME)/src && { MAKEFLAGS= make -j2 && MAKEFLAGS= make install \
		DESTDIR=$(abspath $(PPPD25_ROOT)); } >../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; exit 1; }
	rm -f $(PPPD25_ROOT)/usr/lib/pppd/*/*.la
	cd $(PPPD25_ROOT)/usr/lib/pppd/*/ && ln -s pppoe.so rp-pppoe.so  # as Debian's package
	$(PPPD25_ROOT)/usr/sbin/pppd --version
	touch $@

# --- the plugin against 2.5, the module beside it -------------------------------
$(PPPD25_MOD)/ras_pppd.so: src/pppd/plugin.c src/pppd/pppd_compat.h src/pppd/protocol.h \
		$(PPPD25_HOME)/include/.unpacked
	@mkdir -p $(@D)
	$(CC) $(PPPD_WARN) -O2 -fPIC -shared -I$(PPPD25_INC) -o $@ $<

$(PPPD25_MOD)/ras.so: $(BUILD)/ras.so
	@mkdir -p $(@D)
	cp $< $@

# --- the specs against pppd 2.5 ---------------------------------------------------
# Inside the sandbox (its own mount namespace: UML's kernel, or unshare -m)
# the built pppd is bound over /usr/sbin/pppd and its plugin directory over
# /usr/lib/pppd, so every pppd of the run is 2.5: the module's, the servers'
# (spec/pppd/pty-server, pppoe-server's, pptpd's, xl2tpd's) and the foreign
# ones. The run stops unless that pppd reports the headers' version.
#
# Which specs: those of PPPD_SPECS where pppd itself or the plugin is at
# work: every pppd_*_spec, dial, hangup, secrets (the password hooks) and
# watch (watchers hear of their context's dials from the plugin's ip-up).
# The other backend-neutral specs of the binding, its queue, pumps and
# entries behave the same whatever pppd dials and run against 2.4.9 in
# test-pppd: a whole run against 2.5 takes about 12 minutes in UML, twice as
# long. test-pppd25-all runs them all.
PPPD25_SPECS ?= $(filter spec/pppd_spec.lua spec/pppd_%_spec.lua spec/dial_spec.lua \
	spec/hangup_spec.lua spec/secrets_spec.lua spec/watch_spec.lua,$(PPPD_SPECS))
PPPD25_SWAP = r=$(abspath $(PPPD25_ROOT)); mount --bind $$r/usr/sbin/pppd /usr/sbin/pppd && \
	mount --bind $$r/usr/lib/pppd /usr/lib/pppd || exit 125; \
	v=$$(/usr/sbin/pppd --version 2>&1); \
	[ "$$v" = "pppd version $$1" ] || { echo "test-pppd25: /usr/sbin/pppd says $$v, not $$1" >&2; exit 125; }; \
	echo "test-pppd25: $$v, plugin $(abspath $(PPPD25_MOD))/ras_pppd.so"; shift; exec "$$@"

test-pppd25: all pppd25
	@sh mk/deps.sh test pppd
	v=$$(sed -n 's/^[#]define PPPD_VERSION "\(.*\)"/\1/p' $(PPPD25_INC)/pppdconf.h) && \
	RAS_TEST_BACKEND=pppd LUA_CPATH="$(abspath $(PPPD25_MOD))/?.so;;" \
		RAS_SANDBOX_ENV="RAS_TEST_BACKEND LUA_PATH LUA_CPATH" \
		spec/pppd/sandbox sh -c '$(PPPD25_SWAP)' test-pppd25 "$$v" $(BUSTED) $(PPPD25_SPECS)

test-pppd25-all:
	$(MAKE) --no-print-directory test-pppd25 PPPD25_SPECS="$(PPPD_SPECS)"

.DEFAULT_GOAL := $(pppd25_saved_goal)
