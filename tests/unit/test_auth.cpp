#include <switchboard/auth.hpp>
#include <switchboard/auth/static_token.hpp>

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

using namespace switchboard;

TEST_CASE("UpgradeRequest finds headers case-insensitively", "[auth]") {
    UpgradeRequest request;
    request.headers = {{"Host", "x"}, {"authorization", "Bearer abc"}, {"X-Twice", "1"}, {"x-twice", "2"}};
    CHECK(request.header("AUTHORIZATION") == "Bearer abc");
    CHECK(request.header("x-twice") == "1");
    CHECK_FALSE(request.header("Cookie"));
    CHECK(request.bearer_token() == "abc");
}

TEST_CASE("UpgradeRequest reads only well-formed bearer credentials", "[auth]") {
    UpgradeRequest request;
    request.headers = {{"Authorization", "Basic dXNlcjpwYXNz"}};
    CHECK_FALSE(request.bearer_token());
    request.headers = {{"Authorization", "Bearer "}};
    CHECK_FALSE(request.bearer_token());
    request.headers = {{"Authorization", "bearer tok"}};
    CHECK(request.bearer_token() == "tok");
}

TEST_CASE("UpgradeRequest decodes query parameters", "[auth]") {
    UpgradeRequest request;
    request.query = "a=1&token=x%2By%3D%3D+z&empty=&flag&bad=%zz&cut=%4";
    CHECK(request.query_param("a") == "1");
    CHECK(request.query_param("token") == "x+y== z");
    CHECK(request.query_param("empty") == "");
    CHECK(request.query_param("flag") == "");
    CHECK_FALSE(request.query_param("missing"));
    CHECK_FALSE(request.query_param("bad"));
    CHECK_FALSE(request.query_param("cut"));
}

namespace {

/// The token `UpgradeRequest::token` found, or its refusal's reason: a failed CHECK then shows which.
std::string token_or_reason(const UpgradeRequest& request) {
    const TokenResult token = request.token();
    return token ? token.value() : token.failure().reason;
}

constexpr std::string_view ambiguous = "ambiguous credentials: header and query carry different tokens";

} // namespace

TEST_CASE("UpgradeRequest::token takes header or query, never a disagreeing pair", "[auth]") {
    UpgradeRequest request;
    CHECK(request.token().problem() == TokenResult::Problem::missing);
    CHECK(token_or_reason(request) == "missing bearer token");
    request.query = "token=q";
    CHECK(token_or_reason(request) == "q");
    request.headers = {{"Authorization", "Bearer q"}};
    CHECK(token_or_reason(request) == "q");
    request.headers = {{"Authorization", "Bearer h"}};
    CHECK(request.token().problem() == TokenResult::Problem::ambiguous);
    CHECK(token_or_reason(request) == ambiguous);
    CHECK(request.token().failure().status == 401);
    request.query.clear();
    CHECK(token_or_reason(request) == "h");
}

TEST_CASE("StaticTokenAuthenticator maps known tokens to identities", "[auth]") {
    static_assert(is_authenticator_v<StaticTokenAuthenticator>);
    static_assert(!is_authenticator_v<int>);
    const UserId alice = UserId::random();
    StaticTokenAuthenticator auth;
    auth.add("alice-token", Identity(alice, {{"admin", true}}));

    UpgradeRequest request;
    request.query = "token=alice-token";
    const AuthResult accepted = auth.authenticate(request);
    REQUIRE(accepted);
    CHECK(accepted.identity().user == alice);
    CHECK(accepted.identity().claims.at("admin") == true);

    request.query = "token=guess";
    const AuthResult unknown = auth.authenticate(request);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.failure().status == 401);
    CHECK(unknown.failure().reason == "unknown token");

    request.query = "token=alice-token";
    request.headers = {{"Authorization", "Bearer guess"}};
    CHECK(auth.authenticate(request).failure().reason == ambiguous);

    request.query.clear();
    request.headers.clear();
    CHECK(auth.authenticate(request).failure().reason == "missing bearer token");
}
