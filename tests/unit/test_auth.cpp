#include <switchboard/auth.hpp>
#include <switchboard/auth/static_token.hpp>

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

TEST_CASE("UpgradeRequest::token takes header or query, never a disagreeing pair", "[auth]") {
    UpgradeRequest request;
    CHECK_FALSE(request.token());
    request.query = "token=q";
    CHECK(request.token() == "q");
    request.headers = {{"Authorization", "Bearer q"}};
    CHECK(request.token() == "q");
    request.headers = {{"Authorization", "Bearer h"}};
    CHECK_FALSE(request.token());
    request.query.clear();
    CHECK(request.token() == "h");
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

    request.query.clear();
    CHECK(auth.authenticate(request).failure().reason == "missing bearer token");
}
