// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What RedisHistory's synchronous path (blocking links) and its asynchronous one
// (async_top_scripts.hpp) share: the scripts, a user's keys, the renewal's arguments and the
// reading of the scripts' replies, so that both decide alike.
//
// Threads: free functions over values; any thread.

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <switchboard/history.hpp>
#include <switchboard/redis/reply.hpp>

#include "history_scripts.hpp"
#include "unkept_users.hpp"

namespace switchboard::redis::detail {

enum HistoryScript : std::size_t { open_script, append_script, read_script, renew_script, history_script_count };

inline const std::array<const std::string*, history_script_count> history_script_bodies{
    &history_scripts::open, &history_scripts::append, &history_scripts::read, &history_scripts::renew};

inline std::string millis(std::chrono::milliseconds duration) { return std::to_string(duration.count()); }

/// `{meta key, stream key}` of `user`.
inline std::array<std::string, 2> history_keys(const std::string& prefix, const UserId& user) {
    const std::string stream = prefix + ":history:{" + user.to_string() + "}";
    return {stream + ":meta", stream};
}

/// The arguments of the renew script for `renewal`.
inline std::vector<std::string> renew_arguments(const UnkeptUsers::Renewal& renewal,
                                                std::chrono::milliseconds meta_ttl) {
    return {Epoch::random().to_string(), millis(meta_ttl), renewal.mark, renewal.force ? "1" : "0"};
}

/// Whether Redis refused a script by its digest: its cache is empty (a restart, a SCRIPT FLUSH).
inline bool is_noscript(const Reply& reply) {
    return reply.is_error() && std::string_view(reply.text).substr(0, 8) == "NOSCRIPT";
}

/// Whether the renew script renewed the stream; none for an error or a malformed reply.
inline std::optional<bool> renewed_of(const Reply& reply) {
    if (reply.type != Reply::Type::integer) return std::nullopt;
    return reply.integer == 1;
}

/// The top an open or append script returned (`created` if it made the stream); none for an
/// error or a malformed reply.
inline std::optional<StreamTop> top_of_script(const Reply& reply) {
    if (reply.type != Reply::Type::array || reply.elements.size() != 3) return std::nullopt;
    const std::optional<Epoch> epoch = Epoch::try_parse(reply.elements[0].text);
    if (!epoch || reply.elements[1].type != Reply::Type::integer || reply.elements[1].integer < 0) return std::nullopt;
    return StreamTop{{*epoch, static_cast<std::uint64_t>(reply.elements[1].integer)}, reply.elements[2].integer == 1};
}

} // namespace switchboard::redis::detail
