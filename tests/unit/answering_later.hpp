// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A history that answers asynchronously (`History::answers_asynchronously`), as a store across
// the network does: a MemoryHistory behind `append_async` / `open_async`. Each answer is worked
// out at the call, so offsets follow call order as the contract asks, and handed to `done` only
// later: when the test says (`answer`), or from a thread of the store's own (`answer_from_thread`)
// that answers what waits in shuffled order, as nothing in the contract orders the answers.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <switchboard/history/memory.hpp>

namespace test_fixtures {

class AnsweringLater final : public switchboard::History {
public:
    explicit AnsweringLater(switchboard::MemoryHistoryOptions options = {}) : store_(std::move(options)) {}
    ~AnsweringLater() override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
        if (worker_.joinable()) worker_.join();
    }

    bool answers_asynchronously() const noexcept override { return true; }

    /// Until `admit(true)`, `admits` says no: the store is behind.
    void admit(bool admitting) { admitting_ = admitting; }
    bool admits(const std::vector<switchboard::UserId>&) const noexcept override { return admitting_; }

    /// Until `fail_appends(false)`, appends keep nothing and answer `stored` false.
    void fail_appends(bool failing) {
        std::lock_guard lock(mutex_);
        failing_ = failing;
    }

    void append_async(const switchboard::UserId& user, const switchboard::StoredEvent& event,
                      switchboard::StreamTopHandler done) override {
        std::lock_guard lock(mutex_);
        const switchboard::StreamTop top =
            failing_ ? switchboard::StreamTop{{switchboard::Epoch::random(), 0}, false, false} : store_.append(user, event);
        wait_for_answer(std::move(done), top);
    }

    void open_async(const switchboard::UserId& user, switchboard::StreamTopHandler done) override {
        std::lock_guard lock(mutex_);
        wait_for_answer(std::move(done), store_.open(user));
    }

    // The synchronous forms, which the manager does not call on this store: for the tests' own look.
    switchboard::StreamTop append(const switchboard::UserId& user, const switchboard::StoredEvent& event) override {
        return store_.append(user, event);
    }
    switchboard::StreamTop open(const switchboard::UserId& user) override { return store_.open(user); }
    std::optional<std::vector<switchboard::StoredEvent>> read(const switchboard::UserId& user,
                                                             const switchboard::StreamPosition& after,
                                                             std::uint64_t upto) override {
        return store_.read(user, after, upto);
    }
    switchboard::HistoryMetrics metrics() const override { return store_.metrics(); }

    std::size_t unanswered() const {
        std::lock_guard lock(mutex_);
        return waiting_.size();
    }

    /// Answers the `index`th call still waiting (0: the oldest), on the calling thread.
    void answer(std::size_t index = 0) {
        Waiting answering;
        {
            std::lock_guard lock(mutex_);
            answering = std::move(waiting_.at(index));
            waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(index));
        }
        answering.done(answering.top);
    }

    void answer_all() {
        while (unanswered() != 0) answer();
    }

    /// From now on, a thread of the store's answers what waits, a few yields after each answer.
    void answer_from_thread(unsigned seed) {
        worker_ = std::thread([this, seed] { answer_until_stopped(seed); });
    }

    /// Returns once no call waits for its answer and none is being answered (with the thread on).
    void wait_until_answered() {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [&] { return waiting_.empty() && !answering_; });
    }

private:
    struct Waiting {
        switchboard::StreamTopHandler done;
        switchboard::StreamTop top;
    };

    void wait_for_answer(switchboard::StreamTopHandler done, const switchboard::StreamTop& top) {
        waiting_.push_back({std::move(done), top});
        changed_.notify_one();
    }

    void answer_until_stopped(unsigned seed) {
        std::mt19937 random(seed);
        std::unique_lock lock(mutex_);
        while (true) {
            changed_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
            if (stopping_) return;
            const std::size_t index = random() % waiting_.size();
            Waiting answering = std::move(waiting_[index]);
            waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(index));
            answering_ = true;
            lock.unlock();
            answering.done(answering.top);
            for (unsigned spins = random() % 8; spins > 0; --spins) std::this_thread::yield();
            lock.lock();
            answering_ = false;
            if (waiting_.empty()) idle_.notify_all();
        }
    }

    switchboard::MemoryHistory store_;
    mutable std::mutex mutex_;
    std::condition_variable changed_, idle_;
    std::vector<Waiting> waiting_;
    bool failing_ = false;
    std::atomic<bool> admitting_{true};
    bool answering_ = false;
    bool stopping_ = false;
    std::thread worker_;
};

} // namespace test_fixtures
