// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The backplane hook: how several nodes (processes, machines) share delivery.
///
/// A `ConnectionManager` with a backplane delivers every event to its own connections first,
/// then publishes the frame so that the other nodes deliver it to theirs (unless its `History`
/// publishes the user's stream events itself, with their offsets); presence events are
/// published as broadcasts. What other nodes publish comes back through `BackplaneSink`, which
/// delivers to local connections only (never re-publishes). A backplane may also decide presence
/// for the cluster (`decides_presence`). The manager also says when a user's
/// first local connection opens and the last one closes, so that a backplane need only listen
/// for the users this node holds. `redis/backplane.hpp` is one; with none, the manager serves one
/// node.
///
/// Threads. The manager calls `publish_*` from any thread, right after local delivery, and
/// `user_joined` / `user_left` from whichever thread delivers presence: one thread at a time, in
/// the order of the user's transitions (first open, last close, first open again...). None of them
/// may block (no I/O on the caller's thread) or call back into the manager. The manager holds no
/// lock of its own across any of these calls.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <string_view>

#include <switchboard/event.hpp>
#include <switchboard/stream_position.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard {

/// Local delivery, as offered to a backplane by the manager it serves. Thread-safe.
class BackplaneSink {
public:
    virtual void deliver_to_users(const std::vector<UserId>& users, const Frame& frame) = 0;
    virtual void deliver_to_all(const Frame& frame) = 0;
    /// A presence change the backplane decided for the whole cluster (see
    /// `Backplane::decides_presence`): delivered to local connections as the presence mode says,
    /// never published. Called one thread at a time, in the order the cluster decided.
    virtual void deliver_presence(const UserId& user, bool online) = 0;
    /// An event of `user`'s stream at `position`, as the manager's `History` published it itself
    /// when another node appended it (`History::publishes_appends`): `event_text` is its
    /// `StoredEvent::text()`, without the offset. Delivered to local connections in offset order,
    /// without duplicate (a gap is filled from the history first), never published or appended.
    /// A manager whose history does not publish its appends (or with none) delivers it live,
    /// without an offset, to the user's local connections.
    virtual void deliver_from_stream(const UserId& user, const StreamPosition& position,
                                     std::string_view event_text) = 0;
    /// The backplane listens again for `users` (a link lost, then subscribed again to them):
    /// what other nodes published to them meanwhile never came. A manager whose history
    /// publishes its appends reads the users' stream tops (`History::tops`) and sends each of
    /// their started connections here what it missed, from the history, at the user's order
    /// point as live stream events; for other messages nothing is kept to catch up from. Called
    /// one batch (at most a few hundred users) at a time; blocks for the history's round trips.
    virtual void resubscribed(const std::vector<UserId>& /*users*/) {}

protected:
    ~BackplaneSink() = default;
};

/// A backplane's own figures (counters since construction, current sizes), for `ManagerMetrics`
/// (which counts the frames handed to it and brought by it itself).
struct BackplaneMetrics {
    bool connected = false;             ///< its links to the other nodes are up now
    std::size_t subscriptions = 0;      ///< channels it listens to now
    std::uint64_t published = 0;        ///< messages the other nodes were sent (acknowledged)
    std::uint64_t publish_failures = 0; ///< messages not sent: link down, too many in flight, timeout, error
    std::uint64_t resubscribes = 0;     ///< times it subscribed again to everything after losing its link
};

class Backplane {
public:
    virtual ~Backplane() = default;
    /// Called by the manager with itself at construction and with nullptr at destruction;
    /// after `attach(nullptr)` returns, the sink must not be called any more.
    virtual void attach(BackplaneSink* sink) = 0;
    /// Publishes to the other nodes. Called from any thread, after local delivery; must not block.
    virtual void publish_to_users(const std::vector<UserId>& users, const Frame& frame) = 0;
    virtual void publish_to_all(const Frame& frame) = 0;
    /// `user`'s first connection on this node opened: from now on, deliver what is published to them.
    virtual void user_joined(const UserId& user) = 0;
    /// `user`'s last connection on this node closed: what is published to them is of no use here.
    virtual void user_left(const UserId& user) = 0;
    /// True when the backplane decides presence for the whole cluster: the manager then produces
    /// no presence event of its own (it still calls `user_joined` / `user_left`) and delivers those
    /// the backplane hands to `BackplaneSink::deliver_presence`. False: each node announces its
    /// own users, published as broadcasts. Constant for the backplane's life.
    virtual bool decides_presence() const noexcept { return false; }
    /// When it decides presence: whether `user` has a connection on any node, and who does (the
    /// backplane states what each costs). Called from any thread; must not block. Unused otherwise.
    virtual bool is_online_in_cluster(const UserId&) const { return false; }
    virtual std::vector<UserId> online_in_cluster() const { return {}; }
    virtual BackplaneMetrics metrics() const = 0;
};

} // namespace switchboard
