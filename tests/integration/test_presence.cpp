// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Presence over real connections: a user is online from the first device's registration to the
// last device's close, and each transition is announced exactly once.
//
// "Exactly once" is checked without sleeping: the manager delivers presence events in transition
// order, so when a client has received the event of a later transition, any duplicate of an earlier
// one would already be in its list. Each check therefore compares a client's whole presence history
// right after the next expected event arrived.

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace integration;

namespace {

std::string online(const UserId& user) { return "online " + user.to_string(); }
std::string offline(const UserId& user) { return "offline " + user.to_string(); }

using History = std::vector<std::string>;

/// The presence events a client received, in order, as `online <uuid>` / `offline <uuid>`.
History presence_history(const ClientState& state) {
    History history;
    for (const std::string& message : state.messages) {
        const json event = json::parse(message, nullptr, /*allow_exceptions=*/false);
        const std::string type = event.is_object() ? event.value("type", "") : "";
        if (type == "UserOnline" || type == "UserOffline")
            history.push_back((type == "UserOnline" ? "online " : "offline ") + event["data"].value("user_id", ""));
    }
    return history;
}

/// Waits for as many presence events as expected, then compares the whole history.
void check_history(const TestClient& client, const History& expected) {
    client.wait_until([&](const ClientState& state) { return presence_history(state).size() >= expected.size(); });
    CHECK(presence_history(client.state()) == expected);
}

} // namespace

TEST_CASE("Presence: two users with two devices each go online and offline exactly once", "[integration][presence]") {
    TestServer server;
    const UserId watcher = UserId::random();
    const UserId alice = UserId::random();
    const UserId bob = UserId::random();
    auto& manager = server.manager();

    auto observer = connect_user(server, watcher);
    // Presence is published after the registration that caused it: had alice connected before the
    // watcher's own UserOnline went out, she would have received it too.
    check_history(*observer, {online(watcher)});
    auto alice_phone = connect_user(server, alice);
    check_history(*observer, {online(watcher), online(alice)});
    auto alice_laptop = connect_user(server, alice);
    auto bob_phone = connect_user(server, bob);
    // alice's second device announced nothing; her first device saw its own user come online.
    check_history(*observer, {online(watcher), online(alice), online(bob)});
    check_history(*alice_phone, {online(alice), online(bob)});
    check_history(*alice_laptop, {online(bob)});
    auto bob_laptop = connect_user(server, bob);
    CHECK(manager.online_users().size() == 3);
    CHECK(manager.connection_count() == 5);

    disconnect_user(server, *alice_phone, alice);
    CHECK(manager.is_user_online(alice)); // one device left
    disconnect_user(server, *alice_laptop, alice);
    CHECK_FALSE(manager.is_user_online(alice));
    // bob's second device announced nothing, and neither did the close of alice's first device.
    check_history(*observer, {online(watcher), online(alice), online(bob), offline(alice)});
    check_history(*bob_phone, {online(bob), offline(alice)});
    check_history(*bob_laptop, {offline(alice)});

    disconnect_user(server, *bob_phone, bob);
    disconnect_user(server, *bob_laptop, bob);
    check_history(*observer, {online(watcher), online(alice), online(bob), offline(alice), offline(bob)});
    CHECK(manager.online_users() == std::vector<UserId>{watcher});
    CHECK(manager.connection_count() == 1);
}
