// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "child_process.hpp"
#include "deadline.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <regex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;

namespace integration {
namespace {

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

} // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
    int pipe_fds[2];
    // O_CLOEXEC: neither end leaks into this child (dup2 makes its stdout) or any other one.
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);

    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int error = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (error != 0) {
        ::close(pipe_fds[0]);
        throw std::system_error(error, std::generic_category(), "cannot start " + argv.front());
    }
    stdout_fd_ = pipe_fds[0];
}

ChildProcess::~ChildProcess() {
    if (!exit_status_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    ::close(stdout_fd_);
}

bool ChildProcess::read_more(Clock::time_point deadline) {
    while (!stdout_ended_) {
        pollfd readable{stdout_fd_, POLLIN, 0};
        const int ready = ::poll(&readable, 1, remaining_ms(deadline));
        if (ready == 0) return false;
        if (ready < 0 && errno == EINTR) continue;
        char buffer[4096];
        const ssize_t got = ::read(stdout_fd_, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            stdout_ended_ = true;
            return false;
        }
        pending_.append(buffer, static_cast<std::size_t>(got));
        return true;
    }
    return false;
}

std::optional<std::string> ChildProcess::read_line_containing(std::string_view needle,
                                                              std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    do {
        for (std::size_t end = pending_.find('\n'); end != std::string::npos; end = pending_.find('\n')) {
            std::string line = pending_.substr(0, end);
            pending_.erase(0, end + 1);
            if (line.find(needle) != std::string::npos) return line;
        }
    } while (read_more(deadline));
    return std::nullopt;
}

std::optional<std::string> ChildProcess::read_to_end(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (read_more(deadline)) {
    }
    if (!stdout_ended_) return std::nullopt;
    return std::exchange(pending_, {});
}

void ChildProcess::send_signal(int signal) {
    if (!exit_status_) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!exit_status_) {
        int status = 0;
        const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
        if (reaped == pid_) {
            exit_status_ = decode_status(status);
        } else if (reaped < 0 && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "waitpid");
        } else if (Clock::now() >= deadline) {
            return std::nullopt;
        } else {
            // No portable way to wait for a child with a timeout short of a SIGCHLD handler: poll.
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    return exit_status_;
}

std::optional<std::string> read_listening_url(ChildProcess& server, std::chrono::milliseconds timeout) {
    const std::optional<std::string> line = server.read_line_containing("listening on ", timeout);
    std::smatch match;
    if (!line || !std::regex_search(*line, match, std::regex(R"(listening on (wss?://127\.0\.0\.1:[0-9]+/ws)$)")))
        return std::nullopt;
    return match[1].str();
}

std::string run_and_capture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    ChildProcess child(argv);
    const std::optional<std::string> output = child.read_to_end(timeout);
    const std::optional<int> status = child.wait_for_exit(timeout);
    if (!output || status != 0)
        throw std::runtime_error(argv.front() + " failed (exit status " + (status ? std::to_string(*status) : "none") +
                                 ")");
    return *output;
}

} // namespace integration
