// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The example server's demo: the page and the client module at their fixed paths (nothing else is
// served from files), and the development token route, which exists only when the program signs
// with the public development secret. The page itself is tested in Chromium (tests/browser).

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>

#include <catch2/catch.hpp>

#include "child_process.hpp"
#include "harness.hpp"
#include "http_client.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

std::string file_text(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    REQUIRE(file);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

HttpReply post_token(std::uint16_t port, const std::string& body) {
    return http_request(port, {"POST", "/api/dev/token", {{"Content-Type", "application/json"}}, body});
}

void check_refused(const HttpReply& reply, int status, std::string_view error) {
    CHECK(reply.status == status);
    CHECK(reply.json().value("error", "") == error);
    CHECK_FALSE(reply.json().value("reason", "").empty());
}

social::ServerOptions with_dev_routes() {
    social::ServerOptions options = server_options();
    options.dev_routes = true;
    return options;
}

} // namespace

TEST_CASE("The demo page and the client module are served at their fixed paths with their types",
          "[integration][demo]") {
    TestServer server;
    const std::string web = SOCIAL_WEB_DIR;
    const std::vector<std::tuple<std::string, std::string, std::string>> files = {
        {"/", "text/html; charset=utf-8", web + "/index.html"},
        {"/demo.css", "text/css; charset=utf-8", web + "/demo.css"},
        {"/demo.js", "text/javascript; charset=utf-8", web + "/demo.js"},
        {"/switchboard-client.js", "text/javascript; charset=utf-8", SWITCHBOARD_CLIENT_JS_PATH},
    };
    for (const auto& [target, type, path] : files) {
        INFO(target);
        const HttpReply reply = http_request(server.port(), {"GET", target, {}, ""});
        CHECK(reply.status == 200);
        CHECK(reply.header("Content-Type") == type);
        CHECK(reply.body == file_text(path));
    }
}

TEST_CASE("Nothing else is served from files: other paths get 404, other methods 405", "[integration][demo]") {
    TestServer server;
    for (const std::string target : {"/index.html", "/web/index.html", "/../README.md", "/%2e%2e/README.md",
                                     "/demo.js/", "//demo.js", "/demo.js/../demo.css", "/switchboard-client.d.ts"}) {
        INFO(target);
        check_refused(http_request(server.port(), {"GET", target, {}, ""}), 404, "not_found");
    }
    const HttpReply post = http_request(server.port(), {"POST", "/demo.js", {}, "x"});
    check_refused(post, 405, "method_not_allowed");
    CHECK(post.header("Allow") == "GET");
}

TEST_CASE("Without dev_routes there is no token route", "[integration][demo]") {
    TestServer server;
    check_refused(post_token(server.port(), R"({"user_id":"11111111-1111-4111-8111-111111111111"})"), 404, "not_found");
    check_refused(http_request(server.port(), {"GET", "/api/dev/presence", {}, ""}), 404, "not_found");
}

TEST_CASE("The token route mints a token that connects as the user; bad requests get 400 with a reason",
          "[integration][demo]") {
    TestServer server(with_dev_routes());
    const UserId user = UserId::random();
    const HttpReply minted = post_token(server.port(), json{{"user_id", user}}.dump());
    REQUIRE(minted.status == 200);
    CHECK(minted.json().value("user_id", "") == user.to_string());
    CHECK(minted.json().value("expires_in", 0) == 86400);

    TestClient client;
    REQUIRE(client.connect(server.url("token=" + minted.json().value("token", ""))));
    REQUIRE(wait_for_event(client, "UserOnline", about_user(user)));
    const HttpReply presence = http_request(server.port(), {"GET", "/api/dev/presence", {}, ""});
    CHECK(presence.status == 200);
    CHECK(presence.json().value("users_online", 0) == 1);

    check_refused(post_token(server.port(), "{not json"), 400, "invalid_json");
    check_refused(post_token(server.port(), R"(["11111111-1111-4111-8111-111111111111"])"), 400, "invalid_json");
    check_refused(post_token(server.port(), R"({})"), 400, "bad_request");
    check_refused(post_token(server.port(), R"({"user_id":42})"), 400, "bad_request");
    check_refused(post_token(server.port(), R"({"user_id":"alice"})"), 400, "bad_request");
    const HttpReply get = http_request(server.port(), {"GET", "/api/dev/token", {}, ""});
    check_refused(get, 405, "method_not_allowed");
    CHECK(get.header("Allow") == "POST");
}

namespace {

/// The status of POST /api/dev/token on the program started with `flags` (and the environment as it is).
int dev_token_status(std::vector<std::string> flags) {
    flags.insert(flags.begin(), {SOCIAL_SERVER_PATH, "--port", "0"});
    ChildProcess server(flags, ChildProcess::Stderr::capture);
    const std::optional<std::string> url = read_listening_url(server, 15s);
    REQUIRE(url);
    std::smatch port;
    REQUIRE(std::regex_search(*url, port, std::regex(R"(:([0-9]+)/ws$)")));
    return post_token(static_cast<std::uint16_t>(std::stoi(port[1])), json{{"user_id", UserId::random()}}.dump())
        .status;
}

} // namespace

TEST_CASE("The program has the token route with the development secret only", "[integration][demo][program]") {
    const std::string secret(test_secret);
    ::unsetenv("SWITCHBOARD_JWT_SECRET");
    CHECK(dev_token_status({}) == 200);
    CHECK(dev_token_status({"--jwt-secret", secret}) == 404);
    CHECK(dev_token_status({"--production", "--jwt-secret", secret, "--allowed-origins", "https://a.example"}) == 404);
    ::setenv("SWITCHBOARD_JWT_SECRET", secret.c_str(), 1);
    CHECK(dev_token_status({}) == 404);
    ::unsetenv("SWITCHBOARD_JWT_SECRET");
}
