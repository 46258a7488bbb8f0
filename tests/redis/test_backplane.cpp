// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// RedisBackplane: delivery across nodes (managers in this process, each with a backplane of its
// own) through a real redis-server, and which channels a node holds.
#include <catch2/catch.hpp>

#include <thread>

#include "backplane_node.hpp"

using namespace redis_test;
using switchboard::Event;

namespace {

/// Waits until Redis counts `expected` listeners of each user's channel.
void settle(TestClient& redis, const std::string& prefix,
            std::initializer_list<std::pair<const switchboard::UserId*, long long>> expected) {
    for (const auto& [user, count] : expected) {
        REQUIRE(eventually([&] { return listeners(redis, user_channel(prefix, *user)) == count; }));
    }
}

/// Lets stray duplicates arrive, if any would.
void quiesce() { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }

/// How many times Redis ran `command` (INFO commandstats); -1 if it cannot tell.
long long calls_of(TestClient& redis, const std::string& command) {
    const std::string text = redis.call({"INFO", "commandstats"}).reply.text;
    const std::string key = "cmdstat_" + command + ":calls=";
    const std::size_t at = text.find(key);
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + key.size()));
}

} // namespace

TEST_CASE("across three nodes, send_to_user, send_to_users and broadcast reach every connection exactly once",
          "[redis][backplane]") {
    RedisServer server;
    const std::string prefix = unique_prefix() + "sb";
    Node a(backplane_options(server, prefix, "node-a"));
    Node b(backplane_options(server, prefix, "node-b"));
    Node c(backplane_options(server, prefix, "node-c"));
    IoThread io;
    TestClient redis(io, options_for(server));
    const Node::Device alice_phone = a.connect(alice);
    const Node::Device alice_laptop = b.connect(alice);
    const Node::Device bob_on_b = b.connect(bob);
    const Node::Device bob_on_c = c.connect(bob);
    const Node::Device carol_on_c = c.connect(carol);
    settle(redis, prefix, {{&alice, 2}, {&bob, 2}, {&carol, 1}});

    a.manager->send_to_user(alice, Event("ToAlice"));
    c.manager->send_to_users({alice, bob, carol, bob}, Event("ToThree"));
    b.manager->broadcast(Event("ToAll"));

    const std::vector<std::pair<Node*, Node::Device>> everyone{
        {&a, alice_phone}, {&b, alice_laptop}, {&b, bob_on_b}, {&c, bob_on_c}, {&c, carol_on_c}};
    REQUIRE(eventually([&] {
        for (const auto& [node, handle] : everyone)
            if (node->count(handle, "ToAll") == 0 || node->count(handle, "ToThree") == 0) return false;
        return true;
    }));
    quiesce();
    for (const auto& [node, handle] : everyone) {
        CHECK(node->count(handle, "ToThree") == 1);
        CHECK(node->count(handle, "ToAll") == 1);
    }
    CHECK(a.count(alice_phone, "ToAlice") == 1);
    CHECK(b.count(alice_laptop, "ToAlice") == 1);
    CHECK(b.count(bob_on_b, "ToAlice") == 0);
    CHECK(c.count(bob_on_c, "ToAlice") == 0);
    // One PUBLISH per distinct user, each acknowledged; no node delivered its own messages again.
    CHECK(c.metrics().published == 3);
    CHECK(a.manager->metrics().backplane_received == 2); // ToThree for alice, ToAll
    CHECK(b.manager->metrics().backplane_received == 3); // ToAlice, ToThree for alice and for bob
    CHECK(c.manager->metrics().backplane_received == 1); // ToAll
}

TEST_CASE_METHOD(OneNode, "a node listens to a user's channel exactly while it holds a connection of the user",
          "[redis][backplane]") {
    const std::string alice_channel = user_channel(prefix, alice);
    REQUIRE(eventually([&] { return listeners(redis, prefix + ".broadcast") == 1; }));
    CHECK(listeners(redis, prefix + ".node.node-a") == 1);
    CHECK(listeners(redis, alice_channel) == 0);

    const Node::Device phone = a.connect(alice);
    const Node::Device laptop = a.connect(alice);
    REQUIRE(eventually([&] { return listeners(redis, alice_channel) == 1; }));
    a.disconnect(phone);
    quiesce();
    CHECK(listeners(redis, alice_channel) == 1); // the laptop still holds it
    CHECK(a.metrics().subscriptions == node_channels + 1);
    a.disconnect(laptop);
    REQUIRE(eventually([&] { return listeners(redis, alice_channel) == 0; }));
    CHECK(a.metrics().subscriptions == node_channels);

    // A user who comes and goes many times settles at the last state.
    for (int round = 0; round < 50; ++round) a.disconnect(a.connect(bob));
    a.connect(carol);
    REQUIRE(eventually([&] { return listeners(redis, user_channel(prefix, carol)) == 1; }));
    CHECK(listeners(redis, user_channel(prefix, bob)) == 0);
    CHECK(a.manager->connection_count(carol) == 1);
}

TEST_CASE_METHOD(OneNode, "messages not sent by a node, or not in its envelope, are ignored", "[redis][backplane]") {
    const Node::Device phone = a.connect(alice);
    settle(redis, prefix, {{&alice, 1}});
    const std::string alice_channel = user_channel(prefix, alice);
    for (const char* junk : {"", "no newline", "node-b\n", "node-b\nx{}", "\nd{\"type\":\"Junk\",\"data\":{}}"})
        redis.call({"PUBLISH", alice_channel, junk});
    redis.call({"PUBLISH", alice_channel, "node-b\nd{\"type\":\"Real\",\"data\":{}}"});
    REQUIRE(eventually([&] { return a.count(phone, "Real") == 1; }));
    CHECK(a.transport.events(phone.handle).size() == 1);
    CHECK(a.manager->metrics().backplane_received == 1);
}

TEST_CASE_METHOD(OneNode, "users who arrive (or leave) within one executor turn are subscribed (or not) by one command",
          "[redis][backplane]") {
    REQUIRE(eventually([&] { return listeners(redis, prefix + ".broadcast") == 1; }));
    CHECK(calls_of(redis, "subscribe") == 1); // the broadcast and node channels

    std::vector<Node::Device> devices;
    {
        const HeldExecutor held(a);
        for (int i = 0; i < 200; ++i) devices.push_back(a.connect(switchboard::UserId::random()));
    }
    REQUIRE(eventually([&] { return calls_of(redis, "subscribe") == 2; }));
    CHECK(a.metrics().subscriptions == node_channels + 200);
    {
        const HeldExecutor held(a);
        for (const Node::Device& device : devices) a.disconnect(device);
    }
    REQUIRE(eventually([&] { return calls_of(redis, "unsubscribe") == 1; }));
    CHECK(a.metrics().subscriptions == node_channels);
    quiesce();
    CHECK(calls_of(redis, "subscribe") == 2);
    CHECK(calls_of(redis, "unsubscribe") == 1);
    CHECK(listeners(redis, prefix + ".broadcast") == 1);
}
