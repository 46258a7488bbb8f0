// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "upgrade_check.hpp"

#include <algorithm>

#include <switchboard/detail/text.hpp>

namespace switchboard::detail {
namespace {

std::string_view trim_whitespace(std::string_view text) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

bool is_base64_digit(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

} // namespace

bool has_token(std::string_view list, std::string_view token) {
    for (;;) {
        const std::size_t comma = list.find(',');
        if (iequals(trim_whitespace(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) return false;
        list.remove_prefix(comma + 1);
    }
}

// 16 bytes are 128 bits: 21 digits of 6 bits, a 22nd that carries the last 2 (its other 4 are zero:
// one of A, Q, g, w), then "==".
bool is_websocket_key(std::string_view key) {
    constexpr std::size_t digits = 22;
    return key.size() == digits + 2 && key.substr(digits) == "==" &&
           std::all_of(key.begin(), key.begin() + digits, is_base64_digit) &&
           std::string_view("AQgw").find(key[digits - 1]) != std::string_view::npos;
}

UpgradeFault upgrade_fault(const UpgradeHead& head) {
    if (!has_token(head.upgrade, "websocket")) return UpgradeFault::not_websocket;
    if (!has_token(head.connection, "upgrade")) return UpgradeFault::no_connection_upgrade;
    if (head.method != "GET") return UpgradeFault::not_get;
    if (head.http_version != "HTTP/1.1") return UpgradeFault::not_http_1_1;
    if (head.websocket_version != "13") return UpgradeFault::unsupported_version;
    if (head.websocket_key.empty()) return UpgradeFault::missing_key;
    if (!is_websocket_key(head.websocket_key)) return UpgradeFault::bad_key;
    return UpgradeFault::none;
}

std::optional<UpgradeRefusal> refusal_for(UpgradeFault fault) {
    using Refusal = UpgradeRefusal;
    switch (fault) {
    case UpgradeFault::none: break;
    case UpgradeFault::not_websocket:
        return Refusal{426, "expected a WebSocket upgrade (Upgrade: websocket)",
                       {{{"Upgrade", "websocket"}, {"Connection", "Upgrade"}}}};
    case UpgradeFault::no_connection_upgrade: return Refusal{400, "the Connection header lacks the upgrade token", {}};
    case UpgradeFault::not_get: return Refusal{405, "a WebSocket upgrade must be a GET request", {{{"Allow", "GET"}}}};
    case UpgradeFault::not_http_1_1: return Refusal{400, "a WebSocket upgrade must be HTTP/1.1", {}};
    case UpgradeFault::unsupported_version:
        return Refusal{426, "only WebSocket version 13 is supported", {{{"Sec-WebSocket-Version", "13"}}}};
    case UpgradeFault::missing_key: return Refusal{400, "missing Sec-WebSocket-Key", {}};
    case UpgradeFault::bad_key: return Refusal{400, "Sec-WebSocket-Key is not base64 of 16 bytes", {}};
    }
    return std::nullopt;
}

} // namespace switchboard::detail
