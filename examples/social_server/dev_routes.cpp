// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "dev_routes.hpp"

#include <ctime>

#include <switchboard/auth/jwt.hpp>

#include "http_replies.hpp"
#include "social_app.hpp"

namespace social {

using switchboard::HttpRequest;
using switchboard::HttpResponse;

std::string mint_token(const std::string& secret, const switchboard::UserId& user, std::chrono::seconds ttl,
                       bool admin) {
    const long now = static_cast<long>(std::time(nullptr));
    nlohmann::json claims{{"sub", user}, {"iat", now}, {"exp", now + static_cast<long>(ttl.count())}};
    if (admin) claims["admin"] = true;
    return switchboard::sign_hs256(secret, claims);
}

std::optional<HttpResponse> DevRoutes::handle(const HttpRequest& request) const {
    if (request.path == "/api/dev/token") return request.method == "POST" ? token(request) : method_not_allowed("POST");
    if (request.path == "/api/dev/presence") return request.method == "GET" ? app_.presence() : method_not_allowed("GET");
    return std::nullopt;
}

HttpResponse DevRoutes::token(const HttpRequest& request) const {
    const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return error_response(400, "invalid_json", "the body must be a JSON object");
    const auto field = body.find("user_id");
    if (field == body.end() || !field->is_string())
        return error_response(400, "bad_request", R"(give {"user_id":"<uuid>"})");
    const auto user = switchboard::UserId::try_parse(field->get_ref<const std::string&>());
    if (!user) return error_response(400, "bad_request", "\"user_id\" must be a user id (UUID)");
    const std::chrono::seconds ttl = token_ttl;
    return json_response(200, {{"token", mint_token(secret_, *user, ttl)}, {"user_id", *user}, {"expires_in", ttl.count()}});
}

} // namespace social
