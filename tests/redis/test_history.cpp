// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// RedisHistory against a real redis-server: offsets shared by two nodes, resume across nodes,
// MAXLEN, lost data (FLUSHALL, restart) and a paused Redis.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include <switchboard/redis/history.hpp>

#include "backplane_node.hpp"

using namespace redis_test;
using switchboard::Event;
using switchboard::Recovery;
using switchboard::StoredEvent;
using switchboard::StreamPosition;
using switchboard::redis::RedisHistory;
using switchboard::redis::RedisHistoryOptions;

namespace {

RedisHistoryOptions history_options(const RedisServer& server, const std::string& prefix) {
    RedisHistoryOptions options;
    options.port = server.port();
    options.prefix = prefix;
    options.retry_interval = std::chrono::milliseconds(200);
    return options;
}

StoredEvent note(int n) { return StoredEvent(Event("Note", nlohmann::json{{"n", n}})); }

std::vector<int> numbers_of(const std::vector<StoredEvent>& events) {
    std::vector<int> numbers;
    for (const StoredEvent& event : events) numbers.push_back(nlohmann::json::parse(event.text())["data"]["n"]);
    return numbers;
}

/// The numbers of the events `history` returns for `user` in (`after`, `upto`]; fails the test
/// when it returns none.
std::vector<int> numbers_read(RedisHistory& history, const switchboard::UserId& user, const StreamPosition& after,
                              std::uint64_t upto) {
    const auto events = history.read(user, after, upto);
    REQUIRE(events);
    return numbers_of(*events);
}

/// A redis-server and a client of the test's own to ask it, with a prefix of the test's own.
struct OneRedis {
    OneRedis() { REQUIRE(eventually([&] { return redis.connected == 1; })); }
    RedisServer server;
    std::string prefix = unique_prefix() + "sb";
    IoThread io;
    TestClient redis{io, options_for(server)};

    /// The key of `user`'s stream (its meta's is this plus ":meta").
    std::string stream_of(const switchboard::UserId& user) const {
        return prefix + ":history:{" + user.to_string() + "}";
    }
};

} // namespace

TEST_CASE("two nodes on one Redis continue each other's offsets in one epoch", "[redis][history]") {
    OneRedis fixture;
    RedisHistory a(history_options(fixture.server, fixture.prefix));
    RedisHistory b(history_options(fixture.server, fixture.prefix));

    const switchboard::StreamTop first = a.append(alice, note(1));
    CHECK(first.created);
    CHECK(first.position.offset == 1);
    const switchboard::StreamTop second = b.append(alice, note(2));
    const switchboard::StreamTop third = a.append(alice, note(3));
    CHECK_FALSE(second.created);
    CHECK(second.position == StreamPosition{first.position.epoch, 2});
    CHECK(third.position == StreamPosition{first.position.epoch, 3});
    CHECK(b.open(alice).position == third.position);
    CHECK(b.open(bob).position.offset == 0); // each user's own stream
    CHECK(a.failures() + b.failures() == 0);
    CHECK(a.metrics().appended == 2);
}

TEST_CASE("two nodes appending at once from several threads get every offset exactly once", "[redis][history]") {
    OneRedis fixture;
    RedisHistory a(history_options(fixture.server, fixture.prefix));
    RedisHistory b(history_options(fixture.server, fixture.prefix));
    constexpr int per_thread = 100;
    std::vector<std::vector<std::uint64_t>> offsets(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < offsets.size(); ++t)
        threads.emplace_back([&, t] {
            RedisHistory& node = t % 2 == 0 ? a : b;
            for (int n = 0; n < per_thread; ++n) offsets[t].push_back(node.append(alice, note(n)).position.offset);
        });
    for (std::thread& thread : threads) thread.join();

    std::vector<std::uint64_t> all;
    for (const auto& some : offsets) {
        CHECK(std::is_sorted(some.begin(), some.end())); // each caller sees its own appends in order
        all.insert(all.end(), some.begin(), some.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<std::uint64_t> expected(all.size());
    std::iota(expected.begin(), expected.end(), 1);
    CHECK(all == expected);
    CHECK(a.failures() + b.failures() == 0);
}

TEST_CASE("a read on node B of what node A appended returns exactly the events after the position",
          "[redis][history]") {
    OneRedis fixture;
    RedisHistory a(history_options(fixture.server, fixture.prefix));
    RedisHistory b(history_options(fixture.server, fixture.prefix));
    for (int n = 1; n <= 5; ++n) a.append(alice, note(n));
    const switchboard::Epoch epoch = a.open(alice).position.epoch;

    const auto missed = b.read(alice, {epoch, 2}, 5);
    REQUIRE(missed);
    CHECK(numbers_of(*missed) == std::vector<int>{3, 4, 5});
    CHECK(numbers_read(b, alice, {epoch, 3}, 4) == std::vector<int>{4});
    CHECK_FALSE(b.read(alice, {switchboard::Epoch::random(), 2}, 5)); // another epoch
    CHECK_FALSE(b.read(alice, {epoch, 2}, 7));                        // beyond the top
}

TEST_CASE("a device that leaves node A resumes on node B with recovery complete and exactly what it missed",
          "[redis][history]") {
    OneRedis fixture;
    const auto manager_on = [&](switchboard::MockTransport& transport) {
        switchboard::ManagerOptions options;
        options.history = std::make_shared<RedisHistory>(history_options(fixture.server, fixture.prefix));
        options.presence = Node::scoped_presence(); // no presence events among the frames counted
        return std::make_unique<Manager>(transport, switchboard::StaticTokenAuthenticator{}, options);
    };
    switchboard::MockTransport transport_a, transport_b;
    const auto node_a = manager_on(transport_a);
    const auto node_b = manager_on(transport_b);

    const Handle phone = transport_a.open();
    const switchboard::ConnectionId on_a = node_a->register_connection(alice, phone);
    node_a->send_to_user(alice, Event("Note", nlohmann::json{{"n", 1}}));
    const nlohmann::json session_a = nlohmann::json::parse(transport_a.frames(phone).at(0).text())["data"];
    const auto epoch = switchboard::Epoch::try_parse(session_a["epoch"].get<std::string>());
    REQUIRE(epoch);
    CHECK(nlohmann::json::parse(transport_a.frames(phone).back().text())["offset"] == 1);
    node_a->disconnect(on_a);
    node_a->send_to_user(alice, Event("Note", nlohmann::json{{"n", 2}}));
    node_b->send_to_user(alice, Event("Note", nlohmann::json{{"n", 3}}));

    switchboard::Identity identity{alice};
    identity.resume = StreamPosition{*epoch, 1};
    const Handle laptop = transport_b.open();
    node_b->register_connection(identity, laptop);
    const std::vector<switchboard::Frame> frames = transport_b.frames(laptop);
    REQUIRE(frames.size() == 3);
    const nlohmann::json session_b = nlohmann::json::parse(frames[0].text());
    CHECK(session_b["type"] == "Session");
    CHECK(session_b["data"]["recovery"] == "complete");
    CHECK(session_b["data"]["replayed"] == 2);
    for (std::size_t i = 1; i < 3; ++i) {
        const nlohmann::json event = nlohmann::json::parse(frames[i].text());
        CHECK(event["offset"] == i + 1);
        CHECK(event["data"]["n"] == i + 1);
    }
}

TEST_CASE("a position older than the exact MAXLEN is unavailable; the numbering goes on", "[redis][history]") {
    OneRedis fixture;
    RedisHistoryOptions options = history_options(fixture.server, fixture.prefix);
    options.max_events_per_user = 3;
    RedisHistory history(options);
    for (int n = 1; n <= 5; ++n) history.append(alice, note(n));
    const switchboard::StreamTop top = history.open(alice);
    CHECK(top.position.offset == 5);

    CHECK_FALSE(history.read(alice, {top.position.epoch, 1}, 5)); // event 2 is gone
    CHECK(numbers_read(history, alice, {top.position.epoch, 2}, 5) == std::vector<int>{3, 4, 5});
    const std::string stream = fixture.stream_of(alice);
    CHECK(fixture.redis.call({"XLEN", stream}).reply.integer == 3);
}

TEST_CASE("the stream expires, the meta outlives it: a position is unavailable, the epoch stays",
          "[redis][history]") {
    OneRedis fixture;
    RedisHistoryOptions options = history_options(fixture.server, fixture.prefix);
    options.max_age = std::chrono::milliseconds(100);
    options.meta_ttl = std::chrono::seconds(10);
    RedisHistory history(options);
    const switchboard::StreamTop first = history.append(alice, note(1));
    history.append(alice, note(2));
    const std::string stream = fixture.stream_of(alice);
    REQUIRE(eventually([&] { return fixture.redis.call({"EXISTS", stream}).reply.integer == 0; }));

    CHECK_FALSE(history.read(alice, first.position, 2));
    const switchboard::StreamTop top = history.open(alice);
    CHECK_FALSE(top.created);
    CHECK(top.position == StreamPosition{first.position.epoch, 2});
    CHECK(fixture.redis.call({"PTTL", stream + ":meta"}).reply.integer > 5000);
}

TEST_CASE("FLUSHALL: the stream gets a new epoch and an old position is unavailable", "[redis][history]") {
    OneRedis fixture;
    RedisHistory history(history_options(fixture.server, fixture.prefix));
    history.append(alice, note(1));
    const switchboard::StreamTop before = history.append(alice, note(2));
    REQUIRE(fixture.redis.call({"FLUSHALL"}).reply.text == "OK");

    const switchboard::StreamTop after = history.open(alice);
    CHECK(after.created);
    CHECK(after.position.epoch != before.position.epoch);
    CHECK(after.position.offset == 0);
    CHECK_FALSE(history.read(alice, {before.position.epoch, 1}, 2));
    CHECK(history.append(alice, note(3)).position == StreamPosition{after.position.epoch, 1});
}

TEST_CASE("tops: each user's position as the meta holds it, none once the meta is gone", "[redis][history]") {
    OneRedis fixture;
    RedisHistory history(history_options(fixture.server, fixture.prefix));
    history.append(alice, note(1));
    const switchboard::StreamTop alice_top = history.append(alice, note(2));
    const switchboard::StreamTop bob_top = history.open(bob);
    using Tops = std::vector<std::optional<StreamPosition>>;
    CHECK(history.tops({alice, bob}) == Tops{alice_top.position, bob_top.position});
    REQUIRE(fixture.redis.call({"FLUSHALL"}).reply.text == "OK");
    CHECK(history.tops({alice, bob}) == Tops{std::nullopt, std::nullopt});
    CHECK(history.failures() == 0);
}

TEST_CASE("the meta key lost, the stream left: a new epoch, and the old entries are not served in it",
          "[redis][history]") {
    OneRedis fixture;
    RedisHistory history(history_options(fixture.server, fixture.prefix));
    history.append(alice, note(1));
    const switchboard::StreamTop before = history.append(alice, note(2));
    const std::string stream = fixture.stream_of(alice);
    REQUIRE(fixture.redis.call({"DEL", stream + ":meta"}).reply.integer == 1);

    const switchboard::StreamTop after = history.append(alice, note(3));
    CHECK(after.created);
    CHECK(after.position.epoch != before.position.epoch);
    CHECK(after.position.offset == 1);
    CHECK(numbers_read(history, alice, {after.position.epoch, 0}, 1) == std::vector<int>{3});
    CHECK_FALSE(history.read(alice, {before.position.epoch, 0}, 2));
    CHECK(history.failures() == 0);
}

TEST_CASE("Redis restarted without persistence: the link comes back, the stream has a new epoch",
          "[redis][history]") {
    auto server = std::make_unique<RedisServer>();
    const std::uint16_t port = server->port();
    RedisHistory history(history_options(*server, unique_prefix() + "sb"));
    const switchboard::StreamTop before = history.append(alice, note(1));
    REQUIRE(before.created);
    server->kill();
    server = std::make_unique<RedisServer>(port);

    std::optional<switchboard::StreamTop> after;
    REQUIRE(eventually([&] { // the first call finds the old link broken; later ones reconnect
        const std::uint64_t failures = history.failures();
        after = history.open(alice);
        return history.failures() == failures;
    }));
    CHECK(after->created);
    CHECK(after->position.epoch != before.position.epoch);
    CHECK_FALSE(history.read(alice, before.position, 1));
    CHECK(history.failures() >= 1);
}

TEST_CASE("Redis paused: calls time out fast, then fail at once, and nothing is served as complete",
          "[redis][history]") {
    OneRedis fixture;
    RedisHistoryOptions options = history_options(fixture.server, fixture.prefix);
    options.command_timeout = std::chrono::milliseconds(200);
    options.retry_interval = std::chrono::seconds(5);
    options.connections = 1;
    RedisHistory history(options);
    const switchboard::StreamTop before = history.append(alice, note(1));
    REQUIRE(fixture.redis.call({"CLIENT", "PAUSE", "3000"}).reply.text == "OK");

    const auto started = std::chrono::steady_clock::now();
    const switchboard::StreamTop during = history.append(alice, note(2));
    const auto first_call = std::chrono::steady_clock::now() - started;
    CHECK(first_call >= std::chrono::milliseconds(150));
    CHECK(first_call < std::chrono::milliseconds(1000));
    CHECK_FALSE(during.stored);
    CHECK(history.failures() == 1);

    const auto refused_at = std::chrono::steady_clock::now();
    CHECK_FALSE(history.read(alice, before.position, 1));
    const switchboard::StreamTop opened = history.open(alice);
    CHECK_FALSE(opened.created); // the user's other connections stay
    CHECK(opened.position.epoch != before.position.epoch);
    CHECK(std::chrono::steady_clock::now() - refused_at < std::chrono::milliseconds(50));
    CHECK(history.failures() == 3);
    fixture.redis.call({"CLIENT", "UNPAUSE"});
}

TEST_CASE("RedisHistory refuses options it cannot honour", "[redis][history]") {
    RedisHistoryOptions options;
    options.prefix = "";
    CHECK_THROWS_AS(RedisHistory(options), std::invalid_argument);
    options = {};
    options.max_age = std::chrono::hours(48);
    options.meta_ttl = std::chrono::hours(24);
    CHECK_THROWS_AS(RedisHistory(options), std::invalid_argument);
    options = {};
    options.connections = 0;
    CHECK_THROWS_AS(RedisHistory(options), std::invalid_argument);
    options = {};
    options.backplane_prefix = "switchboard"; // without the node id its own backplane would not know it
    CHECK_THROWS_AS(RedisHistory(options), std::invalid_argument);
}
