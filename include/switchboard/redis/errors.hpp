// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The errors a `redis::Connection` reports through `std::error_code` (category "switchboard.redis").
/// A reply Redis itself sends as an error (`-ERR ...`) is not one of them: it arrives as a `Reply`
/// of type `error`.

#include <system_error>

namespace switchboard::redis {

enum class Errc {
    not_connected = 1, ///< no connection to Redis right now: the command was not sent (fail fast)
    timed_out,         ///< no reply within `command_timeout`: the connection is torn down and made again
    connection_lost,   ///< the connection ended before the reply came
    connect_failed,    ///< a connection attempt failed or took longer than `connect_timeout`
    liveness_lost,     ///< nothing heard for a liveness interval after a probe: the link is presumed dead
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), error_category()}; }

} // namespace switchboard::redis

template <>
struct std::is_error_code_enum<switchboard::redis::Errc> : std::true_type {};
