// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What the tests of RedisHistory built with an executor share: users, events, the answers of a
// test's calls (each once, never inside its call) and a history on an I/O thread of its own.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <switchboard/redis/history.hpp>

#include "stoppable_redis.hpp"

namespace redis_test::async_history {

using switchboard::Event;
using switchboard::StoredEvent;
using switchboard::StreamTop;
using switchboard::UserId;
using switchboard::redis::RedisHistory;
using switchboard::redis::RedisHistoryOptions;


inline const std::vector<UserId> users{UserId::parse("a1111111-1111-4111-8111-111111111111"),
                                UserId::parse("b2222222-2222-4222-8222-222222222222"),
                                UserId::parse("c3333333-3333-4333-8333-333333333333")};
inline const UserId& erin = users[0];

inline StoredEvent note(int n) { return StoredEvent(Event("Note", nlohmann::json{{"n", n}})); }

/// Set while a thread is inside append_async or open_async: a done that sees it ran inside.
inline thread_local bool calling = false;

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

inline RedisHistoryOptions options_of(const StoppableRedis& redis) {
    RedisHistoryOptions options = redis.history_options();
    options.command_timeout = std::chrono::milliseconds(300);
    return options;
}


} // namespace redis_test::async_history
