// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex> // std::lock_guard

#include <switchboard/detail/spin_lock.hpp>

namespace switchboard::detail {

/// Inbound rate limit of one connection: `rate` tokens a second, at most `burst` saved up.
/// A message takes a token; a message finding none is refused, and `max_strikes` refusals in
/// a row make the sender abusive. Thread-safe.
///
/// Every connection has a bucket, so a bucket keeps only its level, in 24 bytes: the settings are
/// the manager's, passed to each call.
class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;
    enum class Verdict { allowed, limited, abusive };

    struct Settings {
        double rate = 0; ///< tokens a second; 0 means unlimited
        double burst = 1;
        std::size_t max_strikes = 0;
    };

    /// Starts full.
    explicit TokenBucket(const Settings& settings, Clock::time_point now = Clock::now())
        : tokens_(capacity(settings)), last_(now) {}

    Verdict take(const Settings& settings, Clock::time_point now = Clock::now()) {
        if (settings.rate <= 0) return Verdict::allowed;
        std::lock_guard lock(lock_);
        const std::chrono::duration<double> elapsed = now - last_;
        tokens_ = std::min(capacity(settings), tokens_ + std::max(elapsed.count(), 0.0) * settings.rate);
        last_ = std::max(last_, now);
        if (tokens_ >= 1.0) {
            tokens_ -= 1.0;
            strikes_ = 0;
            return Verdict::allowed;
        }
        if (strikes_ != std::numeric_limits<std::uint32_t>::max()) ++strikes_;
        return strikes_ > settings.max_strikes ? Verdict::abusive : Verdict::limited;
    }

private:
    static double capacity(const Settings& settings) { return std::max(settings.burst, 1.0); }

    SpinLock lock_;
    std::uint32_t strikes_ = 0;
    double tokens_;
    Clock::time_point last_;
};

} // namespace switchboard::detail
