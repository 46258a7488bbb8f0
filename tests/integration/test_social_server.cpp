// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The bundled `social_server` program, run as a child process: it prints where it listens, serves a
// client with a token it minted itself, and on SIGTERM closes the client with 1001 and exits 0. Its
// command line: `--help` answers on stdout, anything it does not take is refused with the usage.

#include <signal.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include <switchboard/redis/shards.hpp>

#include "../redis/redis_server.hpp"
#include "../redis/test_client.hpp"
#include "child_process.hpp"
#include "harness.hpp"
#include "http_client.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

const std::string program = SOCIAL_SERVER_PATH;
/// Starting and stopping a process (sanitized builds included) takes longer than a loopback round trip.
constexpr auto process_wait = 15s;

std::string trim_newline(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

/// "<timestamp> listening on ws://127.0.0.1:<port>/ws" -> the URL.
std::string listening_url(ChildProcess& server) {
    const std::optional<std::string> line = server.read_line_containing("listening on ", process_wait);
    REQUIRE(line);
    std::smatch match;
    REQUIRE(std::regex_search(*line, match, std::regex(R"(listening on (ws://127\.0\.0\.1:[0-9]+/ws)$)")));
    return match[1];
}

/// Two social_server processes on the Redis instances `redis` (`HOST:PORT[,...]`) with `prefix`
/// and the flags `more`, each checked to log the cluster it joined.
struct TwoNodes {
    TwoNodes(const std::string& redis, const std::string& prefix, const std::vector<std::string>& more = {})
        : a(command(redis, prefix, more)), b(command(redis, prefix, more)) {
        for (ChildProcess* node : {&a, &b})
            CHECK(node->read_line_containing("of the cluster on redis " + redis + ", prefix " + prefix, process_wait));
        url_a = listening_url(a);
        url_b = listening_url(b);
    }
    static std::vector<std::string> command(const std::string& redis, const std::string& prefix,
                                            const std::vector<std::string>& more) {
        std::vector<std::string> command{program, "--port", "0", "--jwt-secret", std::string(test_secret),
                                         "--redis", redis, "--redis-prefix", prefix};
        command.insert(command.end(), more.begin(), more.end());
        return command;
    }
    ChildProcess a, b;
    std::string url_a, url_b;
};

/// `from` sends `text` to `recipient` (connected as `to`) until it arrives: a node subscribes to a
/// user's channel a round trip to Redis after the user connects, and until then what another
/// node sends reaches nobody there.
bool deliver(TestClient& from, TestClient& to, const UserId& recipient, const std::string& text) {
    const std::string message = envelope("SendMessage", {{"to", {recipient.to_string()}}, {"text", text}});
    const auto received = [](const ClientState& state) { return !events_of(state, "MessageSent").empty(); };
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (!from.send_text(message)) return false;
        if (to.wait_until(received, 100ms)) return true;
    }
    return false;
}

} // namespace

TEST_CASE("The social_server program serves a client and on SIGTERM closes it with 1001 and exits 0",
          "[integration][program]") {
    const std::string secret(test_secret);
    const UserId user = UserId::random();
    const std::string token =
        trim_newline(run_and_capture({program, "token", user.to_string(), "--jwt-secret", secret}, process_wait));

    ChildProcess server({program, "--port", "0", "--jwt-secret", secret});
    const std::string url = listening_url(server);

    TestClient client;
    REQUIRE(client.connect(url, bearer(token)));
    REQUIRE(wait_for_event(client, "UserOnline", about_user(user)));
    CHECK(server.read_line_containing("connect user=" + user.to_string(), process_wait));

    server.send_signal(SIGTERM);
    REQUIRE(client.wait_closed(process_wait));
    REQUIRE(client.state().close);
    CHECK(client.state().close->code == 1001);
    CHECK(server.read_line_containing("stopped", process_wait));
    CHECK(server.wait_for_exit(process_wait) == 0);
}

TEST_CASE("Two social_server processes with --redis: a user on one gets what a user on the other sends",
          "[integration][program][redis]") {
    // With --history redis, the event comes with the offset the stream on Redis gave it; with
    // memory, each node's own stream, so without one across nodes.
    const bool history_on_redis = GENERATE(false, true);
    redis_test::RedisServer redis;
    const TwoNodes nodes("127.0.0.1:" + std::to_string(redis.port()), redis_test::unique_prefix() + "sb",
                         {"--history", history_on_redis ? "redis" : "memory"});
    REQUIRE(nodes.url_a != nodes.url_b);

    const UserId alice = UserId::random();
    const UserId bob = UserId::random();
    TestClient alice_on_a;
    TestClient bob_on_b;
    REQUIRE(alice_on_a.connect(nodes.url_a, bearer(token_for(alice))));
    REQUIRE(bob_on_b.connect(nodes.url_b, bearer(token_for(bob))));
    REQUIRE(deliver(bob_on_b, alice_on_a, alice, "across nodes"));
    const json first = events_of(alice_on_a, "MessageSent").front();
    const json& sent = first["data"];
    CHECK(sent["from"] == bob.to_string());
    CHECK(sent["text"] == "across nodes");
    // The sends before node A listened are filled in from the stream: alice gets the first.
    if (history_on_redis) CHECK(first.value("offset", 0) == 1);
    else CHECK_FALSE(first.contains("offset"));
}

TEST_CASE("Two social_server processes with --redis: GET /api/presence on one lists a user connected to the other",
          "[integration][program][redis]") {
    redis_test::RedisServer redis;
    const std::string prefix = redis_test::unique_prefix() + "sb";
    const std::vector<std::string> node{program, "--port", "0", "--jwt-secret", std::string(test_secret),
                                        "--redis", "127.0.0.1:" + std::to_string(redis.port()), "--redis-prefix",
                                        prefix};
    ChildProcess node_a(node);
    ChildProcess node_b(node);
    const std::string url_a = listening_url(node_a);
    const std::string url_b = listening_url(node_b);
    const auto port_b = static_cast<std::uint16_t>(std::stoi(url_b.substr(url_b.rfind(':') + 1)));
    const std::string admin = token_for(UserId::random(), /*admin=*/true);
    const UserId alice = UserId::random();
    const auto listed_on_b = [&] {
        const HttpReply reply = http_request(port_b, {"GET", "/api/presence", {{"Authorization", "Bearer " + admin}}, ""});
        for (const json& entry : reply.json().value("online", json::array()))
            if (entry["user_id"] == alice.to_string()) return true;
        return false;
    };

    TestClient alice_on_a;
    REQUIRE(alice_on_a.connect(url_a, bearer(token_for(alice))));
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!listed_on_b() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    CHECK(listed_on_b());
    alice_on_a.close();
    const auto gone_by = std::chrono::steady_clock::now() + 5s;
    while (listed_on_b() && std::chrono::steady_clock::now() < gone_by) std::this_thread::sleep_for(20ms);
    CHECK(!listed_on_b());
}

TEST_CASE("Two social_server processes on two Redis shards: users on either shard reach each other across nodes",
          "[integration][program][redis]") {
    redis_test::RedisServer first;
    redis_test::RedisServer second;
    const std::string shards =
        "127.0.0.1:" + std::to_string(first.port()) + ",127.0.0.1:" + std::to_string(second.port());
    const std::string prefix = redis_test::unique_prefix() + "sb";
    const TwoNodes nodes(shards, prefix);

    // One user on each shard, by the ring every node uses.
    const switchboard::redis::ShardRing ring(2);
    UserId alice = UserId::random(), bob = UserId::random();
    while (ring.shard_of(alice) != 0) alice = UserId::random();
    while (ring.shard_of(bob) != 1) bob = UserId::random();
    TestClient alice_on_a;
    TestClient bob_on_b;
    REQUIRE(alice_on_a.connect(nodes.url_a, bearer(token_for(alice))));
    REQUIRE(bob_on_b.connect(nodes.url_b, bearer(token_for(bob))));
    CHECK(deliver(bob_on_b, alice_on_a, alice, "to shard 0"));
    CHECK(deliver(alice_on_a, bob_on_b, bob, "to shard 1"));

    // Each user's channel is held on the ring's shard (by node A for alice, B for bob), not on the other.
    redis_test::IoThread io;
    redis_test::TestClient redis_first(io, redis_test::options_for(first));
    redis_test::TestClient redis_second(io, redis_test::options_for(second));
    REQUIRE(redis_test::eventually([&] { return redis_first.connected == 1 && redis_second.connected == 1; }));
    const auto listeners = [&](redis_test::TestClient& redis, const UserId& user) {
        const auto outcome = redis.call({"PUBSUB", "NUMSUB", prefix + ".user." + user.to_string()});
        return outcome.reply.elements.size() == 2 ? outcome.reply.elements[1].integer : -1;
    };
    CHECK(listeners(redis_first, alice) == 1);
    CHECK(listeners(redis_second, alice) == 0);
    CHECK(listeners(redis_first, bob) == 0);
    CHECK(listeners(redis_second, bob) == 1);
}

TEST_CASE("social_server with --redis: while Redis does not answer, durable sends are refused whole (Error "
          "overloaded, HTTP 503) and none resets a stream; once it answers, they go out",
          "[integration][program][redis]") {
    redis_test::RedisServer redis;
    ChildProcess node(TwoNodes::command("127.0.0.1:" + std::to_string(redis.port()),
                                        redis_test::unique_prefix() + "sb",
                                        // Longer than the pause: the one send admitted waits, it does not fail.
                                        {"--redis-max-unanswered", "1", "--redis-timeout", "5000"}));
    const std::string url = listening_url(node);
    const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    const UserId alice = UserId::random();
    const UserId bob = UserId::random();
    TestClient alice_client;
    TestClient bob_client;
    REQUIRE(alice_client.connect(url, bearer(token_for(alice))));
    REQUIRE(bob_client.connect(url, bearer(token_for(bob))));
    REQUIRE(deliver(alice_client, bob_client, bob, "before"));
    redis_test::IoThread io;
    redis_test::TestClient pauser(io, redis_test::options_for(redis));
    REQUIRE(redis_test::eventually([&] { return pauser.connected == 1; }));

    REQUIRE(pauser.call({"CLIENT", "PAUSE", "3000", "ALL"}).reply.text == "OK");
    const std::string message = envelope("SendMessage", {{"to", {bob.to_string()}}, {"text", "during"}});
    for (int n = 0; n < 5; ++n) REQUIRE(alice_client.send_text(message)); // the first waits, the rest are refused
    const auto refused = [](const ClientState& state) {
        for (const json& error : events_of(state, "Error"))
            if (error["data"].value("code", "") == "overloaded") return true;
        return false;
    };
    CHECK(alice_client.wait_until(refused, 2s));
    const json payment{{"to", {bob.to_string()}}, {"event", {{"type", "PaymentReceived"}, {"data", json::object()}}}};
    const HttpReply published = http_request(
        port, {"POST", "/api/publish", {{"Authorization", "Bearer " + token_for(UserId::random(), true)}}, payment.dump()});
    CHECK(published.status == 503);
    CHECK(published.json().value("error", "") == "overloaded");
    CHECK(published.header("Retry-After") == std::optional<std::string>("1"));
    pauser.call({"CLIENT", "UNPAUSE"});

    REQUIRE(deliver(alice_client, bob_client, bob, "after"));
    CHECK(bob_client.is_open()); // no stream was reset: nothing closed with 1012
    CHECK(alice_client.is_open());
}

namespace {

/// The flags a usage section lists, "  --name VALUE   what it does" a line, each with whether it takes a value.
std::vector<std::pair<std::string, bool>> listed_flags(const std::string& section) {
    std::vector<std::pair<std::string, bool>> flags;
    const std::regex line(R"(^  (--[a-z][a-z-]*)( [^ ]+)?  )", std::regex::multiline);
    for (auto match = std::sregex_iterator(section.begin(), section.end(), line); match != std::sregex_iterator();
         ++match)
        flags.emplace_back((*match)[1], (*match)[2].matched);
    return flags;
}

/// The text of README.md from the heading `heading` to the next heading of its level.
std::string readme_section(const std::string& heading) {
    std::ifstream file(SWITCHBOARD_README_PATH);
    const std::string readme((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const std::size_t start = readme.find("\n" + heading + "\n");
    REQUIRE(start != std::string::npos);
    const std::string level = heading.substr(0, heading.find(' ') + 1);
    return readme.substr(start, readme.find("\n" + level, start + 1) - start);
}

std::set<std::string> flags_named_in(const std::string& text) {
    std::set<std::string> flags;
    const std::regex flag(R"(--[a-z][a-z-]*)");
    for (auto match = std::sregex_iterator(text.begin(), text.end(), flag); match != std::sregex_iterator(); ++match)
        flags.insert(match->str());
    return flags;
}

/// The usage, as `--help` prints it.
std::string usage() {
    const Finished help = run_to_exit({program, "--help"}, process_wait);
    REQUIRE(help.status == 0);
    return help.out;
}

} // namespace

TEST_CASE("social_server --help and -h print the usage on stdout and exit 0", "[integration][program]") {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {program, "--help"}, {program, "-h"}, {program, "--port", "0", "--help"}, {program, "token", "-h"}}) {
        INFO(args.back());
        const Finished run = run_to_exit(args, process_wait);
        CHECK(run.status == 0);
        CHECK_THAT(run.out, Catch::StartsWith("usage: social_server"));
        CHECK(run.err.empty());
    }
}

TEST_CASE("social_server refuses an unknown flag or a missing value with the usage on stderr and status 2",
          "[integration][program]") {
    const std::string user = UserId::random().to_string();
    const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
        {{"--histroy", "off"}, "unknown flag: --histroy"},
        {{"--port", "0", "--threads"}, "--threads needs a value"},
        {{"--port"}, "--port needs a value"},
        {{"-x"}, "unknown flag: -x"},
        {{"--admin"}, "unknown flag: --admin"}, // a flag of `token` only
        {{"token", user, "--ttl"}, "--ttl needs a value"},
        {{"token", user, "--port", "1"}, "unknown flag: --port"},
        {{"serve"}, "unknown command: serve"},
        // A secret given, so that no warning of the development one comes before the value's check.
        {{"--jwt-secret", "s", "--history", "redis"}, "--history redis needs --redis"},
        {{"--jwt-secret", "s", "--history", "disk"}, "--history must be memory, redis or off"},
        {{"--jwt-secret", "s", "--redis", "127.0.0.1:1", "--history", "disk"}, "--history must be memory, redis or off"},
        {{"--jwt-secret", "s", "--redis", "127.0.0.1:6379,"}, "--redis must be HOST:PORT[,HOST:PORT...]"},
        {{"--jwt-secret", "s", "--redis", "127.0.0.1:6379,:6380"}, "--redis must be HOST:PORT[,HOST:PORT...]"},
        {{"--jwt-secret", "s", "--redis", "a:6379,b:6380,a:6379"}, "--redis lists a:6379 twice"},
    };
    for (const auto& [args, problem] : refused) {
        std::vector<std::string> argv{program};
        argv.insert(argv.end(), args.begin(), args.end());
        INFO(problem);
        const Finished run = run_to_exit(argv, process_wait);
        CHECK(run.status == 2);
        CHECK(run.out.empty()); // it did not start
        CHECK_THAT(run.err, Catch::StartsWith("social_server: " + problem + "\n"));
        CHECK_THAT(run.err, Catch::Contains("usage: social_server"));
    }
}

TEST_CASE("social_server's usage lists every flag it takes, and every flag README names", "[integration][program]") {
    const std::string text = usage();
    const std::size_t token_section = text.find("\nflags of token:\n");
    REQUIRE(token_section != std::string::npos);
    const std::string user = UserId::random().to_string();
    const auto server_flags = listed_flags(text.substr(0, token_section));
    const auto token_flags = listed_flags(text.substr(token_section));
    CHECK(server_flags.size() >= 20);
    CHECK(token_flags.size() == 3);

    // Each flag listed is taken (with a value if it says so): the parser goes on to the next one.
    const auto check_taken = [&](std::vector<std::string> argv, const std::pair<std::string, bool>& flag) {
        INFO(flag.first);
        argv.push_back(flag.first);
        if (flag.second) argv.push_back("1");
        argv.push_back("--not-a-flag");
        const Finished run = run_to_exit(argv, process_wait);
        CHECK(run.status == 2);
        CHECK_THAT(run.err, Catch::StartsWith("social_server: unknown flag: --not-a-flag\n"));
    };
    for (const auto& flag : server_flags) check_taken({program}, flag);
    for (const auto& flag : token_flags) check_taken({program, "token", user}, flag);

    const std::set<std::string> in_usage = flags_named_in(text);
    for (const char* heading : {"## Example server: `social_server`", "### Limits"})
        for (const std::string& flag : flags_named_in(readme_section(heading))) {
            INFO("README, " << heading << ": " << flag);
            CHECK(in_usage.count(flag) == 1);
        }
}
