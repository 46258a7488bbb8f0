// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// A manager with RedisHistory (mock transport) while its Redis is away and when it comes back,
// its data lost or kept: live delivery without offsets meanwhile, then a new epoch for the
// users whose events were not kept, one reset, and no false `complete`.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <utility>

#include <switchboard/redis/history.hpp>

#include "../unit/history_fixtures.hpp"
#include "stoppable_redis.hpp"

using namespace switchboard;
using namespace test_fixtures;
using redis_test::eventually;
using redis_test::StoppableRedis;
using redis::RedisHistory;
using redis::RedisHistoryOptions;

namespace {

using Live = std::vector<std::pair<int, std::optional<std::uint64_t>>>;

/// The messages a device received: their numbers and offsets.
Live messages(const HistoryFixture& fixture, const HistoryFixture::Device& device) {
    Live got;
    for (const Received& frame : fixture.received(device))
        if (frame.type == "MessageSent") got.emplace_back(frame.data.at("n").get<int>(), frame.offset);
    return got;
}

/// Sends messages to alice, numbered on from `n`, until the store keeps one (Redis answers).
bool send_until_kept(HistoryFixture& fixture, int& n) {
    return eventually([&] {
        const std::uint64_t failures = fixture.manager.metrics().history_append_failures;
        fixture.manager.send_to_user(alice, message(++n));
        return fixture.manager.metrics().history_append_failures == failures;
    });
}

Session session_on(const HistoryFixture& fixture, const HistoryFixture::Device& device) {
    return session_of(fixture.received(device).front());
}

} // namespace

TEST_CASE("Redis away: events reach the connected devices live without an offset; back, lost or kept: a new "
          "epoch for the user whose events were not kept, one reset, and their resume unavailable",
          "[redis][history][faults]") {
    const bool keeps_data = GENERATE(false, true);
    INFO((keeps_data ? "data kept" : "data lost"));
    StoppableRedis redis(keeps_data);
    const auto history = std::make_shared<RedisHistory>(redis.history_options());
    HistoryFixture fixture(history);
    const auto phone = fixture.connect("alice");
    const auto tablet = fixture.connect("alice");
    const auto bobs = fixture.connect("bob");
    fixture.manager.send_to_users({alice, bob}, message(1));
    const StreamPosition tablet_at = fixture.position(tablet);
    const StreamPosition bob_at = fixture.position(bobs);
    fixture.leave(tablet);
    fixture.leave(bobs);
    redis.stop();

    fixture.manager.send_to_user(alice, message(2));
    fixture.manager.send_to_user(alice, message(3));
    CHECK(messages(fixture, phone) == Live{{1, 1}, {2, std::nullopt}, {3, std::nullopt}});
    CHECK(fixture.transport.is_open(phone.handle));
    CHECK(fixture.manager.metrics().history_append_failures == 2);
    CHECK(fixture.manager.metrics().history.failures >= 2);
    CHECK(history->unkept_users() == 1);

    redis.start();
    int n = 3;
    REQUIRE(send_until_kept(fixture, n));
    const auto close = fixture.transport.close_record(phone.handle);
    REQUIRE(close);
    CHECK(close->code == CloseCode::service_restart);
    CHECK(history->unkept_users() == 0);

    const auto back = fixture.connect("alice", tablet_at);
    const Session session = session_on(fixture, back);
    CHECK(session.recovery == Recovery::unavailable); // it missed 2 and 3, which were never kept
    CHECK(session.epoch != tablet_at.epoch);
    CHECK(session.offset == 1); // the first event kept again is the new epoch's first
    fixture.manager.send_to_user(alice, message(++n));
    CHECK(fixture.offsets(back) == std::vector<std::uint64_t>{2});
    CHECK(fixture.manager.metrics().closed_stream_reset == 1); // once

    const auto bob_back = fixture.connect("bob", bob_at);
    const Session bob_session = session_on(fixture, bob_back);
    CHECK(bob_session.recovery == (keeps_data ? Recovery::complete : Recovery::unavailable));
    CHECK((bob_session.epoch == bob_at.epoch) == keeps_data);
}

TEST_CASE("past max_unkept_users a node forgets who lost events and renews every stream it touches once",
          "[redis][history][faults]") {
    StoppableRedis redis(/*keeps_data=*/true);
    RedisHistoryOptions options = redis.history_options();
    options.max_unkept_users = 2;
    RedisHistory history(options);
    const UserId dave = UserId::parse("44444444-4444-4444-8444-444444444444");
    const StoredEvent event(message(1));
    std::map<UserId, Epoch> before;
    for (const UserId& user : {alice, bob, carol, dave}) before[user] = history.append(user, event).position.epoch;
    redis.stop();

    CHECK_FALSE(history.append(alice, event).stored);
    CHECK_FALSE(history.append(bob, event).stored);
    CHECK(history.unkept_users() == 2);
    CHECK_FALSE(history.unkept_overflowed());
    CHECK_FALSE(history.append(carol, event).stored);
    CHECK(history.unkept_users() == 0);
    CHECK(history.unkept_overflowed());

    redis.start();
    std::optional<StreamTop> first;
    REQUIRE(eventually([&] {
        const std::uint64_t failures = history.failures();
        first = history.open(dave);
        return history.failures() == failures;
    }));
    std::map<UserId, StreamTop> renewed{{dave, *first}};
    for (const UserId& user : {alice, bob, carol}) renewed[user] = history.open(user);
    for (const auto& [user, top] : renewed) {
        INFO(user.to_string());
        CHECK(top.created);
        CHECK(top.position.epoch != before[user]);
        CHECK(top.position.offset == 0);
        const StreamTop again = history.open(user); // renewed once
        CHECK_FALSE(again.created);
        CHECK(again.position == top.position);
    }
}
