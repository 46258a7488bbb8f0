#include <switchboard/transport/mock.hpp>

#include <vector>

#include <catch2/catch.hpp>

using namespace switchboard;

namespace {

/// Records what the mock reports, and accepts only the token "ok".
struct RecordingListener final : TransportListener<MockTransport::Handle> {
    std::vector<std::string> log;
    std::uint64_t next_id = 100;

    AuthResult on_upgrade(const UpgradeRequest& request) override {
        log.push_back("upgrade " + request.path);
        if (const auto token = request.token(); token && token.value() == "ok") return Identity(UserId::random());
        return AuthFailure{401, "no"};
    }
    ConnectionId on_open(const MockTransport::Handle&, Identity) override {
        log.push_back("open");
        return ConnectionId(++next_id);
    }
    void on_abandon(const Identity&) override { log.push_back("abandon"); }
    void on_message(ConnectionId id, std::string_view payload, MessageKind kind) override {
        log.push_back("message " + id.to_string() + " " + std::string(payload) +
                      (kind == MessageKind::binary ? " binary" : ""));
    }
    void on_close(ConnectionId id) override { log.push_back("close " + id.to_string()); }
    void on_shutdown() override { log.push_back("shutdown"); }
};

UpgradeRequest with_token(std::string token) {
    UpgradeRequest request;
    request.path = "/ws";
    request.query = "token=" + token;
    return request;
}

} // namespace

TEST_CASE("MockTransport records frames per connection, in order", "[mock]") {
    MockTransport transport;
    const auto a = transport.open();
    const auto b = transport.open();
    CHECK(a != b);
    CHECK(transport.send(a, Event("One").to_frame()));
    CHECK(transport.send(a, Event("Two").to_frame()));
    CHECK(transport.send(b, Event("Three").to_frame()));
    const auto events = transport.events(a);
    REQUIRE(events.size() == 2);
    CHECK(events[0].type() == "One");
    CHECK(events[1].type() == "Two");
    CHECK(transport.frames(b).size() == 1);
    CHECK(transport.frames_sent() == 3);
    CHECK(transport.frames(MockTransport::Handle{999}).empty());
}

TEST_CASE("MockTransport closes once, from either side", "[mock]") {
    MockTransport transport;
    const auto a = transport.open();
    CHECK(transport.is_open(a));
    transport.close(a, CloseCode::going_away, "bye");
    transport.close_by_client(a, CloseCode::normal, "later");
    CHECK_FALSE(transport.is_open(a));
    CHECK_FALSE(transport.send(a, Event("Late").to_frame()));
    REQUIRE(transport.close_record(a));
    CHECK(transport.close_record(a)->code == CloseCode::going_away);
    CHECK(transport.close_record(a)->reason == "bye");
    CHECK(transport.close_record(a)->by_server);

    const auto b = transport.open();
    transport.close_by_client(b);
    CHECK_FALSE(transport.close_record(b)->by_server);
}

TEST_CASE("MockTransport simulates failing sends, backlog and silent death", "[mock]") {
    MockTransport transport;
    const auto a = transport.open();
    transport.fail_sends(a);
    CHECK_FALSE(transport.send(a, Event("X").to_frame()));
    transport.fail_sends(a, false);
    CHECK(transport.send(a, Event("X").to_frame()));
    transport.set_queued_bytes(a, 4096);
    CHECK(transport.queued_bytes(a) == 4096);
    const std::size_t frames = transport.frames(a).size();
    CHECK(transport.try_send(a, Event("X").to_frame(), 4095) == SendStatus::backlogged);
    CHECK(transport.frames(a).size() == frames);
    CHECK(transport.try_send(a, Event("X").to_frame(), 4096) == SendStatus::sent);
    CHECK(transport.try_send(a, Event("X").to_frame(), 0) == SendStatus::sent);
    transport.vanish(a);
    CHECK_FALSE(transport.is_open(a));
    CHECK_FALSE(transport.close_record(a));
}

TEST_CASE("MockTransport plays upgrades, messages and closes to its listener", "[mock]") {
    MockTransport transport;
    RecordingListener listener;
    transport.set_listener(&listener);

    const auto refused = transport.connect(with_token("bad"));
    CHECK_FALSE(refused);
    REQUIRE(refused.failure);
    CHECK(refused.failure->status == 401);

    const auto accepted = transport.connect(with_token("ok"));
    REQUIRE(accepted);
    CHECK(accepted.connection == ConnectionId(101));
    transport.receive(*accepted.handle, "hi");
    transport.receive(*accepted.handle, "raw", MessageKind::binary);
    transport.close_by_client(*accepted.handle);
    transport.receive(*accepted.handle, "after close");
    transport.close(*accepted.handle, CloseCode::normal, "again");

    CHECK(listener.log == std::vector<std::string>{"upgrade /ws", "upgrade /ws", "open", "message 101 hi",
                                                   "message 101 raw binary", "close 101"});

    const auto other = transport.connect(with_token("ok"));
    transport.shutdown();
    CHECK(listener.log.back() == "close 102");
    CHECK(listener.log[listener.log.size() - 2] == "shutdown");
    CHECK(transport.close_record(*other.handle)->code == CloseCode::going_away);
    transport.set_listener(nullptr);
}

TEST_CASE("MockTransport plays an upgrade that opens later or never", "[mock]") {
    MockTransport transport;
    RecordingListener listener;
    transport.set_listener(&listener);

    const auto opening = transport.upgrade(with_token("ok"));
    const auto leaving = transport.upgrade(with_token("ok"));
    REQUIRE(opening);
    REQUIRE(leaving);
    CHECK_FALSE(opening.connection);
    CHECK_FALSE(transport.is_open(*opening.handle));
    CHECK_FALSE(transport.send(*opening.handle, Event("Early").to_frame()));
    CHECK(listener.log == std::vector<std::string>{"upgrade /ws", "upgrade /ws"});

    CHECK(transport.complete(*opening.handle) == ConnectionId(101));
    CHECK(transport.is_open(*opening.handle));
    transport.abandon(*leaving.handle);
    // Each upgrade ends once: these are ignored.
    CHECK_FALSE(transport.complete(*opening.handle));
    CHECK_FALSE(transport.complete(*leaving.handle));
    transport.abandon(*leaving.handle);
    transport.abandon(*opening.handle);
    CHECK(listener.log == std::vector<std::string>{"upgrade /ws", "upgrade /ws", "open", "abandon"});

    const auto waiting = transport.upgrade(with_token("ok"));
    transport.shutdown(); // closes the open connection, abandons the waiting upgrade
    CHECK(listener.log == std::vector<std::string>{"upgrade /ws", "upgrade /ws", "open", "abandon", "upgrade /ws",
                                                   "shutdown", "close 101", "abandon"});
    CHECK_FALSE(transport.complete(*waiting.handle));
    transport.set_listener(nullptr);
}
