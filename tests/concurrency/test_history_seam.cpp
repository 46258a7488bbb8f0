// The seam between replay and live delivery, under threads: other threads append to streams
// while devices resume, and every device must get every offset once, in order; with a store
// that answers at once (MemoryHistory) and with one that answers later, from a thread of its
// own, in any order (as Redis does). Bounded in operations, not time; run under
// ThreadSanitizer too.
#include "../unit/answering_later.hpp"
#include "../unit/history_fixtures.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

/// Unbounded streams and replays: every resume can be served, so every one must be complete.
/// The backlog is unlimited too, since a replay is bounded by half of it: a device thread
/// descheduled while the writer runs on comes back thousands of events behind. An asynchronous
/// store answers from its own thread from the start.
HistoryFixture unbounded_fixture(bool asynchronous) {
    MemoryHistoryOptions store;
    store.max_events_per_user = 0;
    store.max_bytes_per_user = 0;
    store.memory_cap = 0;
    LimitOptions limits;
    limits.max_queued_bytes = 0;
    if (!asynchronous) return HistoryFixture(store, /*max_replay=*/0, limits);
    auto answering = std::make_shared<AnsweringLater>(store);
    answering->answer_from_thread(/*seed=*/7);
    return HistoryFixture(std::move(answering), limits, /*max_replay=*/0);
}

/// Waits (a few seconds at most) until the connection has received something: its Session.
void until_started(const HistoryFixture& fixture, const Handle& handle) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (fixture.transport.frames(handle).empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
}

/// Waits until the store has answered every call and what waited for the answers went out: a
/// connection opened meanwhile has had its whole start.
void until_answered(HistoryFixture& fixture) {
    if (auto* answering = dynamic_cast<AnsweringLater*>(fixture.history.get())) answering->wait_until_answered();
}

/// One device of a user that connects, resumes from where it was, and leaves, again and again,
/// checking each session as it goes: a Session first, then offsets one by one from its position.
/// Called from one thread at a time; keeps its first problem for the test's thread to report
/// (Catch's assertions are not thread-safe).
class Device {
public:
    Device(HistoryFixture& fixture, std::string token) : fixture_(fixture), token_(std::move(token)) {}

    /// Connects (resuming after the first time), lets `wait(handle)` run, leaves, and checks what
    /// came. A session may end before it starts (another thread was delivering for the stream and
    /// had not come to its start yet, or the store had not answered): then it received nothing.
    template <class Wait>
    void cycle(Wait&& wait) {
        if (!problem_.empty()) return;
        const std::string resume = position_ ? "&resume=" + position_->to_string() : "";
        const auto upgraded = fixture_.transport.connect(fixture_.request(token_, resume));
        if (!upgraded) return fail("upgrade refused: " + upgraded.failure->reason);
        wait(*upgraded.handle);
        fixture_.transport.close_by_client(*upgraded.handle);
        check(fixture_.received(HistoryFixture::Device{*upgraded.handle, upgraded.connection}));
        ++sessions_;
    }

    /// The data of every offset from 1 on, as this device got them over all its sessions.
    const std::vector<nlohmann::json>& data() const { return data_; }
    std::uint64_t last_offset() const { return position_ ? position_->offset : 0; }
    int sessions() const { return sessions_; }
    int resumed() const { return resumed_; }     ///< sessions that started from a position
    int unstarted() const { return unstarted_; } ///< sessions that received nothing
    const std::string& problem() const { return problem_; }

private:
    void check(const std::vector<Received>& frames) {
        if (frames.empty()) { // never started
            ++unstarted_;
            return;
        }
        if (frames.front().type != "Session") return fail("the first frame is a " + frames.front().type);
        if (position_) ++resumed_;
        const Session session = session_of(frames.front());
        if (session.recovery != (position_ ? Recovery::complete : Recovery::none))
            return fail("recovery " + std::string(to_string(session.recovery)));
        const StreamPosition at{session.epoch, session.offset};
        if (position_ && at != *position_) return fail("the Session does not echo " + position_->to_string());
        position_ = at;
        for (const Received& frame : frames) {
            if (!frame.offset) continue;
            if (*frame.offset != position_->offset + 1) // a gap, a repeat or a reordering
                return fail("offset " + std::to_string(*frame.offset) + " after " + std::to_string(position_->offset));
            position_->offset = *frame.offset;
            data_.push_back(frame.data);
        }
    }

    void fail(std::string problem) {
        if (problem_.empty()) problem_ = std::move(problem);
    }

    HistoryFixture& fixture_;
    std::string token_;
    std::optional<StreamPosition> position_;
    std::vector<nlohmann::json> data_;
    int sessions_ = 0;
    int resumed_ = 0;
    int unstarted_ = 0;
    std::string problem_;
};

/// What the store holds for `user`, from offset 1 to its top, as data.
std::vector<nlohmann::json> stream_of(HistoryFixture& fixture, const UserId& user) {
    const StreamTop top = fixture.history->open(user);
    const auto events = fixture.history->read(user, {top.position.epoch, 0}, top.position.offset);
    REQUIRE(events);
    std::vector<nlohmann::json> data;
    for (const StoredEvent& event : *events) data.push_back(nlohmann::json::parse(event.text()).at("data"));
    return data;
}

} // namespace

TEST_CASE("appends from several threads while devices resume and others broadcast: every offset once, in order",
          "[history][seam]") {
    const bool asynchronous = GENERATE(false, true);
    CAPTURE(asynchronous);
    HistoryFixture fixture = unbounded_fixture(asynchronous);
    const auto started = [&](const Handle&) { until_answered(fixture); };
    constexpr int writers = 3;
    constexpr int messages_per_writer = 1500;
    std::vector<Device> devices{{fixture, "alice"}, {fixture, "alice"}, {fixture, "bob"}};
    for (Device& device : devices) device.cycle(started); // each at offset 0, before anything is sent
    std::atomic<int> writing{writers};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
        threads.emplace_back([&, w] {
            for (int n = 0; n < messages_per_writer; ++n) {
                const Event event("MessageSent", {{"writer", w}, {"n", n}});
                if (n % 2) fixture.manager.send_to_user(alice, event);
                else fixture.manager.send_to_users({alice, bob}, event);
            }
            --writing;
        });
    threads.emplace_back([&] { // what is not stored must not overtake a Session either
        while (writing > 0) fixture.manager.broadcast(Event("Tick", {}, Durability::ephemeral));
    });
    for (Device& device : devices)
        threads.emplace_back([&] {
            while (writing > 0) device.cycle([](const Handle&) { std::this_thread::yield(); });
        });
    for (std::thread& thread : threads) thread.join();
    for (Device& device : devices) device.cycle(started); // the tail, alone: each session starts

    for (Device& device : devices) {
        CHECK(device.problem() == "");
        CHECK(device.resumed() >= 1);
        CHECK(device.last_offset() == device.data().size()); // 1..top, each once
    }
    CHECK(devices[0].data() == stream_of(fixture, alice));
    CHECK(devices[1].data() == stream_of(fixture, alice));
    CHECK(devices[2].data() == stream_of(fixture, bob));
    CHECK(devices[0].data().size() == writers * messages_per_writer);
    CHECK(devices[2].data().size() == writers * messages_per_writer / 2);
    std::map<int, int> next_of_writer; // each writer's events in its call order
    for (const nlohmann::json& data : devices[0].data()) {
        int& next = next_of_writer[data.at("writer").get<int>()];
        CHECK(data.at("n").get<int>() == next);
        next = data.at("n").get<int>() + 1;
    }
}

TEST_CASE("soak: three devices of one user come and go at random while messages flow", "[history][soak]") {
    const bool asynchronous = GENERATE(false, true);
    CAPTURE(asynchronous);
    HistoryFixture fixture = unbounded_fixture(asynchronous);
    const auto started = [&](const Handle&) { until_answered(fixture); };
    constexpr int messages = 12'000;
    constexpr int cycles_per_device = 800;
    std::vector<Device> devices(3, Device(fixture, "alice"));
    for (Device& device : devices) device.cycle(started); // each at offset 0, before anything is sent
    std::thread writer([&] {
        for (int n = 0; n < messages; ++n) fixture.manager.send_to_user(alice, Event("MessageSent", {{"n", n}}));
    });
    std::vector<std::thread> cycling;
    for (std::size_t d = 0; d < devices.size(); ++d)
        cycling.emplace_back([&, d] {
            std::mt19937 random(static_cast<unsigned>(d) + 11);
            for (int cycle = 0; cycle < cycles_per_device; ++cycle)
                devices[d].cycle([&](const Handle& handle) {
                    for (unsigned spins = random() % 64; spins > 0; --spins) std::this_thread::yield();
                    if (asynchronous && random() % 2) until_started(fixture, handle); // the store answers late
                });
        });
    for (std::thread& thread : cycling) thread.join();
    writer.join();
    for (Device& device : devices) device.cycle(started); // the tail, alone: each session starts

    const std::vector<nlohmann::json> stream = stream_of(fixture, alice);
    REQUIRE(stream.size() == messages);
    int resumed = 0;
    int unstarted = 0;
    for (const Device& device : devices) {
        CHECK(device.problem() == "");
        CHECK(device.sessions() == cycles_per_device + 2);
        CHECK(device.data() == stream);
        resumed += device.resumed();
        unstarted += device.unstarted();
    }
    const auto metrics = fixture.manager.metrics();
    CHECK(resumed > cycles_per_device); // most sessions start before their device leaves
    // A start may find its client gone between the manager's look and its Session.
    CHECK(metrics.resumes_complete >= static_cast<std::uint64_t>(resumed));
    CHECK(metrics.resumes_complete <= static_cast<std::uint64_t>(resumed + unstarted));
    CHECK(metrics.resumes_unavailable == 0);
}
