// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: what the public class needs from an endpoint, whatever
// its configuration, and where it gets one. Free of websocketpp.

#include <cstddef>
#include <memory>
#include <string_view>

#include <switchboard/transport/websocketpp.hpp>

namespace switchboard {

class WebsocketppTransport::Impl {
public:
    virtual ~Impl() = default;
    virtual void start() = 0;
    virtual std::uint16_t port() const = 0;
    virtual void shutdown() = 0;
    virtual void set_http_handler(HttpHandler handler) = 0;
    virtual asio::any_io_executor executor() = 0;
    virtual bool send(const handle_type& connection, const Frame& frame) = 0;
    virtual PreparedFrame prepare(const Frame& frame) = 0;
    virtual SendStatus try_send(const handle_type& connection, const PreparedFrame& frame,
                                std::size_t max_backlog) = 0;
    virtual void close(const handle_type& connection, CloseCode code, std::string_view reason) = 0;
    virtual bool is_open(const handle_type& connection) const = 0;
    virtual std::size_t queued_bytes(const handle_type& connection) const = 0;
    virtual void set_listener(TransportListener<handle_type>* listener) = 0;
    virtual std::size_t connection_count() const = 0;
    virtual Metrics metrics() const = 0;
};

namespace websocketpp_transport {

/// The endpoint for `options` (endpoint.cpp). `io`: a host's io_context, or null for threads of
/// the endpoint's own.
std::unique_ptr<WebsocketppTransport::Impl> make_endpoint(asio::io_context* io, WebsocketppOptions options);

} // namespace websocketpp_transport
} // namespace switchboard
