// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// RedisBackplane when Redis goes away: restarted, its subscriber killed, paused.
#include <catch2/catch.hpp>

#include <thread>

#include "backplane_node.hpp"

using namespace redis_test;
using switchboard::Event;
using Clock = std::chrono::steady_clock;

TEST_CASE("Redis restarted: local delivery goes on, publishes fail fast and are counted, then delivery resumes",
          "[redis][backplane]") {
    auto server = std::make_unique<RedisServer>();
    const std::uint16_t port = server->port();
    const std::string prefix = unique_prefix() + "sb";
    Node a(backplane_options(*server, prefix, "node-a"));
    Node b(backplane_options(*server, prefix, "node-b"));
    const Node::Device phone = a.connect(alice);
    const Node::Device laptop = b.connect(alice);
    {
        IoThread io;
        TestClient redis(io, options_for(*server));
        REQUIRE(eventually([&] { return listeners(redis, user_channel(prefix, alice)) == 2; }));
    }
    a.manager->send_to_user(alice, Event("Before"));
    REQUIRE(eventually([&] { return b.count(laptop, "Before") == 1; }));

    server->kill();
    REQUIRE(eventually([&] { return a.metrics().subscriptions == 0 && b.metrics().subscriptions == 0; }));
    const auto start = Clock::now();
    for (int i = 0; i < 100; ++i) a.manager->send_to_user(alice, Event("WhileDown"));
    CHECK(Clock::now() - start < std::chrono::milliseconds(100)); // nothing waits for Redis
    CHECK(a.count(phone, "WhileDown") == 100);                     // local delivery goes on
    CHECK(eventually([&] { return a.metrics().publish_failures == 100; }));
    CHECK(!a.metrics().connected);

    server = std::make_unique<RedisServer>(port);
    IoThread io;
    TestClient redis(io, options_for(*server));
    REQUIRE(eventually([&] { return listeners(redis, user_channel(prefix, alice)) == 2; }));
    CHECK(listeners(redis, prefix + ".broadcast") == 2);
    REQUIRE(eventually([&] { return a.metrics().connected && b.metrics().connected; }));
    CHECK(a.metrics().resubscribes == 1);
    CHECK(b.metrics().resubscribes == 1);
    b.manager->send_to_user(alice, Event("After"));
    REQUIRE(eventually([&] { return a.count(phone, "After") == 1; }));
    CHECK(b.count(laptop, "WhileDown") == 0); // pub/sub keeps nothing
    CHECK(b.count(laptop, "After") == 1);
}

TEST_CASE("the subscriber's connection killed (CLIENT KILL): resubscribed within a few seconds", "[redis][backplane]") {
    RedisServer server;
    const std::string prefix = unique_prefix() + "sb";
    Node a(backplane_options(server, prefix, "node-a"));
    Node b(backplane_options(server, prefix, "node-b"));
    const Node::Device laptop = b.connect(alice);
    IoThread io;
    TestClient redis(io, options_for(server));
    REQUIRE(eventually([&] { return listeners(redis, user_channel(prefix, alice)) == 1; }));
    REQUIRE(eventually([&] { return listeners(redis, prefix + ".broadcast") == 2; }));

    const Outcome killed = redis.call({"CLIENT", "KILL", "TYPE", "pubsub"});
    REQUIRE(killed.reply.integer == 2); // both nodes' subscribers
    REQUIRE(eventually([&] { return b.metrics().resubscribes == 1; }, std::chrono::seconds(3)));
    REQUIRE(eventually([&] { return listeners(redis, user_channel(prefix, alice)) == 1; }));
    CHECK(listeners(redis, prefix + ".node.node-b") == 1);
    a.manager->send_to_user(alice, Event("AfterKill"));
    REQUIRE(eventually([&] { return b.count(laptop, "AfterKill") == 1; }));
}

TEST_CASE("Redis paused: at most max_in_flight publishes wait for it, the rest fail at once", "[redis][backplane]") {
    RedisServer server;
    const std::string prefix = unique_prefix() + "sb";
    auto options = backplane_options(server, prefix, "node-a");
    options.max_in_flight = 5;
    Node a(std::move(options));
    IoThread io;
    TestClient redis(io, options_for(server));
    REQUIRE(eventually([&] { return a.metrics().connected && redis.connected == 1; }));

    REQUIRE(redis.call({"CLIENT", "PAUSE", "700", "ALL"}).reply.text == "OK");
    const auto start = Clock::now();
    for (int i = 0; i < 20; ++i) a.manager->broadcast(Event("Paused"));
    CHECK(Clock::now() - start < std::chrono::milliseconds(100));
    CHECK(a.metrics().publish_failures == 15);
    REQUIRE(eventually([&] { return a.metrics().published == 5; }));
    CHECK(a.metrics().publish_failures == 15);
}
