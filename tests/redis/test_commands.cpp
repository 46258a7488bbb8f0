// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// Commands and replies through redis::Connection against a real redis-server.
#include <catch2/catch.hpp>

#include "test_client.hpp"

using namespace redis_test;
using switchboard::redis::Errc;
using Type = switchboard::redis::Reply::Type;

TEST_CASE("every reply type is copied out of hiredis", "[redis]") {
    RedisServer server;
    IoThread io;
    TestClient client(io, options_for(server));
    REQUIRE(eventually([&] { return client.connected == 1; }));
    const std::string key = unique_prefix() + "k";

    const Outcome set = client.call({"SET", key, "v"});
    CHECK(!set.error);
    CHECK(set.reply.type == Type::status);
    CHECK(set.reply.text == "OK");
    CHECK(client.call({"GET", key}).reply.text == "v");
    CHECK(client.call({"GET", key + "missing"}).reply.type == Type::nil);
    const Outcome incr = client.call({"INCRBY", key + "n", "41"});
    CHECK(incr.reply.type == Type::integer);
    CHECK(incr.reply.integer == 41);
    client.call({"RPUSH", key + "l", "a", "b"});
    const Outcome list = client.call({"LRANGE", key + "l", "0", "-1"});
    REQUIRE(list.reply.type == Type::array);
    REQUIRE(list.reply.elements.size() == 2);
    CHECK(list.reply.elements[1].text == "b");
    const Outcome bad = client.call({"NO-SUCH-COMMAND"});
    CHECK(!bad.error);
    CHECK(bad.reply.is_error());
    CHECK(bad.reply.text.rfind("ERR", 0) == 0);
}

TEST_CASE("arguments and values are binary-safe", "[redis]") {
    RedisServer server;
    IoThread io;
    TestClient client(io, options_for(server));
    REQUIRE(eventually([&] { return client.connected == 1; }));
    const std::string key = unique_prefix() + std::string("bin\0key\r\n", 9);
    const std::string value("\0\r\n$3\r\n*\xff\x00", 11);
    REQUIRE(client.call({"SET", key, value}).reply.text == "OK");
    const Outcome got = client.call({"GET", key});
    CHECK(got.reply.type == Type::string);
    CHECK(got.reply.text == value);
}

TEST_CASE("many commands pipelined are answered in order", "[redis]") {
    RedisServer server;
    IoThread io;
    TestClient client(io, options_for(server));
    REQUIRE(eventually([&] { return client.connected == 1; }));
    const std::string key = unique_prefix() + "counter";
    constexpr int count = 10000;
    std::vector<std::int64_t> seen;
    std::promise<void> all;
    io.run([&] {
        for (int i = 0; i < count; ++i) {
            client.connection().command({"INCR", key}, [&](std::error_code error, switchboard::redis::Reply reply) {
                seen.push_back(error ? -1 : reply.integer);
                if (seen.size() == count) all.set_value();
            });
        }
    });
    REQUIRE(all.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    for (int i = 0; i < count; ++i) REQUIRE(seen[i] == i + 1);
}

TEST_CASE("a command while not connected fails at once with not_connected", "[redis]") {
    RedisServer server;
    const std::uint16_t port = server.port();
    server.kill();
    IoThread io;
    switchboard::redis::ConnectionOptions options;
    options.port = port;
    TestClient client(io, options);
    const auto started = std::chrono::steady_clock::now();
    CHECK(client.call({"PING"}).error == Errc::not_connected);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(500));
}

TEST_CASE("a command without a reply in time fails with timed_out, and the connection is made again", "[redis]") {
    RedisServer server;
    IoThread io;
    auto options = options_for(server);
    options.command_timeout = std::chrono::milliseconds(200);
    TestClient client(io, options);
    TestClient pauser(io, options_for(server));
    REQUIRE(eventually([&] { return client.connected == 1 && pauser.connected == 1; }));

    REQUIRE(pauser.call({"CLIENT", "PAUSE", "1000", "ALL"}).reply.text == "OK");
    const auto started = std::chrono::steady_clock::now();
    const Outcome paused = client.call({"GET", unique_prefix() + "k"});
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(paused.error == Errc::timed_out);
    CHECK(waited >= std::chrono::milliseconds(200));
    CHECK(waited < std::chrono::milliseconds(900));
    REQUIRE(client.disconnect_reasons() == std::vector<std::error_code>{Errc::timed_out});

    REQUIRE(eventually([&] { return client.connected >= 2; }));
    REQUIRE(eventually([&] { return !client.call({"PING"}).error; }));
    CHECK(client.call({"PING"}).reply.text == "PONG");
}
