// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Outbound permessage-deflate (RFC 7692, section 7.2.1) with no per-connection state: every
// connection negotiated server_no_context_takeover, so a message is deflated on its own, and the
// same compressed payload can go to every connection that negotiated the extension.
//
// Threads: each thread that deflates owns one zlib deflate stream per window size it has used
// (thread_local, made on first use, reset before each message, freed when the thread ends), so
// these functions may be called from any thread at once. After a thread's first message of a given
// window size they allocate nothing but the growth of the caller's `out`.
//
// Window sizes: a payload deflated with an N-bit window is readable by any client whose window is
// at least N bits, so one payload per distinct window size serves a broadcast (typically one:
// clients rarely ask for server_max_window_bits).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "deflate_negotiation.hpp"

namespace switchboard::detail {

/// Appends the message deflated alone (raw deflate, `window_bits`, flushed with Z_SYNC_FLUSH) to
/// `out`, without the final 00 00 ff ff that RFC 7692 strips, and returns true; or returns false
/// and leaves `out` as it was when the message should go out plain: empty, shorter than
/// `threshold`, or not shorter once deflated. `window_bits` is 9 to 15.
bool deflate_message(std::string_view message, int window_bits, std::size_t threshold, std::string& out);

/// Appends the message deflated alone, with the 00 00 ff ff tail, however long that is: what
/// websocketpp's processor asks of an extension once it has marked the frame compressed.
void deflate_message_with_tail(std::string_view message, int window_bits, std::string& out);

/// One outgoing message's compressed payloads, one per window size, each deflated on first demand
/// only: a broadcast asks it for each recipient that negotiated permessage-deflate, and deflates
/// once per distinct window (a payload of fewer bits serves a client that allows more).
///
/// Threads: one per message, used by the thread that prepares that message's frames; what it
/// returns stays valid as long as it lives.
class SharedDeflate {
public:
    SharedDeflate(std::string_view message, std::size_t threshold) : message_(message), threshold_(threshold) {}

    /// The payload for a connection that negotiated `window_bits`, or nullptr if the message goes
    /// out plain to it (and so to every connection: too short, or does not shrink).
    std::string const* payload_for(int window_bits);

    /// How many times this message was deflated (for tests and metrics).
    int deflations() const { return deflations_; }

private:
    struct Variant {
        bool tried = false;
        bool compressed = false;
        std::string payload;
    };

    std::string_view message_;
    std::size_t threshold_;
    std::array<Variant, max_window_bits - min_window_bits + 1> variants_;
    int deflations_ = 0;
};

} // namespace switchboard::detail
