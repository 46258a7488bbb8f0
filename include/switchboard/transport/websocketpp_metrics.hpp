// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `write_metrics(out, transport_metrics)`: a `WebsocketppTransport`'s figures as Prometheus
/// families under the writer's prefix, beside the manager's (`switchboard/metrics/render.hpp`):
/// upgrades it refused before the Auth policy, its pending and abandoned upgrades (it registers an
/// upgrade with the manager as it accepts it, so the manager's own figures of these stay at zero),
/// closes by code, heartbeat timeouts, expired credentials, oversized messages, and permessage-deflate's
/// traffic (messages and bytes compressed, on the wire and uncompressed, each way; deflations).
///
/// Threads: `WebsocketppTransport::metrics()` reads every figure lock-free (relaxed atomics)
/// but `upgrades_pending`, under the endpoint's connections lock; writing is the caller's own work.

#include <string>

#include <switchboard/metrics/prometheus.hpp>
#include <switchboard/transport/websocketpp.hpp>

namespace switchboard {

inline void write_metrics(PrometheusText& out, const WebsocketppTransport::Metrics& metrics) {
    const auto count = [](std::uint64_t figure) { return static_cast<double>(figure); };
    out.family("transport_upgrades_refused_total", MetricType::counter,
               "Upgrades the transport refused before the Auth policy, by reason");
    out.sample(count(metrics.refused_version), {{"reason", "version"}});
    out.sample(count(metrics.refused_malformed), {{"reason", "malformed"}});
    out.sample(count(metrics.refused_path), {{"reason", "path"}});
    out.sample(count(metrics.refused_origin), {{"reason", "origin"}});
    out.sample(count(metrics.refused_capacity), {{"reason", "capacity"}});
    out.sample(count(metrics.refused_address), {{"reason", "address"}});

    out.gauge("transport_upgrades_pending", "Upgrades past the limits, not yet open or gone: they hold slots",
              count(metrics.upgrades_pending));
    out.counter("transport_upgrades_abandoned_total", "Upgrades accepted, then never opened (client left, write failed)",
                count(metrics.upgrades_abandoned));

    out.family("closes_total", MetricType::counter,
               "Open connections closed, by the close code the server sent (1006: without a close handshake)");
    for (std::size_t i = 0; i < metrics.closes.size(); ++i)
        if (metrics.closes[i] != 0)
            out.sample(count(metrics.closes[i]), {{"code", std::to_string(WebsocketppTransport::Metrics::first_close_code + i)}});
    if (metrics.closes_other != 0) out.sample(count(metrics.closes_other), {{"code", "other"}});

    out.counter("heartbeat_timeouts_total", "Connections closed (1001) for a pong that did not come in time",
                count(metrics.pong_timeouts));
    out.counter("credential_expiry_closes_total", "Connections closed (1008) when their credentials expired",
                count(metrics.credential_expiries));
    out.counter("oversized_message_closes_total", "Connections closed (1009) for a message over max_message_size",
                count(metrics.oversized_messages));

    using Compressed = WebsocketppTransport::Metrics::Compressed;
    out.family("compressed_messages_total", MetricType::counter,
               "Messages sent (per connection) or received compressed with permessage-deflate, by direction");
    out.sample(count(metrics.compressed_out.messages), {{"direction", "out"}});
    out.sample(count(metrics.compressed_in.messages), {{"direction", "in"}});
    out.family("compressed_message_bytes_total", MetricType::counter,
               "Payload bytes of the compressed messages, by direction, as on the wire (compressed) and not");
    const auto bytes = [&](const char* direction, const Compressed& figures) {
        out.sample(count(figures.wire_bytes), {{"direction", direction}, {"form", "compressed"}});
        out.sample(count(figures.message_bytes), {{"direction", direction}, {"form", "uncompressed"}});
    };
    bytes("out", metrics.compressed_out);
    bytes("in", metrics.compressed_in);
    out.counter("deflations_total", "Messages deflated to send: a frame for many connections once per window",
                count(metrics.deflations));
}

} // namespace switchboard
