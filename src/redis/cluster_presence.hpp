// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What a RedisBackplane tells one Redis instance of this node's users there (one of these per
// shard, sharded_presence.hpp), so that Redis decides presence for the cluster
// (presence_scripts.hpp): this node's transitions, in order, in batches with one batch
// awaiting Redis at a time; a full sync when a connection to Redis comes up, after a batch whose
// outcome is unknown, and when Redis did not know this node (restarted, or took it for dead); a
// heartbeat that also removes dead nodes; leaving the cluster on a graceful shutdown.
//
// Threads: everything runs on the backplane's executor.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include <switchboard/redis/connection.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard::redis::detail {

class ClusterPresence : public std::enable_shared_from_this<ClusterPresence> {
public:
    struct Options {
        std::string prefix;
        std::string node_id;
        std::chrono::milliseconds heartbeat_interval;
        std::chrono::milliseconds dead_after;
    };
    using LocalUsers = std::function<std::vector<UserId>()>;

    /// `commands` must outlive every call into this object; `local_users` says whom of this
    /// instance's users this node holds now.
    ClusterPresence(asio::any_io_executor executor, Connection& commands, Options options, LocalUsers local_users);

    /// Both links are up (again): loads the scripts and syncs.
    void connected();
    void disconnected();
    void changed(const UserId& user, bool online);
    /// Removes this node's users from Redis, then calls `done` (at once if Redis is not reachable).
    void leave(std::function<void()> done);
    /// Stops the heartbeat (destruction without leaving: other nodes will take this one for dead).
    void stop();

    /// The key of the set of users online anywhere.
    std::string online_key() const { return options_.prefix + ".presence.online"; }

private:
    enum class Script { apply, sync, beat, leave };

    void flush();
    void send_changes();
    void send_sync();
    void send_leave();
    void left();
    void beat();
    void schedule_beat();
    void run(Script script, std::vector<std::string> args, std::function<void(bool ok, const Reply&)> done);
    void send(Script script, std::vector<std::string> command, bool retry_on_noscript,
              std::function<void(bool ok, const Reply&)> done);
    /// A script's outcome is unknown: sync at the next heartbeat.
    void failed();

    const asio::any_io_executor executor_;
    Connection& commands_;
    const Options options_;
    const LocalUsers local_users_;
    asio::steady_timer heartbeat_;
    std::vector<std::string> loaded_; ///< each script's SHA1, by `Script`; empty until loaded

    bool up_ = false;
    bool stopped_ = false;
    bool in_flight_ = false; ///< a script awaits Redis (one at a time keeps this node's order)
    bool need_sync_ = false;
    std::vector<std::string> queued_; ///< `+user` / `-user`, in order, not sent yet
    std::unordered_set<std::string> told_; ///< the users Redis was last told this node holds
    std::function<void()> leaving_;
};

} // namespace switchboard::redis::detail
