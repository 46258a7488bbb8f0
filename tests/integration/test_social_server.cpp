// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The bundled `social_server` program, run as a child process: it prints where it listens, serves a
// client with a token it minted itself, and on SIGTERM closes the client with 1001 and exits 0.

#include <signal.h>

#include <regex>

#include <catch2/catch.hpp>

#include "child_process.hpp"
#include "harness.hpp"

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
