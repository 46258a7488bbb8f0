// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// A manager with RedisHistory answering asynchronously (on an executor of its own, as the
// example's) while its Redis is away, paused, and back: sends and connection starts return at
// once, what is not stored flows meanwhile, durable events reach the connected devices live
// without an offset once the store has answered, then one reset, a new epoch, and no false
// `complete`.
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <utility>

#include <switchboard/redis/history.hpp>

#include "../unit/history_fixtures.hpp"
#include "stoppable_redis.hpp"

using namespace switchboard;
using namespace test_fixtures;
using redis_test::eventually;
using redis_test::IoThread;
using redis_test::StoppableRedis;
using redis::RedisHistory;

namespace {

using Live = std::vector<std::pair<int, std::optional<std::uint64_t>>>;

/// A manager on the mock transport whose RedisHistory answers on `io`, and lets it go there.
struct AsyncOutage {
    explicit AsyncOutage(bool keeps_data)
        : redis(keeps_data),
          history(std::make_shared<RedisHistory>(io.context().get_executor(), redis.history_options())),
          fixture(std::make_unique<HistoryFixture>(history)) {}
    ~AsyncOutage() {
        fixture.reset();
        io.run([&] { history.reset(); });
    }

    /// Connects and waits for the Session (the store answers the open).
    HistoryFixture::Device started(const std::string& token, std::optional<StreamPosition> resume = std::nullopt) {
        const HistoryFixture::Device device = fixture->connect(token, resume);
        REQUIRE(eventually([&] { return !fixture->received(device).empty(); }));
        return device;
    }

    Live messages(const HistoryFixture::Device& device) const {
        Live got;
        for (const Received& frame : fixture->received(device))
            if (frame.type == "MessageSent") got.emplace_back(frame.data.at("n").get<int>(), frame.offset);
        return got;
    }

    /// Sends numbered messages to alice, waiting a little after each, until `device` is closed.
    bool send_until_closed(const HistoryFixture::Device& device, int& n) {
        return eventually([&] {
            fixture->manager.send_to_user(alice, message(++n));
            eventually([&] { return fixture->transport.close_record(device.handle).has_value(); },
                       std::chrono::milliseconds(100));
            return fixture->transport.close_record(device.handle).has_value();
        });
    }

    StoppableRedis redis;
    IoThread io;
    std::shared_ptr<RedisHistory> history;
    std::unique_ptr<HistoryFixture> fixture;
};

} // namespace

TEST_CASE("async: Redis away, durable events reach the connected devices live without an offset; back: a new "
          "epoch for the user whose events were not kept, one reset, and their resume unavailable",
          "[redis][history][faults][async]") {
    const bool keeps_data = GENERATE(false, true);
    INFO((keeps_data ? "data kept" : "data lost"));
    AsyncOutage outage(keeps_data);
    HistoryFixture& fixture = *outage.fixture;
    const auto phone = outage.started("alice");
    const auto tablet = outage.started("alice");
    const auto bobs = outage.started("bob");
    fixture.manager.send_to_users({alice, bob}, message(1));
    REQUIRE(eventually([&] { return outage.messages(bobs).size() == 1 && outage.messages(tablet).size() == 1; }));
    const StreamPosition tablet_at = fixture.position(tablet);
    const StreamPosition bob_at = fixture.position(bobs);
    fixture.leave(tablet);
    fixture.leave(bobs);
    outage.redis.stop();

    CHECK(fixture.manager.send_to_user(alice, message(2)) == 1); // queued for the phone
    fixture.manager.send_to_user(alice, message(3));
    CHECK(eventually([&] { return outage.messages(phone).size() == 3; }));
    CHECK(outage.messages(phone) == Live{{1, 1}, {2, std::nullopt}, {3, std::nullopt}});
    CHECK(fixture.transport.is_open(phone.handle));
    CHECK(fixture.manager.metrics().history_append_failures == 2);
    CHECK(outage.history->unkept_users() == 1);

    outage.redis.start();
    int n = 3;
    REQUIRE(outage.send_until_closed(phone, n));
    CHECK(fixture.transport.close_record(phone.handle)->code == CloseCode::service_restart);
    CHECK(eventually([&] { return outage.history->unkept_users() == 0; }));

    const auto back = outage.started("alice", tablet_at);
    const Session session = session_of(fixture.received(back).front());
    CHECK(session.recovery == Recovery::unavailable); // it missed 2 and 3, which were never kept
    CHECK(session.epoch != tablet_at.epoch);
    CHECK(fixture.manager.metrics().closed_stream_reset == 1); // once

    const auto bob_back = outage.started("bob", bob_at);
    const Session bob_session = session_of(fixture.received(bob_back).front());
    CHECK(bob_session.recovery == (keeps_data ? Recovery::complete : Recovery::unavailable));
    CHECK((bob_session.epoch == bob_at.epoch) == keeps_data);
}

TEST_CASE("async: Redis paused, sends and starts return at once and what is not stored flows meanwhile; the "
          "durable event goes out live after command_timeout, then the stream is renewed once",
          "[redis][history][faults][async]") {
    AsyncOutage outage(/*keeps_data=*/false);
    HistoryFixture& fixture = *outage.fixture;
    const auto phone = outage.started("alice");
    fixture.manager.send_to_user(alice, message(1));
    REQUIRE(eventually([&] { return outage.messages(phone) == Live{{1, 1}}; }));
    IoThread io;
    redis_test::TestClient pauser{io, redis_test::options_for(*outage.redis.server)};
    REQUIRE(eventually([&] { return pauser.connected == 1; }));
    REQUIRE(pauser.call({"CLIENT", "PAUSE", "3000", "ALL"}).reply.text == "OK");

    CHECK(fixture.manager.send_to_user(alice, message(2)) == 1); // returns without Redis' answer
    const auto laptop = fixture.connect("alice");                 // its start waits for the store
    fixture.manager.broadcast(Event("Tick", {}, Durability::ephemeral));
    const std::vector<Received> meanwhile = fixture.received(phone);
    REQUIRE_FALSE(meanwhile.empty());
    CHECK(meanwhile.back().type == "Tick"); // not held behind the durable event waiting for Redis
    CHECK(outage.messages(phone) == Live{{1, 1}});
    CHECK(fixture.received(laptop).empty());

    // command_timeout (200 ms) fails both calls: the event live, the start with a fresh epoch.
    CHECK(eventually([&] { return outage.messages(phone).size() == 2; }, std::chrono::milliseconds(2500)));
    CHECK(outage.messages(phone) == Live{{1, 1}, {2, std::nullopt}});
    REQUIRE(eventually([&] { return !fixture.received(laptop).empty(); }, std::chrono::milliseconds(2500)));
    CHECK(fixture.received(laptop).front().type == "Session");
    pauser.call({"CLIENT", "UNPAUSE"});

    int n = 2;
    REQUIRE(outage.send_until_closed(phone, n));
    CHECK(fixture.transport.close_record(phone.handle)->code == CloseCode::service_restart);
    CHECK(fixture.manager.metrics().closed_stream_reset >= 1);
}
