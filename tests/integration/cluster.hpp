// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A cluster of `social_server` processes on a redis-server of the test's own, for black-box tests:
// the nodes are driven only through their WebSockets, their HTTP API and signals.
//
// RAII: the nodes are killed (SIGKILL) and reaped, then Redis stopped, when the cluster goes away,
// so a failed REQUIRE leaves no process behind. Used by the test's thread only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../redis/redis_server.hpp"
#include "child_process.hpp"
#include "deadline.hpp"
#include "harness.hpp"
#include "http_client.hpp"

namespace integration {

/// Starting and stopping a process (sanitized builds included) takes longer than a loopback round trip.
inline constexpr std::chrono::seconds process_wait{15};

/// How the nodes run; every flag a test depends on is passed explicitly, defaults may change.
struct ClusterOptions {
    std::size_t nodes = 3;
    std::string presence = "all"; ///< --presence
    std::string history = "memory"; ///< --history
};

class Cluster {
public:
    /// Starts Redis and the nodes (each with `--threads` = `io_threads`), and waits until every one
    /// listens and has said its node id.
    explicit Cluster(ClusterOptions options = {});
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    std::size_t size() const { return nodes_.size(); }
    ChildProcess& process(std::size_t node) { return *nodes_.at(node).process; }
    std::uint16_t port(std::size_t node) const { return nodes_.at(node).port; }
    /// The node's ws:// URL, with an optional raw query.
    std::string url(std::size_t node, std::string_view query = {}) const;

    /// `POST /api/publish` on that node with an admin token; fails the test unless answered 200.
    void publish(std::size_t node, const json& body);
    /// `GET /api/presence` on that node: is `user` in its list of the cluster's online users?
    bool lists_online(std::size_t node, const UserId& user);

private:
    struct Node {
        std::unique_ptr<ChildProcess> process;
        std::uint16_t port = 0;
    };

    redis_test::RedisServer redis_; ///< first, so that it outlives the nodes
    std::vector<Node> nodes_;
    std::string admin_token_;
};

/// Connects a device of `user` to `node` and waits for its first frame, the `Session` (the nodes run
/// with history): by then the node has registered it. Fails the test otherwise.
std::unique_ptr<TestClient> connect_to(Cluster& cluster, std::size_t node, const UserId& user, bool admin = false,
                                       std::string_view query = {});

/// A device and its user, as the tests name who should receive what.
struct Device {
    const UserId* user;
    const TestClient* client;
};

/// A node subscribes to a user's channel a round trip to Redis after that user's first connection
/// there, and pub/sub keeps nothing meanwhile: publishes a `Probe` to these devices' users through
/// `node` (again every 100 ms) until every device has one, so that what a test sends next reaches
/// each of them. Fails the test after `process_wait`.
void await_reachable(Cluster& cluster, std::size_t node, const std::vector<Device>& devices);
/// The same with `Probe` broadcasts, until every client has one.
void await_broadcast_reachable(Cluster& cluster, std::size_t node, const std::vector<const TestClient*>& clients);

/// A node subscribes to the cluster's presence channel after it starts listening: connects a
/// `canary` device to `node` (again, after a close, every second) until `watcher` hears it come
/// online, so that the watcher's node hears what comes next. Under `--presence scoped` the watcher
/// must watch the canary.
void await_presence_reachable(Cluster& cluster, std::size_t node, const TestClient& watcher, const UserId& canary);

/// How many `type` events the client received whose data's `key` is `value`.
std::size_t count_events(const TestClient& client, std::string_view type, std::string_view key,
                         const std::string& value);

/// How many times the client heard that `user` came online (`online`) or went offline, in any
/// presence mode: `UserOnline`/`UserOffline`, or `PresenceDiff`'s `joins`/`leaves`.
std::size_t presence_count(const ClientState& state, const UserId& user, bool online);
/// Waits until it heard that at least once.
bool wait_for_presence(const TestClient& client, const UserId& user, bool online,
                       std::chrono::milliseconds timeout = default_wait);

/// Long enough for a duplicate, an echo or a stray event to arrive after the expected one.
inline constexpr std::chrono::milliseconds quiet_period{500};

} // namespace integration
