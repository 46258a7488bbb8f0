// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `UserId`: the identity of a user, a UUID in its canonical text form
/// (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits in either case).

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace switchboard {

/// Thrown by `UserId::parse` for text that is not a canonical UUID.
class InvalidUserId : public std::invalid_argument {
public:
    explicit InvalidUserId(std::string_view text);
};

/// A 128-bit UUID value. Cheap to copy, totally ordered, hashable.
/// Formatting always yields lower-case canonical text.
class UserId {
public:
    using Bytes = std::array<std::uint8_t, 16>;

    /// The nil UUID (all zero).
    constexpr UserId() noexcept = default;
    constexpr explicit UserId(const Bytes& bytes) noexcept : bytes_(bytes) {}

    /// Parses canonical text; throws `InvalidUserId` otherwise.
    static UserId parse(std::string_view text);
    /// Parses canonical text; `std::nullopt` otherwise.
    static std::optional<UserId> try_parse(std::string_view text) noexcept;
    /// A random version-4 UUID.
    static UserId random();

    std::string to_string() const;
    constexpr const Bytes& bytes() const noexcept { return bytes_; }
    bool is_nil() const noexcept { return bytes_ == Bytes{}; }

    // Two word comparisons, where `std::array`'s operators call memcmp: users are compared at
    // every lookup and sort of a send.
    friend bool operator==(const UserId& a, const UserId& b) noexcept {
        return a.word(0) == b.word(0) && a.word(1) == b.word(1);
    }
    friend bool operator!=(const UserId& a, const UserId& b) noexcept { return !(a == b); }
    friend bool operator<(const UserId& a, const UserId& b) noexcept {
        return a.word(0) != b.word(0) ? a.word(0) < b.word(0) : a.word(1) < b.word(1);
    }
    friend bool operator>(const UserId& a, const UserId& b) noexcept { return b < a; }
    friend bool operator<=(const UserId& a, const UserId& b) noexcept { return !(b < a); }
    friend bool operator>=(const UserId& a, const UserId& b) noexcept { return !(a < b); }

private:
    /// Bytes 8*half.. read as a big-endian number, so that words order as the bytes do.
    constexpr std::uint64_t word(std::size_t half) const noexcept {
        std::uint64_t value = 0;
        for (std::size_t i = 8 * half; i < 8 * half + 8; ++i) value = value << 8 | bytes_[i];
        return value;
    }

    Bytes bytes_{};
};

/// JSON form: the canonical string. `from_json` throws `InvalidUserId` on bad text
/// and `nlohmann::json::type_error` when the value is not a string.
void to_json(nlohmann::json& j, const UserId& id);
void from_json(const nlohmann::json& j, UserId& id);

} // namespace switchboard

template <>
struct std::hash<switchboard::UserId> {
    std::size_t operator()(const switchboard::UserId& id) const noexcept;
};

#include <switchboard/impl/user_id.ipp>
