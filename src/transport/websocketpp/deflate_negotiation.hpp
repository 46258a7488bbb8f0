// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// permessage-deflate negotiation (RFC 7692, section 7.1) over the text of a client's
// Sec-WebSocket-Extensions header. The server accepts the first acceptable permessage-deflate
// offer and always answers with server_no_context_takeover and client_no_context_takeover, so that
// no deflate state outlives a message: one deflate per message can then serve every connection,
// and one inflate stream per thread every inbound message.
//
// Free of websocketpp and zlib. Pure functions: any thread. Nothing here throws on bad input: a
// header that is not well-formed, or offers nothing acceptable, means "no compression".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::detail {

/// One parameter of an extension offer: its name lower-cased, its value unquoted (none without '=').
struct ExtensionParameter {
    std::string name;
    std::optional<std::string> value;
};

/// One comma-separated element of the header: an extension name (lower-cased) and its parameters.
struct ExtensionOffer {
    std::string name;
    std::vector<ExtensionParameter> parameters;
};

/// The offers of a Sec-WebSocket-Extensions header (RFC 7230 list syntax: tokens, quoted strings,
/// optional whitespace, empty elements skipped), in order; nullopt if it is not well-formed.
std::optional<std::vector<ExtensionOffer>> parse_extension_offers(std::string_view header);

/// LZ77 window sizes the server deflates with. Raw deflate with 8 bits is not possible with zlib
/// (it silently uses 9, which a client that asked for 8 cannot read), so an offer asking for
/// server_max_window_bits=8 is declined.
inline constexpr int min_window_bits = 9;
inline constexpr int max_window_bits = 15;

/// What the server agreed to for one connection.
struct DeflateAgreement {
    /// The window the server deflates this connection's messages with.
    int server_window_bits = max_window_bits;
    /// The client asked for server_max_window_bits: the answer must name it (RFC 7692, 7.1.2.1).
    bool server_window_bits_requested = false;
};

/// The agreement for one permessage-deflate offer, or nullopt if the offer is unacceptable: another
/// extension, an unknown or repeated parameter, a value where none belongs, or a window value that
/// is not a decimal 8 to 15 without leading zeros (or is 8). client_max_window_bits, with or without
/// a value, is accepted and left out of the answer: the server inflates with a 15-bit window, which
/// reads any client's stream.
std::optional<DeflateAgreement> accept_deflate_offer(ExtensionOffer const& offer);

/// The agreement for the first acceptable permessage-deflate offer of a header, if any.
std::optional<DeflateAgreement> negotiate_deflate(std::string_view header);

/// The Sec-WebSocket-Extensions answer for an agreement, e.g.
/// "permessage-deflate; server_no_context_takeover; client_no_context_takeover".
std::string deflate_response(DeflateAgreement const& agreement);

} // namespace switchboard::detail
