// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <clocale>
#include <string>

#include <catch2/catch.hpp>

#include <switchboard/metrics/prometheus.hpp>

using switchboard::Histogram;
using switchboard::MetricType;
using switchboard::PrometheusText;

TEST_CASE("Prometheus text: a family's HELP and TYPE once, then its samples", "[prometheus]") {
    PrometheusText out;
    out.counter("frames_delivered_total", "Frames handed to the transport", 42);
    out.family("closes_total", MetricType::counter, "Connections closed, by close code");
    out.sample(3, {{"code", "1000"}});
    out.sample(1, {{"code", "1013"}, {"reason", "slow consumer"}});
    out.gauge("connections", "Open connections", 7);
    CHECK(out.str() ==
          "# HELP switchboard_frames_delivered_total Frames handed to the transport\n"
          "# TYPE switchboard_frames_delivered_total counter\n"
          "switchboard_frames_delivered_total 42\n"
          "# HELP switchboard_closes_total Connections closed, by close code\n"
          "# TYPE switchboard_closes_total counter\n"
          "switchboard_closes_total{code=\"1000\"} 3\n"
          "switchboard_closes_total{code=\"1013\",reason=\"slow consumer\"} 1\n"
          "# HELP switchboard_connections Open connections\n"
          "# TYPE switchboard_connections gauge\n"
          "switchboard_connections 7\n");
}

TEST_CASE("Prometheus text: a histogram's cumulative buckets in base units, then sum and count", "[prometheus]") {
    Histogram latency({1'000'000, 10'000'000}); // 1 ms, 10 ms in nanoseconds
    for (std::uint64_t ns : {500'000, 2'000'000, 20'000'000}) latency.observe(ns);
    PrometheusText out("");
    out.family("send_duration_seconds", MetricType::histogram, "Time in one send call");
    out.sample(latency.snapshot(), 1e9, {{"kind", "user"}});
    CHECK(out.str() ==
          "# HELP send_duration_seconds Time in one send call\n"
          "# TYPE send_duration_seconds histogram\n"
          "send_duration_seconds_bucket{kind=\"user\",le=\"0.001\"} 1\n"
          "send_duration_seconds_bucket{kind=\"user\",le=\"0.01\"} 2\n"
          "send_duration_seconds_bucket{kind=\"user\",le=\"+Inf\"} 3\n"
          "send_duration_seconds_sum{kind=\"user\"} 0.0225\n"
          "send_duration_seconds_count{kind=\"user\"} 3\n");
}

TEST_CASE("Prometheus text: label values and help are escaped", "[prometheus]") {
    PrometheusText out("");
    out.family("refusals_total", MetricType::counter, "Refused \\ upgrades\nby reason");
    out.sample(1, {{"reason", "a \"quoted\"\\path\nnext"}});
    CHECK(out.str() ==
          "# HELP refusals_total Refused \\\\ upgrades\\nby reason\n"
          "# TYPE refusals_total counter\n"
          "refusals_total{reason=\"a \\\"quoted\\\"\\\\path\\nnext\"} 1\n");
}

TEST_CASE("Prometheus text: numbers ignore the locale and spell infinities and NaN", "[prometheus]") {
    // A locale with a decimal comma, where one is installed: printf-style formatting would follow it.
    const std::string previous = std::setlocale(LC_NUMERIC, nullptr);
    const bool comma_locale = std::setlocale(LC_NUMERIC, "de_DE.UTF-8") != nullptr;
    PrometheusText out("");
    out.gauge("ratio", "A ratio", 0.25);
    out.gauge("up", "Infinite", HUGE_VAL);
    out.gauge("down", "Minus infinite", -HUGE_VAL);
    out.gauge("unknown", "Not a number", std::nan(""));
    out.gauge("big", "Large integer", 12345678901234.0);
    std::setlocale(LC_NUMERIC, previous.c_str());
    const std::string& text = out.str();
    CHECK(text.find("\nratio 0.25\n") != std::string::npos);
    CHECK(text.find("\nup +Inf\n") != std::string::npos);
    CHECK(text.find("\ndown -Inf\n") != std::string::npos);
    CHECK(text.find("\nunknown NaN\n") != std::string::npos);
    CHECK(text.find("\nbig 12345678901234\n") != std::string::npos);
    INFO("decimal-comma locale available: " << comma_locale);
}

TEST_CASE("Prometheus text: misuse throws", "[prometheus]") {
    PrometheusText out;
    CHECK_THROWS_AS(out.sample(1), std::invalid_argument); // no family yet
    CHECK_THROWS_AS(out.counter("frames", "no _total", 1), std::invalid_argument);
    CHECK_THROWS_AS(out.gauge("bad-name", "dash", 1), std::invalid_argument);
    CHECK_THROWS_AS(PrometheusText("").gauge("1st", "digit first", 1), std::invalid_argument);
    CHECK_THROWS_AS(PrometheusText("").gauge("", "empty", 1), std::invalid_argument);
    out.gauge("connections", "Open connections", 1);
    CHECK_THROWS_AS(out.gauge("connections", "again", 2), std::invalid_argument);
    CHECK_THROWS_AS(out.sample(Histogram({1}).snapshot()), std::invalid_argument); // gauge family
    out.family("by_label", MetricType::gauge, "labels");
    CHECK_THROWS_AS(out.sample(1, {{"__reserved", "x"}}), std::invalid_argument);
    CHECK_THROWS_AS(out.sample(1, {{"with:colon", "x"}}), std::invalid_argument);
    out.family("sizes_bytes", MetricType::histogram, "a histogram");
    CHECK_THROWS_AS(out.sample(1.0), std::invalid_argument);
}
