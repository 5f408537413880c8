# A thin front for CMake: `make demo` runs the tours, `make bench` the
# benchmarks against CPython, `make test` runs every test in a debug build
# with AddressSanitizer and UndefinedBehaviorSanitizer, in an optimized build,
# in the GC-stress build (twice: poisoning on, then off), and the threads
# test under ThreadSanitizer, then replays the fuzz corpus and fuzzes for a
# minute (docs/testing.md).
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

.PHONY: mal bench-mal demo-mal all demo test test-debug test-release test-tsan test-stress test-fuzz test-valgrind fuzz fuzz-api fuzz-merge bench bench-quick difftest install clean format

all:
	$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release
	$(CMAKE) --build $(BUILD)/release -j $(JOBS)

demo: all
	$(BUILD)/release/tour
	$(BUILD)/release/memory_tour
	$(MAKE) --no-print-directory demo-mal

# A mal REPL transcript: a closure's reference cycle, kept alive after the
# program drops it, freed by a collection (with the DEBUG_STATS lines).
demo-mal: mal
	@echo "== mal on recycle: a cycle made by a closure, freed by a collection"
	@$(BUILD)/release/clients/mal/stepA_mal < clients/mal/examples/demo_repl.txt 2>&1

test: test-debug test-release test-tsan test-stress test-fuzz test-valgrind

test-debug:
	$(CMAKE) -S . -B $(BUILD)/debug -DCMAKE_BUILD_TYPE=Debug -DRCY_SANITIZE=ON
	$(CMAKE) --build $(BUILD)/debug -j $(JOBS)
	cd $(BUILD)/debug && ctest --output-on-failure -j $(JOBS)

test-release:
	$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release
	$(CMAKE) --build $(BUILD)/release -j $(JOBS)
	cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)

test-tsan:
	$(CMAKE) -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRCY_TSAN=ON
	$(CMAKE) --build $(BUILD)/tsan -j $(JOBS) --target test_threads
	cd $(BUILD)/tsan && ctest --output-on-failure -R '^test_threads$$'

# The whole suite with a collection on every container allocation, twice:
# with poisoning on (the debug default: freed objects stay recognisable in
# quarantine), then with RCY_POISON=0, which turns it off in every runtime
# whose configuration leaves it to the build, so that every free reaches
# the allocator and AddressSanitizer sees any later use.
test-stress:
	$(CMAKE) -S . -B $(BUILD)/stress -DCMAKE_BUILD_TYPE=Debug -DRCY_SANITIZE=ON -DRCY_GC_STRESS=ON
	$(CMAKE) --build $(BUILD)/stress -j $(JOBS)
	cd $(BUILD)/stress && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD)/stress && RCY_POISON=0 ctest --output-on-failure -j $(JOBS)

# Benchmarks side by side with every CPython on the machine (python3 and
# pyenv's), on the release build: bench/run.py prints the table and writes
# it with the raw results and a chart to $(BUILD)/bench-results.
# QUICK=1 (or `make bench-quick`) runs the smallest sizes once, to prove the
# harness works; BENCH_ARGS passes options to bench/run.py (see its --help).
PYTHON ?= python3
BENCH_OUT ?= $(BUILD)/bench-results
bench: all
	$(CMAKE) --build $(BUILD)/release -j $(JOBS) --target benchmarks
	$(PYTHON) bench/run.py --bindir $(BUILD)/release/bench --out $(BENCH_OUT) --chart $(if $(QUICK),--quick --check) $(BENCH_ARGS)

bench-quick:
	$(MAKE) bench QUICK=1

# mal (Make-A-Lisp) on recycle: the step executables in
# $(BUILD)/release/clients/mal, which clients/mal/run starts (STEP=...).
mal:
	$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release
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

# Differential tests: N random programs through recycle and through every
# CPython found (pyenv versions, python3); see docs/testing.md.
N ?= 1000
difftest:
	$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release
	$(CMAKE) --build $(BUILD)/release -j $(JOBS) --target replay
	python3 difftest/run.py --replay $(BUILD)/release/difftest/replay --all-pythons -n $(N) --jobs $(JOBS)

# ---- Fuzzing under libFuzzer, ASan and UBSan (clang) -------------------------
# Two targets: fuzz/fuzz_graph.c (the collector, finalizers and weak
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
# `make test-fuzz` (part of `make test`) replays both corpora, then fuzzes
# each target for half of FUZZ_TEST_SECONDS (60 s in all).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 60
FUZZ_DIR = $(BUILD)/fuzz
FUZZ_LIB_SOURCES = $(wildcard src/*.c src/types/*.c src/tools/*.c)
FUZZ_HEADERS = $(wildcard include/*.h src/*.h src/*/*.h)
FUZZ_FLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -DRCY_DEBUG=3 -DRCY_FREELISTS=0 -Iinclude -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith -Wformat=2 -Werror
FUZZ_ARGS = -max_len=2048 -timeout=60 -rss_limit_mb=4096 -print_final_stats=1

$(FUZZ_DIR)/fuzz_graph: $(FUZZ_LIB_SOURCES) fuzz/fuzz_graph.c $(FUZZ_HEADERS)
	mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_LIB_SOURCES) fuzz/fuzz_graph.c -o $@ -lpthread -lm

$(FUZZ_DIR)/fuzz_api: $(FUZZ_LIB_SOURCES) fuzz/fuzz_api.c $(FUZZ_HEADERS)
	mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_LIB_SOURCES) fuzz/fuzz_api.c -o $@ -lpthread -lm

fuzz: $(FUZZ_DIR)/fuzz_graph
	mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz_graph $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(FUZZ_DIR)/ \
		$(FUZZ_DIR)/corpus fuzz/corpus

fuzz-api: $(FUZZ_DIR)/fuzz_api
	mkdir -p $(FUZZ_DIR)/corpus-api
	$(FUZZ_DIR)/fuzz_api $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(FUZZ_DIR)/api- \
		$(FUZZ_DIR)/corpus-api fuzz/corpus-api

fuzz-merge: $(FUZZ_DIR)/fuzz_graph $(FUZZ_DIR)/fuzz_api
	mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/corpus-api
	$(FUZZ_DIR)/fuzz_graph $(FUZZ_ARGS) -merge=1 fuzz/corpus $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz_api $(FUZZ_ARGS) -merge=1 fuzz/corpus-api $(FUZZ_DIR)/corpus-api

test-fuzz: $(FUZZ_DIR)/fuzz_graph $(FUZZ_DIR)/fuzz_api
	$(FUZZ_DIR)/fuzz_graph $(FUZZ_ARGS) -runs=0 fuzz/corpus
	$(FUZZ_DIR)/fuzz_api $(FUZZ_ARGS) -runs=0 fuzz/corpus-api
	$(MAKE) fuzz FUZZ_SECONDS=$$(( $(FUZZ_TEST_SECONDS) / 2 ))
	$(MAKE) fuzz-api FUZZ_SECONDS=$$(( $(FUZZ_TEST_SECONDS) - $(FUZZ_TEST_SECONDS) / 2 ))

# ---- Valgrind: memcheck over every test program ----------------------------
# A Debug build without sanitizers, free lists or pools; each test program
# runs under memcheck (errors and definite/indirect leaks fail it). The
# programs that build 10-million-object structures run at RCY_TEST_SCALE
# (a fraction of their size; docs/testing.md). Not part of `make test`.
VALGRIND ?= valgrind
VALGRIND_FLAGS = --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --child-silent-after-fork=yes --quiet
RCY_TEST_SCALE ?= 0.01
test-valgrind:
	$(CMAKE) -S . -B $(BUILD)/valgrind -DCMAKE_BUILD_TYPE=Debug -DRCY_FREELISTS=OFF -DRCY_SANITIZE=OFF
	$(CMAKE) --build $(BUILD)/valgrind -j $(JOBS)
	cd $(BUILD)/valgrind/tests && ls test_* | grep -v '\.' | \
		RCY_TEST_SCALE=$(RCY_TEST_SCALE) xargs -P $(JOBS) -I{} sh -c \
		's=$$(date +%s); $(VALGRIND) $(VALGRIND_FLAGS) --log-file={}.valgrind ./{} > {}.out 2>&1; r=$$?; \
		 t=$$(( $$(date +%s) - s )); \
		 if [ $$r -eq 0 ]; then echo "valgrind ok   {} ($${t}s)"; \
		 else echo "valgrind FAIL {} (exit $$r)"; cat {}.valgrind; tail -20 {}.out; exit 255; fi'
	cd $(BUILD)/valgrind/tests && $(VALGRIND) $(VALGRIND_FLAGS) ./fuzz_replay $(CURDIR)/fuzz/corpus
	cd $(BUILD)/valgrind/tests && $(VALGRIND) $(VALGRIND_FLAGS) ./fuzz_api_replay $(CURDIR)/fuzz/corpus-api

install: all
	$(CMAKE) --install $(BUILD)/release --prefix $(PREFIX)

format:
	clang-format -i include/*.h src/*.c src/*.h src/*/*.c tests/*.c tests/*.h examples/*.c

clean:
	rm -rf $(BUILD)
