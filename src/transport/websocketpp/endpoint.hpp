// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: `Endpoint<Config>`, which serves plain or TLS connections
// in one threading model (config.hpp) and behind `WebsocketppTransport::Impl` (impl.hpp), so that
// no websocketpp type leaks out. It runs the I/O threads and wires websocketpp's handlers to its
// collaborators, one concern each: `Admission` (which upgrades pass, the connection limits),
// `Sender` (the send path), `Compression` (permessage-deflate), `DueTable`, `Ticker` and
// `HeartbeatDuties` (heartbeats and expiries, ticker_duties.hpp), http.hpp.
//
// Threads and ownership: websocketpp runs every handler of one connection on that connection's
// strand, so `ConnectionState` (stored inside each websocketpp connection) is touched only there,
// except its atomics, which other threads read. Each collaborator guards what it shares with a
// lock of its own, never held across a call into websocketpp or the listener.
//
// Registration: an accepted upgrade is registered with the listener before websocketpp writes its
// 101, so that every event sent after the client saw the 101 reaches it, whatever thread sends it.
// Until websocketpp reports the socket open, what is sent to the connection (and a close asked
// for) is held in order, and then handed to websocketpp before anything sent later.
//
// websocketpp follows a validated upgrade with the open handler or the fail handler, and an
// opened connection with the close handler: `on_gone` gives its slot back, and tells the listener
// the connection is closed, whether it opened or not.
//
// Memory: an idle connection costs what websocketpp allocates for it (its connection object with
// the read buffer of config.hpp, its send queue, what it keeps of the upgrade) plus a few dozen
// bytes here.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <websocketpp/server.hpp>

#include <switchboard/detail/dispatch_queue.hpp>
#include <switchboard/detail/heap_trim.hpp>

#include "admission.hpp"
#include "compression.hpp"
#include "config.hpp"
#include "counters.hpp"
#include "http.hpp"
#include "impl.hpp"
#include "released_upgrade.hpp"
#include "sender.hpp"
#include "ticker_duties.hpp"
#include "timers.hpp"

namespace switchboard::websocketpp_transport {

using handle_type = WebsocketppTransport::handle_type;

/// A server's TLS context on `tls`'s files; throws `std::runtime_error` if they cannot be loaded.
std::shared_ptr<asio::ssl::context> make_tls_context(const TlsOptions& tls);

template <class ConfigType>
class Endpoint final : public WebsocketppTransport::Impl {
    using Server = websocketpp::server<ConfigType>;
    using ConnectionPtr = typename Server::connection_ptr;
    using MessagePtr = typename Server::message_ptr;
    using Connection = typename Server::connection_type;
    using Processor = websocketpp::processor::hybi13<ConfigType>;
    static constexpr bool secure = ConfigType::secure;
    static constexpr bool multithreaded = ConfigType::enable_multithreading;

public:
    Endpoint(asio::io_context* host_io, WebsocketppOptions options)
        : options_(std::move(options)),
          owns_io_(host_io == nullptr),
          // With one thread, the hint lets it post to its own context without taking a lock.
          own_io_(owns_io_ ? std::make_unique<asio::io_context>(static_cast<int>(io_threads())) : nullptr),
          io_(owns_io_ ? *own_io_ : *host_io),
          admission_(options_),
          framer_(secure, /*p_is_server=*/true, message_manager_, rng_) {
        server_.clear_access_channels(websocketpp::log::alevel::all);
        server_.clear_error_channels(websocketpp::log::elevel::all);
        // No Server header: each connection would keep a copy of the name and the header.
        server_.set_user_agent("");
        server_.init_asio(&io_);
        configure_limits();
        install_handlers();
        if constexpr (secure) install_tls();
    }

    ~Endpoint() override { shutdown(); }

    void start() override {
        std::error_code error;
        server_.set_reuse_addr(true);
        const asio::ip::tcp::endpoint address(asio::ip::make_address(options_.bind_address, error), options_.port);
        if (!error) server_.listen(address, error);
        if (!error) server_.start_accept(error);
        if (!error) port_ = server_.get_local_endpoint(error).port();
        if (error)
            throw std::system_error(error, "cannot listen on " + options_.bind_address + ":" +
                                               std::to_string(options_.port));
        ticker_.emplace(server_.get_io_service(), heartbeats_.periods().tick(), [this] { on_tick(); });
        ticker_->start();
        if (owns_io_)
            for (std::size_t i = 0; i < io_threads(); ++i)
                threads_.emplace_back([this] {
                    if constexpr (!multithreaded) detail::DispatchQueue::current() = &dispatch_queue_;
                    websocketpp_internals::GrownWriteStorage::current() = &sender_.grown_write_storage();
                    server_.run();
                });
    }

    std::uint16_t port() const override { return port_; }

    /// Upgrades arriving meanwhile are refused (503): `stopping_` is set first.
    void shutdown() override {
        if (stopping_.exchange(true)) return;
        if (port_ != 0) {
            if (TransportListener<handle_type>* listener = listener_) listener->on_shutdown();
            for (const handle_type& connection : due_table_.connections())
                close(connection, CloseCode::going_away, "server shutting down");
            // Until every connection that took a slot is gone: the open ones closing, and upgrades
            // in flight, which `on_open` closes since `stopping_` is set.
            admission_.wait_until_all_released(Clock::now() + options_.shutdown_deadline);
        }
        if (owns_io_) {
            server_.stop();
            for (std::thread& thread : threads_) thread.join();
            threads_.clear();
        }
        if (port_ != 0) stop_listening(server_, *ticker_, owns_io_, options_.shutdown_deadline);
    }

    void set_http_handler(HttpHandler handler) override { http_handler_ = std::move(handler); }

    asio::any_io_executor executor() override { return io_.get_executor(); }

    bool send(const handle_type& connection, const Frame& frame) override {
        const ConnectionPtr con = connection_of<Connection>(connection);
        if (!con) return false;
        if (MessagePtr compressed = compression_.compress(*con, frame))
            return send_compressed(con, std::move(compressed), frame.size(), /*max_backlog=*/0) == SendStatus::sent;
        return sender_.send(con, frame.size(), /*max_backlog=*/0, frame) == SendStatus::sent;
    }

    WebsocketppTransport::PreparedFrame prepare(const Frame& frame) override {
        MessagePtr in = message_manager_->get_message(websocketpp::frame::opcode::text, frame.size());
        in->append_payload(frame.text().data(), frame.size());
        MessagePtr out = message_manager_->get_message();
        // A server-role hybi13 processor without extensions is stateless while framing: sharing it is safe.
        if (framer_.prepare_data_frame(in, out)) return WebsocketppTransport::PreparedFrame(nullptr, 0);
        std::shared_ptr<void> compressed = compression_.variants_of(out, frame.size());
        return WebsocketppTransport::PreparedFrame(std::move(out), frame.size(), std::move(compressed));
    }

    /// The per-recipient path of every delivery: one handle look-up for the backlog and the send.
    SendStatus try_send(const handle_type& connection, const WebsocketppTransport::PreparedFrame& frame,
                        std::size_t max_backlog) override {
        const ConnectionPtr con = connection_of<Connection>(connection);
        if (!frame.message() || !con) return SendStatus::failed;
        if (MessagePtr compressed = compression_.for_connection(*con, frame))
            return send_compressed(con, std::move(compressed), frame.payload_size(), max_backlog);
        return sender_.send(con, frame.payload_size(), max_backlog, frame.message());
    }

    void close(const handle_type& connection, CloseCode code, std::string_view reason) override {
        if (const ConnectionPtr con = connection_of<Connection>(connection)) sender_.close(con, code, reason);
    }

    bool is_open(const handle_type& connection) const override {
        const ConnectionPtr con = connection_of<Connection>(connection);
        return con && con->open;
    }

    std::size_t queued_bytes(const handle_type& connection) const override {
        const ConnectionPtr con = connection_of<Connection>(connection);
        return con ? Sender<ConfigType>::queued_bytes(*con) : 0;
    }

    void set_listener(TransportListener<handle_type>* listener) override { listener_ = listener; }

    std::size_t connection_count() const override { return admission_.open_count(); }

    WebsocketppTransport::Metrics metrics() const override {
        WebsocketppTransport::Metrics metrics;
        admission_.report(metrics);
        counters_.report(metrics);
        compression_.report(metrics);
        return metrics;
    }

private:
    void configure_limits() {
        server_.set_max_message_size(options_.max_message_size);
        server_.set_max_http_body_size(options_.max_http_body_size);
        server_.set_open_handshake_timeout(static_cast<long>(options_.handshake_timeout.count()));
        server_.set_close_handshake_timeout(static_cast<long>(options_.handshake_timeout.count()));
    }

    void install_handlers() {
        // Unless told otherwise, small frames leave at once: Nagle's algorithm would hold them for
        // the peer's delayed ACK (~40 ms).
        if (options_.tcp_no_delay)
            server_.set_tcp_post_init_handler([](handle_type h) {
                std::error_code ignored;
                if (const ConnectionPtr con = connection_of<Connection>(h))
                    con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
            });
        server_.set_validate_handler([this](handle_type h) { return on_validate(h); });
        server_.set_http_handler([this](handle_type h) { on_http(h); });
        server_.set_open_handler([this](handle_type h) { on_open(h); });
        server_.set_message_handler([this](handle_type h, MessagePtr message) { on_message(h, message); });
        server_.set_close_handler([this](handle_type h) { on_gone(h); });
        server_.set_fail_handler([this](handle_type h) { on_gone(h); });
        // The pong timeout is ours (see on_due): websocketpp's would keep a timer per connection.
        server_.set_pong_handler([](handle_type h, const std::string&) {
            if (const ConnectionPtr con = connection_of<Connection>(h)) con->heartbeat.awaiting_pong = false;
        });
    }

    void install_tls() {
        auto context = make_tls_context(*options_.tls);
        server_.set_tls_init_handler([context](handle_type) { return context; });
    }

    // --- Upgrade and plain HTTP -----------------------------------------------------------------

    /// Only well-formed upgrades get here (see CheckedRequest). Admission takes a slot; the Auth
    /// policy (which may reserve more) runs last.
    bool on_validate(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        const UpgradeRequest request = upgrade_request(*con);
        TransportListener<handle_type>* listener = listener_;
        if (const auto refusal = admission_.admit(request, listener && !stopping_, con->slot)) {
            write_refusal(*con, *refusal);
            return false;
        }
        AuthResult verdict = listener->on_upgrade(request);
        if (!verdict) {
            admission_.release(con->slot, /*was_open=*/false);
            const AuthFailure& failure = verdict.failure();
            detail::UpgradeRefusal refusal{failure.status, failure.reason, {}};
            if (failure.status == 401) refusal.headers[0] = {"WWW-Authenticate", "Bearer"};
            write_refusal(*con, refusal);
            return false;
        }
        compression_.negotiate(*con);
        register_accepted(connection, *con, *listener, verdict.identity());
        return true;
    }

    /// Before websocketpp writes the 101: from now on the listener may send to the connection, and
    /// what it sends is held until websocketpp opens it (`Sender::release_held`).
    void register_accepted(const handle_type& connection, Connection& con, TransportListener<handle_type>& listener,
                           Identity identity) {
        const auto& expires_at = identity.expires_at;
        if (expires_at && options_.close_on_credential_expiry)
            con.heartbeat.expires = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                       *expires_at - std::chrono::system_clock::now());
        Sender<ConfigType>::hold_until_open(con);
        con.open = true;
        con.id = listener.on_open(connection, std::move(identity));
    }

    /// A malformed upgrade, or a request to the WebSocket endpoint that is no upgrade, is refused
    /// here; the host's handler answers the rest.
    void on_http(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        HttpRequest request = http_request(*con);
        if (const auto refusal = admission_.refuse_malformed(con->get_request().upgrade_fault(), request.path))
            return write_refusal(*con, *refusal);
        write_response(*con, answer(http_handler_, request));
    }

    // --- Open connections --------------------------------------------------------------------------

    /// The 101 is written. When stopping (`shutdown` closes the connections open before it), this
    /// one closes too, after what was sent to it before: held, or posted and still waiting.
    void on_open(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        const bool stopping = !listener_ || stopping_;
        if (!stopping) start_serving(connection, *con);
        released_upgrade_.release(*con);
        Sender<ConfigType>::release_held(*con);
        if (stopping) close(connection, CloseCode::going_away, "server shutting down");
    }

    /// Into the table of open connections, whose ticks serve its heartbeat and expiry.
    void start_serving(const handle_type& connection, Connection& con) {
        if (options_.ping_interval.count() > 0) con.heartbeat.next_ping = Clock::now() + options_.ping_interval;
        con.entry = due_table_.enter(connection, con.heartbeat.due());
        admission_.opened();
    }

    void on_message(const handle_type& connection, const MessagePtr& message) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        TransportListener<handle_type>* listener = listener_;
        if (!listener || con->reported_closed) return;
        compression_.count_received(*con, *message);
        if (detail::is_invalid_compressed_text(message)) return drop(con, CloseCode::invalid_payload, "invalid UTF-8");
        const bool binary = message->get_opcode() == websocketpp::frame::opcode::binary;
        listener->on_message(con->id, message->get_payload(), binary ? MessageKind::binary : MessageKind::text);
    }

    /// Close handshake done, or the connection failed (before or after opening, or refused).
    void on_gone(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        con->open = false;
        if (con->get_local_close_code() == websocketpp::close::status::message_too_big)
            ConnectionCounters::count(counters_.oversized_messages);
        if (con->id && con->entry == no_entry) ConnectionCounters::count(counters_.upgrades_abandoned);
        if (con->entry != no_entry)
            counters_.count_close(con->sent_close_code ? con->sent_close_code : con->get_local_close_code());
        compression_.forget(*con);
        // The listener hears of it first: once the last slot is back, shutdown() may return.
        report_closed(*con);
        const bool was_open = due_table_.leave(con->entry);
        admission_.release(con->slot, was_open);
    }

    /// Tells the listener once that the connection is gone; it may still be closing.
    void report_closed(ConnectionState& state) {
        if (!state.id || state.reported_closed) return;
        state.reported_closed = true;
        if (TransportListener<handle_type>* listener = listener_) listener->on_close(state.id);
    }

    /// A connection that is dead to us: report it now, close it (the handshake may time out).
    void drop(const ConnectionPtr& con, CloseCode code, std::string_view reason) {
        report_closed(*con);
        sender_.close(con, code, reason);
    }

    /// A compressed message of `size` bytes uncompressed; the backlog counts what goes on the wire.
    SendStatus send_compressed(const ConnectionPtr& con, MessagePtr message, std::size_t size, std::size_t max_backlog) {
        const std::size_t wire_bytes = message->get_payload().size();
        const SendStatus status = sender_.send(con, wire_bytes, max_backlog, std::shared_ptr<void>(std::move(message)));
        if (status == SendStatus::sent) compression_.count_sent(wire_bytes, size);
        return status;
    }

    // --- The ticker: heartbeats, pong timeouts, credential expiries (ticker_duties.hpp) -------------

    /// On the ticker's strand.
    void on_tick() {
        heartbeats_.post_due();
        bool released = sender_.released_grown_write_storage();
        if constexpr (!multithreaded) released |= dispatch_queue_.trim(); // the ticker's strand is the I/O thread
        heap_trim_.tick(released);
    }

    /// What `heartbeats_` does to a connection whose pong or credentials are overdue.
    struct Dropper {
        Endpoint* endpoint;
        void operator()(const ConnectionPtr& con, CloseCode code, std::string_view reason) const {
            endpoint->drop(con, code, reason);
        }
    };

    std::size_t io_threads() const { return std::max<std::size_t>(options_.threads, 1); }

    WebsocketppOptions options_;
    const bool owns_io_;
    const std::unique_ptr<asio::io_context> own_io_; ///< before `server_`, which uses it to the end
    asio::io_context& io_;
    const Strands<multithreaded> strands_{io_};
    detail::DispatchQueue dispatch_queue_{io_}; ///< used single-threaded only
    detail::HeapTrim heap_trim_; ///< on the ticker's strand
    Admission admission_;
    DueTable due_table_;
    Sender<ConfigType> sender_{strands_};
    Server server_;
    typename ConfigType::rng_type rng_;
    std::shared_ptr<typename ConfigType::con_msg_manager_type> message_manager_ =
        std::make_shared<typename ConfigType::con_msg_manager_type>();
    Processor framer_;
    Compression<ConfigType> compression_{options_.compression, options_.max_message_size, message_manager_};
    HttpHandler http_handler_;
    std::atomic<TransportListener<handle_type>*> listener_{nullptr};
    std::atomic<bool> stopping_{false};
    ConnectionCounters counters_;
    HeartbeatDuties<ConfigType, Dropper> heartbeats_{{options_.ping_interval, options_.pong_timeout}, due_table_, strands_,
                                                     counters_, Dropper{this}};
    std::uint16_t port_ = 0;
    std::vector<std::thread> threads_;
    std::optional<Ticker> ticker_; ///< once listening
    /// What open connections keep of their upgrades.
    const ReleasedUpgrade<ConfigType> released_upgrade_{secure, options_.bind_address, options_.websocket_path};
};

} // namespace switchboard::websocketpp_transport
