// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

namespace switchboard::detail {

/// The I/O thread's queue of the work websocketpp hands the single-threaded websocketpp transport
/// to run later (`dispatch`): above all a connection's next write, which websocketpp dispatches
/// after every send that finds no write in flight, so a broadcast dispatches one per recipient.
/// They run in order from one posted handler, a round, rather than each from a post of its own
/// (perf at fan-out saturation: the scheduler's and malloc's time per delivery more than halved).
///
/// A round takes a connection's write once: websocketpp dispatches it again with every send until
/// it runs, and it sends all that is queued by then. And a round waits while asio's queue brings
/// it more: when its turn comes and work joined it since the last, it goes to the back of the
/// queue again, up to `max_deferrals` times, so that the messages, accepts and reads already
/// waiting there go out in one round rather than one round each. Single publishers over HTTP (a
/// connection per request, so one accept and one request per turn of the queue) got 3 deliveries
/// per `sendmsg` without it and 19 with it, 2.6 times the deliveries/s (bench/load/ab.sh,
/// medians of 3).
///
/// Threads: only the I/O thread of `io` (one thread) calls it, and it posts only there.
class DispatchQueue {
public:
    using Work = std::function<void()>;
    /// Turns of asio's queue a round may wait for, each of them having brought it more.
    static constexpr int max_deferrals = 16;

    explicit DispatchQueue(asio::io_context& io) : io_(io) {}

    /// On the I/O thread. `waiting`, if given, is the flag of a connection's write, set while it
    /// waits in the round: `work` is then dropped, that write sends what `work` would. It must
    /// live as long as `work`.
    void add(Work work, bool* waiting = nullptr) {
        if (pending_.empty())
            asio::post(io_, [this] { run(); });
        else
            ++joined_;
        if (waiting && *waiting) return;
        if (waiting) *waiting = true;
        pending_.push_back({std::move(work), waiting});
    }

    /// True from the first `add` until the round runs.
    bool waiting() const { return !pending_.empty(); }

    /// On the I/O thread, once in a while (the transport's tick): storage beyond twice what the
    /// rounds since the last call took goes. A round takes a write per send to a connection with
    /// none in flight, so a burst of broadcasts before the round runs (a presence storm) makes
    /// rounds of hundreds of thousands (8.9 MB after a storm of 3,000 users), and both vectors
    /// would keep that for good. True if it gave any back.
    bool trim() {
        const std::size_t needed = 2 * largest_round_;
        largest_round_ = 0;
        const std::size_t before = capacity();
        if (running_.capacity() > needed) std::vector<Entry>().swap(running_); // empty between rounds
        if (pending_.capacity() > std::max(needed, pending_.size())) pending_.shrink_to_fit();
        return capacity() < before;
    }

    /// Entries the queue has storage for: what `trim` gives back.
    std::size_t capacity() const { return pending_.capacity() + running_.capacity(); }

    /// The queue of the I/O thread running this, if single-threaded; else null.
    static DispatchQueue*& current() {
        thread_local DispatchQueue* queue = nullptr;
        return queue;
    }

private:
    struct Entry {
        Work work;
        bool* waiting;
    };

    void run() {
        const bool grew = joined_ > 0;
        joined_ = 0;
        if (grew && deferrals_ < max_deferrals) {
            ++deferrals_;
            asio::post(io_, [this] { run(); });
            return;
        }
        deferrals_ = 0;
        running_.swap(pending_); // what runs may add more: it waits for the next round
        largest_round_ = std::max(largest_round_, running_.size());
        for (Entry& entry : running_) {
            if (entry.waiting) *entry.waiting = false;
            entry.work();
        }
        running_.clear();
    }

    asio::io_context& io_;
    std::size_t joined_ = 0; ///< adds since the round was posted or last deferred
    int deferrals_ = 0;
    std::size_t largest_round_ = 0; ///< since the last `trim`
    std::vector<Entry> pending_;
    std::vector<Entry> running_;
};

} // namespace switchboard::detail
