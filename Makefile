# A thin front for CMake.
#
#   make demo    builds the library and the tours only, quietly (the build log
#                goes to $(BUILD)/release/demo-build.log, shown on failure),
#                and runs them; the tour's graphs go to $(BUILD)/release/tour-graphs;
#                then demo-mal: a mal REPL transcript (a closure's cycle freed
#                by a collection, with the DEBUG_STATS lines)
#   make check   the quick suite: the debug build (ASan and UBSan) and every
#                test not labelled `slow` (ctest -LE slow), under two minutes
#   make test    every layer, six in all, each announced as "[i/6] layer" with
#                the time so far: [1/6] the debug build with ASan and UBSan,
#                [2/6] the optimized build, [3/6] test_threads under
#                ThreadSanitizer, [4/6] the GC-stress build (the suite three
#                times: poisoning on, off, incremental mode), [5/6] the fuzz targets (30 s each
#                under libFuzzer, the seed corpus replayed first), [6/6] Valgrind
#                (ctest -T memcheck over every C test program, scaled)
#                (docs/testing.md). Each layer also runs alone: make test-debug,
#                test-release, test-tsan, test-stress, test-fuzz, test-valgrind.
#                Builds are quiet (log in the build directory, shown on failure).
#   make docs    the manual generated from include/recycle.h: $(BUILD)/docs/
#   make bench   the benchmarks against CPython (bench/run.py)
#   make mal     the mal interpreter (clients/mal), one executable per step,
#                in $(BUILD)/release/clients/mal; clients/mal/run starts them
#   make bench-mal  mal against mal's C implementation on Boehm (bench/mal)
#   make install PREFIX=...
#
# Debug builds compile the library at debug level 2 (RCY_DEBUG, described in
# src/internal.h and docs/design.md): 0 release, 1 cheap invariant checks
# (poisoning on by default, the lists a collection touched validated after
# it), 2 the collector's lists validated between its phases and the
# list/tuple traverse shortcut compared with the real traverse, 3 the whole
# heap validated (rcy_gc_validate) before and after every collection and at
# teardown. Choose another with RCY_DEBUG_LEVEL, e.g.
# `cmake -B build/l3 -DCMAKE_BUILD_TYPE=Debug -DRCY_DEBUG_LEVEL=3`.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
CMAKE ?= cmake
PYTHON ?= python3

.PHONY: mal bench-mal demo-mal all demo check test test-debug test-release test-tsan test-stress test-stress-incremental test-fuzz test-valgrind \
	fuzz-build fuzz fuzz-api fuzz-merge bench bench-quick bench-long bench-plotdeps difftest docs install clean format

# $(call quietly,LOG,COMMANDS): runs COMMANDS with their output in LOG, and
# shows LOG if they fail.
quietly = mkdir -p $(dir $(1)) && { $(2); } >$(1) 2>&1 || { cat $(1); echo "*** failed: the log above is $(1)"; exit 1; }

# $(call say,TEXT): one progress line; inside `make test` it starts with the
# layer's "[i/6]" and ends with the minutes and seconds since make test began.
say = @echo "==== $(if $(STEP),$(STEP) ,)$(1)$${RCY_TEST_START:+  [$$(( ($$(date +%s) - RCY_TEST_START) / 60 ))m$$(( ($$(date +%s) - RCY_TEST_START) % 60 ))s]}"

configure-release = $(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release
configure-debug = $(CMAKE) -S . -B $(BUILD)/debug -DCMAKE_BUILD_TYPE=Debug -DRCY_SANITIZE=ON

all:
	$(configure-release)
	$(CMAKE) --build $(BUILD)/release -j $(JOBS)

# Only the library, the two tours and the heap report (not the tests and benchmarks), so that
# the tour starts within seconds of a fresh clone.
DEMO_LOG = $(BUILD)/release/demo-build.log
demo:
	@echo "demo: building the library and the tours (log: $(DEMO_LOG))"
	@$(call quietly,$(DEMO_LOG),$(configure-release) && $(CMAKE) --build $(BUILD)/release -j $(JOBS) --target tour memory_tour heap_report)
	@$(BUILD)/release/tour
	@$(BUILD)/release/memory_tour
	@$(BUILD)/release/heap_report $(BUILD)
	@$(MAKE) --no-print-directory demo-mal

# A mal REPL transcript: a closure's reference cycle, kept alive after the
# program drops it, freed by a collection (with the DEBUG_STATS lines).
DEMO_MAL_LOG = $(BUILD)/release/demo-mal-build.log
demo-mal:
	@echo "demo: building mal (log: $(DEMO_MAL_LOG))"
	@$(call quietly,$(DEMO_MAL_LOG),$(configure-release) && $(CMAKE) --build $(BUILD)/release -j $(JOBS) --target stepA_mal)
	@echo "== mal on recycle: a cycle made by a closure, freed by a collection"
	@$(BUILD)/release/clients/mal/stepA_mal < clients/mal/examples/demo_repl.txt 2>&1

check:
	$(call say,check: debug build with ASan and UBSan (log: $(BUILD)/debug/build.log))
	@$(call quietly,$(BUILD)/debug/build.log,$(configure-debug) && $(CMAKE) --build $(BUILD)/debug -j $(JOBS))
	$(call say,check: the quick tests (ctest -LE slow))
	cd $(BUILD)/debug && ctest --output-on-failure -j $(JOBS) -LE slow

TEST_LAYERS = debug release tsan stress fuzz valgrind
test:
	@RCY_TEST_START=$$(date +%s); export RCY_TEST_START; n=$(words $(TEST_LAYERS)); i=0; \
	for layer in $(TEST_LAYERS); do \
		i=$$((i + 1)); \
		$(MAKE) --no-print-directory test-$$layer STEP="[$$i/$$n]" || \
			{ echo "==== make test: FAILED in layer [$$i/$$n] $$layer"; exit 1; }; \
	done; \
	t=$$(( $$(date +%s) - RCY_TEST_START )); \
	echo "==== make test: all $$n layers passed in $$((t / 60))m$$((t % 60))s"

test-debug:
	$(call say,debug build (ASan and UBSan; debug level 2): configure and build (log: $(BUILD)/debug/build.log))
	@$(call quietly,$(BUILD)/debug/build.log,$(configure-debug) && $(CMAKE) --build $(BUILD)/debug -j $(JOBS))
	$(call say,debug build: ctest (every test))
	cd $(BUILD)/debug && ctest --output-on-failure -j $(JOBS)

test-release:
	$(call say,release build (optimized): configure and build (log: $(BUILD)/release/build.log))
	@$(call quietly,$(BUILD)/release/build.log,$(configure-release) && $(CMAKE) --build $(BUILD)/release -j $(JOBS))
	$(call say,release build: ctest (every test))
	cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)

test-tsan:
	$(call say,tsan build: test_threads under ThreadSanitizer (log: $(BUILD)/tsan/build.log))
	@$(call quietly,$(BUILD)/tsan/build.log,$(CMAKE) -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRCY_TSAN=ON && $(CMAKE) --build $(BUILD)/tsan -j $(JOBS) --target test_threads)
	cd $(BUILD)/tsan && ctest --output-on-failure -R '^test_threads$$'

# The whole suite with a collection on every container allocation, three
# times: with poisoning on (the debug default: freed objects stay recognisable in
# quarantine), then with RCY_POISON=0, which turns it off in every runtime
# whose configuration leaves it to the build, so that every free reaches
# the allocator and AddressSanitizer sees any later use.
#
# Third, the suite in incremental mode (RCY_GC_MODE=incremental, steps of
# 7 work units: a step after every collection), also alone as make
# test-stress-incremental (its tests 77-81 s on 3 December, the build
# aside; 17 minutes when first measured, on a loaded machine). Left out
# there: the tests that assert compat mode's timing of old garbage or its
# allocation counts (docs/testing.md, "Incremental mode"), and `layers`,
# which is no test of a mode.
stress-build = $(CMAKE) -S . -B $(BUILD)/stress -DCMAKE_BUILD_TYPE=Debug -DRCY_SANITIZE=ON -DRCY_GC_STRESS=ON && $(CMAKE) --build $(BUILD)/stress -j $(JOBS)
stress-incremental-ctest = cd $(BUILD)/stress && RCY_GC_MODE=incremental RCY_GC_INCR_STEP=7 ctest --output-on-failure -j $(JOBS) -E '^(test_oom|test_retained|test_runtime|layers)$$'
test-stress:
	$(call say,stress build (a collection at every container allocation): configure and build (log: $(BUILD)/stress/build.log))
	@$(call quietly,$(BUILD)/stress/build.log,$(stress-build))
	$(call say,stress build: ctest with poisoning on (1 of 3))
	cd $(BUILD)/stress && ctest --output-on-failure -j $(JOBS)
	$(call say,stress build: ctest with RCY_POISON=0 (2 of 3))
	cd $(BUILD)/stress && RCY_POISON=0 ctest --output-on-failure -j $(JOBS)
	$(call say,stress build: ctest in incremental mode (3 of 3))
	$(stress-incremental-ctest)

test-stress-incremental:
	$(call say,stress build (a collection at every container allocation): configure and build (log: $(BUILD)/stress/build.log))
	@$(call quietly,$(BUILD)/stress/build.log,$(stress-build))
	$(call say,stress build: ctest in incremental mode)
	$(stress-incremental-ctest)

# Benchmarks side by side with CPython, on the release build: bench/run.py
# prints the table and writes it with the raw results (every sample, every
# pause, the load average before each run) and the plots to
# $(BUILD)/bench-results. Both sides are judged on thread CPU time.
# `make bench` is the standard run (python3 only; at most 15 minutes on this
# machine), `make bench-long` the long sweep (full collections up to 1e8
# objects, every CPython at 1,000,000; an hour or more), `make bench-quick`
# (QUICK=1) the smallest sizes once, to prove the harness works.
# BENCH_ARGS passes options to bench/run.py (see its --help). The plots need
# matplotlib: bench-plotdeps installs Debian's python3-matplotlib when no
# python3 has it (as root; otherwise it says how), and a run without it
# still writes the tables.
BENCH_OUT ?= $(BUILD)/bench-results
bench: all bench-plotdeps
	$(CMAKE) --build $(BUILD)/release -j $(JOBS) --target benchmarks
	$(PYTHON) bench/run.py --bindir $(BUILD)/release/bench --out $(BENCH_OUT) --chart $(if $(QUICK),--quick --check) $(if $(LONG),--long) $(BENCH_ARGS)

bench-quick:
	$(MAKE) bench QUICK=1

# mal (Make-A-Lisp) on recycle: the step executables in
# $(BUILD)/release/clients/mal, which clients/mal/run starts (STEP=...).
mal:
	$(configure-release)
	$(CMAKE) --build $(BUILD)/release -j $(JOBS) --target mal

# mal on recycle against mal's own C implementation on the Boehm collector
# (bench/mal/run_mal.py; the peer needs libgc-dev, libedit-dev, libffi-dev):
# perf1-3 and a GC-heavy program, interleaved. Not part of `make test`.
# MAL_DIR is mal's folder (default ../shared/mal); MAL_REPS repetitions.
MAL_DIR ?= $(firstword $(wildcard ../shared/mal ../../shared/mal) ../shared/mal)
MAL_REPS ?= 3
bench-mal: mal
	$(PYTHON) bench/mal/run_mal.py --ours $(BUILD)/release/clients/mal/stepA_mal --mal-dir $(MAL_DIR) \
		--work $(BUILD)/bench-mal --reps $(MAL_REPS)

bench-long:
	$(MAKE) bench LONG=1

bench-plotdeps:
	@if $(PYTHON) -c 'import matplotlib' 2>/dev/null || /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "bench: installing python3-matplotlib (Debian) for the plots"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y python3-matplotlib >/dev/null || \
	  echo "bench: apt-get install python3-matplotlib failed; the tables are written without plots"; \
	else echo "bench: no matplotlib; for the plots run: sudo apt-get install python3-matplotlib"; fi

# Differential tests: N random programs through recycle and through every
# CPython found (pyenv versions, python3); see docs/testing.md.
N ?= 1000
difftest:
	$(configure-release)
	$(CMAKE) --build $(BUILD)/release -j $(JOBS) --target replay
	$(PYTHON) difftest/run.py --replay $(BUILD)/release/difftest/replay --all-pythons -n $(N) --jobs $(JOBS)

# ---- Fuzzing under libFuzzer, ASan and UBSan (clang) -------------------------
# Two targets, built by CMake (fuzz/CMakeLists.txt, -DRCY_FUZZ=ON) in
# $(FUZZ_DIR): fuzz/fuzz_graph.c (the collector, finalizers and weak
# references against an exact model of one graph) and fuzz/fuzz_api.c (the
# whole public API over several runtimes: built-in types, classes, weak
# maps, finalize registrations, the leak tools, misuse). The library is
# compiled into each target directly, at debug level 3 (RCY_DEBUG=3: the
# whole heap is validated before and after every collection, and the
# collector's lists between its phases; the fuzzers' heaps are small) and
# without free lists or pools.
# `make fuzz FUZZ_SECONDS=600` fuzzes fuzz_graph from the seed corpus
# fuzz/corpus, `make fuzz-api FUZZ_SECONDS=600` fuzz_api from fuzz/corpus-api;
# new inputs go to $(FUZZ_DIR)/corpus (corpus-api), crashes to
# $(FUZZ_DIR)/crash-* (api-crash-*); replay one with `$(FUZZ_DIR)/fuzz_graph
# FILE` (FUZZ_GRAPH_TRACE=1 prints the steps; FUZZ_API_TRACE=1 for fuzz_api).
# `make fuzz-merge` adds the inputs that reach new code to the seed corpora.
# `make test-fuzz` (layer 5 of `make test`) fuzzes both targets at once,
# each for half of FUZZ_TEST_SECONDS (60 s in all), from the seed corpora:
# libFuzzer first runs every seed input once (its INITED line), the same
# replay as the ctests fuzz_graph_corpus and fuzz_api_corpus of
# $(FUZZ_DIR) (-runs=0), which the layer therefore no longer runs before
# (docs/testing.md, "Fuzzing"); `cd $(FUZZ_DIR) && ctest` runs them.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 60
FUZZ_DIR = $(BUILD)/fuzz
FUZZ_ARGS = -max_len=2048 -timeout=60 -rss_limit_mb=4096 -print_final_stats=1

fuzz-build:
	@$(call quietly,$(FUZZ_DIR)/build.log,$(CMAKE) -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=$(FUZZ_CC) -DCMAKE_BUILD_TYPE=Debug -DRCY_FUZZ=ON -DRCY_BUILD_TESTS=OFF -DRCY_BUILD_EXAMPLES=OFF -DRCY_BUILD_BENCH=OFF && $(CMAKE) --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_graph fuzz_api)

fuzz: fuzz-build
	mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz_graph $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(FUZZ_DIR)/ \
		$(FUZZ_DIR)/corpus fuzz/corpus

fuzz-api: fuzz-build
	mkdir -p $(FUZZ_DIR)/corpus-api
	$(FUZZ_DIR)/fuzz_api $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(FUZZ_DIR)/api- \
		$(FUZZ_DIR)/corpus-api fuzz/corpus-api

fuzz-merge: fuzz-build
	mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/corpus-api
	$(FUZZ_DIR)/fuzz_graph $(FUZZ_ARGS) -merge=1 fuzz/corpus $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz_api $(FUZZ_ARGS) -merge=1 fuzz/corpus-api $(FUZZ_DIR)/corpus-api

test-fuzz:
	$(call say,fuzz build (clang with libFuzzer; debug level 3): configure and build (log: $(FUZZ_DIR)/build.log))
	@$(MAKE) --no-print-directory fuzz-build
	$(call say,fuzz: fuzz_graph and fuzz_api at once for $$(( $(FUZZ_TEST_SECONDS) / 2 ))s each (each seed corpus replayed first))
	@$(MAKE) --no-print-directory -j 2 --output-sync=target fuzz fuzz-api FUZZ_SECONDS=$$(( $(FUZZ_TEST_SECONDS) / 2 ))

# ---- Valgrind: memcheck over every test program ----------------------------
# A Debug build without sanitizers, free lists or pools; the C test programs
# (label memcheck: not the scripts) run under Valgrind's memcheck through
# CTest (`ctest -T memcheck`; the options and tests/valgrind.supp are set in
# CMakeLists.txt). Errors and definite or indirect leaks fail a test; the
# reports of the failed tests are printed (all of them are in
# $(BUILD)/valgrind/Testing/Temporary/MemoryChecker.*.log). The programs
# that build 10-million-object structures run at RCY_TEST_SCALE (a fraction
# of their size; docs/testing.md), with a timeout of an hour (RCY_TEST_TIMEOUT)
# instead of 10 minutes. Layer 6 of `make test`.
RCY_TEST_SCALE ?= 0.01
test-valgrind:
	$(call say,valgrind build (Debug without sanitizers or free lists): configure and build (log: $(BUILD)/valgrind/build.log))
	@$(call quietly,$(BUILD)/valgrind/build.log,$(CMAKE) -S . -B $(BUILD)/valgrind -DCMAKE_BUILD_TYPE=Debug -DRCY_FREELISTS=OFF -DRCY_SANITIZE=OFF -DRCY_TEST_TIMEOUT=3600 && $(CMAKE) --build $(BUILD)/valgrind -j $(JOBS))
	$(call say,valgrind: ctest -T memcheck over the C test programs (RCY_TEST_SCALE=$(RCY_TEST_SCALE)))
	@cd $(BUILD)/valgrind && rm -f Testing/Temporary/MemoryChecker.*.log Testing/Temporary/LastTestsFailed*.log && \
	if ! RCY_TEST_SCALE=$(RCY_TEST_SCALE) ctest -T memcheck -L memcheck --output-on-failure -j $(JOBS); then \
		for n in $$(cut -d: -f1 Testing/Temporary/LastTestsFailed*.log 2>/dev/null); do \
			f=Testing/Temporary/MemoryChecker.$$n.log; \
			if [ -s "$$f" ]; then echo "---- Valgrind's report for test $$n: $(BUILD)/valgrind/$$f"; cat "$$f"; fi; \
		done; exit 1; \
	fi

# ---- The manual, generated from include/recycle.h ---------------------------
# docs/gen_manual.py (python3 only) writes an HTML page and a man page with
# every public function and its comment, grouped by the header's sections.
docs:
	mkdir -p $(BUILD)/docs
	$(PYTHON) docs/gen_manual.py include/recycle.h --html $(BUILD)/docs/recycle.html --man $(BUILD)/docs/recycle.3
	@echo "docs: open $(BUILD)/docs/recycle.html, or: man $(BUILD)/docs/recycle.3"

# The header, both libraries, recycle.pc and the CMake package (README,
# "Using the installed library"); builds the libraries only.
install:
	$(configure-release)
	$(CMAKE) --build $(BUILD)/release -j $(JOBS) --target recycle recycle_static
	$(CMAKE) --install $(BUILD)/release --prefix $(PREFIX)

format:
	clang-format -i include/*.h src/*.c src/*.h src/*/*.c tests/*.c tests/*.h examples/*.c

clean:
	rm -rf $(BUILD)
