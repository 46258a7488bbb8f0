// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Faults (issue 5, "Churn and faults"): clients that vanish without a close frame (TCP reset, bare FIN) or
// go silent, and shutdown while messages flow, in-process and as the social_server program on SIGTERM.

#include <signal.h>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include <switchboard/event.hpp>

#include "child_process.hpp"
#include "harness.hpp"
#include "resources.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int going_away = 1001;

std::chrono::milliseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

/// Events of `type` carry "seq" 0, 1, 2, ...: returns the index of the first that does not (size() if none).
std::size_t first_gap(const std::vector<json>& events) {
    for (std::size_t i = 0; i < events.size(); ++i)
        if (events[i]["data"].value("seq", -1LL) != static_cast<long long>(i)) return i;
    return events.size();
}

/// The client was closed with 1001, after a gapless prefix of the numbered `type` events of at least `at_least`.
void check_closed_after_prefix(const TestClient& client, std::string_view type, std::size_t at_least) {
    REQUIRE(client.wait_closed());
    const ClientState state = client.state();
    REQUIRE(state.close);
    CHECK(state.close->code == going_away);
    const std::vector<json> received = events_of(state, type);
    CHECK(first_gap(received) == received.size());
    CHECK(received.size() >= at_least);
}

/// Broadcasts numbered notes from its own thread, as fast as the slowest client keeps up (within a window, so
/// that no client becomes a slow consumer), until stopped.
class NotePublisher {
public:
    NotePublisher(social::Manager& manager, const std::vector<std::unique_ptr<TestClient>>& clients)
        : manager_(manager), clients_(clients), thread_([this] { run(); }) {}
    ~NotePublisher() { stop(); }

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    /// Notes 0 to this one were each accepted for every client's connection (-1: none yet).
    long long accepted_by_all() const { return accepted_by_all_.load(); }

private:
    // 400 notes of 1 KB: a backlog worth delivering at shutdown, under the default 1 MiB slow-consumer cap.
    static constexpr std::size_t window = 400;

    void run() {
        const std::string padding(1000, '.');
        for (long long seq = 0; !stop_.load(); ++seq) {
            const switchboard::Event note("Note", {{"seq", seq}, {"padding", padding}});
            const std::size_t reached = manager_.broadcast(note);
            if (reached == clients_.size() && accepted_by_all_.load() == seq - 1) accepted_by_all_ = seq;
            if (seq % 64 == 0) wait_for_clients(static_cast<std::size_t>(seq));
        }
    }

    void wait_for_clients(std::size_t sent) const {
        for (const auto& client : clients_)
            client->wait_until([&](const ClientState& state) { return state.ended || state.received + window >= sent; },
                               1s);
    }

    social::Manager& manager_;
    const std::vector<std::unique_ptr<TestClient>>& clients_;
    std::atomic<bool> stop_{false};
    std::atomic<long long> accepted_by_all_{-1};
    std::thread thread_;
};

/// An admin client that sends numbered Broadcasts from its own thread, keeping at most `window` of them
/// unanswered (each comes back to it), until stopped or disconnected.
class BroadcastPublisher {
public:
    explicit BroadcastPublisher(TestClient& admin) : admin_(admin), thread_([this] { run(); }) {}
    ~BroadcastPublisher() { stop(); }

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }

private:
    static constexpr std::size_t window = 32;

    void run() {
        for (std::size_t seq = 0; !stop_.load(); ++seq) {
            if (!admin_.send_text(envelope("Broadcast", {{"seq", seq}}))) return;
            const bool caught_up = admin_.wait_until(
                [&](const ClientState& state) { return state.ended || state.received + window >= seq; }, 1s);
            if (!caught_up || !admin_.is_open()) return;
        }
    }

    TestClient& admin_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

} // namespace

TEST_CASE("A client that vanishes without a close frame is unregistered at once and its user goes offline",
          "[integration][faults]") {
    // The heartbeat keeps its default 25 s: only the TCP layer can reveal these within the bound below.
    constexpr auto at_once = 2s;
    TestServer server;
    const UserId observer_user = UserId::random();
    const UserId lost_user = UserId::random();
    const UserId two_devices_user = UserId::random();
    auto observer = connect_user(server, observer_user);
    auto lost = connect_raw_user(server, lost_user);
    auto first_device = connect_raw_user(server, two_devices_user);
    auto second_device = connect_raw_user(server, two_devices_user);
    // Data in flight to the clients when they vanish.
    for (int i = 0; i < 50; ++i) server.manager().broadcast(switchboard::Event("Note", {{"seq", i}}));

    const bool reset = GENERATE(true, false);
    INFO((reset ? "TCP reset (SO_LINGER 0)" : "FIN without a close frame"));
    const auto vanish = [&](RawWebSocket& client) {
        if (reset) return client.socket().reset();
        client.socket().discard_pending(100ms);
        client.socket().close();
    };
    const auto start = Clock::now();
    vanish(*lost);
    vanish(*first_device);
    CHECK(eventually([&] { return !server.manager().is_user_online(lost_user); }, at_once));
    CHECK(eventually([&] { return server.manager().connection_count(two_devices_user) == 1; }, at_once));
    CHECK(since(start) < at_once);
    CHECK(wait_for_event(*observer, "UserOffline", about_user(lost_user)));
    // The user with another device stays online.
    CHECK(server.manager().is_user_online(two_devices_user));
    round_trip(*observer);
    CHECK(events_of(*observer, "UserOffline").size() == 1);
    CHECK(server.manager().connection_count() == 2);
}

TEST_CASE("A silent dead peer is unregistered within the heartbeat timeout and its user goes offline",
          "[integration][faults][heartbeat]") {
    constexpr auto ping_interval = 200ms;
    constexpr auto pong_timeout = 300ms;
    social::ServerOptions options = server_options();
    options.transport.ping_interval = ping_interval;
    options.transport.pong_timeout = pong_timeout;
    TestServer server(std::move(options));
    const UserId observer_user = UserId::random();
    const UserId silent_user = UserId::random();
    auto observer = connect_user(server, observer_user); // answers pings
    const auto start = Clock::now();
    auto silent = connect_raw_user(server, silent_user); // never reads, never answers

    // One ping interval, then the pong timeout; the slack is for sanitized builds.
    const auto bound = 3 * (ping_interval + pong_timeout) + 1s;
    REQUIRE(eventually([&] { return !server.manager().is_user_online(silent_user); }, bound));
    const auto detected_after = since(start);
    CHECK(detected_after >= ping_interval + pong_timeout - 50ms); // the heartbeat found it, nothing earlier
    CHECK(detected_after < bound);
    CHECK(server.manager().transport().metrics().pong_timeouts == 1);
    CHECK(wait_for_event(*observer, "UserOffline", about_user(silent_user)));
    CHECK(observer->is_open());
    CHECK(server.manager().is_user_online(observer_user));
}

TEST_CASE("Shutdown under load delivers every accepted broadcast and then closes every client with 1001",
          "[integration][shutdown]") {
    constexpr auto shutdown_deadline = 3s;
    social::ServerOptions options = server_options();
    options.transport.shutdown_deadline = shutdown_deadline;
    TestServer server(std::move(options));
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 4; ++i) clients.push_back(connect_user(server, UserId::random()));
    NotePublisher publisher(server.manager(), clients);
    constexpr std::size_t load = scaled(2000); // notes received before the shutdown starts
    REQUIRE(clients.front()->wait_until([](const ClientState& state) { return state.received >= load; }));

    const long long accepted = publisher.accepted_by_all();
    const auto start = Clock::now();
    server.shutdown(); // the publisher keeps broadcasting throughout
    const auto took = since(start);
    publisher.stop();

    INFO(accepted + 1 << " notes accepted for every client before the shutdown");
    CHECK(accepted >= 0);
    CHECK(took < shutdown_deadline);
    CHECK(server.manager().connection_count() == 0);
    for (const auto& client : clients)
        check_closed_after_prefix(*client, "Note", static_cast<std::size_t>(accepted + 1));
}

TEST_CASE("Shutdown under load: social_server on SIGTERM delivers every handled broadcast then 1001 and exits 0",
          "[integration][shutdown][program]") {
    constexpr auto process_wait = 15s; // starting a sanitized process takes longer than a round trip
    constexpr auto shutdown_deadline = 5s; // the program's (WebsocketppOptions' default)
    ChildProcess server({SOCIAL_SERVER_PATH, "--port", "0", "--threads", "2", "--rate", "0", "--jwt-secret",
                         std::string(test_secret)});
    const std::optional<std::string> url = read_listening_url(server, process_wait);
    REQUIRE(url);

    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 4; ++i) {
        const UserId user = UserId::random();
        clients.push_back(std::make_unique<TestClient>());
        REQUIRE(clients.back()->connect(*url, bearer(token_for(user, /*admin=*/i == 0))));
        // Registered before the first broadcast: its own UserOnline came after the registration.
        REQUIRE(wait_for_event(*clients.back(), "UserOnline", about_user(user)));
    }
    TestClient& admin = *clients.front();
    BroadcastPublisher publisher(admin);
    // The server handled (and broadcast) whatever came back to the admin before the signal.
    REQUIRE(admin.wait_until([](const ClientState& state) { return events_of(state, "Broadcast").size() >= 300; },
                             process_wait));
    const std::size_t handled = events_of(admin, "Broadcast").size();

    const auto start = Clock::now();
    server.send_signal(SIGTERM);
    const std::optional<int> status = server.wait_for_exit(process_wait);
    const auto took = since(start);
    publisher.stop();

    INFO(handled << " broadcasts handled before SIGTERM");
    CHECK(status == 0);
    CHECK(took < shutdown_deadline);
    for (const auto& client : clients) check_closed_after_prefix(*client, "Broadcast", handled);
}
