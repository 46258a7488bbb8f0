// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `ConnectionId`: names one registered connection for as long as the process lives.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace switchboard {

/// Stable identity of one connection. Ids come from one process-wide counter, so an id is
/// never reused, not even by another `ConnectionManager`. The default value names no connection.
class ConnectionId {
public:
    constexpr ConnectionId() noexcept = default;
    constexpr explicit ConnectionId(std::uint64_t value) noexcept : value_(value) {}

    /// The next unused id. Thread-safe.
    static ConnectionId next() noexcept {
        static std::atomic<std::uint64_t> counter{0};
        return ConnectionId(counter.fetch_add(1, std::memory_order_relaxed) + 1);
    }

    constexpr std::uint64_t value() const noexcept { return value_; }
    constexpr explicit operator bool() const noexcept { return value_ != 0; }
    std::string to_string() const { return std::to_string(value_); }

    friend constexpr bool operator==(ConnectionId a, ConnectionId b) noexcept { return a.value_ == b.value_; }
    friend constexpr bool operator!=(ConnectionId a, ConnectionId b) noexcept { return a.value_ != b.value_; }
    friend constexpr bool operator<(ConnectionId a, ConnectionId b) noexcept { return a.value_ < b.value_; }

private:
    std::uint64_t value_ = 0;
};

} // namespace switchboard

template <>
struct std::hash<switchboard::ConnectionId> {
    std::size_t operator()(switchboard::ConnectionId id) const noexcept {
        return std::hash<std::uint64_t>{}(id.value());
    }
};
