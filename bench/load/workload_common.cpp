// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The helpers every workload family uses (workload_common.hpp).

#include "workload_common.hpp"

#include <algorithm>
#include <cstdio>

namespace loadgen {

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

void report_latency(Report& report, const LatencyHistogram& latency) {
    report.emplace_back("samples", std::to_string(latency.count()));
    report.emplace_back("p50_ms", fixed(latency.percentile_ms(0.50)));
    report.emplace_back("p90_ms", fixed(latency.percentile_ms(0.90)));
    report.emplace_back("p95_ms", fixed(latency.percentile_ms(0.95)));
    report.emplace_back("p99_ms", fixed(latency.percentile_ms(0.99)));
    report.emplace_back("p999_ms", fixed(latency.percentile_ms(0.999)));
}

void report_cpu(Report& report, const CpuMeter& cpu, double wall_seconds) {
    report.emplace_back("server_cpu", fixed(cpu.server_share(wall_seconds)));
    report.emplace_back("client_cpu", fixed(cpu.own_share(wall_seconds)));
    report.emplace_back("others_cpu", fixed(cpu.others_share(wall_seconds)));
}

void connect_everyone(Session& session, Report& report) {
    const std::int64_t start = now_ns();
    session.connect_range(0, session.size(), upgrades_at_once, start + 60 * second_ns);
    report.emplace_back("connect_s", fixed(static_cast<double>(now_ns() - start) / 1e9));
    session.pause(0.5);
}

std::int64_t connect_storm(Session& session, std::size_t from, std::size_t to, std::int64_t give_up_ns) {
    constexpr std::int64_t quiet = second_ns;
    const std::uint64_t wanted = session.counters.opened + session.counters.failed + (to - from);
    for (std::size_t i = from; i < to; ++i) session.clients().connect(static_cast<std::uint32_t>(i));
    auto last_activity = [&] { return std::max(session.counters.last_open_ns, session.counters.last_presence_ns); };
    auto settled = [&] {
        return session.counters.opened + session.counters.failed >= wanted && now_ns() - last_activity() >= quiet;
    };
    session.run_until(give_up_ns, [&] { return !settled(); });
    return settled() ? last_activity() : -1;
}

} // namespace loadgen
