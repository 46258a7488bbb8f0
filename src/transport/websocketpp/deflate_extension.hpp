// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Switchboard's permessage-deflate for websocketpp 0.8.2: the type a websocketpp config names as
// `permessage_deflate_type`, which each connection's hybi13 processor holds and calls. Unlike
// websocketpp's own (`extensions::permessage_deflate::enabled`: a deflate and an inflate stream and
// two buffers per connection, about 150 KB once negotiated, and no limit on what it inflates), it
// keeps no zlib state: a flag, the negotiated window and the inflated-size limit. It deflates and
// inflates with the calling thread's streams (deflate.hpp, inflate.hpp), which the negotiated
// server_no_context_takeover and client_no_context_takeover make possible.
//
// Negotiation, two ways:
// - websocketpp's: with `enable_extensions` true in its config, the processor parses the header and
//   calls negotiate(offer) for each permessage-deflate offer, in order, until one is accepted, then
//   init(is_server). But it answers 400 itself to a header it cannot parse, and hands each offer
//   over as a std::map, which has already collapsed a repeated parameter into one.
// - the transport's (the one to use): with `enable_extensions` false websocketpp neither parses the
//   header nor calls negotiate(); the transport's validate handler runs negotiate_deflate() on the
//   raw header, and on an agreement calls enable() on the connection's extension (reached with
//   deflate_access.hpp) and writes deflate_response() into the answer itself. A bad header then
//   means no compression, never a refused upgrade; compression off means never calling enable().
//
// How the processor calls it (websocketpp/processors/hybi13.hpp):
// - compress(in, out) for each outgoing data message marked compressed (connection::send marks
//   every message): it must deflate, since the frame's RSV1 is already decided, and the processor
//   strips the 00 00 ff ff it appends. Messages under the threshold or that do not shrink are the
//   transport's to send as frames it prepares itself (prepare_server_frame below).
// - decompress(bytes, length, out) for each piece of a compressed message's payload as it reads
//   it (a frame's payload may come in several reads, a message in several frames), then once
//   more with the 00 00 ff ff tail when the message is complete. The pieces are kept until the
//   tail (one allocation per compressed message read, freed at its end; websocketpp allocates the
//   message itself anyway), and the whole message is then inflated at once with the thread's
//   stream: between two reads of one connection the thread serves others, and the next read may
//   run on another thread. So the inflated text is appended only by the final call, which websocketpp does not
//   pass to its UTF-8 validator: the transport checks with is_invalid_compressed_text() below.
//   An inflated message over the limit fails with processor::error::message_too_big (websocketpp
//   closes with 1009), corrupt data with processor::error::invalid_payload (1007, see inflate.hpp).
//
// Threads: one per connection, called by websocketpp under that connection's serialization (its
// strand, or the single I/O thread), except compress(), which runs on whichever thread sends: it
// only reads the window, fixed before the connection opens, and deflates with that thread's stream.
// enable(), limit_inflated_size() and decline() are for the transport's validate handler, before
// the connection opens.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include <websocketpp/common/system_error.hpp>
#include <websocketpp/extensions/extension.hpp>
#include <websocketpp/frame.hpp>
#include <websocketpp/http/constants.hpp>
#include <websocketpp/processors/base.hpp>
#include <websocketpp/utf8_validator.hpp>

#include <switchboard/detail/text.hpp>

#include "deflate.hpp"
#include "deflate_negotiation.hpp"
#include "inflate.hpp"

namespace switchboard::detail {

/// permessage-deflate for a websocketpp server whose config is `Config`: inflated messages are
/// limited to `Config::max_message_size` unless the transport sets another limit.
template <class Config>
class DeflateExtension {
public:
    using error_code = websocketpp::lib::error_code;

    /// Accepts one offer as accept_deflate_offer() does, and returns the answer header's value.
    std::pair<error_code, std::string> negotiate(websocketpp::http::attribute_list const& offer)
    {
        std::optional<DeflateAgreement> agreement = accept_deflate_offer(to_offer(offer));
        if (!agreement) return {extension_error(), {}};
        window_bits_ = static_cast<std::uint8_t>(agreement->server_window_bits);
        enabled_ = true;
        return {error_code(), deflate_response(*agreement)};
    }

    /// Server side only: a client would have to offer, and keep its own state.
    error_code init(bool is_server)
    {
        return is_server ? error_code() : extension_error();
    }

    bool is_implemented() const { return true; }
    bool is_enabled() const { return enabled_; }
    int window_bits() const { return window_bits_; }
    std::string generate_offer() const { return {}; }

    /// The compressed size of the message decompress() completed last, at most 4 GiB - 1 (for the
    /// transport's metrics).
    std::size_t last_compressed_size() const { return last_compressed_size_; }

    /// Turns compression on for an agreement the transport reached from the raw header, with the
    /// transport's limit for inflated messages (its max_message_size).
    void enable(DeflateAgreement const& agreement, std::size_t max_inflated)
    {
        window_bits_ = static_cast<std::uint8_t>(agreement.server_window_bits);
        max_inflated_ = max_inflated;
        enabled_ = true;
    }

    /// The transport's limit for this connection (its max_message_size), set before it opens.
    void limit_inflated_size(std::size_t bytes) { max_inflated_ = bytes; }

    /// Undoes the negotiation before the connection opens (the transport must then remove the
    /// answer's Sec-WebSocket-Extensions header too), e.g. when compression is off.
    void decline() { enabled_ = false; }

    error_code compress(std::string const& in, std::string& out)
    {
        try {
            deflate_message_with_tail(in, window_bits_, out);
            return error_code();
        } catch (std::exception const&) { // out stays shorter than a tail: the processor fails the send
            return extension_error();
        }
    }

    error_code decompress(std::uint8_t const* bytes, std::size_t length, std::string& out)
    {
        if (!is_tail(bytes, length)) {
            pending_.append(reinterpret_cast<char const*>(bytes), length);
            return error_code();
        }
        const InflateResult result = inflate_message(pending_, max_inflated_, out);
        last_compressed_size_ = static_cast<std::uint32_t>(std::min<std::size_t>(pending_.size(), UINT32_MAX));
        std::string().swap(pending_); // no memory kept between messages
        switch (result) {
        case InflateResult::ok: return error_code();
        case InflateResult::too_big: return make_processor_error(websocketpp::processor::error::message_too_big);
        case InflateResult::corrupt: break;
        }
        return make_processor_error(websocketpp::processor::error::invalid_payload);
    }

private:
    static ExtensionOffer to_offer(websocketpp::http::attribute_list const& attributes)
    {
        ExtensionOffer offer{"permessage-deflate", {}};
        for (auto const& [name, value] : attributes)
            offer.parameters.push_back({ascii_lowered(name), value.empty() ? std::nullopt : std::optional(value)});
        return offer;
    }

    // The processor's final call for a message. A piece of payload can only look like it if a
    // client flushed mid-message into a read of exactly these four bytes; the rest of that
    // message then inflates on a fresh stream, which either gives the same text (no reference
    // back across the flush) or fails as corrupt: never other text.
    static bool is_tail(std::uint8_t const* bytes, std::size_t length)
    {
        static constexpr std::uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};
        return length == sizeof tail && std::memcmp(bytes, tail, sizeof tail) == 0;
    }

    static error_code extension_error()
    {
        return websocketpp::extensions::error::make_error_code(websocketpp::extensions::error::general);
    }

    static error_code make_processor_error(websocketpp::processor::error::processor_errors error)
    {
        return websocketpp::processor::error::make_error_code(error);
    }

    std::string pending_; // the compressed pieces of the message being read; empty between messages
    std::size_t max_inflated_ = Config::max_message_size;
    std::uint32_t last_compressed_size_ = 0; // not a size_t: each connection's processor holds it
    std::uint8_t window_bits_ = max_window_bits;
    bool enabled_ = false;
};

/// Whether a received message is compressed text that is not UTF-8. websocketpp validates the text
/// that decompress() returns piece by piece, and this extension returns a message's text only from
/// its final call, which websocketpp does not validate: the transport's message handler checks
/// each message with this and closes with 1007 (RFC 6455, 8.1).
template <class MessagePtr>
bool is_invalid_compressed_text(MessagePtr const& message)
{
    return message->get_compressed() && message->get_opcode() == websocketpp::frame::opcode::text &&
           !websocketpp::utf8_validator::validate(message->get_payload());
}

/// Makes `message` a server's (unmasked) frame of one whole message, ready to send to any number
/// of connections: `payload` is the message's text, or, with `compressed`, its deflated payload
/// (RSV1 set) for the connections that negotiated permessage-deflate.
template <class MessagePtr>
void prepare_server_frame(MessagePtr const& message, websocketpp::frame::opcode::value opcode,
                          std::string const& payload, bool compressed)
{
    namespace frame = websocketpp::frame;
    frame::basic_header header(opcode, payload.size(), true, false, compressed);
    message->set_header(frame::prepare_header(header, frame::extended_header(payload.size())));
    message->set_payload(payload);
    message->set_prepared(true);
}

} // namespace switchboard::detail
