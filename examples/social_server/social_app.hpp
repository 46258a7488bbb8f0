// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The social app's real-time layer on Switchboard: chat messages, read receipts, typing
/// indicators, admin broadcasts, and an HTTP API through which the rest of a backend publishes
/// events (payments, likes) and reads presence. The wire protocol is documented in README.md.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <switchboard/auth/jwt.hpp>
#include <switchboard/connection_manager.hpp>
#include <switchboard/history/memory.hpp>
#include <switchboard/transport/websocketpp.hpp>

#include "cluster.hpp"
#include "dev_routes.hpp"

namespace social {

using Manager = switchboard::ConnectionManager<switchboard::WebsocketppTransport, switchboard::JwtAuthenticator>;

struct AppSettings {
    std::size_t max_recipients = 100; ///< per `to` list
};

/// Installs the protocol's inbound handlers on a manager and answers the HTTP API.
class SocialApp {
public:
    SocialApp(Manager& manager, AppSettings settings = {});
    switchboard::HttpResponse handle_http(const switchboard::HttpRequest& request) const;
    /// The body of `GET /api/presence`: who is online, with how many connections.
    switchboard::HttpResponse presence() const;

private:
    void send_message(const switchboard::Inbound& inbound) const;
    void mark_read(const switchboard::Inbound& inbound) const;
    template <class Typing>
    void typing(const switchboard::Inbound& inbound) const;
    void broadcast(const switchboard::Inbound& inbound) const;
    void watch(const switchboard::Inbound& inbound, bool subscribe) const;

    switchboard::HttpResponse publish(const switchboard::HttpRequest& request) const;
    switchboard::HttpResponse metrics(const switchboard::HttpRequest& request) const;

    Manager& manager_;
    AppSettings settings_;
};

class MetricsListener; // metrics_endpoint.hpp

struct ServerOptions {
    switchboard::WebsocketppOptions transport;
    switchboard::JwtOptions jwt;
    AppSettings app;
    switchboard::PresenceMode presence = switchboard::PresenceMode::broadcast;
    switchboard::LimitOptions limits;
    /// Offline redelivery from the embedded store with these bounds; none: no history (the
    /// program's `--history memory`, its default, sets one).
    std::optional<switchboard::MemoryHistoryOptions> history;
    std::size_t max_replay = 1000; ///< with history: the most events one resume replays
    /// With `history` and `redis`: the streams are kept in that Redis (`redis::RedisHistory`, shared
    /// by the nodes, bounded by `max_events_per_user` and `max_age`), not in this process.
    bool history_on_redis = false;
    /// Serve `/api/dev/token` and `/api/dev/presence` (dev_routes.hpp): only when `jwt.key` is the
    /// public development secret, which the program alone decides.
    bool dev_routes = false;
    /// One node of a cluster sharing delivery through this Redis; none: a single node.
    std::optional<RedisSettings> redis;
    /// Also serve `GET /metrics` without a token on 127.0.0.1:port (0: a free one); none: only
    /// with an admin token on the main port.
    std::optional<std::uint16_t> metrics_port;
    /// One line per connect, disconnect and refused upgrade; called from I/O threads.
    std::function<void(std::string_view line)> log = [](std::string_view) {};
};

/// A complete server: transport, manager and app, wired together, plus the demo page (web_assets.hpp).
class SocialServer {
public:
    explicit SocialServer(ServerOptions options);
    /// Shuts down first: I/O threads must not call into the app or the manager as they go.
    ~SocialServer();
    /// Listens; throws if it cannot.
    void start();
    std::uint16_t port() const;
    /// The unauthenticated metrics listener's port; 0 without one.
    std::uint16_t metrics_port() const;
    /// Graceful: every connection gets 1001 after what is queued to it.
    void shutdown();
    Manager& manager() { return manager_; }
    /// This node's id in the cluster; empty without `redis`.
    std::string node_id() const;

private:
    switchboard::HttpResponse handle_http(const switchboard::HttpRequest& request) const;

    std::unique_ptr<ClusterNode> cluster_; ///< with `redis`; outlives the manager, which holds its backplane
    switchboard::WebsocketppTransport transport_;
    Manager manager_;
    SocialApp app_;
    std::optional<DevRoutes> dev_routes_;
    std::unique_ptr<MetricsListener> metrics_listener_; ///< with `metrics_port`
};

} // namespace social
