// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What the load tests need to know about their own process: its resident memory, and whether a sanitizer
// slows it down (ThreadSanitizer: 5-15x) or keeps freed memory resident (AddressSanitizer's quarantine).

#include <cstddef>

namespace integration {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool thread_sanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool thread_sanitized = true;
#else
inline constexpr bool thread_sanitized = false;
#endif
#else
inline constexpr bool thread_sanitized = false;
#endif

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool address_sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool address_sanitized = true;
#else
inline constexpr bool address_sanitized = false;
#endif
#else
inline constexpr bool address_sanitized = false;
#endif

/// `count` for a plain build; a quarter of it under AddressSanitizer (about 2-3 times slower) and a tenth under
/// ThreadSanitizer (5-15 times slower); at least 1.
constexpr std::size_t scaled(std::size_t count) {
    const std::size_t divisor = thread_sanitized ? 10 : address_sanitized ? 4 : 1;
    return (count + divisor - 1) / divisor;
}

/// Whether resident memory tells whether memory was freed, which only a plain build's does. AddressSanitizer
/// keeps freed blocks in a quarantine (256 MiB by default) to catch use-after-free, so there RSS grows with what
/// was allocated, freed or not (its LeakSanitizer checks for leaks at exit instead); ThreadSanitizer's shadow
/// memory and per-thread histories grow by tens of MiB in a churn test and are not given back.
inline constexpr bool rss_reflects_frees = !address_sanitized && !thread_sanitized;

/// This process's resident set size (VmRSS in /proc/self/status), in bytes.
std::size_t resident_bytes();

inline constexpr std::size_t mebibytes = 1024 * 1024;

} // namespace integration
