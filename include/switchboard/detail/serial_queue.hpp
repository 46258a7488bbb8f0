// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace switchboard::detail {

/// Items processed one at a time, in the order they were pushed, by whichever thread finds the
/// queue idle when it calls `drain` (flat combining). No lock is held while an item is processed,
/// so processing may do I/O and may push (and drain) again: the nested drain returns at once and
/// the outer one picks the new item up. `push` is cheap and may be called under other locks.
template <class Item>
class SerialQueue {
public:
    void push(Item item) {
        std::lock_guard lock(mutex_);
        items_.push_back(std::move(item));
    }

    /// Processes everything pushed so far and everything pushed while it runs, unless another
    /// thread is already doing so.
    template <class Process>
    void drain(Process&& process) {
        {
            std::lock_guard lock(mutex_);
            if (draining_) return;
            draining_ = true;
        }
        drain_as_drainer(process, nullptr);
    }

    /// Queues what `make()` returns, calling it under the queue's lock, then drains as `drain`
    /// does: whatever `make` decides in order (an offset in a stream), the queue keeps in that
    /// order. An idle, empty queue processes the item at once, without queuing it. `make` must be
    /// quick and must not touch this queue.
    template <class Make, class Process>
    void push_and_drain(Make&& make, Process&& process) {
        std::optional<Item> own;
        {
            std::lock_guard lock(mutex_);
            if (draining_ || !items_.empty()) items_.push_back(make());
            else own.emplace(make());
            if (draining_) return;
            draining_ = true;
        }
        drain_as_drainer(process, own ? &*own : nullptr);
    }

private:
    /// Processes `first` (if any), then what is queued until the queue is empty; the caller has
    /// taken the drainer's role.
    template <class Process>
    void drain_as_drainer(Process& process, Item* first) {
        ReleaseOnThrow guard{this};
        if (first) process(*first);
        std::vector<Item> batch;
        while (take_all(batch)) {
            for (Item& item : batch) process(item);
            batch.clear();
        }
        guard.queue = nullptr;
    }

    /// Hands the drainer's role back if processing throws, so the queue never stalls.
    struct ReleaseOnThrow {
        SerialQueue* queue;
        ~ReleaseOnThrow() {
            if (!queue) return;
            std::lock_guard lock(queue->mutex_);
            queue->draining_ = false;
        }
    };

    /// Moves every pending item into `batch`. Finding none ends the drainer's role in the same
    /// critical section, so an item pushed concurrently is never left behind.
    bool take_all(std::vector<Item>& batch) {
        std::lock_guard lock(mutex_);
        batch.swap(items_);
        if (batch.empty()) draining_ = false;
        return !batch.empty();
    }

    std::mutex mutex_;
    std::vector<Item> items_;
    bool draining_ = false;
};

/// `SerialQueue`s by key: items with one key go through one queue, in order, while keys of
/// different stripes neither wait for nor contend with each other.
template <class Item, std::size_t stripe_count>
class StripedSerialQueues {
public:
    static constexpr std::size_t stripes = stripe_count;
    static constexpr std::size_t stripe_of(std::size_t key_hash) noexcept { return key_hash % stripe_count; }
    SerialQueue<Item>& of(std::size_t key_hash) noexcept { return stripes_[stripe_of(key_hash)].queue; }

private:
    struct alignas(64) Stripe {
        SerialQueue<Item> queue;
    };
    std::array<Stripe, stripe_count> stripes_;
};

} // namespace switchboard::detail
