// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `redis::RedisHistory`: the `History` store on Redis Streams, shared by every node on the same
/// Redis and prefix, so that a device that leaves node A resumes on node B.
///
/// Keys, per user (one hash tag, so both land on one Redis Cluster slot):
/// - `<prefix>:history:{<user>}`: a stream whose entry ids are the offsets (`<offset>-0`), one
///   field `e` holding the event's frame text. Trimmed to exactly `max_events_per_user` (`MAXLEN`,
///   not `~`); it expires `max_age` after the user's last append (whole-stream expiry: Redis has no
///   per-entry expiry, so an idle user's events go together).
/// - `<prefix>:history:{<user>}:meta`: a hash with the stream's `epoch` and `top` offset, which
///   expires `meta_ttl` after the last append or open (longer than `max_age`), so that a position
///   whose events merely expired is told apart from one whose numbering is gone.
///
/// Offsets are decided in Redis, by Lua scripts (one at a time in Redis): append increments `top`
/// and adds the entry in one script, so every node agrees on them. When the meta key is missing
/// (a new user, a `FLUSHALL`, a restart without persistence, an eviction) a script makes a new
/// random epoch and deletes any stream left without it, so an old position is never served
/// (`Recovery::unavailable`, never a false `complete`). A read returns events only if the stream
/// is in the asked epoch and holds every offset asked for.
///
/// Cross-node live delivery. With `backplane_prefix` set, the append script also publishes the
/// event with its epoch and offset on the user's `RedisBackplane` channel, in the same script
/// (`publishes_appends()`): every node that holds the user hears each offset, in Redis' order,
/// once the stream holds it, and the manager publishes nothing more of it. Each node's manager
/// orders and de-duplicates what it hears and what its own appends return, and fills a gap (a
/// message lost while the subscriber's link was down, or one that arrives after a later local
/// append) by a `read`, so every device of a user, on any node, gets the stream in offset order
/// without gap or duplicate. When the subscriber is back, the manager reads the tops of the
/// users it holds (`tops`) and catches them up by a `read` each, with no later event needed.
/// Without `backplane_prefix`, the manager publishes each event through its backplane apart from
/// the append, without its offset.
///
/// Failures (Redis away, timed out, an error or malformed reply), each counted in `failures()`:
/// - a failed `append` returns `stored` false: the manager delivers the event live, without an
///   offset, to the user's connections here and keeps them open. The user is remembered (see
///   `max_unkept_users`) until a call for them succeeds: that call first renews their stream (a
///   new epoch at top 0, its events deleted; a script, so even an append that ran after all,
///   e.g. after a `CLIENT PAUSE`, is dropped) and reports `created`, so the manager resets the
///   user's connections here once (1012) and every resume from before is `unavailable`: their
///   offline devices missed an event the store never kept, and are never told `complete`.
/// - a failed `open` returns a fresh random epoch at top 0, not `created`: the new connection's
///   resume is `unavailable` and its `Session` names an epoch no one holds, so it never resumes
///   `complete` later either; the user's other connections stay.
/// - a failed `read` returns `std::nullopt` (`unavailable`).
/// The remembering is per node: a user whose append failed on node A and whose next call after
/// Redis is back goes to node B keeps the old epoch until A renews it (then B's connections of
/// the user are reset by its manager's sequencer, which hears the new epoch): at A's next call
/// for them, or (asynchronous form) as soon as A's connection to the user's shard is back, when
/// A renews every user it remembers there at once, before any later call of theirs; the next
/// answer for such a user then reports `created`, so that A's manager resets them too. What B
/// serves between Redis coming back and A's reconnection can still be a false `complete`.
///
/// Asynchronously (built with an executor) the same hold, and: the renewal is pipelined just
/// before the user's next call on the same connection, and that call fails if the renewal does;
/// a call answered after an earlier call of its user failed (sent before that failure was known)
/// fails too, so no append is reported `stored` in the numbering that misses the lost event.
///
/// Threads. Every member may be called from any thread, in either mode.
/// - Synchronous (`RedisHistory(options)`, `answers_asynchronously()` false): the manager calls
///   `append` and `open` under a per-user lock (and `open` on the transport thread that opens a
///   connection), so each call blocks its caller for one round trip to Redis on one of
///   `connections` blocking hiredis links of the user's shard (chosen by user; each under its
///   own mutex), and never longer than `connect_timeout + command_timeout` (socket timeouts).
///   After a failure, a link refuses at once (no I/O) for `retry_interval`, so while Redis is
///   away at most one caller per link and interval waits for a timeout; the others fail fast.
///   Keep the timeouts short: a slow Redis delays every user of the same manager stripe by as much.
/// - Asynchronous (`RedisHistory(executor, options)`, `answers_asynchronously()` true): the
///   manager calls `append_async` and `open_async`, which never block: they queue the call (one
///   mutex, no I/O) and return; one post to `executor` sends everything queued, in call order
///   (so a user's calls take their offsets in call order, and a burst is pipelined), over ONE
///   `redis::Connection` per shard (connected at once and again after a loss, with backoff up
///   to `retry_interval`). Each `done` runs once on the executor's thread, never inside its
///   call: after Redis' answer, or `command_timeout` without one, or at once while the shard's
///   connection is down (calls wait only for a shard's first attempt to connect, at most
///   `connect_timeout`, so that a node starting up does not fail them). `append` and `open`
///   stay available, blocking, on the links (not ordered with the asynchronous calls).
/// - `read` and `tops` are synchronous in both modes, on the blocking links, as above.
/// - Destruction: with an executor, destroy the history on the executor's thread or while its
///   io_context is not running (as a `redis::Connection`), never from inside a `done`; the
///   `done`s still pending are dropped, never called.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <switchboard/history.hpp>
#include <switchboard/redis/shards.hpp>

namespace switchboard::redis {

namespace detail {
class AsyncTopScripts;
class UnkeptUsers;
} // namespace detail

struct RedisHistoryOptions {
    std::string host = "127.0.0.1"; ///< the first shard
    std::uint16_t port = 6379;
    /// Further Redis instances, shards 1, 2, ...: a user's two keys are on the instance
    /// `ShardRing` (shards.hpp) picks for the user, as the backplane's channel. Empty: one
    /// instance, the common case.
    std::vector<Endpoint> more_shards;
    /// Starts every key; nodes share streams exactly when they share Redis and prefix. Not empty.
    std::string prefix = "switchboard";
    std::size_t max_events_per_user = 1000;                 ///< exact `MAXLEN`; 0: no limit
    std::chrono::milliseconds max_age = std::chrono::hours(24); ///< stream expiry after the last append; 0: none
    /// Expiry of the epoch and top after the last append or open; 0: none. At least `max_age`.
    std::chrono::milliseconds meta_ttl = std::chrono::hours(24 * 7);
    std::chrono::milliseconds connect_timeout{500};
    std::chrono::milliseconds command_timeout{500};
    std::chrono::milliseconds retry_interval{1000}; ///< a failed link refuses at once this long
    std::size_t connections = 4; ///< blocking links per shard; 1 to 64 (the asynchronous calls use one connection)
    /// The `RedisBackplane`'s `prefix`, on whose user channels each append is published with its
    /// offset; empty: appends are not published (the manager publishes them through its backplane).
    std::string backplane_prefix;
    /// This node's `RedisBackplane::node_id()`, so that its backplane ignores what it published.
    /// Needed with `backplane_prefix`.
    std::string node_id;
    /// Users whose append failed, remembered (about 100 bytes each) until their stream is renewed.
    /// Past it, the node forgets them and renews every stream it touches once instead, at one
    /// more round trip per `append` and `open` from then on (see `unkept_overflowed`).
    std::size_t max_unkept_users = 100'000;
    /// Asynchronous form: calls sent to a shard and not answered yet, at most. The others wait,
    /// in call order, unsent: a burst beyond what Redis answers in `command_timeout` waits
    /// rather than timing out (which would fail every call in flight, and renew their streams).
    std::size_t max_in_flight = 1'000;
    /// Asynchronous form: calls waiting unsent per shard, at most (memory bound while Redis is
    /// slow); one more fails at once, as if Redis were away.
    std::size_t max_waiting = 20'000;
    /// Asynchronous form: calls of a shard submitted and not answered yet (opens too) from which
    /// on `admits` says no to its users, and the manager refuses durable sends to them whole
    /// (`HistoryOverloaded`) until Redis catches up: overload costs refused sends, not failed
    /// appends and renewed streams. Keep it well below `max_waiting` (racing senders may pass it
    /// together); 0: off.
    std::size_t max_unanswered = 5'000;
};

class RedisHistory final : public History {
public:
    /// Connects lazily (on the first call). Throws `std::invalid_argument` for an empty prefix, a
    /// `meta_ttl` shorter than `max_age`, a connection count out of range, a `backplane_prefix`
    /// without `node_id`, or a shard listed twice.
    explicit RedisHistory(RedisHistoryOptions options);
    /// Asynchronous (`answers_asynchronously()`): `append_async` and `open_async` go over one
    /// `redis::Connection` per shard on `executor` (one thread, or a strand), which connects at
    /// once and again after a loss (backoff up to `retry_interval`). Throws as the other.
    RedisHistory(asio::any_io_executor executor, RedisHistoryOptions options);
    /// Built with an executor: destroy it on the executor's thread, or while its io_context is not
    /// running, and never from inside a `done`; the `done`s still pending are dropped, not called.
    ~RedisHistory() override;
    RedisHistory(const RedisHistory&) = delete;
    RedisHistory& operator=(const RedisHistory&) = delete;

    StreamTop append(const UserId& user, const StoredEvent& event) override;
    StreamTop open(const UserId& user) override;
    /// Whether it was built with an executor.
    bool answers_asynchronously() const noexcept override { return async_ != nullptr; }
    void append_async(const UserId& user, const StoredEvent& event, StreamTopHandler done) override;
    void open_async(const UserId& user, StreamTopHandler done) override;
    bool admits(const std::vector<UserId>& users) const noexcept override;
    std::optional<std::vector<StoredEvent>> read(const UserId& user, const StreamPosition& after,
                                                std::uint64_t upto) override;
    /// One round trip per shard (an `HMGET` of each user's meta, pipelined on the shard's first
    /// link); none for a user whose meta is gone, and none for any user of a shard that failed.
    std::vector<std::optional<StreamPosition>> tops(const std::vector<UserId>& users) override;
    /// This node's counters (`appended`); the sizes (streams, events, bytes, memory) are Redis'
    /// and not counted here: 0.
    HistoryMetrics metrics() const override;
    /// With `backplane_prefix`.
    bool publishes_appends() const noexcept override { return !options_.backplane_prefix.empty(); }

    /// Calls that failed (Redis away, timed out, an error reply, a malformed reply); also in
    /// `metrics().failures`.
    std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }
    /// Users remembered for a failed append whose stream is not renewed yet.
    std::size_t unkept_users() const;
    /// Whether more than `max_unkept_users` were ever remembered at once (then every stream this
    /// node touches is renewed once).
    bool unkept_overflowed() const;

    const RedisHistoryOptions& options() const noexcept { return options_; }

private:
    class Links;
    std::vector<std::string> script_arguments(const UserId& user, const StoredEvent* event) const;
    std::optional<StreamTop> run_top_script(std::size_t script, const UserId& user,
                                            const std::vector<std::string>& args);
    StreamTop finish_append(const UserId& user, const std::optional<StreamTop>& top);
    StreamTop finish_open(const std::optional<StreamTop>& top);
    StreamTop failed(bool stored);
    void renew_remembered(std::size_t shard);
    StreamTop with_unseen_renewal(const UserId& user, bool answered, StreamTop answer);

    const RedisHistoryOptions options_;
    const std::string user_channel_prefix_; ///< of `backplane_prefix`: a user's channel is this and their id
    const std::string envelope_head_;       ///< what each published append starts with
    std::unique_ptr<Links> links_;
    std::unique_ptr<detail::UnkeptUsers> unkept_;
    std::atomic<std::uint64_t> appended_{0};
    std::atomic<std::uint64_t> failures_{0};
    std::mutex renewed_unseen_mutex_;
    /// Renewed at a reconnection, by no call of the manager's: the next answer reports `created`.
    std::unordered_set<UserId> renewed_unseen_;
    /// With an executor. Last: destroyed first, dropping the pending `done`s, which use the above.
    std::shared_ptr<detail::AsyncTopScripts> async_;
};

} // namespace switchboard::redis
