// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// How a fuzz target reports a broken invariant.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace switchboard::fuzz {

/// Reports a broken invariant and aborts, so that libFuzzer keeps the input as a crash artifact.
[[noreturn]] inline void fail(const char* file, int line, const char* condition, std::string_view detail) {
    std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, condition);
    if (!detail.empty()) std::fprintf(stderr, "    %.*s\n", static_cast<int>(detail.size()), detail.data());
    std::abort();
}

} // namespace switchboard::fuzz

/// FUZZ_CHECK(condition, detail): aborts with `detail` (a string, built only on failure) when `condition` is false.
/// A macro for the file, line and condition text in the report.
#define FUZZ_CHECK(condition, detail)                                                                                  \
    do {                                                                                                               \
        if (!(condition)) ::switchboard::fuzz::fail(__FILE__, __LINE__, #condition, (detail));                         \
    } while (false)

