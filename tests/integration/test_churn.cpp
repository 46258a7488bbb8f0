// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Churn (issue 5, "Churn and faults"): client threads connect and disconnect at random, in every way a
// client can leave (close handshake, bare FIN, TCP reset), while broadcasts and chat messages flow. At the end
// the registry, presence and metrics are back to zero, every UserOnline an observer saw had its UserOffline,
// and resident memory is back near where it started.

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include <switchboard/event.hpp>

#include "harness.hpp"
#include "resources.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t churn_threads = 4;
constexpr std::size_t users_per_thread = 4;
constexpr std::size_t max_open_per_thread = 8; // 32 sockets at most: 8 per user, under the default limit of 10
constexpr auto churn_time = 8s;
/// Fewer under sanitizers, though not as few as `scaled` would make them: churn is where races show up.
constexpr std::size_t churn_cycles = thread_sanitized ? 600 : address_sanitized ? 1000 : 2000;

/// What the client threads share: when to stop, how much they did, and every churning user.
struct Churn {
    Churn(TestServer& server_, std::size_t max_cycles_) : server(server_), max_cycles(max_cycles_) {
        for (std::size_t i = 0; i < churn_threads * users_per_thread; ++i) users.push_back(UserId::random());
    }

    bool done() const { return cycles.load() >= max_cycles || Clock::now() >= deadline; }

    TestServer& server;
    const std::size_t max_cycles;
    const Clock::time_point deadline = Clock::now() + churn_time;
    std::vector<UserId> users;
    std::atomic<std::size_t> cycles{0};   ///< connections opened and closed again
    std::atomic<std::size_t> refused{0};  ///< upgrades that did not get 101
    std::atomic<std::size_t> messages{0}; ///< SendMessages sent by the churning clients
};

enum class Leaving { close_handshake, close_frame_only, fin, reset };

void leave(RawWebSocket& client, Leaving how) {
    switch (how) {
    case Leaving::close_handshake: // waits for the server's close frame, like a polite client
        if (client.send_close()) client.read_close(1s);
        break;
    case Leaving::close_frame_only: client.send_close(); break;
    case Leaving::fin: // a FIN only if nothing more arrived meanwhile, else a reset
        client.socket().discard_pending(0ms);
        client.socket().close();
        break;
    case Leaving::reset: client.socket().reset(); break;
    }
}

/// One client thread: its own users, up to `max_open_per_thread` connections open, each step opening one or
/// closing a random one (in a random way), sometimes sending a message to another churning user.
void churn(Churn& shared, std::size_t thread_index) {
    std::mt19937 random(static_cast<unsigned>(thread_index * 7919 + 17));
    const auto pick = [&](std::size_t size) { return std::uniform_int_distribution<std::size_t>(0, size - 1)(random); };
    std::vector<std::unique_ptr<RawWebSocket>> open;
    while (!shared.done()) {
        const bool opening = open.size() < 2 || (open.size() < max_open_per_thread && pick(2) == 0);
        if (opening) {
            const UserId& user = shared.users[thread_index * users_per_thread + pick(users_per_thread)];
            auto client = std::make_unique<RawWebSocket>(shared.server.port(), token_for(user));
            if (client->status() != 101) {
                ++shared.refused;
                continue;
            }
            if (pick(2) == 0) {
                const json to = {shared.users[pick(shared.users.size())].to_string()};
                client->send_text(envelope("SendMessage", {{"to", to}, {"content", "churn"}}));
                ++shared.messages;
            }
            open.push_back(std::move(client));
        } else {
            const std::size_t index = pick(open.size());
            leave(*open[index], static_cast<Leaving>(pick(4)));
            open.erase(open.begin() + static_cast<std::ptrdiff_t>(index));
            ++shared.cycles;
        }
    }
    for (auto& client : open) leave(*client, static_cast<Leaving>(pick(4)));
    shared.cycles += open.size();
}

/// Broadcasts a small event every millisecond until told to stop.
class Ticker {
public:
    explicit Ticker(social::Manager& manager)
        : thread_([this, &manager] {
              for (int seq = 0; !stop_.load(); ++seq) {
                  manager.broadcast(switchboard::Event("Tick", {{"seq", seq}}));
                  std::this_thread::sleep_for(1ms);
              }
          }) {}
    ~Ticker() {
        stop_ = true;
        thread_.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/// Per user, the presence events the observer saw, in order: true for UserOnline.
std::map<std::string, std::vector<bool>> presence_seen(const ClientState& state) {
    std::map<std::string, std::vector<bool>> seen;
    for (const std::string& message : state.messages) {
        const json event = json::parse(message, nullptr, /*allow_exceptions=*/false);
        const std::string type = event.is_object() ? event.value("type", "") : "";
        if (type == "UserOnline" || type == "UserOffline")
            seen[event["data"].value("user_id", "")].push_back(type == "UserOnline");
    }
    return seen;
}

/// Online, offline, online, ..., offline: each transition once, in order, and everyone offline at the end.
bool balanced(const std::vector<bool>& transitions) {
    if (transitions.empty() || transitions.size() % 2 != 0) return false;
    for (std::size_t i = 0; i < transitions.size(); ++i)
        if (transitions[i] != (i % 2 == 0)) return false;
    return true;
}

bool all_offline(const ClientState& state, const std::vector<UserId>& users) {
    const auto seen = presence_seen(state);
    return std::all_of(users.begin(), users.end(), [&](const UserId& user) {
        const auto found = seen.find(user.to_string());
        return found == seen.end() || (!found->second.empty() && !found->second.back());
    });
}

/// Every user the observer heard of went online and offline alternately, and ended offline.
void check_presence_balanced(const ClientState& observer, const std::vector<UserId>& users) {
    const auto seen = presence_seen(observer);
    std::size_t users_seen = 0;
    for (const UserId& user : users) {
        const auto found = seen.find(user.to_string());
        if (found == seen.end()) continue;
        ++users_seen;
        INFO("user " << user.to_string() << ": " << found->second.size() << " presence events");
        CHECK(balanced(found->second));
    }
    CHECK(users_seen > 0);
}

} // namespace

TEST_CASE("Churn: clients connecting and leaving at random while messages flow leave nothing behind",
          "[integration][churn]") {
    TestServer server;
    const UserId observer_user = UserId::random();
    auto observer = connect_user(server, observer_user);
    const std::size_t rss_before = resident_bytes();

    Churn shared(server, churn_cycles);
    {
        const Ticker ticker(server.manager());
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < churn_threads; ++i) threads.emplace_back([&shared, i] { churn(shared, i); });
        for (std::thread& thread : threads) thread.join();
    }
    INFO(shared.cycles << " cycles, " << shared.messages << " messages, " << shared.refused << " refused");
    CHECK(shared.cycles >= std::min<std::size_t>(churn_cycles, 100)); // the deadline may come first
    CHECK(shared.refused == 0);

    // Everyone left: the registry holds the observer only, and the observer heard every user go offline.
    REQUIRE(eventually([&] { return server.manager().connection_count() == 1; }, 10s));
    CHECK(observer->wait_until([&](const ClientState& state) { return all_offline(state, shared.users); }));
    check_presence_balanced(observer->state(), shared.users);

    disconnect_user(server, *observer, observer_user);
    const switchboard::ManagerMetrics metrics = server.manager().metrics();
    CHECK(server.manager().connection_count() == 0);
    CHECK(server.manager().online_users().empty());
    CHECK(metrics.connections_registered == metrics.connections_unregistered);
    CHECK(metrics.connections_registered == shared.cycles + 1);
    CHECK(eventually([&] { return server.manager().transport().connection_count() == 0; }));

    observer.reset();
    const std::size_t rss_after = resident_bytes();
    INFO("RSS before " << rss_before / mebibytes << " MiB, after " << rss_after / mebibytes << " MiB");
    if (rss_reflects_frees) CHECK(rss_after < rss_before + 32 * mebibytes);
}
