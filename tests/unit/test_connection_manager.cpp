#include "mock_fixtures.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

std::vector<std::string> types_of(const std::vector<Event>& events) {
    std::vector<std::string> types;
    for (const Event& event : events) types.push_back(event.type());
    return types;
}

/// A manager on a mock transport, with helpers to connect devices directly.
struct Fixture {
    MockTransport transport;
    Manager manager{transport};

    struct Device {
        Handle handle;
        ConnectionId id;
    };

    Device connect(const UserId& user) {
        const Handle handle = transport.open();
        return Device{handle, manager.register_connection(user, handle)};
    }

    std::vector<std::string> received(const Device& device) const { return types_of(transport.events(device.handle)); }

    std::vector<Event> received_of_type(const Device& device, std::string_view type) const {
        return events_of_type(transport, device.handle, type);
    }
};

} // namespace

// --- The original design's five -------------------------------------------------------------

TEST_CASE_METHOD(Fixture, "register and unregister a connection", "[manager][lifecycle]") {
    const Device device = connect(alice);
    CHECK(device.id);
    CHECK(manager.connection_count() == 1);
    CHECK(manager.is_user_online(alice));
    CHECK(manager.identity_of(device.id)->user == alice);

    CHECK(manager.unregister_connection(device.id));
    CHECK(manager.connection_count() == 0);
    CHECK_FALSE(manager.is_user_online(alice));
    CHECK_FALSE(manager.unregister_connection(device.id));
    CHECK_FALSE(manager.identity_of(device.id));
}

TEST_CASE_METHOD(Fixture, "a user may have several connections", "[manager][lifecycle]") {
    const Device phone = connect(alice);
    const Device laptop = connect(alice);
    const Device tablet = connect(alice);
    CHECK(manager.connection_count(alice) == 3);
    CHECK(manager.connection_count() == 3);
    const auto ids = manager.connections_of(alice);
    CHECK(std::set<ConnectionId>(ids.begin(), ids.end()) == std::set<ConnectionId>{phone.id, laptop.id, tablet.id});

    manager.unregister_connection(laptop.id);
    CHECK(manager.connection_count(alice) == 2);
    CHECK(manager.is_user_online(alice));
}

TEST_CASE_METHOD(Fixture, "send to user reaches every device of that user only", "[manager][delivery]") {
    const Device phone = connect(alice);
    const Device laptop = connect(alice);
    const Device other = connect(bob);
    CHECK(manager.send_to_user(alice, MessageSent{"m1", bob, {alice}, "hi"}) == 2);
    CHECK(received_of_type(phone, "MessageSent").size() == 1);
    CHECK(received_of_type(laptop, "MessageSent").size() == 1);
    CHECK(received_of_type(other, "MessageSent").empty());
    CHECK(event_cast<MessageSent>(received_of_type(phone, "MessageSent")[0]).content == "hi");
    CHECK(manager.send_to_user(carol, PostLiked{"p", bob}) == 0);
}

TEST_CASE_METHOD(Fixture, "online users are the users with at least one connection", "[manager][presence]") {
    CHECK(manager.online_users().empty());
    const Device a1 = connect(alice);
    const Device a2 = connect(alice);
    const Device b1 = connect(bob);
    auto online = manager.online_users();
    CHECK(online.size() == 2); // once each, however many devices
    CHECK(std::set<UserId>(online.begin(), online.end()) == std::set<UserId>{alice, bob});
    CHECK(manager.metrics().users_online == 2);

    manager.unregister_connection(a1.id);
    CHECK(manager.online_users().size() == 2);
    CHECK(manager.metrics().users_online == 2);
    manager.unregister_connection(b1.id);
    CHECK(manager.online_users() == std::vector<UserId>{alice});
    CHECK(manager.metrics().users_online == 1);
    manager.unregister_connection(a2.id);
    CHECK(manager.online_users().empty());
    CHECK(manager.metrics().users_online == 0);
}

TEST_CASE_METHOD(Fixture, "stale cleanup removes connections the transport reports closed", "[manager][lifecycle]") {
    const Device alive = connect(alice);
    const Device dead1 = connect(bob);
    const Device dead2 = connect(carol);
    transport.vanish(dead1.handle);
    transport.vanish(dead2.handle);

    CHECK(manager.cleanup_stale_connections() == 2);
    CHECK(manager.connection_count() == 1);
    CHECK_FALSE(manager.is_user_online(bob));
    CHECK_FALSE(manager.is_user_online(carol));
    CHECK(manager.identity_of(alive.id));
    CHECK(received_of_type(alive, "UserOffline").size() == 2);
    CHECK(manager.cleanup_stale_connections() == 0);
}

// --- Identity of connections ------------------------------------------------------------------

TEST_CASE_METHOD(Fixture, "connection ids stay valid when other connections leave, and are never reused",
                 "[manager][lifecycle]") {
    std::vector<Device> devices;
    for (int i = 0; i < 5; ++i) devices.push_back(connect(alice));
    manager.unregister_connection(devices[1].id);
    manager.unregister_connection(devices[0].id);

    CHECK(manager.send_to_connection(devices[4].id, Event("Ping")) == 1);
    CHECK(received_of_type(devices[4], "Ping").size() == 1);
    CHECK(received_of_type(devices[3], "Ping").empty());

    const Device again = connect(alice);
    for (const Device& device : devices) CHECK(again.id != device.id);
    CHECK(manager.send_to_connection(devices[0].id, Event("Ping")) == 0);
}

// --- Presence events --------------------------------------------------------------------------

TEST_CASE_METHOD(Fixture, "UserOnline goes to everyone on a user's first connection only", "[manager][presence]") {
    const Device watcher = connect(bob);
    const Device phone = connect(alice);
    connect(alice);

    const auto onlines = received_of_type(watcher, "UserOnline");
    REQUIRE(onlines.size() == 2); // bob himself, then alice once
    CHECK(event_cast<UserOnline>(onlines[0]).user_id == bob);
    CHECK(event_cast<UserOnline>(onlines[1]).user_id == alice);
    // Alice's first device hears of itself (it is connected), her second hears nothing.
    CHECK(received(phone) == std::vector<std::string>{"UserOnline"});
}

TEST_CASE_METHOD(Fixture, "UserOffline goes to everyone on a user's last disconnection only", "[manager][presence]") {
    const Device watcher = connect(bob);
    const Device phone = connect(alice);
    const Device laptop = connect(alice);

    manager.unregister_connection(phone.id);
    CHECK(received_of_type(watcher, "UserOffline").empty());
    manager.unregister_connection(laptop.id);
    const auto offlines = received_of_type(watcher, "UserOffline");
    REQUIRE(offlines.size() == 1);
    CHECK(event_cast<UserOffline>(offlines[0]).user_id == alice);
    CHECK(received_of_type(laptop, "UserOffline").empty());
}

TEST_CASE_METHOD(Fixture, "presence events alternate per user across reconnects", "[manager][presence]") {
    const Device watcher = connect(bob);
    for (int i = 0; i < 3; ++i) manager.unregister_connection(connect(alice).id);
    std::vector<std::string> alice_events;
    for (const Event& event : transport.events(watcher.handle))
        if (event.data().value("user_id", "") == alice.to_string()) alice_events.push_back(event.type());
    CHECK(alice_events == std::vector<std::string>{"UserOnline", "UserOffline", "UserOnline", "UserOffline",
                                                   "UserOnline", "UserOffline"});
}

// --- Delivery -----------------------------------------------------------------------------------

TEST_CASE_METHOD(Fixture, "send_to_users ignores duplicates and offline users", "[manager][delivery]") {
    const Device a1 = connect(alice);
    const Device a2 = connect(alice);
    const Device b1 = connect(bob);
    CHECK(manager.send_to_users({alice, carol, alice, bob, UserId::random(), bob}, Event("Note")) == 3);
    CHECK(received_of_type(a1, "Note").size() == 1);
    CHECK(received_of_type(a2, "Note").size() == 1);
    CHECK(received_of_type(b1, "Note").size() == 1);
    CHECK(manager.send_to_users({}, Event("Note")) == 0);
}

TEST_CASE_METHOD(Fixture, "broadcast reaches N connections with one serialization", "[manager][delivery]") {
    constexpr int n = 1000;
    std::vector<Device> devices;
    for (int i = 0; i < n; ++i) devices.push_back(connect(UserId::random()));
    CHECK(manager.broadcast(PostLiked{"post-1", alice}) == n);

    std::set<const void*> buffers;
    for (const Device& device : devices) {
        const auto frames = transport.frames(device.handle);
        REQUIRE_FALSE(frames.empty());
        REQUIRE(Event::parse(frames.back().text()).type() == "PostLiked");
        buffers.insert(frames.back().buffer_id());
    }
    CHECK(buffers.size() == 1);
}

TEST_CASE_METHOD(Fixture, "a connection closed by its peer is not delivered to and is cleaned up",
                 "[manager][delivery]") {
    const Device open = connect(alice);
    const Device closed = connect(alice);
    transport.close_by_client(closed.handle); // not announced: registered directly, no listener link
    CHECK(manager.send_to_user(alice, Event("Note")) == 1);
    CHECK(manager.connection_count(alice) == 1);
    CHECK(received_of_type(open, "Note").size() == 1);
}

TEST_CASE_METHOD(Fixture, "a failing connection is closed with 1011 and unregistered; others still receive",
                 "[manager][delivery]") {
    const Device watcher = connect(carol);
    const Device healthy = connect(alice);
    const Device failing = connect(bob);
    transport.fail_sends(failing.handle);

    CHECK(manager.broadcast(Event("News")) == 2);
    CHECK(received_of_type(healthy, "News").size() == 1);
    CHECK(received_of_type(watcher, "News").size() == 1);
    REQUIRE(transport.close_record(failing.handle));
    CHECK(transport.close_record(failing.handle)->code == CloseCode::internal_error);
    CHECK_FALSE(manager.is_user_online(bob));
    CHECK(received_of_type(watcher, "UserOffline").size() == 1);
    CHECK(manager.metrics().send_failures == 1);
}

TEST_CASE_METHOD(Fixture, "disconnect closes with the given code and unregisters at once", "[manager][lifecycle]") {
    const Device device = connect(alice);
    CHECK(manager.disconnect(device.id, CloseCode::policy_violation, "token expired"));
    CHECK_FALSE(manager.is_user_online(alice));
    REQUIRE(transport.close_record(device.handle));
    CHECK(transport.close_record(device.handle)->code == CloseCode::policy_violation);
    CHECK(transport.close_record(device.handle)->reason == "token expired");
    CHECK_FALSE(manager.disconnect(device.id));
}

TEST_CASE_METHOD(Fixture, "queued bytes come from the transport", "[manager]") {
    const Device device = connect(alice);
    transport.set_queued_bytes(device.handle, 1234);
    CHECK(manager.queued_bytes(device.id) == 1234);
    CHECK(manager.queued_bytes(ConnectionId{}) == 0);
}

// --- Inbound ------------------------------------------------------------------------------------

namespace {

struct InboundFixture : Fixture {
    Device sender = connect(alice);
    Device bystander = connect(bob);
    std::vector<std::string> handled;

    InboundFixture() {
        manager.on<TypingStarted>([this](const Inbound& inbound, const TypingStarted& typing) {
            handled.push_back(inbound.sender.user.to_string() + " typing in " + typing.conversation_id);
        });
        manager.on("Forbidden", [](const Inbound&) { throw ProtocolError(errc::forbidden, "admins only"); });
        manager.on("Crash", [](const Inbound&) { throw std::runtime_error("secret internals"); });
        manager.on("NeedsField", [](const Inbound& inbound) { (void)inbound.event.data().at("field").get<int>(); });
    }

    Error error_after(std::string_view payload, MessageKind kind = MessageKind::text) {
        const std::size_t before = received_of_type(sender, "Error").size();
        CHECK(manager.handle_message(sender.id, payload, kind));
        const auto errors = received_of_type(sender, "Error");
        REQUIRE(errors.size() == before + 1);
        return event_cast<Error>(errors.back());
    }
};

} // namespace

TEST_CASE_METHOD(InboundFixture, "inbound messages reach the handler of their type with the sender", "[manager][inbound]") {
    const auto payload = Event(TypingStarted{"c1", alice}).to_frame();
    CHECK(manager.handle_message(sender.id, payload.text()));
    CHECK(handled == std::vector<std::string>{alice.to_string() + " typing in c1"});
    CHECK(received_of_type(sender, "Error").empty());
}

TEST_CASE_METHOD(InboundFixture, "bad inbound messages get an Error back, to that connection only", "[manager][inbound]") {
    CHECK(error_after("{not json").code == errc::invalid_json);
    CHECK(error_after("[]").code == errc::invalid_envelope);
    CHECK(error_after(R"({"type":"Nope","data":{}})").code == errc::unknown_type);
    CHECK(error_after(R"({"type":"TypingStarted","data":{"conversation_id":1}})").code == errc::bad_payload);
    CHECK(error_after(R"({"type":"TypingStarted","data":{"conversation_id":"c","user_id":"x"}})").code ==
          errc::bad_payload);
    CHECK(error_after(R"({"type":"NeedsField","data":{}})").code == errc::bad_payload);
    CHECK(error_after(R"({"type":"NeedsField","data":{"field":"text"}})").code == errc::bad_payload);
    CHECK(error_after(R"({"type":"Forbidden"})").message == "admins only");
    const Error crash = error_after(R"({"type":"Crash"})");
    CHECK(crash.code == errc::internal_error);
    CHECK(crash.message.find("secret") == std::string::npos);
    CHECK(error_after("\x01\x02", MessageKind::binary).code == errc::binary_unsupported);

    CHECK(handled.empty());
    CHECK(types_of(transport.events(bystander.handle)) == std::vector<std::string>{"UserOnline"}); // its own only
    CHECK(manager.is_user_online(alice));
    CHECK(manager.metrics().inbound_errors == 10);
}

TEST_CASE_METHOD(InboundFixture, "the connection stays usable after an error", "[manager][inbound]") {
    error_after("garbage");
    CHECK(manager.handle_message(sender.id, Event(TypingStarted{"c2", alice}).to_frame().text()));
    CHECK(handled.size() == 1);
}

TEST_CASE_METHOD(InboundFixture, "messages from unregistered connections are ignored", "[manager][inbound]") {
    manager.unregister_connection(sender.id);
    CHECK_FALSE(manager.handle_message(sender.id, Event(TypingStarted{"c1", alice}).to_frame().text()));
    CHECK(handled.empty());
}

// --- The whole lifecycle through a transport's listener ------------------------------------------

TEST_CASE("upgrades are authenticated; refused ones leave no state", "[manager][auth]") {
    MockTransport transport;
    StaticTokenAuthenticator auth;
    auth.add("alice-token", Identity(alice, {{"admin", true}}));
    Manager manager(transport, auth);
    bool admin_seen = false;
    manager.on("Hello", [&](const Inbound& inbound) { admin_seen = inbound.sender.claims.value("admin", false); });

    UpgradeRequest request;
    request.path = "/ws";
    request.query = "token=mallory";
    const auto refused = transport.connect(request);
    REQUIRE_FALSE(refused);
    CHECK(refused.failure->status == 401);
    CHECK(manager.connection_count() == 0);
    CHECK(manager.metrics().upgrades_refused == 1);

    request.query.clear();
    request.headers = {{"Authorization", "Bearer alice-token"}};
    const auto accepted = transport.connect(request);
    REQUIRE(accepted);
    CHECK(manager.is_user_online(alice));
    transport.receive(*accepted.handle, R"({"type":"Hello"})");
    CHECK(admin_seen);

    transport.close_by_client(*accepted.handle);
    CHECK_FALSE(manager.is_user_online(alice));
    CHECK(manager.metrics().connections_unregistered == 1);
}

// --- Periodic sweep -----------------------------------------------------------------------------

TEST_CASE("the periodic sweep unregisters dead connections until stopped", "[manager][sweep]") {
    MockTransport transport;
    ManagerOptions options;
    options.stale_sweep_interval = std::chrono::milliseconds(5);
    Manager manager(transport, {}, options);
    asio::io_context io;
    manager.start_stale_sweep(io.get_executor());

    const Handle first = transport.open();
    manager.register_connection(alice, first);
    transport.vanish(first);
    for (int i = 0; i < 200 && manager.connection_count() > 0; ++i) io.run_for(std::chrono::milliseconds(5));
    CHECK(manager.connection_count() == 0);

    manager.stop_stale_sweep();
    const Handle second = transport.open();
    manager.register_connection(bob, second);
    transport.vanish(second);
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
    CHECK(manager.connection_count() == 1);
}

TEST_CASE("the default sweep interval is 60 seconds", "[manager][sweep]") {
    CHECK(ManagerOptions{}.stale_sweep_interval == std::chrono::seconds(60));
}

// --- Backplane hook -----------------------------------------------------------------------------

namespace {

struct RecordingBackplane final : Backplane {
    BackplaneSink* sink = nullptr;
    std::vector<std::string> published;

    void attach(BackplaneSink* s) override { sink = s; }
    void publish_to_users(const std::vector<UserId>& users, const Frame& frame) override {
        published.push_back(std::to_string(users.size()) + " users: " + std::string(frame.text()));
    }
    void publish_to_all(const Frame& frame) override { published.push_back("all: " + std::string(frame.text())); }
};

} // namespace

TEST_CASE("a backplane sees every delivery and presence change, and delivers remote frames locally",
          "[manager][backplane]") {
    MockTransport transport;
    auto backplane = std::make_shared<RecordingBackplane>();
    ManagerOptions options;
    options.backplane = backplane;
    {
        Manager manager(transport, {}, options);
        REQUIRE(backplane->sink != nullptr);
        const Handle handle = transport.open();
        manager.register_connection(alice, handle);
        manager.send_to_user(bob, Event("Remote"));
        manager.broadcast(Event("Everyone"));

        REQUIRE(backplane->published.size() == 3);
        CHECK(backplane->published[0] == "all: " + std::string(Event(UserOnline{alice}).to_frame().text()));
        CHECK(backplane->published[1] == R"(1 users: {"type":"Remote","data":{}})");
        CHECK(backplane->published[2] == R"(all: {"type":"Everyone","data":{}})");

        backplane->sink->deliver_to_users({alice, carol}, Event("FromNodeB").to_frame());
        backplane->sink->deliver_to_all(Event("AllFromNodeB").to_frame());
        CHECK(types_of(transport.events(handle)) ==
              std::vector<std::string>{"UserOnline", "Everyone", "FromNodeB", "AllFromNodeB"});
        CHECK(backplane->published.size() == 3); // remote frames are never re-published
    }
    CHECK(backplane->sink == nullptr);
}

TEST_CASE_METHOD(Fixture, "metrics count what happened", "[manager][metrics]") {
    const Device a = connect(alice);
    connect(bob);
    manager.send_to_user(alice, Event("X"));
    manager.handle_message(a.id, "nope");
    manager.unregister_connection(a.id);
    const ManagerMetrics metrics = manager.metrics();
    CHECK(metrics.connections == 1);
    CHECK(metrics.users_online == 1);
    CHECK(metrics.connections_registered == 2);
    CHECK(metrics.connections_unregistered == 1);
    // presence: 1 + 2 (bob online to alice and bob) + 1 (alice offline to bob), X, the Error.
    CHECK(metrics.frames_delivered == 6);
    CHECK(metrics.inbound_messages == 1);
    CHECK(metrics.inbound_errors == 1);
}

TEST_CASE_METHOD(Fixture, "send_to_connections reaches each listed connection once", "[manager][delivery]") {
    const Device a1 = connect(alice);
    const Device a2 = connect(alice);
    const Device b1 = connect(bob);
    CHECK(manager.send_to_connections({a2.id, b1.id, a2.id, ConnectionId(999'999'999)}, Event("Pick")) == 2);
    CHECK(received_of_type(a1, "Pick").empty());
    CHECK(received_of_type(a2, "Pick").size() == 1);
    CHECK(received_of_type(b1, "Pick").size() == 1);
}

TEST_CASE("lifecycle hooks observe connects, disconnects and refused upgrades", "[manager][hooks]") {
    MockTransport transport;
    StaticTokenAuthenticator auth;
    auth.add("alice-token", alice);
    std::vector<std::string> seen;
    ManagerOptions options;
    options.hooks.connected = [&](ConnectionId id, const Identity& identity) {
        seen.push_back("connected " + id.to_string() + " " + identity.user.to_string());
    };
    options.hooks.disconnected = [&](ConnectionId id, const UserId& user) {
        seen.push_back("disconnected " + id.to_string() + " " + user.to_string());
    };
    options.hooks.refused = [&](const UpgradeRequest& request, const AuthFailure& failure) {
        seen.push_back("refused " + request.remote_address + " " + std::to_string(failure.status));
    };
    Manager manager(transport, auth, options);

    UpgradeRequest request;
    request.remote_address = "10.0.0.1:5000";
    transport.connect(request);
    request.query = "token=alice-token";
    const auto upgrade = transport.connect(request);
    REQUIRE(upgrade);
    transport.close_by_client(*upgrade.handle);
    manager.unregister_connection(upgrade.connection); // a second removal is not a second disconnect

    const std::string id = upgrade.connection.to_string();
    CHECK(seen == std::vector<std::string>{"refused 10.0.0.1:5000 401", "connected " + id + " " + alice.to_string(),
                                           "disconnected " + id + " " + alice.to_string()});
}

TEST_CASE("a transport shutdown closes everyone without a presence storm", "[manager][lifecycle]") {
    MockTransport transport;
    StaticTokenAuthenticator auth;
    constexpr int users = 50;
    for (int i = 0; i < users; ++i) auth.add("token-" + std::to_string(i), UserId::random());
    Manager manager(transport, auth);
    std::vector<Handle> handles;
    for (int i = 0; i < users; ++i) {
        UpgradeRequest request;
        request.query = "token=token-" + std::to_string(i);
        handles.push_back(*transport.connect(request).handle);
    }
    const std::size_t frames_before = transport.frames_sent();

    transport.shutdown();
    CHECK(manager.connection_count() == 0);
    CHECK(manager.metrics().connections_unregistered == users);
    CHECK(transport.frames_sent() == frames_before); // no UserOffline to connections that are closing
    for (const Handle& handle : handles) CHECK(transport.close_record(handle)->code == CloseCode::going_away);
}
