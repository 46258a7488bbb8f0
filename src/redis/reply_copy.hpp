// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <switchboard/redis/reply.hpp>

struct redisReply;

namespace switchboard::redis::detail {

/// A deep copy of hiredis' reply (whose memory hiredis frees when the reply callback returns).
Reply copy_reply(const redisReply& reply);

} // namespace switchboard::redis::detail
