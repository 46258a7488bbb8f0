#include "mock_fixtures.hpp"

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

struct Coalesced {
    asio::io_context io;
    MockTransport transport;
    Manager manager{transport, {}, options(io)};

    static ManagerOptions options(asio::io_context& io) {
        ManagerOptions options;
        options.presence.mode = PresenceMode::coalesced;
        options.presence.executor = io.get_executor();
        options.presence.coalesce_interval = std::chrono::milliseconds(10);
        return options;
    }

    Handle connect(const UserId& user, ConnectionId* id = nullptr) {
        const Handle handle = transport.open();
        const ConnectionId registered = manager.register_connection(user, handle);
        if (id) *id = registered;
        return handle;
    }
};

} // namespace

TEST_CASE("coalesced presence needs an executor", "[presence]") {
    MockTransport transport;
    ManagerOptions options;
    options.presence.mode = PresenceMode::coalesced;
    CHECK_THROWS_AS(Manager(transport, {}, options), std::invalid_argument);
}

TEST_CASE_METHOD(Coalesced, "coalesced presence sends one diff per interval and cancels join-then-leave",
                 "[presence]") {
    const Handle watcher = connect(alice);
    connect(bob);
    ConnectionId brief;
    connect(carol, &brief);
    manager.unregister_connection(brief);
    CHECK(events_of_type(transport, watcher, "UserOnline").empty());

    manager.flush_presence();
    auto diffs = events_of_type(transport, watcher, "PresenceDiff");
    REQUIRE(diffs.size() == 1);
    const PresenceDiff first = event_cast<PresenceDiff>(diffs[0]);
    CHECK(first.joins == std::vector<UserId>{alice, bob});
    CHECK(first.leaves.empty());

    manager.flush_presence(); // nothing pending: nothing sent
    CHECK(events_of_type(transport, watcher, "PresenceDiff").size() == 1);
}

TEST_CASE_METHOD(Coalesced, "coalesced presence reports leaves and flushes on its timer", "[presence]") {
    const Handle watcher = connect(alice);
    ConnectionId leaving;
    connect(bob, &leaving);
    manager.flush_presence();
    manager.unregister_connection(leaving);
    for (int i = 0; i < 200 && events_of_type(transport, watcher, "PresenceDiff").size() < 2; ++i)
        io.run_for(std::chrono::milliseconds(5));
    const auto diffs = events_of_type(transport, watcher, "PresenceDiff");
    REQUIRE(diffs.size() == 2);
    CHECK(event_cast<PresenceDiff>(diffs[1]).leaves == std::vector<UserId>{bob});
    CHECK(event_cast<PresenceDiff>(diffs[1]).joins.empty());
}

TEST_CASE("scoped presence goes only to watchers, each connection once", "[presence]") {
    MockTransport transport;
    ManagerOptions options;
    options.presence.mode = PresenceMode::scoped;
    options.presence.watchers = [](const UserId& user) {
        return user == alice ? std::vector<UserId>{bob, bob} : std::vector<UserId>{};
    };
    options.presence.max_watched_per_connection = 2;
    Manager manager(transport, {}, options);

    const Handle friend_of_alice = transport.open();
    const ConnectionId friend_id = manager.register_connection(bob, friend_of_alice);
    const Handle stranger = transport.open();
    const ConnectionId stranger_id = manager.register_connection(carol, stranger);
    const Handle alice_phone = transport.open();
    const ConnectionId alice_id = manager.register_connection(alice, alice_phone);

    CHECK(events_of_type(transport, friend_of_alice, "UserOnline").size() == 1);
    CHECK(events_of_type(transport, stranger, "UserOnline").empty());
    CHECK(events_of_type(transport, alice_phone, "UserOnline").empty());

    // Explicit subscriptions: the current state at once, then transitions; never twice.
    CHECK(manager.watch_presence(stranger_id, {alice}) == 1);
    CHECK(manager.watch_presence(friend_id, {alice}) == 1);
    CHECK_THROWS_AS(manager.watch_presence(stranger_id, {bob, carol}), ProtocolError);
    manager.unregister_connection(alice_id);
    CHECK(events_of_type(transport, stranger, "UserOnline").size() == 1);
    CHECK(events_of_type(transport, stranger, "UserOffline").size() == 1);
    CHECK(events_of_type(transport, friend_of_alice, "UserOffline").size() == 1);

    manager.unwatch_presence(stranger_id, {alice});
    manager.register_connection(alice, transport.open());
    CHECK(events_of_type(transport, stranger, "UserOnline").size() == 1);
    CHECK(events_of_type(transport, friend_of_alice, "UserOnline").size() == 3); // relation, subscription reply, relation
}

TEST_CASE("a connection's presence subscriptions end with it", "[presence]") {
    MockTransport transport;
    ManagerOptions options;
    options.presence.mode = PresenceMode::scoped;
    Manager manager(transport, {}, options);
    const Handle watcher = transport.open();
    const ConnectionId watcher_id = manager.register_connection(bob, watcher);
    CHECK(manager.watch_presence(watcher_id, {alice}) == 0);
    manager.unregister_connection(watcher_id);
    CHECK(manager.watch_presence(watcher_id, {alice}) == 0);

    const Handle again = transport.open();
    manager.register_connection(bob, again);
    manager.register_connection(alice, transport.open());
    CHECK(transport.events(watcher).empty());
    CHECK(transport.events(again).empty());
}
