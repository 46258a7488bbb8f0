// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// loadgen: the WebSocket load generator of the side-by-side benchmark (bench/load/run.sh drives it).
// Speaks the example server's protocol (README.md, "Wire protocol") to any server that does.
//
//   loadgen --workload idle|idle-after-storm|saturation|publish|rate|direct|storm|resume
//           --port N|--ports A,B --secret S
//           [--host 127.0.0.1] [--server-pid PID] [--clients N] [--steps N,N,...] [--rate R]
//           [--seconds S] [--timeout S] [--senders N] [--window N] [--via ws|http] [--quickack 1]
//           [--hold S] [--deflate 1] [--inflate-every N] [--broadcast-bytes N] [--cpu-pids P,P,...]
//
// --window: broadcasts outstanding at most (saturation: 32, counted in deliveries; publish: 64,
// counted by the copy reaching connection 0). --via: publish's publisher, a WebSocket connection
// (the default) or an HTTP client of `POST /api/publish`. --quickack 1: a diagnostic, the client
// acknowledges every read at once (a normal TCP stack delays ACKs up to 40 ms). --hold: idle keeps every
// connection open that many seconds after its last step (to inspect the server meanwhile).
// --deflate 1: every connection offers permessage-deflate and reads compressed messages, inflating
// one in --inflate-every (1: all). --broadcast-bytes: fan-out Broadcast events of about that size,
// padded with JSON records (e.g. 1024 for 1 KiB events).
// --ports A,B: two nodes of one cluster (social_server --redis) instead of one server: the workloads
// spread their connections over them (workloads.hpp says how); --server-pid is then the first node's
// (memory, system calls), and --cpu-pids P,P,... the processes whose CPU is the server's (default:
// --server-pid), e.g. both nodes and Redis.
// Prints one line of `key=value` pairs on stdout; progress and problems go to stderr.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <sstream>
#include <string>

#include <sys/resource.h>

#include "workloads.hpp"

namespace {

[[noreturn]] void usage(const std::string& problem) {
    std::fprintf(stderr,
                 "loadgen: %s\n"
                 "usage: loadgen --workload idle|idle-after-storm|saturation|publish|rate|direct|storm|resume\n"
                 "               --port N|--ports A,B --secret S\n"
                 "               [--host 127.0.0.1] [--server-pid PID] [--clients N] [--steps N,N,...]\n"
                 "               [--rate R] [--seconds S] [--timeout S] [--senders N] [--window N]\n"
                 "               [--via ws|http] [--quickack 1] [--hold S] [--deflate 1]\n"
                 "               [--inflate-every N] [--broadcast-bytes N] [--cpu-pids P,P,...]\n",
                 problem.c_str());
    std::exit(2);
}

std::map<std::string, std::string> parse_options(int argc, char** argv) {
    std::map<std::string, std::string> options;
    for (int i = 1; i < argc; i += 2) {
        const std::string name = argv[i];
        if (name.rfind("--", 0) != 0 || i + 1 >= argc) usage("expected --name value pairs, got " + name);
        options[name.substr(2)] = argv[i + 1];
    }
    return options;
}

double number(const std::map<std::string, std::string>& options, const std::string& name, double fallback) {
    const auto found = options.find(name);
    if (found == options.end()) return fallback;
    char* end = nullptr;
    const double value = std::strtod(found->second.c_str(), &end);
    if (end == found->second.c_str() || *end != '\0' || value < 0) usage("--" + name + " must be a number >= 0");
    return value;
}

std::vector<std::size_t> counts(const std::string& list) {
    std::vector<std::size_t> values;
    std::istringstream items(list);
    for (std::string item; std::getline(items, item, ',');) values.push_back(std::stoul(item));
    return values;
}

loadgen::Settings settings_from(int argc, char** argv) {
    const auto options = parse_options(argc, argv);
    loadgen::Settings settings;
    const auto text = [&](const std::string& name, std::string fallback) {
        const auto found = options.find(name);
        return found == options.end() ? fallback : found->second;
    };
    settings.workload = text("workload", "");
    settings.secret = text("secret", "");
    if (settings.secret.empty()) usage("--secret is required");
    settings.server.host = text("host", "127.0.0.1");
    settings.server.port = static_cast<std::uint16_t>(number(options, "port", 0));
    for (const std::size_t port : counts(text("ports", "")))
        settings.nodes.push_back({settings.server.host, static_cast<std::uint16_t>(port)});
    if (settings.server.port != 0 && !settings.nodes.empty()) usage("give --port or --ports, not both");
    if (settings.nodes.size() > 2) usage("--ports takes one or two nodes");
    if (!settings.nodes.empty()) settings.server = settings.nodes.front();
    if (settings.server.port == 0) usage("--port or --ports is required");
    settings.server_pid = static_cast<pid_t>(number(options, "server-pid", 0));
    for (const std::size_t pid : counts(text("cpu-pids", std::to_string(settings.server_pid))))
        settings.cpu_pids.push_back(static_cast<pid_t>(pid));
    settings.clients = static_cast<std::size_t>(number(options, "clients", 1000));
    settings.steps = counts(text("steps", ""));
    settings.rate = number(options, "rate", 0);
    settings.seconds = number(options, "seconds", 5);
    settings.timeout = number(options, "timeout", 60);
    settings.senders = static_cast<std::size_t>(number(options, "senders", 0));
    settings.window = static_cast<std::size_t>(number(options, "window", 0));
    settings.via = text("via", "ws");
    settings.quick_ack = number(options, "quickack", 0) != 0;
    settings.hold = number(options, "hold", 0);
    settings.deflate = number(options, "deflate", 0) != 0;
    settings.inflate_every = static_cast<std::uint32_t>(number(options, "inflate-every", 1));
    settings.broadcast_bytes = static_cast<std::size_t>(number(options, "broadcast-bytes", 0));
    return settings;
}

/// Each connection is a file; the hard limit is as far as this process may go.
void raise_open_files_limit() {
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) != 0) return;
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
}

} // namespace

int main(int argc, char** argv) {
    const loadgen::Settings settings = settings_from(argc, argv);
    raise_open_files_limit();
    const std::map<std::string, loadgen::Report (*)(const loadgen::Settings&)> workloads{
        {"idle", loadgen::run_idle},           {"idle-after-storm", loadgen::run_idle_after_storm},
        {"saturation", loadgen::run_saturation}, {"publish", loadgen::run_publish},
        {"rate", loadgen::run_rate},           {"direct", loadgen::run_direct},
        {"storm", loadgen::run_storm},         {"resume", loadgen::run_resume}};
    const auto workload = workloads.find(settings.workload);
    if (workload == workloads.end()) usage("unknown --workload '" + settings.workload + "'");
    try {
        const loadgen::Report report = workload->second(settings);
        std::string line;
        for (const auto& [key, value] : report) line += (line.empty() ? "" : " ") + key + "=" + value;
        std::printf("%s\n", line.c_str());
    } catch (const std::exception& error) {
        std::fprintf(stderr, "loadgen: %s\n", error.what());
        return 1;
    }
    return 0;
}
