// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <switchboard/auth/jwt.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <jwt/jwt.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

using namespace switchboard;
using Algorithm = JwtOptions::Algorithm;
using nlohmann::json;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace {

const std::string secret = "0123456789abcdef0123456789abcdef";
const UserId alice = UserId::parse("6f1c2a52-3d1e-4f7a-9b8c-0d1e2f3a4b5c");

std::int64_t unix_now() { return std::chrono::duration_cast<seconds>(system_clock::now().time_since_epoch()).count(); }

json valid_claims() { return {{"sub", alice.to_string()}, {"exp", unix_now() + 300}, {"admin", true}}; }

JwtOptions options_for(Algorithm algorithm, std::string key) {
    JwtOptions options;
    options.algorithm = algorithm;
    options.key = std::move(key);
    return options;
}

JwtOptions hs256_options() { return options_for(Algorithm::hs256, secret); }

/// "accepted", or the refusal's reason: a failed CHECK then shows what happened.
std::string outcome(const AuthResult& result) { return result ? "accepted" : result.failure().reason; }

std::string hs256_outcome(const json& claims, const JwtOptions& options = hs256_options()) {
    return outcome(JwtAuthenticator(options).verify(sign_hs256(secret, claims)));
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

/// Written apart from the library's, with OpenSSL's plain base64.
std::string base64url(std::string_view bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(size));
    text.erase(text.find_last_not_of('=') + 1);
    std::replace(text.begin(), text.end(), '+', '-');
    std::replace(text.begin(), text.end(), '/', '_');
    return text;
}

/// An HS256 token over any header and payload text, however malformed, with a correct signature.
std::string sign_raw_hs256(std::string_view header, std::string_view payload) {
    const auto signing_input = base64url(header) + '.' + base64url(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    REQUIRE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_size));
    return signing_input + '.' + base64url(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

/// Signs with cpp-jwt, apart from `sign_hs256`, with any algorithm cpp-jwt knows.
std::string sign_with_cpp_jwt(std::string_view algorithm, const std::string& key, const json& claims) {
    jwt::jwt_object token{jwt::params::algorithm(algorithm), jwt::params::secret(key)};
    for (const auto& [name, value] : claims.items()) token.add_claim(name, value);
    return token.signature();
}

std::string payload_part(const std::string& token) {
    const auto first_dot = token.find('.');
    return token.substr(first_dot + 1, token.rfind('.') - first_dot - 1);
}

struct KeyPair {
    std::string private_pem;
    std::string public_pem;
};

std::string text_of(BIO& bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(&bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

/// Throwaway keys, made at test time.
KeyPair key_pair_of(EVP_PKEY* raw_key) {
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw_key, &EVP_PKEY_free);
    REQUIRE(key);
    const std::unique_ptr<BIO, decltype(&BIO_free)> private_bio(BIO_new(BIO_s_mem()), &BIO_free);
    const std::unique_ptr<BIO, decltype(&BIO_free)> public_bio(BIO_new(BIO_s_mem()), &BIO_free);
    REQUIRE(PEM_write_bio_PrivateKey(private_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
    REQUIRE(PEM_write_bio_PUBKEY(public_bio.get(), key.get()) == 1);
    return {text_of(*private_bio), text_of(*public_bio)};
}

const KeyPair& rsa_keys() {
    static const KeyPair keys = key_pair_of(EVP_RSA_gen(2048));
    return keys;
}

const KeyPair& other_rsa_keys() {
    static const KeyPair keys = key_pair_of(EVP_RSA_gen(2048));
    return keys;
}

const KeyPair& ec_keys() {
    static const KeyPair keys = key_pair_of(EVP_EC_gen("P-256"));
    return keys;
}

/// A token over any header and payload text with a correct signature by `algorithm` and its test key, whatever
/// algorithm the header names. cpp-jwt signs RS256 and ES256 here, taking the JWS form of ES256's signature.
std::string sign_raw(Algorithm algorithm, std::string_view header, std::string_view payload) {
    if (algorithm == Algorithm::hs256) return sign_raw_hs256(header, payload);
    const auto signing_input = base64url(header) + '.' + base64url(payload);
    const auto [signature, error] = algorithm == Algorithm::rs256
                                        ? jwt::PEMSign<jwt::algo::RS256>::sign(rsa_keys().private_pem, signing_input)
                                        : jwt::PEMSign<jwt::algo::ES256>::sign(ec_keys().private_pem, signing_input);
    REQUIRE(!error);
    return signing_input + '.' + base64url(signature);
}

} // namespace

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

TEST_CASE("JwtAuthenticator refuses a non-integer exp or nbf before any signature check", "[jwt]") {
    // Found by fuzzing: cpp-jwt converts these before checking an RS256 signature, and a huge float overflows.
    const JwtAuthenticator auth(options_for(Algorithm::rs256, rsa_keys().public_pem));
    const std::string header = base64url(R"({"alg":"RS256","typ":"JWT"})");
    CHECK(outcome(auth.verify(header + "." + base64url(R"({"exp":1e300})") + ".x")) == "invalid exp claim");
    CHECK(outcome(auth.verify(header + "." + base64url(R"({"exp":1,"nbf":"soon"})") + ".x")) == "invalid nbf claim");
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
