// Many threads register, unregister, sweep and send at once; at the end the registry and the
// presence events it produced must be consistent. Bounded in operations, not time.
#include <switchboard/connection_manager.hpp>
#include <switchboard/transport/mock.hpp>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "watched_workers.hpp"

using namespace switchboard;
using Handle = MockTransport::Handle;
using Manager = ConnectionManager<MockTransport>;

namespace {

constexpr int worker_count = 4;
constexpr int operations_per_worker = 4000;
constexpr int user_count = 12;

struct Owned {
    Handle handle;
    ConnectionId id;
    UserId user;
    bool vanished = false;
};

} // namespace

TEST_CASE("concurrent register, unregister, sweep and send keep presence consistent", "[stress]") {
    MockTransport transport;
    Manager manager(transport);
    std::vector<UserId> users;
    for (int i = 0; i < user_count; ++i) users.push_back(UserId::random());

    const UserId observer_user = UserId::random();
    const Handle observer = transport.open();
    manager.register_connection(observer_user, observer);

    std::atomic<std::size_t> removed_by_owner{0};
    std::atomic<std::size_t> removed_by_sweep{0};
    std::vector<std::vector<Owned>> owned(worker_count);

    auto work = [&](int worker) {
        std::mt19937 random(static_cast<unsigned>(worker) * 7919u + 1);
        auto& mine = owned[worker];
        for (int op = 0; op < operations_per_worker; ++op) {
            const int choice = static_cast<int>(random() % 100);
            const UserId& user = users[random() % users.size()];
            if (choice < 35 || mine.empty()) {
                const Handle handle = transport.open();
                mine.push_back(Owned{handle, manager.register_connection(user, handle), user});
            } else if (choice < 65) {
                const std::size_t index = random() % mine.size();
                if (manager.unregister_connection(mine[index].id)) removed_by_owner.fetch_add(1);
                mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(index));
            } else if (choice < 70) {
                Owned& victim = mine[random() % mine.size()];
                transport.vanish(victim.handle);
                victim.vanished = true;
            } else if (choice < 90) {
                manager.send_to_user(user, Event("Direct", {{"worker", worker}, {"op", op}}));
            } else if (choice < 97) {
                manager.send_to_users({user, users[random() % users.size()], user}, Event("Group"));
            } else {
                manager.broadcast(Event("Everyone"));
            }
        }
    };
    run_watched_workers(worker_count, work, [&] { // the sweep, and readers, alongside the workers
        removed_by_sweep.fetch_add(manager.cleanup_stale_connections());
        (void)manager.online_users();
        (void)manager.is_user_online(users[0]);
    });
    removed_by_sweep.fetch_add(manager.cleanup_stale_connections());

    // Expected state: a user is online while it has a live connection that did not vanish.
    std::map<UserId, std::size_t> live;
    std::size_t live_connections = 0;
    for (const auto& mine : owned)
        for (const Owned& connection : mine)
            if (!connection.vanished) {
                ++live[connection.user];
                ++live_connections;
            }
    std::set<UserId> expected_online{observer_user};
    for (const auto& [user, count] : live) expected_online.insert(user);

    const auto online = manager.online_users();
    CHECK(std::set<UserId>(online.begin(), online.end()) == expected_online);
    CHECK(manager.connection_count() == live_connections + 1);
    for (const auto& [user, count] : live) CHECK(manager.connection_count(user) == count);

    const ManagerMetrics metrics = manager.metrics();
    CHECK(metrics.connections_registered - metrics.connections_unregistered == live_connections + 1);
    CHECK(metrics.connections_unregistered == removed_by_owner + removed_by_sweep);

    // Per user, presence events alternate Online/Offline starting with Online, and end in the
    // user's final state: exactly one event per transition, never out of order.
    std::map<std::string, std::vector<std::string>> presence;
    for (const Event& event : transport.events(observer))
        if (event.type() == "UserOnline" || event.type() == "UserOffline")
            presence[event.data().at("user_id").get<std::string>()].push_back(event.type());
    for (const UserId& user : users) {
        const auto& sequence = presence[user.to_string()];
        INFO("user " << user.to_string() << " had " << sequence.size() << " presence events");
        for (std::size_t i = 0; i < sequence.size(); ++i)
            REQUIRE(sequence[i] == (i % 2 == 0 ? "UserOnline" : "UserOffline"));
        const bool ends_online = sequence.size() % 2 == 1;
        CHECK(ends_online == (live.count(user) > 0));
    }
}

TEST_CASE("concurrent sends to one connection from one thread arrive in call order", "[stress]") {
    MockTransport transport;
    Manager manager(transport);
    const UserId user = UserId::random();
    const Handle handle = transport.open();
    manager.register_connection(user, handle);

    constexpr int senders = 4;
    constexpr int per_sender = 2000;
    std::vector<std::thread> threads;
    for (int s = 0; s < senders; ++s)
        threads.emplace_back([&, s] {
            for (int i = 0; i < per_sender; ++i) manager.send_to_user(user, Event("Seq", {{"s", s}, {"i", i}}));
        });
    for (auto& thread : threads) thread.join();

    std::vector<int> next(senders, 0);
    std::size_t total = 0;
    for (const Event& event : transport.events(handle)) {
        if (event.type() != "Seq") continue;
        const int s = event.data().at("s").get<int>();
        REQUIRE(event.data().at("i").get<int>() == next[s]);
        ++next[s];
        ++total;
    }
    CHECK(total == senders * per_sender);
}
