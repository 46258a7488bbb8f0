// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// JwtAuthenticator: the claims (exp, nbf, iss, aud, sub) and copies verifying from several threads.
#include <switchboard/auth/jwt.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "jwt_fixtures.hpp"

using namespace test_fixtures;

TEST_CASE("JwtAuthenticator requires and checks exp", "[jwt]") {
    auto claims = valid_claims();
    SECTION("expired beyond the leeway") {
        claims["exp"] = unix_now() - 60;
        CHECK(hs256_outcome(claims) == "token expired");
    }
    SECTION("expired within the leeway") {
        claims["exp"] = unix_now() - 10;
        CHECK(hs256_outcome(claims) == "accepted");
        auto strict = hs256_options();
        strict.leeway = seconds(0);
        CHECK(hs256_outcome(claims, strict) == "token expired");
    }
    SECTION("missing") {
        claims.erase("exp");
        CHECK(hs256_outcome(claims) == "missing exp claim");
    }
    SECTION("negative, which cpp-jwt alone would read as never expiring") {
        claims["exp"] = -100;
        CHECK(hs256_outcome(claims) == "invalid exp claim");
    }
    SECTION("not a whole number") {
        claims["exp"] = unix_now() + 300.5;
        CHECK(hs256_outcome(claims) == "invalid exp claim");
    }
    SECTION("beyond what system_clock holds") {
        claims["exp"] = std::uint64_t{1} << 40;
        CHECK(hs256_outcome(claims) == "invalid exp claim");
    }
    SECTION("not a number") {
        claims["exp"] = std::to_string(unix_now() + 300);
        CHECK(starts_with(hs256_outcome(claims), "invalid "));
    }
}

TEST_CASE("JwtAuthenticator's credentials expire at exp plus the leeway", "[jwt]") {
    // Accepted until then, so valid until then: a connection opened within the leeway must not be closed at once.
    auto claims = valid_claims();
    claims["exp"] = unix_now() - 10;
    const auto exp = system_clock::time_point(seconds(claims["exp"].get<std::int64_t>()));
    for (const seconds leeway : {seconds(15), seconds(30), seconds(3600)}) {
        auto options = hs256_options();
        options.leeway = leeway;
        const auto result = JwtAuthenticator(options).verify(sign_hs256(secret, claims));
        REQUIRE(outcome(result) == "accepted");
        CHECK(result.identity().expires_at == exp + leeway);
        CHECK(*result.identity().expires_at > system_clock::now());
    }
}

TEST_CASE("JwtAuthenticator's expiry stops at the latest time system_clock holds", "[jwt]") {
    const auto latest = std::chrono::duration_cast<seconds>(system_clock::duration::max());
    auto claims = valid_claims();
    claims["exp"] = latest.count();
    auto options = hs256_options();
    options.leeway = std::chrono::hours(1);
    const auto result = JwtAuthenticator(options).verify(sign_hs256(secret, claims));
    REQUIRE(outcome(result) == "accepted");
    CHECK(result.identity().expires_at == system_clock::time_point(latest));
}

TEST_CASE("JwtAuthenticator checks nbf with the leeway", "[jwt]") {
    auto claims = valid_claims();
    claims["nbf"] = unix_now() + 120;
    CHECK(hs256_outcome(claims) == "token not yet valid");
    claims["nbf"] = unix_now() + 10;
    CHECK(hs256_outcome(claims) == "accepted");
    auto strict = hs256_options();
    strict.leeway = seconds(0);
    CHECK(hs256_outcome(claims, strict) == "token not yet valid");
    claims["nbf"] = unix_now() - 10;
    CHECK(hs256_outcome(claims, strict) == "accepted");
}

TEST_CASE("JwtAuthenticator checks iss and aud when configured", "[jwt]") {
    auto options = hs256_options();
    options.issuer = "https://auth.example.com";
    options.audience = "switchboard";
    auto claims = valid_claims();
    CHECK(hs256_outcome(claims) == "accepted"); // neither configured: neither needed
    CHECK(hs256_outcome(claims, options) == "wrong issuer");

    claims["iss"] = "https://evil.example.com";
    CHECK(hs256_outcome(claims, options) == "wrong issuer");
    claims["iss"] = *options.issuer;
    CHECK(hs256_outcome(claims, options) == "wrong audience");

    claims["aud"] = "other";
    CHECK(hs256_outcome(claims, options) == "wrong audience");
    claims["aud"] = json{"other", "yet another"};
    CHECK(hs256_outcome(claims, options) == "wrong audience");
    claims["aud"] = json{"other", "switchboard"};
    CHECK(hs256_outcome(claims, options) == "accepted");
    claims["aud"] = "switchboard";
    CHECK(hs256_outcome(claims, options) == "accepted");
}

TEST_CASE("JwtAuthenticator takes the user from sub, which must be a UUID", "[jwt]") {
    auto claims = valid_claims();
    claims.erase("sub");
    CHECK(hs256_outcome(claims) == "missing sub claim");
    claims["sub"] = "alice";
    CHECK(hs256_outcome(claims) == "sub is not a UUID");
    claims["sub"] = 42;
    CHECK(hs256_outcome(claims) == "sub is not a UUID");
    claims["sub"] = "6F1C2A52-3D1E-4F7A-9B8C-0D1E2F3A4B5C";
    CHECK(hs256_outcome(claims) == "accepted");
}


TEST_CASE("JwtAuthenticator refuses a non-integer exp or nbf before any signature check", "[jwt]") {
    // Found by fuzzing: cpp-jwt converts these before checking an RS256 signature, and a huge float overflows.
    const JwtAuthenticator auth(options_for(Algorithm::rs256, rsa_keys().public_pem));
    const std::string header = base64url(R"({"alg":"RS256","typ":"JWT"})");
    CHECK(outcome(auth.verify(header + "." + base64url(R"({"exp":1e300})") + ".x")) == "invalid exp claim");
    CHECK(outcome(auth.verify(header + "." + base64url(R"({"exp":1,"nbf":"soon"})") + ".x")) == "invalid nbf claim");
}


TEST_CASE("JwtAuthenticator copies share one state and verify from several threads", "[jwt]") {
    static_assert(std::is_nothrow_copy_constructible_v<JwtAuthenticator>, "a copy shares the state, never clones it");
    const auto good = sign_hs256(secret, valid_claims());
    const auto bad = sign_hs256("another secret", valid_claims());
    auto original = std::make_optional<JwtAuthenticator>(hs256_options());
    const std::vector<JwtAuthenticator> copies(4, *original);
    original.reset(); // the copies keep the state alive

    constexpr int rounds = 200;
    std::atomic<int> accepted{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    for (const auto& auth : copies)
        threads.emplace_back([&auth, &good, &bad, &accepted, &refused] {
            for (int round = 0; round < rounds; ++round) {
                if (auth.verify(good)) ++accepted;
                if (!auth.verify(bad)) ++refused;
            }
        });
    for (auto& thread : threads) thread.join();
    CHECK(accepted == 4 * rounds);
    CHECK(refused == 4 * rounds);
}
