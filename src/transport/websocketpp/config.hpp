// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: its websocketpp configurations, one per threading model
// and socket type, and where a connection's handlers run in each (`Strands`).
//
// Two threading models, chosen at construction (endpoint.hpp):
// - Several I/O threads, or a host's io_context (whose threads we cannot count): websocketpp's
//   multi-threaded configuration, where each connection has a strand and every send takes its
//   mutexes; any thread may call into websocketpp.
// - One I/O thread of our own (the default): websocketpp's single-threaded configuration, with no
//   mutex and no strand. Only that thread calls into websocketpp: what other threads ask (a send,
//   a close) is posted to it. The handlers the manager runs and its timers are on the I/O thread,
//   so broadcasts call websocketpp directly, unless sends posted to that connection are still
//   waiting: then they are posted behind them, so that they do not overtake them. At fan-out
//   saturation this model delivered 1.17 times as much (bench/load/ab.sh, medians of 5).
// Below and in the other files here, a connection's "strand" is its websocketpp strand in the
// first model and the I/O thread in the second: where its handlers run, one at a time.

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <websocketpp/concurrency/basic.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio.hpp>

#include "batching_connection.hpp"
#include "checked_request.hpp"
#include "connection_state.hpp"
#include "deflate_extension.hpp"

namespace switchboard::websocketpp_transport {

template <class Base, bool Multithreaded>
struct Config : Base {
    using type = Config;
    using concurrency_type = std::conditional_t<Multithreaded, websocketpp::concurrency::basic,
                                                websocketpp::concurrency::none>;
    using elog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;
    using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
    static const bool enable_multithreading = Multithreaded;
    static constexpr bool secure = std::is_same_v<Base, websocketpp::config::asio_tls>;
    using request_type = CheckedRequest;

    struct transport_config : Base::transport_config {
        using concurrency_type = Config::concurrency_type;
        using elog_type = Config::elog_type;
        using alog_type = Config::alog_type;
        static const bool enable_multithreading = Multithreaded;
        /// The connection built on this transport's (see `detail::BatchingConnection`).
        using connection_type = websocketpp::connection<Config>;
        /// A TLS peer that never sends close_notify would otherwise keep a closed connection, and
        /// its user's presence, for websocketpp's default 5 s.
        static const long timeout_socket_shutdown = 1000;
    };
    using transport_type = detail::BatchingEndpoint<transport_config>;
    using connection_base = ConnectionState;
    /// permessage-deflate is the transport's (compression.hpp): websocketpp's own negotiation would
    /// answer 400 to a header it cannot parse, and collapses a repeated parameter.
    static const bool enable_extensions = false;
    using permessage_deflate_type = detail::DeflateExtension<Config>;
    static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
    static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
    /// websocketpp embeds this buffer in every connection object (16 KiB by default), so every idle
    /// connection pays for it. A client message of up to 248 bytes of JSON (typing indicators, chats,
    /// the benchmark's broadcasts of 130) takes one read; a longer one, or an upgrade request (~500
    /// bytes with its token), is read in pieces, which websocketpp's parsers accumulate: one more
    /// read per 256 bytes. 128 bytes would save 128 per idle connection but read such messages in
    /// two: 256 delivers 1.09x as much at fan-out saturation (bench/load/ab.sh, medians of 7).
    static const std::size_t connection_read_buffer_size = 256;
};

template <bool Multithreaded>
using PlainConfig = Config<websocketpp::config::asio, Multithreaded>;
template <bool Multithreaded>
using TlsConfig = Config<websocketpp::config::asio_tls, Multithreaded>;

/// What websocketpp's `get_con_from_hdl` does, without copying the handle (it takes it by value):
/// two atomic reference-count updates fewer on every send.
template <class Connection>
std::shared_ptr<Connection> connection_of(const std::weak_ptr<void>& connection) {
    return std::static_pointer_cast<Connection>(connection.lock());
}

/// Where a connection's handlers run, and who may call websocketpp, in one threading model. A
/// reference to the endpoint's io_context: any thread.
template <bool Multithreaded>
class Strands {
public:
    explicit Strands(asio::io_context& io) : io_(&io) {}

    /// Multi-threaded, websocketpp guards itself; single-threaded, only its I/O thread may call it.
    bool may_call_websocketpp() const {
        if constexpr (Multithreaded)
            return true;
        else
            return io_->get_executor().running_in_this_thread();
    }

    /// Runs `work` where the connection's handlers run, after what is queued there.
    template <class ConnectionPtr, class Work>
    void post(const ConnectionPtr& con, Work&& work) const {
        if constexpr (Multithreaded)
            con->get_strand()->post(std::forward<Work>(work));
        else
            asio::post(*io_, std::forward<Work>(work));
    }

    asio::io_context& io() const { return *io_; }

private:
    asio::io_context* io_;
};

} // namespace switchboard::websocketpp_transport
