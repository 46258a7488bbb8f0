// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "blocking_link.hpp"

#include <sys/time.h>

#include <cerrno>
#include <utility>

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
    std::vector<Reply> replies;
    const std::error_code error = pipeline({args}, replies);
    if (!error) reply = std::move(replies.front());
    return error;
}

std::error_code BlockingLink::pipeline(const std::vector<std::vector<std::string_view>>& commands,
                                       std::vector<Reply>& replies) {
    if (!context_) {
        if (std::chrono::steady_clock::now() < retry_at_) return Errc::not_connected;
        if (const std::error_code error = connect()) return error;
    }
    std::vector<const char*> pointers;
    std::vector<std::size_t> sizes;
    for (const std::vector<std::string_view>& args : commands) {
        pointers.clear();
        sizes.clear();
        for (const std::string_view arg : args) {
            pointers.push_back(arg.data());
            sizes.push_back(arg.size());
        }
        if (redisAppendCommandArgv(context_, static_cast<int>(args.size()), pointers.data(), sizes.data()) != REDIS_OK)
            return fail(Errc::connection_lost);
    }
    replies.clear();
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(context_, &raw) != REDIS_OK || !raw) {
            // A socket timeout leaves EAGAIN behind; anything else is a broken link.
            const bool timed_out = context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
            return fail(timed_out ? Errc::timed_out : Errc::connection_lost);
        }
        replies.push_back(copy_reply(*static_cast<redisReply*>(raw)));
        freeReplyObject(raw);
    }
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
