// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The demo page, built into the program (web_assets.cpp is generated from `web/` and the
/// JavaScript client by embed_files.cmake), so that the server serves it from any directory.
/// Only these fixed paths are served: a request path is looked up, never joined to a directory.
///
///   GET /                        web/index.html
///   GET /demo.css, /demo.js      web/demo.css, web/demo.js
///   GET /switchboard-client.js   clients/javascript/switchboard-client.js
///
/// Threads: the files are constants; `web_asset` may run on any thread.

#include <optional>
#include <span>
#include <string_view>

#include <switchboard/transport/websocketpp.hpp>

namespace social {

struct WebAsset {
    std::string_view path; ///< as requested, e.g. "/demo.js"
    std::string_view content_type;
    std::string_view body;
};

/// Every embedded file (generated).
std::span<const WebAsset> web_assets();

/// The file a `GET` of `request.path` names, with its Content-Type; nothing for any
/// other path; 405 for another method on one of these paths.
std::optional<switchboard::HttpResponse> web_asset(const switchboard::HttpRequest& request);

} // namespace social
