// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The websocketpp transport's own duties, seen from real clients: heartbeat, message size limit,
// graceful shutdown, wss://, the TCP options of its sockets, sends from threads of the host, and
// writes that the client's window cuts short.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/post.hpp>
#include <catch2/catch.hpp>

#include <switchboard/event.hpp>

#include "harness.hpp"
#include "tls_certificate.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

constexpr int going_away = 1001;
constexpr int message_too_big = 1009;

social::ServerOptions heartbeat_options(std::chrono::milliseconds ping_interval,
                                        std::chrono::milliseconds pong_timeout) {
    social::ServerOptions options = server_options();
    options.transport.ping_interval = ping_interval;
    options.transport.pong_timeout = pong_timeout;
    return options;
}

const ClientOptions dead_peer{/*tls=*/false, /*answer_pings=*/false};

/// A client that never answers pings is dropped with 1001 and goes offline, while one that answers
/// stays connected for several ping intervals.
void check_dead_peer_dropped(std::chrono::milliseconds ping_interval, std::chrono::milliseconds pong_timeout) {
    TestServer server(heartbeat_options(ping_interval, pong_timeout));
    const UserId live_user = UserId::random();
    const UserId dead_user = UserId::random();
    auto live = connect_user(server, live_user);
    auto dead = connect_user(server, dead_user, ConnectOptions{false, dead_peer});

    // Detection takes one ping interval plus the pong timeout; allow generous slack for sanitizers.
    const auto detection_bound = 3 * (ping_interval + pong_timeout) + 1s;
    REQUIRE(dead->wait_closed(std::chrono::duration_cast<std::chrono::milliseconds>(detection_bound)));
    CHECK(dead->state().pings >= 1);
    REQUIRE(dead->state().close);
    CHECK(dead->state().close->code == going_away);
    CHECK(dead->state().close->reason == "pong timeout");
    CHECK(eventually([&] { return server.manager().connection_count(dead_user) == 0; }));
    CHECK(wait_for_event(*live, "UserOffline", about_user(dead_user)));

    // The live client answers: after more pings than a pong timeout spans, it is still there.
    const std::size_t pings_spanning_timeout = static_cast<std::size_t>(pong_timeout / ping_interval) + 3;
    CHECK(live->wait_until([&](const ClientState& state) { return state.pings >= pings_spanning_timeout; }));
    CHECK(live->is_open());
    CHECK(server.manager().connection_count(live_user) == 1);
    CHECK(server.manager().is_user_online(live_user));
}

/// `TCP_NODELAY` of each socket of this process that the server accepted on `port` (the test and
/// the server share the process: its file descriptors are ours to inspect).
std::vector<bool> accepted_sockets_no_delay(std::uint16_t port) {
    std::vector<bool> no_delay;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        const int fd = std::stoi(entry.path().filename().string());
        sockaddr_in local{}, peer{};
        socklen_t local_size = sizeof local, peer_size = sizeof peer;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0 || local.sin_family != AF_INET ||
            ntohs(local.sin_port) != port || getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0)
            continue;
        int value = 0;
        socklen_t size = sizeof value;
        if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size) == 0) no_delay.push_back(value != 0);
    }
    return no_delay;
}

} // namespace

TEST_CASE("Accepted sockets have TCP_NODELAY unless tcp_no_delay is off", "[integration][transport]") {
    const bool enabled = GENERATE(true, false);
    social::ServerOptions options = server_options();
    options.transport.tcp_no_delay = enabled;
    TestServer server(std::move(options));
    auto first = connect_user(server, UserId::random());
    auto second = connect_user(server, UserId::random());
    REQUIRE(first->is_open());
    REQUIRE(second->is_open());
    CHECK(accepted_sockets_no_delay(server.port()) == std::vector<bool>{enabled, enabled});
}

TEST_CASE("Heartbeat: a client that stops answering pings is dropped and goes offline", "[integration][heartbeat]") {
    check_dead_peer_dropped(/*ping_interval=*/200ms, /*pong_timeout=*/100ms);
}

// The pong timeout is longer than the ping interval here, a setting the options allow.
TEST_CASE("Heartbeat: a dead client is dropped even when the pong timeout exceeds the ping interval",
          "[integration][heartbeat]") {
    check_dead_peer_dropped(/*ping_interval=*/100ms, /*pong_timeout=*/200ms);
}

TEST_CASE("A message over max_message_size closes that connection with 1009 and no other", "[integration][limits]") {
    constexpr std::size_t limit = 1024;
    social::ServerOptions options = server_options();
    options.transport.max_message_size = limit;
    TestServer server(std::move(options));
    const UserId sender_user = UserId::random();
    const UserId bystander_user = UserId::random();
    auto sender = connect_user(server, sender_user);
    auto bystander = connect_user(server, bystander_user);

    // At the limit: accepted and handled (it is not JSON, so an Error answers it).
    REQUIRE(sender->send_text(std::string(limit, 'x')));
    REQUIRE(sender->wait_until([](const ClientState& state) { return !errors_of(state).empty(); }));
    CHECK(errors_of(*sender).front()["data"].value("code", "") == "invalid_json");

    REQUIRE(sender->send_text(std::string(limit + 1, 'x')));
    REQUIRE(sender->wait_closed());
    REQUIRE(sender->state().close);
    CHECK(sender->state().close->code == message_too_big);
    CHECK(eventually([&] { return server.manager().connection_count(sender_user) == 0; }));

    CHECK(wait_for_event(*bystander, "UserOffline", about_user(sender_user)));
    round_trip(*bystander);
    CHECK(bystander->is_open());
    CHECK(server.manager().connection_count() == 1);
}

TEST_CASE("Graceful shutdown delivers what was sent before it and then closes every client with 1001",
          "[integration][shutdown]") {
    constexpr int notes = 200;
    TestServer server;
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(connect_user(server, UserId::random()));

    // Enough queued data (~200 KB per client) that a shutdown which did not wait for it would lose some.
    const std::string padding(1000, '.');
    for (int i = 0; i < notes; ++i)
        server.manager().broadcast(switchboard::Event("Note", {{"seq", i}, {"padding", padding}}));
    server.shutdown();

    CHECK(server.manager().connection_count() == 0);
    for (const auto& client : clients) {
        REQUIRE(client->wait_closed());
        const ClientState state = client->state();
        REQUIRE(state.close);
        CHECK(state.close->code == going_away);
        // Every note arrived, in order, before the close.
        check_in_order(state, "Note", notes);
    }
}

TEST_CASE("Events sent from several host threads all arrive, each thread's in the order it sent them",
          "[integration][transport]") {
    constexpr int senders = 3;
    constexpr int notes_each = 300;
    TestServer server;
    const UserId user = UserId::random();
    auto client = connect_user(server, user);

    std::vector<std::thread> threads;
    for (int sender = 0; sender < senders; ++sender)
        threads.emplace_back([&, sender] {
            for (int i = 0; i < notes_each; ++i)
                server.manager().send_to_user(user, switchboard::Event("Note", {{"sender", sender}, {"seq", i}}));
        });
    for (std::thread& thread : threads) thread.join();

    REQUIRE(client->wait_until(
        [&](const ClientState& state) { return events_of(state, "Note").size() >= senders * notes_each; }));
    std::vector<int> next_seq(senders, 0);
    for (const json& note : events_of(*client, "Note")) {
        const int sender = note["data"]["sender"];
        CHECK(note["data"]["seq"] == next_seq[static_cast<std::size_t>(sender)]++);
    }
    CHECK(next_seq == std::vector<int>(senders, notes_each));
}

TEST_CASE("A send on the I/O thread does not overtake an earlier send from a host thread to that connection",
          "[integration][transport]") {
    TestServer server;
    const UserId user = UserId::random();
    auto client = connect_user(server, user);
    const auto note = [&](int seq) { server.manager().send_to_user(user, switchboard::Event("Note", {{"seq", seq}})); };

    // An I/O thread waits until the host's send is made (with one I/O thread, it is queued behind this
    // handler), then sends on its own.
    std::promise<void> host_sent;
    std::promise<void> io_sent;
    asio::post(server.manager().transport().executor(), [&, host = host_sent.get_future()] {
        host.wait();
        note(2);
        io_sent.set_value();
    });
    note(1);
    host_sent.set_value();
    io_sent.get_future().wait();

    REQUIRE(client->wait_until([](const ClientState& state) { return events_of(state, "Note").size() >= 2; }));
    const std::vector<json> notes = events_of(*client, "Note");
    CHECK(notes[0]["data"]["seq"] == 1);
    CHECK(notes[1]["data"]["seq"] == 2);
}

TEST_CASE("The I/O thread of a single-threaded transport may send to a multi-threaded transport's clients",
          "[integration][transport]") {
    // The single-threaded transport batches the work websocketpp dispatches on its I/O thread, to
    // run later there. Work of the other transport's connections must go to their own strands: the
    // I/O thread is held until the notes arrived, so work wrongly queued there would never run.
    constexpr int notes = 200;
    social::ServerOptions single_options = server_options();
    single_options.transport.threads = 1;
    social::ServerOptions multi_options = server_options();
    multi_options.transport.threads = 2;
    TestServer single(std::move(single_options));
    TestServer multi(std::move(multi_options));
    const UserId user = UserId::random();
    auto client = connect_user(multi, user);

    std::promise<void> sent;
    std::promise<void> release;
    asio::post(single.manager().transport().executor(), [&, released = release.get_future()] {
        for (int seq = 0; seq < notes; ++seq)
            multi.manager().send_to_user(user, switchboard::Event("Note", {{"seq", seq}}));
        sent.set_value();
        released.wait();
    });
    sent.get_future().wait();
    const bool all_arrived =
        client->wait_until([&](const ClientState& state) { return events_of(state, "Note").size() >= notes; });
    release.set_value();

    REQUIRE(all_arrived);
    check_in_order(client->state(), "Note", notes);
}

TEST_CASE("A burst of events larger than the socket's buffers arrives whole and in order",
          "[integration][transport]") {
    // Sent from one I/O-thread handler, they wait together (with one I/O thread) and go out in
    // writes of many buffers. The client's small window lets the server's send buffer fill (a few
    // MB at most on loopback), which cuts writes short at arbitrary bytes. The slow-consumer limit
    // is raised out of the way.
    constexpr int notes = 60;
    const auto text_of = [](int seq) { return std::string(seq * 7919 % 200'000 + 1, static_cast<char>('a' + seq % 26)); };
    social::ServerOptions options = server_options();
    options.limits.max_queued_bytes = 64 * 1024 * 1024;
    TestServer server(std::move(options));
    const UserId user = UserId::random();
    auto client = connect_raw_user(server, user, RawSocketOptions{"", 4096, {}});
    asio::post(server.manager().transport().executor(), [&] {
        for (int seq = 0; seq < notes; ++seq)
            server.manager().send_to_user(user, switchboard::Event("Note", {{"seq", seq}, {"text", text_of(seq)}}));
    });

    for (int seq = 0; seq < notes; ++seq) {
        INFO("note " << seq);
        const std::optional<WsFrame> frame = client->read_until([](const WsFrame& frame) {
            return frame.opcode == opcode::text && json::parse(frame.payload)["type"] == "Note";
        });
        REQUIRE(frame);
        const json data = json::parse(frame->payload)["data"];
        CHECK(data["seq"] == seq);
        CHECK(data["text"] == text_of(seq));
    }
}

TEST_CASE("An event sent once the client has its 101 reaches it, directly and by broadcast",
          "[integration][transport]") {
    // The race is between the client seeing its 101 and the server registering the connection:
    // each round connects a new client and, as soon as connect() returns, sends to it from a host
    // thread (directly and by broadcast) and has an admin broadcast through its own connection
    // (the broadcast then starts on an I/O thread).
    constexpr int rounds = 40;
    TestServer server;
    auto admin = connect_user(server, UserId::random(), ConnectOptions{true, {}});
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int round = 0; round < rounds; ++round) {
        const UserId user = UserId::random();
        auto& client = clients.emplace_back(std::make_unique<TestClient>());
        REQUIRE(client->connect(server.url(), bearer(token_for(user))));
        server.manager().send_to_user(user, switchboard::Event("Note", {{"direct", true}}));
        server.manager().broadcast(switchboard::Event("Note", {{"direct", false}}));
        REQUIRE(admin->send_text(envelope("Broadcast", {{"round", round}})));
    }
    // Round r's client gets its own direct note, and the broadcasts of rounds r and later (the
    // admin's of round r - 1 may reach it too: the server may handle it after r's registration).
    REQUIRE(wait_for_events(*admin, "Broadcast", rounds));
    for (int round = 0; round < rounds; ++round) {
        const TestClient& client = *clients[static_cast<std::size_t>(round)];
        const auto broadcasts = static_cast<std::size_t>(rounds - round);
        CHECK(client.wait_until([&](const ClientState& state) {
            return events_of(state, "Note").size() >= broadcasts + 1 && events_of(state, "Broadcast").size() >= broadcasts;
        }));
        const std::vector<json> notes = events_of(client, "Note");
        REQUIRE(notes.size() == broadcasts + 1);
        CHECK(notes.front()["data"]["direct"] == true);
        std::vector<int> admin_rounds;
        for (const json& broadcast : events_of(client, "Broadcast")) admin_rounds.push_back(broadcast["data"]["round"]);
        const auto first_due = std::find(admin_rounds.begin(), admin_rounds.end(), round);
        REQUIRE(first_due != admin_rounds.end());
        CHECK(std::distance(first_due, admin_rounds.end()) == static_cast<std::ptrdiff_t>(broadcasts));
        CHECK(std::is_sorted(admin_rounds.begin(), admin_rounds.end()));
    }
}

TEST_CASE("wss round trip with a throwaway certificate", "[integration][tls]") {
    const TemporaryDirectory directory;
    social::ServerOptions options = server_options();
    options.transport.tls = write_self_signed_certificate(directory.path());
    TestServer server(std::move(options));
    const ClientOptions tls_client{/*tls=*/true, /*answer_pings=*/true};

    const UserId user = UserId::random();
    auto client = connect_user(server, user, ConnectOptions{false, tls_client});
    CHECK(wait_for_event(*client, "UserOnline", about_user(user)));
    round_trip(*client); // and a message the other way

    TestClient anonymous(tls_client);
    CHECK_FALSE(anonymous.connect(server.url()));
    CHECK(anonymous.response().status == 401);
}
