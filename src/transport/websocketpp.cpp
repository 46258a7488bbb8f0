// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The websocketpp transport. One `Endpoint<Config>` serves plain or TLS connections; the public
// class forwards to it through `WebsocketppTransport::Impl`, so no websocketpp type leaks out.
//
// Threads and ownership: websocketpp runs every handler of one connection on that connection's
// strand, so `ConnectionState` (stored inside each websocketpp connection) is touched only there,
// except its atomics, which other threads read. The connection counts and the table of open
// connections (`entries_`) are guarded by `connections_mutex_`, never held across a call into
// websocketpp or the listener.
//
// Two threading models, chosen at construction:
// - Several I/O threads, or a host's io_context (whose threads we cannot count): websocketpp's
//   multi-threaded configuration, where each connection has a strand and every send takes its
//   mutexes; any thread may call into websocketpp.
// - One I/O thread of our own (the default): websocketpp's single-threaded configuration, with no
//   mutex and no strand. Only that thread calls into websocketpp: what other threads ask (a send,
//   a close) is posted to it. The handlers the manager runs and its timers are on the I/O thread,
//   so broadcasts call websocketpp directly, unless sends posted to that connection are still
//   waiting: then they are posted behind them, so that they do not overtake them. At fan-out
//   saturation this model delivered 1.17 times as much (bench/load/ab.sh, medians of 5).
// Below, a connection's "strand" is its websocketpp strand in the first model and the I/O thread
// in the second: where its handlers run, one at a time.
//
// Registration: an accepted upgrade is registered with the listener before websocketpp writes its
// 101, so that every event sent after the client saw the 101 reaches it, whatever thread sends it.
// Until websocketpp reports the socket open, what is sent to the connection (and a close asked
// for) is held in order, and then handed to websocketpp before anything sent later.
//
// Connection limits: an upgrade takes its slot (global and per address) at validation, in the
// same critical section as the check, and holds it until the connection is gone, whether it
// opened or not; so upgrades arriving together cannot overshoot a limit. websocketpp follows a
// validated upgrade with the open handler or the fail handler, and an opened connection with the
// close handler: `on_gone` releases the slot, and tells the listener the connection is closed,
// whether it opened or not.
//
// Memory: an idle connection costs what websocketpp allocates for it (its connection object with
// the read buffer below, its send queue, what it keeps of the upgrade) plus a few dozen bytes here.
// Heartbeats, pong timeouts and credential expiry run from one timer per endpoint rather than
// timers per connection (each waiting timer cost ~350 bytes): every tick hands the connections
// that are due to their strands, so that work runs up to one tick late, never early.

#include <switchboard/transport/websocketpp.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include <sys/resource.h>

#include <nlohmann/json.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio.hpp>
#include <websocketpp/server.hpp>

#include <switchboard/detail/spin_lock.hpp>
#include <switchboard/detail/text.hpp>

#include "websocketpp/batching_connection.hpp"
#include "websocketpp/upgrade_check.hpp"
#include "websocketpp/websocketpp_internals.hpp"

namespace switchboard {
namespace {

using handle_type = WebsocketppTransport::handle_type;
using Clock = std::chrono::steady_clock;

/// Bytes sent between two readings of websocketpp's backlog figure.
constexpr std::size_t backlog_sample_step = 64 * 1024;

/// `ConnectionState::entry` of a connection that has none (not open, or gone).
constexpr std::uint32_t no_entry = std::numeric_limits<std::uint32_t>::max();

constexpr Clock::time_point never = Clock::time_point::max();

/// What a connection's backlog is believed to be. websocketpp's own figure is written by senders
/// (under a lock of websocketpp's that it does not expose) and by its writes (on the strand), and
/// read without any lock. So it is read on the strand, under `lock`, which every send of ours
/// holds; between readings, the bytes accepted since are added, posted ones included.
struct Backlog {
    detail::SpinLock lock;
    // Under `lock`:
    bool sample_pending = false;
    bool handshaking = false;  ///< registered, not yet open in websocketpp: sends are held
    std::uint32_t posted = 0;  ///< sends posted to the I/O thread that have not reached websocketpp
    std::size_t accepted = 0;  ///< bytes ever reported sent
    std::size_t applied = 0;   ///< of those, bytes that reached websocketpp
    std::size_t applied_at_sample = 0;
    std::size_t at_sample = 0; ///< websocketpp's figure, read when `applied` was `applied_at_sample`

    std::size_t estimate() const { return at_sample + accepted - applied_at_sample; }
};

/// What a connection registered before its 101 is sent until websocketpp opens it, in order: the
/// payloads (a `Frame` or a prepared message), then a close, if one was asked for.
struct HeldUntilOpen {
    std::vector<std::variant<Frame, std::shared_ptr<void>>> payloads;
    std::size_t bytes = 0; ///< of the payloads
    std::optional<std::pair<CloseCode, std::string>> close;
};

/// Per-connection state, stored inside each websocketpp connection (its `connection_base`).
/// Plain members belong to the connection's strand; `open` and `backlog` are shared with sending
/// threads.
struct ConnectionState {
    /// While `backlog.handshaking`, and under `backlog.lock`: what was sent and asked meanwhile.
    /// Not inline: open connections would pay for it.
    std::unique_ptr<HeldUntilOpen> held;
    /// From validation until gone, the slot it holds: its remote IP and how many slots that IP
    /// holds (an entry of the endpoint's `per_address_`, whose nodes stay put).
    std::pair<const std::string, std::size_t>* per_address = nullptr;
    ConnectionId id;                  ///< once the listener registered it
    bool reported_closed = false;
    bool awaiting_pong = false; ///< one ping at a time
    bool write_waiting = false; ///< single-threaded: its write waits in the I/O thread's round
    bool write_storage_listed = false; ///< in the endpoint's `GrownWriteStorage`
    std::uint32_t entry = no_entry; ///< in the endpoint's table of open connections, while open
    Clock::time_point next_ping = never;
    Clock::time_point pong_deadline = never; ///< while `awaiting_pong`
    Clock::time_point expires = never;       ///< the credentials' expiry
    std::atomic<bool> open{false};
    mutable Backlog backlog;
};

/// websocketpp's HTTP request, checked as a WebSocket upgrade once complete (upgrade_check.hpp).
/// websocketpp takes a request for an upgrade when Upgrade and Connection hold "websocket" and
/// "upgrade" anywhere, and answers some faults itself: without a reason, and with 500 when
/// Sec-WebSocket-Version is missing (it reads that as the hybi-00 handshake). So a request with a
/// fault loses its Upgrade header, which makes it plain HTTP to websocketpp: our HTTP handler
/// answers the fault, and only well-formed upgrades reach the validate handler.
class CheckedRequest : public websocketpp::http::parser::request {
public:
    /// websocketpp's parser calls this, not `request::consume`, on the concrete request type.
    std::size_t consume(const char* bytes, std::size_t size) {
        const bool was_ready = ready();
        const std::size_t used = request::consume(bytes, size);
        if (!was_ready && ready()) check();
        return used;
    }

    detail::UpgradeFault upgrade_fault() const { return fault_; }

private:
    void check() {
        fault_ = detail::upgrade_fault({get_method(), get_version(), get_header("Upgrade"), get_header("Connection"),
                                        get_header("Sec-WebSocket-Version"), get_header("Sec-WebSocket-Key")});
        if (fault_ != detail::UpgradeFault::none && websocketpp::processor::is_websocket_handshake(*this))
            remove_header("Upgrade");
    }

    detail::UpgradeFault fault_ = detail::UpgradeFault::none;
};
// The fault fits in the request's tail padding: every connection keeps a request.
static_assert(sizeof(CheckedRequest) == sizeof(websocketpp::http::parser::request));

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
    using Message = typename MessagePtr::element_type;
    using Connection = typename Server::connection_type;
    using Processor = websocketpp::processor::hybi13<ConfigType>;
    using Request = typename ConfigType::request_type;
    using Response = typename ConfigType::response_type;
    static constexpr bool secure = ConfigType::secure;
    static constexpr bool multithreaded = ConfigType::enable_multithreading;

public:
    Endpoint(asio::io_context* host_io, WebsocketppOptions options)
        : options_(std::move(options)),
          owns_io_(host_io == nullptr),
          max_connections_(options_.max_connections ? options_.max_connections : default_max_connections()),
          // With one thread, the hint lets it post to its own context without taking a lock.
          own_io_(owns_io_ ? std::make_unique<asio::io_context>(static_cast<int>(io_threads())) : nullptr),
          io_(owns_io_ ? *own_io_ : *host_io),
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
        ticker_ = std::make_shared<Ticker>(server_.get_io_service());
        asio::post(ticker_->strand, [this, ticker = ticker_] { arm_tick(ticker); });
        if (owns_io_)
            for (std::size_t i = 0; i < io_threads(); ++i)
                threads_.emplace_back([this] {
                    if constexpr (!multithreaded) detail::DispatchQueue::current() = &dispatch_queue_;
                    websocketpp_internals::GrownWriteStorage::current() = &grown_write_storage_;
                    server_.run();
                });
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

    asio::any_io_executor executor() override { return io_.get_executor(); }

    bool send(const handle_type& connection, const Frame& frame) override {
        const ConnectionPtr con = connection_of(connection);
        if (!con) return false;
        return send_counted(con, frame.size(), /*max_backlog=*/0, frame) == SendStatus::sent;
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
        return send_counted(con, frame.payload_size(), max_backlog, frame.message());
    }

    /// websocketpp's close writes strand-owned state (timers, the connection state) without its lock:
    /// run it on the connection's strand. Frames sent before this call are queued ahead of the close.
    /// The close is posted before sends see the connection closed: a send that then fails makes its
    /// caller close too (the manager, with 1011), and that close must queue behind this one.
    void close(const handle_type& connection, CloseCode code, std::string_view reason) override {
        const ConnectionPtr con = connection_of(connection);
        if (!con) return;
        post_to_strand(con, [con, code, reason = std::string(reason)] { close_now(*con, code, reason); });
        con->open = false;
    }

    bool is_open(const handle_type& connection) const override {
        const ConnectionPtr con = connection_of(connection);
        return con && con->open;
    }

    std::size_t queued_bytes(const handle_type& connection) const override {
        const ConnectionPtr con = connection_of(connection);
        if (!con) return 0;
        std::lock_guard lock(con->backlog.lock);
        return con->backlog.estimate();
    }

    void set_listener(TransportListener<handle_type>* listener) override { listener_ = listener; }

    std::size_t connection_count() const override {
        std::lock_guard lock(connections_mutex_);
        return open_count_;
    }

    WebsocketppTransport::Metrics metrics() const override {
        constexpr auto relaxed = std::memory_order_relaxed;
        WebsocketppTransport::Metrics metrics;
        metrics.refused_version = counters_.refused_version.load(relaxed);
        metrics.refused_malformed = counters_.refused_malformed.load(relaxed);
        metrics.refused_path = counters_.refused_path.load(relaxed);
        metrics.refused_origin = counters_.refused_origin.load(relaxed);
        metrics.refused_capacity = counters_.refused_capacity.load(relaxed);
        metrics.refused_address = counters_.refused_address.load(relaxed);
        metrics.pong_timeouts = counters_.pong_timeouts.load(relaxed);
        metrics.credential_expiries = counters_.credential_expiries.load(relaxed);
        metrics.oversized_messages = counters_.oversized_messages.load(relaxed);
        metrics.upgrades_abandoned = counters_.upgrades_abandoned.load(relaxed);
        metrics.upgrades_pending = upgrades_pending();
        for (std::size_t i = 0; i < metrics.closes.size(); ++i) metrics.closes[i] = counters_.closes[i].load(relaxed);
        metrics.closes_other = counters_.closes_other.load(relaxed);
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
        // The pong timeout is ours (see on_due): websocketpp's would keep a timer per connection.
        server_.set_pong_handler([this](handle_type h, const std::string&) {
            if (const ConnectionPtr con = connection_of(h)) con->awaiting_pong = false;
        });
    }

    void install_tls() {
        auto context = make_tls_context(*options_.tls);
        server_.set_tls_init_handler([context](handle_type) { return context; });
    }

    /// What websocketpp's `get_con_from_hdl` does, without copying the handle (it takes it by value):
    /// two atomic reference-count updates fewer on every send.
    static ConnectionPtr connection_of(const handle_type& connection) {
        return std::static_pointer_cast<Connection>(connection.lock());
    }

    // --- Upgrade and plain HTTP -----------------------------------------------------------------

    /// Only well-formed upgrades get here (see CheckedRequest). The checks that cost least and need
    /// no listener come first, then the connection limits (which take a slot); the Auth policy
    /// (which may reserve more) runs last.
    bool on_validate(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        const UpgradeRequest request = upgrade_request(*con);
        if (request.path != options_.websocket_path)
            return refuse(*con, counters_.refused_path, 404, "no WebSocket endpoint here");
        if (!origin_allowed(request.header("Origin")))
            return refuse(*con, counters_.refused_origin, 403, "origin not allowed");
        TransportListener<handle_type>* listener = listener_;
        if (!listener || stopping_) return refuse_capacity(*con);
        switch (take_slot(*con, address_of(request.remote_address))) {
        case SlotVerdict::taken: break;
        case SlotVerdict::at_capacity: return refuse_capacity(*con);
        case SlotVerdict::address_full:
            return refuse(*con, counters_.refused_address, 429, "too many connections from this address");
        }
        AuthResult verdict = listener->on_upgrade(request);
        if (!verdict) {
            release_slot(*con);
            if (verdict.failure().status == 401) con->append_header("WWW-Authenticate", "Bearer");
            return refuse(*con, verdict.failure().status, verdict.failure().reason);
        }
        register_accepted(connection, *con, *listener, verdict.identity());
        return true;
    }

    /// Before websocketpp writes the 101: from now on the listener may send to the connection, and
    /// what it sends is held until websocketpp opens it (`release_held`).
    void register_accepted(const handle_type& connection, Connection& con, TransportListener<handle_type>& listener,
                           Identity identity) {
        const auto& expires_at = identity.expires_at;
        if (expires_at && options_.close_on_credential_expiry)
            con.expires = Clock::now() +
                          std::chrono::duration_cast<Clock::duration>(*expires_at - std::chrono::system_clock::now());
        {
            std::lock_guard lock(con.backlog.lock);
            con.backlog.handshaking = true;
        }
        con.open = true;
        con.id = listener.on_open(connection, std::move(identity));
    }

    bool origin_allowed(std::optional<std::string_view> origin) const {
        const auto& allowed = options_.allowed_origins;
        return allowed.empty() || !origin || std::find(allowed.begin(), allowed.end(), *origin) != allowed.end();
    }

    enum class SlotVerdict { taken, at_capacity, address_full };

    /// Checks the global and per-address limits and, under them, takes a slot of each, in one
    /// critical section: two upgrades cannot both see the last slot free.
    SlotVerdict take_slot(ConnectionState& state, std::string address) {
        std::lock_guard lock(connections_mutex_);
        if (slots_taken_ >= max_connections_) return SlotVerdict::at_capacity;
        const std::size_t per_address_limit = options_.max_connections_per_address;
        auto& from_address = *per_address_.try_emplace(std::move(address)).first;
        if (per_address_limit != 0 && from_address.second >= per_address_limit) return SlotVerdict::address_full;
        ++slots_taken_;
        ++from_address.second;
        state.per_address = &from_address;
        return SlotVerdict::taken;
    }

    /// Gives back the connection's slot, if it holds one, and its entry in the table of open ones.
    void release_slot(ConnectionState& state) {
        std::lock_guard lock(connections_mutex_);
        if (state.entry != no_entry) {
            entries_[state.entry] = Entry{};
            free_entries_.push_back(state.entry);
            state.entry = no_entry;
            --open_count_;
        }
        if (!state.per_address) return;
        if (--state.per_address->second == 0) per_address_.erase(state.per_address->first);
        state.per_address = nullptr;
        if (--slots_taken_ == 0) all_gone_.notify_all();
    }

    std::size_t upgrades_pending() const {
        std::lock_guard lock(connections_mutex_);
        return slots_taken_ - open_count_;
    }

    bool refuse_capacity(Connection& con) {
        return refuse(con, counters_.refused_capacity, 503, "server is not accepting connections");
    }

    static bool refuse(Connection& con, std::atomic<std::uint64_t>& counter, int status,
                       std::string_view reason) {
        counter.fetch_add(1, std::memory_order_relaxed);
        return refuse(con, status, reason);
    }

    static bool refuse(Connection& con, int status, std::string_view reason) {
        con.set_status(static_cast<websocketpp::http::status_code::value>(status));
        con.append_header("Content-Type", "application/json");
        con.set_body(error_body(status == 401 ? "unauthorized" : "refused", reason));
        return false;
    }

    void refuse_upgrade(Connection& con, detail::UpgradeFault fault, const detail::UpgradeRefusal& refusal) {
        for (const auto& [name, value] : refusal.headers)
            if (!name.empty()) con.append_header(std::string(name), std::string(value));
        auto& counter = fault == detail::UpgradeFault::unsupported_version ? counters_.refused_version
                                                                           : counters_.refused_malformed;
        refuse(con, counter, refusal.status, refusal.reason);
    }

    static UpgradeRequest upgrade_request(Connection& con) {
        UpgradeRequest request;
        std::tie(request.path, request.query) = split_resource(con.get_resource());
        for (const auto& [name, value] : con.get_request().get_headers()) request.headers.emplace_back(name, value);
        request.remote_address = con.get_remote_endpoint();
        return request;
    }

    /// A malformed upgrade, or a request to the WebSocket endpoint that is no upgrade, is refused
    /// here; the host's handler answers the rest.
    void on_http(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        const auto& raw = con->get_request();
        HttpRequest request;
        std::tie(request.path, request.query) = split_resource(con->get_resource());
        const detail::UpgradeFault fault = raw.upgrade_fault();
        const bool no_upgrade_elsewhere =
            fault == detail::UpgradeFault::not_websocket && request.path != options_.websocket_path;
        if (const auto refusal = detail::refusal_for(fault); refusal && !no_upgrade_elsewhere) {
            refuse_upgrade(*con, fault, *refusal);
            return;
        }
        request.method = raw.get_method();
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

    /// The 101 is written. When stopping (`shutdown` closes the connections open before it), this
    /// one closes too, after what was sent to it before: held, or posted and still waiting.
    void on_open(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        const bool stopping = !listener_ || stopping_;
        if (!stopping) start_serving(connection, *con);
        release_upgrade(*con);
        release_held(*con);
        if (stopping) close(connection, CloseCode::going_away, "server shutting down");
    }

    /// Into the table of open connections, whose ticks serve its heartbeat and expiry.
    void start_serving(const handle_type& connection, Connection& con) {
        if (options_.ping_interval.count() > 0) con.next_ping = Clock::now() + options_.ping_interval;
        std::lock_guard lock(connections_mutex_);
        con.entry = enter(connection, due_time(con));
        ++open_count_;
    }

    /// On the strand, once websocketpp has opened the connection: what was held goes to it first,
    /// under the lock that later sends take, so none of them overtakes; then a close asked for.
    static void release_held(Connection& con) {
        std::unique_ptr<HeldUntilOpen> held;
        {
            std::lock_guard lock(con.backlog.lock);
            con.backlog.handshaking = false;
            held = std::move(con.held);
            if (!held) return;
            for (const auto& payload : held->payloads)
                std::visit([&con](const auto& each) { send_now(con, each); }, payload);
            con.backlog.applied += held->bytes;
        }
        if (held->close) close_now(con, held->close->first, held->close->second);
    }

    /// Under the backlog lock, while the connection is handshaking.
    template <class Payload>
    static void hold(ConnectionState& state, const Payload& payload, std::size_t bytes) {
        if (!state.held) state.held = std::make_unique<HeldUntilOpen>();
        state.held->payloads.emplace_back(payload);
        state.held->bytes += bytes;
    }

    /// websocketpp keeps the upgrade's URI, request and response (~1.1 KB of headers and strings,
    /// the token included) for the connection's life. Once open, websocketpp 0.8.2 reads them only
    /// in getters we do not call (get_uri, get_request*, get_response*, get_origin; its fail log
    /// runs only before the open). The URI has a setter; the request and response have only const
    /// accessors, but they are not const objects: their contents are moved out and destroyed (an
    /// assignment would keep the strings' buffers), then they take those of empty ones shared by the
    /// endpoint (whose parse buffers they then share too: unused once a request is complete). The
    /// response as written (~130 bytes) goes too, from a member without accessors (see
    /// websocketpp_internals.hpp).
    void release_upgrade(Connection& con) {
        con.set_uri(open_uri_);
        auto& request = const_cast<Request&>(con.get_request());
        auto& response = const_cast<Response&>(con.get_response());
        { const Request gone(std::move(request)); }
        { const Response gone(std::move(response)); }
        request = blank_request_;
        response = blank_response_;
        websocketpp_internals::release_handshake_buffer(con);
    }

    void on_message(const handle_type& connection, const MessagePtr& message) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        TransportListener<handle_type>* listener = listener_;
        if (!listener || con->reported_closed) return;
        const bool binary = message->get_opcode() == websocketpp::frame::opcode::binary;
        listener->on_message(con->id, message->get_payload(), binary ? MessageKind::binary : MessageKind::text);
    }

    /// Close handshake done, or the connection failed (before or after opening, or refused).
    void on_gone(const handle_type& connection) {
        const ConnectionPtr con = server_.get_con_from_hdl(connection);
        con->open = false;
        if (con->get_local_close_code() == websocketpp::close::status::message_too_big)
            counters_.oversized_messages.fetch_add(1, std::memory_order_relaxed);
        if (con->id && con->entry == no_entry) counters_.upgrades_abandoned.fetch_add(1, std::memory_order_relaxed);
        if (con->entry != no_entry) count_close(con->get_local_close_code());
        // The listener hears of it first: once the last slot is back, shutdown() may return.
        report_closed(*con);
        release_slot(*con);
    }

    /// The code we sent, ours or the client's echoed; 1006 if the TCP connection ended without one.
    void count_close(websocketpp::close::status::value code) {
        const std::size_t slot = static_cast<std::size_t>(code) - WebsocketppTransport::Metrics::first_close_code;
        auto& counter = slot < counters_.closes.size() ? counters_.closes[slot] : counters_.closes_other;
        counter.fetch_add(1, std::memory_order_relaxed);
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

    // --- Heartbeat, pong timeout, credential expiry ----------------------------------------------

    /// The endpoint's one timer, shared with its pending wait so that a wait completing after the
    /// endpoint is gone finds `stopped` and touches nothing else.
    struct Ticker {
        explicit Ticker(asio::io_context& io) : strand(asio::make_strand(io)), timer(strand) {}
        asio::strand<asio::io_context::executor_type> strand;
        asio::steady_timer timer;
        bool stopped = false; ///< on `strand`
    };

    /// Every due time is met within one tick: an eighth of the shorter of the ping interval and
    /// the pong timeout, between 1 ms and 250 ms.
    Clock::duration tick() const {
        Clock::duration shortest = std::chrono::milliseconds(250) * 8;
        for (const std::chrono::milliseconds period : {options_.ping_interval, options_.pong_timeout})
            if (period.count() > 0) shortest = std::min<Clock::duration>(shortest, period);
        return std::max<Clock::duration>(shortest / 8, std::chrono::milliseconds(1));
    }

    /// On the ticker's strand.
    void arm_tick(const std::shared_ptr<Ticker>& ticker) {
        if (ticker->stopped) return;
        ticker->timer.expires_after(tick());
        ticker->timer.async_wait([this, ticker](const std::error_code& error) {
            if (error || ticker->stopped) return;
            hand_out_due();
            release_grown_write_storage();
            if constexpr (!multithreaded) dispatch_queue_.trim(); // the ticker's strand is the I/O thread
            arm_tick(ticker);
        });
    }

    /// Once the I/O threads are joined (ours), or on the ticker's strand (a host's io_context).
    static void stop_ticking(Ticker& ticker) {
        ticker.stopped = true;
        ticker.timer.cancel();
    }

    /// Posts `on_due` to the strand of every connection that is due; each stays out of the next
    /// rounds until `on_due` sets its next due time.
    void hand_out_due() {
        const Clock::time_point now = Clock::now();
        std::vector<handle_type> due;
        {
            std::lock_guard lock(connections_mutex_);
            for (Entry& entry : entries_)
                if (entry.due <= now) {
                    due.push_back(entry.connection);
                    entry.due = never;
                }
        }
        for (const handle_type& connection : due)
            if (const ConnectionPtr con = connection_of(connection))
                post_to_strand(con, [this, con, connection] { on_due(con, connection); });
    }

    /// On the connection's strand: whatever is due, in order of gravity, then the next due time.
    void on_due(const ConnectionPtr& con, const handle_type& connection) {
        if (!con->open || con->entry == no_entry) return;
        const Clock::time_point now = Clock::now();
        if (now >= con->expires) {
            counters_.credential_expiries.fetch_add(1, std::memory_order_relaxed);
            drop(connection, CloseCode::policy_violation, "credentials expired");
            return;
        }
        if (con->awaiting_pong && now >= con->pong_deadline) {
            counters_.pong_timeouts.fetch_add(1, std::memory_order_relaxed);
            drop(connection, CloseCode::going_away, "pong timeout");
            return;
        }
        if (now >= con->next_ping) {
            sample_backlog(*con);
            if (!con->awaiting_pong) {
                std::error_code error;
                con->ping("", error);
                con->awaiting_pong = !error;
                con->pong_deadline = options_.pong_timeout.count() > 0 ? now + options_.pong_timeout : never;
            }
            con->next_ping = now + options_.ping_interval;
        }
        std::lock_guard lock(connections_mutex_);
        entries_[con->entry].due = due_time(*con);
    }

    /// On the ticker's strand: each listed connection releases on its own.
    void release_grown_write_storage() {
        for (const handle_type& connection : grown_write_storage_.take())
            if (const ConnectionPtr con = connection_of(connection))
                post_to_strand(con, [con] {
                    con->write_storage_listed = false;
                    websocketpp_internals::release_write_storage(*con);
                });
    }

    static Clock::time_point due_time(const ConnectionState& state) {
        const Clock::time_point due = std::min(state.next_ping, state.expires);
        return state.awaiting_pong ? std::min(due, state.pong_deadline) : due;
    }

    /// Under `connections_mutex_`.
    std::uint32_t enter(const handle_type& connection, Clock::time_point due) {
        if (free_entries_.empty()) {
            entries_.push_back(Entry{connection, due});
            return static_cast<std::uint32_t>(entries_.size() - 1);
        }
        const std::uint32_t entry = free_entries_.back();
        free_entries_.pop_back();
        entries_[entry] = Entry{connection, due};
        return entry;
    }

    /// On the strand: websocketpp's figure, and how much had reached it when it was read.
    static void sample_backlog(Connection& con) {
        Backlog& backlog = con.backlog;
        std::lock_guard lock(backlog.lock);
        backlog.applied_at_sample = backlog.applied;
        backlog.at_sample = con.get_buffered_amount();
        backlog.sample_pending = false;
    }

    /// Any thread: sends `payload` (a `Frame` or a prepared message) unless the backlog is over
    /// `max_backlog` (0: no limit), counted, and a fresh reading asked of the strand every so often.
    /// Where websocketpp may not be called (single-threaded, off the I/O thread), the send is posted
    /// to the I/O thread and counts as sent if the connection is open: one that closes meanwhile
    /// drops it, as it drops what it has queued. A send on the I/O thread is posted too while earlier
    /// posted sends to that connection wait: it must not overtake them.
    template <class Payload>
    SendStatus send_counted(const ConnectionPtr& con, std::size_t bytes, std::size_t max_backlog,
                            const Payload& payload) {
        const bool on_io_thread = may_call_websocketpp();
        // Posted to a stopped context (after a shutdown), a send would never run.
        if (!on_io_thread && (!con->open || io_.stopped())) return SendStatus::failed;
        Backlog& backlog = con->backlog;
        bool post = !on_io_thread;
        bool sample_due = false;
        {
            std::lock_guard lock(backlog.lock);
            if (max_backlog != 0 && backlog.estimate() > max_backlog) return SendStatus::backlogged;
            post = post || backlog.posted != 0;
            if (post) {
                ++backlog.posted;
            } else if (backlog.handshaking) {
                hold(*con, payload, bytes);
            } else {
                if (send_now(*con, payload)) return SendStatus::failed;
                backlog.applied += bytes;
            }
            backlog.accepted += bytes;
            sample_due = !backlog.sample_pending && backlog.accepted - backlog.applied_at_sample >= backlog_sample_step;
            backlog.sample_pending |= sample_due;
        }
        if (post) asio::post(io_, [con, payload, bytes] { send_posted(*con, payload, bytes); });
        if (sample_due) post_to_strand(con, [con] { sample_backlog(*con); });
        return SendStatus::sent;
    }

    /// On the I/O thread, a send that was posted. If it fails, the connection is closing, and its
    /// close is reported as any other.
    template <class Payload>
    static void send_posted(Connection& con, const Payload& payload, std::size_t bytes) {
        {
            std::lock_guard lock(con.backlog.lock);
            --con.backlog.posted;
            if (con.backlog.handshaking) return hold(con, payload, bytes);
        }
        send_now(con, payload);
        std::lock_guard lock(con.backlog.lock);
        con.backlog.applied += bytes;
    }

    /// On the strand. websocketpp ignores a close before the connection is open: it is held till then.
    static void close_now(Connection& con, CloseCode code, const std::string& reason) {
        {
            std::lock_guard lock(con.backlog.lock);
            if (con.backlog.handshaking) {
                if (!con.held) con.held = std::make_unique<HeldUntilOpen>();
                con.held->close.emplace(code, reason);
                return;
            }
        }
        std::error_code ignored;
        con.close(static_cast<websocketpp::close::status::value>(code), reason, ignored);
    }

    /// websocketpp's send; a nonzero error if it failed.
    static std::error_code send_now(Connection& to, const Frame& frame) {
        return to.send(frame.text().data(), frame.size(), websocketpp::frame::opcode::text);
    }
    /// The cast's copy is the one websocketpp's send takes by value: one reference-count update, not two.
    static std::error_code send_now(Connection& to, const std::shared_ptr<void>& message) {
        return to.send(std::static_pointer_cast<Message>(message));
    }

    /// Multi-threaded, websocketpp guards itself; single-threaded, only its I/O thread may call it.
    bool may_call_websocketpp() const {
        if constexpr (multithreaded)
            return true;
        else
            return io_.get_executor().running_in_this_thread();
    }

    /// Runs `work` where the connection's handlers run, after what is queued there.
    template <class Work>
    void post_to_strand(const ConnectionPtr& con, Work&& work) {
        if constexpr (multithreaded)
            con->get_strand()->post(std::forward<Work>(work));
        else
            asio::post(io_, std::forward<Work>(work));
    }

    std::size_t io_threads() const { return std::max<std::size_t>(options_.threads, 1); }

    // --- Shutdown ----------------------------------------------------------------------------------

    /// The acceptor is not thread-safe, and websocketpp re-arms it from whichever thread accepted
    /// last. Our own threads are joined by now; on a host's io_context, close it from an I/O thread
    /// (race-free when the host runs that context on one thread) and wait for that.
    /// The endpoint's ticker stops there too (it exists once listening).
    void stop_listening() {
        std::error_code ignored;
        if (owns_io_) {
            server_.stop_listening(ignored);
            stop_ticking(*ticker_);
            return;
        }
        auto stopped = std::make_shared<std::promise<void>>();
        asio::post(ticker_->strand, [this, ticker = ticker_, stopped] {
            stop_ticking(*ticker);
            std::error_code ignored_too;
            server_.stop_listening(ignored_too);
            stopped->set_value();
        });
        stopped->get_future().wait_for(options_.shutdown_deadline);
    }

    std::vector<handle_type> open_connections() const {
        std::lock_guard lock(connections_mutex_);
        std::vector<handle_type> open;
        for (const Entry& entry : entries_)
            if (!entry.connection.expired()) open.push_back(entry.connection);
        return open;
    }

    /// Until every connection that took a slot is gone: the open ones closing, and upgrades in
    /// flight, which `on_open` closes since `stopping_` is set.
    void wait_for_closes(Clock::time_point deadline) {
        std::unique_lock lock(connections_mutex_);
        all_gone_.wait_until(lock, deadline, [this] { return slots_taken_ == 0; });
    }

    WebsocketppOptions options_;
    const bool owns_io_;
    const std::size_t max_connections_;
    const std::unique_ptr<asio::io_context> own_io_; ///< before `server_`, which uses it to the end
    asio::io_context& io_;
    detail::DispatchQueue dispatch_queue_{io_}; ///< used single-threaded only
    websocketpp_internals::GrownWriteStorage grown_write_storage_;
    Server server_;
    typename ConfigType::rng_type rng_;
    std::shared_ptr<typename ConfigType::con_msg_manager_type> message_manager_ =
        std::make_shared<typename ConfigType::con_msg_manager_type>();
    Processor framer_;
    HttpHandler http_handler_;
    std::atomic<TransportListener<handle_type>*> listener_{nullptr};
    std::atomic<bool> stopping_{false};
    struct Counters {
        std::atomic<std::uint64_t> refused_version{0}, refused_malformed{0}, refused_path{0}, refused_origin{0},
            refused_capacity{0}, refused_address{0}, upgrades_abandoned{0}, pong_timeouts{0}, credential_expiries{0},
            oversized_messages{0}, closes_other{0};
        std::array<std::atomic<std::uint64_t>, WebsocketppTransport::Metrics::close_codes> closes{};
    };
    Counters counters_;
    std::uint16_t port_ = 0;
    std::vector<std::thread> threads_;

    mutable std::mutex connections_mutex_;
    std::condition_variable all_gone_;
    std::size_t slots_taken_ = 0; ///< by upgrades past the limits and by open connections, until gone
    std::unordered_map<std::string, std::size_t> per_address_; ///< `slots_taken_` by address
    /// An open connection and when it is next due (`never` while its strand handles it).
    struct Entry {
        handle_type connection;
        Clock::time_point due = never;
    };
    std::vector<Entry> entries_; ///< indexed by `ConnectionState::entry`; free ones hold no connection
    std::vector<std::uint32_t> free_entries_;
    std::size_t open_count_ = 0;
    std::shared_ptr<Ticker> ticker_;
    /// What open connections answer to `get_uri()`, `get_request()`, `get_response()`: see release_upgrade.
    const websocketpp::uri_ptr open_uri_ =
        std::make_shared<websocketpp::uri>(secure, options_.bind_address, options_.websocket_path);
    const Request blank_request_;
    const Response blank_response_;
};

template <bool Multithreaded>
std::unique_ptr<WebsocketppTransport::Impl> make_endpoint(asio::io_context* io, WebsocketppOptions options) {
    if (options.tls) return std::make_unique<Endpoint<TlsConfig<Multithreaded>>>(io, std::move(options));
    return std::make_unique<Endpoint<PlainConfig<Multithreaded>>>(io, std::move(options));
}

/// Single-threaded only on one I/O thread of the transport's own: a host's io_context may have more.
std::unique_ptr<WebsocketppTransport::Impl> make_endpoint(asio::io_context* io, WebsocketppOptions options) {
    if (io == nullptr && options.threads <= 1) return make_endpoint<false>(nullptr, std::move(options));
    return make_endpoint<true>(io, std::move(options));
}

} // namespace

SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(PlainConfig<false>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(PlainConfig<true>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(TlsConfig<false>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(TlsConfig<true>)

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
