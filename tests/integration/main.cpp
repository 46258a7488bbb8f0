// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Catch's runner plus `--io-threads N`, the I/O threads of every in-process server: ctest runs the
// suite with 2 (websocketpp's multi-threaded configuration) and with 1 (its single-threaded one,
// where sends from the test's own thread are posted to the I/O thread).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "harness.hpp"

int main(int argc, char* argv[]) {
    Catch::Session session;
    session.cli(session.cli() | Catch::clara::Opt(integration::io_threads, "count")["--io-threads"](
                                    "I/O threads of each in-process server (default 2)"));
    if (const int error = session.applyCommandLine(argc, argv)) return error;
    if (integration::io_threads == 0) {
        Catch::cerr() << "--io-threads must be at least 1\n";
        return 1;
    }
    return session.run();
}
