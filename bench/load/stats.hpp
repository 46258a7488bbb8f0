// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// Measuring helpers of the load generator: a latency histogram, and the CPU time and resident
/// memory of a process (the server's, read from /proc; the generator's own, from getrusage).

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

namespace loadgen {

/// Latencies in microseconds: exact below 128 us, then 64 buckets per power of two (within 1.6%).
/// Recording is an increment, so the receive path stays cheap.
class LatencyHistogram {
public:
    void record_ns(std::int64_t nanoseconds) {
        const std::uint64_t micros = nanoseconds > 0 ? static_cast<std::uint64_t>(nanoseconds) / 1000 : 0;
        ++counts_[std::min(bucket_of(micros), counts_.size() - 1)];
        ++total_;
    }

    std::uint64_t count() const { return total_; }

    /// The value (in milliseconds) below which `fraction` of the samples lie; 0 without samples.
    double percentile_ms(double fraction) const {
        if (total_ == 0) return 0;
        const auto rank = static_cast<std::uint64_t>(fraction * static_cast<double>(total_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t bucket = 0; bucket < counts_.size(); ++bucket) {
            seen += counts_[bucket];
            if (seen >= rank) return static_cast<double>(middle_of(bucket)) / 1000.0;
        }
        return static_cast<double>(middle_of(counts_.size() - 1)) / 1000.0;
    }

private:
    static constexpr std::size_t linear = 128; // exact microseconds below this
    static constexpr std::size_t per_octave = 64;

    static std::size_t bucket_of(std::uint64_t micros) {
        if (micros < linear) return static_cast<std::size_t>(micros);
        const int top_bit = 63 - __builtin_clzll(micros); // >= 7
        const int shift = top_bit - 6;                     // micros >> shift is in [64, 127]
        return linear + static_cast<std::size_t>(shift - 1) * per_octave + ((micros >> shift) - per_octave);
    }

    static std::uint64_t middle_of(std::size_t bucket) {
        if (bucket < linear) return bucket;
        const std::size_t shift = (bucket - linear) / per_octave + 1;
        const std::uint64_t low = (per_octave + (bucket - linear) % per_octave) << shift;
        return low + (std::uint64_t{1} << shift) / 2;
    }

    std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(linear + 40 * per_octave);
    std::uint64_t total_ = 0;
};

/// Resident memory of a process in bytes (VmRSS), 0 if unknown.
inline std::uint64_t resident_bytes(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

/// CPU seconds (user + system) a process has used so far, 0 if unknown.
inline double cpu_seconds(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const std::size_t after_name = text.rfind(')'); // the name may hold spaces
    if (after_name == std::string::npos) return 0;
    std::istringstream fields(text.substr(after_name + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i)
        if (i == 14 || i == 15) ticks += std::stod(field); // utime, stime
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

inline double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/// CPU seconds all processes of the machine have used so far (user, nice, system of every CPU).
inline double machine_cpu_seconds() {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0;
    stat >> cpu >> user >> nice >> system;
    return (user + nice + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// CPU used over an interval, as a share of one core: by the server (the sum of its processes:
/// a cluster's nodes and Redis), by this process, and by everything else (other people's builds
/// on a shared machine: a figure that makes a run suspect).
class CpuMeter {
public:
    explicit CpuMeter(std::vector<pid_t> servers) : servers_(std::move(servers)) { restart(); }

    void restart() {
        server_start_ = servers_seconds();
        own_start_ = own_cpu_seconds();
        machine_start_ = machine_cpu_seconds();
    }
    double server_share(double wall_seconds) const { return (servers_seconds() - server_start_) / wall_seconds; }
    double own_share(double wall_seconds) const { return (own_cpu_seconds() - own_start_) / wall_seconds; }
    double others_share(double wall_seconds) const {
        const double machine = (machine_cpu_seconds() - machine_start_) / wall_seconds;
        return std::max(0.0, machine - server_share(wall_seconds) - own_share(wall_seconds));
    }

private:
    double servers_seconds() const {
        double seconds = 0;
        for (const pid_t server : servers_) seconds += server > 0 ? cpu_seconds(server) : 0;
        return seconds;
    }

    std::vector<pid_t> servers_;
    double server_start_ = 0;
    double own_start_ = 0;
    double machine_start_ = 0;
};

} // namespace loadgen
