// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// RedisHistory built with an executor (answers_asynchronously) against a real redis-server:
// offsets in call order from several threads, each done once and never inside its call, open in
// order with the appends, and the failures: Redis stopped, paused, restarted, its scripts flushed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include <switchboard/redis/history.hpp>

#include "stoppable_redis.hpp"

using namespace redis_test;
using switchboard::Event;
using switchboard::StoredEvent;
using switchboard::StreamPosition;
using switchboard::StreamTop;
using switchboard::UserId;
using switchboard::redis::RedisHistory;
using switchboard::redis::RedisHistoryOptions;

namespace {

const std::vector<UserId> users{UserId::parse("a1111111-1111-4111-8111-111111111111"),
                                UserId::parse("b2222222-2222-4222-8222-222222222222"),
                                UserId::parse("c3333333-3333-4333-8333-333333333333")};
const UserId& erin = users[0];

StoredEvent note(int n) { return StoredEvent(Event("Note", nlohmann::json{{"n", n}})); }

/// Set while a thread is inside append_async or open_async: a done that sees it ran inside.
thread_local bool calling = false;

/// What the dones of a test's calls told, one slot per call, and how often each was called.
class Answers {
public:
    /// The handler of a new call, and its slot.
    std::pair<std::size_t, switchboard::StreamTopHandler> expect() {
        std::lock_guard lock(mutex_);
        tops_.emplace_back();
        counts_.push_back(0);
        const std::size_t slot = tops_.size() - 1;
        return {slot, [this, slot](const StreamTop& top) {
                    const bool inside = calling;
                    std::lock_guard lock(mutex_);
                    inside_ += inside;
                    tops_[slot] = top;
                    ++counts_[slot];
                }};
    }

    /// Whether every call expected so far was answered within `timeout`.
    bool all_answered(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return eventually(
            [&] {
                std::lock_guard lock(mutex_);
                return std::count(counts_.begin(), counts_.end(), 0) == 0;
            },
            timeout);
    }
    /// Whether every call was answered once, none from inside its call.
    bool each_once_outside() {
        std::lock_guard lock(mutex_);
        return inside_ == 0 && std::all_of(counts_.begin(), counts_.end(), [](int count) { return count == 1; });
    }
    std::size_t answered() {
        std::lock_guard lock(mutex_);
        return counts_.size() - static_cast<std::size_t>(std::count(counts_.begin(), counts_.end(), 0));
    }
    StreamTop top(std::size_t slot) {
        std::lock_guard lock(mutex_);
        return tops_.at(slot);
    }

private:
    std::mutex mutex_;
    std::vector<StreamTop> tops_;
    std::vector<int> counts_;
    int inside_ = 0;
};

/// A RedisHistory on an I/O thread of its own, destroyed there.
struct AsyncHistory {
    explicit AsyncHistory(const RedisHistoryOptions& options)
        : history(std::make_unique<RedisHistory>(io.context().get_executor(), options)) {}
    ~AsyncHistory() {
        io.run([&] { history.reset(); });
    }

    std::size_t append(const UserId& user, int n) {
        auto [slot, done] = answers.expect();
        calling = true;
        history->append_async(user, note(n), std::move(done));
        calling = false;
        return slot;
    }
    std::size_t open(const UserId& user) {
        auto [slot, done] = answers.expect();
        calling = true;
        history->open_async(user, std::move(done));
        calling = false;
        return slot;
    }
    /// Appends and waits for the answer.
    StreamTop append_now(const UserId& user, int n) {
        const std::size_t slot = append(user, n);
        REQUIRE(answers.all_answered());
        return answers.top(slot);
    }
    /// Appends until an append is stored, within a few seconds (Redis coming back).
    std::optional<StreamTop> append_until_stored(const UserId& user) {
        std::optional<StreamTop> stored;
        eventually([&] {
            const StreamTop top = append_now(user, 0);
            if (top.stored) stored = top;
            return top.stored;
        });
        return stored;
    }

    IoThread io;
    Answers answers;
    std::unique_ptr<RedisHistory> history;
};

RedisHistoryOptions options_of(const StoppableRedis& redis) {
    RedisHistoryOptions options = redis.history_options();
    options.command_timeout = std::chrono::milliseconds(300);
    return options;
}

} // namespace

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

TEST_CASE("RedisHistory built without an executor answers synchronously", "[redis][history][async]") {
    RedisHistory history(RedisHistoryOptions{});
    CHECK_FALSE(history.answers_asynchronously());
    CHECK_THROWS_AS(history.append_async(erin, note(1), [](const StreamTop&) {}), std::logic_error);
    CHECK_THROWS_AS(history.open_async(erin, [](const StreamTop&) {}), std::logic_error);
}
