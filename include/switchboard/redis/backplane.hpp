// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `redis::RedisBackplane`: cross-node delivery over Redis pub/sub, for `ManagerOptions::backplane`.
///
/// Channels, under `prefix` (default `switchboard`):
/// - `<prefix>.user.<user id>`: what is sent to that user. A node listens while it holds at least
///   one local connection of the user (the manager says when the first opens and the last closes;
///   the backplane counts them too), so a send reaches only the nodes that hold its recipients.
///   Subscribes and unsubscribes are batched: those asked for before the executor's next turn
///   go out together, and a user who comes and goes meanwhile costs nothing.
/// - `<prefix>.broadcast`: broadcasts and presence events, heard by every node.
/// - `<prefix>.presence`: presence as Redis decides it for the whole cluster (below), on each shard.
/// - `<prefix>.node.<node id>`: this node's own; for now it carries the subscriber's liveness
///   probe (hiredis 0.14 cannot `PING` a subscribed connection, so the node publishes here and
///   waits for it to come back).
///
/// Each message carries the node it came from; a node ignores its own (it delivered them locally
/// already), so no connection gets an event twice. A send to several users is one `PUBLISH` per
/// user, written to Redis in one pipeline. On a user's channel, `RedisHistory` (with
/// `backplane_prefix` and this node's id) publishes each append itself, with its epoch and
/// offset: the backplane hands those to `BackplaneSink::deliver_from_stream`.
///
/// Shards (`more_shards`): with several Redis instances, a user's channel is on the instance
/// `ShardRing` picks for the user (shards.hpp: consistent hashing of the user id, so every node
/// agrees with no coordination); broadcasts are on the first; this node's channel and
/// `<prefix>.presence` on each (each subscriber's liveness probe goes through its own instance).
/// Each instance has its own two connections; a send to several users is one pipeline per shard.
/// A user's presence (below) is decided on the user's shard too: each shard keeps its own users'
/// `<prefix>.presence.*` keys, runs the scripts for them, publishes their transitions on its own
/// `<prefix>.presence`, and has its own heartbeats (every node beats on every shard) and its own
/// dead-node removal. `metrics()` sums the shards; `connected` means every shard is up.
///
/// Two `redis::Connection`s per shard: one subscribed, one for `PUBLISH`. While a shard is away,
/// publishing to its users fails at once and is counted (`BackplaneMetrics::publish_failures`):
/// nothing is queued, so memory stays bounded (at most `max_in_flight` publishes await Redis at
/// any time), and local delivery goes on; the other shards go on as well. What other nodes publish meanwhile is lost
/// (pub/sub keeps nothing). When a shard's subscriber link comes back, it subscribes again to
/// every channel it should hold there; once Redis has confirmed each of those subscriptions, it
/// hands that shard's users to `BackplaneSink::resubscribed`, 512 per executor turn, so that the
/// manager catches up their streams from the history (which lost nothing: only stream events,
/// with `RedisHistory` publishing its appends, are caught up; other messages stay lost).
/// A connection registered on one node hears what other nodes send to its user only once the
/// node has subscribed (a round trip to Redis after the user's first local connection opens).
///
/// Cluster-wide presence (`decides_presence()` is true). Redis (the user's shard) holds which node
/// holds each user (`<prefix>.presence.*` keys) and Lua scripts decide each transition atomically:
/// a user's first node publishes `UserOnline` once, their last `UserOffline` once, on
/// `<prefix>.presence`, which every node (this one too) hands to its manager to deliver locally by
/// its presence mode. A node's transitions go to each shard in its order, in batches, one batch per
/// shard awaiting Redis at a time; one user's events keep one order, users of different shards
/// are decided independently (no order between them).
/// - Heartbeat: every `heartbeat_interval` a node stamps itself with Redis' clock on each shard and
///   removes every node silent there for `dead_after`, through the same scripts (one script at a
///   time in Redis, so exactly one survivor removes a dead node from each shard): its users go
///   offline once, within `dead_after + heartbeat_interval`, unless another node holds them.
/// - `leave_cluster()` removes this node's users at once (a graceful shutdown); destroying the
///   backplane without it leaves them to the heartbeat of the others.
/// - Each new connection to a shard loads the scripts again (and `EVAL`s on `NOSCRIPT`) and syncs:
///   that shard is told exactly which of its users this node holds. After a restart without persistence
///   (or when this node was taken for dead) that announces `UserOnline` again, once, for users
///   who stayed connected, never a false `UserOffline`; users who left meanwhile go offline.
///   While a shard's command link is down, its users' presence is not decided (no events) until it
///   is back; the other shards' goes on.
/// - Queries (`is_online_in_cluster`, `online_in_cluster`) read this node's copy of who is online
///   anywhere: no I/O. It is one set per shard, read from that shard (`SMEMBERS`) each time both
///   its links come up and kept by the changes on its `<prefix>.presence`, so it lags Redis by a
///   message's latency, and keeps its last state while the shard is away.
///
/// Threads. Everything the backplane does with Redis runs on `executor`, which must run one
/// handler at a time (an io_context run by one thread, or a strand); other nodes' messages are
/// delivered to the manager from there. The `Backplane` members may be called from any thread and
/// never block: they post to the executor. Destroy the backplane on the executor's thread, or
/// while its io_context is not running, after the manager it serves (which holds it) is gone.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <switchboard/backplane.hpp>
#include <switchboard/redis/connection.hpp>
#include <switchboard/redis/shards.hpp>

namespace switchboard::redis {

struct RedisBackplaneOptions {
    /// Where Redis is (the first shard), and the timeouts and backoff of every connection. Its
    /// callbacks and `liveness_interval` are the backplane's own: any set here are replaced.
    ConnectionOptions redis;
    /// Further Redis instances, shards 1, 2, ... after `redis` (see "Shards" above). Empty: one
    /// instance, the common case. Every node of a cluster lists the same ones in the same order.
    std::vector<Endpoint> more_shards;
    /// Starts every channel name; nodes share delivery exactly when they share Redis and prefix.
    std::string prefix = "switchboard";
    /// This node's name in messages and its channel: 1 to 64 of `A-Z a-z 0-9 . _ -`. Empty: 16
    /// random hex digits.
    std::string node_id;
    /// How often each connection's liveness is checked (see `redis::ConnectionOptions`).
    std::chrono::milliseconds liveness_interval{1000};
    /// How often this node tells Redis it lives, and after how long without it a node is dead.
    std::chrono::milliseconds heartbeat_interval{2000};
    std::chrono::milliseconds dead_after{10000};
    /// Publishes awaiting Redis' reply, past which publishing fails at once (counted).
    std::size_t max_in_flight = 10000;
    /// One line per link that comes up or goes down; called on the executor.
    std::function<void(std::string_view line)> log;
};

class RedisBackplane final : public Backplane {
public:
    /// Starts connecting at once. Throws `std::invalid_argument` for a bad `prefix` or `node_id`,
    /// or a shard listed twice.
    RedisBackplane(asio::any_io_executor executor, RedisBackplaneOptions options);
    ~RedisBackplane() override;
    RedisBackplane(const RedisBackplane&) = delete;
    RedisBackplane& operator=(const RedisBackplane&) = delete;

    const std::string& node_id() const noexcept;

    void attach(BackplaneSink* sink) override;
    void publish_to_users(const std::vector<UserId>& users, const Frame& frame) override;
    void publish_to_all(const Frame& frame) override;
    void user_joined(const UserId& user) override;
    void user_left(const UserId& user) override;
    bool decides_presence() const noexcept override;

    /// Removes this node's users from the cluster's presence now, then calls `done` on the
    /// executor (at once if Redis is not reachable); stops the heartbeat, and tells Redis nothing
    /// more of this node. For a graceful shutdown, whether or not connections remain open.
    void leave_cluster(std::function<void()> done);
    /// By this node's copy (see the file comment): O(shards), no I/O.
    bool is_online_in_cluster(const UserId& user) const override;
    /// By this node's copy, unordered: O(online users) to copy, no I/O.
    std::vector<UserId> online_in_cluster() const override;
    BackplaneMetrics metrics() const override;

private:
    class Impl;
    std::shared_ptr<Impl> impl_;
};

} // namespace switchboard::redis
