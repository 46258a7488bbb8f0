// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The parts of one MemoryHistory stream: its events (`EventRing`) and its place among the
// streams of its shard (`StreamList`, least recently used last). Not thread-safe: a shard's
// mutex guards them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include <switchboard/history.hpp>
#include <switchboard/stream_position.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard::detail {

/// A stream's events, oldest first, each with the time it was appended (seconds on the store's
/// clock). A ring buffer of 16-byte entries whose capacity is a power of two, doubled when full
/// and freed by `clear`: a retained event costs its entry plus its `StoredEvent`.
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
    const Entry& operator[](std::size_t i) const noexcept { return slots_[(head_ + i) & (capacity_ - 1)]; }
    const Entry& front() const noexcept { return (*this)[0]; }

    void push_back(StoredEvent event, std::uint32_t time) {
        if (size_ == capacity_) grow();
        new (&slots_[(head_ + size_) & (capacity_ - 1)]) Entry{std::move(event), time};
        ++size_;
    }

    void pop_front() noexcept {
        slots_[head_].~Entry();
        head_ = (head_ + 1) & (capacity_ - 1);
        --size_;
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
    void grow() {
        const std::uint32_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;
        Entry* slots = std::allocator<Entry>().allocate(capacity);
        for (std::uint32_t i = 0; i < size_; ++i) {
            Entry& old = slots_[(head_ + i) & (capacity_ - 1)];
            new (&slots[i]) Entry{std::move(old)};
            old.~Entry();
        }
        if (slots_) std::allocator<Entry>().deallocate(slots_, capacity_);
        slots_ = slots;
        capacity_ = capacity;
        head_ = 0;
    }

    Entry* slots_ = nullptr;
    std::uint32_t capacity_ = 0; ///< 0 or a power of two
    std::uint32_t head_ = 0;
    std::uint32_t size_ = 0;
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
