// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The sharding tests' fixture: two redis-servers (the second restartable on its port), a client
// of each, a prefix, and what the tests ask of each shard.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <switchboard/redis/shards.hpp>

#include "presence_heard.hpp"

namespace redis_test {

/// Two redis-servers (the second restartable on its port), a client of each, and a prefix.
struct TwoShards {
    TwoShards() { REQUIRE(eventually([&] { return redis_first.connected == 1 && redis_second.connected == 1; })); }

    RedisServer first;
    std::unique_ptr<RedisServer> second = std::make_unique<RedisServer>();
    const std::uint16_t second_port = second->port();
    std::string prefix = unique_prefix() + "sb";
    const switchboard::redis::ShardRing ring{2};
    IoThread io;
    TestClient redis_first{io, options_for(first)};
    TestClient redis_second{io, options_for(*second)};

    TestClient& redis_of(std::size_t shard) { return shard == 0 ? redis_first : redis_second; }

    switchboard::redis::RedisBackplaneOptions node(std::string id) const {
        auto options = backplane_options(first, prefix, std::move(id));
        options.more_shards = {{"127.0.0.1", second_port}};
        return options;
    }

    /// `count` random users the ring puts on `shard`.
    std::vector<switchboard::UserId> users_on(std::size_t shard, std::size_t count) const {
        std::vector<switchboard::UserId> users;
        while (users.size() < count) {
            const switchboard::UserId user = switchboard::UserId::random();
            if (ring.shard_of(user) == shard) users.push_back(user);
        }
        return users;
    }

    /// Redis' own count of `user`'s listeners on each shard is `on_its_shard` there and 0 on the other.
    bool listened_on_its_shard(const switchboard::UserId& user, long long on_its_shard) {
        const std::size_t shard = ring.shard_of(user);
        const std::string channel = user_channel(prefix, user);
        return listeners(redis_of(shard), channel) == on_its_shard && listeners(redis_of(1 - shard), channel) == 0;
    }

    /// A node whose presence is heard by carol, beating every 100 ms.
    switchboard::redis::RedisBackplaneOptions presence_node(
        std::string id, std::chrono::milliseconds dead_after = std::chrono::seconds(30)) const {
        return fast_heartbeat(node(std::move(id)), dead_after);
    }

    /// A presence node whose commands time out after 200 ms.
    switchboard::redis::RedisBackplaneOptions impatient_node(std::string id) const {
        auto options = presence_node(std::move(id));
        options.redis.command_timeout = std::chrono::milliseconds(200);
        return options;
    }

    /// Two on each shard.
    std::vector<switchboard::UserId> users_on_both() const {
        std::vector<switchboard::UserId> users = users_on(0, 2);
        for (const switchboard::UserId& user : users_on(1, 2)) users.push_back(user);
        return users;
    }

    /// Redis says on `user`'s shard that exactly `nodes` hold them, and nothing of them on the other.
    bool held_on_its_shard(const switchboard::UserId& user, const std::vector<std::string>& nodes) {
        const std::size_t shard = ring.shard_of(user);
        return holders(redis_of(shard), prefix, user) == nodes && holders(redis_of(1 - shard), prefix, user).empty();
    }

    /// Each node listens to presence on both shards.
    bool presence_heard_on_both(long long nodes) {
        const std::string channel = prefix + ".presence";
        return listeners(redis_first, channel) == nodes && listeners(redis_second, channel) == nodes;
    }

    /// How many `SCRIPT LOAD`s `shard` ran (every node loads its scripts on each new connection,
    /// before it syncs there).
    long long script_loads(std::size_t shard) {
        const std::string stats = redis_of(shard).call({"INFO", "commandstats"}).reply.text;
        const std::string field = "cmdstat_script|load:calls=";
        const std::size_t at = stats.find(field);
        return at == std::string::npos ? 0 : std::stoll(stats.substr(at + field.size()));
    }

    /// How many user channels Redis holds on `shard` (PUBSUB CHANNELS).
    std::size_t user_channels_on(std::size_t shard) {
        return redis_of(shard).call({"PUBSUB", "CHANNELS", prefix + ".user.*"}).reply.elements.size();
    }
};

/// Longer than a coalescing interval: lets stray duplicates arrive, if any would.
inline void quiesce() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

/// `device` heard exactly `heard` of each of `users`.
inline bool heard_all(const Node& node, const Node::Device& device, const std::vector<switchboard::UserId>& users,
               const std::string& heard) {
    return std::all_of(users.begin(), users.end(),
                       [&](const switchboard::UserId& user) { return presence_heard(node, device, user) == heard; });
}

} // namespace redis_test
