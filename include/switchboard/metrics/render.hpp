// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `write_metrics(out, manager_metrics)`: a `ConnectionManager`'s figures (`ManagerMetrics`) as
/// Prometheus families, each under the writer's prefix (`switchboard_` by default): gauges for
/// current sizes, counters ending in `_total`, histograms in seconds and bytes. The history's
/// families come only with a store, the backplane's only with a backplane. The transport's
/// figures have a writer of their own beside the transport (`transport/websocketpp_metrics.hpp`),
/// the process's in `process.hpp`. README.md, "Metrics", lists every family.
///
/// @code
///   PrometheusText out;
///   write_metrics(out, manager.metrics());
///   write_metrics(out, transport.metrics());
///   respond(200, PrometheusText::content_type, std::move(out).str());
/// @endcode
///
/// Threads: `metrics()` reads every figure lock-free (relaxed atomics), from any thread; writing
/// is the caller's thread's own work on values.

#include <switchboard/manager_options.hpp>
#include <switchboard/metrics/prometheus.hpp>

namespace switchboard {

namespace detail {

/// A counter family of one sample.
struct Counter {
    const char* name;
    const char* help;
    std::uint64_t ManagerMetrics::*figure;
};

inline constexpr Counter manager_counters[] = {
    {"upgrades_abandoned_total", "Upgrades accepted, then never opened", &ManagerMetrics::upgrades_abandoned},
    {"messages_out_total", "Frames delivered, one per recipient connection", &ManagerMetrics::frames_delivered},
    {"messages_in_total", "Messages received", &ManagerMetrics::inbound_messages},
    {"bytes_out_total", "Payload bytes delivered, once per recipient, uncompressed", &ManagerMetrics::bytes_out},
    {"bytes_in_total", "Payload bytes received, uncompressed", &ManagerMetrics::bytes_in},
    {"send_failures_total", "Sends the transport failed (the connection closed with 1011)",
     &ManagerMetrics::send_failures},
    {"inbound_errors_total", "Messages answered with an Error event", &ManagerMetrics::inbound_errors},
    {"rate_limited_messages_total", "Messages refused by the rate limit", &ManagerMetrics::rate_limited},
    {"rate_limit_closes_total", "Connections closed (1008) for sustained rate-limit violations",
     &ManagerMetrics::closed_for_abuse},
    {"slow_consumer_closes_total", "Slow consumers closed (1013)", &ManagerMetrics::closed_slow},
    {"slow_consumer_dropped_events_total", "Ephemeral events skipped for slow consumers",
     &ManagerMetrics::dropped_ephemeral},
};

inline void write_history_metrics(PrometheusText& out, const HistoryMetrics& history) {
    out.gauge("history_streams", "Per-user streams the history keeps", static_cast<double>(history.streams));
    out.gauge("history_events", "Events the history keeps, over all streams", static_cast<double>(history.events));
    out.gauge("history_bytes", "Serialized bytes of the events the history keeps", static_cast<double>(history.bytes));
    out.gauge("history_memory_bytes", "What the history counts against its memory cap",
              static_cast<double>(history.memory));
    out.counter("history_appended_total", "Events appended to users' streams", static_cast<double>(history.appended));
    out.family("history_dropped_total", MetricType::counter, "Events dropped from the history, by why");
    out.sample(static_cast<double>(history.dropped_over_events), {{"reason", "max_events"}});
    out.sample(static_cast<double>(history.dropped_over_bytes), {{"reason", "max_bytes"}});
    out.sample(static_cast<double>(history.expired), {{"reason", "expired"}});
    out.sample(static_cast<double>(history.evicted_events), {{"reason", "memory_cap"}});
    out.counter("history_streams_evicted_total", "Streams forgotten whole for the memory cap",
                static_cast<double>(history.evicted_streams));
    out.counter("history_store_failures_total", "Calls a shared history store (Redis) could not answer",
                static_cast<double>(history.failures));
}

inline void write_resume_metrics(PrometheusText& out, const ManagerMetrics& metrics) {
    out.family("resumes_total", MetricType::counter, "Sessions begun with history, by recovery");
    out.sample(static_cast<double>(metrics.resumes_complete), {{"recovery", "complete"}});
    out.sample(static_cast<double>(metrics.resumes_unavailable), {{"recovery", "unavailable"}});
    out.counter("resumes_beyond_replay_total", "Recoveries unavailable for max_replay or the replay's byte bound",
                static_cast<double>(metrics.resumes_beyond_replay));
    out.counter("events_replayed_total", "Missed events sent on resume", static_cast<double>(metrics.events_replayed));
    out.counter("stream_reset_closes_total", "Connections closed (1012) because the store lost their stream",
                static_cast<double>(metrics.closed_stream_reset));
    out.counter("history_append_failures_total",
                "Events to a user the history could not keep, delivered live without an offset",
                static_cast<double>(metrics.history_append_failures));
    out.counter("history_refused_sends_total",
                "Durable sends refused whole (Error overloaded, HTTP 503): the history's store was behind",
                static_cast<double>(metrics.history_refused_sends));
}

inline void write_backplane_metrics(PrometheusText& out, const ManagerMetrics& metrics) {
    const BackplaneMetrics& backplane = metrics.backplane;
    const auto count = [](auto figure) { return static_cast<double>(figure); };
    out.counter("backplane_published_total", "Frames handed to the backplane for the other nodes",
                count(metrics.backplane_published));
    out.counter("backplane_received_total", "Frames the backplane brought from the other nodes",
                count(metrics.backplane_received));
    out.counter("stream_catch_ups_total", "Users caught up from the history after the backplane listened again",
                count(metrics.stream_catch_ups));
    out.gauge("backplane_up", "1 while the backplane's links to the other nodes are up", backplane.connected ? 1 : 0);
    out.gauge("backplane_subscriptions", "Channels the backplane listens to", count(backplane.subscriptions));
    out.counter("backplane_messages_published_total",
                "Messages sent to the other nodes (one per recipient user), acknowledged", count(backplane.published));
    out.counter("backplane_publish_failures_total",
                "Messages not sent to the other nodes: link down, too many in flight, timeout or error",
                count(backplane.publish_failures));
    out.counter("backplane_resubscribes_total", "Times the backplane subscribed again after losing its link",
                count(backplane.resubscribes));
}

inline void write_distributions(PrometheusText& out, const ManagerMetrics& metrics) {
    constexpr double nanoseconds = 1e9;
    static_assert(TimingSample::period == 16, "the duration histograms' help says one call in 16");
    out.histogram("send_duration_seconds", "Time in one send_to_user or send_to_users call (one in 16 per thread timed)",
                  metrics.send_duration, nanoseconds);
    out.histogram("broadcast_duration_seconds", "Time in one broadcast call (one in 16 per thread timed)",
                  metrics.broadcast_duration, nanoseconds);
    out.histogram("upgrade_duration_seconds", "Time admitting one upgrade: the Auth policy and the per-user limit",
                  metrics.upgrade_duration, nanoseconds);
    out.family("message_size_bytes", MetricType::histogram, "Payload sizes, out once per recipient, and in");
    out.sample(metrics.outbound_frame_size, 1, {{"direction", "out"}});
    out.sample(metrics.inbound_frame_size, 1, {{"direction", "in"}});
}

} // namespace detail

/// Writes every figure of `metrics` into `out`; throws `std::invalid_argument` if `out` already
/// has one of these families.
inline void write_metrics(PrometheusText& out, const ManagerMetrics& metrics) {
    const auto count = [](auto figure) { return static_cast<double>(figure); };
    out.gauge("connections", "Registered connections", count(metrics.connections));
    out.gauge("users_online", "Users with at least one registered connection", count(metrics.users_online));
    out.gauge("upgrades_pending", "Upgrades accepted, not yet open: they hold a user's slot",
              count(metrics.upgrades_pending));
    out.counter("connections_opened_total", "Connections registered", count(metrics.connections_registered));
    out.counter("connections_closed_total", "Connections unregistered", count(metrics.connections_unregistered));
    out.family("upgrades_refused_total", MetricType::counter,
               "Upgrades refused by the manager, by reason (the transport's own: transport_upgrades_refused_total)");
    out.sample(count(metrics.refused_by_auth), {{"reason", "auth"}});
    out.sample(count(metrics.refused_user_limit), {{"reason", "user_limit"}});
    for (const detail::Counter& counter : detail::manager_counters)
        out.counter(counter.name, counter.help, count(metrics.*counter.figure));
    if (metrics.with_history) {
        detail::write_resume_metrics(out, metrics);
        detail::write_history_metrics(out, metrics.history);
    }
    if (metrics.with_backplane) detail::write_backplane_metrics(out, metrics);
    detail::write_distributions(out, metrics);
}

} // namespace switchboard
