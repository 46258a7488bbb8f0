// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "reply_copy.hpp"

#include <hiredis/hiredis.h>

namespace switchboard::redis::detail {

Reply copy_reply(const redisReply& reply) {
    Reply out;
    switch (reply.type) {
    case REDIS_REPLY_INTEGER:
        out.type = Reply::Type::integer;
        out.integer = reply.integer;
        break;
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
    case REDIS_REPLY_STRING:
        out.type = reply.type == REDIS_REPLY_STATUS  ? Reply::Type::status
                   : reply.type == REDIS_REPLY_ERROR ? Reply::Type::error
                                                     : Reply::Type::string;
        out.text.assign(reply.str, reply.len);
        break;
    case REDIS_REPLY_ARRAY:
        out.type = Reply::Type::array;
        out.elements.reserve(reply.elements);
        for (std::size_t i = 0; i < reply.elements; ++i) out.elements.push_back(copy_reply(*reply.element[i]));
        break;
    default: // REDIS_REPLY_NIL
        break;
    }
    return out;
}

} // namespace switchboard::redis::detail
