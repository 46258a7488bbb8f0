#include "manager_fixture.hpp"

#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

using namespace switchboard;
using namespace test_fixtures;

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
