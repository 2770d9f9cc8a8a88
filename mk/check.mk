# mk/check.mk - the proofs that stay (issue 8): allocation-failure sweeps,
# a fuzz target and stress specs under ThreadSanitizer. Include it after the
# top-level Makefile's variables (RAS_SRC, RAS_HDR, LUA_CFLAGS, BUILD, LUA,
# BUSTED, WARN, CFLAGS, LDLIBS), e.g. next to `include mk/pppd.mk`.
#
#   make check-sweep-lua    the K-th Lua allocation fails, for every K, under
#                           ASan+UBSan with leak detection (spec/sweep/)
#   make check-sweep-c      the K-th malloc/calloc/realloc/strdup/thread/
#                           descriptor creation of the module fails, for every
#                           K, on the Lua thread, then on the module's threads
#   make check-sweep        both
#   make check-fuzz         the option and parameter fuzz target (libFuzzer,
#                           ASan+UBSan) for FUZZ_CHECK_TIME seconds (60)
#   make fuzz               the same for FUZZ_TIME seconds (3600), keeping its
#                           corpus in build/fuzz/corpus between runs
#   make fuzz-corpus        writes the seeds again (spec/fuzz/make_corpus.lua)
#   make check-tsan-stress  spec/stress/*_spec.lua under ThreadSanitizer
#
# Each prints one summary line on success and exits non-zero on failure.
# The stress specs are ordinary busted specs: `make spec` runs them too.

# Included before the main targets, this file must not become the default goal.
check_saved_goal := $(.DEFAULT_GOAL)

.PHONY: check-sweep check-sweep-lua check-sweep-c check-fuzz fuzz fuzz-corpus check-tsan-stress

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer

# --- allocation-failure sweeps ------------------------------------------------
# One host for both modes: the module's calls go through the host's wrappers
# (spec/sweep/host.c says which); time() is wrapped to seed Lua's hashes the
# same in every run.
SWEEP_DIR := $(BUILD)/sweep
SWEEP_HOST := $(SWEEP_DIR)/host
SWEEP_WRAP := malloc calloc realloc reallocarray strdup strndup pthread_create \
	eventfd pipe pipe2 socketpair epoll_create epoll_create1 time
SWEEP_JOBS ?= 2
SWEEP_TIMEOUT ?= 20
SWEEP_RUN = spec/sweep/run --jobs $(SWEEP_JOBS) --timeout $(SWEEP_TIMEOUT)

$(SWEEP_HOST): spec/sweep/host.c $(RAS_SRC) $(RAS_HDR) mk/check.mk | deps
	@mkdir -p $(@D)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(SAN_FLAGS) $(LUA_CFLAGS) -o $@ spec/sweep/host.c \
		$(RAS_SRC) $(foreach f,$(SWEEP_WRAP),-Wl,--wrap=$(f)) \
		-Wl,-Bstatic -llua5.4 -Wl,-Bdynamic $(LDLIBS) -ldl

check-sweep: check-sweep-lua check-sweep-c

check-sweep-lua: $(SWEEP_HOST)
	$(SWEEP_RUN) --out $(SWEEP_DIR)/lua $(SWEEP_HOST) lua spec/sweep/script.lua

# Both halves run even when the first fails.
check-sweep-c: $(SWEEP_HOST)
	@status=0; \
	echo "SWEEP_THREAD=main $(SWEEP_RUN) --out $(SWEEP_DIR)/c-main $(SWEEP_HOST) c spec/sweep/script.lua"; \
	SWEEP_THREAD=main $(SWEEP_RUN) --out $(SWEEP_DIR)/c-main $(SWEEP_HOST) c spec/sweep/script.lua || status=1; \
	echo "SWEEP_THREAD=other $(SWEEP_RUN) --out $(SWEEP_DIR)/c-other $(SWEEP_HOST) c spec/sweep/script.lua"; \
	SWEEP_THREAD=other $(SWEEP_RUN) --out $(SWEEP_DIR)/c-other $(SWEEP_HOST) c spec/sweep/script.lua || status=1; \
	exit $$status

# --- fuzz target ----------------------------------------------------------------
# libFuzzer comes with clang (clang, libclang-rt-14-dev: mk/deps.sh check).
# check-fuzz starts from the seeds in spec/fuzz/corpus alone (a scratch corpus
# each time, fixed seed); fuzz keeps what it finds in build/fuzz/corpus.
FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_BIN := $(FUZZ_DIR)/fuzz_options
FUZZ_CHECK_TIME ?= 60
FUZZ_TIME ?= 3600
FUZZ_TIMEOUT ?= 10
FUZZ_SEED ?= 1
# clang warns where gcc does not (FUZZ_WARN=-Wno-error to build through it)
FUZZ_WARN ?=
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer

$(FUZZ_BIN): spec/fuzz/fuzz_options.c $(RAS_SRC) $(RAS_HDR) mk/check.mk | deps
	@sh mk/deps.sh check
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c99 $(WARN) $(FUZZ_WARN) $(CFLAGS) $(FUZZ_FLAGS) $(LUA_CFLAGS) \
		-DFUZZ_DRIVER='"$(CURDIR)/spec/fuzz/fuzz_options.lua"' -o $@ spec/fuzz/fuzz_options.c \
		$(RAS_SRC) -Wl,-Bstatic -llua5.4 -Wl,-Bdynamic $(LDLIBS) -ldl

check-fuzz: $(FUZZ_BIN)
	spec/fuzz/run --time $(FUZZ_CHECK_TIME) --timeout $(FUZZ_TIMEOUT) --seed $(FUZZ_SEED) \
		--corpus $(FUZZ_DIR)/check-corpus --fresh $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	spec/fuzz/run --time $(FUZZ_TIME) --timeout $(FUZZ_TIMEOUT) --corpus $(FUZZ_DIR)/corpus $(FUZZ_BIN)

# The seeds again, after a change of the driver's byte format.
fuzz-corpus: all
	rm -f spec/fuzz/corpus/seed-*
	@mkdir -p spec/fuzz/corpus
	$(LUA) spec/fuzz/make_corpus.lua spec/fuzz/corpus

# --- stress specs under ThreadSanitizer ----------------------------------------
# The top-level Makefile builds $(BUILD)/tsan/ras.so (check-tsan). These are
# ordinary busted specs: `make spec` (ROOT spec, recursive) runs them as well.
STRESS_SPECS := spec/stress

check-tsan-stress: $(BUILD)/tsan/ras.so $(if $(PLUGIN),$(BUILD)/tsan/ras_pppd.so)
	@sh mk/deps.sh test
	LUA_CPATH="$(CURDIR)/$(BUILD)/tsan/?.so;;" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	LD_PRELOAD=$$($(CC) -print-file-name=libtsan.so) $(BUSTED) $(STRESS_SPECS)

.DEFAULT_GOAL := $(check_saved_goal)
