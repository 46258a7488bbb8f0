// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// Presence over two redis-servers: each user's presence keys and transitions on the instance the
// ring picks, exactly once in every mode, dead nodes removed on each, and the second instance
// restarted or paused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <string_view>
#include <thread>

#include "two_shards.hpp"

using namespace redis_test;
using switchboard::Event;
using switchboard::PresenceMode;
using switchboard::UserId;

TEST_CASE_METHOD(TwoShards, "two shards: each user's presence decided on its shard, one online and one offline in "
                            "every presence mode",
                 "[redis][presence][shards]") {
    const PresenceMode mode = GENERATE(PresenceMode::broadcast, PresenceMode::coalesced, PresenceMode::scoped);
    CAPTURE(static_cast<int>(mode));
    Node a(presence_node("node-a"), presence_options(mode));
    Node b(presence_node("node-b"), presence_options(mode));
    REQUIRE(eventually([&] { return presence_heard_on_both(2); }));
    const Node::Device watcher = b.connect(redis_test::carol);
    const std::vector<UserId> users = users_on_both();
    std::vector<Node::Device> on_a, on_b;
    for (const UserId& user : users) on_a.push_back(a.connect(user));
    REQUIRE(eventually([&] { return heard_all(b, watcher, users, "+"); }));
    for (const UserId& user : users) on_b.push_back(b.connect(user));
    for (const UserId& user : users) {
        const std::size_t shard = ring.shard_of(user);
        INFO(user.to_string() << " on shard " << shard);
        REQUIRE(eventually([&] { return held_on_its_shard(user, {"node-a", "node-b"}); }));
        const auto online_on = [&](std::size_t on) {
            return redis_of(on).call({"SISMEMBER", prefix + ".presence.online", user.to_string()}).reply.integer;
        };
        CHECK(online_on(shard) == 1);
        CHECK(online_on(1 - shard) == 0);
        const std::string nodes_users = prefix + ".presence.node.node-a";
        CHECK(redis_of(shard).call({"SISMEMBER", nodes_users, user.to_string()}).reply.integer == 1);
        CHECK(redis_of(1 - shard).call({"SISMEMBER", nodes_users, user.to_string()}).reply.integer == 0);
        CHECK(a.manager->is_user_online_in_cluster(user));
    }
    for (const Node::Device& device : on_a) a.disconnect(device);
    REQUIRE(eventually([&] {
        return std::all_of(users.begin(), users.end(),
                           [&](const UserId& user) { return held_on_its_shard(user, {"node-b"}); });
    }));
    quiesce();
    CHECK(heard_all(b, watcher, users, "+"));
    for (const Node::Device& device : on_b) b.disconnect(device);
    REQUIRE(eventually([&] { return heard_all(b, watcher, users, "+-"); }));
    quiesce();
    CHECK(heard_all(b, watcher, users, "+-"));
    CHECK(a.manager->online_users_in_cluster() == std::vector<UserId>{redis_test::carol});
    CHECK(redis_first.call({"ZCARD", prefix + ".presence.nodes"}).reply.integer == 2); // both beat on each shard
    CHECK(redis_second.call({"ZCARD", prefix + ".presence.nodes"}).reply.integer == 2);
}

TEST_CASE_METHOD(TwoShards, "two shards: a dead node is removed on each shard, its users there offline once",
                 "[redis][presence][shards]") {
    const auto dead_after = std::chrono::milliseconds(600);
    auto a = std::make_unique<Node>(presence_node("node-a", dead_after), presence_options(PresenceMode::broadcast));
    Node b(presence_node("node-b", dead_after), presence_options(PresenceMode::broadcast));
    REQUIRE(eventually([&] { return presence_heard_on_both(2); }));
    const Node::Device watcher = b.connect(redis_test::carol);
    const std::vector<UserId> only_on_a = users_on_both(), also_on_b = users_on_both();
    for (const UserId& user : only_on_a) a->connect(user);
    for (const UserId& user : also_on_b) a->connect(user), b.connect(user);
    REQUIRE(eventually([&] {
        return heard_all(b, watcher, only_on_a, "+") && heard_all(b, watcher, also_on_b, "+") &&
               std::all_of(also_on_b.begin(), also_on_b.end(),
                           [&](const UserId& user) { return held_on_its_shard(user, {"node-a", "node-b"}); });
    }));

    a->manager.reset(); // no disconnects, no leave: node A just stops
    a->io.run([&] { a->backplane.reset(); });
    REQUIRE(eventually([&] { return heard_all(b, watcher, only_on_a, "+-"); }));
    quiesce();
    CHECK(heard_all(b, watcher, only_on_a, "+-"));
    CHECK(heard_all(b, watcher, also_on_b, "+"));
    for (const UserId& user : also_on_b) CHECK(held_on_its_shard(user, {"node-b"}));
    for (TestClient* redis : {&redis_first, &redis_second}) {
        CHECK(redis->call({"ZSCORE", prefix + ".presence.nodes", "node-a"}).reply.is_nil());
        CHECK(redis->call({"EXISTS", prefix + ".presence.node.node-a"}).reply.integer == 0);
    }
}

TEST_CASE_METHOD(TwoShards, "two shards: the second restarted without its data: its users said again, the first "
                            "shard's presence goes on meanwhile",
                 "[redis][presence][shards]") {
    Node a(presence_node("node-a"), presence_options(PresenceMode::broadcast));
    Node b(presence_node("node-b"), presence_options(PresenceMode::broadcast));
    REQUIRE(eventually([&] { return presence_heard_on_both(2); }));
    const Node::Device watcher = b.connect(redis_test::carol);
    const UserId stays_first = users_on(0, 1).front(), leaves_first = users_on(0, 1).front();
    const UserId stays_second = users_on(1, 1).front(), leaves_second = users_on(1, 1).front();
    const std::vector<UserId> users{stays_first, leaves_first, stays_second, leaves_second};
    std::vector<Node::Device> on_a;
    for (const UserId& user : users) on_a.push_back(a.connect(user));
    REQUIRE(eventually([&] { return heard_all(b, watcher, users, "+"); }));
    const long long first_loads = script_loads(0);

    second->kill();
    REQUIRE(eventually([&] { return !a.metrics().connected && !b.metrics().connected; }));
    a.disconnect(on_a[1]); // the first shard decides at once
    REQUIRE(eventually([&] { return presence_heard(b, watcher, leaves_first) == "+-"; }));
    a.disconnect(on_a[3]); // waits for the second's sync
    second = std::make_unique<RedisServer>(second_port);

    REQUIRE(eventually([&] { return held_on_its_shard(stays_second, {"node-a"}); }));
    REQUIRE(eventually([&] { return a.metrics().connected && b.metrics().connected; }));
    CHECK(held_on_its_shard(stays_first, {"node-a"}));
    CHECK(holders(redis_second, prefix, leaves_second).empty());
    CHECK(eventually([&] { return held_on_its_shard(redis_test::carol, {"node-b"}); }));
    quiesce();
    CHECK(script_loads(0) == first_loads); // no node synced again with the first shard
    CHECK(script_loads(1) == 2 * 4);        // each node, once, on the second
    CHECK(presence_heard(b, watcher, stays_first) == "+");
    CHECK(presence_heard(b, watcher, leaves_first) == "+-");
    const std::string stays_heard = presence_heard(b, watcher, stays_second);
    CHECK((stays_heard == "+" || stays_heard == "++")); // said again at most once, never offline
    const std::string leaves_heard = presence_heard(b, watcher, leaves_second);
    CHECK((leaves_heard == "+" || leaves_heard == "+-")); // offline by A's sync, if B listened by then
    CHECK(eventually([&] { // B's copy of the second shard, read again from it
        auto seen = b.manager->online_users_in_cluster();
        std::sort(seen.begin(), seen.end());
        std::vector<UserId> truth{redis_test::carol, stays_first, stays_second};
        std::sort(truth.begin(), truth.end());
        return seen == truth;
    }));
}

TEST_CASE_METHOD(TwoShards, "two shards: the second paused (CLIENT PAUSE): its commands time out, nothing waits, "
                            "and presence on both ends as the truth",
                 "[redis][presence][shards]") {
    std::atomic<int> second_timed_out{0};
    auto options = [&](std::string id) {
        auto node_options = impatient_node(std::move(id));
        node_options.log = [&](std::string_view line) {
            const bool lost = line.find("shard 1 ") != std::string_view::npos &&
                              line.find("command link lost") != std::string_view::npos;
            if (lost) ++second_timed_out;
        };
        return node_options;
    };
    Node a(options("node-a"), presence_options(PresenceMode::broadcast));
    Node b(options("node-b"), presence_options(PresenceMode::broadcast));
    REQUIRE(eventually([&] { return presence_heard_on_both(2); }));
    const Node::Device watcher = b.connect(redis_test::carol);
    REQUIRE(eventually([&] { return b.manager->is_user_online_in_cluster(redis_test::carol); }));

    REQUIRE(redis_second.call({"CLIENT", "PAUSE", "1500", "ALL"}).reply.text == "OK");
    const std::vector<UserId> users = users_on_both();
    const auto start = std::chrono::steady_clock::now();
    for (const UserId& user : users) a.connect(user);
    a.manager->send_to_users(users, Event("WhilePaused"));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100)); // nothing waits for Redis
    const std::vector<UserId> on_first{users[0], users[1]};
    REQUIRE(eventually([&] { return heard_all(b, watcher, on_first, "+"); }, std::chrono::milliseconds(1000)));
    CHECK(presence_heard(b, watcher, users[2]).empty()); // still paused
    REQUIRE(eventually([&] { return second_timed_out >= 1; }, std::chrono::milliseconds(1000)));

    REQUIRE(eventually([&] { return heard_all(b, watcher, users, "+"); }));
    REQUIRE(eventually([&] { return a.metrics().connected && b.metrics().connected; }));
    quiesce();
    CHECK(heard_all(b, watcher, users, "+"));
    for (const UserId& user : users) CHECK(held_on_its_shard(user, {"node-a"}));
}

TEST_CASE_METHOD(TwoShards, "two shards: leaving the cluster while the second is paused ends within the command "
                            "timeout, the first shard's users offline at once",
                 "[redis][presence][shards]") {
    std::promise<void> left; // before the nodes, which may call it until they are gone
    Node a(impatient_node("node-a"), presence_options(PresenceMode::broadcast));
    Node b(impatient_node("node-b"), presence_options(PresenceMode::broadcast));
    REQUIRE(eventually([&] { return presence_heard_on_both(2); }));
    const Node::Device watcher = b.connect(redis_test::carol);
    const std::vector<UserId> users = users_on_both();
    for (const UserId& user : users) a.connect(user);
    REQUIRE(eventually([&] { return heard_all(b, watcher, users, "+"); }));

    REQUIRE(redis_second.call({"CLIENT", "PAUSE", "3000", "ALL"}).reply.text == "OK");
    a.connect(users_on(1, 1).front()); // a script awaits the second shard when the leave comes
    a.backplane->leave_cluster([&] { left.set_value(); });
    CHECK(left.get_future().wait_for(std::chrono::milliseconds(1500)) == std::future_status::ready);
    CHECK(eventually([&] { return heard_all(b, watcher, {users[0], users[1]}, "+-"); }, std::chrono::seconds(1)));
}
