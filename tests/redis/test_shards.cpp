// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// Sharding over two redis-servers: each user's channel and history keys on the instance the ring
// picks, delivery across nodes with users on both, and one shard restarted. Presence over two
// shards: test_shard_presence.cpp.
#include <catch2/catch.hpp>

#include <optional>
#include <thread>

#include <switchboard/redis/history.hpp>
#include <switchboard/redis/shards.hpp>

#include "two_shards.hpp"

using namespace redis_test;
using switchboard::Event;
using switchboard::UserId;

TEST_CASE_METHOD(TwoShards, "two shards: users' channels on the ring's shard, and delivery across nodes exactly once",
                 "[redis][backplane][shards]") {
    Node a(node("node-a"));
    Node b(node("node-b"));
    std::vector<UserId> users = users_on(0, 4);
    for (const UserId& user : users_on(1, 4)) users.push_back(user);
    std::vector<std::pair<Node::Device, Node::Device>> devices; // on a, on b
    for (const UserId& user : users) devices.emplace_back(a.connect(user), b.connect(user));
    for (const UserId& user : users) {
        INFO(user.to_string() << " on shard " << ring.shard_of(user));
        REQUIRE(eventually([&] { return listened_on_its_shard(user, 2); }));
    }
    CHECK(user_channels_on(0) == 4);
    CHECK(user_channels_on(1) == 4);
    CHECK(listeners(redis_first, prefix + ".broadcast") == 2);
    CHECK(listeners(redis_second, prefix + ".broadcast") == 0);
    REQUIRE(eventually([&] { return a.metrics().connected && b.metrics().connected; }));
    CHECK(a.metrics().subscriptions == node_channels + 2 + users.size()); // the node's and presence on each shard

    a.manager->send_to_users(users, Event("ToAll8"));
    for (const UserId& user : users) b.manager->send_to_user(user, Event("ToOne"));
    b.manager->broadcast(Event("Everyone"));

    const auto every_device = [&](const std::function<bool(Node&, const Node::Device&)>& check) {
        for (const auto& [on_a, on_b] : devices)
            if (!check(a, on_a) || !check(b, on_b)) return false;
        return true;
    };
    const auto got_all = [](Node& node, const Node::Device& device) {
        return node.count(device, "ToAll8") >= 1 && node.count(device, "ToOne") >= 1 &&
               node.count(device, "Everyone") >= 1;
    };
    REQUIRE(eventually([&] { return every_device(got_all); }));
    quiesce();
    CHECK(every_device([](Node& node, const Node::Device& device) {
        return node.count(device, "ToAll8") == 1 && node.count(device, "ToOne") == 1 &&
               node.count(device, "Everyone") == 1;
    }));
    CHECK(a.metrics().published == users.size());
    CHECK(b.metrics().published == users.size() + 1);
}

TEST_CASE_METHOD(TwoShards, "one shard restarted: its users resume once resubscribed, the other shard's never stop",
                 "[redis][backplane][shards]") {
    Node a(node("node-a"));
    Node b(node("node-b"));
    const UserId steady = users_on(0, 1).front();
    const UserId moved = users_on(1, 1).front();
    const Node::Device steady_on_a = a.connect(steady);
    const Node::Device moved_on_a = a.connect(moved);
    b.connect(steady);
    b.connect(moved);
    REQUIRE(eventually([&] { return listened_on_its_shard(steady, 2) && listened_on_its_shard(moved, 2); }));

    second->kill();
    REQUIRE(eventually([&] { return !a.metrics().connected && !b.metrics().connected; }));
    const std::uint64_t failures_before = b.metrics().publish_failures;
    b.manager->send_to_user(steady, Event("WhileDown"));
    b.manager->send_to_user(moved, Event("Lost"));
    REQUIRE(eventually([&] { return a.count(steady_on_a, "WhileDown") == 1; }));
    CHECK(eventually([&] { return b.metrics().publish_failures == failures_before + 1; }));

    second = std::make_unique<RedisServer>(second_port);
    REQUIRE(eventually([&] {
        return listeners(redis_second, user_channel(prefix, moved)) == 2 && a.metrics().connected &&
               b.metrics().connected;
    }));
    CHECK(a.metrics().resubscribes == 1); // the second shard's subscriber only
    b.manager->send_to_user(moved, Event("After"));
    REQUIRE(eventually([&] { return a.count(moved_on_a, "After") == 1; }));
    CHECK(a.count(moved_on_a, "Lost") == 0); // pub/sub keeps nothing
    b.manager->send_to_user(steady, Event("Still"));
    REQUIRE(eventually([&] { return a.count(steady_on_a, "Still") == 1; }));
}

TEST_CASE_METHOD(TwoShards, "two shards: RedisHistory keeps each user's stream and meta on the ring's shard",
                 "[redis][history][shards]") {
    switchboard::redis::RedisHistoryOptions options;
    options.port = first.port();
    options.more_shards = {{"127.0.0.1", second_port}};
    options.prefix = prefix;
    switchboard::redis::RedisHistory history(options);
    std::vector<UserId> users = users_on(0, 3);
    for (const UserId& user : users_on(1, 3)) users.push_back(user);
    std::vector<std::optional<switchboard::StreamPosition>> tops;
    for (const UserId& user : users) {
        const auto top = history.append(user, switchboard::StoredEvent(Event("Note")));
        tops.push_back(top.position);
        CHECK(top.position.offset == 1);
        const std::size_t shard = ring.shard_of(user);
        const std::string stream = prefix + ":history:{" + user.to_string() + "}";
        INFO(user.to_string() << " on shard " << shard);
        CHECK(redis_of(shard).call({"EXISTS", stream, stream + ":meta"}).reply.integer == 2);
        CHECK(redis_of(1 - shard).call({"EXISTS", stream, stream + ":meta"}).reply.integer == 0);
        const auto events = history.read(user, {top.position.epoch, 0}, 1);
        REQUIRE(events);
        CHECK(events->size() == 1);
    }
    // Their tops in one call, a round trip per shard, in the order asked; none for a user without a stream.
    users.insert(users.begin() + 4, UserId::random());
    tops.insert(tops.begin() + 4, std::nullopt);
    CHECK(history.tops(users) == tops);
    CHECK(history.failures() == 0);
}

TEST_CASE("a Redis instance listed twice is refused", "[redis][shards]") {
    RedisServer server;
    IoThread io;
    auto options = backplane_options(server, unique_prefix() + "sb", "node-a");
    options.more_shards = {{"127.0.0.1", static_cast<std::uint16_t>(server.port() + 1)}, {"127.0.0.1", server.port()}};
    CHECK_THROWS_AS(switchboard::redis::RedisBackplane(io.context().get_executor(), options), std::invalid_argument);
    switchboard::redis::RedisHistoryOptions history;
    history.port = server.port();
    history.more_shards = {{"127.0.0.1", server.port()}};
    CHECK_THROWS_AS(switchboard::redis::RedisHistory(history), std::invalid_argument);
}
