#include <switchboard/detail/serial_queue.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using switchboard::detail::SerialQueue;

TEST_CASE("SerialQueue processes items in push order, including those pushed while draining", "[serial_queue]") {
    SerialQueue<int> queue;
    std::vector<int> seen;
    queue.push(1);
    queue.push(2);
    queue.drain([&](int item) {
        seen.push_back(item);
        if (item == 1) {
            queue.push(3);
            queue.drain([&](int) { FAIL("a nested drain must leave the work to the running one"); });
        }
    });
    CHECK(seen == std::vector<int>{1, 2, 3});
}

TEST_CASE("SerialQueue recovers when processing throws", "[serial_queue]") {
    SerialQueue<int> queue;
    queue.push(1);
    CHECK_THROWS(queue.drain([](int) { throw std::runtime_error("boom"); }));
    queue.push(2);
    std::vector<int> seen;
    queue.drain([&](int item) { seen.push_back(item); });
    CHECK(seen == std::vector<int>{2});
}

namespace {

constexpr int threads = 4;
constexpr int per_thread = 2000;

/// What the drainers process, in order, and whether two items were ever processed at once.
struct Processed {
    std::atomic<int> active{0};
    std::atomic<int> overlaps{0};
    std::vector<int> items; // only the drainer touches it

    void operator()(int item) {
        if (active.fetch_add(1) != 0) overlaps.fetch_add(1);
        items.push_back(item);
        active.fetch_sub(1);
    }
};

/// Runs `work(thread)` on `threads` threads at once.
template <class Work>
void on_threads(Work work) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) workers.emplace_back(work, t);
    for (auto& worker : workers) worker.join();
}

} // namespace

TEST_CASE("SerialQueue never processes two items at once and loses none", "[serial_queue]") {
    SerialQueue<int> queue;
    Processed processed;
    on_threads([&](int t) {
        for (int i = 0; i < per_thread; ++i) {
            queue.push(t * per_thread + i);
            queue.drain([&](int item) { processed(item); });
        }
    });
    CHECK(processed.overlaps == 0);
    REQUIRE(processed.items.size() == threads * per_thread);
    // Each producer's items keep their relative order.
    std::vector<int> last(threads, -1);
    for (int item : processed.items) {
        CHECK(item > last[item / per_thread]);
        last[item / per_thread] = item;
    }
}

TEST_CASE("SerialQueue::push_and_drain processes items in the order make() made them", "[serial_queue]") {
    SerialQueue<int> queue;
    int next = 0; // only make() touches it, under the queue's lock
    Processed processed;
    on_threads([&](int) {
        for (int i = 0; i < per_thread; ++i)
            queue.push_and_drain([&] { return next++; }, [&](int item) { processed(item); });
    });
    CHECK(processed.overlaps == 0);
    REQUIRE(processed.items.size() == threads * per_thread);
    for (int i = 0; i < threads * per_thread; ++i) REQUIRE(processed.items[i] == i);
}

TEST_CASE("SerialQueue::push_and_drain queues behind items pushed but not drained yet", "[serial_queue]") {
    SerialQueue<int> queue;
    queue.push(1); // as presence pushes under another lock, draining later
    std::vector<int> seen;
    queue.push_and_drain([] { return 2; }, [&](int item) { seen.push_back(item); });
    CHECK(seen == std::vector<int>{1, 2});
}

namespace {

/// An item that may wait for an answer another thread brings (`settle_and_drain`).
struct Awaited {
    int value;
    const bool* answered; ///< null: never awaits
};

struct Unanswered {
    bool operator()(const Awaited& item) const noexcept { return item.answered && !*item.answered; }
};

} // namespace

TEST_CASE("SerialQueue stops before an awaiting item and goes on once it is settled", "[serial_queue]") {
    SerialQueue<Awaited, Unanswered> queue;
    std::vector<int> seen;
    const auto record = [&](const Awaited& item) { seen.push_back(item.value); };
    bool first_answered = false;
    queue.push_and_drain([&] { return Awaited{1, &first_answered}; }, record);
    queue.push_and_drain([&] { return Awaited{2, nullptr}; }, record);
    CHECK(seen.empty()); // 2 waits behind 1, even on an idle queue

    queue.settle_and_drain([&] { first_answered = true; }, record);
    CHECK(seen == std::vector<int>{1, 2});
    queue.push_and_drain([&] { return Awaited{3, nullptr}; }, record);
    CHECK(seen == std::vector<int>{1, 2, 3});
}

TEST_CASE("SerialQueue settled from other threads processes every item once, in push order", "[serial_queue]") {
    constexpr int items = 4000;
    SerialQueue<Awaited, Unanswered> queue;
    std::vector<char> answered(items, false); // written only under the queue's lock, by settle
    std::vector<int> seen;
    std::atomic<int> pushed{0};
    const auto record = [&](const Awaited& item) { seen.push_back(item.value); };
    std::thread pusher([&] {
        for (int i = 0; i < items; ++i) {
            queue.push_and_drain([&] { return Awaited{i, reinterpret_cast<const bool*>(&answered[i])}; }, record);
            pushed.store(i + 1, std::memory_order_release);
        }
    });
    std::vector<std::thread> settlers;
    for (int parity = 0; parity < 2; ++parity)
        settlers.emplace_back([&, parity] {
            for (int i = parity; i < items; i += 2) {
                while (pushed.load(std::memory_order_acquire) <= i) std::this_thread::yield();
                queue.settle_and_drain([&] { answered[i] = true; }, record);
            }
        });
    pusher.join();
    for (std::thread& settler : settlers) settler.join();
    REQUIRE(seen.size() == items);
    for (int i = 0; i < items; ++i) CHECK(seen[i] == i);
}
