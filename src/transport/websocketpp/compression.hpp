// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: permessage-deflate (RFC 7692) on its connections, with
// the components of deflate_negotiation.hpp, deflate.hpp, inflate.hpp and deflate_extension.hpp.
//
// - Negotiation, in the validate handler: on the raw Sec-WebSocket-Extensions header (websocketpp's
//   own is off in config.hpp: it answers 400 to a header it cannot parse). An agreement enables the
//   connection's extension, with the transport's max_message_size for what it inflates, and records
//   the window in the connection's state, which sending threads read (it is set before the
//   connection is registered, and never changes).
// - A frame prepared for many recipients carries `CompressedVariants`: its deflated payload, made on
//   the first demand of a connection that negotiated the extension (once per distinct window) and
//   shared by every such connection; the others get the plain frame.
// - A direct send deflates on the sending thread, with its stream.
// Messages under the threshold, or that do not shrink, go out plain to everyone. websocketpp never
// compresses on its own: the transport's sends are of prepared frames or by way of its
// `send(void const*, ...)`, which leaves a message uncompressed. Control frames are never compressed.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <websocketpp/connection.hpp>
#include <websocketpp/frame.hpp>

#include <switchboard/event.hpp>
#include <switchboard/transport/compression.hpp>
#include <switchboard/transport/websocketpp.hpp>

#include "deflate.hpp"
#include "deflate_access.hpp"
#include "deflate_extension.hpp"
#include "deflate_negotiation.hpp"

namespace switchboard::websocketpp_transport {

/// Compressed traffic, for `metrics()`. Relaxed atomics: any thread.
struct CompressionCounters {
    std::atomic<std::uint64_t> messages_out{0}, wire_bytes_out{0}, message_bytes_out{0}, deflations{0},
        messages_in{0}, wire_bytes_in{0}, message_bytes_in{0};

    static void add(std::atomic<std::uint64_t>& counter, std::uint64_t amount) {
        counter.fetch_add(amount, std::memory_order_relaxed);
    }

    void report(WebsocketppTransport::Metrics& metrics) const {
        constexpr auto relaxed = std::memory_order_relaxed;
        metrics.compressed_out = {messages_out.load(relaxed), wire_bytes_out.load(relaxed),
                                  message_bytes_out.load(relaxed)};
        metrics.compressed_in = {messages_in.load(relaxed), wire_bytes_in.load(relaxed),
                                 message_bytes_in.load(relaxed)};
        metrics.deflations = deflations.load(relaxed);
    }
};

/// A server frame of one compressed message (RSV1 set), for any number of connections.
template <class Manager>
auto make_compressed_message(Manager& manager, const std::string& payload) {
    auto message = manager.get_message();
    detail::prepare_server_frame(message, websocketpp::frame::opcode::text, payload, /*compressed=*/true);
    return message;
}

/// A prepared frame's compressed messages, one per window, each made on first demand. Threads: one
/// at a time, the one delivering the frame (see `WebsocketppTransport::PreparedFrame`).
template <class Message>
class CompressedVariants {
public:
    using MessagePtr = std::shared_ptr<Message>;
    using ManagerPtr = typename Message::con_msg_man_ptr;

    /// `plain` is the frame prepared uncompressed: its payload is the message's text.
    CompressedVariants(const MessagePtr& plain, std::size_t threshold, ManagerPtr manager)
        : plain_(plain), deflate_(plain_->get_payload(), threshold), manager_(std::move(manager)) {}

    /// The compressed message for a connection with that window, or nullptr: the plain one goes.
    MessagePtr for_window(int window_bits, CompressionCounters& counters) {
        const int deflations = deflate_.deflations();
        const std::string* payload = deflate_.payload_for(window_bits);
        if (deflate_.deflations() != deflations) CompressionCounters::add(counters.deflations, 1);
        if (!payload) return nullptr;
        MessagePtr& message = messages_[static_cast<std::size_t>(window_bits - detail::min_window_bits)];
        if (!message) message = make_compressed_message(*manager_, *payload);
        return message;
    }

private:
    const MessagePtr plain_; ///< whose payload `deflate_` reads
    detail::SharedDeflate deflate_;
    const ManagerPtr manager_;
    std::array<MessagePtr, detail::max_window_bits - detail::min_window_bits + 1> messages_;
};

/// permessage-deflate for one endpoint, which owns it. Each function says where it runs; those
/// without a word run on any thread.
template <class ConfigType>
class Compression {
    using Connection = websocketpp::connection<ConfigType>;
    using Message = typename ConfigType::message_type;
    using MessagePtr = std::shared_ptr<Message>;
    using Variants = CompressedVariants<Message>;

public:
    using ManagerPtr = typename Message::con_msg_man_ptr;

    Compression(const CompressionOptions& options, std::size_t max_message_size, ManagerPtr manager)
        : options_(options), max_message_size_(max_message_size), manager_(std::move(manager)) {}

    /// In the validate handler, for an upgrade the transport accepts: agrees to the client's
    /// first acceptable offer, if compression is on, and answers it in the 101.
    void negotiate(Connection& con) {
        if (!options_.enabled) return;
        const auto agreement = detail::negotiate_deflate(con.get_request_header("Sec-WebSocket-Extensions"));
        auto* extension = agreement ? websocketpp_internals::deflate_extension_of(con) : nullptr;
        if (!extension) return;
        extension->enable(*agreement, max_message_size_);
        con.replace_header("Sec-WebSocket-Extensions", detail::deflate_response(*agreement));
        con.deflate_window_bits = static_cast<std::uint8_t>(agreement->server_window_bits);
        deflate_connections_.fetch_add(1, std::memory_order_relaxed);
    }

    /// Once for every accepted connection, when it is gone (websocketpp's close or fail handler).
    void forget(const Connection& con) {
        if (con.deflate_window_bits != 0) deflate_connections_.fetch_sub(1, std::memory_order_relaxed);
    }

    /// Connections that negotiated permessage-deflate and are not gone yet.
    std::size_t deflate_connections() const { return deflate_connections_.load(std::memory_order_relaxed); }

    /// What `prepare` attaches to a frame: its compressed variants, or nullptr if none can be or
    /// no connection would ask for them. A connection negotiating after the frame was prepared gets
    /// it plain, which RFC 7692 allows.
    std::shared_ptr<void> variants_of(const MessagePtr& plain, std::size_t size) const {
        if (!options_.enabled || size < options_.threshold || deflate_connections() == 0) return nullptr;
        return std::make_shared<Variants>(plain, options_.threshold, manager_);
    }

    /// The compressed message of a prepared frame for `con`, or nullptr: it gets the plain one.
    MessagePtr for_connection(const Connection& con, const WebsocketppTransport::PreparedFrame& frame) {
        if (con.deflate_window_bits == 0 || !frame.compressed_variants()) return nullptr;
        auto* variants = static_cast<Variants*>(frame.compressed_variants().get());
        return variants->for_window(con.deflate_window_bits, counters_);
    }

    /// A direct send's message for `con`, deflated on this thread, or nullptr: it goes plain.
    MessagePtr compress(const Connection& con, const Frame& frame) {
        std::string payload;
        if (con.deflate_window_bits == 0 ||
            !detail::deflate_message(frame.text(), con.deflate_window_bits, options_.threshold, payload))
            return nullptr;
        CompressionCounters::add(counters_.deflations, 1);
        return make_compressed_message(*manager_, payload);
    }

    /// A compressed message of `wire_bytes`, `size` bytes uncompressed, was sent.
    void count_sent(std::size_t wire_bytes, std::size_t size) {
        CompressionCounters::add(counters_.messages_out, 1);
        CompressionCounters::add(counters_.wire_bytes_out, wire_bytes);
        CompressionCounters::add(counters_.message_bytes_out, size);
    }

    /// On the connection's strand, for each message received.
    void count_received(Connection& con, const Message& message) {
        if (!message.get_compressed()) return;
        CompressionCounters::add(counters_.messages_in, 1);
        CompressionCounters::add(counters_.wire_bytes_in,
                                 websocketpp_internals::deflate_extension_of(con)->last_compressed_size());
        CompressionCounters::add(counters_.message_bytes_in, message.get_payload().size());
    }

    void report(WebsocketppTransport::Metrics& metrics) const { counters_.report(metrics); }

private:
    const CompressionOptions options_;
    const std::size_t max_message_size_;
    const ManagerPtr manager_;
    CompressionCounters counters_;
    std::atomic<std::size_t> deflate_connections_{0};
};

} // namespace switchboard::websocketpp_transport
