// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What the websocketpp transport checks of an HTTP request before websocketpp sees it as a
// WebSocket upgrade (RFC 6455, section 4.2.1), and how it answers one that fails. websocketpp 0.8.2
// would answer some of these itself, without a reason and not always with a 4xx: with no
// Sec-WebSocket-Version it takes the request for the old hybi-00 handshake and answers 500.
//
// Free of websocketpp, so that the upgrade-request fuzzer checks it too. Pure functions: any thread.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace switchboard::detail {

/// The parts of a request that make it a WebSocket upgrade; a header that is absent is empty.
struct UpgradeHead {
    std::string_view method;
    std::string_view http_version;        ///< e.g. "HTTP/1.1"
    std::string_view upgrade;             ///< the Upgrade header
    std::string_view connection;          ///< the Connection header
    std::string_view websocket_version;   ///< Sec-WebSocket-Version
    std::string_view websocket_key;       ///< Sec-WebSocket-Key
};

/// What is wrong with a request as a WebSocket upgrade: the first fault in this order.
enum class UpgradeFault : std::uint8_t {
    none,
    not_websocket,         ///< no `websocket` token in Upgrade: plain HTTP, no upgrade at all
    no_connection_upgrade, ///< no `upgrade` token in Connection
    not_get,
    not_http_1_1,
    unsupported_version,   ///< Sec-WebSocket-Version absent or not 13
    missing_key,
    bad_key,               ///< Sec-WebSocket-Key is not the base64 of 16 bytes
};

UpgradeFault upgrade_fault(const UpgradeHead& head);

/// Whether a comma-separated header value (Upgrade, Connection) holds `token`, ignoring case.
bool has_token(std::string_view list, std::string_view token);

/// Whether `key` is the base64 (RFC 4648, padded) of 16 bytes, as RFC 6455 asks of Sec-WebSocket-Key.
bool is_websocket_key(std::string_view key);

struct HeaderField {
    std::string_view name;
    std::string_view value;
};

/// The answer to a fault: a 4xx status, a short reason, and the headers that
/// status requires (426: what to upgrade to; 405: the method allowed); unused ones have no name.
struct UpgradeRefusal {
    int status;
    std::string_view reason;
    std::array<HeaderField, 2> headers;
};

/// Nothing for `UpgradeFault::none`.
std::optional<UpgradeRefusal> refusal_for(UpgradeFault fault);

} // namespace switchboard::detail
