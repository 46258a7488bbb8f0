// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// What the workloads (workloads.hpp) share: pacing constants, number formatting, the latency and
/// CPU figures of a report, and the two ways of connecting a session's users. Single-threaded, as
/// a Session is: call from the thread that runs the workload.

#include <cstddef>
#include <cstdint>
#include <string>

#include "session.hpp"

namespace loadgen {

constexpr std::int64_t second_ns = 1'000'000'000;
constexpr std::size_t upgrades_at_once = 500; ///< steady connects: below the servers' listen backlogs

inline std::int64_t seconds_ns(double seconds) { return static_cast<std::int64_t>(seconds * 1e9); }

/// `value` with `decimals` digits after the point, as a report shows it.
std::string fixed(double value, int decimals = 2);

void report_latency(Report& report, const LatencyHistogram& latency);
void report_cpu(Report& report, const CpuMeter& cpu, double wall_seconds);

/// Connects everyone at a steady pace and lets the dust (presence, if any) settle.
void connect_everyone(Session& session, Report& report);

/// Connects users [from, to) at once and handles traffic until every upgrade has finished and no
/// presence has come for a second, or until `give_up_ns`. Returns when it settled (-1: never).
std::int64_t connect_storm(Session& session, std::size_t from, std::size_t to, std::int64_t give_up_ns);

} // namespace loadgen
