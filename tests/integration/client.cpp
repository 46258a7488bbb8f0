// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The test client on websocketpp. One `Endpoint<Config>` per client (plain or TLS), with its own
// io_context and thread; the handlers record what they see in `Impl`'s state, under its mutex, and
// wake the waiters.

#include "client.hpp"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <type_traits>

#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>

namespace integration {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

template <class Base>
struct Config : Base {
    using type = Config;
    // websocketpp logs every frame by default; tests want their own output only.
    static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
    static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
};

using PlainConfig = Config<websocketpp::config::asio_client>;
using TlsConfig = Config<websocketpp::config::asio_tls_client>;

constexpr std::chrono::milliseconds close_handshake_timeout{2000};

} // namespace

std::optional<std::string> HandshakeResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return value;
    return std::nullopt;
}

/// The client's recorded state and its waiters; the websocketpp side is in `Endpoint`.
class TestClient::Impl {
public:
    explicit Impl(ClientOptions options) : options_(options) {}
    virtual ~Impl() = default;

    /// Starts the opening handshake; throws `std::invalid_argument` for a URL websocketpp rejects.
    virtual void start_connect(const std::string& url, const Headers& headers) = 0;
    virtual bool send(std::string_view payload, bool binary) = 0;
    virtual void close(int code, std::string_view reason) = 0;

    bool wait_until(const std::function<bool(const ClientState&)>& condition,
                    std::chrono::milliseconds timeout) const {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return condition(state_); });
    }

    ClientState state() const {
        std::lock_guard lock(mutex_);
        return state_;
    }

    HandshakeResponse response() const {
        std::lock_guard lock(mutex_);
        return response_;
    }

protected:
    /// Applies `change(state, response)` under the lock, then wakes every waiter.
    template <class Change>
    void update(Change&& change) {
        {
            std::lock_guard lock(mutex_);
            change(state_, response_);
        }
        changed_.notify_all();
    }

    const ClientOptions options_;

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    ClientState state_;
    HandshakeResponse response_;
};

namespace {

template <class ConfigType>
class Endpoint final : public TestClient::Impl {
    using Client = websocketpp::client<ConfigType>;
    using ConnectionPtr = typename Client::connection_ptr;
    using MessagePtr = typename Client::message_ptr;
    static constexpr bool secure = std::is_same_v<ConfigType, TlsConfig>;

public:
    explicit Endpoint(ClientOptions options) : Impl(options) {
        client_.clear_access_channels(websocketpp::log::alevel::all);
        client_.clear_error_channels(websocketpp::log::elevel::all);
        client_.init_asio();
        client_.set_open_handshake_timeout(static_cast<long>(default_wait.count()));
        client_.set_close_handshake_timeout(static_cast<long>(close_handshake_timeout.count()));
        install_handlers();
        if constexpr (secure) install_tls();
        client_.start_perpetual(); // keep run() going while no connection exists yet
        thread_ = std::thread([this] { client_.run(); });
    }

    ~Endpoint() override {
        client_.stop_perpetual();
        client_.stop();
        thread_.join();
    }

    void start_connect(const std::string& url, const Headers& headers) override {
        std::error_code error;
        const ConnectionPtr con = client_.get_connection(url, error);
        if (error) throw std::invalid_argument("cannot connect to " + url + ": " + error.message());
        for (const auto& [name, value] : headers) con->append_header(name, value);
        handle_ = con->get_handle();
        client_.connect(con);
    }

    bool send(std::string_view payload, bool binary) override {
        std::error_code error;
        client_.send(handle_, payload.data(), payload.size(),
                     binary ? websocketpp::frame::opcode::binary : websocketpp::frame::opcode::text, error);
        return !error;
    }

    void close(int code, std::string_view reason) override {
        std::error_code ignored; // closing twice, or a connection already gone, is fine for a test
        client_.close(handle_, static_cast<websocketpp::close::status::value>(code), std::string(reason), ignored);
    }

private:
    void install_handlers() {
        client_.set_open_handler([this](websocketpp::connection_hdl h) { on_handshake_done(h, true); });
        client_.set_fail_handler([this](websocketpp::connection_hdl h) { on_handshake_done(h, false); });
        client_.set_close_handler([this](websocketpp::connection_hdl h) { on_close(h); });
        client_.set_message_handler([this](websocketpp::connection_hdl, MessagePtr message) {
            update([&](ClientState& state, HandshakeResponse&) {
                ++state.received;
                if (options_.keep_messages) state.messages.push_back(message->get_payload());
            });
        });
        // Returning false suppresses the pong: that is how a test plays a dead peer.
        client_.set_ping_handler([this](websocketpp::connection_hdl, std::string) {
            update([](ClientState& state, HandshakeResponse&) { ++state.pings; });
            return options_.answer_pings;
        });
    }

    void install_tls() {
        client_.set_tls_init_handler([](websocketpp::connection_hdl) {
            auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
            context->set_verify_mode(asio::ssl::verify_none); // the tests' certificates are throwaway
            return context;
        });
    }

    void on_handshake_done(const websocketpp::connection_hdl& h, bool opened) {
        const ConnectionPtr con = client_.get_con_from_hdl(h);
        HandshakeResponse response = response_of(*con);
        update([&](ClientState& state, HandshakeResponse& recorded) {
            recorded = std::move(response);
            state.open = opened;
            state.ended = !opened;
        });
    }

    void on_close(const websocketpp::connection_hdl& h) {
        const ConnectionPtr con = client_.get_con_from_hdl(h);
        const int code = con->get_remote_close_code();
        std::string reason = con->get_remote_close_reason();
        update([&](ClientState& state, HandshakeResponse&) {
            state.open = false;
            state.ended = true;
            state.close = CloseInfo{code, std::move(reason), state.received};
        });
    }

    static HandshakeResponse response_of(typename Client::connection_type& con) {
        HandshakeResponse response;
        response.status = static_cast<int>(con.get_response_code());
        for (const auto& [name, value] : con.get_response().get_headers()) response.headers.emplace_back(name, value);
        response.body = con.get_response().get_body();
        return response;
    }

    Client client_;
    websocketpp::connection_hdl handle_; // set by connect, then used by the test's thread only
    std::thread thread_;
};

std::unique_ptr<TestClient::Impl> make_endpoint(ClientOptions options) {
    if (options.tls) return std::make_unique<Endpoint<TlsConfig>>(options);
    return std::make_unique<Endpoint<PlainConfig>>(options);
}

} // namespace

TestClient::TestClient(ClientOptions options) : impl_(make_endpoint(options)) {}

TestClient::~TestClient() {
    // A clean close handshake keeps the server's view tidy; the wait is bounded in case the server is gone.
    if (is_open()) {
        close(1000, "test done");
        wait_closed(close_handshake_timeout);
    }
}

bool TestClient::connect(const std::string& url, const Headers& headers, std::chrono::milliseconds timeout) {
    impl_->start_connect(url, headers);
    wait_until([](const ClientState& state) { return state.open || state.ended; }, timeout);
    return is_open();
}

HandshakeResponse TestClient::response() const { return impl_->response(); }

bool TestClient::wait_until(const std::function<bool(const ClientState&)>& condition,
                            std::chrono::milliseconds timeout) const {
    return impl_->wait_until(condition, timeout);
}

bool TestClient::wait_closed(std::chrono::milliseconds timeout) const {
    return wait_until([](const ClientState& state) { return state.ended; }, timeout);
}

ClientState TestClient::state() const { return impl_->state(); }
std::vector<std::string> TestClient::messages() const { return impl_->state().messages; }
bool TestClient::is_open() const { return impl_->state().open; }

bool TestClient::send_text(std::string_view payload) { return impl_->send(payload, false); }
bool TestClient::send_binary(std::string_view payload) { return impl_->send(payload, true); }
void TestClient::close(int code, std::string_view reason) { impl_->close(code, reason); }

} // namespace integration
