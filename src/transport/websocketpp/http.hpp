// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: HTTP requests read out of a websocketpp connection (an
// upgrade's for the Auth policy, a plain one's for the host's handler) and answers written into
// it. The templates take websocketpp's connection type; the rest is free of websocketpp. Pure
// functions of their arguments: any thread, a connection's on its strand.

#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <websocketpp/http/constants.hpp>

#include <switchboard/auth.hpp>
#include <switchboard/transport/websocketpp.hpp>

#include "upgrade_check.hpp"

namespace switchboard::websocketpp_transport {

/// A request target's path and query (without '?').
std::pair<std::string, std::string> split_resource(const std::string& resource);

/// `{"error": error, "reason": reason}`
std::string error_body(std::string_view error, std::string_view reason);

/// The host's handler's answer; 404 without a handler, 500 if it throws.
HttpResponse answer(const HttpHandler& handler, const HttpRequest& request);

template <class Connection>
UpgradeRequest upgrade_request(Connection& con) {
    UpgradeRequest request;
    std::tie(request.path, request.query) = split_resource(con.get_resource());
    for (const auto& [name, value] : con.get_request().get_headers()) request.headers.emplace_back(name, value);
    request.remote_address = con.get_remote_endpoint();
    return request;
}

template <class Connection>
HttpRequest http_request(Connection& con) {
    const auto& raw = con.get_request();
    HttpRequest request;
    std::tie(request.path, request.query) = split_resource(con.get_resource());
    request.method = raw.get_method();
    for (const auto& [name, value] : raw.get_headers()) request.headers.emplace_back(name, value);
    request.body = raw.get_body();
    request.remote_address = con.get_remote_endpoint();
    return request;
}

/// The refusal's status, the headers it requires, and a JSON reason.
template <class Connection>
void write_refusal(Connection& con, const detail::UpgradeRefusal& refusal) {
    for (const auto& [name, value] : refusal.headers)
        if (!name.empty()) con.append_header(std::string(name), std::string(value));
    con.set_status(static_cast<websocketpp::http::status_code::value>(refusal.status));
    con.append_header("Content-Type", "application/json");
    con.set_body(error_body(refusal.status == 401 ? "unauthorized" : "refused", refusal.reason));
}

template <class Connection>
void write_response(Connection& con, HttpResponse response) {
    con.set_status(static_cast<websocketpp::http::status_code::value>(response.status));
    con.replace_header("Content-Type", response.content_type);
    for (const auto& [name, value] : response.headers) con.append_header(name, value);
    con.set_body(std::move(response.body));
}

} // namespace switchboard::websocketpp_transport
