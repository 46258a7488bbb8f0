// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: heartbeats, pong timeouts and credential expiry, served
// by one timer per endpoint rather than timers per connection (each waiting timer cost ~350
// bytes). Every tick hands the connections that are due to their strands, so that their work runs
// up to one tick late, never early. Free of websocketpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

namespace switchboard::websocketpp_transport {

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point never = Clock::time_point::max();

struct HeartbeatPeriods {
    std::chrono::milliseconds ping_interval; ///< 0: no pings
    std::chrono::milliseconds pong_timeout;  ///< 0: none

    /// Every due time is met within one tick: an eighth of the shorter of the two, between 1 ms
    /// and 250 ms.
    Clock::duration tick() const;
};

/// One connection's heartbeat and credential expiry. Stored in the connection; on its strand.
struct Heartbeat {
    /// What is due at a moment, in order of gravity.
    enum class Duty { none, expire, pong_timeout, ping };

    Clock::time_point next_ping = never;
    Clock::time_point pong_deadline = never; ///< while `awaiting_pong`
    Clock::time_point expires = never;       ///< the credentials' expiry
    bool awaiting_pong = false;              ///< one ping at a time

    Duty duty(Clock::time_point now) const;
    /// A ping that was due at `now` was handled: sent (`sent`: without an error), unless one
    /// still awaited its pong.
    void pinged(Clock::time_point now, bool sent, const HeartbeatPeriods& periods);
    /// The earliest of what may come due.
    Clock::time_point due() const;
};

/// `ConnectionState::entry` of a connection that has none in a `DueTable` (not open, or gone).
constexpr std::uint32_t no_entry = std::numeric_limits<std::uint32_t>::max();

/// The open connections (websocketpp's handles) and when each is next due (`never` while its
/// strand handles it). Any thread: under `mutex_`, never held across a call out. A connection's
/// entry number belongs to its strand.
class DueTable {
public:
    using Handle = std::weak_ptr<void>;

    /// Its entry, which serves it until `leave`.
    std::uint32_t enter(Handle connection, Clock::time_point due);
    void set_due(std::uint32_t entry, Clock::time_point due);
    /// Frees `entry`, if it is one, and sets it to `no_entry`; whether it was one.
    bool leave(std::uint32_t& entry);
    /// The connections due by `now`; each stays out of later rounds until `set_due`.
    std::vector<Handle> take_due(Clock::time_point now);
    std::vector<Handle> connections() const;

private:
    struct Entry {
        Handle connection;
        Clock::time_point due = never;
    };

    mutable std::mutex mutex_;
    std::vector<Entry> entries_; ///< free ones hold no connection
    std::vector<std::uint32_t> free_;
};

/// The endpoint's one timer: runs `on_tick` every period on a strand of its own until `stop`.
/// Its state is shared with the pending wait, so that a wait completing after the owner is gone
/// finds it stopped and touches nothing else. Made, started and stopped by its owner: `stop` once
/// the I/O threads are joined, or on `strand()`.
class Ticker {
public:
    Ticker(asio::io_context& io, Clock::duration period, std::function<void()> on_tick);

    void start();
    void stop();
    asio::strand<asio::io_context::executor_type> strand() const { return state_->strand; }

private:
    struct State {
        State(asio::io_context& io, Clock::duration period, std::function<void()> on_tick);
        asio::strand<asio::io_context::executor_type> strand;
        asio::steady_timer timer;
        const Clock::duration period;
        const std::function<void()> on_tick;
        bool stopped = false; ///< on `strand`
    };

    static void arm(const std::shared_ptr<State>& state);

    std::shared_ptr<State> state_;
};

} // namespace switchboard::websocketpp_transport
