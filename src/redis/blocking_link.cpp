// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "blocking_link.hpp"

#include <sys/time.h>

#include <cerrno>

#include <hiredis/hiredis.h>

#include "reply_copy.hpp"

namespace switchboard::redis::detail {

namespace {
timeval to_timeval(std::chrono::milliseconds duration) {
    const auto count = duration.count();
    return timeval{static_cast<time_t>(count / 1000), static_cast<suseconds_t>(count % 1000 * 1000)};
}
} // namespace

BlockingLink::~BlockingLink() {
    if (context_) redisFree(context_);
}

std::error_code BlockingLink::command(const std::vector<std::string_view>& args, Reply& reply) {
    if (const std::error_code error = ensure_connected()) return error;
    if (const std::error_code error = append(args)) return error;
    return receive(reply);
}

std::error_code BlockingLink::pipeline(const std::vector<std::vector<std::string_view>>& commands,
                                       std::vector<Reply>& replies) {
    if (const std::error_code error = ensure_connected()) return error;
    for (const std::vector<std::string_view>& args : commands)
        if (const std::error_code error = append(args)) return error;
    replies.resize(commands.size());
    for (Reply& reply : replies)
        if (const std::error_code error = receive(reply)) return error;
    return {};
}

std::error_code BlockingLink::ensure_connected() {
    if (context_) return {};
    if (std::chrono::steady_clock::now() < retry_at_) return Errc::not_connected;
    return connect();
}

/// Queues the command in the context's output buffer; the first `receive` writes it.
std::error_code BlockingLink::append(const std::vector<std::string_view>& args) {
    std::vector<const char*> pointers;
    std::vector<std::size_t> sizes;
    for (const std::string_view arg : args) {
        pointers.push_back(arg.data());
        sizes.push_back(arg.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(args.size()), pointers.data(), sizes.data()) != REDIS_OK)
        return fail(Errc::connection_lost);
    return {};
}

std::error_code BlockingLink::receive(Reply& reply) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || !raw) {
        // A socket timeout leaves EAGAIN behind; anything else is a broken link.
        const bool timed_out = context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
        return fail(timed_out ? Errc::timed_out : Errc::connection_lost);
    }
    reply = copy_reply(*static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    return {};
}

std::error_code BlockingLink::connect() {
    context_ = redisConnectWithTimeout(options_.host.c_str(), options_.port, to_timeval(options_.connect_timeout));
    if (!context_ || context_->err || redisSetTimeout(context_, to_timeval(options_.command_timeout)) != REDIS_OK)
        return fail(Errc::connect_failed);
    return {};
}

std::error_code BlockingLink::fail(Errc why) {
    if (context_) redisFree(context_);
    context_ = nullptr;
    retry_at_ = std::chrono::steady_clock::now() + options_.retry_interval;
    return why;
}

} // namespace switchboard::redis::detail
