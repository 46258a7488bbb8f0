// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// RedisHistory's asynchronous open and append (`RedisHistory(executor, options)`): the top
// scripts over one redis::Connection per shard, on the executor.
//
// Order. Connection::command runs inline on the executor's thread and posts from any other, so
// callers on two threads could overtake each other. `submit` queues calls in call order (one
// mutex, no I/O) and the first call into an empty queue posts one flush, which issues everything
// queued, in order: Redis runs one connection's commands in order, so a user's calls take their
// offsets in call order, and a burst goes out pipelined.
//
// Renewal (unkept_users.hpp). The renew script of a user whose append failed is pipelined just
// before their next call, on the same connection; that call fails if the renewal fails. Calls
// submitted while that renewal is in flight carry none (they follow it on the connection), and
// a call that succeeds after an earlier call of its user failed (sent before the failure was
// known, so with no renewal for it) fails too: it would report an offset in the numbering that
// misses the lost event.
//
// Start. Until a shard's first attempt to connect has ended (at most `connect_timeout`), its
// calls wait, so that a node starting up does not fail (and then renew) its first streams.
//
// Window. At most `max_in_flight` calls per shard are sent and unanswered; the others wait, in
// call order, up to `max_waiting` (one more fails at once). A burst that Redis takes longer than
// `command_timeout` to get through then waits here instead of timing out in flight. Before that,
// `admits` says no once a shard has `max_unanswered` calls submitted and not finished, so that
// the manager refuses new sends whole rather than have their appends fail (and streams renewed).
//
// Scripts. EVALSHA once the shard's digest is known, EVAL with the body until then; SCRIPT LOAD
// on every connection made (a restarted Redis has none). A NOSCRIPT reply fails that call and
// loads the scripts again.
//
// Threads: `submit` may be called from any thread; it never blocks and never calls `done` itself.
// `done` runs on the executor (one thread, or a strand). Own it by a shared_ptr (the posted flush
// holds it weakly) and destroy it as a Connection: on the executor's thread, or while its
// io_context is not running, never from inside a `done`. The `done`s still pending are dropped.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <switchboard/redis/connection.hpp>
#include <switchboard/redis/history.hpp>

#include "history_calls.hpp"
#include "unkept_users.hpp"

namespace switchboard::redis::detail {

class AsyncTopScripts : public std::enable_shared_from_this<AsyncTopScripts> {
public:
    /// The script's top, or none on any failure (Redis away, timed out, an error or malformed
    /// reply, a failed renewal).
    using Done = std::function<void(std::optional<StreamTop>)>;

    /// Connects to every shard at once. `unkept` must outlive this. `connected(shard)` runs on
    /// the executor each time a shard's connection is made, once its scripts are being loaded.
    AsyncTopScripts(asio::any_io_executor executor, const RedisHistoryOptions& options, UnkeptUsers& unkept,
                    std::function<void(std::size_t shard)> connected);

    /// Runs the open or append `script` for `user` with `args` (after the keys).
    void submit(const UserId& user, HistoryScript script, std::vector<std::string> args, Done done);

    /// False while the shard of one of `users` has `max_unanswered` calls (or more) submitted
    /// and not finished. Any thread.
    bool admits(const std::vector<UserId>& users) const noexcept;

private:
    struct Call {
        UserId user;
        std::size_t shard; ///< of `user`
        HistoryScript script;
        std::vector<std::string> args;
        Done done;
        std::uint64_t since = 0;                       ///< `UnkeptUsers::tickets()` at the call
        std::optional<UnkeptUsers::Renewal> renewal;   ///< sent just before the call
        std::optional<bool> renewed;                   ///< the renewal's outcome: none until it answered
    };
    struct Shard {
        Shard(asio::any_io_executor executor, ConnectionOptions options)
            : connection(std::move(executor), std::move(options)) {}
        // On the executor:
        std::array<std::string, history_script_count> digests; ///< empty: not loaded
        bool first_attempt_ended = false; ///< until then, calls wait rather than fail
        std::size_t in_flight = 0;        ///< calls sent, not answered
        std::deque<std::shared_ptr<Call>> waiting; ///< unsent, in call order
        Connection connection;
        std::atomic<std::size_t> unanswered{0}; ///< any thread: submitted, not finished
    };

    void flush();
    void issue(const std::shared_ptr<Call>& call);
    void send_waiting(Shard& shard);
    void send(Shard& shard, const std::shared_ptr<Call>& call);
    void finish(Call& call, std::optional<StreamTop> top);
    std::vector<std::string> evaluation(const Shard& shard, HistoryScript script,
                                        const std::array<std::string, 2>& keys, std::vector<std::string> args) const;
    bool answered(Shard& shard, HistoryScript script, std::error_code error, const Reply& reply);
    void load_scripts(Shard& shard);
    void first_attempt_ended(Shard& shard);

    const asio::any_io_executor executor_;
    const std::string prefix_;
    const std::chrono::milliseconds meta_ttl_;
    const std::size_t max_in_flight_, max_waiting_, max_unanswered_;
    UnkeptUsers& unkept_;
    const ShardRing ring_;
    std::mutex mutex_;
    std::vector<Call> queue_;                            ///< under `mutex_`, in call order
    std::unordered_map<UserId, std::uint64_t> renewing_; ///< under `mutex_`: renewals in flight, by ticket
    /// Last: destroyed first, the Connections drop the handlers that point into this.
    std::vector<std::unique_ptr<Shard>> shards_;
};

} // namespace switchboard::redis::detail
