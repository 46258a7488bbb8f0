// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace switchboard::detail {

/// Gives the heap a burst freed back to the system once the burst is over. glibc keeps freed heap
/// for the process's life unless it lies at the top of an arena, so a connect storm's transient
/// frames, write rounds and presence diffs stayed in the server's RSS (254 MB after a
/// `--presence all` storm of 3,000 users, 46 MB once `malloc_trim(0)` was called); `malloc_trim`
/// returns every whole free page. It walks the heap, so it runs once a burst, not every tick: a
/// tick that gave back grown storage marks a burst, and the first tick after it that gave back
/// none (the burst is over) trims.
///
/// Threads: one caller at a time (the endpoint's ticker).
class HeapTrim {
public:
    using Trim = std::function<void()>;

    explicit HeapTrim(Trim trim = release_free_pages) : trim_(std::move(trim)) {}

    /// Once a tick: whether this tick gave back storage that a burst had grown.
    void tick(bool released_grown_storage) {
        if (released_grown_storage) {
            in_burst_ = true;
            return;
        }
        if (!in_burst_) return;
        in_burst_ = false;
        trim_();
        ++trims_;
    }

    /// Trims so far.
    std::uint64_t trims() const noexcept { return trims_; }

    /// glibc's `malloc_trim(0)`; nothing where the allocator is another.
    static void release_free_pages() {
#if defined(__GLIBC__)
        malloc_trim(0);
#endif
    }

private:
    Trim trim_;
    bool in_burst_ = false;
    std::uint64_t trims_ = 0;
};

} // namespace switchboard::detail
