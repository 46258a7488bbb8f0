// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// Sharding over two redis-servers: each user's channel, history and presence keys on the instance
// the ring picks, delivery and presence across nodes with users on both, dead nodes removed on
// each, and one shard restarted or paused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <string_view>
#include <thread>

#include <switchboard/redis/history.hpp>
#include <switchboard/redis/shards.hpp>

#include "presence_heard.hpp"

using namespace redis_test;
using switchboard::Event;
using switchboard::PresenceMode;
using switchboard::UserId;
using switchboard::redis::ShardRing;

namespace {

/// Two redis-servers (the second restartable on its port), a client of each, and a prefix.
struct TwoShards {
    TwoShards() { REQUIRE(eventually([&] { return redis_first.connected == 1 && redis_second.connected == 1; })); }

    RedisServer first;
    std::unique_ptr<RedisServer> second = std::make_unique<RedisServer>();
    const std::uint16_t second_port = second->port();
    std::string prefix = unique_prefix() + "sb";
    const ShardRing ring{2};
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
    std::vector<UserId> users_on(std::size_t shard, std::size_t count) const {
        std::vector<UserId> users;
        while (users.size() < count) {
            const UserId user = UserId::random();
            if (ring.shard_of(user) == shard) users.push_back(user);
        }
        return users;
    }

    /// Redis' own count of `user`'s listeners on each shard is `on_its_shard` there and 0 on the other.
    bool listened_on_its_shard(const UserId& user, long long on_its_shard) {
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
    std::vector<UserId> users_on_both() const {
        std::vector<UserId> users = users_on(0, 2);
        for (const UserId& user : users_on(1, 2)) users.push_back(user);
        return users;
    }

    /// Redis says on `user`'s shard that exactly `nodes` hold them, and nothing of them on the other.
    bool held_on_its_shard(const UserId& user, const std::vector<std::string>& nodes) {
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
void quiesce() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

/// `device` heard exactly `heard` of each of `users`.
bool heard_all(const Node& node, const Node::Device& device, const std::vector<UserId>& users,
               const std::string& heard) {
    return std::all_of(users.begin(), users.end(),
                       [&](const UserId& user) { return presence_heard(node, device, user) == heard; });
}

} // namespace

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

TEST_CASE_METHOD(TwoShards, "two shards: RedisHistory keeps each user's stream and meta on the ring's shard",
                 "[redis][history][shards]") {
    switchboard::redis::RedisHistoryOptions options;
    options.port = first.port();
    options.more_shards = {{"127.0.0.1", second_port}};
    options.prefix = prefix;
    switchboard::redis::RedisHistory history(options);
    std::vector<UserId> users = users_on(0, 3);
    for (const UserId& user : users_on(1, 3)) users.push_back(user);
    for (const UserId& user : users) {
        const auto top = history.append(user, switchboard::StoredEvent(Event("Note")));
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
