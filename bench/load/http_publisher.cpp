// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "http_publisher.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace loadgen {
namespace {

constexpr std::size_t max_response = 64 * 1024;

/// The status of "HTTP/1.1 200 OK\r\n...", 0 if unreadable.
int status_of(std::string_view response) {
    const std::size_t space = response.find(' ');
    return space == std::string_view::npos ? 0 : std::atoi(std::string(response.substr(space + 1, 3)).c_str());
}

/// The value of a Content-Length header (any case) in `headers`, 0 if none.
std::size_t content_length(std::string_view headers) {
    std::string lower(headers);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::size_t at = lower.find("\r\ncontent-length:");
    return at == std::string::npos ? 0 : std::strtoul(lower.c_str() + at + 17, nullptr, 10);
}

} // namespace

HttpPublisher::HttpPublisher(ServerAddress server, std::string token)
    : server_(std::move(server)), token_(std::move(token)), epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

HttpPublisher::~HttpPublisher() {
    for (std::uint32_t slot = 0; slot < requests_.size(); ++slot)
        if (requests_[slot].fd >= 0) ::close(requests_[slot].fd);
    ::close(epoll_fd_);
}

bool HttpPublisher::post(std::string_view body) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_.port);
    inet_pton(AF_INET, server_.host.c_str(), &address.sin_addr);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return false;
    }
    std::uint32_t slot;
    if (free_.empty()) {
        slot = static_cast<std::uint32_t>(requests_.size());
        requests_.emplace_back();
    } else {
        slot = free_.back();
        free_.pop_back();
    }
    Request& request = requests_[slot];
    request.fd = fd;
    request.inbound.clear();
    request.outbound = "POST /api/publish HTTP/1.1\r\nHost: " + server_.host + ":" + std::to_string(server_.port) +
                       "\r\nAuthorization: Bearer " + token_ +
                       "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n";
    request.outbound.append(body);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u32 = slot;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    return true;
}

void HttpPublisher::poll() {
    epoll_event events[256];
    const int ready = epoll_wait(epoll_fd_, events, 256, 0);
    for (int i = 0; i < ready; ++i) on_event(events[i].data.u32, events[i].events);
}

void HttpPublisher::on_event(std::uint32_t slot, std::uint32_t events) {
    Request& request = requests_[slot];
    if (request.fd < 0) return;
    if ((events & EPOLLOUT) && !request.outbound.empty() && !write_pending(request))
        return finish(slot, "cannot send the request");
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    char buffer[4096];
    for (;;) {
        const ssize_t got = recv(request.fd, buffer, sizeof buffer, 0);
        if (got > 0) {
            request.inbound.append(buffer, static_cast<std::size_t>(got));
            if (response_complete(request)) {
                const int status = status_of(request.inbound);
                return finish(slot, status == 200 ? "" : request.inbound.substr(0, request.inbound.find("\r\n")));
            }
            if (request.inbound.size() > max_response) return finish(slot, "oversized response");
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
        return finish(slot, "connection closed before the response was whole");
    }
}

bool HttpPublisher::write_pending(Request& request) {
    const ssize_t sent = ::send(request.fd, request.outbound.data(), request.outbound.size(), MSG_NOSIGNAL);
    if (sent < 0) return errno == EAGAIN;
    request.outbound.erase(0, static_cast<std::size_t>(sent));
    if (request.outbound.empty()) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u32 = static_cast<std::uint32_t>(&request - requests_.data());
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, request.fd, &event);
    }
    return true;
}

bool HttpPublisher::response_complete(const Request& request) const {
    const std::size_t end = request.inbound.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    return request.inbound.size() >= end + 4 + content_length(std::string_view(request.inbound).substr(0, end));
}

/// An abortive close (RST) once the response is whole: no socket waits in TIME_WAIT on either side.
void HttpPublisher::finish(std::uint32_t slot, std::string_view error) {
    Request& request = requests_[slot];
    if (error.empty()) {
        ++answered;
    } else {
        ++failed;
        if (first_error.empty()) first_error = std::string(error);
    }
    const linger abort{1, 0};
    setsockopt(request.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    ::close(request.fd); // also leaves the epoll set
    request.fd = -1;
    free_.push_back(slot);
}

} // namespace loadgen
