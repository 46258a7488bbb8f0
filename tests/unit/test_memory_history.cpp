// MemoryHistory on its own, without a manager: offsets, each bound, expiry, eviction, memory.
#include <switchboard/history/memory.hpp>

#include <malloc.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

UserId user_number(std::uint64_t n) {
    UserId::Bytes bytes{};
    std::mt19937_64 engine(n);
    for (std::uint8_t& byte : bytes) byte = static_cast<std::uint8_t>(engine());
    return UserId(bytes);
}

const UserId alice = user_number(1);
const UserId bob = user_number(2);

StoredEvent note(std::size_t n, std::size_t padding = 0) {
    return StoredEvent(Event("Note", {{"n", n}, {"pad", std::string(padding, 'x')}}));
}

/// A clock the test moves by hand.
struct ManualClock {
    std::shared_ptr<std::chrono::steady_clock::time_point> now =
        std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::time_point{} + 1h);
    void advance(std::chrono::seconds by) { *now += by; }
    std::function<std::chrono::steady_clock::time_point()> source() const {
        return [now = now] { return *now; };
    }
};

MemoryHistoryOptions aging(const ManualClock& clock, std::chrono::seconds max_age) {
    MemoryHistoryOptions options;
    options.max_age = max_age;
    options.clock = clock.source();
    return options;
}

std::vector<std::uint64_t> offsets_of(MemoryHistory& history, const UserId& user, StreamPosition after,
                                      std::uint64_t upto) {
    std::vector<std::uint64_t> numbers;
    const auto events = history.read(user, after, upto);
    REQUIRE(events);
    for (const StoredEvent& event : *events)
        numbers.push_back(nlohmann::json::parse(event.text()).at("data").at("n").get<std::uint64_t>());
    return numbers;
}

/// Bytes malloc hands out now; 0 where a sanitizer's allocator does not report them.
std::size_t heap_in_use() { return mallinfo2().uordblks; }

} // namespace

TEST_CASE("offsets start at 1 and are contiguous per user, in the epoch the user was opened at", "[history][memory]") {
    MemoryHistory history;
    const StreamTop opened = history.open(alice);
    CHECK_FALSE(opened.created); // nobody was told another epoch of alice's
    CHECK(opened.position.offset == 0);
    for (std::uint64_t n = 1; n <= 5; ++n) {
        const StreamTop top = history.append(alice, note(n));
        CHECK(top.position == StreamPosition{opened.position.epoch, n});
        CHECK_FALSE(top.created);
    }
    const StreamTop other = history.append(bob, note(1));
    CHECK_FALSE(other.created);
    CHECK(other.position.offset == 1);
    CHECK(history.open(alice).position == StreamPosition{opened.position.epoch, 5});

    CHECK(offsets_of(history, alice, {opened.position.epoch, 2}, 5) == std::vector<std::uint64_t>{3, 4, 5});
    CHECK(offsets_of(history, alice, {opened.position.epoch, 0}, 2) == std::vector<std::uint64_t>{1, 2});
    CHECK(history.read(alice, {opened.position.epoch, 5}, 5)->empty());
    const HistoryMetrics metrics = history.metrics();
    CHECK(metrics.streams == 2);
    CHECK(metrics.events == 6);
    CHECK(metrics.appended == 6);
}

TEST_CASE("opening users who never get a durable event makes no stream and takes no memory", "[history][memory]") {
    MemoryHistory history;
    std::vector<StreamTop> opened;
    opened.reserve(1000);
    const std::size_t heap_before = heap_in_use();
    for (std::uint64_t u = 0; u < 1000; ++u) opened.push_back(history.open(user_number(1000 + u)));
    CHECK(heap_in_use() == heap_before);
    const HistoryMetrics metrics = history.metrics();
    CHECK(metrics.streams == 0);
    CHECK(metrics.memory == 0);
    // The first append makes the stream in the epoch its user was opened at.
    const UserId first = user_number(1000);
    CHECK(history.append(first, note(1)).position == StreamPosition{opened[0].position.epoch, 1});
    CHECK(history.metrics().streams == 1);
    CHECK(offsets_of(history, first, opened[0].position, 1) == std::vector<std::uint64_t>{1});
}

TEST_CASE("a read is all of the range or nothing", "[history][memory]") {
    MemoryHistory history;
    const Epoch epoch = history.append(alice, note(1)).position.epoch;
    history.append(alice, note(2));
    CHECK_FALSE(history.read(alice, {Epoch::random(), 0}, 2)); // another epoch
    CHECK_FALSE(history.read(alice, {epoch, 0}, 3));           // beyond the top
    CHECK_FALSE(history.read(alice, {epoch, 2}, 1));           // backwards
    CHECK_FALSE(history.read(bob, {epoch, 0}, 0));             // no stream
    CHECK(history.metrics().streams == 1);                     // reading makes none
}

TEST_CASE("an event appended to many users is stored once", "[history][memory]") {
    MemoryHistory history;
    const StoredEvent shared = note(7, 100);
    std::vector<Epoch> epochs;
    for (std::uint64_t u = 0; u < 10; ++u) epochs.push_back(history.append(user_number(100 + u), shared).position.epoch);
    for (std::uint64_t u = 0; u < 10; ++u)
        CHECK(history.read(user_number(100 + u), {epochs[u], 0}, 1)->front().text().data() == shared.text().data());
}

TEST_CASE("the event bound drops a stream's oldest events, keeping the numbering", "[history][memory][bounds]") {
    MemoryHistoryOptions options;
    options.max_events_per_user = 10;
    MemoryHistory history(options);
    Epoch epoch;
    for (std::uint64_t n = 1; n <= 15; ++n) epoch = history.append(alice, note(n)).position.epoch;
    CHECK(history.open(alice).position.offset == 15);
    CHECK_FALSE(history.read(alice, {epoch, 4}, 15)); // 5 is gone
    CHECK(offsets_of(history, alice, {epoch, 5}, 15).size() == 10);
    CHECK(history.metrics().events == 10);
    CHECK(history.metrics().dropped_over_events == 5);
}

TEST_CASE("the byte bound drops a stream's oldest events", "[history][memory][bounds]") {
    MemoryHistoryOptions options;
    options.max_bytes_per_user = 1000;
    MemoryHistory history(options);
    const std::size_t size = note(1, 200).size(); // every one-digit note: a little over 200 bytes
    Epoch epoch;
    for (std::uint64_t n = 1; n <= 9; ++n) epoch = history.append(alice, note(n, 200)).position.epoch;
    const std::size_t kept = 1000 / size;
    CHECK(history.metrics().events == kept);
    CHECK(history.metrics().bytes == kept * size);
    CHECK(history.metrics().dropped_over_bytes == 9 - kept);
    CHECK(offsets_of(history, alice, {epoch, 9 - kept}, 9).size() == kept);
    CHECK_FALSE(history.read(alice, {epoch, 9 - kept - 1}, 9));
}

TEST_CASE("events expire with age while the stream keeps its epoch and top", "[history][memory][bounds]") {
    ManualClock clock;
    MemoryHistory history(aging(clock, 24h));
    const Epoch epoch = history.append(alice, note(1)).position.epoch;
    history.append(alice, note(2));
    clock.advance(12h);
    history.append(alice, note(3));
    clock.advance(12h); // 1 and 2 are 24 h old now, 3 is 12 h old

    CHECK(history.open(alice).position == StreamPosition{epoch, 3});
    CHECK_FALSE(history.read(alice, {epoch, 0}, 3));
    CHECK(offsets_of(history, alice, {epoch, 2}, 3) == std::vector<std::uint64_t>{3});
    clock.advance(12h);
    const StreamTop later = history.open(alice);
    CHECK(later.position == StreamPosition{epoch, 3}); // nothing left, numbering kept
    CHECK_FALSE(later.created);
    CHECK(history.read(alice, {epoch, 3}, 3)->empty()); // an up-to-date client still resumes
    CHECK(history.append(alice, note(4)).position == StreamPosition{epoch, 4});
    CHECK(history.metrics().expired == 3);
}

TEST_CASE("expired events of streams nobody touches are freed as other appends go on", "[history][memory][bounds]") {
    ManualClock clock;
    MemoryHistory history(aging(clock, 1h));
    history.append(alice, note(1, 1000));
    const std::size_t memory_with_alice = history.metrics().memory;
    clock.advance(2h);
    for (std::uint64_t u = 0; u < 2000; ++u) history.append(user_number(1000 + u), note(u)); // ~31 per shard
    const HistoryMetrics metrics = history.metrics();
    CHECK(metrics.expired == 1);
    CHECK(metrics.events == 2000);
    CHECK(metrics.streams == 2001); // alice's epoch and top are kept
    CHECK(memory_with_alice > 1000);
}

TEST_CASE("the memory cap evicts least recently used streams whole: a new epoch if they come back",
          "[history][memory][bounds]") {
    MemoryHistoryOptions options;
    options.memory_cap = 256 * 1024;
    MemoryHistory history(options);
    const Epoch first = history.append(alice, note(1, 500)).position.epoch;
    for (std::uint64_t u = 0; u < 5000; ++u) history.append(user_number(1000 + u), note(u, 500));
    const HistoryMetrics metrics = history.metrics();
    CHECK(metrics.memory <= options.memory_cap);
    CHECK(metrics.evicted_streams > 0);
    CHECK(metrics.evicted_events == metrics.evicted_streams);
    CHECK(metrics.streams == 5001 - metrics.evicted_streams);

    CHECK_FALSE(history.read(alice, {first, 0}, 1));
    const StreamTop back = history.open(alice);
    CHECK(back.created);
    CHECK(back.position.epoch != first);
    CHECK(back.position.offset == 0);
}

TEST_CASE("the memory cap evicts by use to the second: a stream used again in a later second outlives the others",
          "[history][memory][bounds]") {
    ManualClock clock;
    MemoryHistoryOptions options = aging(clock, 24h);
    options.memory_cap = 1024 * 1024;
    MemoryHistory history(options);
    const Epoch first = history.append(alice, note(0, 500)).position.epoch;
    constexpr std::uint64_t earlier = 1280; // ~20 a shard, used in alice's second
    for (std::uint64_t u = 0; u < earlier; ++u) history.append(user_number(1000 + u), note(u, 500));
    clock.advance(1s);
    history.append(alice, note(1, 500));
    // Each shard evicts its least recently used in turn: ~5 of each shard's earlier streams.
    for (std::uint64_t u = 0; history.metrics().evicted_streams < earlier / 4; ++u) {
        REQUIRE(u < 100'000);
        history.append(user_number(100'000 + u), note(u, 500));
    }
    const StreamTop kept = history.open(alice);
    CHECK_FALSE(kept.created);
    CHECK(kept.position == StreamPosition{first, 2});
}

TEST_CASE("memory stays within the cap whatever the traffic, as counted and as allocated", "[history][memory][bounds]") {
    MemoryHistoryOptions options;
    options.memory_cap = 8 * 1024 * 1024;
    options.max_events_per_user = 0; // only the cap bounds it
    options.max_bytes_per_user = 0;
    const std::size_t heap_before = heap_in_use();
    {
        MemoryHistory history(options);
        std::mt19937_64 random(7);
        for (std::size_t i = 0; i < 100'000; ++i) {
            const std::size_t user = random() % (i % 2 ? 50 : 20'000); // a few busy users, many occasional
            history.append(user_number(user), note(i, random() % 600));
            if (i % 1000 == 0) REQUIRE(history.metrics().memory <= options.memory_cap);
        }
        const HistoryMetrics metrics = history.metrics();
        CHECK(metrics.memory <= options.memory_cap);
        CHECK(metrics.evicted_streams > 0);
        const std::size_t allocated = heap_in_use() - heap_before;
        if (heap_before != 0) {
            INFO("allocated " << allocated << ", counted " << metrics.memory);
            // glibc's per-thread cache keeps up to 7 freed chunks of each size below 1 KiB, which
            // mallinfo2 counts as in use: up to ~128 KiB of the test's own temporaries.
            CHECK(allocated <= metrics.memory + 128 * 1024);
        }
    }
}

TEST_CASE("a retained event costs its text plus less than 64 bytes", "[history][memory]") {
    const std::size_t events = 1000; // the default bound
    MemoryHistoryOptions options;
    options.max_bytes_per_user = 0;
    MemoryHistory history(options);
    history.open(alice);
    const std::size_t text_bytes = note(100, 100).size(); // each note's size, to a digit
    const std::size_t heap_before = heap_in_use();
    for (std::size_t n = 100; n < 100 + events; ++n) history.append(alice, note(n, 100));
    const std::size_t heap_after = heap_in_use();
    REQUIRE(history.metrics().events == events);
    if (heap_before == 0) return; // a sanitizer's allocator: nothing to measure
    const double per_event = static_cast<double>(heap_after - heap_before) / events;
    INFO("bytes per retained event " << per_event << ", text " << text_bytes);
    CHECK(per_event - static_cast<double>(text_bytes) < 64);
}
