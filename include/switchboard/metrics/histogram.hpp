// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `Histogram`: a distribution of non-negative integer observations (nanoseconds, bytes) over
/// fixed buckets, recorded without locks, for the Prometheus text format (`prometheus.hpp`).
///
/// Threads: `observe` may be called from any number of threads at once; it costs a binary search
/// over the bounds and two relaxed atomic increments (a `HistogramTimer` adds two clock reads, on
/// every call or on a `TimingSample` of them). `snapshot` may be called from any thread at
/// any time: each bucket is exact, but buckets and sum read together need not come from one
/// instant (an observation made meanwhile may be in the buckets and not yet in the sum). The
/// count is the buckets' total, so it always equals the `+Inf` bucket.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace switchboard {

class Histogram {
public:
    /// What a histogram held when it was read. `cumulative[i]` counts observations up to
    /// `upper_bounds[i]`; the last entry of `cumulative` (one more than the bounds) is every one.
    struct Snapshot {
        std::vector<std::uint64_t> upper_bounds;
        std::vector<std::uint64_t> cumulative;
        std::uint64_t sum = 0;

        std::uint64_t count() const noexcept { return cumulative.empty() ? 0 : cumulative.back(); }
    };

    /// Buckets up to each of `upper_bounds`, which must ascend strictly, plus one above them all.
    explicit Histogram(std::vector<std::uint64_t> upper_bounds)
        : upper_bounds_(std::move(upper_bounds)),
          buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1)) {
        if (std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end(), std::greater_equal<>()) !=
            upper_bounds_.end())
            throw std::invalid_argument("Histogram: bucket bounds must ascend strictly");
    }

    /// `count` bounds from `first`, each `factor` times the one before (rounded, and at least one
    /// more than it): e.g. `exponential(1'000, 4, 10)` spans 1 µs to 262 ms in nanoseconds.
    static Histogram exponential(std::uint64_t first, double factor, std::size_t count) {
        if (first == 0 || factor <= 1) throw std::invalid_argument("Histogram: needs first > 0 and factor > 1");
        std::vector<std::uint64_t> bounds;
        double bound = static_cast<double>(first);
        for (std::size_t i = 0; i < count; ++i, bound *= factor) {
            const auto rounded = static_cast<std::uint64_t>(std::llround(bound));
            bounds.push_back(bounds.empty() ? rounded : std::max(rounded, bounds.back() + 1));
        }
        return Histogram(std::move(bounds));
    }

    /// `times` observations of `value` at the cost of one (a frame sent to that many connections).
    void observe(std::uint64_t value, std::uint64_t times = 1) noexcept {
        if (times == 0) return;
        const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
        buckets_[static_cast<std::size_t>(bucket)].fetch_add(times, std::memory_order_relaxed);
        sum_.fetch_add(value * times, std::memory_order_relaxed);
    }

    Snapshot snapshot() const {
        Snapshot snapshot{upper_bounds_, {}, sum_.load(std::memory_order_relaxed)};
        snapshot.cumulative.reserve(upper_bounds_.size() + 1);
        std::uint64_t running = 0;
        for (std::size_t i = 0; i <= upper_bounds_.size(); ++i)
            snapshot.cumulative.push_back(running += buckets_[i].load(std::memory_order_relaxed));
        return snapshot;
    }

private:
    const std::vector<std::uint64_t> upper_bounds_;
    const std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_; ///< not cumulative; the last: above every bound
    std::atomic<std::uint64_t> sum_{0};
};

/// Which calls of one call site are timed: one in `period` on each thread, its first included.
/// Declare one `thread_local` per call site, so that a thread alternating between two sites
/// times both. A histogram timed this way counts the calls timed, not every call.
class TimingSample {
public:
    static constexpr std::uint32_t period = 16;
    bool next() noexcept { return calls_++ % period == 0; }

private:
    std::uint32_t calls_ = 0;
};

/// Observes the nanoseconds from its construction to its destruction (a steady clock's): always,
/// or when `sample` says so (the others read no clock: two reads are ~60 ns in a VM).
class HistogramTimer {
public:
    explicit HistogramTimer(Histogram& histogram) noexcept
        : histogram_(&histogram), began_(std::chrono::steady_clock::now()) {}
    HistogramTimer(Histogram& histogram, TimingSample& sample) noexcept
        : histogram_(sample.next() ? &histogram : nullptr),
          began_(histogram_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{}) {}
    ~HistogramTimer() {
        if (!histogram_) return;
        const auto elapsed = std::chrono::steady_clock::now() - began_;
        histogram_->observe(static_cast<std::uint64_t>(std::chrono::nanoseconds(elapsed).count()));
    }
    HistogramTimer(const HistogramTimer&) = delete;
    HistogramTimer& operator=(const HistogramTimer&) = delete;

private:
    Histogram* const histogram_; ///< null: not timed
    const std::chrono::steady_clock::time_point began_;
};

} // namespace switchboard
