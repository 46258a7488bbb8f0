// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `ProcessMetrics`: this process's resident memory, CPU time and open file descriptors, read
/// from Linux's /proc/self, and `write_metrics(out, process)`, which writes them under
/// Prometheus' standard names (`process_resident_memory_bytes`, `process_cpu_seconds_total`,
/// `process_open_fds`): give it a writer without a prefix, `PrometheusText("")`. A figure that
/// cannot be read (no /proc) is left out.
///
/// Threads: `read_process_metrics` may be called from any thread; it reads three files under
/// /proc and lists /proc/self/fd, a few tens of microseconds: for a scrape, not a hot path.

#include <dirent.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include <switchboard/metrics/prometheus.hpp>

namespace switchboard {

struct ProcessMetrics {
    std::optional<double> resident_memory_bytes;
    std::optional<double> cpu_seconds; ///< user and system
    std::optional<double> open_fds;
};

namespace detail {

/// The whitespace-separated fields of /proc/self/stat after the command name (which may hold
/// spaces, so the fields start after its closing parenthesis): field 3 (state) is [0].
inline std::optional<std::string> proc_stat_after_command() {
    std::ifstream file("/proc/self/stat");
    const std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const std::size_t end_of_command = stat.rfind(')');
    if (end_of_command == std::string::npos) return std::nullopt;
    return stat.substr(end_of_command + 1);
}

inline std::optional<double> cpu_seconds() {
    const std::optional<std::string> fields = proc_stat_after_command();
    const long ticks_per_second = sysconf(_SC_CLK_TCK);
    if (!fields || ticks_per_second <= 0) return std::nullopt;
    std::istringstream in(*fields);
    std::string skipped;
    for (int field = 3; field < 14; ++field) in >> skipped; // state ... cmajflt
    unsigned long long user_ticks = 0, system_ticks = 0;
    if (!(in >> user_ticks >> system_ticks)) return std::nullopt;
    return static_cast<double>(user_ticks + system_ticks) / static_cast<double>(ticks_per_second);
}

inline std::optional<double> resident_memory_bytes() {
    std::ifstream statm("/proc/self/statm");
    unsigned long long size_pages = 0, resident_pages = 0;
    const long page_size = sysconf(_SC_PAGESIZE);
    if (!(statm >> size_pages >> resident_pages) || page_size <= 0) return std::nullopt;
    return static_cast<double>(resident_pages) * static_cast<double>(page_size);
}

/// Entries of /proc/self/fd but `.`, `..` and the directory's own descriptor.
inline std::optional<double> open_fds() {
    DIR* directory = opendir("/proc/self/fd");
    if (!directory) return std::nullopt;
    std::size_t entries = 0;
    while (const dirent* entry = readdir(directory))
        if (entry->d_name[0] != '.') ++entries;
    closedir(directory);
    return static_cast<double>(entries > 0 ? entries - 1 : 0);
}

} // namespace detail

inline ProcessMetrics read_process_metrics() {
    return {detail::resident_memory_bytes(), detail::cpu_seconds(), detail::open_fds()};
}

inline void write_metrics(PrometheusText& out, const ProcessMetrics& process) {
    if (process.resident_memory_bytes)
        out.gauge("process_resident_memory_bytes", "Resident memory size in bytes", *process.resident_memory_bytes);
    if (process.cpu_seconds)
        out.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds",
                    *process.cpu_seconds);
    if (process.open_fds) out.gauge("process_open_fds", "Number of open file descriptors", *process.open_fds);
}

} // namespace switchboard
