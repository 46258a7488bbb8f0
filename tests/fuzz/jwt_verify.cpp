// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// Fuzz target: `JwtAuthenticator::verify`, HS256 (plain, and with issuer and audience) and RS256.
///
/// Input, two forms:
/// - 's', then header JSON, a newline, payload JSON (no newline: the payload alone, under a plain HS256 header):
///   the target HS256-signs those exact bytes with the fuzzers' secret, so that fuzzing reaches what lies past the
///   signature check (cpp-jwt's header and payload parsing, the claim checks). It also signs them with HMAC keyed by
///   the RSA public key, the classic algorithm-confusion forgery, for the RS256 authenticator;
/// - anything else: a token as it came, verified by all three.
/// Invariants:
/// - `verify` never throws;
/// - a refusal is 401 with a short printable reason that does not echo the token (see `check_refusal`);
/// - RS256 never accepts: no input here carries an RSA signature;
/// - HS256 accepts only a genuine signature, and then an identity whose claims are exactly the payload, with
///   `alg` exactly HS256, `exp` a future whole number of seconds, `nbf` past, `sub` the user, `iss` and `aud` as configured.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <switchboard/auth/jwt.hpp>

#include "auth_support.hpp"

namespace {

using namespace switchboard;
using nlohmann::json;

/// A fresh RSA key's public half in PEM: RS256 verification runs for real, yet no input can carry a valid signature.
std::string generate_rsa_public_pem() {
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!key || !bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1)
        throw std::runtime_error("could not make an RSA key");
    char* pem = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &pem);
    return std::string(pem, static_cast<std::size_t>(size));
}

JwtOptions rs256_options(std::string public_pem) {
    JwtOptions options;
    options.algorithm = JwtOptions::Algorithm::rs256;
    options.key = std::move(public_pem);
    return options;
}

/// Built once, at the first input: the key generation takes a while.
struct Authenticators {
    Authenticators() : rsa_public_pem(generate_rsa_public_pem()), rs256(rs256_options(rsa_public_pem)) {}

    const std::string rsa_public_pem;
    const JwtAuthenticator hs256{fuzz::hs256_options()};
    const JwtAuthenticator hs256_checked{fuzz::hs256_options(/*checked_claims=*/true)};
    const JwtAuthenticator rs256;
};

const Authenticators& authenticators() {
    static const Authenticators instance;
    return instance;
}

AuthResult verify(const JwtAuthenticator& authenticator, std::string_view token) {
    try {
        return authenticator.verify(token);
    } catch (const std::exception& error) {
        FUZZ_CHECK(false, std::string("verify threw: ") + error.what());
    } catch (...) {
        FUZZ_CHECK(false, "verify threw a non-std exception");
    }
    std::abort(); // not reached: FUZZ_CHECK(false, ...) aborts
}

using std::chrono::seconds;
using std::chrono::system_clock;

std::int64_t unix_now() { return std::chrono::duration_cast<seconds>(system_clock::now().time_since_epoch()).count(); }

/// The accepted identity matches the claims it came from.
void check_identity(const Identity& identity) {
    FUZZ_CHECK(identity.claims.is_object(), "claims are not an object: " + identity.claims.dump());
    const auto sub = identity.claims.find("sub");
    FUZZ_CHECK(sub != identity.claims.end() && sub->is_string() &&
                   UserId::try_parse(sub->get_ref<const std::string&>()) == identity.user,
               "the user is not sub: " + identity.claims.dump());
    const auto exp = identity.claims.find("exp");
    FUZZ_CHECK(exp != identity.claims.end() && exp->is_number_unsigned(), "exp: " + identity.claims.dump());
    const auto latest = std::chrono::duration_cast<seconds>(system_clock::duration::max());
    const auto expiry = std::min(seconds(exp->get<std::int64_t>()) + JwtOptions{}.leeway, latest);
    FUZZ_CHECK(identity.expires_at == system_clock::time_point(expiry),
               "expires_at is not exp + leeway: " + identity.claims.dump());
}

/// What an accepted token of these exact header and payload bytes must have said (checked against the spec in
/// jwt.hpp, with nlohmann's parser, not through cpp-jwt).
void check_accepted_claims(const Identity& identity, std::string_view header_text, std::string_view payload_text,
                           bool checked_claims) {
    check_identity(identity);
    // RFC 7515's names are case-sensitive, though cpp-jwt reads them ignoring case: exactly "HS256".
    const json header = json::parse(header_text, nullptr, /*allow_exceptions=*/false);
    const json alg = header.is_object() ? header.value("alg", json()) : json();
    FUZZ_CHECK(alg == "HS256", "accepted alg: " + header.dump());
    const json payload = json::parse(payload_text, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(payload == identity.claims, "claims differ from the payload: " + identity.claims.dump());

    const std::int64_t leeway = JwtOptions{}.leeway.count();
    constexpr std::int64_t slack = 2; // the authenticator read the clock a moment before this check
    const std::int64_t now = unix_now();
    FUZZ_CHECK(payload.at("exp").get<std::int64_t>() + leeway + slack >= now, "accepted an expired token");
    if (const auto nbf = payload.find("nbf"); nbf != payload.end())
        FUZZ_CHECK(nbf->is_number() && nbf->get<double>() <= static_cast<double>(now + leeway),
                   "accepted a token not yet valid: nbf " + nbf->dump());
    if (checked_claims) {
        const json iss = payload.value("iss", json());
        FUZZ_CHECK(iss == json(std::string(fuzz::issuer)), "accepted iss: " + iss.dump());
        const json aud = payload.value("aud", json());
        const json wanted = std::string(fuzz::audience);
        FUZZ_CHECK(aud == wanted || (aud.is_array() && std::find(aud.begin(), aud.end(), wanted) != aud.end()),
                   "accepted aud: " + aud.dump());
    }
}

/// An HS256 acceptance of a token the target did not sign itself: its signature must be genuine.
void check_genuine_hs256(std::string_view token) {
    const std::size_t last_dot = token.rfind('.');
    FUZZ_CHECK(last_dot != std::string_view::npos, "accepted a token without a signature part");
    FUZZ_CHECK(token.substr(last_dot + 1) == fuzz::hs256_signature(fuzz::hs256_secret, token.substr(0, last_dot)),
               "accepted a forged HS256 signature");
}

void check_never_accepted(const JwtAuthenticator& authenticator, std::string_view token) {
    const AuthResult result = verify(authenticator, token);
    FUZZ_CHECK(!result, "RS256 accepted a token that carries no RSA signature");
    fuzz::check_refusal(result.failure(), token);
}

void fuzz_signed(std::string_view input) {
    constexpr std::string_view plain_header = R"({"alg":"HS256","typ":"JWT"})";
    const std::size_t newline = input.find('\n');
    const std::string_view header = newline == std::string_view::npos ? plain_header : input.substr(0, newline);
    const std::string_view payload = newline == std::string_view::npos ? input : input.substr(newline + 1);

    const Authenticators& auth = authenticators();
    const std::string token = fuzz::hs256_token(fuzz::hs256_secret, header, payload);
    for (const bool checked_claims : {false, true}) {
        const AuthResult result = verify(checked_claims ? auth.hs256_checked : auth.hs256, token);
        if (result) check_accepted_claims(result.identity(), header, payload, checked_claims);
        else fuzz::check_refusal(result.failure(), token);
    }
    check_never_accepted(auth.rs256, token);
    check_never_accepted(auth.rs256, fuzz::hs256_token(auth.rsa_public_pem, header, payload));
}

void fuzz_raw(std::string_view token) {
    const Authenticators& auth = authenticators();
    for (const JwtAuthenticator* hs256 : {&auth.hs256, &auth.hs256_checked}) {
        const AuthResult result = verify(*hs256, token);
        if (!result) {
            fuzz::check_refusal(result.failure(), token);
            continue;
        }
        check_genuine_hs256(token);
        check_identity(result.identity());
    }
    check_never_accepted(auth.rs256, token);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (!input.empty() && input.front() == 's') fuzz_signed(input.substr(1));
    else fuzz_raw(input);
    return 0;
}
