// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// RedisHistory built with an executor (answers_asynchronously) against a real redis-server:
// offsets in call order from several threads, each done once and never inside its call, and
// open in order with the appends. The failures: test_history_async_faults.cpp.
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

TEST_CASE("async: appends for several users from several threads take contiguous offsets in each thread's "
          "call order, each done once, never inside the call",
          "[redis][history][async]") {
    StoppableRedis redis(/*keeps_data=*/false);
    AsyncHistory fixture(options_of(redis));
    REQUIRE(fixture.history->answers_asynchronously());
    constexpr int per_user = 100;
    constexpr std::size_t threads = 4;
    using Slots = std::vector<std::vector<std::size_t>>; // by user, in call order
    std::vector<Slots> slots(threads, Slots(users.size()));
    const auto calls = [&](std::size_t thread) {
        for (int n = 0; n < per_user; ++n)
            for (std::size_t user = 0; user < users.size(); ++user)
                slots[thread][user].push_back(fixture.append(users[user], n));
    };
    std::vector<std::thread> callers;
    for (std::size_t thread = 1; thread < threads; ++thread) callers.emplace_back(calls, thread);
    fixture.io.run([&] { calls(0); }); // on the executor's own thread too, where a Connection runs inline
    for (std::thread& caller : callers) caller.join();
    REQUIRE(fixture.answers.all_answered());
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // time for a second call of a done
    CHECK(fixture.answers.each_once_outside());

    for (std::size_t user = 0; user < users.size(); ++user) {
        std::vector<std::uint64_t> all;
        std::size_t created = 0;
        for (std::size_t thread = 0; thread < threads; ++thread) {
            std::vector<std::uint64_t> offsets;
            for (const std::size_t slot : slots[thread][user]) {
                const StreamTop top = fixture.answers.top(slot);
                CHECK(top.stored);
                CHECK(top.position.epoch == fixture.answers.top(slots[0][user][0]).position.epoch);
                created += top.created;
                offsets.push_back(top.position.offset);
            }
            CHECK(std::is_sorted(offsets.begin(), offsets.end()));
            all.insert(all.end(), offsets.begin(), offsets.end());
        }
        std::sort(all.begin(), all.end());
        std::vector<std::uint64_t> expected(per_user * threads);
        std::iota(expected.begin(), expected.end(), 1);
        CHECK(all == expected);
        CHECK(created == 1);
    }
    CHECK(fixture.history->failures() == 0);
    CHECK(fixture.history->metrics().appended == per_user * threads * users.size());
}

TEST_CASE("async: a call made on the executor's thread after one made on another thread takes the later offset",
          "[redis][history][async]") {
    StoppableRedis redis(/*keeps_data=*/false);
    AsyncHistory fixture(options_of(redis));
    const StreamTop first = fixture.append_now(erin, 1);
    std::promise<void> called;
    std::promise<std::size_t> second;
    asio::post(fixture.io.context(), [&] { // the executor busy until the other thread's call is made
        called.get_future().wait();
        second.set_value(fixture.append(erin, 3));
    });
    const std::size_t earlier = fixture.append(erin, 2);
    called.set_value();
    const std::size_t later = second.get_future().get();
    REQUIRE(fixture.answers.all_answered());
    CHECK(fixture.answers.top(earlier).position == StreamPosition{first.position.epoch, 2});
    CHECK(fixture.answers.top(later).position == StreamPosition{first.position.epoch, 3});
}

TEST_CASE("async: open_async reports the top after every append called before it and none after",
          "[redis][history][async]") {
    StoppableRedis redis(/*keeps_data=*/false);
    AsyncHistory fixture(options_of(redis));
    const std::size_t before = fixture.open(erin);
    for (int n = 1; n <= 5; ++n) fixture.append(erin, n);
    const std::size_t between = fixture.open(erin);
    const std::size_t last = fixture.append(erin, 6);
    REQUIRE(fixture.answers.all_answered());
    CHECK(fixture.answers.each_once_outside());

    const StreamTop opened = fixture.answers.top(before);
    CHECK(opened.created);
    CHECK(opened.position.offset == 0);
    CHECK(fixture.answers.top(between).position == StreamPosition{opened.position.epoch, 5});
    CHECK(fixture.answers.top(last).position == StreamPosition{opened.position.epoch, 6});
    CHECK(fixture.history->read(erin, opened.position, 6)->size() == 6); // read stays on the blocking links
}

TEST_CASE("RedisHistory built without an executor answers synchronously", "[redis][history][async]") {
    RedisHistory history(RedisHistoryOptions{});
    CHECK_FALSE(history.answers_asynchronously());
    CHECK_THROWS_AS(history.append_async(erin, note(1), [](const StreamTop&) {}), std::logic_error);
    CHECK_THROWS_AS(history.open_async(erin, [](const StreamTop&) {}), std::logic_error);
}
