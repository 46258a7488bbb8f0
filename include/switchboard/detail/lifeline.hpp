// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

namespace switchboard::detail {

/// Lets callbacks that another component runs later (a store's answers) reach their object only
/// while it lives. Each callback holds a `Guard`; `Guard::run` calls into the object only before
/// `end()`, and `end()` (in the object's destructor, first) waits for the calls under way.
///
/// Threads: any. A call under `run` must not end the lifeline, nor run another guard of it.
class Lifeline {
    struct State {
        std::shared_mutex mutex;
        bool alive = true;
    };

public:
    class Guard {
    public:
        /// Calls `call()` unless the lifeline has ended; returns whether it did.
        template <class Call>
        bool run(Call&& call) const {
            std::shared_lock lock(state_->mutex);
            if (!state_->alive) return false;
            std::forward<Call>(call)();
            return true;
        }

    private:
        friend class Lifeline;
        explicit Guard(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}
        std::shared_ptr<State> state_;
    };

    Lifeline() = default;
    Lifeline(const Lifeline&) = delete;
    Lifeline& operator=(const Lifeline&) = delete;
    ~Lifeline() { end(); }

    Guard guard() const { return Guard(state_); }

    /// From now on no guard calls in; returns once none is calling.
    void end() {
        std::unique_lock lock(state_->mutex);
        state_->alive = false;
    }

private:
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

} // namespace switchboard::detail
