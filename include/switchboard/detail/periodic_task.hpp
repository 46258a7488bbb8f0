// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

namespace switchboard::detail {

/// Runs a task every `interval` on an executor until `stop()`. Timer calls are serialized by
/// `mutex_` (Asio timers are not thread-safe); the task runs under it too, so once `stop()`
/// returns the task is not running and never runs again. The task must not call `stop()`.
class PeriodicTask : public std::enable_shared_from_this<PeriodicTask> {
public:
    PeriodicTask(asio::any_io_executor executor, std::chrono::milliseconds interval, std::function<void()> task)
        : timer_(std::move(executor)), interval_(interval), task_(std::move(task)) {}

    void start() {
        std::lock_guard lock(mutex_);
        arm();
    }

    void stop() {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        timer_.cancel();
    }

private:
    void arm() {
        timer_.expires_after(interval_);
        timer_.async_wait([self = shared_from_this()](const std::error_code& error) { self->fire(error); });
    }

    void fire(const std::error_code& error) {
        std::lock_guard lock(mutex_);
        if (error || stopped_) return;
        task_();
        arm();
    }

    std::mutex mutex_;
    asio::steady_timer timer_;
    std::chrono::milliseconds interval_;
    std::function<void()> task_;
    bool stopped_ = false;
};

} // namespace switchboard::detail
