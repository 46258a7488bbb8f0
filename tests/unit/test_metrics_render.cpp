// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The manager's figures as it records them, and their Prometheus text (render.hpp, process.hpp,
// transport/websocketpp_metrics.hpp).

#include "mock_fixtures.hpp"

#include <clocale>
#include <locale>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include <switchboard/metrics/process.hpp>
#include <switchboard/metrics/render.hpp>
#include <switchboard/transport/websocketpp_metrics.hpp>

using namespace switchboard;
using namespace test_fixtures;

namespace {

std::string render(const ManagerMetrics& metrics) {
    PrometheusText out;
    write_metrics(out, metrics);
    return std::move(out).str();
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

/// A histogram's samples in the text: each bucket's count, in order, then the count.
std::vector<double> bucket_counts(const std::string& text, const std::string& family) {
    std::vector<double> counts;
    const std::regex bucket("^" + family + R"(_bucket\{[^}]*\} ([0-9.e+]+)$)", std::regex::multiline);
    for (auto match = std::sregex_iterator(text.begin(), text.end(), bucket); match != std::sregex_iterator(); ++match)
        counts.push_back(std::stod((*match)[1]));
    return counts;
}

/// Commas for decimal points and dots between thousands, as in German: what a host's global
/// locale may be, and what the text format must never show.
struct GermanNumbers : std::numpunct<char> {
    char do_decimal_point() const override { return ','; }
    char do_thousands_sep() const override { return '.'; }
    std::string do_grouping() const override { return "\3"; }
};

} // namespace

TEST_CASE("Manager metrics: a send records the bytes and sizes out once per recipient, its duration on a sample",
          "[metrics][manager]") {
    MockTransport transport;
    Manager manager{transport};
    manager.register_connection(alice, transport.open());
    manager.register_connection(alice, transport.open());
    const ManagerMetrics before = manager.metrics();

    // Whatever this thread sent before, any 2 x period of its calls hold two timed ones.
    constexpr std::uint64_t period = TimingSample::period;
    const Event event("Note", {{"text", "hello"}});
    for (std::uint64_t n = 0; n < 2 * period; ++n) REQUIRE(manager.send_to_user(alice, event) == 2);
    const ManagerMetrics after = manager.metrics();
    const std::size_t size = event.to_frame().size();
    const std::uint64_t frames = 2 * period * 2;
    CHECK(after.send_duration.count() == before.send_duration.count() + 2);
    CHECK(after.frames_delivered - before.frames_delivered == frames);
    CHECK(after.bytes_out - before.bytes_out == frames * size);
    CHECK(after.outbound_frame_size.count() - before.outbound_frame_size.count() == frames);
    CHECK(after.outbound_frame_size.sum - before.outbound_frame_size.sum == frames * size);
    CHECK(after.broadcast_duration.count() == 0);

    for (std::uint64_t n = 0; n < period; ++n) manager.broadcast(event);
    CHECK(manager.metrics().broadcast_duration.count() == 1);
}

TEST_CASE("Manager metrics: inbound messages count their bytes and sizes; upgrades their admission time",
          "[metrics][manager]") {
    MockTransport transport;
    Manager manager{transport};
    const ConnectionId connection = manager.register_connection(alice, transport.open());
    const std::string payload = R"({"type":"Unknown","data":{}})";
    manager.handle_message(connection, payload);
    const ManagerMetrics metrics = manager.metrics();
    CHECK(metrics.bytes_in == payload.size());
    CHECK(metrics.inbound_frame_size.count() == 1);
    CHECK(metrics.inbound_frame_size.sum == payload.size());

    CHECK_FALSE(transport.upgrade(UpgradeRequest{})); // no token: refused, and timed all the same
    CHECK(manager.metrics().upgrade_duration.count() == 1);
    CHECK(manager.metrics().refused_by_auth == 1);
}

TEST_CASE("Metrics text: every family has HELP and TYPE once, counters end in _total, under one prefix",
          "[metrics][render]") {
    ManagerMetrics metrics;
    metrics.connections = 3;
    metrics.refused_by_auth = 3;
    metrics.refused_user_limit = 2;
    const std::string text = render(metrics);
    CHECK(has_line(text, "# TYPE switchboard_connections gauge"));
    CHECK(has_line(text, "switchboard_connections 3"));
    CHECK(has_line(text, R"(switchboard_upgrades_refused_total{reason="auth"} 3)"));
    CHECK(has_line(text, R"(switchboard_upgrades_refused_total{reason="user_limit"} 2)"));
    CHECK(text.find("history") == std::string::npos); // no store, no history families
    CHECK(text.find("backplane") == std::string::npos);

    const std::regex type_line(R"(^# TYPE (\S+) (\S+)$)", std::regex::multiline);
    std::set<std::string> families;
    for (auto match = std::sregex_iterator(text.begin(), text.end(), type_line); match != std::sregex_iterator();
         ++match) {
        const std::string name = (*match)[1];
        CHECK(name.rfind("switchboard_", 0) == 0);
        if ((*match)[2] == "counter") CHECK(std::regex_search(name, std::regex("_total$")));
        CHECK(families.insert(name).second);
        CHECK(text.find("# HELP " + name + " ") != std::string::npos);
    }
    CHECK(families.size() >= 20);
}

TEST_CASE("Metrics text: history and backplane families come with a store and a backplane", "[metrics][render]") {
    ManagerMetrics metrics;
    metrics.with_history = true;
    metrics.history.events = 12;
    metrics.history.expired = 4;
    metrics.resumes_complete = 1;
    metrics.history_refused_sends = 6;
    metrics.with_backplane = true;
    metrics.backplane_received = 9;
    metrics.stream_catch_ups = 3;
    metrics.backplane.connected = true;
    metrics.backplane.publish_failures = 5;
    metrics.backplane.resubscribes = 2;
    const std::string text = render(metrics);
    CHECK(has_line(text, "switchboard_history_events 12"));
    CHECK(has_line(text, R"(switchboard_history_dropped_total{reason="expired"} 4)"));
    CHECK(has_line(text, R"(switchboard_resumes_total{recovery="complete"} 1)"));
    CHECK(has_line(text, "switchboard_history_refused_sends_total 6"));
    CHECK(has_line(text, "switchboard_backplane_received_total 9"));
    CHECK(has_line(text, "switchboard_stream_catch_ups_total 3"));
    CHECK(has_line(text, "switchboard_backplane_up 1"));
    CHECK(has_line(text, "switchboard_backplane_publish_failures_total 5"));
    CHECK(has_line(text, "switchboard_backplane_resubscribes_total 2"));
}

TEST_CASE("Metrics text: histogram buckets are cumulative, end with +Inf at the count, and are in seconds",
          "[metrics][render]") {
    Histogram latency = ManagerMetrics::duration_histogram();
    for (std::uint64_t ns : {500, 3'000, 3'500, 2'000'000'000}) latency.observe(ns);
    ManagerMetrics metrics;
    metrics.send_duration = latency.snapshot();
    const std::string text = render(metrics);
    const std::vector<double> counts = bucket_counts(text, "switchboard_send_duration_seconds");
    REQUIRE(counts.size() == metrics.send_duration.upper_bounds.size() + 1);
    CHECK(std::is_sorted(counts.begin(), counts.end()));
    CHECK(counts.front() == 1);                                  // le 1e-06: the 500 ns
    CHECK(counts[1] == 3);                                       // le 4e-06: and both 3 µs ones
    CHECK(has_line(text, R"(switchboard_send_duration_seconds_bucket{le="1e-06"} 1)"));
    CHECK(has_line(text, R"(switchboard_send_duration_seconds_bucket{le="+Inf"} 4)"));
    CHECK(has_line(text, "switchboard_send_duration_seconds_count 4"));
    CHECK(has_line(text, "switchboard_send_duration_seconds_sum 2.000007"));
}

TEST_CASE("Metrics text: numbers ignore the host's locale", "[metrics][render]") {
    ManagerMetrics metrics;
    metrics.frames_delivered = 1234567;
    Histogram latency = ManagerMetrics::duration_histogram();
    latency.observe(1'500);
    metrics.send_duration = latency.snapshot();
    const std::locale previous = std::locale::global(std::locale(std::locale::classic(), new GermanNumbers));
    const std::string c_locale = std::setlocale(LC_ALL, nullptr);
    std::setlocale(LC_ALL, "de_DE.UTF-8"); // where installed; the facet above stands in elsewhere
    std::ostringstream probe;
    probe << 1.5 << ' ' << 1234567;
    const std::string text = render(metrics);
    std::setlocale(LC_ALL, c_locale.c_str());
    std::locale::global(previous);
    REQUIRE(probe.str() == "1,5 1.234.567"); // the locale was in force
    CHECK(has_line(text, "switchboard_messages_out_total 1234567"));
    CHECK(has_line(text, "switchboard_send_duration_seconds_sum 1.5e-06"));
}

TEST_CASE("Metrics text: the transport's closes by code, other codes together, refusals by reason",
          "[metrics][render]") {
    WebsocketppTransport::Metrics metrics;
    metrics.closes[1013 - 1000] = 2;
    metrics.closes[1006 - 1000] = 1;
    metrics.closes_other = 5;
    metrics.refused_origin = 3;
    metrics.pong_timeouts = 4;
    metrics.upgrades_abandoned = 6;
    PrometheusText out;
    write_metrics(out, metrics);
    const std::string text = std::move(out).str();
    CHECK(has_line(text, R"(switchboard_closes_total{code="1006"} 1)"));
    CHECK(has_line(text, R"(switchboard_closes_total{code="1013"} 2)"));
    CHECK(has_line(text, R"(switchboard_closes_total{code="other"} 5)"));
    CHECK(text.find(R"(code="1000")") == std::string::npos); // codes never seen are left out
    CHECK(has_line(text, R"(switchboard_transport_upgrades_refused_total{reason="origin"} 3)"));
    CHECK(has_line(text, "switchboard_heartbeat_timeouts_total 4"));
    CHECK(has_line(text, "switchboard_transport_upgrades_abandoned_total 6"));
}

TEST_CASE("Process metrics: read from /proc under the standard names", "[metrics][process]") {
    const ProcessMetrics process = read_process_metrics();
    REQUIRE(process.resident_memory_bytes);
    REQUIRE(process.cpu_seconds);
    REQUIRE(process.open_fds);
    CHECK(*process.resident_memory_bytes > 1024 * 1024);
    CHECK(*process.cpu_seconds >= 0);
    CHECK(*process.open_fds >= 3); // stdin, stdout, stderr
    PrometheusText out("");
    write_metrics(out, process);
    const std::string text = std::move(out).str();
    CHECK(has_line(text, "# TYPE process_resident_memory_bytes gauge"));
    CHECK(has_line(text, "# TYPE process_cpu_seconds_total counter"));
    CHECK(has_line(text, "# TYPE process_open_fds gauge"));
}
