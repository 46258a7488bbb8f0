// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Inbound permessage-deflate (RFC 7692, section 7.2.2) with no per-connection state: every
// connection negotiated client_no_context_takeover, so each message inflates on its own.
//
// Threads: each thread that inflates owns one raw inflate stream with a 15-bit window, which reads
// a client's stream of any window size (thread_local, made on first use, reset before each
// message, freed when the thread ends); so inflate_message may be called from any thread at once.
// After a thread's first message it allocates nothing but the growth of the caller's `out`.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::detail {

/// How an inflation ended. The transport closes the connection on either failure: too_big with
/// 1009 (message too big, RFC 6455 7.4.1), corrupt with 1007 (invalid frame payload data: the frame
/// itself was well-formed and its RSV1 negotiated, it is its payload that is not the deflate data
/// its type says; 1002 is for violations of the framing, which this is not).
enum class InflateResult : std::uint8_t {
    ok,
    too_big, ///< the inflated message would exceed the given maximum: a decompression bomb
    corrupt, ///< not valid raw deflate data, cut short inside a block, or data after the final block
};

/// Inflates one message's payload (as received: RFC 7692's 00 00 ff ff tail stripped, and appended
/// here) and appends it to `out`, so long as `out` stays within `max_size` bytes: a bomb stops as
/// soon as it exceeds the limit, having inflated at most one byte more than it. On failure `out` is
/// left as it was.
InflateResult inflate_message(std::string_view payload, std::size_t max_size, std::string& out);

} // namespace switchboard::detail
