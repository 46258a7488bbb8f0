// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The parts of one MemoryHistory stream: its events (`EventRing`) and its place among the
// streams of its shard (`StreamList`, least recently used last). Not thread-safe: a shard's
// mutex guards them.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

#include <switchboard/history.hpp>
#include <switchboard/stream_position.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard::detail {

/// A stream's events, oldest first, each with the time it was appended (seconds on the store's
/// clock). A ring buffer of 16-byte entries, doubled when full up to the stream's event bound
/// and freed by `clear`: a retained event costs its entry plus its `StoredEvent`. A full stream
/// at its bound drops its oldest event before it appends (`pop_front`, then `push_back`), so the
/// new event takes the slot the old one left: the one cache line an append touches.
class EventRing {
public:
    struct Entry {
        StoredEvent event;
        std::uint32_t time;
    };

    EventRing() = default;
    EventRing(const EventRing&) = delete;
    EventRing& operator=(const EventRing&) = delete;
    ~EventRing() { clear(); }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    /// `i` from the oldest (0).
    const Entry& operator[](std::size_t i) const noexcept { return slots_[slot(i)]; }
    const Entry& front() const noexcept { return slots_[head_]; }
    /// `front().time`, kept beside the buffer so that an expiry check touches only the stream.
    std::uint32_t oldest_time() const noexcept { return oldest_time_; }

    /// Grows the buffer when full, to at most `bound` entries (0: no bound) but always to room for one more.
    void push_back(StoredEvent event, std::uint32_t time, std::size_t bound) {
        if (size_ == capacity_) grow(bound);
        new (&slots_[slot(size_)]) Entry{std::move(event), time};
        if (size_++ == 0) oldest_time_ = time;
    }

    void pop_front() noexcept {
        slots_[head_].~Entry();
        head_ = slot(1);
        if (--size_ != 0) oldest_time_ = slots_[head_].time;
    }

    /// Drops every event and frees the buffer.
    void clear() noexcept {
        while (size_ != 0) pop_front();
        if (slots_) std::allocator<Entry>().deallocate(slots_, capacity_);
        slots_ = nullptr;
        capacity_ = head_ = 0;
    }

    /// What the buffer takes from malloc, its header included (0 when freed).
    std::size_t buffer_bytes() const noexcept { return capacity_ == 0 ? 0 : capacity_ * sizeof(Entry) + 16; }

private:
    /// The slot of entry `i` (at most `capacity_` past the oldest).
    std::uint32_t slot(std::size_t i) const noexcept {
        const std::size_t index = head_ + i;
        return static_cast<std::uint32_t>(index >= capacity_ ? index - capacity_ : index);
    }

    void grow(std::size_t bound) {
        std::size_t capacity = capacity_ == 0 ? 4 : std::size_t{capacity_} * 2;
        if (bound != 0) capacity = std::max<std::size_t>(std::min(capacity, bound), size_ + 1);
        if (capacity > 0xFFFFFFFF) throw std::length_error("EventRing: too many events");
        Entry* slots = std::allocator<Entry>().allocate(capacity);
        for (std::uint32_t i = 0; i < size_; ++i) {
            Entry& old = slots_[slot(i)];
            new (&slots[i]) Entry{std::move(old)};
            old.~Entry();
        }
        if (slots_) std::allocator<Entry>().deallocate(slots_, capacity_);
        slots_ = slots;
        capacity_ = static_cast<std::uint32_t>(capacity);
        head_ = 0;
    }

    Entry* slots_ = nullptr;
    std::uint32_t capacity_ = 0;
    std::uint32_t head_ = 0;
    std::uint32_t size_ = 0;
    std::uint32_t oldest_time_ = 0;
};

/// One user's stream: its epoch and top (kept after its events are gone), its events, and its
/// links in the shard's list of streams.
struct MemoryStream {
    MemoryStream(const UserId& user_, Epoch epoch_) : user(user_), epoch(epoch_) {}

    /// The offset of the oldest event kept (top + 1 when none is).
    std::uint64_t first_offset() const noexcept { return top - events.size() + 1; }

    const UserId user;
    const Epoch epoch;
    std::uint64_t top = 0; ///< the offset of the last event appended; 0 before the first
    EventRing events;
    std::size_t bytes = 0;          ///< the events' serialized size
    std::uint32_t last_used = 0;    ///< appended to, opened or read (seconds on the store's clock)
    std::uint32_t last_appended = 0;
    MemoryStream* newer = nullptr; ///< in its `StreamList`
    MemoryStream* older = nullptr;
};

/// An intrusive list of streams, most recently used first.
class StreamList {
public:
    bool empty() const noexcept { return newest_ == nullptr; }
    MemoryStream* oldest() const noexcept { return oldest_; }

    void push_newest(MemoryStream& stream) noexcept {
        stream.newer = nullptr;
        stream.older = newest_;
        (newest_ ? newest_->newer : oldest_) = &stream;
        newest_ = &stream;
    }

    void remove(MemoryStream& stream) noexcept {
        (stream.newer ? stream.newer->older : newest_) = stream.older;
        (stream.older ? stream.older->newer : oldest_) = stream.newer;
        stream.newer = stream.older = nullptr;
    }

private:
    MemoryStream* newest_ = nullptr;
    MemoryStream* oldest_ = nullptr;
};

} // namespace switchboard::detail
