// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <mutex>

namespace switchboard::detail {

/// Inbound rate limit of one connection: `rate` tokens a second, at most `burst` saved up.
/// A message takes a token; a message finding none is refused, and `max_strikes` refusals in
/// a row make the sender abusive. Thread-safe.
class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;
    enum class Verdict { allowed, limited, abusive };

    /// `rate == 0` means unlimited.
    TokenBucket(double rate, double burst, std::size_t max_strikes, Clock::time_point now = Clock::now())
        : rate_(rate), burst_(std::max(burst, 1.0)), max_strikes_(max_strikes), tokens_(burst_), last_(now) {}

    Verdict take(Clock::time_point now = Clock::now()) {
        if (rate_ <= 0) return Verdict::allowed;
        std::lock_guard lock(mutex_);
        const std::chrono::duration<double> elapsed = now - last_;
        tokens_ = std::min(burst_, tokens_ + std::max(elapsed.count(), 0.0) * rate_);
        last_ = std::max(last_, now);
        if (tokens_ >= 1.0) {
            tokens_ -= 1.0;
            strikes_ = 0;
            return Verdict::allowed;
        }
        return ++strikes_ > max_strikes_ ? Verdict::abusive : Verdict::limited;
    }

private:
    const double rate_;
    const double burst_;
    const std::size_t max_strikes_;
    std::mutex mutex_;
    double tokens_;
    Clock::time_point last_;
    std::size_t strikes_ = 0;
};

} // namespace switchboard::detail
