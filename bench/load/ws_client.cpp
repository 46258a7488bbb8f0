// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "ws_client.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace loadgen {
namespace {

constexpr int opcode_continuation = 0x0;
constexpr int opcode_text = 0x1;
constexpr int opcode_binary = 0x2;
constexpr int opcode_close = 0x8;
constexpr int opcode_ping = 0x9;
constexpr std::size_t read_chunk = 256 * 1024;
constexpr std::size_t max_message = 16 * 1024 * 1024; ///< a server sending more is broken
constexpr std::uint32_t foreign_fd = UINT32_MAX; ///< the epoll tag of a `wake_on` descriptor
/// What browsers offer: the server may pick its window and no context takeover.
constexpr std::string_view deflate_offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

std::string base64(const unsigned char* data, std::size_t size) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < size; i += 3) {
        const std::uint32_t chunk = (data[i] << 16) | (i + 1 < size ? data[i + 1] << 8 : 0) |
                                    (i + 2 < size ? data[i + 2] : 0);
        out += alphabet[(chunk >> 18) & 63];
        out += alphabet[(chunk >> 12) & 63];
        out += i + 1 < size ? alphabet[(chunk >> 6) & 63] : '=';
        out += i + 2 < size ? alphabet[chunk & 63] : '=';
    }
    return out;
}

sockaddr_in ipv4(const std::string& host, std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1)
        throw std::invalid_argument("not an IPv4 address: " + host);
    return address;
}

/// 127.0.0.2, 127.0.0.3, ...: one source address per `per_source` connections.
sockaddr_in loopback_source(std::uint32_t index, std::uint32_t per_source) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl((127u << 24) + 2 + index / per_source);
    return address;
}

} // namespace

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

WsClients::WsClients(std::vector<ServerAddress> servers, std::vector<std::string> targets, ClientListener& listener)
    : servers_(std::move(servers)),
      targets_(std::move(targets)),
      listener_(listener),
      connections_(targets_.size()),
      buffer_(read_chunk),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      random_state_(static_cast<std::uint64_t>(now_ns()) | 1) {
    if (epoll_fd_ < 0) throw_errno("epoll_create1");
}

WsClients::~WsClients() {
    close_all();
    ::close(epoll_fd_);
}

void WsClients::connect(std::uint32_t index) {
    Connection& connection = connections_.at(index);
    if (connection.state != State::idle) return;
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(index, std::strerror(errno));
    connection.fd = fd;
    connection.state = State::connecting;
    ++in_flight_;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Let connect() pick the port, so a source address is not limited by bind()'s port choice.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    const sockaddr_in source = loopback_source(index, connections_per_source);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0)
        return fail(index, std::string("bind: ") + std::strerror(errno));
    const ServerAddress& server = servers_.at(connection.server);
    const sockaddr_in destination = ipv4(server.host, server.port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&destination), sizeof destination) != 0 &&
        errno != EINPROGRESS)
        return fail(index, std::string("connect: ") + std::strerror(errno));
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u32 = index;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) fail(index, std::strerror(errno));
}

void WsClients::reconnect(std::uint32_t index, std::string target) {
    release(index);
    connections_[index].state = State::idle;
    targets_[index] = std::move(target);
    connect(index);
}

bool WsClients::send_text(std::uint32_t index, std::string_view payload) {
    if (connections_[index].state != State::open) return false;
    write_frame(index, opcode_text, payload);
    return true;
}

void WsClients::set_offer_deflate(bool on, std::uint32_t inflate_every) {
    offer_deflate_ = on;
    inflate_every_ = inflate_every > 0 ? inflate_every : 1;
}

bool WsClients::is_open(std::uint32_t index) const { return connections_[index].state == State::open; }

void WsClients::poll(std::chrono::milliseconds timeout) {
    epoll_event events[512];
    const int ready = epoll_wait(epoll_fd_, events, 512, static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR) throw_errno("epoll_wait");
    for (int i = 0; i < ready; ++i) on_event(events[i].data.u32, events[i].events);
}

void WsClients::wake_on(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u32 = foreign_fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl");
}

void WsClients::close_all() {
    for (std::uint32_t index = 0; index < connections_.size(); ++index) release(index);
}

void WsClients::on_event(std::uint32_t index, std::uint32_t events) {
    if (index == foreign_fd) return;
    Connection& connection = connections_[index];
    if (connection.state == State::connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(index);
        return;
    }
    if (events & EPOLLOUT) on_writable(index);
    if (connection.state == State::upgrading || connection.state == State::open)
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(index);
}

void WsClients::on_connected(std::uint32_t index) {
    Connection& connection = connections_[index];
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return fail(index, std::string("connect: ") + std::strerror(error));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u32 = index;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
    connection.state = State::upgrading;

    unsigned char key[16];
    for (unsigned char& byte : key) byte = static_cast<unsigned char>(next_random());
    const ServerAddress& server = servers_[connection.server];
    const std::string request = "GET " + targets_[index] + " HTTP/1.1\r\nHost: " + server.host + ":" +
                                std::to_string(server.port) +
                                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                                base64(key, sizeof key) + "\r\nSec-WebSocket-Version: 13\r\n" +
                                (offer_deflate_ ? std::string(deflate_offer) : std::string()) + "\r\n";
    write_bytes(index, request);
}

void WsClients::on_readable(std::uint32_t index) {
    Connection& connection = connections_[index];
    // Read until the socket is drained or a read comes back short: fewer system calls per frame
    // when frames arrive faster than they are handled.
    for (;;) {
        const ssize_t got = recv(connection.fd, buffer_.data(), buffer_.size(), 0);
        if (quick_ack_) {
            const int one = 1;
            setsockopt(connection.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        }
        if (got == 0) return closed_by_server(index, 0);
        if (got < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            return closed_by_server(index, 0);
        }
        received_bytes_ += static_cast<std::uint64_t>(got);
        if (connection.inbound.empty()) {
            const std::size_t used = consume(index, buffer_.data(), static_cast<std::size_t>(got));
            if (connection.state == State::closed) return;
            connection.inbound.assign(buffer_.data() + used, static_cast<std::size_t>(got) - used);
        } else {
            // Parsed from a local string: a listener callback may release this connection meanwhile.
            std::string pending = std::move(connection.inbound);
            pending.append(buffer_.data(), static_cast<std::size_t>(got));
            const std::size_t used = consume(index, pending.data(), pending.size());
            if (connection.state == State::closed) return;
            connection.inbound.assign(pending, used);
        }
        if (connection.inbound.size() > max_message) return fail(index, "oversized message");
        if (static_cast<std::size_t>(got) < buffer_.size()) return;
    }
}

void WsClients::on_writable(std::uint32_t index) {
    Connection& connection = connections_[index];
    if (connection.outbound.empty()) return;
    const std::string pending = std::move(connection.outbound);
    connection.outbound.clear();
    write_bytes(index, pending);
}

std::size_t WsClients::consume(std::uint32_t index, const char* data, std::size_t size) {
    std::size_t used = 0;
    if (connections_[index].state == State::upgrading) used = consume_upgrade(index, data, size);
    if (connections_[index].state == State::open) used += consume_frames(index, data + used, size - used);
    return used;
}

std::size_t WsClients::consume_upgrade(std::uint32_t index, const char* data, std::size_t size) {
    const std::string_view text(data, size);
    const std::size_t end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) return 0;
    const std::string_view status_line = text.substr(0, text.find("\r\n"));
    // The accept key is not checked: the servers under test are known, and SHA-1 would only add cost.
    if (status_line.find(" 101 ") == std::string_view::npos) {
        fail(index, status_line);
        return size;
    }
    // Only offered extensions can be agreed to, so the name in the head is the agreement.
    const bool deflate = offer_deflate_ && text.substr(0, end).find("permessage-deflate") != std::string_view::npos;
    connections_[index].deflate = deflate;
    deflate_agreed_ += deflate;
    connections_[index].state = State::open;
    --in_flight_;
    listener_.on_open(index);
    return end + 4;
}

std::size_t WsClients::consume_frames(std::uint32_t index, const char* data, std::size_t size) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data);
    std::size_t at = 0;
    while (connections_[index].state == State::open && size - at >= 2) {
        const bool fin = bytes[at] & 0x80;
        const bool rsv1 = bytes[at] & 0x40;
        const int opcode = bytes[at] & 0x0f;
        const bool masked = bytes[at + 1] & 0x80;
        std::uint64_t length = bytes[at + 1] & 0x7f;
        std::size_t header = 2;
        if (length == 126) {
            if (size - at < 4) break;
            length = (std::uint64_t{bytes[at + 2]} << 8) | bytes[at + 3];
            header = 4;
        } else if (length == 127) {
            if (size - at < 10) break;
            length = 0;
            for (int i = 0; i < 8; ++i) length = (length << 8) | bytes[at + 2 + i];
            header = 10;
        }
        if (masked) {
            fail(index, "masked frame from the server");
            return size;
        }
        if (rsv1 && !connections_[index].deflate) {
            fail(index, "RSV1 without permessage-deflate");
            return size;
        }
        if (length > max_message) {
            fail(index, "oversized frame");
            return size;
        }
        if (size - at < header + length) break;
        on_frame(index, fin, rsv1, opcode, std::string_view(data + at + header, length));
        at += header + length;
    }
    return at;
}

void WsClients::on_frame(std::uint32_t index, bool fin, bool rsv1, int opcode, std::string_view payload) {
    Connection& connection = connections_[index];
    switch (opcode) {
    case opcode_text:
    case opcode_binary:
        connection.compressed_message = rsv1; // RFC 7692: RSV1 is on the first frame of a message only
        [[fallthrough]];
    case opcode_continuation:
        if (fin && connection.fragments.empty()) return on_message(index, connection.compressed_message, payload);
        connection.fragments.append(payload);
        if (fin) {
            const std::string message = std::move(connection.fragments);
            connection.fragments.clear();
            on_message(index, connection.compressed_message, message);
        }
        return;
    case opcode_ping: return write_frame(index, 0xA, payload);
    case opcode_close: {
        const int code = payload.size() >= 2 ? (static_cast<unsigned char>(payload[0]) << 8) |
                                                   static_cast<unsigned char>(payload[1])
                                             : 0;
        write_frame(index, opcode_close, payload.substr(0, 2));
        return closed_by_server(index, code);
    }
    default: return; // pong
    }
}

void WsClients::on_message(std::uint32_t index, bool compressed, std::string_view payload) {
    if (!compressed) return listener_.on_text(index, payload);
    if (compressed_messages_++ % inflate_every_ != 0) return listener_.on_compressed_unread(index);
    if (!inflater_.inflate(payload, max_message, inflated_)) return fail(index, "corrupt compressed message");
    ++inflated_messages_;
    listener_.on_text(index, inflated_);
}

void WsClients::write_frame(std::uint32_t index, int opcode, std::string_view payload) {
    std::string& frame = frame_scratch_;
    frame.clear();
    frame += static_cast<char>(0x80 | opcode);
    const std::size_t size = payload.size();
    if (size < 126) {
        frame += static_cast<char>(0x80 | size);
    } else if (size <= 0xffff) {
        frame += static_cast<char>(0x80 | 126);
        frame += static_cast<char>(size >> 8);
        frame += static_cast<char>(size & 0xff);
    } else {
        frame += static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) frame += static_cast<char>((size >> shift) & 0xff);
    }
    const std::uint32_t key = next_random();
    const char mask[4] = {static_cast<char>(key >> 24), static_cast<char>(key >> 16), static_cast<char>(key >> 8),
                          static_cast<char>(key)};
    frame.append(mask, 4);
    const std::size_t start = frame.size();
    frame.append(payload);
    for (std::size_t i = 0; i < size; ++i) frame[start + i] ^= mask[i & 3];
    write_bytes(index, frame);
}

void WsClients::write_bytes(std::uint32_t index, std::string_view bytes) {
    Connection& connection = connections_[index];
    if (!connection.outbound.empty()) {
        connection.outbound.append(bytes);
        return;
    }
    const ssize_t sent = ::send(connection.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN) return closed_by_server(index, 0);
    const std::size_t written = sent < 0 ? 0 : static_cast<std::size_t>(sent);
    if (written == bytes.size()) return;
    connection.outbound.assign(bytes.substr(written));
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u32 = index;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
}

void WsClients::fail(std::uint32_t index, std::string_view why) {
    const State was = connections_[index].state;
    if (was == State::connecting || was == State::upgrading) --in_flight_;
    release(index);
    listener_.on_failed(index, why);
}

void WsClients::closed_by_server(std::uint32_t index, int code) {
    if (connections_[index].state == State::upgrading) return fail(index, "closed during the upgrade");
    release(index);
    listener_.on_closed(index, code);
}

void WsClients::release(std::uint32_t index) {
    Connection& connection = connections_[index];
    if (connection.fd >= 0) {
        // An abortive close (RST): neither side keeps the port in TIME_WAIT for the next run.
        const linger abort{1, 0};
        setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        ::close(connection.fd);
    }
    connection = Connection{};
    connection.state = State::closed;
}

std::uint32_t WsClients::next_random() {
    // xorshift64*: masks need only be unpredictable to intermediaries, and there are none here.
    random_state_ ^= random_state_ >> 12;
    random_state_ ^= random_state_ << 25;
    random_state_ ^= random_state_ >> 27;
    return static_cast<std::uint32_t>((random_state_ * 0x2545F4914F6CDD1DULL) >> 32);
}

} // namespace loadgen
