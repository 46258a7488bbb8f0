// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A node of a test cluster: a manager on a MockTransport with a RedisBackplane of its own, on an
// I/O thread of its own; and what the tests ask of Redis and of the nodes' connections.

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include <asio/post.hpp>

#include <switchboard/connection_manager.hpp>
#include <switchboard/redis/backplane.hpp>
#include <switchboard/transport/mock.hpp>

#include "test_client.hpp"

namespace redis_test {

using Manager = switchboard::ConnectionManager<switchboard::MockTransport>;
using Handle = switchboard::MockTransport::Handle;

inline const switchboard::UserId alice = switchboard::UserId::parse("11111111-1111-4111-8111-111111111111");
inline const switchboard::UserId bob = switchboard::UserId::parse("22222222-2222-4222-8222-222222222222");
inline const switchboard::UserId carol = switchboard::UserId::parse("33333333-3333-4333-8333-333333333333");

inline switchboard::redis::RedisBackplaneOptions backplane_options(const RedisServer& server, std::string prefix,
                                                                   std::string node_id) {
    switchboard::redis::RedisBackplaneOptions options;
    options.redis = options_for(server);
    options.prefix = std::move(prefix);
    options.node_id = std::move(node_id);
    return options;
}

/// Makes a node's history, given the node's backplane id and its Redis executor (for a history
/// that answers there); none: the node has no history.
using HistoryOfNode =
    std::function<std::shared_ptr<switchboard::History>(const std::string& node_id, asio::any_io_executor executor)>;

struct Node {
    /// Scoped presence with no watchers by default: no presence events, so that the tests count only their own.
    explicit Node(switchboard::redis::RedisBackplaneOptions options,
                  switchboard::PresenceOptions presence = scoped_presence(), const HistoryOfNode& history = {})
        : backplane(std::make_shared<switchboard::redis::RedisBackplane>(io.context().get_executor(),
                                                                          std::move(options))),
          manager(std::make_unique<Manager>(transport, switchboard::StaticTokenAuthenticator{},
                                            manager_options(std::move(presence), history))) {}

    /// The manager first (it holds the backplane and the history), then those on its I/O thread.
    ~Node() {
        manager.reset();
        io.run([this] {
            history.reset();
            backplane.reset();
        });
    }

    struct Device {
        Handle handle;
        switchboard::ConnectionId id;
    };

    Device connect(const switchboard::UserId& user) {
        const Handle handle = transport.open();
        return {handle, manager->register_connection(user, handle)};
    }
    void disconnect(const Device& device) { manager->disconnect(device.id); }

    /// How many events of `type` this device received.
    std::size_t count(const Device& device, std::string_view type) const {
        std::size_t found = 0;
        for (const switchboard::Event& event : transport.events(device.handle)) found += event.type() == type ? 1 : 0;
        return found;
    }

    switchboard::BackplaneMetrics metrics() const { return backplane->metrics(); }

    IoThread io;
    std::shared_ptr<switchboard::redis::RedisBackplane> backplane;
    std::shared_ptr<switchboard::History> history;
    switchboard::MockTransport transport;
    std::unique_ptr<Manager> manager;

    static switchboard::PresenceOptions scoped_presence() {
        switchboard::PresenceOptions presence;
        presence.mode = switchboard::PresenceMode::scoped;
        return presence;
    }

private:
    switchboard::ManagerOptions manager_options(switchboard::PresenceOptions presence,
                                                const HistoryOfNode& history_of_node) {
        switchboard::ManagerOptions options;
        options.backplane = backplane;
        if (history_of_node) history = history_of_node(backplane->node_id(), io.context().get_executor());
        options.history = history;
        options.presence = std::move(presence);
        if (options.presence.mode == switchboard::PresenceMode::coalesced)
            options.presence.executor = io.context().get_executor();
        return options;
    }
};

/// Holds `node`'s Redis executor (its I/O thread) from construction until the object goes: a
/// subscriber killed meanwhile cannot come back, so what is published then never reaches it.
class HeldExecutor {
public:
    explicit HeldExecutor(Node& node) {
        const auto holding = std::make_shared<std::promise<void>>();
        asio::post(node.io.context(), [holding, released = released_.get_future()] {
            holding->set_value();
            released.wait();
        });
        holding->get_future().wait();
    }
    ~HeldExecutor() { released_.set_value(); }
    HeldExecutor(const HeldExecutor&) = delete;
    HeldExecutor& operator=(const HeldExecutor&) = delete;

private:
    std::promise<void> released_;
};

/// One node on a redis-server of its own, with a client of the test's to ask Redis.
struct OneNode {
    RedisServer server;
    std::string prefix = unique_prefix() + "sb";
    Node a{backplane_options(server, prefix, "node-a")};
    IoThread io;
    TestClient redis{io, options_for(server)};
};

/// The channels a node holds with no user: broadcasts, its own, presence.
inline constexpr std::size_t node_channels = 3;

inline std::string user_channel(const std::string& prefix, const switchboard::UserId& user) {
    return prefix + ".user." + user.to_string();
}

/// How many nodes listen to `channel`, by Redis' count.
inline long long listeners(TestClient& redis, const std::string& channel) {
    const Outcome outcome = redis.call({"PUBSUB", "NUMSUB", channel});
    if (outcome.error || outcome.reply.elements.size() != 2) return -1;
    return outcome.reply.elements[1].integer;
}

} // namespace redis_test
