// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Authentication at the HTTP upgrade: refusals are plain HTTP 401s that register nothing; a valid
// token works from the Authorization header and from the query.

#include <catch2/catch.hpp>

#include <switchboard/auth/jwt.hpp>

#include "harness.hpp"

using namespace integration;

namespace {

struct RefusedUpgrade {
    const char* name;
    Headers headers;
    std::string query;
    std::string reason; ///< expected at the start of the body's "reason"
};

std::string alg_none_token(const UserId& user) {
    return base64url(R"({"alg":"none","typ":"JWT"})") + "." + base64url(claims_for(user).dump()) + ".";
}

std::vector<RefusedUpgrade> refused_upgrades() {
    const UserId user = UserId::random();
    const std::string expired = switchboard::sign_hs256(test_secret, claims_for(user, -std::chrono::hours(1)));
    const std::string wrongly_signed =
        switchboard::sign_hs256("some-other-secret-that-is-long-enough-0123456789", claims_for(user));
    return {
        {"missing", {}, "", "missing bearer token"},
        {"malformed", bearer("not.a-jwt"), "", "invalid token"},
        {"malformed in the query", {}, "token=garbage", "invalid token"},
        {"expired", bearer(expired), "", "token expired"},
        {"wrongly signed", bearer(wrongly_signed), "", "invalid token"},
        {"alg none", bearer(alg_none_token(user)), "", "invalid token"},
    };
}

/// Connects with a good token and checks the connection is registered for `user`.
void expect_accepted(TestServer& server, const UserId& user, const std::string& url, const Headers& headers) {
    TestClient client;
    REQUIRE(client.connect(url, headers));
    CHECK(client.response().status == 101);
    // Presence goes to everyone connected, the new connection included: proof that it was registered.
    REQUIRE(wait_for_event(client, "UserOnline", about_user(user)));
    CHECK(server.manager().connection_count(user) == 1);
}

} // namespace

TEST_CASE("Upgrades without a valid token get 401 with a JSON body and register nothing", "[integration][auth]") {
    TestServer server;
    const std::vector<RefusedUpgrade> cases = refused_upgrades();
    for (const RefusedUpgrade& refused : cases) {
        INFO("token: " << refused.name);
        TestClient client;
        CHECK_FALSE(client.connect(server.url(refused.query), refused.headers));
        const HandshakeResponse response = client.response();
        CHECK(response.status == 401);
        CHECK(response.header("WWW-Authenticate") == "Bearer");
        CHECK(response.header("Content-Type") == "application/json");
        const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
        CHECK(body.value("error", "") == "unauthorized");
        CHECK(body.value("reason", "").rfind(refused.reason, 0) == 0);
    }
    CHECK(server.manager().connection_count() == 0);
    CHECK(server.manager().metrics().connections_registered == 0);
    CHECK(server.manager().metrics().upgrades_refused == cases.size());
}

TEST_CASE("A valid token is accepted from the Authorization header", "[integration][auth]") {
    TestServer server;
    const UserId user = UserId::random();
    expect_accepted(server, user, server.url(), bearer(token_for(user)));
}

TEST_CASE("A valid token is accepted from the token query parameter", "[integration][auth]") {
    TestServer server;
    const UserId user = UserId::random();
    expect_accepted(server, user, server.url("token=" + token_for(user)), {});
}
