// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// A backend publishing over HTTP: `POST /api/publish` with an admin bearer token, many requests
/// in flight, each on a connection of its own (`Connection: close`: websocketpp, under the example
/// server and the websocketpp baselines, closes every HTTP connection after its response anyway).
/// Non-blocking, on an epoll set of its own whose descriptor the caller adds to its poll loop.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ws_client.hpp"

namespace loadgen {

class HttpPublisher {
public:
    HttpPublisher(ServerAddress server, std::string token);
    ~HttpPublisher();
    HttpPublisher(const HttpPublisher&) = delete;
    HttpPublisher& operator=(const HttpPublisher&) = delete;

    /// Readable when `poll()` has work: for the caller's poll loop.
    int fd() const { return epoll_fd_; }
    /// Starts one `POST /api/publish` with this JSON body; false if it could not be started.
    bool post(std::string_view body);
    /// Handles what is ready, without waiting.
    void poll();

    std::size_t in_flight() const { return requests_.size() - free_.size(); }
    std::uint64_t answered = 0; ///< 200 responses
    std::uint64_t failed = 0;   ///< other responses, refused or broken connections
    std::string first_error;

private:
    struct Request {
        int fd = -1;
        std::string outbound; ///< what the socket did not take yet
        std::string inbound;  ///< the response so far
    };

    void on_event(std::uint32_t slot, std::uint32_t events);
    bool write_pending(Request& request);
    /// True once the response is whole (its headers and Content-Length bytes of body).
    bool response_complete(const Request& request) const;
    void finish(std::uint32_t slot, std::string_view error);

    ServerAddress server_;
    std::string token_;
    int epoll_fd_ = -1;
    std::vector<Request> requests_;
    std::vector<std::uint32_t> free_;
};

} // namespace loadgen
