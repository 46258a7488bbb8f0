// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "harness.hpp"

#include <atomic>
#include <ctime>
#include <thread>

#include <catch2/catch.hpp>

#include <switchboard/auth/jwt.hpp>

namespace integration {
namespace {

/// `round_trip` messages share this type prefix, so that `errors_of` can leave their answers out.
constexpr std::string_view round_trip_prefix = "RoundTrip-";

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

} // namespace

social::ServerOptions server_options() {
    social::ServerOptions options;
    options.transport.bind_address = "127.0.0.1";
    options.transport.port = 0;
    options.transport.threads = io_threads;
    options.jwt.key = std::string(test_secret);
    return options;
}

TestServer::TestServer(social::ServerOptions options) : TestServer(std::move(options), [](social::Manager&) {}) {}

TestServer::TestServer(social::ServerOptions options, const std::function<void(social::Manager&)>& before_start)
    : secure_(options.transport.tls.has_value()), server_(std::move(options)) {
    before_start(server_.manager());
    server_.start();
}

TestServer::~TestServer() { server_.shutdown(); }

std::string TestServer::url(std::string_view query) const {
    std::string url = std::string(secure_ ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port()) + "/ws";
    if (!query.empty()) url += "?" + std::string(query);
    return url;
}

// --- Tokens -----------------------------------------------------------------------------------------

json claims_for(const UserId& user, std::chrono::seconds ttl) {
    return {{"sub", user}, {"exp", static_cast<long long>(std::time(nullptr)) + ttl.count()}};
}

std::string token_for(const UserId& user, bool admin) {
    json claims = claims_for(user);
    if (admin) claims["admin"] = true;
    return switchboard::sign_hs256(test_secret, claims);
}

Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// --- Connections ------------------------------------------------------------------------------------

std::unique_ptr<TestClient> connect_user(TestServer& server, const UserId& user, ConnectOptions options,
                                         std::string_view query) {
    const std::size_t before = server.manager().connection_count(user);
    auto client = std::make_unique<TestClient>(options.client);
    INFO("connecting " << user.to_string());
    REQUIRE(client->connect(server.url(query), bearer(token_for(user, options.admin))));
    // The client sees the 101 before the server has registered the connection: wait for the registration.
    REQUIRE(eventually([&] { return server.manager().connection_count(user) == before + 1; }));
    return client;
}

void disconnect_user(TestServer& server, TestClient& client, const UserId& user) {
    const std::size_t before = server.manager().connection_count(user);
    REQUIRE(before > 0);
    client.close();
    REQUIRE(client.wait_closed());
    REQUIRE(eventually([&] { return server.manager().connection_count(user) == before - 1; }));
}

std::unique_ptr<RawWebSocket> connect_raw_user(TestServer& server, const UserId& user,
                                               const RawSocketOptions& options, bool admin) {
    const std::size_t before = server.manager().connection_count(user);
    INFO("connecting " << user.to_string() << " on a raw socket");
    auto client = std::make_unique<RawWebSocket>(server.port(), token_for(user, admin), options);
    REQUIRE(client->status() == 101);
    REQUIRE(eventually([&] { return server.manager().connection_count(user) == before + 1; }));
    return client;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

// --- Received events --------------------------------------------------------------------------------

std::vector<json> events_of(const ClientState& state, std::string_view type) {
    std::vector<json> events;
    for (const std::string& message : state.messages) {
        json event = json::parse(message, nullptr, /*allow_exceptions=*/false);
        if (event.is_object() && event.value("type", "") == type) events.push_back(std::move(event));
    }
    return events;
}

std::vector<json> events_of(const TestClient& client, std::string_view type) {
    return events_of(client.state(), type);
}

bool wait_for_events(const TestClient& client, std::string_view type, std::size_t count,
                     const std::function<bool(const json& data)>& matches) {
    return client.wait_until([&](const ClientState& state) {
        std::size_t matching = 0;
        for (const json& event : events_of(state, type))
            if (!matches || matches(event["data"])) ++matching;
        return matching >= count;
    });
}

bool wait_for_event(const TestClient& client, std::string_view type,
                    const std::function<bool(const json& data)>& matches) {
    return wait_for_events(client, type, 1, matches);
}

void round_trip(TestClient& client) {
    static std::atomic<int> counter{0};
    const std::string type = std::string(round_trip_prefix) + std::to_string(++counter);
    REQUIRE(client.send_text(envelope(type, json::object())));
    REQUIRE(wait_for_event(client, "Error", [&](const json& data) {
        return ends_with(data.value("message", ""), type); // "unknown event type: RoundTrip-<n>"
    }));
}

std::vector<json> errors_of(const ClientState& state) {
    std::vector<json> errors;
    for (json& error : events_of(state, "Error"))
        if (error["data"].value("message", "").find(round_trip_prefix) == std::string::npos)
            errors.push_back(std::move(error));
    return errors;
}

std::vector<json> errors_of(const TestClient& client) { return errors_of(client.state()); }

void check_in_order(const ClientState& state, std::string_view type, int count) {
    const std::vector<json> received = events_of(state, type);
    REQUIRE(received.size() == static_cast<std::size_t>(count));
    for (int seq = 0; seq < count; ++seq) CHECK(received[static_cast<std::size_t>(seq)]["data"]["seq"] == seq);
}

std::function<bool(const json& data)> about_user(const UserId& user) {
    return [id = user.to_string()](const json& data) { return data.value("user_id", "") == id; };
}

std::string envelope(std::string_view type, const json& data) { return json{{"type", type}, {"data", data}}.dump(); }

} // namespace integration
