// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Catch's implementation, compiled once for all the test programs: a copy costs more CPU than any
// test source (~25 s at -O2).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "catch_session.hpp"

namespace test_support {

int run_tests(int argc, char* argv[], const std::vector<CountOption>& options) {
    Catch::Session session;
    auto cli = session.cli();
    for (const CountOption& option : options)
        cli |= Catch::clara::Opt(*option.value, "count")[option.name](option.description);
    session.cli(cli);
    if (const int error = session.applyCommandLine(argc, argv)) return error;
    for (const CountOption& option : options) {
        if (*option.value >= option.minimum) continue;
        Catch::cerr() << option.name << " must be at least " << option.minimum << '\n';
        return 1;
    }
    return session.run();
}

} // namespace test_support
