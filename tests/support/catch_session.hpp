// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The test programs' runner: Catch's session, whose implementation (catch_session.cpp) is compiled
// once for all of them, with options of a program's own added to its command line.

#include <cstddef>
#include <string>
#include <vector>

namespace test_support {

/// `--name N`: a count of at least `minimum`, written to `value`.
struct CountOption {
    std::size_t* value;
    std::string name;
    std::string description;
    std::size_t minimum = 0;
};

/// Catch's session over `argv` with `options`; its exit status.
int run_tests(int argc, char* argv[], const std::vector<CountOption>& options = {});

} // namespace test_support
