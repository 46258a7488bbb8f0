// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "web_assets.hpp"

#include <algorithm>
#include <string>

#include "http_replies.hpp"

namespace social {

std::optional<switchboard::HttpResponse> web_asset(const switchboard::HttpRequest& request) {
    const auto assets = web_assets();
    const auto asset = std::find_if(assets.begin(), assets.end(), [&](const WebAsset& a) { return a.path == request.path; });
    if (asset == assets.end()) return std::nullopt;
    if (request.method != "GET") return method_not_allowed("GET");
    switchboard::HttpResponse response;
    response.content_type = std::string(asset->content_type);
    response.body = std::string(asset->body);
    response.headers.emplace_back("Cache-Control", "no-cache"); // the demo changes with the program
    return response;
}

} // namespace social
