// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// social_server: the bundled example server. See README.md, "Example server".
//
//   social_server [FLAG...]                    run the server
//   social_server token <user-uuid> [FLAG...]  print a token for that user
//   social_server --help                       the flags of both (server_flags, token_flags below)

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <pthread.h>

#include "social_app.hpp"

namespace {

/// Used when neither --jwt-secret nor SWITCHBOARD_JWT_SECRET is given, so that `make example`,
/// `social_server token` and the demo page (which gets tokens from POST /api/dev/token, served with
/// this secret only) work out of the box. Never use it in production.
constexpr const char* development_secret = "switchboard-development-secret-do-not-use-in-production";

void log_line(std::string_view line) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc); // I/O threads log too: std::gmtime's shared buffer would race
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    std::fprintf(stdout, "%s %.*s\n", stamp, static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
}

/// A flag of a command: `--name VALUE`, or a bare `--name` when `value` is empty.
struct Flag {
    std::string_view name;
    std::string_view value;    ///< what it takes, as the usage names it
    std::string_view fallback; ///< its value when not given; empty: none
    std::string_view help;
};

/// Every flag the server takes, in the order the usage lists them.
constexpr Flag server_flags[] = {
    {"--bind", "ADDR", "127.0.0.1", "address to listen on"},
    {"--port", "N", "8080", "port to listen on; 0 picks a free one"},
    {"--threads", "N", "1", "I/O threads"},
    {"--jwt-secret", "S", "", "HS256 secret (else SWITCHBOARD_JWT_SECRET, else a public development one)"},
    {"--tls-cert", "FILE", "", "PEM certificate chain: serve wss:// (with --tls-key)"},
    {"--tls-key", "FILE", "", "PEM private key of --tls-cert"},
    {"--ping-interval", "MS", "25000", "ping each connection every MS milliseconds"},
    {"--pong-timeout", "MS", "10000", "close a connection whose pong takes longer"},
    {"--presence", "all|coalesced|scoped", "all", "who hears of users coming online and going offline"},
    {"--tcp-nodelay", "on|off", "on", "send small frames at once, not after the peer's ACK"},
    {"--compression", "on|off", "on", "permessage-deflate with the clients that offer it"},
    {"--compression-threshold", "BYTES", "256", "messages shorter than this go out uncompressed"},
    {"--production", "", "", "needs a 32-byte secret and --allowed-origins; caps each address at 256"},
    {"--allowed-origins", "URL,URL", "", "the Origins that may upgrade (default: any)"},
    {"--max-connections", "N", "0", "connections in all; 0: the open-files limit - 64"},
    {"--max-connections-per-address", "N", "0", "connections from one IP address; 0: no limit"},
    {"--max-connections-per-user", "N", "10", "connections of one user; 0: no limit"},
    {"--rate", "N", "20", "messages per second a connection may send; 0: no limit"},
    {"--burst", "N", "40", "messages a connection may send at once"},
    {"--max-queued-bytes", "N", "1048576", "outbound backlog that makes a slow consumer; 0: no limit"},
    {"--max-queued-bytes-hard", "N", "4194304", "backlog that closes one under --slow-consumer drop"},
    {"--slow-consumer", "close|drop", "close", "close a slow consumer, or spare it typing and presence"},
    {"--max-message-size", "BYTES", "65536", "largest message a client may send"},
    {"--history", "memory|redis|off", "", "keep each user's durable events for resume: in memory, in the --redis "
                                          "Redis (shared by the nodes), or not (default redis with --redis, "
                                          "memory without)"},
    {"--history-max-events", "N", "1000", "events kept per user; 0: no limit"},
    {"--history-max-bytes", "N", "1048576", "bytes of events kept per user; 0: no limit"},
    {"--history-ttl", "SECONDS", "86400", "how long an event is kept; 0: no limit"},
    {"--history-max-replay", "N", "1000", "events replayed in one resume; past it, recovery is unavailable"},
    {"--history-memory-cap", "BYTES", "268435456", "all history, past which least recently used streams go"},
    {"--redis", "HOST:PORT[,...]", "", "share delivery with other nodes through these Redis shards"},
    {"--redis-prefix", "P", "switchboard", "names the cluster's channels in Redis"},
    {"--redis-timeout", "MS", "500", "how long a Redis command may take before it fails"},
    {"--redis-max-unanswered", "N", "5000", "history calls one Redis has not answered past which durable sends "
                                            "are refused (Error overloaded, HTTP 503); 0: no limit"},
    {"--metrics-port", "N", "", "also serve GET /metrics without a token on 127.0.0.1:N; 0 picks a free one"},
};

/// Every flag of `social_server token`.
constexpr Flag token_flags[] = {
    {"--admin", "", "", "the token may broadcast and call the HTTP API"},
    {"--ttl", "SECONDS", "86400", "how long the token is valid"},
    {"--jwt-secret", "S", "", "HS256 secret, as the server's"},
};

void append_flags(std::string& text, std::string_view title, std::span<const Flag> flags) {
    constexpr std::size_t help_column = 36;
    text += title;
    for (const Flag& flag : flags) {
        std::string line = "  " + std::string(flag.name);
        if (!flag.value.empty()) line += " " + std::string(flag.value);
        line.resize(std::max(line.size() + 2, help_column), ' ');
        line += flag.help;
        if (!flag.fallback.empty()) line += " (default " + std::string(flag.fallback) + ")";
        text += line + '\n';
    }
}

std::string usage_text() {
    std::string text = "usage: social_server [FLAG...]                    run the server\n"
                       "       social_server token <user-uuid> [FLAG...]  print a token for that user\n"
                       "       social_server --help | -h                  print this\n";
    append_flags(text, "\nflags of the server:\n", server_flags);
    append_flags(text, "\nflags of token:\n", token_flags);
    return text;
}

[[noreturn]] void usage(const std::string& problem) {
    std::fprintf(stderr, "social_server: %s\n%s", problem.c_str(), usage_text().c_str());
    std::exit(2);
}

[[noreturn]] void help() {
    std::fputs(usage_text().c_str(), stdout);
    std::exit(0);
}

/// A command line read against the flags of its command. An unknown flag or a missing value ends
/// the program with the usage on stderr and status 2; `--help` or `-h`, with it on stdout and 0.
class Arguments {
public:
    Arguments(std::span<char* const> args, std::span<const Flag> flags) : flags_(flags) {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string_view arg = args[i];
            if (arg == "--help" || arg == "-h") help();
            if (!arg.starts_with('-')) {
                positional.emplace_back(arg);
                continue;
            }
            const Flag* flag = find(arg);
            if (!flag) usage("unknown flag: " + std::string(arg));
            if (flag->value.empty()) given_[std::string(arg)] = "";
            else if (i + 1 < args.size()) given_[std::string(arg)] = args[++i];
            else usage(std::string(arg) + " needs a value");
        }
    }

    bool has(std::string_view name) const {
        known(name);
        return given_.contains(name);
    }

    /// The value given, or the flag's fallback.
    std::string get(std::string_view name) const {
        const Flag& flag = known(name);
        const auto found = given_.find(name);
        return found == given_.end() ? std::string(flag.fallback) : found->second;
    }

    long number(std::string_view name, long low, long high) const {
        const std::string text = get(name);
        char* end = nullptr;
        const long value = std::strtol(text.c_str(), &end, 10);
        if (end == text.c_str() || *end != '\0' || value < low || value > high)
            usage(std::string(name) + " must be a number from " + std::to_string(low) + " to " + std::to_string(high));
        return value;
    }

    std::vector<std::string> positional;

private:
    const Flag* find(std::string_view name) const {
        const auto flag = std::find_if(flags_.begin(), flags_.end(), [&](const Flag& f) { return f.name == name; });
        return flag == flags_.end() ? nullptr : &*flag;
    }

    /// The code asks only for flags of its command's table.
    const Flag& known(std::string_view name) const {
        if (const Flag* flag = find(name)) return *flag;
        throw std::logic_error("no flag " + std::string(name) + " in this command's table");
    }

    std::span<const Flag> flags_;
    std::map<std::string, std::string, std::less<>> given_;
};

std::string jwt_secret(const Arguments& arguments, bool production) {
    const char* from_env = std::getenv("SWITCHBOARD_JWT_SECRET");
    const std::string given = arguments.get("--jwt-secret");
    const std::string secret = given.empty() && from_env ? from_env : given;
    if (!secret.empty()) return secret;
    if (production) usage("--production needs --jwt-secret or SWITCHBOARD_JWT_SECRET");
    std::fprintf(stderr, "warning: no --jwt-secret or SWITCHBOARD_JWT_SECRET; using the public development secret\n");
    return development_secret;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        if (comma > start) items.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return items;
}

/// `--production` turns on what a public deployment needs: a real secret of at least 32 bytes,
/// an origin allowlist against cross-site WebSocket hijacking, and a per-address cap.
void apply_production_settings(const Arguments& arguments, social::ServerOptions& options) {
    if (options.jwt.key.size() < 32) usage("--production needs a JWT secret of at least 32 bytes");
    if (options.transport.allowed_origins.empty()) usage("--production needs --allowed-origins");
    if (!arguments.has("--max-connections-per-address")) options.transport.max_connections_per_address = 256;
}

void apply_limits(const Arguments& arguments, social::ServerOptions& options) {
    constexpr long unlimited = 1L << 40;
    auto& transport = options.transport;
    auto& limits = options.limits;
    transport.allowed_origins = split_list(arguments.get("--allowed-origins"));
    transport.max_connections = arguments.number("--max-connections", 0, unlimited);
    transport.max_connections_per_address = arguments.number("--max-connections-per-address", 0, unlimited);
    transport.max_message_size = arguments.number("--max-message-size", 16, 16L << 20);
    limits.max_connections_per_user = arguments.number("--max-connections-per-user", 0, unlimited);
    limits.inbound_rate = static_cast<double>(arguments.number("--rate", 0, unlimited));
    limits.inbound_burst = static_cast<double>(arguments.number("--burst", 1, unlimited));
    limits.max_queued_bytes = arguments.number("--max-queued-bytes", 0, unlimited);
    limits.max_queued_bytes_hard = arguments.number("--max-queued-bytes-hard", 0, unlimited);
    const std::string policy = arguments.get("--slow-consumer");
    if (policy != "close" && policy != "drop") usage("--slow-consumer must be close or drop");
    limits.slow_consumer = policy == "close" ? switchboard::SlowConsumerPolicy::close
                                             : switchboard::SlowConsumerPolicy::drop_ephemeral;
}

/// `--history memory` (the default without `--redis`): the embedded store, with one flag per
/// bound (0 disables one). `--history redis` (the default with `--redis`): the streams in that
/// Redis, shared by the nodes; of the bounds, the events per user and the age apply there.
void apply_history(const Arguments& arguments, social::ServerOptions& options) {
    constexpr long unlimited = 1L << 40;
    const std::string store = arguments.has("--history") ? arguments.get("--history")
                              : arguments.has("--redis")  ? "redis"
                                                          : "memory";
    if (store != "memory" && store != "redis" && store != "off") usage("--history must be memory, redis or off");
    if (store == "redis" && !arguments.has("--redis")) usage("--history redis needs --redis");
    options.history_on_redis = store == "redis";
    options.max_replay = arguments.number("--history-max-replay", 0, unlimited);
    switchboard::MemoryHistoryOptions bounds;
    bounds.max_events_per_user = arguments.number("--history-max-events", 0, unlimited);
    bounds.max_bytes_per_user = arguments.number("--history-max-bytes", 0, unlimited);
    bounds.max_age = std::chrono::seconds(arguments.number("--history-ttl", 0, 100L * 365 * 24 * 3600));
    bounds.memory_cap = arguments.number("--history-memory-cap", 0, unlimited);
    if (store != "off") options.history = bounds;
}

/// `--redis HOST:PORT[,HOST:PORT...]`: a node of the cluster on those Redis instances, its shards
/// (every node lists the same ones in the same order).
void apply_redis(const Arguments& arguments, social::ServerOptions& options) {
    if (!arguments.has("--redis")) {
        for (const char* flag : {"--redis-prefix", "--redis-timeout", "--redis-max-unanswered"})
            if (arguments.has(flag)) usage(std::string(flag) + " needs --redis");
        return;
    }
    const auto instances = social::parse_redis_list(arguments.get("--redis"));
    if (!instances) usage("--redis must be HOST:PORT[,HOST:PORT...]");
    for (auto shard = instances->begin(); shard != instances->end(); ++shard)
        if (std::find(instances->begin(), shard, *shard) != shard)
            usage("--redis lists " + social::redis_list({*shard}) + " twice");
    options.redis = social::RedisSettings{*instances, arguments.get("--redis-prefix")};
    if (options.redis->prefix.empty()) usage("--redis-prefix must not be empty");
    options.redis->command_timeout = std::chrono::milliseconds(arguments.number("--redis-timeout", 1, 600'000));
    options.redis->max_unanswered = arguments.number("--redis-max-unanswered", 0, 20'000);
}

int print_token(const Arguments& arguments) {
    if (arguments.positional.size() != 1) usage("token needs exactly one user id");
    const auto user = switchboard::UserId::try_parse(arguments.positional[0]);
    if (!user) usage("not a user id (UUID): " + arguments.positional[0]);
    const std::chrono::seconds ttl(arguments.number("--ttl", 1, 366L * 24 * 3600));
    const std::string token = social::mint_token(jwt_secret(arguments, /*production=*/false), *user, ttl,
                                                 arguments.has("--admin"));
    std::printf("%s\n", token.c_str());
    return 0;
}

switchboard::PresenceMode presence_mode(const std::string& name) {
    if (name == "all") return switchboard::PresenceMode::broadcast;
    if (name == "coalesced") return switchboard::PresenceMode::coalesced;
    if (name == "scoped") return switchboard::PresenceMode::scoped;
    usage("--presence must be all, coalesced or scoped");
}

social::ServerOptions server_options(const Arguments& arguments) {
    const bool production = arguments.has("--production");
    social::ServerOptions options;
    options.transport.bind_address = arguments.get("--bind");
    options.transport.port = static_cast<std::uint16_t>(arguments.number("--port", 0, 65535));
    options.transport.threads = static_cast<std::size_t>(arguments.number("--threads", 1, 256));
    options.transport.ping_interval = std::chrono::milliseconds(arguments.number("--ping-interval", 10, 3600000));
    options.transport.pong_timeout = std::chrono::milliseconds(arguments.number("--pong-timeout", 10, 3600000));
    const std::string cert = arguments.get("--tls-cert");
    const std::string key = arguments.get("--tls-key");
    if (cert.empty() != key.empty()) usage("--tls-cert and --tls-key go together");
    if (!cert.empty()) options.transport.tls = switchboard::TlsOptions{cert, key};
    options.jwt.key = jwt_secret(arguments, production);
    options.dev_routes = options.jwt.key == development_secret; // anyone can sign with it anyway
    options.jwt.kept_claims = std::vector<std::string>{"admin"}; // all the app reads; each connection keeps them
    options.presence = presence_mode(arguments.get("--presence"));
    const std::string no_delay = arguments.get("--tcp-nodelay");
    if (no_delay != "on" && no_delay != "off") usage("--tcp-nodelay must be on or off");
    options.transport.tcp_no_delay = no_delay == "on";
    const std::string compression = arguments.get("--compression");
    if (compression != "on" && compression != "off") usage("--compression must be on or off");
    options.transport.compression.enabled = compression == "on";
    options.transport.compression.threshold =
        static_cast<std::size_t>(arguments.number("--compression-threshold", 0, 1L << 30));
    apply_limits(arguments, options);
    apply_history(arguments, options);
    apply_redis(arguments, options);
    if (arguments.has("--metrics-port"))
        options.metrics_port = static_cast<std::uint16_t>(arguments.number("--metrics-port", 0, 65535));
    if (production) apply_production_settings(arguments, options);
    options.log = log_line;
    return options;
}

/// Blocks SIGINT and SIGTERM in every thread started from here on; `wait_for_stop` takes them.
sigset_t block_stop_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    return signals;
}

int wait_for_stop(const sigset_t& signals) {
    int received = 0;
    sigwait(&signals, &received);
    return received;
}

} // namespace

int main(int argc, char** argv) {
    const std::span<char* const> args(argv + 1, static_cast<std::size_t>(argc - 1));
    if (!args.empty() && std::string_view(args[0]) == "token") return print_token(Arguments(args.subspan(1), token_flags));
    const Arguments arguments(args, server_flags);
    if (!arguments.positional.empty()) usage("unknown command: " + arguments.positional[0]);

    const sigset_t stop_signals = block_stop_signals();
    try {
        social::ServerOptions options = server_options(arguments);
        const std::string scheme = options.transport.tls ? "wss" : "ws";
        const std::string bind = options.transport.bind_address;
        const std::optional<social::RedisSettings> redis = options.redis;
        social::SocialServer server(std::move(options));
        server.start();
        if (server.metrics_port() != 0)
            log_line("metrics on http://127.0.0.1:" + std::to_string(server.metrics_port()) + "/metrics");
        if (redis)
            log_line("node " + server.node_id() + " of the cluster on redis " + social::redis_list(redis->shards) +
                     ", prefix " + redis->prefix);
        log_line("listening on " + scheme + "://" + bind + ":" + std::to_string(server.port()) + "/ws");
        const int signal = wait_for_stop(stop_signals);
        log_line(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
        server.shutdown();
        log_line("stopped");
    } catch (const std::exception& error) {
        std::fprintf(stderr, "social_server: %s\n", error.what());
        return 1;
    }
    return 0;
}
