// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <cstring>
#include <random>

#include <switchboard/detail/text.hpp>

namespace switchboard {
namespace detail {

constexpr std::size_t uuid_text_length = 36;

constexpr bool is_uuid_dash_position(std::size_t i) noexcept {
    return i == 8 || i == 13 || i == 18 || i == 23;
}

} // namespace detail

inline InvalidUserId::InvalidUserId(std::string_view text)
    : std::invalid_argument("invalid user id (expected a UUID such as "
                            "123e4567-e89b-12d3-a456-426614174000): \"" +
                            std::string(text.substr(0, 64)) + (text.size() > 64 ? "...\"" : "\"")) {}

inline std::optional<UserId> UserId::try_parse(std::string_view text) noexcept {
    if (text.size() != detail::uuid_text_length) return std::nullopt;
    Bytes bytes{};
    std::size_t nibble = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (detail::is_uuid_dash_position(i)) {
            if (text[i] != '-') return std::nullopt;
            continue;
        }
        const int value = detail::hex_value(text[i]);
        if (value < 0) return std::nullopt;
        bytes[nibble / 2] = static_cast<std::uint8_t>(bytes[nibble / 2] | (value << (nibble % 2 == 0 ? 4 : 0)));
        ++nibble;
    }
    return UserId(bytes);
}

inline UserId UserId::parse(std::string_view text) {
    if (auto id = try_parse(text)) return *id;
    throw InvalidUserId(text);
}

inline UserId UserId::random() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    Bytes bytes;
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
        const std::uint64_t word = engine();
        std::memcpy(bytes.data() + i, &word, 8);
    }
    bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40); // version 4
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
    return UserId(bytes);
}

inline std::string UserId::to_string() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text(detail::uuid_text_length, '-');
    std::size_t byte = 0;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        if (detail::is_uuid_dash_position(i)) ++i;
        text[i] = digits[bytes_[byte] >> 4];
        text[i + 1] = digits[bytes_[byte] & 0x0F];
        ++byte;
    }
    return text;
}

inline void to_json(nlohmann::json& j, const UserId& id) { j = id.to_string(); }

inline void from_json(const nlohmann::json& j, UserId& id) {
    id = UserId::parse(j.get_ref<const std::string&>());
}

} // namespace switchboard

inline std::size_t std::hash<switchboard::UserId>::operator()(const switchboard::UserId& id) const noexcept {
    // UUIDs are already well mixed (v4 is random); fold the two halves.
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::memcpy(&high, id.bytes().data(), 8);
    std::memcpy(&low, id.bytes().data() + 8, 8);
    return static_cast<std::size_t>(high ^ (low * 0x9E3779B97F4A7C15ULL));
}
