// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: which upgrades pass before the Auth policy decides, and
// the connection limits. Free of websocketpp.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <switchboard/auth.hpp>
#include <switchboard/transport/websocketpp.hpp>

#include "upgrade_check.hpp"

namespace switchboard::websocketpp_transport {

/// The form of an upgrade (upgrade_check.hpp), its path and Origin, and the connection limits.
/// An upgrade takes its slot (global and per address) as it passes the limits, in the same
/// critical section as the check, and holds it until the connection is gone, whether it opened or
/// not; so upgrades arriving together cannot overshoot a limit.
///
/// One per endpoint. Any thread: the slots are under `mutex_`, which is never held across a call
/// out; the refusal counts are relaxed atomics. A connection's `Slot` belongs to its strand.
class Admission {
public:
    /// The slot a connection holds from admission until gone: its remote IP and how many slots
    /// that IP holds (a node of `per_address_`, which stays put); null while it holds none.
    using Slot = std::pair<const std::string, std::size_t>*;

    explicit Admission(const WebsocketppOptions& options);

    /// A well-formed upgrade's path, Origin and the limits, in that order (those that cost least
    /// first); unless refused, `slot` is taken. `accepting`: a listener is set and the endpoint is
    /// not stopping. Each refusal is counted.
    std::optional<detail::UpgradeRefusal> admit(const UpgradeRequest& request, bool accepting, Slot& slot);

    /// A request the HTTP handler got, with the fault found in its form: refused (and counted) if
    /// it is a malformed upgrade, or no upgrade at all at the WebSocket path; else for the host.
    std::optional<detail::UpgradeRefusal> refuse_malformed(detail::UpgradeFault fault, std::string_view path);

    /// The connection holding a slot opened: it counts as open until `release`.
    void opened();
    /// Gives back the slot, if `slot` holds one (`was_open`: it counted as open).
    void release(Slot& slot, bool was_open);

    /// Until every slot is back, or the deadline.
    void wait_until_all_released(std::chrono::steady_clock::time_point deadline);

    /// Connections open right now.
    std::size_t open_count() const;
    /// The refusal counts and the upgrades past the limits not yet open.
    void report(WebsocketppTransport::Metrics& metrics) const;

private:
    enum class SlotVerdict { taken, at_capacity, address_full };

    SlotVerdict take_slot(std::string address, Slot& slot);
    bool origin_allowed(std::optional<std::string_view> origin) const;

    const std::size_t max_connections_;
    const std::size_t max_connections_per_address_;
    const std::vector<std::string> allowed_origins_;
    const std::string websocket_path_;

    struct Refusals {
        std::atomic<std::uint64_t> version{0}, malformed{0}, path{0}, origin{0}, capacity{0}, address{0};
    };
    Refusals refused_;

    mutable std::mutex mutex_;
    std::condition_variable all_released_;
    std::size_t slots_taken_ = 0; ///< by upgrades past the limits and by open connections, until gone
    std::size_t open_count_ = 0;  ///< of those, the open connections
    std::unordered_map<std::string, std::size_t> per_address_; ///< `slots_taken_` by address
};

} // namespace switchboard::websocketpp_transport
