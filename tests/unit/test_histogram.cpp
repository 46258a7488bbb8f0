// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <switchboard/metrics/histogram.hpp>

using switchboard::Histogram;

TEST_CASE("Histogram: an observation counts in the first bucket whose bound it does not exceed", "[histogram]") {
    Histogram histogram({10, 100, 1000});
    for (std::uint64_t value : {0, 10, 11, 100, 999, 1000, 1001, 50000}) histogram.observe(value);
    const Histogram::Snapshot snapshot = histogram.snapshot();
    CHECK(snapshot.upper_bounds == std::vector<std::uint64_t>{10, 100, 1000});
    CHECK(snapshot.cumulative == std::vector<std::uint64_t>{2, 4, 6, 8});
    CHECK(snapshot.count() == 8);
    CHECK(snapshot.sum == 0 + 10 + 11 + 100 + 999 + 1000 + 1001 + 50000);
}

TEST_CASE("Histogram: exponential bounds grow by the factor and stay strictly ascending", "[histogram]") {
    CHECK(Histogram::exponential(1000, 4, 4).snapshot().upper_bounds == std::vector<std::uint64_t>{1000, 4000, 16000, 64000});
    // Rounding would repeat 1 and 2; each bound is at least one more than the one before.
    CHECK(Histogram::exponential(1, 1.2, 4).snapshot().upper_bounds == std::vector<std::uint64_t>{1, 2, 3, 4});
    CHECK_THROWS_AS(Histogram::exponential(0, 2, 3), std::invalid_argument);
    CHECK_THROWS_AS(Histogram::exponential(1, 1, 3), std::invalid_argument);
    CHECK_THROWS_AS(Histogram({5, 5}), std::invalid_argument);
    CHECK_THROWS_AS(Histogram({5, 4}), std::invalid_argument);
}

TEST_CASE("Histogram: an empty one reads as zero everywhere", "[histogram]") {
    const Histogram::Snapshot snapshot = Histogram({1, 2}).snapshot();
    CHECK(snapshot.cumulative == std::vector<std::uint64_t>{0, 0, 0});
    CHECK(snapshot.count() == 0);
    CHECK(snapshot.sum == 0);
}

TEST_CASE("Histogram: observations from several threads are all counted", "[histogram][concurrency]") {
    constexpr int threads = 4;
    constexpr std::uint64_t each = 20000;
    Histogram histogram({1, 2, 3});
    std::vector<std::thread> observers;
    for (int t = 0; t < threads; ++t)
        observers.emplace_back([&] {
            for (std::uint64_t i = 0; i < each; ++i) histogram.observe(i % 4); // 0 1 2 3 in turn
        });
    for (std::thread& observer : observers) observer.join();
    const Histogram::Snapshot snapshot = histogram.snapshot();
    CHECK(snapshot.cumulative == std::vector<std::uint64_t>{threads * each / 2, threads * each * 3 / 4, threads * each,
                                                           threads * each});
    CHECK(snapshot.sum == threads * (each / 4) * (0 + 1 + 2 + 3));
}

TEST_CASE("Histogram: a weighted observation counts as that many, and zero times as none", "[histogram]") {
    Histogram histogram({10, 100});
    histogram.observe(50, 3);
    histogram.observe(5000, 0);
    const Histogram::Snapshot snapshot = histogram.snapshot();
    CHECK(snapshot.cumulative == std::vector<std::uint64_t>{0, 3, 3});
    CHECK(snapshot.sum == 150);
}

TEST_CASE("Histogram: a timer observes the nanoseconds of its lifetime", "[histogram]") {
    Histogram histogram({1'000'000, 1'000'000'000}); // 1 ms, 1 s
    {
        const switchboard::HistogramTimer timer(histogram);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const Histogram::Snapshot snapshot = histogram.snapshot();
    CHECK(snapshot.cumulative == std::vector<std::uint64_t>{0, 1, 1});
    CHECK(snapshot.sum >= 2'000'000);
}
