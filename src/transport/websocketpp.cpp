// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The websocketpp transport's public class: it forwards to an endpoint (websocketpp/endpoint.hpp)
// behind `Impl`, so that no websocketpp type leaks out. Each concern of the transport has a file
// of its own in websocketpp/: the endpoint and its threading models (endpoint.hpp, config.hpp),
// admission (admission.hpp, upgrade_check.hpp, checked_request.hpp), the send path and its
// batched writes (sender.hpp, backlog.hpp, batching_connection.hpp), the timer table (timers.hpp),
// HTTP (http.hpp). Only the endpoint's translation unit (endpoint.cpp) compiles websocketpp's
// connections.

#include <switchboard/transport/websocketpp.hpp>

#include "websocketpp/impl.hpp"

namespace switchboard {

using websocketpp_transport::make_endpoint;

// Deliveries take the manager's fast path (frame once; one look-up per recipient) only if detected.
static_assert(detail::has_prepare<WebsocketppTransport>::value &&
              detail::has_try_send<WebsocketppTransport, WebsocketppTransport::PreparedFrame>::value);

WebsocketppTransport::WebsocketppTransport(WebsocketppOptions options)
    : impl_(make_endpoint(nullptr, std::move(options))) {}
WebsocketppTransport::WebsocketppTransport(asio::io_context& io, WebsocketppOptions options)
    : impl_(make_endpoint(&io, std::move(options))) {}
WebsocketppTransport::~WebsocketppTransport() = default;

void WebsocketppTransport::start() { impl_->start(); }
std::uint16_t WebsocketppTransport::port() const { return impl_->port(); }
void WebsocketppTransport::shutdown() { impl_->shutdown(); }
void WebsocketppTransport::set_http_handler(HttpHandler handler) { impl_->set_http_handler(std::move(handler)); }
asio::any_io_executor WebsocketppTransport::executor() { return impl_->executor(); }
bool WebsocketppTransport::send(const handle_type& connection, const Frame& frame) {
    return impl_->send(connection, frame);
}
WebsocketppTransport::PreparedFrame WebsocketppTransport::prepare(const Frame& frame) { return impl_->prepare(frame); }
bool WebsocketppTransport::send(const handle_type& connection, const PreparedFrame& frame) {
    return try_send(connection, frame, /*max_backlog=*/0) == SendStatus::sent;
}
SendStatus WebsocketppTransport::try_send(const handle_type& connection, const PreparedFrame& frame,
                                          std::size_t max_backlog) {
    return impl_->try_send(connection, frame, max_backlog);
}
void WebsocketppTransport::close(const handle_type& connection, CloseCode code, std::string_view reason) {
    impl_->close(connection, code, reason);
}
bool WebsocketppTransport::is_open(const handle_type& connection) const { return impl_->is_open(connection); }
std::size_t WebsocketppTransport::queued_bytes(const handle_type& connection) const {
    return impl_->queued_bytes(connection);
}
void WebsocketppTransport::set_listener(TransportListener<handle_type>* listener) { impl_->set_listener(listener); }
std::size_t WebsocketppTransport::connection_count() const { return impl_->connection_count(); }
WebsocketppTransport::Metrics WebsocketppTransport::metrics() const { return impl_->metrics(); }

} // namespace switchboard
