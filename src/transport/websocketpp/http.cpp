// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "http.hpp"

#include <exception>

#include <nlohmann/json.hpp>

#include <switchboard/detail/text.hpp>

namespace switchboard {

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (detail::iequals(key, name)) return std::string_view(value);
    return std::nullopt;
}

namespace websocketpp_transport {

std::pair<std::string, std::string> split_resource(const std::string& resource) {
    const std::size_t question = resource.find('?');
    if (question == std::string::npos) return {resource, {}};
    return {resource.substr(0, question), resource.substr(question + 1)};
}

std::string error_body(std::string_view error, std::string_view reason) {
    return nlohmann::json{{"error", error}, {"reason", reason}}.dump();
}

HttpResponse answer(const HttpHandler& handler, const HttpRequest& request) {
    if (!handler) return HttpResponse::json(404, error_body("not_found", "no such resource"));
    try {
        return handler(request);
    } catch (const std::exception&) {
        return HttpResponse::json(500, error_body("internal_error", "the request could not be handled"));
    }
}

} // namespace websocketpp_transport
} // namespace switchboard
