// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "metrics_endpoint.hpp"

#include <switchboard/metrics/process.hpp>
#include <switchboard/metrics/render.hpp>
#include <switchboard/transport/websocketpp_metrics.hpp>

namespace social {

std::string metrics_text(Manager& manager) {
    switchboard::PrometheusText out;
    switchboard::write_metrics(out, manager.metrics());
    switchboard::write_metrics(out, manager.transport().metrics());
    switchboard::PrometheusText process(""); // Prometheus' standard process_* names
    switchboard::write_metrics(process, switchboard::read_process_metrics());
    return std::move(out).str() + std::move(process).str();
}

switchboard::HttpResponse metrics_response(Manager& manager) {
    switchboard::HttpResponse response;
    response.body = metrics_text(manager);
    response.content_type = switchboard::PrometheusText::content_type;
    return response;
}

namespace {

switchboard::WebsocketppOptions loopback_endpoint(std::uint16_t port) {
    switchboard::WebsocketppOptions options;
    options.bind_address = "127.0.0.1";
    options.port = port;
    options.threads = 1;
    return options;
}

} // namespace

MetricsListener::MetricsListener(Manager& manager, std::uint16_t port)
    : manager_(manager), endpoint_(loopback_endpoint(port)) {
    endpoint_.set_http_handler([this](const switchboard::HttpRequest& request) { return handle(request); });
}

void MetricsListener::start() { endpoint_.start(); }

switchboard::HttpResponse MetricsListener::handle(const switchboard::HttpRequest& request) const {
    if (request.path != "/metrics")
        return switchboard::HttpResponse::json(404, R"({"error":"not_found","reason":"only /metrics here"})");
    if (request.method != "GET") {
        auto refused = switchboard::HttpResponse::json(405, R"({"error":"method_not_allowed","reason":"use GET"})");
        refused.headers.emplace_back("Allow", "GET");
        return refused;
    }
    return metrics_response(manager_);
}

} // namespace social
