// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Three `social_server` processes on one redis-server, black-box: cross-node delivery of messages
// and admin broadcasts (each connection exactly once, no self-echo), presence across nodes in every
// mode, and resume on another node with `--history redis`. Faults are in test_cluster_faults.cpp.

#include <thread>

#include <catch2/catch.hpp>

#include "cluster.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

std::string message_to(const UserId& user, const std::string& text) {
    return envelope("SendMessage", {{"to", {user.to_string()}}, {"text", text}});
}

/// The frame's offset, or 0 when it has none.
std::uint64_t offset_of(const json& frame) { return frame.value("offset", std::uint64_t{0}); }

} // namespace

TEST_CASE("Three social_server processes: a message from node A reaches each device on B and C once, and the "
          "sender's other devices, not the sending one",
          "[integration][program][redis]") {
    Cluster cluster;
    const UserId alice = UserId::random(); // the sender, a device on every node
    const UserId bob = UserId::random();   // the recipient, on B and C
    const UserId carol = UserId::random(); // on C, not a recipient
    const auto alice_a = connect_to(cluster, 0, alice);
    const auto alice_b = connect_to(cluster, 1, alice);
    const auto alice_c = connect_to(cluster, 2, alice);
    const auto bob_b = connect_to(cluster, 1, bob);
    const auto bob_c = connect_to(cluster, 2, bob);
    const auto carol_c = connect_to(cluster, 2, carol);
    await_reachable(cluster, 0, {{&alice, alice_b.get()}, {&alice, alice_c.get()}, {&bob, bob_b.get()},
                                 {&bob, bob_c.get()}});

    REQUIRE(alice_a->send_text(message_to(bob, "across three nodes")));
    const std::vector<const TestClient*> receivers{bob_b.get(), bob_c.get(), alice_b.get(), alice_c.get()};
    for (const TestClient* receiver : receivers)
        CHECK(wait_for_event(*receiver, "MessageSent",
                             [](const json& data) { return data.value("text", "") == "across three nodes"; }));
    std::this_thread::sleep_for(quiet_period);
    for (const TestClient* receiver : receivers) {
        CHECK(count_events(*receiver, "MessageSent", "text", "across three nodes") == 1);
        CHECK(count_events(*receiver, "MessageSent", "from", alice.to_string()) == 1);
    }
    CHECK(count_events(*alice_a, "MessageSent", "text", "across three nodes") == 0);
    CHECK(count_events(*carol_c, "MessageSent", "text", "across three nodes") == 0);
}

TEST_CASE("Three social_server processes: an admin's Broadcast reaches every connection on every node once, "
          "the admin's own included",
          "[integration][program][redis]") {
    Cluster cluster;
    const UserId admin = UserId::random();
    const UserId alice = UserId::random();
    const UserId bob = UserId::random();
    std::vector<std::unique_ptr<TestClient>> devices;
    devices.push_back(connect_to(cluster, 1, admin, /*admin=*/true));
    for (std::size_t node = 0; node < cluster.size(); ++node) devices.push_back(connect_to(cluster, node, alice));
    devices.push_back(connect_to(cluster, 0, bob));
    devices.push_back(connect_to(cluster, 2, bob));
    std::vector<const TestClient*> everyone;
    for (const auto& device : devices) everyone.push_back(device.get());
    await_broadcast_reachable(cluster, 1, everyone);

    REQUIRE(devices.front()->send_text(envelope("Broadcast", {{"notice", "maintenance at noon"}})));
    for (const TestClient* client : everyone)
        CHECK(wait_for_event(*client, "Broadcast",
                             [](const json& data) { return data.value("notice", "") == "maintenance at noon"; }));
    std::this_thread::sleep_for(quiet_period);
    for (const TestClient* client : everyone)
        CHECK(count_events(*client, "Broadcast", "notice", "maintenance at noon") == 1);
}

TEST_CASE("Three social_server processes: a watcher on C hears once that a user on A and B is online, and once "
          "that it is offline after both closed, in every presence mode",
          "[integration][program][redis]") {
    const std::string mode = GENERATE(as<std::string>{}, "all", "coalesced", "scoped");
    INFO("--presence " << mode);
    Cluster cluster({3, mode, "memory"});
    const UserId watcher_user = UserId::random();
    const UserId alice = UserId::random();
    const UserId canary = UserId::random();
    const auto watcher = connect_to(cluster, 2, watcher_user);
    if (mode == "scoped") {
        REQUIRE(watcher->send_text(
            envelope("SubscribePresence", {{"users", {alice.to_string(), canary.to_string()}}})));
        round_trip(*watcher);
    }
    await_presence_reachable(cluster, 0, *watcher, canary);

    const auto alice_a = connect_to(cluster, 0, alice);
    CHECK(wait_for_presence(*watcher, alice, /*online=*/true));
    const auto alice_b = connect_to(cluster, 1, alice);
    std::this_thread::sleep_for(quiet_period);
    CHECK(presence_count(watcher->state(), alice, true) == 1);

    alice_a->close();
    REQUIRE(alice_a->wait_closed());
    std::this_thread::sleep_for(quiet_period);
    CHECK(presence_count(watcher->state(), alice, false) == 0); // still on B

    alice_b->close();
    CHECK(wait_for_presence(*watcher, alice, /*online=*/false));
    std::this_thread::sleep_for(quiet_period);
    CHECK(presence_count(watcher->state(), alice, true) == 1);
    CHECK(presence_count(watcher->state(), alice, false) == 1);
}

TEST_CASE("Three social_server processes with --history redis: a device that leaves node A resumes on node C "
          "with exactly what node B sent it meanwhile",
          "[integration][program][redis]") {
    Cluster cluster({3, "all", "redis"});
    const UserId eve = UserId::random();
    const UserId frank = UserId::random();

    // Eve's position: the offset of the last event she got, one sent by her own node (so it has one).
    auto eve_a = connect_to(cluster, 0, eve);
    const std::string epoch = events_of(*eve_a, "Session").front()["data"].value("epoch", "");
    cluster.publish(0, {{"to", {eve.to_string()}}, {"event", {{"type", "Note"}, {"data", {{"n", 0}}}}}});
    REQUIRE(wait_for_event(*eve_a, "Note"));
    const std::uint64_t position = offset_of(events_of(*eve_a, "Note").front());
    REQUIRE(position == events_of(*eve_a, "Session").front()["data"].value("offset", std::uint64_t{0}) + 1);
    eve_a->close();
    REQUIRE(eve_a->wait_closed());

    const auto frank_b = connect_to(cluster, 1, frank);
    for (const char* text : {"missed 1", "missed 2", "missed 3"}) REQUIRE(frank_b->send_text(message_to(eve, text)));
    round_trip(*frank_b); // node B has handled (and stored) the three

    const auto eve_c = connect_to(cluster, 2, eve, false, "resume=" + epoch + ":" + std::to_string(position));
    const json session = events_of(*eve_c, "Session").front()["data"];
    CHECK(session["recovery"] == "complete");
    CHECK(session["epoch"] == epoch);
    CHECK(session["offset"] == position);
    CHECK(session["replayed"] == 3);
    REQUIRE(wait_for_events(*eve_c, "MessageSent", 3));
    std::this_thread::sleep_for(quiet_period);
    const std::vector<json> replay = events_of(*eve_c, "MessageSent");
    REQUIRE(replay.size() == 3);
    for (std::size_t i = 0; i < replay.size(); ++i) {
        CHECK(offset_of(replay[i]) == position + 1 + i);
        CHECK(replay[i]["data"]["text"] == "missed " + std::to_string(i + 1));
        CHECK(replay[i]["data"]["from"] == frank.to_string());
    }
}
