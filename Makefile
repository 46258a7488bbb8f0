# Switchboard: `make example` runs the example server on :8080, `make test` runs every test.
# Both install the Debian packages they need first (as root; `apt-get update` runs only when
# something is missing).

, := ,
JOBS        ?= $(shell nproc)
BUILD_TYPE  ?= RelWithDebInfo
CMAKE       ?= cmake
CTEST       := ctest --output-on-failure -j$(JOBS) --timeout 600

BUILD_PACKAGES := cmake make g++ pkg-config libasio-dev libwebsocketpp-dev nlohmann-json3-dev \
                  libssl-dev zlib1g-dev libcpp-jwt-dev libhiredis-dev
TEST_PACKAGES  := $(BUILD_PACKAGES) catch2 openssl prometheus nodejs chromium redis-server python3-websockets
BENCH_PACKAGES := $(BUILD_PACKAGES) libbenchmark-dev nodejs gnuplot-nox redis-server
FUZZ_PACKAGES  := $(BUILD_PACKAGES) clang libclang-rt-14-dev

export ASAN_OPTIONS  := detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
# history_size: more of each thread's past accesses keep their stacks, so that a suppression naming
# the writing function (tests/tsan.supp) can match a write made well before the racing read.
export TSAN_OPTIONS  := halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$(CURDIR)/tests/tsan.supp

# Installs whichever of the given Debian packages are missing.
define install_packages
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages:" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

# Debug information as line tables only (-g1): stack traces from the sanitizers, gdb and crashes keep
# their functions, files and lines, and a test file compiles a fifth to a quarter faster than with -g
# (tests/integration/test_messages.cpp: 16.3 s against 12.2 s of CPU at -O2, 11.7 against 9.4 at -O0).
DEBUG_INFO_FLAGS := "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_DEBUG=-g1

# configure(dir, extra cmake arguments)
define configure
	$(CMAKE) -S . -B $(1) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(DEBUG_INFO_FLAGS) $(2) > $(1).configure.log || (cat $(1).configure.log; false)
endef

SANITIZED := -DSWITCHBOARD_BUILD_EXAMPLES=ON -DSWITCHBOARD_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug

.PHONY: all deps-test deps-browser deps-build deps-bench test test-plain test-asan test-tsan example bench clean

all: test

test: test-plain test-asan test-tsan test-fuzz

# The plain tree builds no test program: each runs in build-asan (and the concurrent ones in build-tsan too), so a
# third build of them would find nothing more. Here run the checks that need a tree without sanitizers: a compile
# failure, the README's code, consumption by a host project, the JavaScript client, the demo page in Chromium and
# permessage-deflate interop.
test-plain: deps-test deps-browser
	$(call configure,build,-DSWITCHBOARD_BUILD_BENCH=OFF -DSWITCHBOARD_TEST_PROGRAMS=OFF)
	$(CMAKE) --build build -j$(JOBS)
	cd build && $(CTEST)

# Every test program under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps-test
	$(call configure,build-asan,$(SANITIZED) -DSWITCHBOARD_SANITIZE=address$(,)undefined)
	$(CMAKE) --build build-asan -j$(JOBS)
	cd build-asan && $(CTEST)

# The concurrency, integration and Redis tests under ThreadSanitizer: only their programs are built
# (the unit tests run under the other two configurations).
TSAN_TARGETS := switchboard_stress_tests switchboard_integration_tests switchboard_redis_tests
test-tsan: deps-test
	$(call configure,build-tsan,$(SANITIZED) -DSWITCHBOARD_SANITIZE=thread)
	$(CMAKE) --build build-tsan -j$(JOBS) --target $(TSAN_TARGETS)
	cd build-tsan && $(CTEST) -L 'concurrency|integration|redis'

deps-test:
	$(call install_packages,$(TEST_PACKAGES))

# The browser tests' locked npm packages (playwright-core, which drives Debian's chromium: never a
# browser download), installed again only when package-lock.json is newer than the installed tree,
# so that a machine without network runs the tests once they are there. Debian's npm package is
# installed only when no npm is on the PATH: Node.js's own packages bring theirs, and conflict with it.
BROWSER_TESTS := tests/browser tests/interop
deps-browser: deps-test
	@command -v npm >/dev/null || { echo "Installing Debian packages: npm"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; }
	@for dir in $(BROWSER_TESTS); do \
	    if [ ! -f $$dir/node_modules/.package-lock.json ] || \
	        [ $$dir/package-lock.json -nt $$dir/node_modules/.package-lock.json ]; then \
	        echo "Installing the npm packages of $$dir"; \
	        (cd $$dir && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) || exit 1; \
	    fi; \
	done

deps-build:
	$(call install_packages,$(BUILD_PACKAGES))

deps-bench:
	$(call install_packages,$(BENCH_PACKAGES))

example: deps-build
	$(call configure,build-example,-DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release)
	$(CMAKE) --build build-example -j$(JOBS) --target social_server
	./build-example/examples/social_server/social_server --bind 127.0.0.1 --port 8080

bench: deps-bench
	$(call configure,build-bench,-DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_BUILD_BENCH=ON -DSWITCHBOARD_BUILD_EXAMPLES=ON \
	    -DSWITCHBOARD_WEBSOCKETPP=ON -DSWITCHBOARD_JWT=ON -DCMAKE_BUILD_TYPE=Release)
	$(CMAKE) --build build-bench -j$(JOBS)
	./build-bench/bench/core_bench
	bench/load/run.sh build-bench

# --- Fuzzing -------------------------------------------------------------------------------------
# `make fuzz` builds the libFuzzer targets of tests/fuzz with clang in build-fuzz/ and runs each for FUZZ_SECONDS on a
# copy of its seed corpus (FUZZ_TARGETS picks some, e.g. FUZZ_TARGETS="event_parse"); a crash fails the make.
# `make test` runs the inbound-message and JWT fuzzers for 40 s each, the two smaller ones (Event::parse, upgrade
# requests) for 20 s each and the resume parameter's and permessage-deflate's for 10 s, which keeps the whole `make test`
# within its 25 minutes on 2 cores. With two cores or more it runs them two at a time, one a core (libFuzzer runs one
# job): each fuzzes as long as alone, and the 140 s of fuzzing take 70.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?=
FUZZ_CMAKE   := -DCMAKE_CXX_COMPILER=clang++ -DSWITCHBOARD_FUZZ=ON -DSWITCHBOARD_BUILD_TESTS=OFF \
                -DSWITCHBOARD_BUILD_EXAMPLES=OFF -DSWITCHBOARD_BUILD_BENCH=OFF -DSWITCHBOARD_WEBSOCKETPP=OFF \
                -DSWITCHBOARD_REDIS=OFF -DSWITCHBOARD_INSTALL=OFF

.PHONY: fuzz fuzz-build test-fuzz deps-fuzz

fuzz: fuzz-build
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: deps-fuzz
	$(call configure,build-fuzz,$(FUZZ_CMAKE))
	$(CMAKE) --build build-fuzz -j$(JOBS)

# fuzz_pair(seconds, target, target): one after the other on one core, else together; fails if either fails.
define fuzz_pair
	if [ $(JOBS) -lt 2 ]; then tests/fuzz/run.sh build-fuzz $(1) $(2) $(3); else \
	    tests/fuzz/run.sh build-fuzz $(1) $(2) & first=$$!; \
	    tests/fuzz/run.sh build-fuzz $(1) $(3); second=$$?; wait $$first && exit $$second; fi
endef

test-fuzz: fuzz-build
	$(call fuzz_pair,40,inbound_message,jwt_verify)
	$(call fuzz_pair,20,event_parse,upgrade_request)
	$(call fuzz_pair,10,resume_parameter,deflate_input)

deps-fuzz:
	$(call install_packages,$(FUZZ_PACKAGES))

clean:
	rm -rf build build-asan build-tsan build-example build-bench build-fuzz *.configure.log
