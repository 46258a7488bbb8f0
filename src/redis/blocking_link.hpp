// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// One blocking hiredis connection with socket timeouts, for callers that must have an answer
// before they return (RedisHistory). Connects on demand; after any failure the context is freed
// and the link refuses at once (Errc::not_connected) until the retry interval has passed, so a
// Redis that is away costs one timeout per interval, not one per call.
//
// Threads: one call at a time (the owner holds a mutex around each).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <switchboard/redis/errors.hpp>
#include <switchboard/redis/reply.hpp>

struct redisContext;

namespace switchboard::redis::detail {

struct BlockingLinkOptions {
    std::string host;
    std::uint16_t port = 6379;
    std::chrono::milliseconds connect_timeout;
    std::chrono::milliseconds command_timeout;
    std::chrono::milliseconds retry_interval;
};

class BlockingLink {
public:
    explicit BlockingLink(BlockingLinkOptions options) : options_(std::move(options)) {}
    ~BlockingLink();
    BlockingLink(const BlockingLink&) = delete;
    BlockingLink& operator=(const BlockingLink&) = delete;

    /// Sends one command (binary-safe arguments) and waits for its reply, within the timeouts.
    std::error_code command(const std::vector<std::string_view>& args, Reply& reply);
    /// Sends `commands` at once and waits for their replies, in order: one round trip. On an
    /// error, `replies` is meaningless.
    std::error_code pipeline(const std::vector<std::vector<std::string_view>>& commands, std::vector<Reply>& replies);

private:
    std::error_code ensure_connected();
    std::error_code append(const std::vector<std::string_view>& args);
    std::error_code receive(Reply& reply);
    std::error_code connect();
    std::error_code fail(Errc why);

    const BlockingLinkOptions options_;
    redisContext* context_ = nullptr;
    std::chrono::steady_clock::time_point retry_at_{};
};

} // namespace switchboard::redis::detail
