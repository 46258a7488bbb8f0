// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `redis::Reply`: a Redis reply copied out of hiredis into a plain value, so that no caller ever
/// touches a `redisReply` (whose memory hiredis frees as soon as the reply callback returns).
///
/// Threads: a value type; one object may be read from several threads, written from one.

#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::redis {

struct Reply {
    enum class Type { nil, integer, status, error, string, array };

    Type type = Type::nil;
    std::int64_t integer = 0; ///< for `integer`
    std::string text;         ///< for `status`, `error` (the message, e.g. "ERR unknown command") and `string`
    std::vector<Reply> elements; ///< for `array`

    bool is_error() const noexcept { return type == Type::error; }
    bool is_nil() const noexcept { return type == Type::nil; }
};

} // namespace switchboard::redis
