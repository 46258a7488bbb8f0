// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The history's part of the core benchmark (history_bench.cpp): sends with a `MemoryHistory`
/// against none, a resume of 1,000 missed events, and the memory a retained event takes.

#include "summary.hpp"

namespace switchboard::bench {

/// Adds the history's table to `suite`.
void register_history_benchmarks(Suite& suite);

} // namespace switchboard::bench
