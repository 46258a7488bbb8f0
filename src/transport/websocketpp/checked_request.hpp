// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: the request type of its websocketpp configurations.

#include <cstddef>

#include <websocketpp/http/request.hpp>
#include <websocketpp/processors/base.hpp>

#include "upgrade_check.hpp"

namespace switchboard::websocketpp_transport {

/// websocketpp's HTTP request, checked as a WebSocket upgrade once complete (upgrade_check.hpp).
/// websocketpp takes a request for an upgrade when Upgrade and Connection hold "websocket" and
/// "upgrade" anywhere, and answers some faults itself: without a reason, and with 500 when
/// Sec-WebSocket-Version is missing (it reads that as the hybi-00 handshake). So a request with a
/// fault loses its Upgrade header, which makes it plain HTTP to websocketpp: our HTTP handler
/// answers the fault, and only well-formed upgrades reach the validate handler.
/// Parsed on the connection's strand.
class CheckedRequest : public websocketpp::http::parser::request {
public:
    /// websocketpp's parser calls this, not `request::consume`, on the concrete request type.
    std::size_t consume(const char* bytes, std::size_t size) {
        const bool was_ready = ready();
        const std::size_t used = request::consume(bytes, size);
        if (!was_ready && ready()) check();
        return used;
    }

    detail::UpgradeFault upgrade_fault() const { return fault_; }

private:
    void check() {
        fault_ = detail::upgrade_fault({get_method(), get_version(), get_header("Upgrade"), get_header("Connection"),
                                        get_header("Sec-WebSocket-Version"), get_header("Sec-WebSocket-Key")});
        if (fault_ != detail::UpgradeFault::none && websocketpp::processor::is_websocket_handshake(*this))
            remove_header("Upgrade");
    }

    detail::UpgradeFault fault_ = detail::UpgradeFault::none;
};
// The fault fits in the request's tail padding: every connection keeps a request.
static_assert(sizeof(CheckedRequest) == sizeof(websocketpp::http::parser::request));

} // namespace switchboard::websocketpp_transport
