// ConnectionManager with a history, on the mock transport: Session first, offsets, resume,
// the sender's devices, what is never stored, and what a client is told when it cannot resume.
#include "history_fixtures.hpp"

#include <catch2/catch.hpp>

#include <switchboard/events.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> numbers;
    for (std::uint64_t n = first; n <= last; ++n) numbers.push_back(n);
    return numbers;
}

std::vector<std::string> types_of(const std::vector<Received>& frames) {
    std::vector<std::string> types;
    for (const Received& frame : frames) types.push_back(frame.type);
    return types;
}

} // namespace

TEST_CASE_METHOD(HistoryFixture, "with history the first frame of every connection is Session", "[manager][history]") {
    const Device phone = connect("alice");
    const std::vector<Received> frames = received(phone);
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].type == "Session");
    CHECK_FALSE(frames[0].offset);
    const Session session = session_of(frames[0]);
    CHECK(session.recovery == Recovery::none);
    CHECK(session.offset == 0);
    CHECK(session.replayed == 0);
    CHECK(frames[1].type == "UserOnline"); // her own, after the Session
    CHECK_FALSE(frames[1].offset);

    CHECK(manager.send_to_user(alice, message(1)) == 1);
    CHECK(manager.send_to_user(alice, message(2)) == 1);
    CHECK(offsets(phone) == std::vector<std::uint64_t>{1, 2});
    const Device laptop = connect("alice");
    const Session later = session_of(received(laptop).front());
    CHECK(later.epoch == session.epoch);
    CHECK(later.offset == 2); // later events have higher offsets
    CHECK(later.recovery == Recovery::none);
}

TEST_CASE_METHOD(HistoryFixture, "an offline user gets the events sent meanwhile when resuming", "[manager][history]") {
    const Device phone = connect("alice");
    CHECK(manager.send_to_user(alice, message(1)) == 1);
    const StreamPosition left_at = position(phone);
    leave(phone);
    CHECK(manager.send_to_user(alice, message(2)) == 0); // offline: queued, delivered to nobody
    CHECK(manager.send_to_users({alice, bob}, message(3)) == 0);

    const Device back = connect("alice", left_at);
    const std::vector<Received> frames = received(back);
    REQUIRE(frames.size() >= 3);
    const Session session = session_of(frames[0]);
    CHECK(session.recovery == Recovery::complete);
    CHECK(session.offset == 1); // echoes the client's
    CHECK(session.replayed == 2);
    CHECK(frames[1].data == message(2).data());
    CHECK(frames[2].data == message(3).data());
    CHECK(offsets(back) == std::vector<std::uint64_t>{2, 3});
    manager.send_to_user(alice, message(4));
    CHECK(offsets(back) == std::vector<std::uint64_t>{2, 3, 4});
    CHECK(manager.metrics().resumes_complete == 1);
    CHECK(manager.metrics().events_replayed == 2);
}

TEST_CASE_METHOD(HistoryFixture, "two devices resume from their own positions", "[manager][history]") {
    const Device phone = connect("alice");
    const Device laptop = connect("alice");
    for (int n = 1; n <= 2; ++n) manager.send_to_user(alice, message(n));
    const StreamPosition phone_at = position(phone);
    leave(phone);
    for (int n = 3; n <= 5; ++n) manager.send_to_user(alice, message(n));
    const StreamPosition laptop_at = position(laptop);
    leave(laptop);
    for (int n = 6; n <= 7; ++n) manager.send_to_user(alice, message(n));

    const Device phone_again = connect("alice", phone_at);
    const Device laptop_again = connect("alice", laptop_at);
    CHECK(offsets(phone_again) == range(3, 7));
    CHECK(offsets(laptop_again) == range(6, 7));
    manager.send_to_user(alice, message(8));
    CHECK(offsets(phone_again) == range(3, 8));
    CHECK(offsets(laptop_again) == range(6, 8));
}

TEST_CASE_METHOD(HistoryFixture, "a message reaches the sender's other devices live and all of them on resume",
                 "[manager][history]") {
    const Device phone = connect("alice");
    const Device laptop = connect("alice");
    const Device tablet = connect("alice");
    const StreamPosition tablet_at = position(tablet);
    leave(tablet);
    const Device friend_device = connect("bob");

    // alice's phone sends to bob: bob, alice's laptop, and alice's stream (not her phone, live).
    CHECK(manager.send_to_users({bob, alice}, message(1), phone.id) == 2);
    CHECK(offsets(phone).empty());
    CHECK(offsets(laptop) == std::vector<std::uint64_t>{1});
    CHECK(offsets(friend_device) == std::vector<std::uint64_t>{1});

    const Device tablet_again = connect("alice", tablet_at);
    CHECK(offsets(tablet_again) == std::vector<std::uint64_t>{1});
    const StreamPosition phone_at = position(phone);
    leave(phone);
    const Device phone_again = connect("alice", phone_at); // what it was left out of comes back
    CHECK(offsets(phone_again) == std::vector<std::uint64_t>{1});
    CHECK(received(phone_again)[1].data == message(1).data());
}

TEST_CASE_METHOD(HistoryFixture, "ephemeral events, broadcasts and events to connections are never stored",
                 "[manager][history]") {
    const Device phone = connect("alice");
    const StreamPosition at = position(phone);
    manager.send_to_user(alice, TypingStarted{"c-1", bob});
    manager.send_to_users({alice}, UserOnline{bob});
    manager.send_to_user(alice, Error{"x", "y"});
    manager.broadcast(Event("Maintenance", {{"in_minutes", 5}}));
    manager.send_to_connection(phone.id, Event("Note", {{"n", 1}}));
    const std::vector<std::string> expected{"Session", "UserOnline", "TypingStarted", "UserOnline",
                                            "Error",   "Maintenance", "Note"};
    CHECK(types_of(received(phone)) == expected);
    CHECK(offsets(phone).empty());
    CHECK(manager.metrics().history.appended == 0);

    leave(phone);
    const Device back = connect("alice", at);
    const Session session = session_of(received(back).front());
    CHECK(session.recovery == Recovery::complete);
    CHECK(session.replayed == 0);
}

TEST_CASE("a position the store cannot serve is unavailable: the top, nothing replayed, live goes on",
          "[manager][history]") {
    MemoryHistoryOptions store;
    store.max_events_per_user = 5;
    HistoryFixture fixture(store, /*max_replay=*/6);
    const auto device = fixture.connect("alice");
    const StreamPosition start = fixture.position(device);
    fixture.leave(device);
    for (int n = 1; n <= 8; ++n) fixture.manager.send_to_user(alice, message(n));

    const struct {
        const char* why;
        StreamPosition from;
    } cases[] = {
        {"another epoch", {Epoch::random(), 7}},
        {"older than what is kept", {start.epoch, 2}}, // 4..8 are kept
        {"beyond the replay bound", {start.epoch, 1}}, // 7 behind
        {"ahead of the top", {start.epoch, 9}},
    };
    for (const auto& [why, from] : cases) {
        INFO(why);
        const auto back = fixture.connect("alice", from);
        const std::vector<Received> frames = fixture.received(back);
        const Session session = session_of(frames.front());
        CHECK(session.recovery == Recovery::unavailable);
        CHECK(session.epoch == start.epoch);
        CHECK(session.offset == 8);
        CHECK(session.replayed == 0);
        CHECK(fixture.offsets(back).empty());
        fixture.leave(back);
    }
    const auto metrics = fixture.manager.metrics();
    CHECK(metrics.resumes_unavailable == 4);
    CHECK(metrics.resumes_beyond_replay == 1);

    const auto within = fixture.connect("alice", StreamPosition{start.epoch, 5}); // 6..8: within both bounds
    CHECK(fixture.offsets(within) == range(6, 8));
    fixture.manager.send_to_user(alice, message(9));
    CHECK(fixture.offsets(within) == range(6, 9));
}

TEST_CASE("a replay is bounded in bytes by half the backlog limit, so live events fit behind it",
          "[manager][history]") {
    LimitOptions limits;
    limits.max_queued_bytes = 4096; // a replay of at most 2 KiB
    HistoryFixture fixture({}, 1000, limits);
    const auto device = fixture.connect("alice");
    const StreamPosition start = fixture.position(device);
    fixture.leave(device);
    const Event sizeable("MessageSent", {{"text", std::string(300, 'x')}});
    for (int n = 1; n <= 5; ++n) fixture.manager.send_to_user(alice, sizeable); // ~1.7 KiB
    const StreamPosition five = {start.epoch, 5};
    for (int n = 6; n <= 10; ++n) fixture.manager.send_to_user(alice, sizeable);

    const auto far_behind = fixture.connect("alice", start); // 10 events, ~3.4 KiB
    CHECK(session_of(fixture.received(far_behind).front()).recovery == Recovery::unavailable);
    CHECK(fixture.manager.metrics().resumes_beyond_replay == 1);
    const auto near = fixture.connect("alice", five);
    CHECK(fixture.offsets(near) == range(6, 10));
}

TEST_CASE_METHOD(HistoryFixture, "a malformed resume is refused with 400 and a reason, before any state",
                 "[manager][history]") {
    const std::string epoch = "0123456789abcdef0123456789abcdef";
    for (const std::string& query : {std::string("&resume=nonsense"), "&resume=" + epoch + ":-1",
                                    "&resume=" + epoch + ":1&resume=" + epoch + ":1"}) {
        INFO(query);
        const auto refused = transport.upgrade(request("alice", query));
        REQUIRE_FALSE(refused);
        CHECK(refused.failure->status == 400);
        CHECK_THAT(refused.failure->reason, Catch::StartsWith("malformed resume parameter: "));
    }
    const auto unknown = transport.upgrade(request("mallory", "&resume=nonsense"));
    CHECK(unknown.failure->status == 401); // who asks comes first
    const auto metrics = manager.metrics();
    CHECK(metrics.upgrades_refused == 4);
    CHECK(metrics.upgrades_pending == 0);
    CHECK(metrics.connections == 0);
    CHECK(metrics.history.streams == 0);
}

TEST_CASE("without history a resume parameter is ignored and nothing carries an offset", "[manager][history]") {
    MockTransport transport;
    ConnectionManager<MockTransport> manager(transport, HistoryFixture::authenticator());
    UpgradeRequest request;
    request.query = "token=alice&resume=nonsense";
    const auto upgraded = transport.connect(request);
    REQUIRE(upgraded);
    manager.send_to_user(alice, message(1));
    const std::vector<Event> events = transport.events(*upgraded.handle);
    REQUIRE(events.size() == 2);
    CHECK(events[0].type() == "UserOnline");
    CHECK(transport.frames(*upgraded.handle)[1].text() == message(1).to_frame().text());
}

TEST_CASE("what is sent to a connection before its Session is held until after it", "[manager][history]") {
    MockTransport transport;
    ManagerOptions options = HistoryFixture::options(std::make_shared<MemoryHistory>(), 1000);
    ConnectionManager<MockTransport>* manager = nullptr;
    // The connected hook runs once the connection is registered, before its stream starts.
    options.hooks.connected = [&](ConnectionId id, const Identity&) {
        manager->send_to_connection(id, Event("Welcome"));
        manager->broadcast(Event("Announcement"));
        manager->send_to_user(carol, TypingStarted{"c-1", bob});
        manager->send_to_user(carol, message(1)); // durable: in the stream before the Session's top
    };
    ConnectionManager<MockTransport> hooked(transport, HistoryFixture::authenticator(), options);
    manager = &hooked;
    UpgradeRequest request;
    request.query = "token=carol";
    const auto upgraded = transport.connect(request);
    REQUIRE(upgraded);
    std::vector<Received> frames;
    for (const Frame& frame : transport.frames(*upgraded.handle)) frames.push_back(read_frame(frame));
    const std::vector<std::string> expected{"Session", "Welcome", "Announcement", "TypingStarted", "UserOnline"};
    CHECK(types_of(frames) == expected);
    CHECK(session_of(frames.front()).offset == 1); // so message 1 is before this connection's start
}

TEST_CASE("a stream the store forgot closes its started connections, which then resume unavailable",
          "[manager][history]") {
    MemoryHistoryOptions store;
    store.memory_cap = 64 * 1024;
    HistoryFixture fixture(store);
    const auto phone = fixture.connect("alice");
    fixture.manager.send_to_user(alice, message(1));
    const StreamPosition at = fixture.position(phone);
    for (std::uint64_t u = 0; u < 2000 && fixture.history->metrics().evicted_streams < 500; ++u)
        fixture.manager.send_to_user(UserId::random(), message(2)); // alice's stream, least recently used, goes
    REQUIRE_FALSE(fixture.history->read(alice, at, 1));

    fixture.manager.send_to_user(alice, message(3)); // a new stream, a new epoch
    const auto close = fixture.transport.close_record(phone.handle);
    REQUIRE(close);
    CHECK(close->code == CloseCode::service_restart);
    CHECK(fixture.offsets(phone) == std::vector<std::uint64_t>{1}); // never offset 1 of another epoch
    CHECK(fixture.manager.metrics().closed_stream_reset == 1);

    const auto back = fixture.connect("alice", at);
    const Session session = session_of(fixture.received(back).front());
    CHECK(session.recovery == Recovery::unavailable);
    CHECK(session.epoch != at.epoch);
    CHECK(session.offset == 1);
}
