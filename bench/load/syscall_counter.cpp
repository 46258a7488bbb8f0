// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "syscall_counter.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace loadgen {
namespace {

constexpr const char* send_events[] = {"sendmsg", "sendto", "write", "writev"};
constexpr const char* receive_events[] = {"recvmsg", "recvfrom", "read", "readv"};
/// Where the child finds its control and acknowledgement pipes.
constexpr int child_control_fd = 3;
constexpr int child_acknowledge_fd = 4;
constexpr int ack_timeout_ms = 5000;

std::string event_list() {
    std::string list;
    for (const auto* names : {&send_events, &receive_events})
        for (const char* name : *names) list += (list.empty() ? "" : ",") + std::string("syscalls:sys_enter_") + name;
    return list;
}

/// `perf stat -x,` lines: "count,unit,event,...". Counts that perf could not take read "<not counted>".
std::optional<SyscallCounts> parse(const std::string& path) {
    std::ifstream file(path);
    SyscallCounts counts;
    bool any = false;
    for (std::string line; std::getline(file, line);) {
        std::vector<std::string> fields;
        std::istringstream items(line);
        for (std::string field; std::getline(items, field, ',');) fields.push_back(field);
        if (fields.size() < 3 || fields[0].empty() || fields[0][0] < '0' || fields[0][0] > '9') continue;
        const std::uint64_t count = std::strtoull(fields[0].c_str(), nullptr, 10);
        const std::string& event = fields[2];
        for (const char* name : send_events)
            if (event == std::string("syscalls:sys_enter_") + name) counts.sends += count, any = true;
        for (const char* name : receive_events)
            if (event == std::string("syscalls:sys_enter_") + name) counts.receives += count, any = true;
    }
    if (!any) return std::nullopt;
    return counts;
}

} // namespace

SyscallCounter::SyscallCounter(pid_t pid) {
    if (pid <= 0) {
        problem_ = "no server pid";
        return;
    }
    char path[] = "/tmp/loadgen-perf-XXXXXX";
    const int file = mkstemp(path);
    int control[2], acknowledge[2];
    if (file < 0 || pipe2(control, O_CLOEXEC) != 0 || pipe2(acknowledge, O_CLOEXEC) != 0) {
        problem_ = std::string("cannot set up perf: ") + std::strerror(errno);
        return;
    }
    ::close(file);
    output_ = path;
    const std::string pid_text = std::to_string(pid);
    const std::string events = event_list();
    const std::string control_option =
        "fd:" + std::to_string(child_control_fd) + "," + std::to_string(child_acknowledge_fd);
    std::vector<const char*> arguments = {"perf", "stat", "-x", ",", "-o", path, "--delay=-1", "--control",
                                          control_option.c_str(), "-e", events.c_str(), "-p", pid_text.c_str(),
                                          nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, control[0], child_control_fd);
    posix_spawn_file_actions_adddup2(&actions, acknowledge[1], child_acknowledge_fd);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    const int spawned = posix_spawnp(&perf_, "perf", &actions, nullptr, const_cast<char**>(arguments.data()), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(control[0]);
    ::close(acknowledge[1]);
    control_ = control[1];
    acknowledge_ = acknowledge[0];
    if (spawned != 0) {
        perf_ = -1;
        problem_ = std::string("cannot run perf: ") + std::strerror(spawned);
    }
}

SyscallCounter::~SyscallCounter() {
    end_perf();
    if (control_ >= 0) ::close(control_);
    if (acknowledge_ >= 0) ::close(acknowledge_);
    if (!output_.empty()) std::remove(output_.c_str());
}

void SyscallCounter::start() {
    if (perf_ > 0 && !send_command("enable")) problem_ = "perf does not read its control pipe";
    started_at_ = std::chrono::steady_clock::now();
}

bool SyscallCounter::ready() {
    if (counting_ || perf_ <= 0 || !problem_.empty()) return true;
    counting_ = acknowledged(0);
    if (!counting_ && std::chrono::steady_clock::now() - started_at_ > std::chrono::milliseconds(ack_timeout_ms))
        problem_ = "perf did not enable its events (no permission? see perf_event_paranoid)";
    return counting_ || !problem_.empty();
}

std::optional<SyscallCounts> SyscallCounter::stop() {
    if (!counting_ || !problem_.empty()) return std::nullopt;
    if (!send_command("disable") || !acknowledged(ack_timeout_ms)) {
        problem_ = "perf did not acknowledge the end of the interval";
        return std::nullopt;
    }
    end_perf();
    std::optional<SyscallCounts> counts = parse(output_);
    if (!counts) problem_ = "perf counted nothing (tracepoints unavailable?)";
    return counts;
}

bool SyscallCounter::send_command(const char* verb) {
    const std::string line = std::string(verb) + "\n";
    return write(control_, line.data(), line.size()) == static_cast<ssize_t>(line.size());
}

bool SyscallCounter::acknowledged(int timeout_ms) {
    pollfd ready{acknowledge_, POLLIN, 0};
    if (poll(&ready, 1, timeout_ms) != 1) return false;
    char answer[16] = {};
    return read(acknowledge_, answer, sizeof answer - 1) > 0 && std::strncmp(answer, "ack", 3) == 0;
}

/// perf writes its counts when interrupted.
void SyscallCounter::end_perf() {
    if (perf_ <= 0) return;
    kill(perf_, SIGINT);
    int status = 0;
    waitpid(perf_, &status, 0);
    perf_ = -1;
}

} // namespace loadgen
