// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// How many system calls a server makes to send and to receive over an interval: `perf stat` on
/// the syscalls tracepoints, attached to the server with its events disabled, enabled and disabled
/// through perf's control pipe, so that the count covers exactly the interval the deliveries are
/// counted over. Attached, the tracepoints slow every system call of the server (by a fifth of the
/// deliveries/s here), so a workload measures its rates before and counts in an interval of its own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <sys/types.h>

namespace loadgen {

struct SyscallCounts {
    std::uint64_t sends = 0;    ///< sendmsg, sendto, write, writev
    std::uint64_t receives = 0; ///< recvmsg, recvfrom, read, readv
};

/// One interval of one process. Without perf (or without permission for its tracepoints), or for
/// pid 0, it counts nothing and `stop()` says so; the workload still runs.
class SyscallCounter {
public:
    explicit SyscallCounter(pid_t pid);
    ~SyscallCounter();
    SyscallCounter(const SyscallCounter&) = delete;
    SyscallCounter& operator=(const SyscallCounter&) = delete;

    /// Asks perf to start counting, without waiting.
    void start();
    /// True once perf counts (it acknowledged `start`), or once it is clear that it will not.
    bool ready();
    /// The counts since `ready()` turned true, if perf counted.
    std::optional<SyscallCounts> stop();
    /// Why there are no counts (for stderr), if there are none.
    const std::string& problem() const { return problem_; }

private:
    bool send_command(const char* verb);
    /// Waits up to `timeout_ms` for perf's "ack".
    bool acknowledged(int timeout_ms);
    void end_perf();

    pid_t perf_ = -1;
    int control_ = -1;     ///< perf reads "enable"/"disable" from it
    int acknowledge_ = -1; ///< perf answers "ack" on it
    std::string output_;   ///< perf's -o file
    std::string problem_;
    bool counting_ = false;
    std::chrono::steady_clock::time_point started_at_;
};

} // namespace loadgen
