// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// A lean WebSocket client for load generation: many connections on one epoll loop, one thread.
///
/// It does only what the benchmark needs: the HTTP upgrade, masked text frames out (RFC 6455
/// requires client frames to be masked), text frames in (fragmented ones reassembled), pong for
/// ping, and an abortive close (RST) at the end so that no socket lingers in TIME_WAIT between runs.
/// Received bytes go through one shared buffer; a connection keeps only an incomplete tail.
///
/// With `set_offer_deflate`, each upgrade offers permessage-deflate (RFC 7692, as browsers do) and
/// compressed messages (RSV1) are read: one in `inflate_every` is inflated and handed on as text,
/// the others are only counted (`on_compressed_unread`), so that a client loop inflating a server's
/// whole fan-out does not become what a benchmark measures.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inflater.hpp"

namespace loadgen {

/// Nanoseconds on the monotonic clock: senders and receivers share this process, so latency is
/// the difference of two readings.
std::int64_t now_ns();

/// What happens to connections; called on the loop's thread from `poll`.
class ClientListener {
public:
    virtual ~ClientListener() = default;
    virtual void on_open(std::uint32_t index) = 0;
    virtual void on_failed(std::uint32_t index, std::string_view why) = 0;
    virtual void on_text(std::uint32_t index, std::string_view payload) = 0;
    /// A compressed message arrived that was not inflated (see `WsClients::set_offer_deflate`).
    virtual void on_compressed_unread(std::uint32_t index) = 0;
    /// The server closed the connection (close frame or end of stream); `code` 0 when none was given.
    virtual void on_closed(std::uint32_t index, int code) = 0;
};

struct ServerAddress {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
};

class WsClients {
public:
    /// `targets[i]` is connection i's request target, e.g. "/ws?token=..."; every connection goes
    /// to `servers[0]` unless `assign_server` says otherwise (several nodes of one cluster).
    WsClients(std::vector<ServerAddress> servers, std::vector<std::string> targets, ClientListener& listener);
    ~WsClients();
    WsClients(const WsClients&) = delete;
    WsClients& operator=(const WsClients&) = delete;

    /// Starts connection `index` (non-blocking). Past `connections_per_source` connections, the
    /// next ones bind to the next loopback source address (127.0.0.2, .3, ...), so one client can
    /// exceed the ephemeral-port range, and each address keeps most of its ports free: Linux's
    /// connect() looks for a free port among the even ones first, so once they are taken (about
    /// 14,000 here) every connect() walks them all. 9,000 connects at once after 10,000 took 9.5 s
    /// with one address, long enough for servers' 5 s handshake timeouts to fail a third of them.
    void connect(std::uint32_t index);
    /// Connection `index` connects to `servers[server]` from its next `connect` on.
    void assign_server(std::uint32_t index, std::uint8_t server) { connections_.at(index).server = server; }
    /// Closes connection `index` at once, abortively.
    void close(std::uint32_t index) { release(index); }
    /// Closes connection `index` if open and starts it again with another request target.
    void reconnect(std::uint32_t index, std::string target);
    /// Sends one masked text frame; false if the connection is not open.
    bool send_text(std::uint32_t index, std::string_view payload);
    bool is_open(std::uint32_t index) const;
    std::size_t size() const { return connections_.size(); }
    /// Connections started whose upgrade has not finished (or failed) yet.
    std::size_t handshakes_in_flight() const { return in_flight_; }
    /// Handles what is ready, waiting at most `timeout` for something to be.
    void poll(std::chrono::milliseconds timeout);
    /// `poll` also returns when `fd` (another poll set, say) is readable, handling none of it.
    void wake_on(int fd);
    /// Closes every connection at once, abortively.
    void close_all();
    /// Diagnostic: acknowledge every read at once (TCP_QUICKACK) instead of delaying ACKs as a normal
    /// client does; shows how much of a latency tail is a server's Nagle waiting for delayed ACKs.
    void set_quick_ack(bool on) { quick_ack_ = on; }
    /// Offer permessage-deflate in the upgrades started from now on, and inflate one compressed
    /// message in `inflate_every` (1: all of them).
    void set_offer_deflate(bool on, std::uint32_t inflate_every);

    /// Bytes read from every socket so far: frame headers and payloads as they came (compressed or not).
    std::uint64_t received_bytes() const { return received_bytes_; }
    /// Upgrades whose 101 agreed to permessage-deflate.
    std::uint64_t deflate_agreed() const { return deflate_agreed_; }
    /// Compressed messages received, and how many of them were inflated.
    std::uint64_t compressed_messages() const { return compressed_messages_; }
    std::uint64_t inflated_messages() const { return inflated_messages_; }

    static constexpr std::uint32_t connections_per_source = 5000;

private:
    enum class State : std::uint8_t { idle, connecting, upgrading, open, closed };
    struct Connection {
        int fd = -1;
        State state = State::idle;
        std::uint8_t server = 0;         ///< its index in `servers_`
        bool deflate = false;            ///< agreed in the upgrade
        bool compressed_message = false; ///< the message being reassembled had RSV1 on its first frame
        std::string inbound;   ///< an incomplete HTTP response or frame
        std::string fragments; ///< a fragmented message being reassembled
        std::string outbound;  ///< bytes the socket did not take yet
    };

    void on_event(std::uint32_t index, std::uint32_t events);
    void on_connected(std::uint32_t index);
    void on_readable(std::uint32_t index);
    void on_writable(std::uint32_t index);
    /// Consumes whole frames (or the upgrade response) from `data`; returns bytes consumed.
    std::size_t consume(std::uint32_t index, const char* data, std::size_t size);
    std::size_t consume_upgrade(std::uint32_t index, const char* data, std::size_t size);
    std::size_t consume_frames(std::uint32_t index, const char* data, std::size_t size);
    void on_frame(std::uint32_t index, bool fin, bool rsv1, int opcode, std::string_view payload);
    void on_message(std::uint32_t index, bool compressed, std::string_view payload);
    void write_frame(std::uint32_t index, int opcode, std::string_view payload);
    void write_bytes(std::uint32_t index, std::string_view bytes);
    void fail(std::uint32_t index, std::string_view why);
    void closed_by_server(std::uint32_t index, int code);
    void release(std::uint32_t index);
    std::uint32_t next_random();

    std::vector<ServerAddress> servers_;
    std::vector<std::string> targets_;
    ClientListener& listener_;
    std::vector<Connection> connections_;
    std::vector<char> buffer_;     ///< shared by every read
    std::string frame_scratch_;    ///< the frame being built for a send
    int epoll_fd_ = -1;
    std::size_t in_flight_ = 0;
    bool quick_ack_ = false;
    bool offer_deflate_ = false;
    std::uint32_t inflate_every_ = 1;
    Inflater inflater_;
    std::string inflated_; ///< the last message inflated
    std::uint64_t received_bytes_ = 0;
    std::uint64_t deflate_agreed_ = 0;
    std::uint64_t compressed_messages_ = 0;
    std::uint64_t inflated_messages_ = 0;
    std::uint64_t random_state_;
};

} // namespace loadgen
