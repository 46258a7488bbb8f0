// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// wspp_baseline: the server a developer would write on bare websocketpp instead of Switchboard,
// speaking the example server's protocol (README.md, "Wire protocol"): the benchmark's baseline.
//
//   wspp_baseline --port N --jwt-secret S [--bind 127.0.0.1] [--presence all|none] [--frame-once]
//                 [--tcp-nodelay]
//
// One io thread, one std::unordered_map of user -> handles, each event serialized once. The
// example server's `POST /api/publish` too, for its broadcast form only (`{"broadcast":true,
// "event":{...}}`, admin bearer token), sent as a client's Broadcast would be. By default
// every recipient gets `send(hdl, text)`, which copies and frames the text per recipient
// (websocketpp's default settings otherwise, 16 KiB read buffer included). With --frame-once the
// frame is built once with the hybi13 processor and the prepared message shared by every recipient.
// Tokens are checked with Switchboard's JwtAuthenticator, so authentication costs the same as in
// the example server. `--presence none` sends no UserOnline/UserOffline (for the workloads that
// measure something else: presence to everyone makes connecting N users cost N^2 frames).
// `--tcp-nodelay` sets TCP_NODELAY on accepted sockets, as Switchboard and Node `ws` do by default:
// the same socket settings as theirs, for a comparison of the servers alone.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <switchboard/auth/jwt.hpp>
#include <switchboard/user_id.hpp>

namespace {

using nlohmann::json;
using switchboard::UserId;

/// What the server remembers of a connection, kept inside websocketpp's connection object.
struct ConnectionData {
    UserId user;
    bool admin = false;
    bool registered = false;
};

struct BaselineConfig : websocketpp::config::asio {
    using type = BaselineConfig;
    using connection_base = ConnectionData;
};

using Server = websocketpp::server<BaselineConfig>;
using Handle = websocketpp::connection_hdl;
using MessagePtr = Server::message_ptr;

struct Options {
    std::string bind = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string secret;
    bool presence = true;
    bool frame_once = false;
    bool tcp_no_delay = false;
};

class BaselineServer {
public:
    explicit BaselineServer(const Options& options)
        : options_(options),
          auth_(jwt_options(options.secret)),
          framer_(false, true, message_manager_, rng_) {
        server_.clear_access_channels(websocketpp::log::alevel::all);
        server_.clear_error_channels(websocketpp::log::elevel::all);
        server_.init_asio();
        server_.set_reuse_addr(true);
        server_.set_validate_handler([this](Handle h) { return validate(h); });
        server_.set_open_handler([this](Handle h) { opened(h); });
        server_.set_close_handler([this](Handle h) { gone(h); });
        server_.set_fail_handler([this](Handle h) { gone(h); });
        server_.set_message_handler([this](Handle h, MessagePtr m) { received(h, m); });
        server_.set_http_handler([this](Handle h) { answer_http(h); });
        if (options.tcp_no_delay)
            server_.set_tcp_post_init_handler([this](Handle h) {
                std::error_code ignored;
                server_.get_con_from_hdl(h)->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
            });
    }

    void run() {
        server_.listen(asio::ip::tcp::endpoint(asio::ip::make_address(options_.bind), options_.port));
        server_.start_accept();
        std::printf("listening on ws://%s:%u/ws%s%s\n", options_.bind.c_str(), options_.port,
                    options_.frame_once ? " (frame once)" : "", options_.tcp_no_delay ? " (TCP_NODELAY)" : "");
        std::fflush(stdout);
        asio::signal_set stop(server_.get_io_service(), SIGINT, SIGTERM);
        stop.async_wait([this](const std::error_code&, int) { server_.stop(); });
        server_.run();
    }

private:
    static switchboard::JwtOptions jwt_options(const std::string& secret) {
        switchboard::JwtOptions options;
        options.key = secret;
        return options;
    }

    /// The request's path, query and headers, as the authenticator reads them.
    static switchboard::UpgradeRequest credentials(const Server::connection_ptr& con) {
        switchboard::UpgradeRequest request;
        const std::string& resource = con->get_resource();
        const std::size_t question = resource.find('?');
        request.path = resource.substr(0, question);
        if (question != std::string::npos) request.query = resource.substr(question + 1);
        for (const auto& [name, value] : con->get_request().get_headers()) request.headers.emplace_back(name, value);
        return request;
    }

    static bool is_admin(const switchboard::Identity& identity) {
        const json& claims = identity.claims;
        return claims.contains("admin") && claims["admin"] == true;
    }

    bool validate(Handle handle) {
        const Server::connection_ptr con = server_.get_con_from_hdl(handle);
        const switchboard::UpgradeRequest request = credentials(con);
        if (request.path != "/ws") {
            con->set_status(websocketpp::http::status_code::not_found);
            return false;
        }
        const switchboard::AuthResult verdict = auth_.authenticate(request);
        if (!verdict) {
            con->set_status(websocketpp::http::status_code::unauthorized);
            con->set_body(json{{"error", "unauthorized"}, {"reason", verdict.failure().reason}}.dump());
            return false;
        }
        con->user = verdict.identity().user;
        con->admin = is_admin(verdict.identity());
        return true;
    }

    /// `POST /api/publish` `{"broadcast":true,"event":{"type":..,"data":..}}` -> `{"delivered":n}`.
    void answer_http(Handle handle) {
        namespace status = websocketpp::http::status_code;
        const Server::connection_ptr con = server_.get_con_from_hdl(handle);
        const auto reply = [&](status::value code, const json& body) {
            con->set_status(code);
            con->append_header("Content-Type", "application/json");
            con->set_body(body.dump());
        };
        const switchboard::UpgradeRequest request = credentials(con);
        if (request.path != "/api/publish") return reply(status::not_found, {{"error", "not_found"}});
        if (con->get_request().get_method() != "POST")
            return reply(status::method_not_allowed, {{"error", "use POST"}});
        const switchboard::AuthResult verdict = auth_.authenticate(request);
        if (!verdict) return reply(status::unauthorized, {{"error", "unauthorized"}});
        if (!is_admin(verdict.identity())) return reply(status::forbidden, {{"error", "forbidden"}});
        const json body = json::parse(con->get_request_body(), nullptr, /*allow_exceptions=*/false);
        const bool to_everyone = body.is_object() && body.contains("broadcast") && body["broadcast"] == true;
        const json& published = to_everyone && body.contains("event") ? body["event"] : json::object();
        if (!published.contains("type") || !published["type"].is_string())
            return reply(status::bad_request,
                         {{"error", "bad_request"}, {"reason", "this baseline publishes to everyone only"}});
        const std::size_t delivered =
            send_to_all(event(published["type"].get<std::string>(), published.value("data", json::object())));
        reply(status::ok, {{"delivered", delivered}});
    }

    void opened(Handle handle) {
        const Server::connection_ptr con = server_.get_con_from_hdl(handle);
        con->registered = true;
        std::vector<Handle>& handles = users_[con->user];
        handles.push_back(handle);
        if (handles.size() == 1 && options_.presence)
            send_to_all(event("UserOnline", json{{"user_id", con->user.to_string()}}));
    }

    void gone(Handle handle) {
        const Server::connection_ptr con = server_.get_con_from_hdl(handle);
        if (!con->registered) return;
        con->registered = false;
        const auto user = users_.find(con->user);
        std::vector<Handle>& handles = user->second;
        handles.erase(std::remove_if(handles.begin(), handles.end(),
                                     [&](const Handle& other) { return !handle.owner_before(other) &&
                                                                       !other.owner_before(handle); }),
                      handles.end());
        if (!handles.empty()) return;
        users_.erase(user);
        if (options_.presence) send_to_all(event("UserOffline", json{{"user_id", con->user.to_string()}}));
    }

    void received(Handle handle, const MessagePtr& message) {
        const Server::connection_ptr con = server_.get_con_from_hdl(handle);
        const json envelope = json::parse(message->get_payload(), nullptr, /*allow_exceptions=*/false);
        if (!envelope.is_object() || !envelope.contains("type") || !envelope["type"].is_string())
            return reply_error(handle, "invalid_envelope", "expected {\"type\":...,\"data\":...}");
        const std::string& type = envelope["type"].get_ref<const std::string&>();
        const json data = envelope.value("data", json::object());
        if (type == "SendMessage") return send_message(handle, *con, data);
        if (type == "Broadcast") {
            if (!con->admin) return reply_error(handle, "forbidden", "only admins may broadcast");
            send_to_all(event("Broadcast", data));
            return;
        }
        reply_error(handle, "unknown_type", "no handler for " + type);
    }

    /// The client's data plus `from` and `message_id`, to every connection of each listed user and to
    /// the sender's other connections.
    void send_message(Handle handle, const ConnectionData& sender, const json& data) {
        const auto to = data.find("to");
        if (!data.is_object() || to == data.end() || !to->is_array() || to->empty() || to->size() > 100)
            return reply_error(handle, "bad_payload", "\"to\" must be an array of 1 to 100 user ids");
        std::vector<UserId> recipients;
        for (const json& entry : *to) {
            const auto user = entry.is_string() ? UserId::try_parse(entry.get_ref<const std::string&>()) : std::nullopt;
            if (!user) return reply_error(handle, "bad_payload", "\"to\" must hold user ids");
            if (*user != sender.user && std::find(recipients.begin(), recipients.end(), *user) == recipients.end())
                recipients.push_back(*user);
        }
        json message = data;
        message["from"] = sender.user.to_string();
        message["message_id"] = UserId::random().to_string();
        const std::string text = event("MessageSent", message);
        for (const UserId& user : recipients) {
            const auto found = users_.find(user);
            if (found == users_.end()) continue;
            for (const Handle& recipient : found->second) send(recipient, text);
        }
        for (const Handle& own : users_[sender.user])
            if (handle.owner_before(own) || own.owner_before(handle)) send(own, text);
    }

    void reply_error(Handle handle, const std::string& code, const std::string& message) {
        send(handle, event("Error", json{{"code", code}, {"message", message}}));
    }

    static std::string event(const std::string& type, const json& data) {
        return json{{"type", type}, {"data", data}}.dump();
    }

    void send(Handle handle, const std::string& text) {
        std::error_code ignored;
        server_.send(handle, text, websocketpp::frame::opcode::text, ignored);
    }

    /// Returns the connections sent to.
    std::size_t send_to_all(const std::string& text) {
        if (options_.frame_once) return send_prepared_to_all(text);
        std::size_t sent = 0;
        for (const auto& [user, handles] : users_)
            for (const Handle& handle : handles) {
                send(handle, text);
                ++sent;
            }
        return sent;
    }

    /// One frame for everyone: server frames are unmasked, so the same bytes suit every connection.
    std::size_t send_prepared_to_all(const std::string& text) {
        MessagePtr in = message_manager_->get_message(websocketpp::frame::opcode::text, text.size());
        in->append_payload(text);
        MessagePtr out = message_manager_->get_message();
        if (framer_.prepare_data_frame(in, out)) return 0;
        std::error_code ignored;
        std::size_t sent = 0;
        for (const auto& [user, handles] : users_)
            for (const Handle& handle : handles)
                if (const Server::connection_ptr con = server_.get_con_from_hdl(handle, ignored)) {
                    con->send(out);
                    ++sent;
                }
        return sent;
    }

    Options options_;
    switchboard::JwtAuthenticator auth_;
    Server server_;
    std::unordered_map<UserId, std::vector<Handle>> users_;
    BaselineConfig::rng_type rng_;
    std::shared_ptr<BaselineConfig::con_msg_manager_type> message_manager_ =
        std::make_shared<BaselineConfig::con_msg_manager_type>();
    websocketpp::processor::hybi13<BaselineConfig> framer_;
};

[[noreturn]] void usage(const std::string& problem) {
    std::fprintf(stderr,
                 "wspp_baseline: %s\n"
                 "usage: wspp_baseline --port N --jwt-secret S [--bind ADDR] [--presence all|none] [--frame-once]\n"
                 "                     [--tcp-nodelay]\n",
                 problem.c_str());
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--frame-once") options.frame_once = true;
        else if (arg == "--tcp-nodelay") options.tcp_no_delay = true;
        else if (arg == "--port") options.port = static_cast<std::uint16_t>(std::stoul(value()));
        else if (arg == "--bind") options.bind = value();
        else if (arg == "--jwt-secret") options.secret = value();
        else if (arg == "--presence") options.presence = value() != "none";
        else usage("unknown argument " + arg);
    }
    if (options.secret.empty()) usage("--jwt-secret is required");
    return options;
}

} // namespace

int main(int argc, char** argv) {
    try {
        BaselineServer(parse(argc, argv)).run();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "wspp_baseline: %s\n", error.what());
        return 1;
    }
    return 0;
}
