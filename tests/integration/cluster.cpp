// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "cluster.hpp"

#include <algorithm>
#include <atomic>

#include <catch2/catch.hpp>

namespace integration {

namespace {

std::uint16_t port_of(const std::string& url) {
    return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

std::vector<std::string> node_command(const ClusterOptions& options, std::uint16_t redis_port,
                                      const std::string& prefix) {
    return {SOCIAL_SERVER_PATH,  "--port",     "0",
            "--threads",         std::to_string(io_threads),
            "--jwt-secret",      std::string(test_secret),
            "--presence",        options.presence,
            "--history",         options.history,
            "--redis",           "127.0.0.1:" + std::to_string(redis_port),
            "--redis-prefix",    prefix};
}

/// Sends `send(n)` for n = 1, 2, ... every `retry_interval` until `reached` holds; fails the test after `process_wait`.
void probe_until(const std::function<void(int)>& send, const std::function<bool()>& reached,
                 std::chrono::milliseconds retry_interval = std::chrono::milliseconds(100)) {
    const auto deadline = Clock::now() + process_wait;
    for (int probe = 1; !reached(); ++probe) {
        REQUIRE(Clock::now() < deadline);
        send(probe);
        eventually(reached, retry_interval);
    }
}

json probe_event(int probe) { return {{"type", "Probe"}, {"data", {{"n", probe}}}}; }

bool has_probe(const TestClient& client) { return !events_of(client, "Probe").empty(); }

bool lists(const json& users, const std::string& user) {
    return users.is_array() && std::find(users.begin(), users.end(), user) != users.end();
}

} // namespace

Cluster::Cluster(ClusterOptions options) : admin_token_(token_for(UserId::random(), /*admin=*/true)) {
    const std::string prefix = redis_test::unique_prefix() + "cluster";
    const std::vector<std::string> command = node_command(options, redis_.port(), prefix);
    for (std::size_t node = 0; node < options.nodes; ++node) {
        Node started{std::make_unique<ChildProcess>(command), 0};
        REQUIRE(started.process->read_line_containing("of the cluster on redis", process_wait));
        const std::optional<std::string> url = read_listening_url(*started.process, process_wait);
        REQUIRE(url);
        started.port = port_of(*url);
        nodes_.push_back(std::move(started));
    }
}

std::string Cluster::url(std::size_t node, std::string_view query) const {
    std::string url = "ws://127.0.0.1:" + std::to_string(port(node)) + "/ws";
    if (!query.empty()) url += "?" + std::string(query);
    return url;
}

void Cluster::publish(std::size_t node, const json& body) {
    const HttpReply reply = http_request(
        port(node), {"POST", "/api/publish", {{"Authorization", "Bearer " + admin_token_}}, body.dump()});
    INFO(reply.body);
    REQUIRE(reply.status == 200);
}

bool Cluster::lists_online(std::size_t node, const UserId& user) {
    const HttpReply reply =
        http_request(port(node), {"GET", "/api/presence", {{"Authorization", "Bearer " + admin_token_}}, ""});
    REQUIRE(reply.status == 200);
    for (const json& entry : reply.json().value("online", json::array()))
        if (entry.value("user_id", "") == user.to_string()) return true;
    return false;
}

std::unique_ptr<TestClient> connect_to(Cluster& cluster, std::size_t node, const UserId& user, bool admin,
                                       std::string_view query) {
    auto client = std::make_unique<TestClient>();
    INFO("connecting " << user.to_string() << " to node " << node);
    REQUIRE(client->connect(cluster.url(node, query), bearer(token_for(user, admin))));
    REQUIRE(wait_for_event(*client, "Session"));
    return client;
}

void await_reachable(Cluster& cluster, std::size_t node, const std::vector<Device>& devices) {
    json users = json::array();
    for (const Device& device : devices) users.push_back(device.user->to_string());
    probe_until([&](int probe) { cluster.publish(node, {{"to", users}, {"event", probe_event(probe)}}); },
                [&] {
                    return std::all_of(devices.begin(), devices.end(),
                                       [](const Device& device) { return has_probe(*device.client); });
                });
}

void await_broadcast_reachable(Cluster& cluster, std::size_t node, const std::vector<const TestClient*>& clients) {
    probe_until([&](int probe) { cluster.publish(node, {{"broadcast", true}, {"event", probe_event(probe)}}); },
                [&] {
                    return std::all_of(clients.begin(), clients.end(),
                                       [](const TestClient* client) { return has_probe(*client); });
                });
}

void await_presence_reachable(Cluster& cluster, std::size_t node, const TestClient& watcher, const UserId& canary) {
    std::unique_ptr<TestClient> device;
    probe_until(
        [&](int) {
            device.reset(); // closes the previous one, if any
            device = connect_to(cluster, node, canary);
        },
        [&] { return presence_count(watcher.state(), canary, true) > 0; }, std::chrono::seconds(1));
}

std::size_t count_events(const TestClient& client, std::string_view type, std::string_view key,
                         const std::string& value) {
    const std::vector<json> events = events_of(client, type);
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const json& event) {
        return event["data"].value(std::string(key), "") == value;
    }));
}

std::size_t presence_count(const ClientState& state, const UserId& user, bool online) {
    const std::string id = user.to_string();
    std::size_t count = 0;
    for (const json& event : events_of(state, online ? "UserOnline" : "UserOffline"))
        if (event["data"].value("user_id", "") == id) ++count;
    for (const json& diff : events_of(state, "PresenceDiff"))
        if (lists(diff["data"].value(online ? "joins" : "leaves", json::array()), id)) ++count;
    return count;
}

bool wait_for_presence(const TestClient& client, const UserId& user, bool online, std::chrono::milliseconds timeout) {
    return client.wait_until([&](const ClientState& state) { return presence_count(state, user, online) > 0; },
                             timeout);
}

} // namespace integration
