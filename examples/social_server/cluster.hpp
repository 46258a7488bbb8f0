// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The example server as one node of a cluster (`--redis`): a `redis::RedisBackplane`, and the
/// `redis::RedisHistory` if the streams are on Redis too, answering on an I/O thread of their
/// own, so that Redis' traffic never waits behind the WebSocket I/O threads (nor they behind it).
///
/// Threads: made and destroyed by the server's owner thread. Destroy it after the manager that
/// holds its backplane and history: it stops its thread first, then lets them go.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <switchboard/redis/backplane.hpp>
#include <switchboard/redis/history.hpp>
#include <switchboard/redis/shards.hpp>

namespace social {

struct RedisSettings {
    /// One or more Redis instances: the first holds broadcasts and presence, each holds the users
    /// the ring puts on it (`redis::ShardRing`).
    std::vector<switchboard::redis::Endpoint> shards;
    std::string prefix = "switchboard";
    /// Of every Redis connection, the backplane's and the history's.
    std::chrono::milliseconds command_timeout{500};
    /// `RedisHistoryOptions::max_unanswered` of the history on Redis.
    std::size_t max_unanswered = 5'000;
};

/// `HOST:PORT[,HOST:PORT...]`, one entry per Redis instance; none if an entry is not of that form.
std::optional<std::vector<switchboard::redis::Endpoint>> parse_redis_list(std::string_view list);
/// `HOST:PORT,HOST:PORT...`, as the flag takes it.
std::string redis_list(const std::vector<switchboard::redis::Endpoint>& shards);

class ClusterNode {
public:
    ClusterNode(const RedisSettings& settings, std::function<void(std::string_view)> log);
    ~ClusterNode();
    ClusterNode(const ClusterNode&) = delete;
    ClusterNode& operator=(const ClusterNode&) = delete;

    const std::shared_ptr<switchboard::redis::RedisBackplane>& backplane() const { return backplane_; }
    /// The history on Redis, answering asynchronously on this node's I/O thread; made once.
    std::shared_ptr<switchboard::redis::RedisHistory> history(switchboard::redis::RedisHistoryOptions options);

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::shared_ptr<switchboard::redis::RedisBackplane> backplane_;
    std::shared_ptr<switchboard::redis::RedisHistory> history_;
    std::thread thread_;
};

} // namespace social
