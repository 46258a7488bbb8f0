// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// Where a client is in its user's event stream: `Epoch` (which numbering of the stream) and
/// `StreamPosition` (epoch plus the offset of the last event processed), written
/// `<epoch>:<offset>` in the upgrade's `resume` query parameter. Value types: any thread.

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace switchboard {

/// 128 random bits naming one numbering of a stream, written as 32 lower-case hex digits. A store
/// gives a stream a new epoch whenever it may have lost the stream's top (its last offset), so that
/// offsets are never reused within an epoch.
class Epoch {
public:
    static constexpr std::size_t text_size = 32;

    /// The zero epoch: no stream has it.
    constexpr Epoch() noexcept = default;

    /// 128 bits from a per-thread engine seeded with 256 bits of `std::random_device`: epochs must
    /// differ, across threads and processes (a restarted one too), not be secret. Drawing from
    /// the device each time cost a quarter of a node's CPU (RDRAND in a VM, or a system call).
    static Epoch random() {
        thread_local std::mt19937_64 engine = seeded_engine();
        Epoch epoch;
        for (std::uint64_t& half : epoch.bits_) half = engine();
        return epoch;
    }

    /// Exactly 32 lower-case hex digits, as `to_string` writes them; `std::nullopt` otherwise.
    static std::optional<Epoch> try_parse(std::string_view text) noexcept {
        if (text.size() != text_size) return std::nullopt;
        Epoch epoch;
        for (std::size_t i = 0; i < text_size; ++i) {
            const char c = text[i];
            const bool decimal = c >= '0' && c <= '9';
            if (!decimal && !(c >= 'a' && c <= 'f')) return std::nullopt;
            std::uint64_t& half = epoch.bits_[i / 16];
            half = (half << 4) | static_cast<std::uint64_t>(decimal ? c - '0' : c - 'a' + 10);
        }
        return epoch;
    }

    std::string to_string() const {
        constexpr char digits[] = "0123456789abcdef";
        std::string text(text_size, '0');
        for (std::size_t i = 0; i < text_size; ++i)
            text[i] = digits[(bits_[i / 16] >> (60 - 4 * (i % 16))) & 0xF];
        return text;
    }

    friend bool operator==(const Epoch& a, const Epoch& b) noexcept { return a.bits_ == b.bits_; }
    friend bool operator!=(const Epoch& a, const Epoch& b) noexcept { return !(a == b); }

private:
    static std::mt19937_64 seeded_engine() {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }

    std::array<std::uint64_t, 2> bits_{};
};

struct ParsedPosition;

/// A place in a user's stream: the epoch and the offset of the last event processed (0: none yet).
/// Offsets start at 1 and are contiguous within an epoch.
struct StreamPosition {
    Epoch epoch;
    std::uint64_t offset = 0;

    /// `<epoch>:<offset>`, as `parse` reads it.
    std::string to_string() const { return epoch.to_string() + ':' + std::to_string(offset); }

    friend bool operator==(const StreamPosition& a, const StreamPosition& b) noexcept {
        return a.epoch == b.epoch && a.offset == b.offset;
    }
    friend bool operator!=(const StreamPosition& a, const StreamPosition& b) noexcept { return !(a == b); }

    /// Reads `<epoch>:<offset>`: the epoch as `Epoch::try_parse` reads it, the offset in decimal,
    /// from 0 to 2^64 - 1, without sign or leading zeros. Nothing else is accepted, so that every
    /// position has one spelling.
    static ParsedPosition parse(std::string_view text) noexcept;
};

/// What `StreamPosition::parse` made of a text: a position, or why the text is not one.
struct ParsedPosition {
    std::optional<StreamPosition> position;
    std::string_view error; ///< a fixed sentence; empty when `position` is set
    explicit operator bool() const noexcept { return position.has_value(); }
};

namespace detail {

inline std::optional<std::uint64_t> parse_offset(std::string_view digits) noexcept {
    constexpr std::uint64_t max = ~std::uint64_t{0};
    if (digits.empty() || (digits[0] == '0' && digits.size() > 1)) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (max - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

} // namespace detail

inline ParsedPosition StreamPosition::parse(std::string_view text) noexcept {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) return {std::nullopt, "expected <epoch>:<offset>"};
    const std::optional<Epoch> epoch = Epoch::try_parse(text.substr(0, colon));
    if (!epoch) return {std::nullopt, "the epoch must be 32 lower-case hex digits"};
    const std::optional<std::uint64_t> offset = detail::parse_offset(text.substr(colon + 1));
    if (!offset)
        return {std::nullopt, "the offset must be a decimal number from 0 to 18446744073709551615, "
                              "without sign or leading zeros"};
    return {StreamPosition{*epoch, *offset}, {}};
}

} // namespace switchboard
