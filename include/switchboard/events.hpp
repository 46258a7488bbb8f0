// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The built-in event vocabulary of a social app's real-time layer. Each struct converts to
/// `Event` implicitly and back with `event_cast<T>`; every field is required when reading.
///
/// A host adds its own types the same way, without touching the library:
/// @code
/// struct OrderShipped {
///     static constexpr std::string_view type_name = "OrderShipped";
///     std::string order_id;
/// };
/// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(OrderShipped, order_id)
/// manager.send_to_user(buyer, OrderShipped{"o-17"});
/// @endcode

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <switchboard/event.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard {

struct MessageSent {
    static constexpr std::string_view type_name = "MessageSent";
    std::string message_id;
    UserId from;
    std::vector<UserId> to;
    std::string content;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MessageSent, message_id, from, to, content)

struct MessageRead {
    static constexpr std::string_view type_name = "MessageRead";
    std::string message_id;
    UserId reader;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MessageRead, message_id, reader)

struct TypingStarted {
    static constexpr std::string_view type_name = "TypingStarted";
    static constexpr Durability durability = Durability::ephemeral;
    std::string conversation_id;
    UserId user_id;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TypingStarted, conversation_id, user_id)

struct TypingStopped {
    static constexpr std::string_view type_name = "TypingStopped";
    static constexpr Durability durability = Durability::ephemeral;
    std::string conversation_id;
    UserId user_id;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TypingStopped, conversation_id, user_id)

/// Amounts are integers in the currency's minor unit (cents), never floating point.
struct PaymentReceived {
    static constexpr std::string_view type_name = "PaymentReceived";
    std::string payment_id;
    UserId from;
    std::int64_t amount_minor = 0;
    std::string currency;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PaymentReceived, payment_id, from, amount_minor, currency)

struct PostLiked {
    static constexpr std::string_view type_name = "PostLiked";
    std::string post_id;
    UserId liked_by;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PostLiked, post_id, liked_by)

/// Sent to everyone connected when a user's first connection registers.
struct UserOnline {
    static constexpr std::string_view type_name = "UserOnline";
    static constexpr Durability durability = Durability::ephemeral;
    UserId user_id;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UserOnline, user_id)

/// Sent to everyone connected when a user's last connection goes away.
struct UserOffline {
    static constexpr std::string_view type_name = "UserOffline";
    static constexpr Durability durability = Durability::ephemeral;
    UserId user_id;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UserOffline, user_id)

/// Presence changes of one interval, under the coalesced presence mode: who came online and
/// who went offline. A user who did both within the interval appears in neither.
struct PresenceDiff {
    static constexpr std::string_view type_name = "PresenceDiff";
    static constexpr Durability durability = Durability::ephemeral;
    std::vector<UserId> joins;
    std::vector<UserId> leaves;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PresenceDiff, joins, leaves)

/// The answer to a bad inbound message; `code` is one of `errc` or a host's own.
struct Error {
    static constexpr std::string_view type_name = "Error";
    static constexpr Durability durability = Durability::ephemeral;
    std::string code;
    std::string message;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Error, code, message)

} // namespace switchboard
