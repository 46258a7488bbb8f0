// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `WebsocketppTransport`: real WebSockets (ws:// and wss://) on websocketpp over standalone Asio.
///
/// websocketpp stays inside the compiled library `switchboard::websocketpp`: this header includes
/// none of it, so a host built as C++20 can embed the transport (websocketpp 0.8.2 itself only
/// compiles as C++17 with g++ 12).
///
/// What it does, in the order a connection lives:
/// - HTTP upgrade on `websocket_path`: only a well-formed one (RFC 6455: GET, HTTP/1.1, the
///   `websocket` and `upgrade` tokens, `Sec-WebSocket-Version: 13`, a key of 16 bytes; else
///   400, 405 or 426 with a JSON reason, never websocketpp's own answer); the Origin allowlist;
///   the connection limits (an upgrade takes its global and per-address slot as it passes them,
///   so upgrades arriving together cannot overshoot); then the manager's Auth policy decides,
///   before any WebSocket frame. A refusal answers the policy's HTTP status (401 with
///   `WWW-Authenticate: Bearer`) and a short JSON body, and keeps no slot or other state.
///   An accepted upgrade is registered with the listener before its 101 is written, so that
///   every event sent once the client has its 101 reaches it, in every threading model: what
///   is sent before the socket is open is held, and goes out first, in order. One that then
///   never opens (the client leaves, the response cannot be written, the transport is stopping)
///   gives its slots back and is reported closed.
///   Answers carry no Server header; websocketpp's copy of the upgrade is dropped once open.
/// - Other HTTP requests go to the host's `HttpHandler` (404 without one), except those to
///   `websocket_path`, which get 426.
/// - Heartbeat: a ping every `ping_interval`; no pong within `pong_timeout` closes the
///   connection (1001 "pong timeout") and reports it closed at once. One timer per endpoint
///   serves every connection's heartbeat and expiry: each happens up to one tick late (an eighth
///   of the shorter of `ping_interval` and `pong_timeout`, at most 250 ms), never early.
/// - Inbound messages over `max_message_size` close the connection with 1009.
/// - permessage-deflate (RFC 7692, `compression`, on by default): negotiated with each client that
///   offers it, always with `server_no_context_takeover` and `client_no_context_takeover`, so
///   that no zlib state is kept per connection. A frame prepared for many recipients (a
///   broadcast, a user's devices) is deflated once, on the first demand of a connection that
///   negotiated the extension (once per distinct window it asked for), and the same compressed
///   frame goes to each of them; the others get the plain frame. A direct send is deflated on the
///   sending thread. Messages under `compression.threshold`, or that do not shrink, go out plain.
///   An inbound message that inflates past `max_message_size` closes with 1009, corrupt data or
///   compressed text that is not UTF-8 with 1007. A bad Sec-WebSocket-Extensions header means no
///   compression, never a refused upgrade.
/// - Outbound messages waiting for a connection leave together: over plain TCP, up to 32 per
///   system call (websocketpp's own writes take 8).
/// - Credentials that carry an expiry close the connection with 1008 when they expire
///   (unless `close_on_credential_expiry` is false).
/// - `shutdown()`: stop accepting, close every connection with 1001 after what is queued to
///   it, wait for the closes up to `shutdown_deadline`, then stop.
///
/// Threads: every member may be called from any thread. Listener callbacks run on I/O threads,
/// serialized per connection. On one I/O thread of its own (`threads == 1`, the default),
/// websocketpp runs without locks or strands, and only that thread calls into it: a send from
/// another thread is posted there (one handler per recipient) and reports `sent` if the
/// connection is open and within its backlog limit; a connection that closes before the post
/// runs drops it, as it drops what it had queued. Sends from the I/O thread itself (listener
/// callbacks, timers on `executor()`) go straight to websocketpp, unless sends posted to that
/// connection still wait: they are posted behind them, so that a later send never overtakes.
/// With more threads, or on a host's `io_context`, websocketpp's multi-threaded configuration
/// serves every thread alike.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>

#include <switchboard/event.hpp>
#include <switchboard/transport.hpp>
#include <switchboard/transport/compression.hpp>

namespace switchboard {

/// A plain HTTP request (not an upgrade), for the host's HTTP API next to the WebSocket.
struct HttpRequest {
    std::string method;
    std::string path;  ///< without the query
    std::string query; ///< raw, without '?'
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string remote_address;

    /// First header of that name, compared case-insensitively.
    std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpResponse {
    static HttpResponse json(int status, std::string body) {
        HttpResponse response;
        response.status = status;
        response.body = std::move(body);
        return response;
    }

    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct TlsOptions {
    std::string certificate_chain_file; ///< PEM
    std::string private_key_file;       ///< PEM
};

struct WebsocketppOptions {
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 8080;                 ///< 0: any free port (see `WebsocketppTransport::port()`)
    std::size_t threads = 1;                   ///< I/O threads the transport runs itself (see Threads above)
    std::optional<TlsOptions> tls;             ///< set: wss:// only
    std::string websocket_path = "/ws";        ///< upgrades elsewhere get 404
    std::chrono::milliseconds ping_interval{std::chrono::seconds(25)};
    std::chrono::milliseconds pong_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds(5)}; ///< also the close handshake's
    std::size_t max_message_size = 64 * 1024;  ///< inbound; larger closes with 1009
    std::size_t max_http_body_size = 1024 * 1024;
    /// Open WebSockets at once, counting accepted upgrades not yet open; 0: the open-files limit
    /// less 64 (a socket is a file).
    std::size_t max_connections = 0;
    /// Open WebSockets from one IP address, counted like `max_connections`; 0: no limit (mobile
    /// carriers put many users behind one).
    std::size_t max_connections_per_address = 0;
    /// Browser origins allowed to upgrade (e.g. "https://app.example.com"); empty: any. Requests
    /// without an Origin header (non-browser clients) are not affected.
    std::vector<std::string> allowed_origins;
    bool close_on_credential_expiry = true;
    std::chrono::milliseconds shutdown_deadline{std::chrono::seconds(5)};
    /// `TCP_NODELAY`: each write leaves at once. Off, Nagle's algorithm holds small writes while
    /// earlier data is unacknowledged and merges them into fewer packets, which may raise fan-out
    /// throughput at saturation; but a small event can then wait for the peer's delayed ACK (the
    /// benchmark's direct messages: p99 0.4 ms on, 39 ms off).
    bool tcp_no_delay = true;
    /// permessage-deflate with the clients that offer it (see above and compression.hpp).
    CompressionOptions compression;
};

class WebsocketppTransport {
public:
    /// Names one connection (websocketpp's `connection_hdl`).
    using handle_type = std::weak_ptr<void>;

    /// A frame prepared once (WebSocket header and payload) and shareable by every connection,
    /// with its compressed variant for those that negotiated permessage-deflate, made on first
    /// demand. Threads: made on any thread, then sent by one thread at a time (a manager's
    /// delivery sends each frame it prepared from the thread that prepared it).
    class PreparedFrame {
    public:
        PreparedFrame(std::shared_ptr<void> message, std::size_t payload_size,
                      std::shared_ptr<void> compressed_variants = nullptr)
            : message_(std::move(message)), compressed_variants_(std::move(compressed_variants)),
              payload_size_(payload_size) {}
        const std::shared_ptr<void>& message() const noexcept { return message_; }
        /// The transport's own: null when the frame goes out plain to everyone.
        const std::shared_ptr<void>& compressed_variants() const noexcept { return compressed_variants_; }
        std::size_t payload_size() const noexcept { return payload_size_; }

    private:
        std::shared_ptr<void> message_;
        std::shared_ptr<void> compressed_variants_;
        std::size_t payload_size_;
    };
    using prepared_type = PreparedFrame;

    /// Runs on `options.threads` threads of its own, from `start()` to `shutdown()`.
    explicit WebsocketppTransport(WebsocketppOptions options);
    /// Runs on a host's `io_context`, which the host runs (and keeps running until `shutdown()`
    /// returns). websocketpp re-arms its acceptor on whichever thread accepted last, so closing
    /// it is race-free only when the host runs that context on one thread.
    WebsocketppTransport(asio::io_context& io, WebsocketppOptions options);
    /// Shuts down if still running.
    ~WebsocketppTransport();
    WebsocketppTransport(const WebsocketppTransport&) = delete;
    WebsocketppTransport& operator=(const WebsocketppTransport&) = delete;

    /// Binds and starts accepting; throws `std::system_error` if it cannot bind, and
    /// `std::runtime_error` if the TLS files cannot be loaded.
    void start();
    /// The bound port (useful with `options.port == 0`); 0 before `start()`.
    std::uint16_t port() const;
    /// Graceful stop, see the file comment. Idempotent; returns once stopped.
    void shutdown();
    /// Answers plain HTTP requests. Set before `start()`.
    void set_http_handler(HttpHandler handler);
    /// The executor of the transport's I/O: for the host's timers (stale sweep, coalesced presence).
    asio::any_io_executor executor();

    // --- Transport policy (see switchboard/transport.hpp) --------------------------------------
    bool send(const handle_type& connection, const Frame& frame);
    PreparedFrame prepare(const Frame& frame);
    bool send(const handle_type& connection, const PreparedFrame& frame);
    /// `send`, unless `queued_bytes` is past `max_backlog` (0: no limit): one handle look-up for both.
    SendStatus try_send(const handle_type& connection, const PreparedFrame& frame, std::size_t max_backlog);
    void close(const handle_type& connection, CloseCode code, std::string_view reason);
    bool is_open(const handle_type& connection) const;
    /// Outbound bytes accepted but not yet written. websocketpp's figure is read on the
    /// connection's I/O strand, ordered with our sends, after every 64 KiB sent (and at
    /// heartbeats); in between, bytes sent since are added: the answer errs high, never low.
    std::size_t queued_bytes(const handle_type& connection) const;
    void set_listener(TransportListener<handle_type>* listener);

    /// Open WebSocket connections right now.
    std::size_t connection_count() const;

    struct Metrics {
        std::uint64_t refused_version = 0;   ///< 426: no Sec-WebSocket-Version 13
        std::uint64_t refused_malformed = 0; ///< 400, 405, 426: not a well-formed upgrade (RFC 6455)
        std::uint64_t refused_path = 0;      ///< 404: upgrade outside `websocket_path`
        std::uint64_t refused_origin = 0;    ///< 403: Origin not allowed
        std::uint64_t refused_capacity = 0;  ///< 503: `max_connections` reached or shutting down
        std::uint64_t refused_address = 0;   ///< 429: `max_connections_per_address` reached
        std::uint64_t upgrades_abandoned = 0; ///< accepted, then never opened (client left, write failed, stopping)
        std::size_t upgrades_pending = 0; ///< now: past the limits, not yet open or gone (they hold slots)
        std::uint64_t pong_timeouts = 0;
        std::uint64_t credential_expiries = 0;
        std::uint64_t oversized_messages = 0; ///< closed with 1009
        /// Open connections closed, by the close code the server sent (its own, even when the client
        /// then dropped the socket without echoing it, or the client's, echoed; 1006: the TCP
        /// connection ended with neither): `closes[code - 1000]`
        /// for 1000-1015, every other code (3000-4999) in `closes_other`.
        static constexpr std::uint16_t first_close_code = 1000;
        static constexpr std::size_t close_codes = 16;
        std::array<std::uint64_t, close_codes> closes{};
        std::uint64_t closes_other = 0;
        /// permessage-deflate traffic, one way.
        struct Compressed {
            std::uint64_t messages = 0;      ///< sent (per connection) or received compressed
            std::uint64_t wire_bytes = 0;    ///< their payloads as compressed on the wire
            std::uint64_t message_bytes = 0; ///< the same messages uncompressed
        };
        Compressed compressed_out;
        Compressed compressed_in;
        /// Messages deflated for sending: a prepared frame once per distinct window, however many
        /// connections it reaches.
        std::uint64_t deflations = 0;
    };
    Metrics metrics() const;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace switchboard
