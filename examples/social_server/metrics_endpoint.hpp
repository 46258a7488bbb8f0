// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The example server's metrics in Prometheus' text format: `GET /metrics` on the main port with
/// an admin bearer token (SocialApp routes it here), or without one on a listener of its own bound
/// to 127.0.0.1 (`--metrics-port`), for a Prometheus server on the same host. README.md, "Metrics",
/// lists the families.
///
/// Threads: both are called on I/O threads; every figure is read lock-free.

#include <cstdint>
#include <string>

#include "social_app.hpp"

namespace social {

/// The manager's, the transport's and the process's figures: one exposition.
std::string metrics_text(Manager& manager);

/// 200 with `metrics_text` as `text/plain; version=0.0.4; charset=utf-8`.
switchboard::HttpResponse metrics_response(Manager& manager);

/// `GET /metrics`, unauthenticated, on 127.0.0.1:`port` (0: a free one): a second websocketpp
/// endpoint on one I/O thread of its own, which answers HTTP as the main one does (malformed
/// requests get 4xx) and refuses upgrades (503). Anything but `GET /metrics` gets 404 or 405.
class MetricsListener {
public:
    MetricsListener(Manager& manager, std::uint16_t port);
    void start();
    std::uint16_t port() const { return endpoint_.port(); }
    void shutdown() { endpoint_.shutdown(); }

private:
    switchboard::HttpResponse handle(const switchboard::HttpRequest& request) const;

    Manager& manager_;
    switchboard::WebsocketppTransport endpoint_;
};

} // namespace social
