// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Raw TCP to the server and hand-made WebSocket frames, for what a well-behaved client library will not do:
// fragment a message, send invalid UTF-8, leave out Sec-WebSocket-Key, never send a handshake, never read,
// bind to another loopback address, or vanish with a TCP reset.
//
// Non-blocking POSIX sockets to 127.0.0.1; every wait is bounded (poll), so a failing test reports a failure
// instead of hanging.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "client.hpp"
#include "http_client.hpp"

namespace integration {

struct RawSocketOptions {
    std::string local_address; ///< bind to this address before connecting (e.g. "127.0.0.2"); empty: any
    int receive_buffer = 0;    ///< SO_RCVBUF before connecting (a small window backs the server up); 0: default
    Headers upgrade_headers;   ///< `RawWebSocket`'s: sent with its upgrade (e.g. Sec-WebSocket-Extensions)
};

/// One TCP connection to 127.0.0.1; closed (FIN) by the destructor unless `reset` came first.
class RawSocket {
public:
    enum class Read { data, closed, timeout };

    /// Connects to 127.0.0.1:`port`. @throws std::system_error when it cannot.
    explicit RawSocket(std::uint16_t port, const RawSocketOptions& options = {});
    ~RawSocket();
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    /// Writes all of `bytes`; false when the peer is gone or does not take them within `timeout`.
    bool send_all(std::string_view bytes, std::chrono::milliseconds timeout = default_wait);
    /// Appends what arrives within `timeout` to `buffer()`: `closed` on EOF or a reset by the peer.
    Read read_some(std::chrono::milliseconds timeout);
    /// Received bytes the caller has not consumed yet.
    std::string& buffer() { return buffer_; }
    /// Reads and discards until the peer closes; false if it is still open at the timeout.
    bool wait_for_close(std::chrono::milliseconds timeout);
    /// Reads and discards until nothing arrives for `quiet`, so that a `close` right after sends a FIN: the
    /// kernel answers closing a socket with unread data by a reset.
    void discard_pending(std::chrono::milliseconds quiet);
    /// Closes with a TCP reset (SO_LINGER 0) instead of a FIN: a client that vanished.
    void reset();
    /// Closes with a FIN, without a WebSocket close frame.
    void close();

private:
    int fd_ = -1;
    std::string buffer_;
};

/// Options whose upgrade offers permessage-deflate as browsers do (`client_max_window_bits`).
RawSocketOptions offering_deflate();

/// The head of an HTTP response read from a raw socket.
struct RawHttpResponse {
    int status = 0;   ///< 0: the connection closed, or nothing came in time, before a status line
    std::string head; ///< status line and headers
};

/// Reads an HTTP response head; bytes after it (e.g. the first WebSocket frames) stay in `socket.buffer()`.
RawHttpResponse read_http_head(RawSocket& socket, std::chrono::milliseconds timeout = default_wait);

/// Sends `request` as it is, however malformed, and reads the answer to the end: the server closes after
/// answering anything but a valid upgrade. @throws std::runtime_error when no whole answer comes in time.
HttpReply raw_http_exchange(std::uint16_t port, std::string_view request,
                            std::chrono::milliseconds timeout = default_wait);

/// An HTTP/1.1 upgrade request for `target` (e.g. "/ws?token=..."): Host, Upgrade, Connection,
/// Sec-WebSocket-Version 13, a Sec-WebSocket-Key unless `with_key` is false, then `headers`.
std::string upgrade_request(std::uint16_t port, std::string_view target, const Headers& headers = {},
                            bool with_key = true);

namespace opcode {
inline constexpr std::uint8_t continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA;
}

/// One WebSocket frame as the server sent it.
struct WsFrame {
    bool fin = true;
    bool rsv1 = false; ///< permessage-deflate: the message is compressed
    std::uint8_t opcode = 0;
    std::string payload;

    /// A close frame's status code; 1005 ("no status") when its payload has none.
    int close_code() const;
    std::string close_reason() const;
};

/// A client frame: masked with `mask` as RFC 6455 requires of clients, or unmasked (a protocol error) without.
/// `opcode` may carry RSV bits (0x70) too, to make a frame no extension allows.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin, std::optional<std::uint32_t> mask);
/// A server frame (unmasked) at the front of `bytes`, removed from it; nothing while it is incomplete.
std::optional<WsFrame> take_frame(std::string& bytes);

/// A WebSocket client on a raw socket. It answers nothing by itself (no pongs, no close replies) and reads
/// only when asked: a test decides everything it does.
class RawWebSocket {
public:
    /// Connects and sends the opening handshake with `token` as bearer; `status()` tells the answer (101: open).
    RawWebSocket(std::uint16_t port, const std::string& token, const RawSocketOptions& options = {},
                 std::chrono::milliseconds timeout = default_wait);

    int status() const { return status_; }
    /// The head of the server's answer to the upgrade: status line and headers.
    const std::string& handshake() const { return handshake_; }
    /// Frees what it keeps of that answer (the memory tests count this process's heap).
    void forget_handshake() { std::string().swap(handshake_); }
    bool send_frame(std::uint8_t opcode, std::string_view payload, bool fin = true);
    /// Bytes as they are, e.g. frames made with `client_frame`.
    bool send_raw(std::string_view bytes) { return socket_.send_all(bytes); }
    bool send_text(std::string_view text) { return send_frame(opcode::text, text); }
    /// Starts the close handshake with `code`.
    bool send_close(int code = 1000);
    /// The next frame; nothing when the connection closed first or nothing came within `timeout`.
    std::optional<WsFrame> read_frame(std::chrono::milliseconds timeout = default_wait);
    /// Reads frames until one satisfies `matches`, and returns it; nothing on close or timeout.
    std::optional<WsFrame> read_until(const std::function<bool(const WsFrame&)>& matches,
                                      std::chrono::milliseconds timeout = default_wait);
    /// Reads until the server's close frame and returns it; nothing if the connection ended without one.
    std::optional<WsFrame> read_close(std::chrono::milliseconds timeout = default_wait);
    RawSocket& socket() { return socket_; }

private:
    RawSocket socket_;
    int status_ = 0;
    std::string handshake_;
    std::mt19937 masks_;
};

} // namespace integration
