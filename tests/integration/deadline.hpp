// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Bounded waits: every wait in the integration helpers runs against a deadline.

#include <algorithm>
#include <chrono>

namespace integration {

using Clock = std::chrono::steady_clock;

/// Milliseconds left until `deadline`, never negative (a poll(2) timeout).
inline int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::max<long long>(left, 0));
}

} // namespace integration
