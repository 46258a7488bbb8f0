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

/// A pipe whose ends are closed on exec: neither leaks into this child (dup2 makes its output) or any other one.
std::pair<int, int> make_pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    return {fds[0], fds[1]};
}

} // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, Stderr stderr_mode) {
    const auto [stdout_read, stdout_write] = make_pipe();
    const auto [stderr_read, stderr_write] = stderr_mode == Stderr::capture ? make_pipe() : std::pair(-1, -1);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, stdout_write, STDOUT_FILENO);
    if (stderr_write >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_write, STDERR_FILENO);

    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int error = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    for (const int fd : {stdout_write, stderr_write})
        if (fd >= 0) ::close(fd);
    if (error != 0) {
        for (const int fd : {stdout_read, stderr_read})
            if (fd >= 0) ::close(fd);
        throw std::system_error(error, std::generic_category(), "cannot start " + argv.front());
    }
    stdout_.fd = stdout_read;
    stderr_.fd = stderr_read;
}

ChildProcess::~ChildProcess() {
    if (!exit_status_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    for (const Output* output : {&stdout_, &stderr_})
        if (output->fd >= 0) ::close(output->fd);
}

bool ChildProcess::read_more(Output& wanted, Clock::time_point deadline) {
    while (!wanted.ended) {
        std::vector<pollfd> polled;
        std::vector<Output*> outputs;
        for (Output* output : {&stdout_, &stderr_})
            if (output->fd >= 0 && !output->ended) {
                polled.push_back({output->fd, POLLIN, 0});
                outputs.push_back(output);
            }
        const int ready = ::poll(polled.data(), polled.size(), remaining_ms(deadline));
        if (ready == 0) return false;
        if (ready < 0 && errno == EINTR) continue;
        for (std::size_t i = 0; i < polled.size(); ++i) {
            if (polled[i].revents == 0) continue;
            char buffer[4096];
            const ssize_t got = ::read(polled[i].fd, buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                outputs[i]->ended = true;
                continue;
            }
            outputs[i]->pending.append(buffer, static_cast<std::size_t>(got));
            if (outputs[i] == &wanted) return true;
        }
    }
    return false;
}

std::optional<std::string> ChildProcess::read_line_containing(std::string_view needle,
                                                              std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string& pending = stdout_.pending;
    do {
        for (std::size_t end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
            std::string line = pending.substr(0, end);
            pending.erase(0, end + 1);
            if (line.find(needle) != std::string::npos) return line;
        }
    } while (read_more(stdout_, deadline));
    return std::nullopt;
}

std::optional<std::string> ChildProcess::read_to_end(Output& output, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (read_more(output, deadline)) {
    }
    if (!output.ended) return std::nullopt;
    return std::exchange(output.pending, {});
}

std::optional<std::string> ChildProcess::read_to_end(std::chrono::milliseconds timeout) {
    return read_to_end(stdout_, timeout);
}

std::optional<std::string> ChildProcess::read_stderr_to_end(std::chrono::milliseconds timeout) {
    if (stderr_.fd < 0) throw std::logic_error("stderr is not captured");
    return read_to_end(stderr_, timeout);
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

Finished run_to_exit(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    ChildProcess child(argv, ChildProcess::Stderr::capture);
    const std::optional<std::string> out = child.read_to_end(timeout);
    const std::optional<std::string> err = child.read_stderr_to_end(timeout);
    const std::optional<int> status = child.wait_for_exit(timeout);
    if (!out || !err || !status) throw std::runtime_error(argv.front() + " did not end in time");
    return {*status, *out, *err};
}

} // namespace integration
