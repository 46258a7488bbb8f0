// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// What the authenticator fuzz targets and the seed writer share: the keys and options of the authenticators under
/// test, JWS encoding written apart from the library's (OpenSSL's plain base64 and HMAC), and the checks every
/// refusal must pass.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <switchboard/auth.hpp>
#include <switchboard/auth/jwt.hpp>

#include "../support/base64url.hpp"
#include "fuzz_check.hpp"

namespace switchboard::fuzz {

/// The HS256 secret of the fuzzed authenticators. The seed writer signs its tokens with it, so that the valid seeds
/// take the fuzzer past the signature check.
inline constexpr std::string_view hs256_secret = "switchboard-fuzz-secret-0123456789abcdef";
/// The issuer and audience of the authenticator that checks them.
inline constexpr std::string_view issuer = "https://auth.fuzz.test";
inline constexpr std::string_view audience = "switchboard-fuzz";
/// The user of the valid seeds.
inline constexpr std::string_view seed_user = "6f1c2a52-3d1e-4f7a-9b8c-0d1e2f3a4b5c";
/// An exp that stays in the future for the life of the seeds (2100-01-01), and one long past (2001-09-09).
inline constexpr std::uint64_t future_exp = 4102444800;
inline constexpr std::uint64_t past_exp = 1000000000;

/// HS256 without issuer or audience; with `checked_claims`, `iss` and `aud` must be `issuer` and `audience`.
inline JwtOptions hs256_options(bool checked_claims = false) {
    JwtOptions options;
    options.algorithm = JwtOptions::Algorithm::hs256;
    options.key = std::string(hs256_secret);
    if (checked_claims) {
        options.issuer = std::string(issuer);
        options.audience = std::string(audience);
    }
    return options;
}

using test_support::base64url;

/// The base64url HMAC-SHA256 of `signing_input` under `key`: an HS256 signature.
inline std::string hs256_signature(std::string_view key, std::string_view signing_input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_size))
        throw std::runtime_error("HMAC-SHA256 failed");
    return base64url(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

/// A JWS compact token of these exact header and payload bytes, HS256-signed with `key` (whatever the header says).
inline std::string hs256_token(std::string_view key, std::string_view header, std::string_view payload) {
    const std::string signing_input = base64url(header) + '.' + base64url(payload);
    return signing_input + '.' + hs256_signature(key, signing_input);
}

/// Reasons reach logs and HTTP bodies: short, printable, and never the credential itself.
inline constexpr std::size_t max_reason_size = 100;
/// What counts as a credential a reason must not echo: more than 16 characters and no space. Reasons are fixed prose
/// whose words are all shorter, so a fuzzer that copies a reason's text into the token ("expected characte", found
/// by libFuzzer's comparison tracing) is not reported as an echo.
inline constexpr std::size_t min_secret_size = 16;

inline bool is_credential_like(std::string_view text) {
    return text.size() > min_secret_size && text.find(' ') == std::string_view::npos;
}

inline bool is_printable_ascii(std::string_view text) {
    for (const char c : text)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

/// A refusal is 401 with a short printable reason that contains neither `token` nor any of its dot-separated parts
/// (header, payload, signature) when they are credential-like.
inline void check_refusal(const AuthFailure& failure, std::string_view token) {
    const std::string& reason = failure.reason;
    FUZZ_CHECK(failure.status == 401, "status " + std::to_string(failure.status) + ", reason: " + reason);
    FUZZ_CHECK(!reason.empty(), "an empty reason");
    FUZZ_CHECK(reason.size() <= max_reason_size, "reason: " + reason);
    FUZZ_CHECK(is_printable_ascii(reason), "reason: " + reason);
    const auto check_not_echoed = [&](std::string_view secret) {
        if (is_credential_like(secret))
            FUZZ_CHECK(reason.find(secret) == std::string::npos, "reason echoes the token: " + reason);
    };
    check_not_echoed(token);
    for (std::string_view rest = token; !rest.empty();) {
        const std::size_t dot = rest.find('.');
        check_not_echoed(rest.substr(0, dot));
        rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    }
}

} // namespace switchboard::fuzz
