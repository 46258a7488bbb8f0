// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "http_client.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <system_error>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

namespace integration {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

std::string serialize(std::uint16_t port, const HttpRequestSpec& request) {
    std::string text = request.method + " " + request.target + " HTTP/1.1\r\n";
    text += "Host: 127.0.0.1:" + std::to_string(port) + "\r\nConnection: close\r\n";
    for (const auto& [name, value] : request.headers) text += name + ": " + value + "\r\n";
    if (!request.body.empty()) text += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
    return text + "\r\n" + request.body;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    return text;
}

} // namespace

HttpReply parse_http_reply(const std::string& raw) {
    const std::size_t head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos)
        throw std::runtime_error("not an HTTP response: " + raw.substr(0, 80));
    HttpReply reply;
    reply.status = std::stoi(raw.substr(raw.find(' ') + 1, 3));
    std::size_t line_start = raw.find("\r\n") + 2;
    while (line_start < head_end) {
        const std::size_t line_end = raw.find("\r\n", line_start);
        const std::string_view line(raw.data() + line_start, line_end - line_start);
        if (const std::size_t colon = line.find(':'); colon != std::string_view::npos)
            reply.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
        line_start = line_end + 2;
    }
    reply.body = raw.substr(head_end + 4);
    return reply;
}

std::optional<std::string> HttpReply::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return value;
    return std::nullopt;
}

nlohmann::json HttpReply::json() const { return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false); }

HttpReply http_request(std::uint16_t port, const HttpRequestSpec& request, std::chrono::milliseconds timeout) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    const std::string outgoing = serialize(port, request);
    std::string incoming;
    std::error_code failure;
    bool done = false;

    // Asynchronous operations run by `run_for`, so that a silent server cannot block the test.
    const asio::ip::tcp::endpoint server(asio::ip::make_address("127.0.0.1"), port);
    socket.async_connect(server, [&](const std::error_code& error) {
        if (error) {
            failure = error;
            done = true;
            return;
        }
        asio::async_write(socket, asio::buffer(outgoing), [&](const std::error_code& write_error, std::size_t) {
            if (write_error) {
                failure = write_error;
                done = true;
                return;
            }
            // The server closes after its reply: read until EOF.
            asio::async_read(socket, asio::dynamic_buffer(incoming), [&](const std::error_code& error, std::size_t) {
                if (error != asio::error::eof) failure = error;
                done = true;
            });
        });
    });
    io.run_for(timeout);
    if (!done) throw std::runtime_error(request.method + " " + request.target + ": no complete reply in time");
    if (failure) throw std::runtime_error(request.method + " " + request.target + ": " + failure.message());
    return parse_http_reply(incoming); // the server closes after one reply
}

} // namespace integration
