// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Shared setup for the integration tests: the example server run in-process, tokens, connected
// users, and reading the events a client received.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <social_app.hpp>

#include "../support/base64url.hpp"
#include "client.hpp"
#include "raw_socket.hpp"

namespace integration {

using nlohmann::json;
using switchboard::UserId;

/// The HS256 secret of every in-process test server.
inline constexpr std::string_view test_secret = "switchboard-integration-test-secret-0123456789";

/// I/O threads of in-process servers (`--io-threads`): 2 by default, so that ThreadSanitizer sees
/// handlers of different connections run concurrently.
inline std::size_t io_threads = 2;

/// An in-process server's options: loopback, any free port, `io_threads`, the test secret.
social::ServerOptions server_options();

/// The example server, in this process: started by the constructor, shut down by the destructor
/// (explicitly: `SocialServer` would destroy its manager before stopping its transport's threads).
class TestServer {
public:
    explicit TestServer(social::ServerOptions options = server_options());
    /// `before_start` may register handlers of its own (`on` must come before the transport serves).
    TestServer(social::ServerOptions options, const std::function<void(social::Manager&)>& before_start);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    social::Manager& manager() { return server_.manager(); }
    std::uint16_t port() const { return server_.port(); }
    std::uint16_t metrics_port() const { return server_.metrics_port(); }
    /// ws:// (or wss://) URL of the WebSocket endpoint, with an optional raw query.
    std::string url(std::string_view query = {}) const;
    void shutdown() { server_.shutdown(); }

private:
    bool secure_;
    social::SocialServer server_;
};

// --- Tokens -----------------------------------------------------------------------------------------

/// A valid token's claims: `sub` = user, `exp` = now + `ttl`.
json claims_for(const UserId& user, std::chrono::seconds ttl = std::chrono::hours(1));
/// A valid HS256 token for `user` signed with the test secret; `admin` adds `"admin":true`.
std::string token_for(const UserId& user, bool admin = false);
Headers bearer(const std::string& token);
/// base64url without padding (RFC 7515), for hand-made tokens.
using test_support::base64url;

// --- Connections ------------------------------------------------------------------------------------

struct ConnectOptions {
    bool admin = false;
    ClientOptions client;
};

/// Connects one device of `user` (token in the Authorization header; `query` in the URL) and waits until the
/// server has registered it, so that later steps of a test happen after its registration. Fails the test otherwise.
std::unique_ptr<TestClient> connect_user(TestServer& server, const UserId& user, ConnectOptions options = {},
                                         std::string_view query = {});

/// Closes one device of `user` and waits until the server has unregistered it. Fails the test otherwise.
void disconnect_user(TestServer& server, TestClient& client, const UserId& user);

/// Connects one device of `user` on a raw socket (see raw_socket.hpp) and waits until the server has
/// registered it. Fails the test otherwise.
std::unique_ptr<RawWebSocket> connect_raw_user(TestServer& server, const UserId& user,
                                               const RawSocketOptions& options = {}, bool admin = false);

/// Polls a condition on the server's side until it holds; false on timeout.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = default_wait);

// --- Received events --------------------------------------------------------------------------------

/// The received messages whose envelope type is `type`, as whole envelopes {"type":..,"data":..}.
std::vector<json> events_of(const ClientState& state, std::string_view type);
std::vector<json> events_of(const TestClient& client, std::string_view type);

/// Waits until the client has received `count` events of `type` whose data satisfies `matches`.
bool wait_for_events(const TestClient& client, std::string_view type, std::size_t count,
                     const std::function<bool(const json& data)>& matches = {});
bool wait_for_event(const TestClient& client, std::string_view type,
                    const std::function<bool(const json& data)>& matches = {});

/// A round trip through the server on this connection: sends a message of an unknown type and waits
/// for the `Error` answering it. The server handles one connection's messages in order, so whatever
/// the client's earlier messages caused has been sent by then. Fails the test on timeout.
void round_trip(TestClient& client);
/// The `Error` events received, except the ones `round_trip` caused.
std::vector<json> errors_of(const ClientState& state);
std::vector<json> errors_of(const TestClient& client);

/// Checks that the client received exactly `count` events of `type`, their "seq" 0 to `count` - 1 in order.
void check_in_order(const ClientState& state, std::string_view type, int count);

/// Matches event data whose `user_id` is `user` (UserOnline, UserOffline, Typing*).
std::function<bool(const json& data)> about_user(const UserId& user);

/// An envelope as a client sends it.
std::string envelope(std::string_view type, const json& data);

} // namespace integration
