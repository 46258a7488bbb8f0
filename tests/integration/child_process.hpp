// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A child process with its stdout on a pipe, and its stderr inherited (so that its diagnostics,
// sanitizer reports included, land in the test's output) or on a pipe of its own. RAII: a child
// still running when the object goes away (e.g. a failed REQUIRE) is killed and reaped, so a
// failing test never leaves a server behind.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client.hpp"

namespace integration {

class ChildProcess {
public:
    enum class Stderr { inherit, capture };

    /// Starts `argv[0]` (a path) with `argv`; the environment is inherited.
    /// @throws std::system_error when it cannot be started.
    explicit ChildProcess(const std::vector<std::string>& argv, Stderr stderr_mode = Stderr::inherit);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    /// The next stdout line that contains `needle` (earlier lines are skipped), without its newline;
    /// nothing if stdout ends or the timeout passes first.
    std::optional<std::string> read_line_containing(std::string_view needle,
                                                    std::chrono::milliseconds timeout = default_wait);
    /// Everything left on stdout until it ends; nothing if it does not end within the timeout.
    std::optional<std::string> read_to_end(std::chrono::milliseconds timeout = default_wait);
    /// The same of stderr, when captured. Either stream is read while waiting for the other: a child
    /// that fills one pipe while the test reads the other is never stuck.
    std::optional<std::string> read_stderr_to_end(std::chrono::milliseconds timeout = default_wait);

    void send_signal(int signal);
    /// The exit status (or 128 + the signal that killed it); nothing if still running at the timeout.
    std::optional<int> wait_for_exit(std::chrono::milliseconds timeout = default_wait);

private:
    struct Output {
        int fd = -1; ///< -1: not captured
        bool ended = false;
        std::string pending; ///< read, not yet returned
    };

    /// Reads what the captured outputs have, until `wanted` got at least one more byte (true) or
    /// ended, or `deadline` passed (false).
    bool read_more(Output& wanted, std::chrono::steady_clock::time_point deadline);
    std::optional<std::string> read_to_end(Output& output, std::chrono::milliseconds timeout);

    pid_t pid_ = -1;
    Output stdout_;
    Output stderr_;
    std::optional<int> exit_status_;
};

/// The URL of social_server's "<timestamp> listening on ws://127.0.0.1:<port>/ws" line (earlier lines are
/// skipped); nothing if no such line comes within the timeout.
std::optional<std::string> read_listening_url(ChildProcess& server, std::chrono::milliseconds timeout = default_wait);

/// Runs a command to completion and returns its stdout; throws if it fails or takes too long.
std::string run_and_capture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = default_wait);

/// How a command ended: its exit status and all it wrote.
struct Finished {
    int status = -1;
    std::string out;
    std::string err;
};

/// Runs a command to completion, capturing stdout and stderr; throws if it does not end within the timeout.
Finished run_to_exit(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = default_wait);

} // namespace integration
