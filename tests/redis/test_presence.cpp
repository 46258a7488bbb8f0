// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// Cluster-wide presence decided in Redis: a user is online once however many nodes hold them,
// for every presence mode; dead nodes are removed once by a survivor; a graceful leave is at once;
// concurrent connects and disconnects over three nodes end in the truth.
#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <random>
#include <thread>

#include "presence_heard.hpp"

using namespace redis_test;
using switchboard::Event;
using switchboard::PresenceMode;
using switchboard::UserId;

namespace {

/// Lets stray duplicates arrive, if any would (longer than a coalescing interval).
void quiesce() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

/// Three nodes on one Redis, carol watching from node C.
struct Cluster {
    explicit Cluster(PresenceMode mode = PresenceMode::broadcast, std::chrono::milliseconds dead_after = std::chrono::seconds(30))
        : a(fast_heartbeat(backplane_options(server, prefix, "node-a"), dead_after), presence_options(mode)),
          b(fast_heartbeat(backplane_options(server, prefix, "node-b"), dead_after), presence_options(mode)),
          c(fast_heartbeat(backplane_options(server, prefix, "node-c"), dead_after), presence_options(mode)) {}

    /// Carol's device on C, once every node listens to presence.
    Node::Device watcher() {
        REQUIRE(eventually([&] { return listeners(redis, prefix + ".presence") == 3; }));
        return c.connect(carol);
    }

    RedisServer server;
    std::string prefix = unique_prefix() + "sb";
    Node a, b, c;
    IoThread io;
    TestClient redis{io, options_for(server)};
};

} // namespace

TEST_CASE("a watcher on node C hears one online and one offline of a user on nodes A and B, in every presence mode",
          "[redis][presence]") {
    const PresenceMode mode = GENERATE(PresenceMode::broadcast, PresenceMode::coalesced, PresenceMode::scoped);
    CAPTURE(static_cast<int>(mode));
    Cluster cluster(mode);
    const Node::Device watcher = cluster.watcher();
    const auto heard = [&] { return presence_heard(cluster.c, watcher, alice); };

    const Node::Device on_a = cluster.a.connect(alice);
    REQUIRE(eventually([&] { return heard() == "+"; }));
    CHECK(eventually([&] { return cluster.c.manager->is_user_online_in_cluster(alice); }));
    CHECK(!cluster.c.manager->is_user_online(alice));
    const Node::Device on_b = cluster.b.connect(alice);
    REQUIRE(eventually([&] { return holders(cluster.redis, cluster.prefix, alice).size() == 2; }));
    cluster.a.disconnect(on_a);
    REQUIRE(eventually([&] { return holders(cluster.redis, cluster.prefix, alice).size() == 1; }));
    quiesce();
    CHECK(heard() == "+");
    cluster.b.disconnect(on_b);
    REQUIRE(eventually([&] { return heard() == "+-"; }));
    quiesce();
    CHECK(heard() == "+-");
    CHECK(holders(cluster.redis, cluster.prefix, alice).empty());
    CHECK(cluster.b.manager->online_users_in_cluster() == std::vector<UserId>{carol});
}

TEST_CASE("a node that dies: its users go offline once within the dead-node bound, users also elsewhere stay",
          "[redis][presence]") {
    const auto dead_after = std::chrono::milliseconds(600);
    auto cluster = std::make_unique<Cluster>(PresenceMode::broadcast, dead_after);
    const Node::Device watcher = cluster->watcher();
    cluster->a.connect(alice);
    cluster->a.connect(bob);
    cluster->b.connect(alice);
    REQUIRE(eventually([&] {
        return presence_heard(cluster->c, watcher, alice) == "+" && presence_heard(cluster->c, watcher, bob) == "+" &&
               holders(cluster->redis, cluster->prefix, alice).size() == 2;
    }));

    cluster->a.manager.reset(); // no disconnects, no leave: node A just stops
    cluster->a.io.run([&] { cluster->a.backplane.reset(); });
    const auto killed = std::chrono::steady_clock::now();
    REQUIRE(eventually([&] { return presence_heard(cluster->c, watcher, bob) == "+-"; }, std::chrono::seconds(5)));
    const auto took = std::chrono::steady_clock::now() - killed;
    CHECK(took < dead_after + std::chrono::milliseconds(100) + std::chrono::milliseconds(500)); // bound + beat + slack
    quiesce();
    CHECK(presence_heard(cluster->c, watcher, bob) == "+-");
    CHECK(presence_heard(cluster->c, watcher, alice) == "+");
    CHECK(holders(cluster->redis, cluster->prefix, alice) == std::vector<std::string>{"node-b"});
    CHECK(cluster->redis.call({"ZSCORE", cluster->prefix + ".presence.nodes", "node-a"}).reply.is_nil());
}

TEST_CASE("a node that leaves the cluster gracefully takes its users offline at once", "[redis][presence]") {
    Cluster cluster(PresenceMode::broadcast, std::chrono::seconds(30)); // far longer than the test
    const Node::Device watcher = cluster.watcher();
    cluster.a.connect(alice);
    cluster.a.connect(bob);
    cluster.b.connect(alice);
    REQUIRE(eventually([&] {
        return presence_heard(cluster.c, watcher, bob) == "+" && holders(cluster.redis, cluster.prefix, alice).size() == 2;
    }));

    std::promise<void> left;
    cluster.a.backplane->leave_cluster([&] { left.set_value(); });
    REQUIRE(left.get_future().wait_for(std::chrono::seconds(2)) == std::future_status::ready);
    REQUIRE(eventually([&] { return presence_heard(cluster.c, watcher, bob) == "+-"; }, std::chrono::seconds(1)));
    quiesce();
    CHECK(presence_heard(cluster.c, watcher, alice) == "+");
    CHECK(holders(cluster.redis, cluster.prefix, alice) == std::vector<std::string>{"node-b"});
}

TEST_CASE("concurrent connects and disconnects over three nodes end in the truth, in Redis and as heard",
          "[redis][presence]") {
    Cluster cluster;
    const Node::Device on_c = cluster.watcher();
    const Node::Device on_a = cluster.a.connect(carol), on_b = cluster.b.connect(carol); // carol watches everywhere
    const std::vector<UserId> users{alice, bob, UserId::parse("44444444-4444-4444-8444-444444444444"),
                                    UserId::parse("55555555-5555-4555-8555-555555555555")};
    Node* const nodes[] = {&cluster.a, &cluster.b, &cluster.c};
    using Held = std::map<UserId, std::vector<Node::Device>>;
    Held held[3];

    std::vector<std::thread> threads;
    for (int n = 0; n < 3; ++n) {
        threads.emplace_back([&, n] {
            std::mt19937 random(static_cast<unsigned>(n) * 7919u + 1);
            for (int step = 0; step < 300; ++step) {
                const UserId& user = users[random() % users.size()];
                auto& devices = held[n][user];
                if (devices.empty() || random() % 2 == 0) devices.push_back(nodes[n]->connect(user));
                else {
                    nodes[n]->disconnect(devices.back());
                    devices.pop_back();
                }
            }
        });
    }
    for (std::thread& thread : threads) thread.join();

    for (const UserId& user : users) {
        CAPTURE(user.to_string());
        std::vector<std::string> truth;
        for (int n = 0; n < 3; ++n)
            if (!held[n][user].empty()) truth.push_back(std::string("node-") + char('a' + n));
        REQUIRE(eventually([&] { return holders(cluster.redis, cluster.prefix, user) == truth; }));
        quiesce();
        const std::string heard = presence_heard(cluster.c, on_c, user);
        CHECK(presence_heard(cluster.a, on_a, user) == heard); // one order everywhere
        CHECK(presence_heard(cluster.b, on_b, user) == heard);
        for (std::size_t i = 0; i < heard.size(); ++i) CHECK(heard[i] == (i % 2 == 0 ? '+' : '-')); // alternating
        CHECK(heard.size() % 2 == (truth.empty() ? 0u : 1u)); // ends as the truth
        const bool listed = cluster.redis.call({"SISMEMBER", cluster.prefix + ".presence.online", user.to_string()})
                                .reply.integer == 1;
        CHECK(listed == !truth.empty());
    }
}

TEST_CASE("Redis restarted without its data: nodes say again whom they hold; who stayed is never offline, who "
          "left meanwhile is not",
          "[redis][presence]") {
    auto server = std::make_unique<RedisServer>();
    const std::uint16_t port = server->port();
    const std::string prefix = unique_prefix() + "sb";
    Node a(fast_heartbeat(backplane_options(*server, prefix, "node-a"), std::chrono::seconds(30)),
           presence_options(PresenceMode::broadcast));
    Node c(fast_heartbeat(backplane_options(*server, prefix, "node-c"), std::chrono::seconds(30)),
           presence_options(PresenceMode::broadcast));
    auto io = std::make_unique<IoThread>();
    auto redis = std::make_unique<TestClient>(*io, options_for(*server));
    REQUIRE(eventually([&] { return listeners(*redis, prefix + ".presence") == 2; }));
    const Node::Device watcher = c.connect(carol), watcher_on_a = a.connect(carol);
    a.connect(alice);
    const Node::Device bob_on_a = a.connect(bob);
    REQUIRE(eventually([&] {
        return presence_heard(c, watcher, alice) == "+" && presence_heard(c, watcher, bob) == "+" &&
               presence_heard(a, watcher_on_a, bob) == "+";
    }));

    redis.reset();
    io.reset();
    server->kill();
    REQUIRE(eventually([&] { return !a.metrics().connected && !c.metrics().connected; }));
    a.disconnect(bob_on_a); // while Redis is away
    server = std::make_unique<RedisServer>(port);
    IoThread io_again;
    TestClient redis_again(io_again, options_for(*server));

    REQUIRE(eventually([&] { return holders(redis_again, prefix, alice) == std::vector<std::string>{"node-a"}; }));
    REQUIRE(eventually([&] { return a.metrics().connected && c.metrics().connected; }));
    quiesce();
    // Bob's offline comes from A's sync, once A's links are both up: A hears it; C only if its
    // subscriber was back by then (what is published meanwhile is lost to it).
    REQUIRE(eventually([&] { return presence_heard(a, watcher_on_a, bob) == "+-"; }));
    const std::string bob_heard = presence_heard(c, watcher, bob);
    CHECK((bob_heard == "+-" || bob_heard == "+"));
    const auto online = [&](const UserId& user) {
        return redis_again.call({"SISMEMBER", prefix + ".presence.online", user.to_string()}).reply.integer == 1;
    };
    CHECK(online(alice));
    CHECK(!online(bob));
    for (const std::string& alice_heard : {presence_heard(c, watcher, alice), presence_heard(a, watcher_on_a, alice)}) {
        CHECK(alice_heard.find('-') == std::string::npos); // never a false offline
        CHECK(alice_heard.size() <= 2);                   // at most one more online, from the sync
    }
    CHECK(holders(redis_again, prefix, bob).empty());
    // C syncs once its subscriber hears its own probe: the first may go out before its SUBSCRIBE
    // is done and be lost, and then the next liveness probe (a second later) is the one.
    CHECK(eventually([&] { return holders(redis_again, prefix, carol) == std::vector<std::string>{"node-a", "node-c"}; }));
    CHECK(eventually([&] { // its copy, read again from Redis after its sync
        auto seen = c.manager->online_users_in_cluster();
        std::sort(seen.begin(), seen.end());
        return seen == std::vector<UserId>{alice, carol};
    }));
}
