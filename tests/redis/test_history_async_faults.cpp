// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// RedisHistory built with an executor against a real redis-server that fails: stopped, back,
// paused, its scripts flushed, a call failing in flight, more calls than its window.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <asio/post.hpp>

#include "async_history.hpp"

using namespace redis_test;
using namespace redis_test::async_history;
using switchboard::StreamPosition;

TEST_CASE("async: Redis stopped, appends fail fast; back, one renewal for a burst: a new epoch, and the old "
          "position never complete",
          "[redis][history][async][faults]") {
    StoppableRedis redis(/*keeps_data=*/true);
    AsyncHistory fixture(options_of(redis));
    const StreamTop before = fixture.append_now(erin, 1);
    REQUIRE(before.stored);
    redis.stop();

    const auto stopped_at = std::chrono::steady_clock::now();
    std::vector<std::size_t> lost;
    for (int n = 2; n <= 4; ++n) lost.push_back(fixture.append(erin, n));
    const std::size_t opened = fixture.open(users[1]);
    REQUIRE(fixture.answers.all_answered(std::chrono::seconds(2)));
    CHECK(std::chrono::steady_clock::now() - stopped_at < std::chrono::seconds(2));
    for (const std::size_t slot : lost) CHECK_FALSE(fixture.answers.top(slot).stored);
    CHECK_FALSE(fixture.answers.top(opened).created); // a failed open: a fresh epoch at 0, not created
    CHECK(fixture.answers.top(opened).position.offset == 0);
    CHECK(fixture.history->unkept_users() == 1);
    CHECK(fixture.history->failures() == 4);

    redis.start();
    const std::optional<StreamTop> other = fixture.append_until_stored(users[2]); // the connection is back
    REQUIRE(other);
    std::vector<std::size_t> burst;
    for (int n = 5; n <= 7; ++n) burst.push_back(fixture.append(erin, n));
    REQUIRE(fixture.answers.all_answered());
    CHECK(fixture.answers.each_once_outside());
    const StreamTop renewed = fixture.answers.top(burst[0]);
    CHECK(renewed.stored);
    CHECK(renewed.created);
    CHECK(renewed.position.epoch != before.position.epoch);
    for (std::size_t i = 0; i < burst.size(); ++i) {
        const StreamTop top = fixture.answers.top(burst[i]);
        CHECK(top.position == StreamPosition{renewed.position.epoch, i + 1});
        CHECK(top.created == (i == 0)); // the ones behind the renewal follow it, without one of their own
    }
    CHECK(fixture.history->unkept_users() == 0);
    CHECK_FALSE(fixture.history->read(erin, before.position, 1)); // the old numbering is gone
}

TEST_CASE("async: Redis back, the streams of users whose appends failed are renewed at the reconnection, "
          "before any call of theirs, and their next answer reports created",
          "[redis][history][async][faults]") {
    StoppableRedis redis(/*keeps_data=*/true); // the old numbering would survive the restart
    AsyncHistory fixture(options_of(redis));
    const StreamTop before = fixture.append_now(erin, 1);
    REQUIRE(before.stored);
    redis.stop();
    REQUIRE_FALSE(fixture.append_now(erin, 2).stored);
    REQUIRE(fixture.history->unkept_users() == 1);

    redis.start();
    CHECK(eventually([&] { return fixture.history->unkept_users() == 0; })); // no call of erin's meanwhile
    RedisHistory other_node(options_of(redis));
    const StreamTop seen_elsewhere = other_node.open(erin);
    CHECK(seen_elsewhere.position.epoch != before.position.epoch);
    CHECK(seen_elsewhere.position.offset == 0);
    CHECK_FALSE(other_node.read(erin, before.position, 1)); // a resume from before: unavailable

    const StreamTop next = fixture.append_now(erin, 3);
    CHECK(next.created); // this node's manager resets erin's connections here
    CHECK(next.position == StreamPosition{seen_elsewhere.position.epoch, 1});
    CHECK_FALSE(fixture.append_now(erin, 4).created); // once
}

TEST_CASE("async: a renewal at the reconnection is reported once, also when the user's next answer is created "
          "by itself",
          "[redis][history][async][faults]") {
    StoppableRedis redis(/*keeps_data=*/false);
    AsyncHistory fixture(options_of(redis));
    REQUIRE(fixture.append_now(erin, 1).stored);
    redis.stop();
    REQUIRE_FALSE(fixture.append_now(erin, 2).stored);
    redis.start();
    REQUIRE(eventually([&] { return fixture.history->unkept_users() == 0; })); // renewed, not yet reported

    redis.stop(); // the renewed stream lost too, with no call of erin's meanwhile
    redis.start();
    REQUIRE(fixture.append_until_stored(users[2]));
    const StreamTop remade = fixture.append_now(erin, 3);
    CHECK(remade.created); // made again by this append: the manager resets erin's connections here
    CHECK(remade.position.offset == 1);
    const StreamTop next = fixture.append_now(erin, 4);
    CHECK_FALSE(next.created); // the reset covered the renewal before it: not a second one
    CHECK(next.position == StreamPosition{remade.position.epoch, 2});
}

TEST_CASE("async: a call answered after an earlier call of its user failed, both in flight, fails too",
          "[redis][history][async][faults]") {
    StoppableRedis redis(/*keeps_data=*/false);
    AsyncHistory fixture(options_of(redis));
    const StreamTop first = fixture.append_now(erin, 1);
    {
        IoThread io;
        TestClient client{io, options_for(*redis.server)};
        REQUIRE(eventually([&] { return client.connected == 1; }));
        const std::string stream = redis.prefix + ":history:{" + erin.to_string() + "}";
        REQUIRE(client.call({"SET", stream, "not a stream"}).reply.text == "OK"); // XADD fails, HGET does not
    }
    std::promise<void> called;
    asio::post(fixture.io.context(), [&] { called.get_future().wait(); }); // both calls in one flush
    const std::size_t lost = fixture.append(erin, 2);
    const std::size_t opened = fixture.open(erin);
    called.set_value();
    REQUIRE(fixture.answers.all_answered());

    CHECK_FALSE(fixture.answers.top(lost).stored);
    const StreamTop open = fixture.answers.top(opened); // Redis answered it, in the numbering missing event 2
    CHECK(open.position.epoch != first.position.epoch);
    CHECK(open.position.offset == 0);
    CHECK_FALSE(open.created);
    const StreamTop renewed = fixture.append_now(erin, 3);
    CHECK(renewed.created);
    CHECK(renewed.position.offset == 1);
}

TEST_CASE("async: Redis paused, append_async returns at once and its done fails after command_timeout",
          "[redis][history][async][faults]") {
    StoppableRedis redis(/*keeps_data=*/false);
    AsyncHistory fixture(options_of(redis));
    REQUIRE(fixture.append_now(erin, 1).stored);
    IoThread io;
    TestClient pauser{io, options_for(*redis.server)};
    REQUIRE(eventually([&] { return pauser.connected == 1; }));
    REQUIRE(pauser.call({"CLIENT", "PAUSE", "3000", "ALL"}).reply.text == "OK");

    const auto paused_at = std::chrono::steady_clock::now();
    std::vector<std::size_t> during;
    for (int n = 2; n <= 4; ++n) during.push_back(fixture.append(erin, n));
    CHECK(fixture.answers.answered() == 1); // the calls returned without their answers: Redis is paused
    REQUIRE(fixture.answers.all_answered(std::chrono::seconds(2))); // well before the pause ends
    CHECK(std::chrono::steady_clock::now() - paused_at < std::chrono::milliseconds(2500));
    for (const std::size_t slot : during) CHECK_FALSE(fixture.answers.top(slot).stored);
    CHECK(fixture.history->unkept_users() == 1);
    pauser.call({"CLIENT", "UNPAUSE"});

    const std::optional<StreamTop> after = fixture.append_until_stored(erin);
    REQUIRE(after);
    CHECK(after->created); // renewed: even an append that ran after all is not served
    CHECK(after->position.offset == 1);
}

TEST_CASE("async: past max_in_flight calls wait unsent, past max_waiting one more fails at once; the waiting "
          "ones are stored in order once Redis answers",
          "[redis][history][async][faults]") {
    StoppableRedis redis(/*keeps_data=*/false);
    RedisHistoryOptions options = options_of(redis);
    options.command_timeout = std::chrono::seconds(3); // longer than the pause: nothing in flight times out
    options.max_in_flight = 2;
    options.max_waiting = 3;
    AsyncHistory fixture(options);
    REQUIRE(fixture.append_now(erin, 1).stored);
    IoThread io;
    TestClient pauser{io, options_for(*redis.server)};
    REQUIRE(eventually([&] { return pauser.connected == 1; }));
    REQUIRE(pauser.call({"CLIENT", "PAUSE", "600", "ALL"}).reply.text == "OK");

    std::vector<std::size_t> kept;
    for (int n = 2; n <= 6; ++n) kept.push_back(fixture.append(erin, n)); // two in flight, three waiting
    const std::size_t overflow = fixture.append(users[1], 1);
    CHECK(eventually([&] { return fixture.answers.answered() == 2; }, std::chrono::milliseconds(400)));
    CHECK(fixture.answers.answered() == 2); // the first, and the one past the bound: during the pause
    REQUIRE(fixture.answers.all_answered());
    CHECK_FALSE(fixture.answers.top(overflow).stored);
    for (std::size_t i = 0; i < kept.size(); ++i) {
        const StreamTop top = fixture.answers.top(kept[i]);
        CHECK(top.stored);
        CHECK(top.position.offset == i + 2);
    }
    CHECK(fixture.history->unkept_users() == 1); // the one past the bound, whose next call renews
}

TEST_CASE("async: admits says no from max_unanswered calls unanswered on a shard, and yes once Redis answered",
          "[redis][history][async][faults]") {
    StoppableRedis redis(/*keeps_data=*/false);
    RedisHistoryOptions options = options_of(redis);
    options.command_timeout = std::chrono::seconds(3); // longer than the pause: nothing fails
    options.max_unanswered = 3;
    AsyncHistory fixture(options);
    REQUIRE(fixture.append_now(erin, 1).stored);
    CHECK(fixture.history->admits({erin, users[1]}));
    IoThread io;
    TestClient pauser{io, options_for(*redis.server)};
    REQUIRE(eventually([&] { return pauser.connected == 1; }));
    REQUIRE(pauser.call({"CLIENT", "PAUSE", "600", "ALL"}).reply.text == "OK");

    fixture.append(erin, 2);
    fixture.open(users[1]);
    CHECK(fixture.history->admits({users[2]})); // two unanswered
    fixture.append(users[2], 1);
    CHECK_FALSE(fixture.history->admits({users[2]})); // three: any user of the shard is refused
    CHECK(fixture.history->admits({})); // no user, no shard to wait for

    REQUIRE(fixture.answers.all_answered());
    CHECK(fixture.history->admits({erin, users[1], users[2]}));
    CHECK(fixture.history->unkept_users() == 0); // behind is not failed: nothing to renew
}

TEST_CASE("async: scripts gone (SCRIPT FLUSH, a restart): the call answered NOSCRIPT fails, the scripts are "
          "loaded again and appends go on",
          "[redis][history][async][faults]") {
    StoppableRedis redis(/*keeps_data=*/true);
    AsyncHistory fixture(options_of(redis));
    const StreamTop first = fixture.append_now(erin, 1);
    REQUIRE(fixture.append_now(erin, 2).stored); // by now by EVALSHA: the load answered long ago
    {
        IoThread io;
        TestClient flusher{io, options_for(*redis.server)};
        REQUIRE(eventually([&] { return flusher.connected == 1; }));
        REQUIRE(flusher.call({"SCRIPT", "FLUSH"}).reply.text == "OK");
    }

    CHECK_FALSE(fixture.append_now(erin, 3).stored);
    CHECK(fixture.history->failures() == 1);
    const StreamTop renewed = fixture.append_now(erin, 4);
    CHECK(renewed.stored);
    CHECK(renewed.created);
    CHECK(renewed.position.epoch != first.position.epoch);
    CHECK(fixture.append_now(erin, 5).position == StreamPosition{renewed.position.epoch, 2});

    redis.stop();
    redis.start();
    const std::optional<StreamTop> back = fixture.append_until_stored(erin);
    REQUIRE(back);
    CHECK(fixture.append_now(erin, 6).position == StreamPosition{back->position.epoch, back->position.offset + 1});
}

