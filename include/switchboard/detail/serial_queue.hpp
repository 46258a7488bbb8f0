// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace switchboard::detail {

/// What `SerialQueue` asks of its items by default: none waits for anything.
struct NeverAwaiting {
    template <class Item>
    constexpr bool operator()(const Item&) const noexcept {
        return false;
    }
};

/// Items processed one at a time, in the order they were pushed, by whichever thread finds the
/// queue idle when it calls `drain` (flat combining). No lock is held while an item is processed,
/// so processing may do I/O and may push (and drain) again: the nested drain returns at once and
/// the outer one picks the new item up. `push` is cheap and may be called under other locks.
///
/// An item may await something (`Awaiting{}(item)` true, asked under the queue's lock: an answer
/// from another thread): draining stops before it, and the items behind it wait too, until
/// whoever brings what it awaited calls `settle_and_drain`.
template <class Item, class Awaiting = NeverAwaiting>
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
    /// order. An idle, empty queue processes the item at once, without queuing it, unless it
    /// awaits. `make` must be quick and must not touch this queue.
    template <class Make, class Process>
    void push_and_drain(Make&& make, Process&& process) {
        std::optional<Item> own;
        {
            std::lock_guard lock(mutex_);
            if (draining_ || !items_.empty()) {
                items_.push_back(make());
            } else if (own.emplace(make()); Awaiting{}(*own)) {
                items_.push_back(std::move(*own));
                own.reset();
            }
            if (draining_) return;
            draining_ = true;
        }
        drain_as_drainer(process, own ? &*own : nullptr);
    }

    /// Runs `settle()` under the queue's lock (it gives an awaiting item what it awaited), then
    /// drains as `drain` does. `settle` must be quick and must not touch this queue.
    template <class Settle, class Process>
    void settle_and_drain(Settle&& settle, Process&& process) {
        {
            std::lock_guard lock(mutex_);
            settle();
            if (draining_) return;
            draining_ = true;
        }
        drain_as_drainer(process, nullptr);
    }

private:
    /// Processes `first` (if any), then what is queued until the queue is empty; the caller has
    /// taken the drainer's role.
    template <class Process>
    void drain_as_drainer(Process& process, Item* first) {
        ReleaseOnThrow guard{this};
        if (first) process(*first);
        std::vector<Item> batch;
        while (take_ready(batch)) {
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

    /// Moves the pending items before the first awaiting one into `batch`. Finding none ends the
    /// drainer's role in the same critical section, so an item pushed (or settled) concurrently
    /// is never left behind. Items taken from before an awaiting one are erased only once they
    /// are half of the vector, so that a long queue behind a slow answer is not moved at each take.
    bool take_ready(std::vector<Item>& batch) {
        std::lock_guard lock(mutex_);
        const auto first = items_.begin() + static_cast<std::ptrdiff_t>(taken_);
        const auto awaiting = std::find_if(first, items_.end(), Awaiting{});
        if (awaiting == items_.end() && taken_ == 0) {
            batch.swap(items_);
        } else {
            batch.assign(std::make_move_iterator(first), std::make_move_iterator(awaiting));
            taken_ = static_cast<std::size_t>(awaiting - items_.begin());
            if (taken_ == items_.size()) {
                items_.clear();
                taken_ = 0;
            } else if (taken_ * 2 > items_.size()) {
                items_.erase(items_.begin(), awaiting);
                taken_ = 0;
            }
        }
        if (batch.empty()) draining_ = false;
        return !batch.empty();
    }

    std::mutex mutex_;
    std::vector<Item> items_; ///< pending from `taken_` on (before it: taken, moved from)
    std::size_t taken_ = 0;   ///< less than `items_.size()`, or both 0
    bool draining_ = false;
};

/// `SerialQueue`s by key: items with one key go through one queue, in order, while keys of
/// different stripes neither wait for nor contend with each other.
template <class Item, std::size_t stripe_count, class Awaiting = NeverAwaiting>
class StripedSerialQueues {
public:
    using Queue = SerialQueue<Item, Awaiting>;
    static constexpr std::size_t stripes = stripe_count;
    static constexpr std::size_t stripe_of(std::size_t key_hash) noexcept { return key_hash % stripe_count; }
    Queue& of(std::size_t key_hash) noexcept { return stripes_[stripe_of(key_hash)].queue; }

private:
    struct alignas(64) Stripe {
        Queue queue;
    };
    std::array<Stripe, stripe_count> stripes_;
};

} // namespace switchboard::detail
