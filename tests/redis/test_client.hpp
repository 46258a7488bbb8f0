// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A redis::Connection under test on an IoThread, with counts of what its callbacks saw, and a
// blocking `call` for the test's thread (with a bounded wait).

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <switchboard/redis/connection.hpp>

#include "redis_server.hpp"

namespace redis_test {

struct Outcome {
    std::error_code error;
    switchboard::redis::Reply reply;
};

class TestClient {
public:
    /// Subscribes to `channels` on every connection it makes.
    TestClient(IoThread& io, switchboard::redis::ConnectionOptions options, std::vector<std::string> channels = {})
        : io_(io) {
        options.on_connected = [this, channels = std::move(channels)] {
            ++connected;
            if (!channels.empty()) connection_->subscribe(channels);
        };
        options.on_disconnected = [this](std::error_code error) {
            std::lock_guard lock(mutex_);
            disconnect_reasons_.push_back(error);
        };
        options.on_message = [this](std::string_view channel, std::string_view payload) {
            std::lock_guard lock(mutex_);
            messages_.emplace_back(channel, payload);
        };
        connection_ = std::make_unique<switchboard::redis::Connection>(io.context().get_executor(), std::move(options));
        connection_->start();
    }
    ~TestClient() {
        io_.run([this] { connection_.reset(); });
    }

    switchboard::redis::Connection& connection() { return *connection_; }

    Outcome call(std::vector<std::string> args) {
        auto done = std::make_shared<std::promise<Outcome>>();
        connection_->command(std::move(args), [done](std::error_code error, switchboard::redis::Reply reply) {
            done->set_value({error, std::move(reply)});
        });
        auto future = done->get_future();
        if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
            throw std::runtime_error("no callback within 10 s");
        }
        return future.get();
    }

    std::vector<std::error_code> disconnect_reasons() {
        std::lock_guard lock(mutex_);
        return disconnect_reasons_;
    }
    std::vector<std::pair<std::string, std::string>> messages() {
        std::lock_guard lock(mutex_);
        return messages_;
    }

    std::atomic<int> connected{0};

private:
    IoThread& io_;
    std::mutex mutex_;
    std::vector<std::error_code> disconnect_reasons_;
    std::vector<std::pair<std::string, std::string>> messages_;
    std::unique_ptr<switchboard::redis::Connection> connection_;
};

inline switchboard::redis::ConnectionOptions options_for(const RedisServer& server) {
    switchboard::redis::ConnectionOptions options;
    options.port = server.port();
    options.backoff_initial = std::chrono::milliseconds(20);
    options.backoff_max = std::chrono::milliseconds(200);
    return options;
}

} // namespace redis_test
