# A thin front for CMake: `make demo` runs the tours, `make bench` the
# benchmarks against CPython, `make test` runs every test in a debug build
# with AddressSanitizer and UndefinedBehaviorSanitizer, in an optimized build,
# and the threads test under ThreadSanitizer.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
CMAKE ?= cmake

.PHONY: all demo test test-debug test-release test-tsan test-stress bench bench-quick difftest install clean format

all:
	$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release
	$(CMAKE) --build $(BUILD)/release -j $(JOBS)

demo: all
	$(BUILD)/release/tour
	$(BUILD)/release/memory_tour

test: test-debug test-release test-tsan

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

# The whole suite with a collection on every container allocation.
test-stress:
	$(CMAKE) -S . -B $(BUILD)/stress -DCMAKE_BUILD_TYPE=Debug -DRCY_SANITIZE=ON -DRCY_GC_STRESS=ON
	$(CMAKE) --build $(BUILD)/stress -j $(JOBS)
	cd $(BUILD)/stress && ctest --output-on-failure -j $(JOBS)

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

# Differential tests: N random programs through recycle and through every
# CPython found (pyenv versions, python3); see docs/testing.md.
N ?= 1000
difftest:
	$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release
	$(CMAKE) --build $(BUILD)/release -j $(JOBS) --target replay
	python3 difftest/run.py --replay $(BUILD)/release/difftest/replay --all-pythons -n $(N) --jobs $(JOBS)

install: all
	$(CMAKE) --install $(BUILD)/release --prefix $(PREFIX)

format:
	clang-format -i include/*.h src/*.c src/*.h src/*/*.c tests/*.c tests/*.h examples/*.c

clean:
	rm -rf $(BUILD)
