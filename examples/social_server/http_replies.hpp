// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The example server's JSON answers, shared by its HTTP routes: `{"error":..,"reason":..}` for refusals.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <switchboard/transport/websocketpp.hpp>

namespace social {

inline switchboard::HttpResponse json_response(int status, const nlohmann::json& body) {
    return switchboard::HttpResponse::json(status, body.dump());
}

inline switchboard::HttpResponse error_response(int status, std::string_view error, std::string_view reason) {
    return json_response(status, {{"error", error}, {"reason", reason}});
}

/// 405 naming the one method the resource takes, in the reason and in `Allow`.
inline switchboard::HttpResponse method_not_allowed(std::string_view allowed) {
    switchboard::HttpResponse refused = error_response(405, "method_not_allowed", "use " + std::string(allowed));
    refused.headers.emplace_back("Allow", allowed);
    return refused;
}

} // namespace social
