// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "cluster.hpp"

#include <charconv>
#include <chrono>
#include <future>

namespace social {

std::optional<std::vector<switchboard::redis::Endpoint>> parse_redis_list(std::string_view list) {
    std::vector<switchboard::redis::Endpoint> instances;
    while (true) {
        const std::size_t comma = list.find(',');
        const std::string_view entry = list.substr(0, comma);
        const std::size_t colon = entry.rfind(':');
        if (colon == std::string_view::npos || colon == 0) return std::nullopt;
        const std::string_view digits = entry.substr(colon + 1);
        unsigned port = 0;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (error != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
            return std::nullopt;
        instances.push_back({std::string(entry.substr(0, colon)), static_cast<std::uint16_t>(port)});
        if (comma == std::string_view::npos) return instances;
        list.remove_prefix(comma + 1);
    }
}

std::string redis_list(const std::vector<switchboard::redis::Endpoint>& shards) {
    std::string list;
    for (const auto& shard : shards) list += (list.empty() ? "" : ",") + shard.host + ":" + std::to_string(shard.port);
    return list;
}

namespace {

switchboard::redis::RedisBackplaneOptions backplane_options(const RedisSettings& settings,
                                                            std::function<void(std::string_view)> log) {
    switchboard::redis::RedisBackplaneOptions options;
    options.redis.host = settings.shards.front().host;
    options.redis.port = settings.shards.front().port;
    options.more_shards.assign(settings.shards.begin() + 1, settings.shards.end());
    options.prefix = settings.prefix;
    options.redis.command_timeout = settings.command_timeout;
    options.log = std::move(log);
    return options;
}

} // namespace

ClusterNode::ClusterNode(const RedisSettings& settings, std::function<void(std::string_view)> log)
    : work_(io_.get_executor()),
      backplane_(std::make_shared<switchboard::redis::RedisBackplane>(io_.get_executor(),
                                                                      backplane_options(settings, std::move(log)))),
      thread_([this] { io_.run(); }) {}

std::shared_ptr<switchboard::redis::RedisHistory>
ClusterNode::history(switchboard::redis::RedisHistoryOptions options) {
    history_ = std::make_shared<switchboard::redis::RedisHistory>(io_.get_executor(), std::move(options));
    return history_;
}

/// A graceful shutdown: this node's users go offline in the cluster at once (waiting at most a
/// few seconds for Redis), rather than when the others take it for dead. The backplane and the
/// history go once their io_context runs no more, as their headers ask.
ClusterNode::~ClusterNode() {
    const auto left = std::make_shared<std::promise<void>>(); // may outlive the wait
    backplane_->leave_cluster([left] { left->set_value(); });
    left->get_future().wait_for(std::chrono::seconds(3));
    work_.reset();
    io_.stop();
    thread_.join();
    history_.reset();
    backplane_.reset();
}

} // namespace social
