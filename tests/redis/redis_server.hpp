// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A redis-server of the test's own on a free loopback port, without persistence, stopped with the
// object; and an io_context thread for the connections under test.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "../integration/child_process.hpp"

namespace redis_test {

class RedisServer {
public:
    /// Starts on a free port (or on `port`, to restart on the same one) and waits until it accepts.
    /// With `data_dir`, it loads `dump.rdb` there at start and writes it on `SAVE` (never by itself).
    explicit RedisServer(std::uint16_t port = 0, const std::string& data_dir = {});
    std::uint16_t port() const { return port_; }
    /// Kills it (SIGKILL) and waits for its exit.
    void kill();

private:
    std::uint16_t port_;
    std::unique_ptr<integration::ChildProcess> process_;
};

/// An io_context on a thread of its own, joined on destruction.
class IoThread {
public:
    IoThread();
    ~IoThread();
    asio::io_context& context() { return context_; }
    /// Runs `call` on the I/O thread and waits for it.
    void run(const std::function<void()>& call);

private:
    asio::io_context context_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
};

/// A key prefix of its own for each test.
std::string unique_prefix();

/// Polls `done` until true or the timeout; true if it became true.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(5));

} // namespace redis_test
