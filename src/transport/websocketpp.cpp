// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The websocketpp transport. One `Endpoint<Config>` serves plain or TLS connections; the public
// class forwards to it through `WebsocketppTransport::Impl`, so no websocketpp type leaks out.
//
// Threads and ownership: websocketpp runs every handler of one connection on that connection's
// strand, so `ConnectionState` (stored inside each websocketpp connection) is touched only there,
// except its atomics, which other threads read. The set of open connections is guarded by
// `connections_mutex_`, never held across a call into websocketpp or the listener.

#include <switchboard/transport/websocketpp.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <unordered_map>

#include <sys/resource.h>

#include <nlohmann/json.hpp>
#include <websocketpp/config/asio.hpp>
#include <websocketpp/server.hpp>

#include <switchboard/detail/text.hpp>

namespace switchboard {
namespace {

using handle_type = WebsocketppTransport::handle_type;
using Clock = std::chrono::steady_clock;

/// Bytes sent between two readings of websocketpp's backlog figure.
constexpr std::size_t backlog_sample_step = 64 * 1024;

/// Per-connection state, stored inside each websocketpp connection (its `connection_base`).
/// Plain members belong to the connection's strand; atomics are shared with sending threads.
struct ConnectionState {
    std::optional<Identity> identity; ///< from the upgrade until the open
    std::string address;              ///< remote IP, for the per-address limit
    ConnectionId id;                  ///< once the listener registered it
    bool reported_closed = false;
    bool awaiting_pong = false; ///< websocketpp's pong timer restarts on every ping: one ping at a time
    std::shared_ptr<asio::steady_timer> heartbeat_timer;
    std::shared_ptr<asio::steady_timer> expiry_timer;
    std::atomic<bool> open{false};

    // Backlog: websocketpp's own figure is read on the strand only; senders add what they send
    // since, so that `backlog()` errs high between readings.
    std::atomic<std::size_t> sent{0};
    std::atomic<std::size_t> sent_at_sample{0};
    std::atomic<std::size_t> backlog_at_sample{0};
    std::atomic<bool> sample_pending{false};

    std::size_t backlog() const {
        return backlog_at_sample.load(std::memory_order_relaxed) + sent.load(std::memory_order_relaxed) -
               sent_at_sample.load(std::memory_order_relaxed);
    }
};

template <class Base>
struct Config : Base {
    using type = Config;
    struct transport_config : Base::transport_config {
        /// A TLS peer that never sends close_notify would otherwise keep a closed connection, and
        /// its user's presence, for websocketpp's default 5 s.
        static const long timeout_socket_shutdown = 1000;
    };
    using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
    using connection_base = ConnectionState;
    static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
    static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
    /// websocketpp embeds this buffer in every connection object (16 KiB by default). Clients
    /// send small messages; a larger one is read in several pieces.
    static const std::size_t connection_read_buffer_size = 2048;
};

using PlainConfig = Config<websocketpp::config::asio>;
using TlsConfig = Config<websocketpp::config::asio_tls>;

std::pair<std::string, std::string> split_resource(const std::string& resource) {
    const std::size_t question = resource.find('?');
    if (question == std::string::npos) return {resource, {}};
    return {resource.substr(0, question), resource.substr(question + 1)};
}

std::string error_body(std::string_view error, std::string_view reason) {
    return nlohmann::json{{"error", error}, {"reason", reason}}.dump();
}

/// The IP of websocketpp's "ip:port" or "[ipv6]:port".
std::string address_of(const std::string& endpoint) {
    const std::size_t colon = endpoint.rfind(':');
    std::string address = endpoint.substr(0, colon);
    if (address.size() >= 2 && address.front() == '[') address = address.substr(1, address.size() - 2);
    return address;
}

std::size_t default_max_connections() {
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) return 1'000'000;
    return files.rlim_cur > 128 ? static_cast<std::size_t>(files.rlim_cur) - 64 : 64;
}

std::shared_ptr<asio::ssl::context> make_tls_context(const TlsOptions& tls) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    std::error_code error;
    context->use_certificate_chain_file(tls.certificate_chain_file, error);
    if (!error) context->use_private_key_file(tls.private_key_file, asio::ssl::context::pem, error);
    if (error) throw std::runtime_error("cannot load TLS certificate or key: " + error.message());
    return context;
}

} // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (detail::iequals(key, name)) return std::string_view(value);
    return std::nullopt;
}

/// What the public class needs from an endpoint, whatever its configuration.
class WebsocketppTransport::Impl {
public:
    virtual ~Impl() = default;
    virtual void start() = 0;
    virtual std::uint16_t port() const = 0;
    virtual void shutdown() = 0;
    virtual void set_http_handler(HttpHandler handler) = 0;
    virtual asio::any_io_executor executor() = 0;
    virtual bool send(const handle_type& connection, const Frame& frame) = 0;
    virtual PreparedFrame prepare(const Frame& frame) = 0;
    virtual SendStatus try_send(const handle_type& connection, const PreparedFrame& frame,
                                std::size_t max_backlog) = 0;
    virtual void close(const handle_type& connection, CloseCode code, std::string_view reason) = 0;
    virtual bool is_open(const handle_type& connection) const = 0;
    virtual std::size_t queued_bytes(const handle_type& connection) const = 0;
    virtual void set_listener(TransportListener<handle_type>* listener) = 0;
    virtual std::size_t connection_count() const = 0;
    virtual Metrics metrics() const = 0;
};

namespace {

template <class ConfigType>
class Endpoint final : public WebsocketppTransport::Impl {
    using Server = websocketpp::server<ConfigType>;
    using ConnectionPtr = typename Server::connection_ptr;
    using MessagePtr = typename Server::message_ptr;
    using Processor = websocketpp::processor::hybi13<ConfigType>;
    static constexpr bool secure = std::is_same_v<ConfigType, TlsConfig>;

public:
    Endpoint(asio::io_context* host_io, WebsocketppOptions options)
        : options_(std::move(options)),
          owns_io_(host_io == nullptr),
          max_connections_(options_.max_connections ? options_.max_connections : default_max_connections()),
          framer_(secure, /*p_is_server=*/true, message_manager_, rng_) {
        server_.clear_access_channels(websocketpp::log::alevel::all);
        server_.clear_error_channels(websocketpp::log::elevel::all);
        if (host_io)
            server_.init_asio(host_io);
        else
            server_.init_asio();
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
        if (owns_io_)
            for (std::size_t i = 0; i < std::max<std::size_t>(options_.threads, 1); ++i)
                threads_.emplace_back([this] { server_.run(); });
    }

    std::uint16_t port() const override { return port_; }

    /// Upgrades arriving meanwhile are refused (503): `stopping_` is set first.
    void shutdown() override {
        if (stopping_.exchange(true)) return;
        if (port_ != 0) {
            if (TransportListener<handle_type>* listener = listener_) listener->on_shutdown();
            for (const handle_type& connection : open_connections())
                close(connection, CloseCode::going_away, "server shutting down");
            wait_for_closes(Clock::now() + options_.shutdown_deadline);
        }
        if (owns_io_) {
            server_.stop();
            for (std::thread& thread : threads_) thread.join();
            threads_.clear();
        }
        if (port_ != 0) stop_listening();
    }

    void set_http_handler(HttpHandler handler) override { http_handler_ = std::move(handler); }

    asio::any_io_executor executor() override { return server_.get_io_service().get_executor(); }

    bool send(const handle_type& connection, const Frame& frame) override {
        const ConnectionPtr con = connection_of(connection);
        if (!con || con->send(frame.text().data(), frame.size(), websocketpp::frame::opcode::text)) return false;
        account_sent(con, frame.size());
        return true;
    }

    WebsocketppTransport::PreparedFrame prepare(const Frame& frame) override {
        MessagePtr in = message_manager_->get_message(websocketpp::frame::opcode::text, frame.size());
        in->append_payload(frame.text().data(), frame.size());
        MessagePtr out = message_manager_->get_message();
        // A server-role hybi13 processor without extensions is stateless while framing: sharing it is safe.
        if (framer_.prepare_data_frame(in, out)) return WebsocketppTransport::PreparedFrame(nullptr, 0);
        return WebsocketppTransport::PreparedFrame(std::move(out), frame.size());
    }

    /// The per-recipient path of every delivery: one handle look-up for the backlog and the send.
    SendStatus try_send(const handle_type& connection, const WebsocketppTransport::PreparedFrame& frame,
                        std::size_t max_backlog) override {
        const ConnectionPtr con = connection_of(connection);
        if (!frame.message() || !con) return SendStatus::failed;
        if (max_backlog != 0 && con->backlog() > max_backlog) return SendStatus::backlogged;
        if (con->send(std::static_pointer_cast<typename MessagePtr::element_type>(frame.message())))
            return SendStatus::failed;
        account_sent(con, frame.payload_size());
        return SendStatus::sent;
    }

    /// websocketpp's close writes strand-owned state (timers, the connection state) without its lock:
    /// run it on the connection's strand. Frames sent before this call are queued ahead of the close.
    void close(const handle_type& connection, CloseCode code, std::string_view reason) override {
        const ConnectionPtr con = connection_of(connection);
        if (!con) return;
        con->open = false;
        con->get_strand()->post([con, code, reason = std::string(reason)] {
            std::error_code ignored;
            con->close(static_cast<websocketpp::close::status::value>(code), reason, ignored);
        });
    }

    bool is_open(const handle_type& connection) const override {
        const ConnectionPtr con = connection_of(connection);
        return con && con->open;
    }

    std::size_t queued_bytes(const handle_type& connection) const override {
        const ConnectionPtr con = connection_of(connection);
        return con ? con->backlog() : 0;
    }

    void set_listener(TransportListener<handle_type>* listener) override { listener_ = listener; }

    std::size_t connection_count() const override {
        std::lock_guard lock(connections_mutex_);
        return connections_.size();
    }

    WebsocketppTransport::Metrics metrics() const override {
        constexpr auto relaxed = std::memory_order_relaxed;
        WebsocketppTransport::Metrics metrics;
        metrics.refused_version = counters_.refused_version.load(relaxed);
        metrics.refused_path = counters_.refused_path.load(relaxed);
        metrics.refused_origin = counters_.refused_origin.load(relaxed);
        metrics.refused_capacity = counters_.refused_capacity.load(relaxed);
        metrics.refused_address = counters_.refused_address.load(relaxed);
        metrics.pong_timeouts = counters_.pong_timeouts.load(relaxed);
        metrics.credential_expiries = counters_.credential_expiries.load(relaxed);
        metrics.oversized_messages = counters_.oversized_messages.load(relaxed);
        return metrics;
    }

private:
    void configure_limits() {
        server_.set_max_message_size(options_.max_message_size);
        server_.set_max_http_body_size(options_.max_http_body_size);
        server_.set_open_handshake_timeout(static_cast<long>(options_.handshake_timeout.count()));
        server_.set_close_handshake_timeout(static_cast<long>(options_.handshake_timeout.count()));
        server_.set_pong_timeout(static_cast<long>(options_.pong_timeout.count()));
    }

    void install_handlers() {
        // Small frames must leave at once: Nagle's algorithm held them for a delayed ACK (~40 ms).
        server_.set_tcp_post_init_handler([this](handle_type h) {
            std::error_code ignored;
            if (const ConnectionPtr con = connection_of(h))
                con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
        });
        server_.set_validate_handler([this](handle_type h) { return on_validate(h); });
        server_.set_http_handler([this](handle_type h) { on_http(h); });
        server_.set_open_handler([this](handle_type h) { on_open(h); });
        server_.set_message_handler([this](handle_type h, MessagePtr message) { on_message(h, message); });
        server_.set_close_handler([this](handle_type h) { on_gone(h); });
        server_.set_fail_handler([this](handle_type h) { on_gone(h); });
        server_.set_pong_handler([this](handle_type h, const std::string&) {
            if (const ConnectionPtr con = connection_of(h)) con->awaiting_pong = false;
        });
        server_.set_pong_timeout_handler([this](handle_type h, const std::string&) {
            counters_.pong_timeouts.fetch_add(1, std::memory_order_relaxed);
            drop(h, CloseCode::going_away, "pong timeout");
        });
    }

    void install_tls() {
        auto context = make_tls_context(*options_.tls);
        server_.set_tls_init_handler([context](handle_type) { return context; });
    }

    /// What websocketpp's `get_con_from_hdl` does, without copying the handle (it takes it by value):
    /// two atomic reference-count updates fewer on every send.
    static ConnectionPtr connection_of(const handle_type& connection) {
        return std::static_pointer_cast<typename Server::connection_type>(connection.lock());
    }

    // --- Upgrade and plain HTTP -----------------------------------------------------------------

    /// The checks that cost least and need no listener come first; the Auth policy runs last.
    bool on_validate(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        if (con->get_request_header("Sec-WebSocket-Version") != "13") {
            con->append_header("Sec-WebSocket-Version", "13");
            return refuse(*con, counters_.refused_version, 426, "only WebSocket version 13 is supported");
        }
        const UpgradeRequest request = upgrade_request(*con);
        if (request.path != options_.websocket_path)
            return refuse(*con, counters_.refused_path, 404, "no WebSocket endpoint here");
        if (!origin_allowed(request.header("Origin")))
            return refuse(*con, counters_.refused_origin, 403, "origin not allowed");
        TransportListener<handle_type>* listener = listener_;
        con->address = address_of(request.remote_address);
        if (!listener || stopping_ || at_capacity())
            return refuse(*con, counters_.refused_capacity, 503, "server is not accepting connections");
        if (address_at_limit(con->address))
            return refuse(*con, counters_.refused_address, 429, "too many connections from this address");
        AuthResult verdict = listener->on_upgrade(request);
        if (!verdict) {
            if (verdict.failure().status == 401) con->append_header("WWW-Authenticate", "Bearer");
            return refuse(*con, verdict.failure().status, verdict.failure().reason);
        }
        con->identity = verdict.identity();
        return true;
    }

    bool origin_allowed(std::optional<std::string_view> origin) const {
        const auto& allowed = options_.allowed_origins;
        return allowed.empty() || !origin || std::find(allowed.begin(), allowed.end(), *origin) != allowed.end();
    }

    bool at_capacity() const {
        std::lock_guard lock(connections_mutex_);
        return connections_.size() >= max_connections_;
    }

    bool address_at_limit(const std::string& address) const {
        if (options_.max_connections_per_address == 0) return false;
        std::lock_guard lock(connections_mutex_);
        const auto found = per_address_.find(address);
        return found != per_address_.end() && found->second >= options_.max_connections_per_address;
    }

    static bool refuse(typename Server::connection_type& con, std::atomic<std::uint64_t>& counter, int status,
                       std::string_view reason) {
        counter.fetch_add(1, std::memory_order_relaxed);
        return refuse(con, status, reason);
    }

    static bool refuse(typename Server::connection_type& con, int status, std::string_view reason) {
        con.set_status(static_cast<websocketpp::http::status_code::value>(status));
        con.append_header("Content-Type", "application/json");
        con.set_body(error_body(status == 401 ? "unauthorized" : "refused", reason));
        return false;
    }

    static UpgradeRequest upgrade_request(typename Server::connection_type& con) {
        UpgradeRequest request;
        std::tie(request.path, request.query) = split_resource(con.get_resource());
        for (const auto& [name, value] : con.get_request().get_headers()) request.headers.emplace_back(name, value);
        request.remote_address = con.get_remote_endpoint();
        return request;
    }

    void on_http(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        const auto& raw = con->get_request();
        HttpRequest request;
        request.method = raw.get_method();
        std::tie(request.path, request.query) = split_resource(con->get_resource());
        for (const auto& [name, value] : raw.get_headers()) request.headers.emplace_back(name, value);
        request.body = raw.get_body();
        request.remote_address = con->get_remote_endpoint();

        HttpResponse response = answer(request);
        con->set_status(static_cast<websocketpp::http::status_code::value>(response.status));
        con->replace_header("Content-Type", response.content_type);
        for (const auto& [name, value] : response.headers) con->append_header(name, value);
        con->set_body(std::move(response.body));
    }

    HttpResponse answer(const HttpRequest& request) const {
        if (!http_handler_) return HttpResponse::json(404, error_body("not_found", "no such resource"));
        try {
            return http_handler_(request);
        } catch (const std::exception&) {
            return HttpResponse::json(500, error_body("internal_error", "the request could not be handled"));
        }
    }

    // --- Open connections --------------------------------------------------------------------------

    void on_open(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        TransportListener<handle_type>* listener = listener_;
        if (!listener || stopping_) {
            con->close(websocketpp::close::status::going_away, "server shutting down");
            return;
        }
        const auto expires_at = con->identity->expires_at;
        con->open = true;
        {
            std::lock_guard lock(connections_mutex_);
            connections_.insert(connection);
            ++per_address_[con->address];
        }
        con->id = listener->on_open(connection, std::move(*con->identity));
        con->identity.reset();
        schedule_heartbeat(con, connection);
        if (expires_at && options_.close_on_credential_expiry) schedule_expiry(con, connection, *expires_at);
    }

    void on_message(const handle_type& connection, const MessagePtr& message) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        TransportListener<handle_type>* listener = listener_;
        if (!listener || con->reported_closed) return;
        const bool binary = message->get_opcode() == websocketpp::frame::opcode::binary;
        listener->on_message(con->id, message->get_payload(), binary ? MessageKind::binary : MessageKind::text);
    }

    /// Close handshake done, or the connection failed (before or after opening).
    void on_gone(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        con->open = false;
        for (auto* timer : {&con->heartbeat_timer, &con->expiry_timer})
            if (*timer) (*timer)->cancel();
        if (con->get_local_close_code() == websocketpp::close::status::message_too_big)
            counters_.oversized_messages.fetch_add(1, std::memory_order_relaxed);
        report_closed(*con);
        std::lock_guard lock(connections_mutex_);
        if (connections_.erase(connection) && --per_address_[con->address] == 0) per_address_.erase(con->address);
        if (connections_.empty()) all_closed_.notify_all();
    }

    /// Tells the listener once that the connection is gone; it may still be closing.
    void report_closed(ConnectionState& state) {
        if (!state.id || state.reported_closed) return;
        state.reported_closed = true;
        if (TransportListener<handle_type>* listener = listener_) listener->on_close(state.id);
    }

    /// A connection that is dead to us: report it now, close it (the handshake may time out).
    void drop(const handle_type& connection, CloseCode code, std::string_view reason) {
        const ConnectionPtr con = connection_of(connection);
        if (!con) return;
        report_closed(*con);
        close(connection, code, reason);
    }

    void schedule_heartbeat(const ConnectionPtr& con, const handle_type& connection) {
        con->heartbeat_timer = con->set_timer(static_cast<long>(options_.ping_interval.count()),
                                              [this, connection](const std::error_code& error) {
                                                  if (!error) heartbeat(connection);
                                              });
    }

    void heartbeat(const handle_type& connection) {
        const ConnectionPtr con = connection_of(connection);
        if (!con || !con->open) return;
        sample_backlog(*con);
        if (!con->awaiting_pong) {
            std::error_code error;
            con->ping("", error);
            con->awaiting_pong = !error;
        }
        schedule_heartbeat(con, connection);
    }

    void schedule_expiry(const ConnectionPtr& con, const handle_type& connection,
                         std::chrono::system_clock::time_point expires_at) {
        const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
            expires_at - std::chrono::system_clock::now());
        con->expiry_timer = con->set_timer(static_cast<long>(std::max<std::int64_t>(remaining.count(), 0)),
                                           [this, connection](const std::error_code& error) {
                                               if (error) return;
                                               counters_.credential_expiries.fetch_add(1, std::memory_order_relaxed);
                                               drop(connection, CloseCode::policy_violation, "credentials expired");
                                           });
    }

    /// On the strand: websocketpp's figure, and how much had been sent when it was read (read
    /// first, so that a send in between is counted twice rather than not at all).
    static void sample_backlog(typename Server::connection_type& con) {
        con.sent_at_sample.store(con.sent.load(std::memory_order_relaxed), std::memory_order_relaxed);
        con.backlog_at_sample.store(con.get_buffered_amount(), std::memory_order_relaxed);
        con.sample_pending.store(false, std::memory_order_relaxed);
    }

    /// Any thread: counts a send, and asks the strand for a fresh reading every so often.
    void account_sent(const ConnectionPtr& con, std::size_t bytes) {
        const std::size_t sent = con->sent.fetch_add(bytes, std::memory_order_relaxed) + bytes;
        if (sent - con->sent_at_sample.load(std::memory_order_relaxed) < backlog_sample_step ||
            con->sample_pending.exchange(true, std::memory_order_relaxed))
            return;
        con->get_strand()->post([con] { sample_backlog(*con); });
    }

    // --- Shutdown ----------------------------------------------------------------------------------

    /// The acceptor is not thread-safe, and websocketpp re-arms it from whichever thread accepted
    /// last. Our own threads are joined by now; on a host's io_context, close it from an I/O thread
    /// (race-free when the host runs that context on one thread) and wait for that.
    void stop_listening() {
        std::error_code ignored;
        if (owns_io_) {
            server_.stop_listening(ignored);
            return;
        }
        auto stopped = std::make_shared<std::promise<void>>();
        asio::post(server_.get_io_service(), [this, stopped] {
            std::error_code ignored_too;
            server_.stop_listening(ignored_too);
            stopped->set_value();
        });
        stopped->get_future().wait_for(options_.shutdown_deadline);
    }

    std::vector<handle_type> open_connections() const {
        std::lock_guard lock(connections_mutex_);
        return {connections_.begin(), connections_.end()};
    }

    void wait_for_closes(Clock::time_point deadline) {
        std::unique_lock lock(connections_mutex_);
        all_closed_.wait_until(lock, deadline, [this] { return connections_.empty(); });
    }

    WebsocketppOptions options_;
    const bool owns_io_;
    const std::size_t max_connections_;
    Server server_;
    typename ConfigType::rng_type rng_;
    std::shared_ptr<typename ConfigType::con_msg_manager_type> message_manager_ =
        std::make_shared<typename ConfigType::con_msg_manager_type>();
    Processor framer_;
    HttpHandler http_handler_;
    std::atomic<TransportListener<handle_type>*> listener_{nullptr};
    std::atomic<bool> stopping_{false};
    struct Counters {
        std::atomic<std::uint64_t> refused_version{0}, refused_path{0}, refused_origin{0}, refused_capacity{0},
            refused_address{0}, pong_timeouts{0}, credential_expiries{0}, oversized_messages{0};
    };
    Counters counters_;
    std::uint16_t port_ = 0;
    std::vector<std::thread> threads_;

    mutable std::mutex connections_mutex_;
    std::condition_variable all_closed_;
    std::set<handle_type, std::owner_less<handle_type>> connections_;
    std::unordered_map<std::string, std::size_t> per_address_;
};

std::unique_ptr<WebsocketppTransport::Impl> make_endpoint(asio::io_context* io, WebsocketppOptions options) {
    if (options.tls) return std::make_unique<Endpoint<TlsConfig>>(io, std::move(options));
    return std::make_unique<Endpoint<PlainConfig>>(io, std::move(options));
}

} // namespace

// Deliveries take the manager's fast path (frame once; one look-up per recipient) only if detected.
static_assert(detail::has_prepare<WebsocketppTransport>::value &&
              detail::has_try_send<WebsocketppTransport, WebsocketppTransport::PreparedFrame>::value);

WebsocketppTransport::WebsocketppTransport(WebsocketppOptions options)
    : impl_(make_endpoint(nullptr, std::move(options))) {}
WebsocketppTransport::WebsocketppTransport(asio::io_context& io, WebsocketppOptions options)
    : impl_(make_endpoint(&io, std::move(options))) {}
WebsocketppTransport::~WebsocketppTransport() = default;

void WebsocketppTransport::start() { impl_->start(); }
std::uint16_t WebsocketppTransport::port() const { return impl_->port(); }
void WebsocketppTransport::shutdown() { impl_->shutdown(); }
void WebsocketppTransport::set_http_handler(HttpHandler handler) { impl_->set_http_handler(std::move(handler)); }
asio::any_io_executor WebsocketppTransport::executor() { return impl_->executor(); }
bool WebsocketppTransport::send(const handle_type& connection, const Frame& frame) {
    return impl_->send(connection, frame);
}
WebsocketppTransport::PreparedFrame WebsocketppTransport::prepare(const Frame& frame) { return impl_->prepare(frame); }
bool WebsocketppTransport::send(const handle_type& connection, const PreparedFrame& frame) {
    return try_send(connection, frame, /*max_backlog=*/0) == SendStatus::sent;
}
SendStatus WebsocketppTransport::try_send(const handle_type& connection, const PreparedFrame& frame,
                                          std::size_t max_backlog) {
    return impl_->try_send(connection, frame, max_backlog);
}
void WebsocketppTransport::close(const handle_type& connection, CloseCode code, std::string_view reason) {
    impl_->close(connection, code, reason);
}
bool WebsocketppTransport::is_open(const handle_type& connection) const { return impl_->is_open(connection); }
std::size_t WebsocketppTransport::queued_bytes(const handle_type& connection) const {
    return impl_->queued_bytes(connection);
}
void WebsocketppTransport::set_listener(TransportListener<handle_type>* listener) { impl_->set_listener(listener); }
std::size_t WebsocketppTransport::connection_count() const { return impl_->connection_count(); }
WebsocketppTransport::Metrics WebsocketppTransport::metrics() const { return impl_->metrics(); }

} // namespace switchboard
