// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: what an open connection keeps of its upgrade.

#include <memory>
#include <string>
#include <utility>

#include <websocketpp/uri.hpp>

#include "websocketpp_internals.hpp"

namespace switchboard::websocketpp_transport {

/// websocketpp keeps the upgrade's URI, request and response (~1.1 KB of headers and strings,
/// the token included) for the connection's life. Once open, websocketpp 0.8.2 reads them only
/// in getters we do not call (get_uri, get_request*, get_response*, get_origin; its fail log
/// runs only before the open). The URI has a setter; the request and response have only const
/// accessors, but they are not const objects: their contents are moved out and destroyed (an
/// assignment would keep the strings' buffers), then they take those of empty ones shared by the
/// endpoint (whose parse buffers they then share too: unused once a request is complete). The
/// response as written (~130 bytes) goes too, from a member without accessors (see
/// websocketpp_internals.hpp).
///
/// One per endpoint, constant once made: `release` runs on the connection's strand.
template <class ConfigType>
class ReleasedUpgrade {
    using Request = typename ConfigType::request_type;
    using Response = typename ConfigType::response_type;

public:
    ReleasedUpgrade(bool secure, const std::string& host, const std::string& path)
        : uri_(std::make_shared<websocketpp::uri>(secure, host, path)) {}

    template <class Connection>
    void release(Connection& con) const {
        con.set_uri(uri_);
        auto& request = const_cast<Request&>(con.get_request());
        auto& response = const_cast<Response&>(con.get_response());
        { const Request gone(std::move(request)); }
        { const Response gone(std::move(response)); }
        request = blank_request_;
        response = blank_response_;
        websocketpp_internals::release_handshake_buffer(con);
    }

private:
    /// What open connections answer to `get_uri()`, `get_request()`, `get_response()`.
    const websocketpp::uri_ptr uri_;
    const Request blank_request_;
    const Response blank_response_;
};

} // namespace switchboard::websocketpp_transport
