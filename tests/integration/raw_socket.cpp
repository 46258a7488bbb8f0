// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "raw_socket.hpp"
#include "deadline.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace integration {
namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

sockaddr_in loopback(const std::string& address, std::uint16_t port) {
    sockaddr_in socket_address{};
    socket_address.sin_family = AF_INET;
    socket_address.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &socket_address.sin_addr) != 1)
        throw std::invalid_argument("not an IPv4 address: " + address);
    return socket_address;
}

/// Waits for `events` on `fd` until `deadline`; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    pollfd entry{fd, events, 0};
    for (;;) {
        const int ready = ::poll(&entry, 1, remaining_ms(deadline));
        if (ready > 0) return true;
        if (ready == 0) return false;
        if (errno != EINTR) fail("poll");
    }
}

} // namespace

// --- RawSocket ---------------------------------------------------------------------------------------

RawSocket::RawSocket(std::uint16_t port, const RawSocketOptions& options) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("socket");
    try {
        if (options.receive_buffer > 0 &&
            setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer, sizeof options.receive_buffer) != 0)
            fail("SO_RCVBUF");
        if (!options.local_address.empty()) {
            const sockaddr_in local = loopback(options.local_address, 0);
            if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) fail("bind");
        }
        const sockaddr_in server = loopback("127.0.0.1", port);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) fail("connect");
        // Non-blocking from here on: every read and write waits in poll, with a deadline.
        if (fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK) != 0) fail("fcntl");
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

RawSocket::~RawSocket() { close(); }

bool RawSocket::send_all(std::string_view bytes, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!bytes.empty()) {
        if (fd_ < 0) return false;
        const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(sent));
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_for(fd_, POLLOUT, deadline)) return false;
        } else if (errno != EINTR) {
            return false; // EPIPE, ECONNRESET: the peer is gone
        }
    }
    return true;
}

RawSocket::Read RawSocket::read_some(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char chunk[64 * 1024];
    for (;;) {
        if (fd_ < 0) return Read::closed;
        const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
        if (got > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(got));
            return Read::data;
        }
        if (got == 0) return Read::closed;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_for(fd_, POLLIN, deadline)) return Read::timeout;
        } else if (errno != EINTR) {
            return Read::closed; // ECONNRESET
        }
    }
}

bool RawSocket::wait_for_close(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        buffer_.clear();
        const Read read = read_some(std::chrono::milliseconds(remaining_ms(deadline)));
        if (read == Read::closed) return true;
        if (read == Read::timeout) return false;
    }
}

void RawSocket::discard_pending(std::chrono::milliseconds quiet) {
    while (read_some(quiet) == Read::data) buffer_.clear();
}

void RawSocket::reset() {
    if (fd_ < 0) return;
    const linger abort_on_close{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close();
}

void RawSocket::close() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
}

// --- HTTP ------------------------------------------------------------------------------------------------

RawHttpResponse read_http_head(RawSocket& socket, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string& bytes = socket.buffer();
    std::size_t head_end;
    while ((head_end = bytes.find("\r\n\r\n")) == std::string::npos) {
        const auto left = std::chrono::milliseconds(remaining_ms(deadline));
        if (socket.read_some(left) != RawSocket::Read::data) return {};
    }
    RawHttpResponse response;
    response.head = bytes.substr(0, head_end + 2);
    bytes.erase(0, head_end + 4);
    if (response.head.rfind("HTTP/1.1 ", 0) == 0) response.status = std::atoi(response.head.c_str() + 9);
    return response;
}

HttpReply raw_http_exchange(std::uint16_t port, std::string_view request, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    RawSocket socket(port);
    if (!socket.send_all(request, timeout)) throw std::runtime_error("the server did not take the request");
    for (;;) {
        const RawSocket::Read read = socket.read_some(std::chrono::milliseconds(remaining_ms(deadline)));
        if (read == RawSocket::Read::closed) return parse_http_reply(socket.buffer());
        if (read == RawSocket::Read::timeout) throw std::runtime_error("the server did not answer and close in time");
    }
}

std::string upgrade_request(std::uint16_t port, std::string_view target, const Headers& headers, bool with_key) {
    std::string text = "GET " + std::string(target) + " HTTP/1.1\r\n";
    text += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
    text += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
    if (with_key) text += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"; // RFC 6455's sample nonce
    for (const auto& [name, value] : headers) text += name + ": " + value + "\r\n";
    return text + "\r\n";
}

// --- Frames ----------------------------------------------------------------------------------------------

int WsFrame::close_code() const {
    if (payload.size() < 2) return 1005;
    return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
}

std::string WsFrame::close_reason() const { return payload.size() > 2 ? payload.substr(2) : std::string(); }

std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin,
                         std::optional<std::uint32_t> mask) {
    std::string frame;
    frame += static_cast<char>((fin ? 0x80 : 0x00) | opcode);
    const char mask_bit = mask ? static_cast<char>(0x80) : 0;
    const std::size_t size = payload.size();
    if (size < 126) {
        frame += static_cast<char>(mask_bit | static_cast<char>(size));
    } else if (size <= 0xFFFF) {
        frame += static_cast<char>(mask_bit | 126);
        for (int shift = 8; shift >= 0; shift -= 8) frame += static_cast<char>((size >> shift) & 0xFF);
    } else {
        frame += static_cast<char>(mask_bit | 127);
        for (int shift = 56; shift >= 0; shift -= 8) frame += static_cast<char>((size >> shift) & 0xFF);
    }
    if (!mask) return frame.append(payload);
    const char key[4] = {static_cast<char>(*mask >> 24), static_cast<char>(*mask >> 16),
                         static_cast<char>(*mask >> 8), static_cast<char>(*mask)};
    frame.append(key, 4);
    for (std::size_t i = 0; i < size; ++i) frame += static_cast<char>(payload[i] ^ key[i % 4]);
    return frame;
}

std::optional<WsFrame> take_frame(std::string& bytes) {
    if (bytes.size() < 2) return std::nullopt;
    const auto byte = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])); };
    std::size_t header = 2;
    std::uint64_t size = byte(1) & 0x7F;
    const std::size_t extended = size == 126 ? 2 : size == 127 ? 8 : 0;
    if (bytes.size() < header + extended) return std::nullopt;
    if (extended) {
        size = 0;
        for (std::size_t i = 0; i < extended; ++i) size = (size << 8) | byte(header + i);
        header += extended;
    }
    if (bytes.size() < header + size) return std::nullopt;
    WsFrame frame;
    frame.fin = (byte(0) & 0x80) != 0;
    frame.rsv1 = (byte(0) & 0x40) != 0;
    frame.opcode = static_cast<std::uint8_t>(byte(0) & 0x0F);
    frame.payload = bytes.substr(header, static_cast<std::size_t>(size));
    bytes.erase(0, header + static_cast<std::size_t>(size));
    return frame;
}

RawSocketOptions offering_deflate() {
    RawSocketOptions options;
    options.upgrade_headers = {{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"}};
    return options;
}

// --- RawWebSocket ------------------------------------------------------------------------------------------

RawWebSocket::RawWebSocket(std::uint16_t port, const std::string& token, const RawSocketOptions& options,
                           std::chrono::milliseconds timeout)
    : socket_(port, options), masks_(std::random_device{}()) {
    Headers headers = options.upgrade_headers;
    headers.emplace_back("Authorization", "Bearer " + token);
    if (!socket_.send_all(upgrade_request(port, "/ws", headers), timeout)) return;
    RawHttpResponse answer = read_http_head(socket_, timeout);
    status_ = answer.status;
    handshake_ = std::move(answer.head);
}

bool RawWebSocket::send_frame(std::uint8_t opcode, std::string_view payload, bool fin) {
    return socket_.send_all(client_frame(opcode, payload, fin, static_cast<std::uint32_t>(masks_())));
}

bool RawWebSocket::send_close(int code) {
    const char payload[2] = {static_cast<char>((code >> 8) & 0xFF), static_cast<char>(code & 0xFF)};
    return send_frame(opcode::close, std::string_view(payload, 2));
}

std::optional<WsFrame> RawWebSocket::read_frame(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (auto frame = take_frame(socket_.buffer())) return frame;
        if (socket_.read_some(std::chrono::milliseconds(remaining_ms(deadline))) != RawSocket::Read::data)
            return std::nullopt;
    }
}

std::optional<WsFrame> RawWebSocket::read_until(const std::function<bool(const WsFrame&)>& matches,
                                                std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (auto frame = read_frame(std::chrono::milliseconds(remaining_ms(deadline))))
        if (matches(*frame)) return frame;
    return std::nullopt;
}

std::optional<WsFrame> RawWebSocket::read_close(std::chrono::milliseconds timeout) {
    return read_until([](const WsFrame& frame) { return frame.opcode == opcode::close; }, timeout);
}

} // namespace integration
