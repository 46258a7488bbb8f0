// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// What a `ConnectionManager` is configured with (`ManagerOptions`: presence, limits, hooks, the
/// backplane, the history) and what it reports (`ManagerMetrics`). Plain values: build them on any thread
/// before constructing the manager; the manager copies them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <switchboard/auth.hpp>
#include <switchboard/backplane.hpp>
#include <switchboard/connection_id.hpp>
#include <switchboard/event.hpp>
#include <switchboard/history.hpp>
#include <switchboard/metrics/histogram.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard {

/// Optional observers of the connection lifecycle (logging, audit). Each runs on the thread
/// where the event happened, with no manager lock held; it must not throw.
struct ManagerHooks {
    std::function<void(ConnectionId, const Identity&)> connected;
    std::function<void(ConnectionId, const UserId&)> disconnected;
    std::function<void(const UpgradeRequest&, const AuthFailure&)> refused;
};

/// How presence changes reach other users.
enum class PresenceMode {
    /// `UserOnline`/`UserOffline` to everyone connected: simple, but N users connecting at once
    /// cost N^2 deliveries.
    broadcast,
    /// One `PresenceDiff {"joins","leaves"}` per `coalesce_interval` to everyone connected; a user
    /// who joins and leaves within one interval appears in neither list.
    coalesced,
    /// `UserOnline`/`UserOffline` only to the user's watchers: those the host's `watchers`
    /// relation names (friends, conversation participants) and connections that asked with
    /// `watch_presence`.
    scoped,
};

struct PresenceOptions {
    PresenceMode mode = PresenceMode::broadcast;
    std::chrono::milliseconds coalesce_interval{100};
    /// Runs the coalesced flush timer; required for `PresenceMode::coalesced`.
    asio::any_io_executor executor;
    /// Scoped: the users who watch `user`. Called with no lock held; must be thread-safe.
    std::function<std::vector<UserId>(const UserId& user)> watchers;
    /// Scoped: how many users one connection may watch through `watch_presence`.
    std::size_t max_watched_per_connection = 1000;
};

/// What happens to a connection whose transport backlog passes `max_queued_bytes`.
enum class SlowConsumerPolicy {
    close,          ///< close it with 1013 "slow consumer" and unregister it
    /// Skip ephemeral events (typing, presence) for it; durable ones still go, up to
    /// `LimitOptions::max_queued_bytes_hard`, past which it is closed as under `close`.
    drop_ephemeral,
};

/// Per-connection limits. 0 disables a limit.
struct LimitOptions {
    std::size_t max_queued_bytes = 1024 * 1024; ///< outbound backlog that makes a slow consumer
    SlowConsumerPolicy slow_consumer = SlowConsumerPolicy::close;
    /// Under `drop_ephemeral`: the backlog at which the connection is closed (1013) anyway. Durable
    /// events are never dropped, so only closing bounds the memory a reader that stalls can hold.
    std::size_t max_queued_bytes_hard = 4 * 1024 * 1024;
    double inbound_rate = 20;  ///< messages per second
    double inbound_burst = 40; ///< messages at once
    /// Rate-limited messages in a row after which the connection is closed with 1008.
    std::size_t max_rate_limit_strikes = 20;
    /// Registered connections plus accepted upgrades not yet open; over it an upgrade gets 429.
    std::size_t max_connections_per_user = 10;
    std::size_t max_json_depth = Event::default_max_depth;
};

struct ManagerOptions {
    /// Period of the stale-connection sweep started by `start_stale_sweep`.
    std::chrono::milliseconds stale_sweep_interval{std::chrono::seconds(60)};
    /// Other nodes to share delivery with; none means this node alone.
    std::shared_ptr<Backplane> backplane;
    /// Per-user streams of durable events for offline redelivery (`MemoryHistory`, or a shared
    /// store); none means no `Session` frame, no offsets and no `resume`, exactly as without.
    std::shared_ptr<History> history;
    /// With history: the most events one resume replays; a client further behind is told
    /// `unavailable`. 0: no limit. A replay is also bounded in bytes by half the durable backlog
    /// limit (`LimitOptions::max_queued_bytes`, or the hard one under `drop_ephemeral`): it is
    /// queued at once, and live events must still find room behind it.
    std::size_t max_replay = 1000;
    PresenceOptions presence;
    LimitOptions limits;
    ManagerHooks hooks;
};

/// Counters since construction, current sizes, and distributions. Read with relaxed atomics: each
/// figure is exact, but figures read together need not come from one instant. Recording them costs
/// the send path relaxed atomic increments and, per send call, two clock reads.
/// `switchboard/metrics/render.hpp` writes them in Prometheus' text format.
struct ManagerMetrics {
    /// The bounds of the duration histograms, in nanoseconds: 1 µs to 1 s, by fours.
    static Histogram duration_histogram() { return Histogram::exponential(1'000, 4, 11); }
    /// The bounds of the size histograms, in bytes: 64 B to 4 MiB, by fours.
    static Histogram size_histogram() { return Histogram::exponential(64, 4, 9); }

    std::size_t connections = 0;
    std::size_t users_online = 0;
    std::uint64_t connections_registered = 0;
    std::uint64_t connections_unregistered = 0;
    std::uint64_t upgrades_refused = 0;
    std::size_t upgrades_pending = 0;     ///< accepted, neither open nor abandoned yet: they hold slots
    std::uint64_t upgrades_abandoned = 0; ///< accepted, then never opened (slot released)
    std::uint64_t frames_delivered = 0; ///< successful sends, one per recipient connection
    std::uint64_t send_failures = 0;
    std::uint64_t inbound_messages = 0;
    std::uint64_t bytes_in = 0;  ///< payload bytes of the inbound messages
    std::uint64_t bytes_out = 0; ///< payload bytes of the frames delivered, once per recipient
    std::uint64_t inbound_errors = 0;   ///< inbound messages answered with an `Error` event
    std::uint64_t rate_limited = 0;     ///< inbound messages refused by the rate limit
    std::uint64_t closed_for_abuse = 0; ///< connections closed for sustained rate-limit violations
    std::uint64_t closed_slow = 0;      ///< slow consumers closed
    std::uint64_t dropped_ephemeral = 0; ///< ephemeral events skipped for slow consumers
    std::uint64_t refused_by_auth = 0;    ///< upgrades refused by the Auth policy or the `resume` parameter
    std::uint64_t refused_user_limit = 0; ///< upgrades refused by `max_connections_per_user`
    // With history:
    std::uint64_t resumes_complete = 0;    ///< `Session` with recovery `complete`
    std::uint64_t resumes_unavailable = 0; ///< `Session` with recovery `unavailable`
    std::uint64_t resumes_beyond_replay = 0; ///< of those, beyond `max_replay` events or its bytes
    std::uint64_t events_replayed = 0;
    std::uint64_t closed_stream_reset = 0; ///< closed (1012) because the store lost their stream's epoch
    std::uint64_t history_append_failures = 0; ///< appends the store could not keep: delivered live, no offset
    std::uint64_t history_refused_sends = 0;   ///< durable sends refused whole, the store behind (`HistoryOverloaded`)
    bool with_history = false;             ///< the manager has a store
    HistoryMetrics history;                ///< the store's figures (zero without one)
    // With a backplane:
    bool with_backplane = false;
    std::uint64_t backplane_published = 0; ///< frames handed to the backplane for the other nodes
    std::uint64_t backplane_received = 0;  ///< frames the backplane brought from the other nodes
    /// Users caught up from the history after the backplane listened again (a lost link): their
    /// stream's top read and what their connections here missed sent (history publishing appends).
    std::uint64_t stream_catch_ups = 0;
    BackplaneMetrics backplane;            ///< the backplane's own figures
    // Distributions:
    /// One `send_to_user(s)` call, ns: sampled, one call in `TimingSample::period` per thread
    /// (its count is the calls timed; `frames_delivered` and the other counters count every call).
    Histogram::Snapshot send_duration;
    Histogram::Snapshot broadcast_duration;  ///< one `broadcast` call, ns: sampled the same way
    Histogram::Snapshot upgrade_duration;    ///< admitting one upgrade: the Auth policy and the limits, ns
    Histogram::Snapshot outbound_frame_size; ///< frames delivered, once per recipient, bytes of payload
    Histogram::Snapshot inbound_frame_size;  ///< inbound messages, bytes of payload
};

} // namespace switchboard
