// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Hostile credentials at the upgrade (issue 5, "Hostile input"): each refused with 401 and the reason the
// README documents, nothing registered, and the server still serving a good token afterwards. Tokens are made
// here with OpenSSL, apart from the library's signing code, so that the algorithms it must refuse can be made.

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <ctime>
#include <memory>

#include <catch2/catch.hpp>

#include <switchboard/auth/jwt.hpp>

#include "harness.hpp"

using namespace integration;

namespace {

// --- Tokens made by hand ----------------------------------------------------------------------------------

std::string header_for(std::string_view algorithm) {
    return base64url(json{{"alg", algorithm}, {"typ", "JWT"}}.dump());
}

std::string bytes_of(const unsigned char* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

/// An HMAC-signed JWT with any digest: HS512 is HMAC-SHA512.
std::string sign_hmac(const EVP_MD* digest, std::string_view algorithm, std::string_view secret, const json& claims) {
    const std::string signing_input = header_for(algorithm) + "." + base64url(claims.dump());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    REQUIRE(HMAC(digest, secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_size));
    return signing_input + "." + base64url(bytes_of(mac, mac_size));
}

struct RsaKeys {
    std::shared_ptr<EVP_PKEY> key;
    std::string public_pem;
};

/// A throwaway 2048-bit RSA key pair (an RS256 server's key and a forger's).
RsaKeys make_rsa_keys() {
    std::shared_ptr<EVP_PKEY> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
    REQUIRE(key);
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    REQUIRE(PEM_write_bio_PUBKEY(bio.get(), key.get()) == 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return {key, std::string(data, static_cast<std::size_t>(size))};
}

std::string sign_rs256(EVP_PKEY& key, const json& claims) {
    const std::string signing_input = header_for("RS256") + "." + base64url(claims.dump());
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    REQUIRE(EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, &key) == 1);
    std::size_t size = 0;
    const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
    REQUIRE(EVP_DigestSign(context.get(), nullptr, &size, input, signing_input.size()) == 1);
    std::string signature(size, '\0');
    REQUIRE(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, input,
                           signing_input.size()) == 1);
    signature.resize(size);
    return signing_input + "." + base64url(signature);
}

std::string alg_none_token(const json& claims) { return header_for("none") + "." + base64url(claims.dump()) + "."; }

std::string sign(const json& claims) { return switchboard::sign_hs256(test_secret, claims); }

long long seconds_from_now(long long seconds) { return static_cast<long long>(std::time(nullptr)) + seconds; }

// --- Checking upgrades --------------------------------------------------------------------------------------

struct Refusal {
    const char* name;
    Headers headers;
    std::string query;
    std::string reason; ///< expected at the start of the body's "reason"
};

/// Each upgrade is refused with 401 and its reason, and none is registered.
void check_refused(TestServer& server, const std::vector<Refusal>& refusals) {
    const auto refused_before = server.manager().metrics().upgrades_refused;
    for (const Refusal& refusal : refusals) {
        INFO("token: " << refusal.name);
        TestClient client;
        CHECK_FALSE(client.connect(server.url(refusal.query), refusal.headers));
        const HandshakeResponse response = client.response();
        CHECK(response.status == 401);
        CHECK(response.header("WWW-Authenticate") == "Bearer");
        const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
        CHECK(body.value("error", "") == "unauthorized");
        CHECK_THAT(body.value("reason", ""), Catch::StartsWith(refusal.reason));
    }
    CHECK(server.manager().connection_count() == 0);
    CHECK(server.manager().metrics().connections_registered == 0);
    CHECK(server.manager().metrics().upgrades_refused == refused_before + refusals.size());
}

/// The token is accepted from the Authorization header and registers `user`; the client goes away after, and is
/// unregistered before this returns: a next device of `user` connecting while it lingers would find the user
/// online already and hear no UserOnline.
void check_accepted(TestServer& server, const UserId& user, const std::string& token) {
    TestClient client;
    REQUIRE(client.connect(server.url(), bearer(token)));
    REQUIRE(wait_for_event(client, "UserOnline", about_user(user)));
    round_trip(client);
    disconnect_user(server, client, user);
}

social::ServerOptions rs256_options(const std::string& public_pem) {
    social::ServerOptions options = server_options();
    options.jwt.algorithm = switchboard::JwtOptions::Algorithm::rs256;
    options.jwt.key = public_pem;
    return options;
}

constexpr const char* issuer = "https://auth.example.test";
constexpr const char* audience = "switchboard-tests";

social::ServerOptions issuer_audience_options() {
    social::ServerOptions options = server_options();
    options.jwt.issuer = issuer;
    options.jwt.audience = audience;
    return options;
}

json with(json claims, const json& extra) {
    claims.update(extra);
    return claims;
}

} // namespace

TEST_CASE("Empty and garbage tokens get 401 and register nothing", "[integration][auth][hostile]") {
    TestServer server;
    check_refused(server, {
        {"empty bearer", bearer(""), "", "missing bearer token"},
        {"empty query token", {}, "token=", "missing bearer token"},
        {"another scheme", {{"Authorization", "Basic dXNlcjpwYXNz"}}, "", "missing bearer token"},
        {"punctuation", bearer("!!!not-a-token!!!"), "", "invalid token"},
        {"three base64url parts", bearer("aGVsbG8.d29ybGQ.Zm9vYmFy"), "", "invalid token"},
        {"NUL and high bytes in the query", {}, "token=%FF%00%C3%28.%80.%FE", "invalid token"},
        {"one dot", bearer("."), "", "invalid token"},
    });
    const UserId user = UserId::random();
    check_accepted(server, user, token_for(user));
}

TEST_CASE("Tokens with the wrong algorithm or claims get 401 with their reason", "[integration][auth][hostile]") {
    TestServer server;
    const UserId user = UserId::random();
    const json claims = claims_for(user);
    const std::string valid = token_for(user);
    const std::string other_valid = token_for(UserId::random());
    // Over the authenticator's 8 KiB, under the 16,000 bytes websocketpp takes in a request head (base64url
    // makes 7,000 bytes of claims about 9,400 characters).
    const std::string too_large = sign(with(claims, {{"padding", std::string(7000, 'p')}}));
    REQUIRE(too_large.size() > 8 * 1024);
    REQUIRE(too_large.size() < 12 * 1000);
    check_refused(server, {
        {"HS512 with the right key", bearer(sign_hmac(EVP_sha512(), "HS512", test_secret, claims)), "",
         "invalid token"},
        // RFC 7515: "alg" is case-sensitive, whatever cpp-jwt thinks.
        {"hs256 in lower case, validly signed", bearer(sign_hmac(EVP_sha256(), "hs256", test_secret, claims)), "",
         "invalid token: algorithm not allowed"},
        {"not yet valid", bearer(sign(with(claims, {{"nbf", seconds_from_now(3600)}}))), "", "token not yet valid"},
        {"sub not a UUID", bearer(sign(with(claims, {{"sub", "alice"}}))), "", "sub is not a UUID"},
        {"sub a number", bearer(sign(with(claims, {{"sub", 42}}))), "", "sub is not a UUID"},
        {"no sub", bearer(sign({{"exp", seconds_from_now(3600)}})), "", "missing sub claim"},
        {"no exp", bearer(sign({{"sub", user}})), "", "missing exp claim"},
        {"9 KiB token in the header", bearer(too_large), "", "token too large"},
        {"9 KiB token in the query", {}, "token=" + too_large, "token too large"},
        // Two credentials that disagree are no credential: the server must not pick one.
        {"header and query disagree", bearer(valid), "token=" + other_valid,
         "ambiguous credentials: header and query carry different tokens"},
    });
    // The same token in both places is not ambiguous.
    TestClient both;
    REQUIRE(both.connect(server.url("token=" + valid), bearer(valid)));
    CHECK(wait_for_event(both, "UserOnline", about_user(user)));
}

TEST_CASE("A server configured with iss and aud refuses tokens without them", "[integration][auth][hostile]") {
    TestServer server(issuer_audience_options());
    const UserId user = UserId::random();
    const json claims = claims_for(user);
    const json right = with(claims, {{"iss", issuer}, {"aud", audience}});
    check_refused(server, {
        {"no iss or aud", bearer(sign(claims)), "", "wrong issuer"},
        {"wrong iss", bearer(sign(with(right, {{"iss", "https://evil.example.test"}}))), "", "wrong issuer"},
        {"no aud", bearer(sign(with(claims, {{"iss", issuer}}))), "", "wrong audience"},
        {"wrong aud", bearer(sign(with(right, {{"aud", "another-service"}}))), "", "wrong audience"},
        {"aud list without ours", bearer(sign(with(right, {{"aud", {"a", "b"}}}))), "", "wrong audience"},
    });
    check_accepted(server, user, sign(right));
    check_accepted(server, user, sign(with(right, {{"aud", {"another-service", audience}}})));
}

TEST_CASE("An RS256 server refuses HS256 signed with its public key and alg none", "[integration][auth][hostile]") {
    const RsaKeys server_keys = make_rsa_keys();
    const RsaKeys forger_keys = make_rsa_keys();
    TestServer server(rs256_options(server_keys.public_pem));
    const UserId user = UserId::random();
    const json claims = claims_for(user);
    check_refused(server, {
        // Key confusion: a verifier that let the token choose the algorithm would check this HMAC with the
        // public key's PEM text as the secret, and accept it.
        {"HS256 signed with the public key", bearer(switchboard::sign_hs256(server_keys.public_pem, claims)), "",
         "invalid token: algorithm not allowed"},
        {"alg none", bearer(alg_none_token(claims)), "", "invalid token"},
        {"RS256 signed by another key", bearer(sign_rs256(*forger_keys.key, claims)), "",
         "invalid token: signature verification failed"},
        {"HS256 with the server's HS secret", bearer(sign(claims)), "", "invalid token"},
    });
    check_accepted(server, user, sign_rs256(*server_keys.key, claims));
}

// websocketpp refuses request heads over 16,000 bytes itself (431), before the authenticator sees them: the
// status may also be lost if the server closes while the rest of the request is still arriving. Either way the
// upgrade is refused and the server keeps serving.
TEST_CASE("A 100 KB token in the header or the query is refused and the server stays up",
          "[integration][auth][hostile]") {
    TestServer server;
    const UserId user = UserId::random();
    const std::string huge = sign(with(claims_for(user), {{"padding", std::string(100 * 1000, 'p')}}));
    REQUIRE(huge.size() > 100 * 1000);
    for (const bool in_query : {false, true}) {
        INFO((in_query ? "in the query" : "in the header"));
        TestClient client;
        CHECK_FALSE(client.connect(server.url(in_query ? "token=" + huge : ""), in_query ? Headers{} : bearer(huge)));
        const int status = client.response().status;
        CHECK((status == 0 || status >= 400));
    }
    CHECK(server.manager().metrics().connections_registered == 0);
    check_accepted(server, user, token_for(user));
}
