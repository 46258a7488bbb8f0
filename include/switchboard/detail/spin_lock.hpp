// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <atomic>
#include <thread>

namespace switchboard::detail {

/// A lock for a few instructions, in one byte where a `std::mutex` takes forty: for state that
/// every connection has and that is rarely contended.
class SpinLock {
public:
    void lock() noexcept {
        while (locked_.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

} // namespace switchboard::detail
