// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `MemoryHistory`: the embedded `History` store, in this process's memory (no server needed).
///
/// Each user's stream keeps its most recent events within every bound below, and its epoch and
/// top for longer: an event dropped for a bound or its age turns a position before it into
/// `Recovery::unavailable`, but the numbering goes on. A stream is forgotten whole (epoch and top
/// too, so it gets a new epoch if it comes back) only when the memory cap makes room. A restart
/// forgets every stream: epochs are random, so no position from before is ever taken for one
/// after.
///
/// Memory: each retained event costs its serialized text once per call that appended it (an
/// event sent to ten users is stored once), plus a 16-byte entry in each stream and the text's
/// malloc header. The cap counts every stream's copy of a shared event (it errs high), each
/// stream's entries and record, so the store stays within the cap whatever the traffic (plus
/// what appends under way add); past it, whole least-recently-used streams are evicted: the
/// least recently used (to the second) of one shard at a time, shards in turn.
///
/// Threads: every member may be called from any thread. Streams are sharded by user, each shard
/// under its own mutex, so appends to users of different shards do not contend; no call holds
/// more than one shard lock at a time, and none calls out of the store. `metrics()` reads relaxed
/// atomics without locking.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <switchboard/detail/memory_stream.hpp>
#include <switchboard/history.hpp>

namespace switchboard {

/// The bounds of a `MemoryHistory`; 0 disables one.
struct MemoryHistoryOptions {
    std::size_t max_events_per_user = 1000;        ///< a stream's oldest events dropped beyond it
    std::size_t max_bytes_per_user = 1024 * 1024;  ///< serialized size; the oldest dropped beyond it
    std::chrono::seconds max_age = std::chrono::hours(24); ///< older events dropped (to the second)
    std::size_t memory_cap = 256 * 1024 * 1024;    ///< whole least-recently-used streams evicted beyond it
    /// The time source for `max_age` (tests inject one); `std::chrono::steady_clock::now` if empty.
    std::function<std::chrono::steady_clock::time_point()> clock;
};

class MemoryHistory final : public History {
public:
    explicit MemoryHistory(MemoryHistoryOptions options = {});
    MemoryHistory(const MemoryHistory&) = delete;
    MemoryHistory& operator=(const MemoryHistory&) = delete;

    StreamTop append(const UserId& user, const StoredEvent& event) override;
    StreamTop open(const UserId& user) override;
    std::optional<std::vector<StoredEvent>> read(const UserId& user, const StreamPosition& after,
                                                std::uint64_t upto) override;
    HistoryMetrics metrics() const override;

    const MemoryHistoryOptions& options() const noexcept { return options_; }

private:
    static constexpr std::size_t shard_count = 64;

    /// Written under the shard's mutex, read without it.
    struct Counters {
        std::atomic<std::size_t> streams{0}, events{0}, bytes{0};
        std::atomic<std::uint64_t> appended{0}, dropped_over_events{0}, dropped_over_bytes{0}, expired{0},
            evicted_events{0}, evicted_streams{0};
    };

    struct alignas(64) Shard {
        std::mutex mutex;
        std::unordered_map<UserId, detail::MemoryStream> streams;
        detail::StreamList holding; ///< streams with events, most recently used first
        detail::StreamList idle;    ///< streams with none, only their epoch and top
        Counters counters;
        /// What the current call changed the memory count by (modulo 2^64), added to the total
        /// once before the mutex is released: an append to a full stream usually changes it by
        /// nothing, and then costs no atomic read-modify-write on the shared total.
        std::size_t unsettled_memory = 0;
        /// Until the shard forgets a stream whole, a user without one never had one: such a user
        /// is opened at (`unborn_epoch`, 0) with no stream made (most users of a server never get
        /// a durable event, and a stream costs ~230 bytes), and the first append makes it in that
        /// epoch. Once it has forgotten one it cannot tell, and makes streams at open, each in an
        /// epoch of its own, reported as `created`.
        const Epoch unborn_epoch = Epoch::random();
        bool forgot_a_stream = false;
    };

    /// What `use` does for a user without a stream: make one, or (open) leave them unborn when
    /// the shard can tell they never had one.
    enum class Missing { make, stay_unborn };
    template <class Change>
    StreamTop use(const UserId& user, Missing missing, Change&& change);
    std::uint32_t now() const;
    Shard& shard_of(const UserId& user) { return shards_[std::hash<UserId>{}(user) % shard_count]; }

    // Under the shard's mutex:
    using StreamMap = decltype(Shard::streams);
    detail::MemoryStream& find_or_make(Shard& shard, StreamMap::iterator found, const UserId& user,
                                       std::uint32_t now, bool& made, bool& created);
    static detail::StreamList& list_of(Shard& shard, const detail::MemoryStream& stream);
    void put_back(Shard& shard, detail::MemoryStream& stream, detail::StreamList* listed, std::uint32_t now);
    void push(Shard& shard, detail::MemoryStream& stream, const StoredEvent& event, std::uint32_t now);
    void drop_oldest(Shard& shard, detail::MemoryStream& stream, std::atomic<std::uint64_t>& reason);
    void expire(Shard& shard, detail::MemoryStream& stream, std::uint32_t now);
    void expire_least_recent(Shard& shard, std::uint32_t now);
    void clear_events(Shard& shard, detail::MemoryStream& stream, std::atomic<std::uint64_t>& reason);
    bool evict_least_recent(Shard& shard);

    void reclaim();
    static void charge(Shard& shard, std::size_t bytes) noexcept { shard.unsettled_memory += bytes; }
    static void refund(Shard& shard, std::size_t bytes) noexcept { shard.unsettled_memory -= bytes; }
    void settle(Shard& shard) noexcept;

    const MemoryHistoryOptions options_;
    const std::chrono::steady_clock::time_point origin_;
    std::array<Shard, shard_count> shards_;
    std::atomic<std::size_t> memory_{0};
    std::atomic<std::size_t> reclaim_cursor_{0}; ///< the shard `reclaim` visits next
};

} // namespace switchboard

#include <switchboard/impl/memory_history.hpp>
