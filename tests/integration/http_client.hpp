// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A tiny blocking HTTP/1.1 client over Asio, for the example server's HTTP API: one request per
// connection (`Connection: close`), bounded by a timeout.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "client.hpp"

namespace integration {

struct HttpReply {
    int status = 0;
    Headers headers;
    std::string body;

    /// First header of that name, compared case-insensitively.
    std::optional<std::string> header(std::string_view name) const;
    /// The body as JSON; discarded (is_discarded()) when it is not JSON.
    nlohmann::json json() const;
};

struct HttpRequestSpec {
    std::string method = "GET";
    std::string target = "/";
    Headers headers;
    std::string body;
};

/// A whole reply as the server sent it: status line, headers, and the rest as the body.
/// @throws std::runtime_error when it is not an HTTP response.
HttpReply parse_http_reply(const std::string& raw);

/// Sends one request to 127.0.0.1:`port` and reads the whole reply.
/// @throws std::runtime_error when the server cannot be reached or does not answer within `timeout`.
HttpReply http_request(std::uint16_t port, const HttpRequestSpec& request,
                       std::chrono::milliseconds timeout = default_wait);

} // namespace integration
