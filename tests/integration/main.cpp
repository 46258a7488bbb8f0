// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Catch's runner plus `--io-threads N`, the I/O threads of every in-process server: ctest runs the
// suite with 2 (websocketpp's multi-threaded configuration) and with 1 (its single-threaded one,
// where sends from the test's own thread are posted to the I/O thread).
#include "../support/catch_session.hpp"
#include "harness.hpp"

int main(int argc, char* argv[]) {
    return test_support::run_tests(argc, argv,
        {{&integration::io_threads, "--io-threads", "I/O threads of each in-process server (default 2)", 1}});
}
