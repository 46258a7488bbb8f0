// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "social_app.hpp"

#include "metrics_endpoint.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <switchboard/redis/history.hpp>

#include "http_replies.hpp"
#include "web_assets.hpp"

namespace social {
namespace {

using nlohmann::json;
using switchboard::errc::bad_payload;
using switchboard::HttpRequest;
using switchboard::HttpResponse;
using switchboard::Inbound;
using switchboard::ProtocolError;
using switchboard::UserId;

constexpr std::string_view too_many_recipients = "too_many_recipients";

bool is_admin(const json& claims) {
    const auto admin = claims.find("admin");
    return admin != claims.end() && admin->is_boolean() && admin->get<bool>();
}

const json& object_payload(const Inbound& inbound) {
    if (!inbound.event.data().is_object())
        throw ProtocolError(bad_payload, inbound.event.type() + ": data must be an object");
    return inbound.event.data();
}

const std::string& string_field(const json& data, const char* name) {
    const auto field = data.find(name);
    if (field == data.end() || !field->is_string())
        throw ProtocolError(bad_payload, std::string("\"") + name + "\" must be a string");
    return field->get_ref<const std::string&>();
}

UserId user_field(const json& data, const char* name) {
    const std::string& text = string_field(data, name);
    if (const auto user = UserId::try_parse(text)) return *user;
    throw ProtocolError(bad_payload, std::string("\"") + name + "\" must be a user id (UUID)");
}

/// A list of users (`to`, `users`): a non-empty array of user ids, at most `limit` long.
std::vector<UserId> user_list(const json& data, const char* key, std::size_t limit) {
    const std::string must_be = std::string("\"") + key + "\" must be a non-empty array of user ids";
    const auto list = data.find(key);
    if (list == data.end() || !list->is_array() || list->empty()) throw ProtocolError(bad_payload, must_be);
    if (list->size() > limit)
        throw ProtocolError(too_many_recipients, "at most " + std::to_string(limit) + " users per message");
    std::vector<UserId> users;
    users.reserve(list->size());
    for (const json& entry : *list) {
        const auto user = entry.is_string() ? UserId::try_parse(entry.get_ref<const std::string&>()) : std::nullopt;
        if (!user) throw ProtocolError(bad_payload, must_be);
        users.push_back(*user);
    }
    return users;
}

/// The `event` of a publish request, `{"type":"<EventType>","data":...}`, if it has that form.
std::optional<switchboard::Event> published_event(const json& body) {
    const auto event = body.find("event");
    if (event == body.end() || !event->is_object()) return std::nullopt;
    const auto type = event->find("type");
    if (type == event->end() || !type->is_string() || type->get_ref<const std::string&>().empty()) return std::nullopt;
    return switchboard::Event(type->get<std::string>(), event->value("data", json::object()));
}

/// The identity behind an HTTP API call's bearer token, or the response refusing it.
std::variant<switchboard::Identity, HttpResponse> api_caller(const Manager& manager, const HttpRequest& request) {
    switchboard::UpgradeRequest credentials;
    credentials.path = request.path;
    credentials.query = request.query;
    credentials.headers = request.headers;
    const switchboard::AuthResult verdict = manager.authenticate(credentials);
    if (!verdict) {
        HttpResponse refused = error_response(401, "unauthorized", verdict.failure().reason);
        refused.headers.emplace_back("WWW-Authenticate", "Bearer");
        return refused;
    }
    if (!is_admin(verdict.identity().claims)) return error_response(403, "forbidden", "admin token required");
    return verdict.identity();
}

} // namespace

SocialApp::SocialApp(Manager& manager, AppSettings settings) : manager_(manager), settings_(settings) {
    manager_.on("SendMessage", [this](const Inbound& inbound) { send_message(inbound); });
    manager_.on("MarkRead", [this](const Inbound& inbound) { mark_read(inbound); });
    manager_.on("TypingStarted", [this](const Inbound& inbound) { typing<switchboard::TypingStarted>(inbound); });
    manager_.on("TypingStopped", [this](const Inbound& inbound) { typing<switchboard::TypingStopped>(inbound); });
    manager_.on("Broadcast", [this](const Inbound& inbound) { broadcast(inbound); });
    manager_.on("SubscribePresence", [this](const Inbound& inbound) { watch(inbound, true); });
    manager_.on("UnsubscribePresence", [this](const Inbound& inbound) { watch(inbound, false); });
}

/// The client's data unchanged, plus the server's `from` (never the client's) and `message_id`,
/// to every listed user and to the sender's other devices: into the sender's stream too (with
/// history), so that a device offline meanwhile sees what was sent from another, but not live
/// to the sending connection.
void SocialApp::send_message(const Inbound& inbound) const {
    const json& data = object_payload(inbound);
    std::vector<UserId> to = user_list(data, "to", settings_.max_recipients);
    const UserId& sender = inbound.sender.user;

    json message = data;
    message["from"] = sender;
    message["message_id"] = UserId::random().to_string();
    to.push_back(sender);
    manager_.send_to_users(to, switchboard::Event("MessageSent", std::move(message)), inbound.connection);
}

void SocialApp::mark_read(const Inbound& inbound) const {
    const json& data = object_payload(inbound);
    const UserId to = user_field(data, "to");
    manager_.send_to_user(to, switchboard::MessageRead{string_field(data, "message_id"), inbound.sender.user});
}

template <class Typing>
void SocialApp::typing(const Inbound& inbound) const {
    const json& data = object_payload(inbound);
    const std::vector<UserId> to = user_list(data, "to", settings_.max_recipients);
    manager_.send_to_users(to, Typing{string_field(data, "conversation_id"), inbound.sender.user});
}

void SocialApp::broadcast(const Inbound& inbound) const {
    if (!is_admin(inbound.sender.claims))
        throw ProtocolError(switchboard::errc::forbidden, "only admins may broadcast");
    manager_.broadcast(switchboard::Event("Broadcast", inbound.event.data()));
}

/// `{"users":[...]}`: under scoped presence, hear (or stop hearing) of these users.
void SocialApp::watch(const Inbound& inbound, bool subscribe) const {
    const std::vector<UserId> listed = user_list(object_payload(inbound), "users", settings_.max_recipients);
    if (subscribe)
        manager_.watch_presence(inbound.connection, listed);
    else
        manager_.unwatch_presence(inbound.connection, listed);
}

// --- HTTP API ---------------------------------------------------------------------------------------

HttpResponse SocialApp::handle_http(const HttpRequest& request) const {
    if (request.path == "/healthz") return json_response(200, {{"status", "ok"}});
    if (request.path == "/metrics") return metrics(request);
    const bool is_publish = request.path == "/api/publish";
    const bool is_presence = request.path == "/api/presence";
    if (!is_publish && !is_presence) return error_response(404, "not_found", "no such resource");
    const char* method = is_publish ? "POST" : "GET";
    if (request.method != method) return method_not_allowed(method);
    auto caller = api_caller(manager_, request);
    if (auto* refusal = std::get_if<HttpResponse>(&caller)) return std::move(*refusal);
    return is_publish ? publish(request) : presence();
}

/// `{"to":[...]|"broadcast":true,"event":{"type":..,"data":..}}` -> `{"delivered":n}`; 503
/// `overloaded` with `Retry-After` when the history's store is behind (nothing was sent).
HttpResponse SocialApp::publish(const HttpRequest& request) const {
    const json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return error_response(400, "invalid_json", "the body must be a JSON object");
    const std::optional<switchboard::Event> outgoing = published_event(body);
    if (!outgoing) return error_response(400, "bad_request", R"("event" must be {"type":"<EventType>","data":...})");

    const bool to_everyone = body.value("broadcast", json(false)) == json(true);
    if (to_everyone == body.contains("to"))
        return error_response(400, "bad_request", R"(give exactly one of "to" and "broadcast":true)");
    if (to_everyone) return json_response(200, {{"delivered", manager_.broadcast(*outgoing)}});
    try {
        return json_response(200, {{"delivered", manager_.send_to_users(user_list(body, "to", settings_.max_recipients),
                                                                         *outgoing)}});
    } catch (const switchboard::HistoryOverloaded& error) {
        HttpResponse refused = error_response(503, error.code(), error.what());
        refused.headers.emplace_back("Retry-After", "1");
        return refused;
    } catch (const ProtocolError& error) {
        return error_response(400, error.code(), error.what());
    }
}

/// `GET /metrics` with an admin token (or unauthenticated on `--metrics-port`, see metrics_endpoint.hpp).
HttpResponse SocialApp::metrics(const HttpRequest& request) const {
    if (request.method != "GET") {
        HttpResponse refused = error_response(405, "method_not_allowed", "use GET");
        refused.headers.emplace_back("Allow", "GET");
        return refused;
    }
    auto caller = api_caller(manager_, request);
    if (auto* refusal = std::get_if<HttpResponse>(&caller)) return std::move(*refusal);
    return metrics_response(manager_);
}

/// Cluster-wide with `--redis` (the backplane's copy of who is online anywhere; `connections`
/// counts this node's).
HttpResponse SocialApp::presence() const {
    json online = json::array();
    for (const UserId& user : manager_.online_users_in_cluster())
        online.push_back({{"user_id", user}, {"connections", manager_.connection_count(user)}});
    return json_response(200, {{"users_online", online.size()},
                               {"connections", manager_.connection_count()},
                               {"online", std::move(online)}});
}

// --- The whole server ---------------------------------------------------------------------------------

namespace {

/// The embedded store, or (`history_on_redis`) the cluster's, whose epochs and tops outlive the
/// events by a week, and which publishes each append with its offset to the nodes of `cluster`
/// and answers on its I/O thread.
std::shared_ptr<switchboard::History> make_history(const ServerOptions& server, ClusterNode* cluster) {
    const switchboard::MemoryHistoryOptions& bounds = *server.history;
    if (!server.history_on_redis || !cluster) return std::make_shared<switchboard::MemoryHistory>(bounds);
    switchboard::redis::RedisHistoryOptions options;
    options.host = server.redis->shards.front().host;
    options.port = server.redis->shards.front().port;
    options.more_shards.assign(server.redis->shards.begin() + 1, server.redis->shards.end());
    options.prefix = server.redis->prefix;
    options.backplane_prefix = server.redis->prefix;
    options.node_id = cluster->backplane()->node_id();
    options.command_timeout = server.redis->command_timeout;
    options.max_unanswered = server.redis->max_unanswered;
    options.max_events_per_user = bounds.max_events_per_user;
    options.max_age = bounds.max_age;
    options.meta_ttl = bounds.max_age.count() == 0 ? std::chrono::milliseconds(0)
                                                   : options.max_age + std::chrono::hours(24 * 7);
    return cluster->history(std::move(options));
}

switchboard::ManagerOptions manager_options(const ServerOptions& server, asio::any_io_executor executor,
                                            ClusterNode* cluster) {
    const auto& log = server.log;
    switchboard::ManagerOptions options;
    if (cluster) options.backplane = cluster->backplane();
    options.presence.mode = server.presence;
    options.limits = server.limits;
    if (server.history) options.history = make_history(server, cluster);
    options.max_replay = server.max_replay;
    options.presence.executor = std::move(executor);
    options.hooks.connected = [log](switchboard::ConnectionId id, const switchboard::Identity& identity) {
        log("connect user=" + identity.user.to_string() + " connection=" + id.to_string());
    };
    options.hooks.disconnected = [log](switchboard::ConnectionId id, const UserId& user) {
        log("disconnect user=" + user.to_string() + " connection=" + id.to_string());
    };
    options.hooks.refused = [log](const switchboard::UpgradeRequest& request,
                                  const switchboard::AuthFailure& failure) {
        log("refused upgrade from " + request.remote_address + ": " + std::to_string(failure.status) + " " +
            failure.reason);
    };
    return options;
}

} // namespace

SocialServer::SocialServer(ServerOptions options)
    : cluster_(options.redis ? std::make_unique<ClusterNode>(*options.redis, options.log) : nullptr),
      transport_(std::move(options.transport)),
      manager_(transport_, switchboard::JwtAuthenticator(options.jwt),
               manager_options(options, transport_.executor(), cluster_.get())),
      app_(manager_, options.app) {
    if (options.dev_routes) dev_routes_.emplace(options.jwt.key, app_);
    transport_.set_http_handler([this](const HttpRequest& request) { return handle_http(request); });
    if (options.metrics_port) metrics_listener_ = std::make_unique<MetricsListener>(manager_, *options.metrics_port);
}

/// The demo page's fixed files, then the development routes (if mounted), then the app's API.
HttpResponse SocialServer::handle_http(const HttpRequest& request) const {
    if (auto asset = web_asset(request)) return std::move(*asset);
    if (dev_routes_)
        if (auto answer = dev_routes_->handle(request)) return std::move(*answer);
    return app_.handle_http(request);
}

SocialServer::~SocialServer() { shutdown(); }

void SocialServer::start() {
    if (metrics_listener_) metrics_listener_->start();
    transport_.start();
    manager_.start_stale_sweep(transport_.executor());
}
std::uint16_t SocialServer::port() const { return transport_.port(); }
std::string SocialServer::node_id() const { return cluster_ ? cluster_->backplane()->node_id() : std::string(); }
std::uint16_t SocialServer::metrics_port() const { return metrics_listener_ ? metrics_listener_->port() : 0; }
void SocialServer::shutdown() {
    if (metrics_listener_) metrics_listener_->shutdown(); // it reads the manager
    manager_.stop_stale_sweep();
    transport_.shutdown();
}

} // namespace social
