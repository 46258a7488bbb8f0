// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// What the JWT tests share: options, claims and tokens signed apart from the library (raw HS256
// over any header, cpp-jwt, RS256/ES256 with throwaway keys made at test time).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>
#include <jwt/jwt.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <switchboard/auth/jwt.hpp>

#include "../support/base64url.hpp"

namespace test_fixtures {

using namespace switchboard;
using Algorithm = JwtOptions::Algorithm;
using nlohmann::json;
using std::chrono::seconds;
using std::chrono::system_clock;

inline const std::string secret = "0123456789abcdef0123456789abcdef";
inline const UserId alice = UserId::parse("6f1c2a52-3d1e-4f7a-9b8c-0d1e2f3a4b5c");

inline std::int64_t unix_now() { return std::chrono::duration_cast<seconds>(system_clock::now().time_since_epoch()).count(); }

inline json valid_claims() { return {{"sub", alice.to_string()}, {"exp", unix_now() + 300}, {"admin", true}}; }

inline JwtOptions options_for(Algorithm algorithm, std::string key) {
    JwtOptions options;
    options.algorithm = algorithm;
    options.key = std::move(key);
    return options;
}

inline JwtOptions hs256_options() { return options_for(Algorithm::hs256, secret); }

/// "accepted", or the refusal's reason: a failed CHECK then shows what happened.
inline std::string outcome(const AuthResult& result) { return result ? "accepted" : result.failure().reason; }

inline std::string hs256_outcome(const json& claims, const JwtOptions& options = hs256_options()) {
    return outcome(JwtAuthenticator(options).verify(sign_hs256(secret, claims)));
}

inline bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

using test_support::base64url;

/// An HS256 token over any header and payload text, however malformed, with a correct signature.
inline std::string sign_raw_hs256(std::string_view header, std::string_view payload) {
    const auto signing_input = base64url(header) + '.' + base64url(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    REQUIRE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_size));
    return signing_input + '.' + base64url(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

/// Signs with cpp-jwt, apart from `sign_hs256`, with any algorithm cpp-jwt knows.
inline std::string sign_with_cpp_jwt(std::string_view algorithm, const std::string& key, const json& claims) {
    jwt::jwt_object token{jwt::params::algorithm(algorithm), jwt::params::secret(key)};
    for (const auto& [name, value] : claims.items()) token.add_claim(name, value);
    return token.signature();
}

inline std::string payload_part(const std::string& token) {
    const auto first_dot = token.find('.');
    return token.substr(first_dot + 1, token.rfind('.') - first_dot - 1);
}

struct KeyPair {
    std::string private_pem;
    std::string public_pem;
};

inline std::string text_of(BIO& bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(&bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

/// Throwaway keys, made at test time.
inline KeyPair key_pair_of(EVP_PKEY* raw_key) {
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw_key, &EVP_PKEY_free);
    REQUIRE(key);
    const std::unique_ptr<BIO, decltype(&BIO_free)> private_bio(BIO_new(BIO_s_mem()), &BIO_free);
    const std::unique_ptr<BIO, decltype(&BIO_free)> public_bio(BIO_new(BIO_s_mem()), &BIO_free);
    REQUIRE(PEM_write_bio_PrivateKey(private_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
    REQUIRE(PEM_write_bio_PUBKEY(public_bio.get(), key.get()) == 1);
    return {text_of(*private_bio), text_of(*public_bio)};
}

inline const KeyPair& rsa_keys() {
    static const KeyPair keys = key_pair_of(EVP_RSA_gen(2048));
    return keys;
}

inline const KeyPair& other_rsa_keys() {
    static const KeyPair keys = key_pair_of(EVP_RSA_gen(2048));
    return keys;
}

inline const KeyPair& ec_keys() {
    static const KeyPair keys = key_pair_of(EVP_EC_gen("P-256"));
    return keys;
}

/// A token over any header and payload text with a correct signature by `algorithm` and its test key, whatever
/// algorithm the header names. cpp-jwt signs RS256 and ES256 here, taking the JWS form of ES256's signature.
inline std::string sign_raw(Algorithm algorithm, std::string_view header, std::string_view payload) {
    if (algorithm == Algorithm::hs256) return sign_raw_hs256(header, payload);
    const auto signing_input = base64url(header) + '.' + base64url(payload);
    const auto [signature, error] = algorithm == Algorithm::rs256
                                        ? jwt::PEMSign<jwt::algo::RS256>::sign(rsa_keys().private_pem, signing_input)
                                        : jwt::PEMSign<jwt::algo::ES256>::sign(ec_keys().private_pem, signing_input);
    REQUIRE(!error);
    return signing_input + '.' + base64url(signature);
}

} // namespace test_fixtures
