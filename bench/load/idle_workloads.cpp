// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The connection-holding workloads (issue 4): idle and idle-after-storm (server memory per
// connection) and storm (the time until a burst of upgrades settles).

#include <algorithm>
#include <vector>

#include "workload_common.hpp"
#include "workloads.hpp"

namespace loadgen {
namespace {

double least_squares_slope(const std::vector<double>& x, const std::vector<double>& y) {
    const double n = static_cast<double>(x.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    const double denominator = n * sxx - sx * sx;
    return denominator == 0 ? 0 : (n * sxy - sx * sy) / denominator;
}

/// A few connections opened and closed before the idle workload's base figure: what a server
/// loads or builds once, at its first connections (libcrypto's code pages at the first JWT check,
/// ~2 MB for the example server), is then in the base rather than charged to the first step. Few,
/// so that the memory they free does not pre-grow the heap for the connections measured.
void warm_up(const Settings& settings) {
    constexpr std::size_t connections = 10;
    Session session(settings, connections, /*admin=*/false);
    session.connect_range(0, connections, connections, now_ns() + 10 * second_ns);
    session.pause(0.2);
} // closed here; measure_idle's pause lets the server finish with them

/// Server memory per connection at each of `steps`, each reached by `connect(session, from, to,
/// step, report)`, which may add the step's own figures: the idle workloads differ in how they connect.
template <class Connect>
Report measure_idle(const Settings& settings, Connect&& connect) {
    std::vector<std::size_t> steps = settings.steps.empty() ? std::vector<std::size_t>{settings.clients} : settings.steps;
    std::sort(steps.begin(), steps.end());
    warm_up(settings);
    Session session(settings, steps.back(), /*admin=*/false);
    Report report;
    session.pause(0.5);
    const double base = static_cast<double>(resident_bytes(settings.server_pid));
    report.emplace_back("rss_base_kib", fixed(base / 1024, 0));
    std::vector<double> counts, rss;
    std::size_t connected = 0;
    for (const std::size_t step : steps) {
        const std::string n = std::to_string(step);
        connect(session, connected, step, n, report);
        connected = step;
        const double open = static_cast<double>(session.counters.opened - session.counters.closed);
        const double resident = static_cast<double>(resident_bytes(settings.server_pid));
        counts.push_back(open);
        rss.push_back(resident);
        report.emplace_back("open_" + n, fixed(open, 0));
        report.emplace_back("rss_kib_" + n, fixed(resident / 1024, 0));
        report.emplace_back("bytes_per_conn_" + n, fixed(open > 0 ? (resident - base) / open : 0, 0));
        // What the connections of this step cost, each: flat when the server's memory grows linearly.
        const double opened_before = counts.size() > 1 ? counts[counts.size() - 2] : 0;
        const double resident_before = rss.size() > 1 ? rss[rss.size() - 2] : base;
        const double added = open - opened_before;
        report.emplace_back("step_bytes_per_conn_" + n, fixed(added > 0 ? (resident - resident_before) / added : 0, 0));
    }
    report.emplace_back("slope_bytes_per_conn", fixed(least_squares_slope(counts, rss), 0));
    if (settings.hold > 0) session.pause(settings.hold);
    session.report_health(report);
    return report;
}

} // namespace

Report run_idle(const Settings& settings) {
    return measure_idle(settings, [](Session& session, std::size_t from, std::size_t to, const std::string&, Report&) {
        session.connect_range(from, to, upgrades_at_once, now_ns() + 60 * second_ns);
        session.pause(1.5); // let the server finish its work for the last upgrades
    });
}

/// A step's connections all connect at once, as in `storm`; what the storm's transient work
/// (presence, handshakes, queued frames) leaves behind is measured with the connections.
Report run_idle_after_storm(const Settings& settings) {
    return measure_idle(settings, [&](Session& session, std::size_t from, std::size_t to, const std::string& n,
                                      Report& report) {
        const std::int64_t start = now_ns();
        const std::int64_t settled = connect_storm(session, from, to, start + seconds_ns(settings.timeout));
        report.emplace_back("settled_s_" + n, settled < 0 ? "-1" : fixed(static_cast<double>(settled - start) / 1e9));
    });
}

Report run_storm(const Settings& settings) {
    Session session(settings, settings.clients, /*admin=*/false, Spread::alternate);
    Report report;
    const std::size_t users = session.size();
    const std::int64_t start = now_ns();
    const std::int64_t settled = connect_storm(session, 0, users, start + seconds_ns(settings.timeout));
    const bool all_open = session.counters.opened >= users;
    const auto since_start = [&](std::int64_t at) { return fixed(static_cast<double>(at - start) / 1e9, 2); };
    report.emplace_back("handshakes_s", all_open ? since_start(session.counters.last_open_ns) : "-1");
    report.emplace_back("settled_s", settled >= 0 && all_open ? since_start(settled) : "-1");
    report.emplace_back("timeout_s", fixed(settings.timeout, 0));
    report.emplace_back("presence_events", std::to_string(session.counters.presence));
    report.emplace_back("presence_joins", std::to_string(session.counters.presence_joins));
    session.report_health(report);
    return report;
}

} // namespace loadgen
