// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Prints one exposition with every form `PrometheusText` writes (counters with and without labels,
// gauges, histograms with labels, escaped values), for `promtool check metrics` to judge.

#include <iostream>

#include <switchboard/metrics/prometheus.hpp>

int main() {
    using switchboard::Histogram;
    using switchboard::MetricType;
    switchboard::PrometheusText out;
    out.counter("frames_delivered_total", "Frames handed to the transport", 42);
    out.family("closes_total", MetricType::counter, "Connections closed, by close code");
    out.sample(3, {{"code", "1000"}});
    out.sample(1, {{"code", "1013"}});
    out.family("refusals_total", MetricType::counter, "Refused upgrades, by \\ reason\nescaped");
    out.sample(2, {{"reason", "a \"quoted\" \\ value\nnext line"}});
    out.gauge("connections", "Open connections", 7);
    out.gauge("backlog_ratio", "A fraction", 0.125);
    Histogram latency = Histogram::exponential(1000, 4, 8);
    for (std::uint64_t ns : {800, 5000, 70000, 3000000, 900000000}) latency.observe(ns);
    out.histogram("send_duration_seconds", "Time in one send call", latency.snapshot(), 1e9);
    Histogram sizes = Histogram::exponential(64, 4, 6);
    sizes.observe(130);
    out.family("frame_size_bytes", MetricType::histogram, "Frame sizes, by direction");
    out.sample(sizes.snapshot(), 1, {{"direction", "out"}});
    out.sample(Histogram::exponential(64, 4, 6).snapshot(), 1, {{"direction", "in"}});
    std::cout << std::move(out).str();
}
