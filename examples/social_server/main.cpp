// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// social_server: the bundled example server. See README.md, "Example server".
//
//   social_server [--bind ADDR] [--port N] [--threads N] [--jwt-secret S]
//                 [--tls-cert FILE --tls-key FILE] [--ping-interval MS] [--pong-timeout MS]
//                 [--presence all|coalesced|scoped] [--tcp-nodelay on|off] [--production]
//                 [--history memory|off] [limits and history bounds, see usage()]
//   social_server token <user-uuid> [--admin] [--ttl SECONDS] [--jwt-secret S]

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <pthread.h>

#include "social_app.hpp"

namespace {

/// Used when neither --jwt-secret nor SWITCHBOARD_JWT_SECRET is given, so that `make example`
/// and `social_server token` work out of the box. Never use it in production.
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

[[noreturn]] void usage(const std::string& problem) {
    std::fprintf(stderr,
                 "social_server: %s\n"
                 "usage: social_server [--bind ADDR] [--port N] [--threads N] [--jwt-secret S]\n"
                 "                     [--tls-cert FILE --tls-key FILE] [--ping-interval MS] [--pong-timeout MS]\n"
                 "                     [--presence all|coalesced|scoped] [--tcp-nodelay on|off] [--production]\n"
                 "                     [--allowed-origins URL,URL] [--max-connections N] [--max-connections-per-address N]\n"
                 "                     [--max-connections-per-user N] [--rate N] [--burst N] [--max-queued-bytes N]\n"
                 "                     [--max-queued-bytes-hard N] [--slow-consumer close|drop]\n"
                 "                     [--max-message-size BYTES]\n"
                 "                     [--history memory|off] [--history-max-events N] [--history-max-bytes N]\n"
                 "                     [--history-ttl SECONDS] [--history-max-replay N] [--history-memory-cap BYTES]\n"
                 "       social_server token <user-uuid> [--admin] [--ttl SECONDS] [--jwt-secret S]\n",
                 problem.c_str());
    std::exit(2);
}

/// `--name value` pairs and bare `--flag`s; anything else is a positional argument.
struct Arguments {
    std::map<std::string, std::string> options;
    std::vector<std::string> positional;

    Arguments(int argc, char** argv, const std::vector<std::string>& flags) {
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            if (arg.rfind("--", 0) != 0) {
                positional.push_back(arg);
            } else if (std::find(flags.begin(), flags.end(), arg) != flags.end()) {
                options[arg] = "true";
            } else if (i + 1 < argc) {
                options[arg] = argv[++i];
            } else {
                usage(arg + " needs a value");
            }
        }
    }

    std::string get(const std::string& name, std::string fallback) const {
        const auto found = options.find(name);
        return found == options.end() ? std::move(fallback) : found->second;
    }

    long number(const std::string& name, long fallback, long low, long high) const {
        const std::string text = get(name, std::to_string(fallback));
        char* end = nullptr;
        const long value = std::strtol(text.c_str(), &end, 10);
        if (end == text.c_str() || *end != '\0' || value < low || value > high)
            usage(name + " must be a number from " + std::to_string(low) + " to " + std::to_string(high));
        return value;
    }
};

std::string jwt_secret(const Arguments& arguments) {
    const char* from_env = std::getenv("SWITCHBOARD_JWT_SECRET");
    const std::string secret = arguments.get("--jwt-secret", from_env ? from_env : "");
    if (!secret.empty()) return secret;
    if (arguments.options.count("--production")) usage("--production needs --jwt-secret or SWITCHBOARD_JWT_SECRET");
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
    if (!arguments.options.count("--max-connections-per-address")) options.transport.max_connections_per_address = 256;
}

void apply_limits(const Arguments& arguments, social::ServerOptions& options) {
    constexpr long unlimited = 1L << 40;
    auto& transport = options.transport;
    auto& limits = options.limits;
    transport.allowed_origins = split_list(arguments.get("--allowed-origins", ""));
    transport.max_connections = arguments.number("--max-connections", 0, 0, unlimited);
    transport.max_connections_per_address = arguments.number("--max-connections-per-address", 0, 0, unlimited);
    transport.max_message_size = arguments.number("--max-message-size", 64 * 1024, 16, 16L << 20);
    limits.max_connections_per_user = arguments.number("--max-connections-per-user", 10, 0, unlimited);
    limits.inbound_rate = static_cast<double>(arguments.number("--rate", 20, 0, unlimited));
    limits.inbound_burst = static_cast<double>(arguments.number("--burst", 40, 1, unlimited));
    limits.max_queued_bytes = arguments.number("--max-queued-bytes", 1L << 20, 0, unlimited);
    limits.max_queued_bytes_hard = arguments.number("--max-queued-bytes-hard", 4L << 20, 0, unlimited);
    const std::string policy = arguments.get("--slow-consumer", "close");
    if (policy != "close" && policy != "drop") usage("--slow-consumer must be close or drop");
    limits.slow_consumer = policy == "close" ? switchboard::SlowConsumerPolicy::close
                                             : switchboard::SlowConsumerPolicy::drop_ephemeral;
}

/// `--history memory` (the default): the embedded store, with one flag per bound (0 disables one).
void apply_history(const Arguments& arguments, social::ServerOptions& options) {
    constexpr long unlimited = 1L << 40;
    const std::string store = arguments.get("--history", "memory");
    if (store != "memory" && store != "off") usage("--history must be memory or off");
    options.max_replay = arguments.number("--history-max-replay", 1000, 0, unlimited);
    switchboard::MemoryHistoryOptions bounds;
    bounds.max_events_per_user = arguments.number("--history-max-events", 1000, 0, unlimited);
    bounds.max_bytes_per_user = arguments.number("--history-max-bytes", 1L << 20, 0, unlimited);
    bounds.max_age = std::chrono::seconds(arguments.number("--history-ttl", 24 * 3600, 0, 100L * 365 * 24 * 3600));
    bounds.memory_cap = arguments.number("--history-memory-cap", 256L << 20, 0, unlimited);
    if (store == "memory") options.history = bounds;
}

int print_token(const Arguments& arguments) {
    if (arguments.positional.size() != 2) usage("token needs exactly one user id");
    const auto user = switchboard::UserId::try_parse(arguments.positional[1]);
    if (!user) usage("not a user id (UUID): " + arguments.positional[1]);
    const long ttl = arguments.number("--ttl", 24 * 3600, 1, 366L * 24 * 3600);
    const long now = static_cast<long>(std::time(nullptr));
    nlohmann::json claims{{"sub", *user}, {"iat", now}, {"exp", now + ttl}};
    if (arguments.options.count("--admin")) claims["admin"] = true;
    std::printf("%s\n", switchboard::sign_hs256(jwt_secret(arguments), claims).c_str());
    return 0;
}

switchboard::PresenceMode presence_mode(const std::string& name) {
    if (name == "all") return switchboard::PresenceMode::broadcast;
    if (name == "coalesced") return switchboard::PresenceMode::coalesced;
    if (name == "scoped") return switchboard::PresenceMode::scoped;
    usage("--presence must be all, coalesced or scoped");
}

social::ServerOptions server_options(const Arguments& arguments) {
    social::ServerOptions options;
    options.transport.bind_address = arguments.get("--bind", "127.0.0.1");
    options.transport.port = static_cast<std::uint16_t>(arguments.number("--port", 8080, 0, 65535));
    options.transport.threads = static_cast<std::size_t>(arguments.number("--threads", 1, 1, 256));
    options.transport.ping_interval = std::chrono::milliseconds(arguments.number("--ping-interval", 25000, 10, 3600000));
    options.transport.pong_timeout = std::chrono::milliseconds(arguments.number("--pong-timeout", 10000, 10, 3600000));
    const std::string cert = arguments.get("--tls-cert", "");
    const std::string key = arguments.get("--tls-key", "");
    if (cert.empty() != key.empty()) usage("--tls-cert and --tls-key go together");
    if (!cert.empty()) options.transport.tls = switchboard::TlsOptions{cert, key};
    options.jwt.key = jwt_secret(arguments);
    options.jwt.kept_claims = std::vector<std::string>{"admin"}; // all the app reads; each connection keeps them
    options.presence = presence_mode(arguments.get("--presence", "all"));
    const std::string no_delay = arguments.get("--tcp-nodelay", "on");
    if (no_delay != "on" && no_delay != "off") usage("--tcp-nodelay must be on or off");
    options.transport.tcp_no_delay = no_delay == "on";
    apply_limits(arguments, options);
    apply_history(arguments, options);
    if (arguments.options.count("--production")) apply_production_settings(arguments, options);
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
    const Arguments arguments(argc, argv, {"--admin", "--production"});
    if (!arguments.positional.empty() && arguments.positional[0] == "token") return print_token(arguments);
    if (!arguments.positional.empty()) usage("unknown command: " + arguments.positional[0]);

    const sigset_t stop_signals = block_stop_signals();
    try {
        social::ServerOptions options = server_options(arguments);
        const std::string scheme = options.transport.tls ? "wss" : "ws";
        const std::string bind = options.transport.bind_address;
        social::SocialServer server(std::move(options));
        server.start();
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
