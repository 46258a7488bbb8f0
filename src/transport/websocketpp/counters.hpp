// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: what becomes of its connections, counted for `metrics()`
// (admission counts its refusals itself). Relaxed atomics: any thread. Free of websocketpp.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <switchboard/transport/websocketpp.hpp>

namespace switchboard::websocketpp_transport {

struct ConnectionCounters {
    using Metrics = WebsocketppTransport::Metrics;

    std::atomic<std::uint64_t> upgrades_abandoned{0}, pong_timeouts{0}, credential_expiries{0},
        oversized_messages{0}, closes_other{0};
    std::array<std::atomic<std::uint64_t>, Metrics::close_codes> closes{};

    static void count(std::atomic<std::uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

    /// The code we sent, ours or the client's echoed; 1006 if the TCP connection ended without one.
    void count_close(std::uint16_t code) {
        const std::size_t slot = static_cast<std::size_t>(code) - Metrics::first_close_code;
        count(slot < closes.size() ? closes[slot] : closes_other);
    }

    void report(Metrics& metrics) const {
        constexpr auto relaxed = std::memory_order_relaxed;
        metrics.pong_timeouts = pong_timeouts.load(relaxed);
        metrics.credential_expiries = credential_expiries.load(relaxed);
        metrics.oversized_messages = oversized_messages.load(relaxed);
        metrics.upgrades_abandoned = upgrades_abandoned.load(relaxed);
        for (std::size_t i = 0; i < metrics.closes.size(); ++i) metrics.closes[i] = closes[i].load(relaxed);
        metrics.closes_other = closes_other.load(relaxed);
    }
};

} // namespace switchboard::websocketpp_transport
