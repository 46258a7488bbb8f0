// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// MemoryHistory's members. A stream stays in its shard's list while a call changes it, and then
// moves to the front of the list its events now say, as the most recently used: unless it is in
// that list already and was used in this second, since a list is ordered to the second (see
// `put_back`).

#include <time.h>

#include <algorithm>
#include <utility>

namespace switchboard {

namespace detail {

/// Counters written only under a lock, read without one.
template <class T>
void add(std::atomic<T>& counter, T amount) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}
template <class T>
void subtract(std::atomic<T>& counter, T amount) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) - amount, std::memory_order_relaxed);
}

/// What a stream's record takes besides its events and its map's buckets: the map node (key,
/// stream, next link, cached hash) and malloc's header.
inline constexpr std::size_t stream_record_bytes =
    sizeof(std::pair<const UserId, MemoryStream>) + sizeof(void*) + sizeof(std::size_t) + 16;

/// `steady_clock::now()` to a few milliseconds: CLOCK_MONOTONIC_COARSE where there is one, the
/// same clock read in ~5 ns rather than ~30 (a TSC read under a hypervisor), which is all a clock
/// counted in seconds needs.
inline std::chrono::steady_clock::time_point coarse_steady_now() noexcept {
#ifdef CLOCK_MONOTONIC_COARSE
    timespec now{};
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &now) == 0)
        return std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec)));
#endif
    return std::chrono::steady_clock::now();
}

} // namespace detail

inline MemoryHistory::MemoryHistory(MemoryHistoryOptions options)
    : options_(std::move(options)),
      origin_(options_.clock ? options_.clock() : detail::coarse_steady_now()) {}

inline StreamTop MemoryHistory::append(const UserId& user, const StoredEvent& event) {
    return use(user, Missing::make, [&](Shard& shard, detail::MemoryStream& stream, std::uint32_t time) {
        push(shard, stream, event, time);
        expire_least_recent(shard, time);
    });
}

inline StreamTop MemoryHistory::open(const UserId& user) {
    return use(user, Missing::stay_unborn, [](Shard&, detail::MemoryStream&, std::uint32_t) {});
}

/// Takes the user's stream (making it if there is none, unless `missing` says to leave an unborn
/// user so), drops what expired, lets `change(shard, stream, now)` act, puts it back, and returns
/// its top; then makes room under the memory cap. One lock and one lookup in every case.
template <class Change>
StreamTop MemoryHistory::use(const UserId& user, Missing missing, Change&& change) {
    const std::uint32_t time = now();
    Shard& shard = shard_of(user);
    StreamTop top;
    {
        std::lock_guard lock(shard.mutex);
        const auto found = shard.streams.find(user);
        if (found == shard.streams.end() && missing == Missing::stay_unborn && !shard.forgot_a_stream)
            return StreamTop{{shard.unborn_epoch, 0}, /*created=*/false};
        bool made = false;
        detail::MemoryStream& stream = find_or_make(shard, found, user, time, made, top.created);
        detail::StreamList* const listed = made ? nullptr : &list_of(shard, stream);
        expire(shard, stream, time);
        change(shard, stream, time);
        put_back(shard, stream, listed, time);
        top.position = {stream.epoch, stream.top};
        settle(shard);
    }
    if (options_.memory_cap != 0 && memory_.load(std::memory_order_relaxed) > options_.memory_cap) reclaim();
    return top;
}

inline std::optional<std::vector<StoredEvent>> MemoryHistory::read(const UserId& user, const StreamPosition& after,
                                                                   std::uint64_t upto) {
    const std::uint32_t time = now();
    Shard& shard = shard_of(user);
    std::lock_guard lock(shard.mutex);
    const auto found = shard.streams.find(user);
    if (found == shard.streams.end() || found->second.epoch != after.epoch) return std::nullopt;
    detail::MemoryStream& stream = found->second;
    detail::StreamList& listed = list_of(shard, stream);
    expire(shard, stream, time);
    std::optional<std::vector<StoredEvent>> events;
    const std::uint64_t first = stream.first_offset();
    if (after.offset + 1 >= first && after.offset <= upto && upto <= stream.top) {
        events.emplace();
        events->reserve(upto - after.offset);
        for (std::uint64_t offset = after.offset + 1; offset <= upto; ++offset)
            events->push_back(stream.events[offset - first].event);
    }
    put_back(shard, stream, &listed, time);
    settle(shard);
    return events;
}

inline HistoryMetrics MemoryHistory::metrics() const {
    constexpr auto relaxed = std::memory_order_relaxed;
    HistoryMetrics metrics;
    for (const Shard& shard : shards_) {
        const Counters& counters = shard.counters;
        metrics.streams += counters.streams.load(relaxed);
        metrics.events += counters.events.load(relaxed);
        metrics.bytes += counters.bytes.load(relaxed);
        metrics.appended += counters.appended.load(relaxed);
        metrics.dropped_over_events += counters.dropped_over_events.load(relaxed);
        metrics.dropped_over_bytes += counters.dropped_over_bytes.load(relaxed);
        metrics.expired += counters.expired.load(relaxed);
        metrics.evicted_events += counters.evicted_events.load(relaxed);
        metrics.evicted_streams += counters.evicted_streams.load(relaxed);
    }
    metrics.memory = memory_.load(relaxed);
    return metrics;
}

/// Seconds since construction on the store's clock.
inline std::uint32_t MemoryHistory::now() const {
    const auto now = options_.clock ? options_.clock() : detail::coarse_steady_now();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - origin_).count();
    return static_cast<std::uint32_t>(std::max<decltype(seconds)>(seconds, 0));
}

/// The user's stream (`found` by the caller); a new one (top 0, in no list yet: `made`) if there is
/// none, in the shard's unborn epoch while it can tell that the user never had one, else in a new
/// epoch (`created`).
inline detail::MemoryStream& MemoryHistory::find_or_make(Shard& shard, StreamMap::iterator found,
                                                         const UserId& user, std::uint32_t now, bool& made,
                                                         bool& created) {
    made = found == shard.streams.end();
    created = made && shard.forgot_a_stream;
    if (made) {
        const std::size_t buckets = shard.streams.bucket_count(); // a map never gives buckets back
        const Epoch epoch = created ? Epoch::random() : shard.unborn_epoch;
        found = shard.streams.try_emplace(user, user, epoch).first;
        found->second.last_used = now;
        charge(shard, detail::stream_record_bytes + (shard.streams.bucket_count() - buckets) * sizeof(void*));
        detail::add<std::size_t>(shard.counters.streams, 1);
        return found->second;
    }
    return found->second;
}

/// The list a stream's events say it belongs in.
inline detail::StreamList& MemoryHistory::list_of(Shard& shard, const detail::MemoryStream& stream) {
    return stream.events.empty() ? shard.idle : shard.holding;
}

/// Makes the stream the most recently used of the list its events say, from `listed` (null: from
/// none). Every stream ahead of one used in this second was used in it too, so such a stream
/// that stays in its list is left where it is: the order to the second is the same, and an
/// append to a busy stream touches no other stream's links (two cache misses fewer per append).
inline void MemoryHistory::put_back(Shard& shard, detail::MemoryStream& stream, detail::StreamList* listed,
                                    std::uint32_t now) {
    detail::StreamList& list = list_of(shard, stream);
    if (listed == &list && stream.last_used == now) return;
    if (listed) listed->remove(stream);
    stream.last_used = now;
    list.push_newest(stream);
}

/// Appends at the next offset, making room first under the event bound, then drops the oldest
/// events over the byte bound.
inline void MemoryHistory::push(Shard& shard, detail::MemoryStream& stream, const StoredEvent& event,
                                std::uint32_t now) {
    const std::size_t max_events = options_.max_events_per_user;
    while (max_events != 0 && stream.events.size() >= max_events)
        drop_oldest(shard, stream, shard.counters.dropped_over_events);
    const std::size_t buffer_before = stream.events.buffer_bytes();
    stream.events.push_back(event, now, max_events);
    charge(shard, stream.events.buffer_bytes() - buffer_before + event.memory_size());
    ++stream.top;
    stream.bytes += event.size();
    stream.last_appended = now;
    detail::add<std::uint64_t>(shard.counters.appended, 1);
    detail::add<std::size_t>(shard.counters.events, 1);
    detail::add(shard.counters.bytes, event.size());
    const std::size_t max_bytes = options_.max_bytes_per_user;
    while (max_bytes != 0 && stream.bytes > max_bytes) drop_oldest(shard, stream, shard.counters.dropped_over_bytes);
}

/// Drops the stream's oldest event, counted under `reason`.
inline void MemoryHistory::drop_oldest(Shard& shard, detail::MemoryStream& stream,
                                       std::atomic<std::uint64_t>& reason) {
    const StoredEvent& event = stream.events.front().event;
    stream.bytes -= event.size();
    refund(shard, event.memory_size());
    detail::subtract(shard.counters.bytes, event.size());
    detail::subtract<std::size_t>(shard.counters.events, 1);
    detail::add<std::uint64_t>(reason, 1);
    stream.events.pop_front();
}

/// Drops the stream's events older than `max_age`.
inline void MemoryHistory::expire(Shard& shard, detail::MemoryStream& stream, std::uint32_t now) {
    const auto max_age = static_cast<std::uint64_t>(options_.max_age.count());
    while (max_age != 0 && !stream.events.empty() && stream.events.oldest_time() + max_age <= now)
        drop_oldest(shard, stream, shard.counters.expired);
}

/// Looks at the shard's least recently used stream with events: when even its last event has
/// expired, all of them have, and its buffer is freed. One stream per append is enough to keep
/// up, since each append makes at most one stream hold events.
inline void MemoryHistory::expire_least_recent(Shard& shard, std::uint32_t now) {
    detail::MemoryStream* stream = shard.holding.oldest();
    const auto max_age = static_cast<std::uint64_t>(options_.max_age.count());
    if (!stream || max_age == 0 || stream->last_appended + max_age > now) return;
    shard.holding.remove(*stream);
    clear_events(shard, *stream, shard.counters.expired);
    shard.idle.push_newest(*stream);
}

/// Drops every event of a stream (not in a list) and frees its buffer.
inline void MemoryHistory::clear_events(Shard& shard, detail::MemoryStream& stream,
                                        std::atomic<std::uint64_t>& reason) {
    while (!stream.events.empty()) drop_oldest(shard, stream, reason);
    refund(shard, stream.events.buffer_bytes());
    stream.events.clear();
}

/// Forgets the shard's least recently used stream whole; false if the shard has none.
inline bool MemoryHistory::evict_least_recent(Shard& shard) {
    detail::MemoryStream* const holding = shard.holding.oldest();
    detail::MemoryStream* const idle = shard.idle.oldest();
    detail::MemoryStream* const victim =
        !holding ? idle : !idle ? holding : holding->last_used <= idle->last_used ? holding : idle;
    if (!victim) return false;
    (victim->events.empty() ? shard.idle : shard.holding).remove(*victim);
    clear_events(shard, *victim, shard.counters.evicted_events);
    const UserId user = victim->user; // not a reference into the node being erased
    shard.streams.erase(user);
    shard.forgot_a_stream = true;
    refund(shard, detail::stream_record_bytes);
    detail::subtract<std::size_t>(shard.counters.streams, 1);
    detail::add<std::uint64_t>(shard.counters.evicted_streams, 1);
    return true;
}

/// Evicts streams, one shard at a time, until the store is back within its cap (or empty).
inline void MemoryHistory::reclaim() {
    std::size_t empty_in_a_row = 0;
    while (memory_.load(std::memory_order_relaxed) > options_.memory_cap && empty_in_a_row < shard_count) {
        Shard& shard = shards_[reclaim_cursor_.fetch_add(1, std::memory_order_relaxed) % shard_count];
        std::lock_guard lock(shard.mutex);
        empty_in_a_row = evict_least_recent(shard) ? 0 : empty_in_a_row + 1;
        settle(shard);
    }
}

inline void MemoryHistory::settle(Shard& shard) noexcept {
    if (shard.unsettled_memory == 0) return;
    memory_.fetch_add(shard.unsettled_memory, std::memory_order_relaxed);
    shard.unsettled_memory = 0;
}

} // namespace switchboard
