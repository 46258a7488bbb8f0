// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A WebSocket test client on websocketpp (ws:// and wss://), on an I/O thread of its own.
//
// websocketpp stays inside client.cpp (the only test TU that includes it, built as C++17): the test
// files include this header only, so they may be C++20 like the example app they drive, and the
// ~20 s websocketpp compile happens once.
//
// Every wait is bounded, so a failing test reports a failure instead of hanging.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace integration {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// How long a test waits for anything to happen on the network.
inline constexpr std::chrono::milliseconds default_wait{5000};

/// The server's HTTP answer to the opening handshake: 101 when accepted, or a refusal.
struct HandshakeResponse {
    int status = 0; ///< 0: no HTTP response at all (e.g. connection refused)
    Headers headers;
    std::string body;

    /// First header of that name, compared case-insensitively.
    std::optional<std::string> header(std::string_view name) const;
};

/// The close handshake as the client saw it.
struct CloseInfo {
    int code = 0;                   ///< the server's close code; 1006 when the connection just dropped
    std::string reason;
    std::size_t messages_before = 0; ///< messages received before the close
};

/// What the client has seen so far.
struct ClientState {
    std::vector<std::string> messages; ///< received messages (text or binary payloads), in order
    std::size_t received = 0;          ///< messages received, kept or not (see `ClientOptions::keep_messages`)
    std::size_t pings = 0;             ///< pings received, answered or not
    bool open = false;
    bool ended = false;                ///< closed, or failed to open
    std::optional<CloseInfo> close;    ///< set once a handshake-completed connection closed
};

struct ClientOptions {
    bool tls = false;          ///< wss:// (certificate verification off: tests use throwaway certificates)
    bool answer_pings = true;  ///< false: never pong, like a peer that died without closing
    bool keep_messages = true; ///< false: only count them (`ClientState::received`): for 100s of MB of messages
};

class TestClient {
public:
    explicit TestClient(ClientOptions options = {});
    /// Closes (1000) if still open, waiting briefly for the close handshake, then stops the I/O thread.
    ~TestClient();
    TestClient(const TestClient&) = delete;
    TestClient& operator=(const TestClient&) = delete;

    /// Starts the opening handshake and waits for it to succeed or fail; true when open.
    bool connect(const std::string& url, const Headers& headers = {},
                 std::chrono::milliseconds timeout = default_wait);
    /// The server's HTTP response to `connect` (status 0 before one arrived).
    HandshakeResponse response() const;

    /// Waits until `condition` holds for the client's state (evaluated under the client's lock, so
    /// it must not call back into the client); false on timeout.
    bool wait_until(const std::function<bool(const ClientState&)>& condition,
                    std::chrono::milliseconds timeout = default_wait) const;
    /// Waits until the connection has ended; false on timeout.
    bool wait_closed(std::chrono::milliseconds timeout = default_wait) const;
    ClientState state() const;
    std::vector<std::string> messages() const;
    bool is_open() const;

    /// False when the message could not be queued (e.g. not open).
    bool send_text(std::string_view payload);
    bool send_binary(std::string_view payload);
    /// Starts the close handshake; see `wait_closed`.
    void close(int code = 1000, std::string_view reason = {});

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace integration
