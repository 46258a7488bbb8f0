// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `CompressionOptions`: WebSocket per-message compression (permessage-deflate, RFC 7692).
///
/// A connection compresses when its client offers permessage-deflate and compression is enabled.
/// The server always answers with `server_no_context_takeover` and `client_no_context_takeover`:
/// each message is deflated on its own, so a message for many recipients is deflated once and the
/// same compressed frame goes to every connection that negotiated the extension, and no zlib state
/// is kept per connection (each thread that deflates or inflates has its own streams). An inbound
/// message that inflates beyond the manager's `max_message_size` closes the connection with 1009;
/// corrupt compressed data with 1007. Control frames and empty messages are never compressed.
///
/// `WebsocketppOptions::compression` (switchboard/transport/websocketpp.hpp) takes it.
///
/// Threads: a plain value, copied by the transport when it starts.

#include <cstddef>

namespace switchboard {

struct CompressionOptions {
    /// Negotiate permessage-deflate with the clients that offer it.
    bool enabled = true;
    /// Messages shorter than this (in bytes) go out uncompressed: deflating them costs more than
    /// the few bytes it saves. Messages that do not shrink go out uncompressed too.
    std::size_t threshold = 256;
};

} // namespace switchboard
