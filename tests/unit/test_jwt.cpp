// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// JwtAuthenticator: where the token comes from, its form, its algorithm and its signature, its options.
#include <switchboard/auth/jwt.hpp>

#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "jwt_fixtures.hpp"

using namespace test_fixtures;

TEST_CASE("JwtAuthenticator accepts a valid HS256 token", "[jwt]") {
    auto claims = valid_claims();
    claims["roles"] = {"editor", "viewer"};
    const auto result = JwtAuthenticator(hs256_options()).verify(sign_hs256(secret, claims));
    REQUIRE(outcome(result) == "accepted");
    const auto& identity = result.identity();
    CHECK(identity.user == alice);
    CHECK(identity.claims.at("admin") == true);
    CHECK(identity.claims.at("roles") == json{"editor", "viewer"});
    CHECK(identity.claims.at("sub") == alice.to_string());
    CHECK(identity.expires_at ==
          system_clock::time_point(seconds(claims["exp"].get<std::int64_t>())) + JwtOptions{}.leeway);
}

TEST_CASE("JwtAuthenticator keeps only the kept claims when they are set", "[jwt]") {
    auto claims = valid_claims();
    claims["roles"] = {"editor", "viewer"};
    JwtOptions options = hs256_options();
    options.kept_claims = std::vector<std::string>{"roles", "absent"};
    const auto result = JwtAuthenticator(options).verify(sign_hs256(secret, claims));
    REQUIRE(outcome(result) == "accepted");
    const auto& identity = result.identity();
    CHECK(identity.user == alice);
    CHECK(identity.claims == json{{"roles", {"editor", "viewer"}}});
    CHECK(identity.expires_at ==
          system_clock::time_point(seconds(claims["exp"].get<std::int64_t>())) + options.leeway);

    options.kept_claims = std::vector<std::string>{};
    const auto none = JwtAuthenticator(options).verify(sign_hs256(secret, claims));
    REQUIRE(outcome(none) == "accepted");
    CHECK(none.identity().claims == json::object());
}

TEST_CASE("JwtAuthenticator takes the token from the Authorization header or the query", "[jwt]") {
    static_assert(is_authenticator_v<JwtAuthenticator>);
    const JwtAuthenticator auth(hs256_options());
    const auto token = sign_hs256(secret, valid_claims());
    UpgradeRequest request;

    SECTION("header") {
        request.headers = {{"Authorization", "Bearer " + token}};
        CHECK(outcome(auth.authenticate(request)) == "accepted");
    }
    SECTION("query") {
        request.query = "x=1&token=" + token;
        CHECK(outcome(auth.authenticate(request)) == "accepted");
    }
    SECTION("neither") {
        request.headers = {{"Authorization", "Basic " + token}};
        const auto result = auth.authenticate(request);
        CHECK(outcome(result) == "missing bearer token");
        CHECK(result.failure().status == 401);
    }
    SECTION("both, disagreeing") {
        request.headers = {{"Authorization", "Bearer " + token}};
        auto other_claims = valid_claims();
        other_claims["other"] = 1;
        request.query = "token=" + sign_hs256(secret, other_claims);
        const auto result = auth.authenticate(request);
        CHECK(outcome(result) == "ambiguous credentials: header and query carry different tokens");
        CHECK(result.failure().status == 401);
    }
}

TEST_CASE("JwtAuthenticator refuses what is not a JWT", "[jwt]") {
    // RS256 too: HS256 tokens meet a signature check of Switchboard's own before cpp-jwt parses them.
    for (const auto& options : {hs256_options(), options_for(Algorithm::rs256, rsa_keys().public_pem)}) {
        const JwtAuthenticator auth(options);
        CHECK(outcome(auth.verify("")) == "missing bearer token");
        for (const std::string garbage : {"garbage", "a.b", "a.b.c", "..", "...", "a.b.c.d", "e30.e30.", "%.$.!"}) {
            INFO(garbage);
            const auto result = auth.verify(garbage);
            CHECK(starts_with(outcome(result), "invalid token: "));
            CHECK(result.failure().status == 401);
        }
        // Bytes >= 0x80 would make cpp-jwt's base64 decoder read outside its table.
        CHECK(outcome(auth.verify("eyJ\xc3\xa9.e30.abc")) == "invalid token: unexpected character");
        CHECK(outcome(auth.verify(std::string("eyJ\0.e30.abc", 12))) == "invalid token: unexpected character");
    }
}

TEST_CASE("JwtAuthenticator refuses malformed tokens that are correctly signed, without throwing", "[jwt]") {
    const JwtAuthenticator auth(hs256_options());
    const std::string header = R"({"alg":"HS256","typ":"JWT"})";
    const auto claims = valid_claims().dump();
    CHECK(outcome(auth.verify(sign_raw_hs256(header, claims))) == "accepted"); // the helper itself works
    CHECK(starts_with(outcome(auth.verify(sign_raw_hs256(header, "[1,2]"))), "invalid token: "));
    CHECK(starts_with(outcome(auth.verify(sign_raw_hs256(header, "\"text\""))), "invalid token: "));
    CHECK(starts_with(outcome(auth.verify(sign_raw_hs256(header, "null"))), "invalid token: "));
    CHECK(starts_with(outcome(auth.verify(sign_raw_hs256(header, "{"))), "invalid token: "));
    CHECK(starts_with(outcome(auth.verify(sign_raw_hs256(R"({"alg":256})", claims))), "invalid token: "));
    CHECK(starts_with(outcome(auth.verify(sign_raw_hs256(R"({"typ":"JWT"})", claims))), "invalid token: "));
}

TEST_CASE("JwtAuthenticator refuses alg none", "[jwt]") {
    const auto signed_token = sign_hs256(secret, valid_claims());
    const auto none_header = base64url(R"({"alg":"none"})");
    REQUIRE(none_header == "eyJhbGciOiJub25lIn0");
    const auto unsigned_token = none_header + '.' + payload_part(signed_token) + '.';
    const auto with_old_signature = none_header + signed_token.substr(signed_token.find('.'));

    for (const auto& options : {hs256_options(), options_for(Algorithm::rs256, rsa_keys().public_pem)}) {
        const JwtAuthenticator auth(options);
        CHECK(starts_with(outcome(auth.verify(unsigned_token)), "invalid token: "));
        CHECK(starts_with(outcome(auth.verify(with_old_signature)), "invalid token: "));
    }
}

TEST_CASE("JwtAuthenticator accepts only the configured algorithm", "[jwt]") {
    const auto claims = valid_claims();

    SECTION("HS512 with the right secret") {
        const auto token = sign_with_cpp_jwt("HS512", secret, claims);
        CHECK(starts_with(outcome(JwtAuthenticator(hs256_options()).verify(token)), "invalid token: "));
    }
    SECTION("HS256 signed with the RS256 public key's PEM text as secret: key confusion") {
        const auto& public_pem = rsa_keys().public_pem;
        const JwtAuthenticator auth(options_for(Algorithm::rs256, public_pem));
        CHECK(outcome(auth.verify(sign_hs256(public_pem, claims))) == "invalid token: algorithm not allowed");
        CHECK(outcome(auth.verify(sign_with_cpp_jwt("RS256", rsa_keys().private_pem, claims))) == "accepted");
    }
    SECTION("ES256 token to an RS256 authenticator") {
        const JwtAuthenticator auth(options_for(Algorithm::rs256, rsa_keys().public_pem));
        const auto token = sign_with_cpp_jwt("ES256", ec_keys().private_pem, claims);
        CHECK(outcome(auth.verify(token)) == "invalid token: algorithm not allowed");
    }
}

TEST_CASE("JwtAuthenticator takes the algorithm only by its exact, case-sensitive name", "[jwt]") {
    // RFC 7515: "alg" is case-sensitive. cpp-jwt alone matches it ignoring case, and only up to a NUL.
    struct Family {
        Algorithm algorithm;
        JwtOptions options;
        std::string name;
        std::vector<std::string> misspellings;
    };
    const std::vector<Family> families = {
        {Algorithm::hs256, hs256_options(), "HS256", {"hs256", "Hs256", "hS256"}},
        {Algorithm::rs256, options_for(Algorithm::rs256, rsa_keys().public_pem), "RS256", {"rs256", "Rs256", "rS256"}},
        {Algorithm::es256, options_for(Algorithm::es256, ec_keys().public_pem), "ES256", {"es256", "Es256", "eS256"}},
    };
    const auto claims = valid_claims().dump();
    const auto header_naming = [](std::string_view alg) { return R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})"; };
    for (const Family& family : families) {
        INFO(family.name);
        const JwtAuthenticator auth(family.options);
        CHECK(outcome(auth.verify(sign_raw(family.algorithm, header_naming(family.name), claims))) == "accepted");
        std::vector<std::string> others = family.misspellings;
        others.push_back(family.name + "\\u0000"); // a JSON-escaped NUL after the name
        for (const std::string& other : others) {
            INFO(other);
            CHECK(outcome(auth.verify(sign_raw(family.algorithm, header_naming(other), claims))) ==
                  "invalid token: algorithm not allowed");
        }
    }
}

TEST_CASE("JwtAuthenticator checks the HS256 signature", "[jwt]") {
    const JwtAuthenticator auth(hs256_options());
    const auto claims = valid_claims();
    CHECK(outcome(auth.verify(sign_hs256("another secret", claims))) == "invalid token: signature verification failed");

    const auto token = sign_hs256(secret, claims);
    auto forged_claims = claims;
    forged_claims["admin"] = false;
    const auto forged = token.substr(0, token.find('.') + 1) + base64url(forged_claims.dump()) +
                        token.substr(token.rfind('.'));
    CHECK(outcome(auth.verify(forged)) == "invalid token: signature verification failed");
    CHECK(outcome(auth.verify(token.substr(0, token.size() - 1))) == "invalid token: signature verification failed");

    // The signature is checked first: a forger learns nothing about the claims (cpp-jwt alone checks exp first).
    auto expired_claims = claims;
    expired_claims["exp"] = unix_now() - 3600;
    CHECK(outcome(auth.verify(sign_hs256("another secret", expired_claims))) ==
          "invalid token: signature verification failed");
}

TEST_CASE("JwtAuthenticator refuses tokens over 8 KiB before parsing them", "[jwt]") {
    const JwtAuthenticator auth(hs256_options());
    CHECK(outcome(auth.verify(std::string(100 * 1024, 'a'))) == "token too large");

    auto claims = valid_claims();
    claims["padding"] = std::string(5000, 'p'); // about 6.9 KB once encoded
    CHECK(outcome(auth.verify(sign_hs256(secret, claims))) == "accepted");
    claims["padding"] = std::string(6500, 'p'); // about 8.9 KB: correctly signed, still too large
    const auto large = sign_hs256(secret, claims);
    REQUIRE(large.size() > 8 * 1024);
    CHECK(outcome(auth.verify(large)) == "token too large");
}

TEST_CASE("JwtAuthenticator verifies RS256 and ES256 tokens with a PEM public key", "[jwt]") {
    const auto claims = valid_claims();

    SECTION("RS256") {
        const JwtAuthenticator auth(options_for(Algorithm::rs256, rsa_keys().public_pem));
        const auto result = auth.verify(sign_with_cpp_jwt("RS256", rsa_keys().private_pem, claims));
        REQUIRE(outcome(result) == "accepted");
        CHECK(result.identity().user == alice);
        CHECK(outcome(auth.verify(sign_with_cpp_jwt("RS256", other_rsa_keys().private_pem, claims))) ==
              "invalid token: signature verification failed");
        CHECK(ERR_peek_error() == 0); // failed verifications leave no OpenSSL errors behind on this thread
    }
    SECTION("ES256") {
        const JwtAuthenticator auth(options_for(Algorithm::es256, ec_keys().public_pem));
        const auto token = sign_with_cpp_jwt("ES256", ec_keys().private_pem, claims);
        const auto result = auth.verify(token);
        REQUIRE(outcome(result) == "accepted");
        CHECK(result.identity().claims.at("admin") == true);
        auto tampered = token;
        tampered[token.rfind('.') + 5] = token[token.rfind('.') + 5] == 'A' ? 'B' : 'A';
        CHECK(outcome(auth.verify(tampered)) == "invalid token: signature verification failed");
        CHECK(ERR_peek_error() == 0);
    }
}

TEST_CASE("JwtAuthenticator refuses unusable options at construction", "[jwt]") {
    CHECK_NOTHROW(JwtAuthenticator(hs256_options()));
    CHECK_NOTHROW(JwtAuthenticator(options_for(Algorithm::rs256, rsa_keys().public_pem)));
    CHECK_NOTHROW(JwtAuthenticator(options_for(Algorithm::es256, ec_keys().public_pem)));

    CHECK_THROWS_AS(JwtAuthenticator(options_for(Algorithm::hs256, "")), std::invalid_argument);
    CHECK_THROWS_AS(JwtAuthenticator(options_for(Algorithm::rs256, "")), std::invalid_argument);
    CHECK_THROWS_AS(JwtAuthenticator(options_for(Algorithm::rs256, "not a PEM key")), std::invalid_argument);
    CHECK_THROWS_AS(JwtAuthenticator(options_for(Algorithm::rs256, rsa_keys().private_pem)), std::invalid_argument);
    CHECK_THROWS_AS(JwtAuthenticator(options_for(Algorithm::rs256, ec_keys().public_pem)), std::invalid_argument);
    CHECK_THROWS_AS(JwtAuthenticator(options_for(Algorithm::es256, rsa_keys().public_pem)), std::invalid_argument);
    CHECK_THROWS_AS(JwtAuthenticator(options_for(Algorithm::rs256, key_pair_of(EVP_RSA_gen(1024)).public_pem)),
                    std::invalid_argument);
    CHECK_THROWS_AS(JwtAuthenticator(options_for(Algorithm::es256, key_pair_of(EVP_EC_gen("P-384")).public_pem)),
                    std::invalid_argument);
    auto negative_leeway = hs256_options();
    negative_leeway.leeway = seconds(-1);
    CHECK_THROWS_AS(JwtAuthenticator(negative_leeway), std::invalid_argument);
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("sign_hs256 refuses an empty secret and claims that are not an object", "[jwt]") {
    CHECK_THROWS_AS(sign_hs256("", valid_claims()), std::invalid_argument);
    CHECK_THROWS_AS(sign_hs256(secret, json::array({1, 2})), std::invalid_argument);
    CHECK_NOTHROW(sign_hs256(secret, json::object()));
}
