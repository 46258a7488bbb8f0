// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `JwtAuthenticator`: accepts an upgrade whose client presents a signed JSON Web Token
/// (RFC 7519, JWS compact form) and maps its claims to an `Identity`.
///
/// A compiled part: link `switchboard::jwt` (CMake option `SWITCHBOARD_JWT`, on by default).
/// This header includes only Switchboard and nlohmann_json headers, so a host may be built as
/// C++17 or C++20; the JWT library (cpp-jwt) and OpenSSL stay inside the compiled library.
///
/// @code
///   switchboard::JwtOptions options;
///   options.key = load_secret();        // HS256 shared secret
///   options.issuer = "https://auth.example.com";
///   switchboard::JwtAuthenticator auth(std::move(options));
///   // pass `auth` to the ConnectionManager as its Auth policy
/// @endcode

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <switchboard/auth.hpp>

namespace switchboard {

/// How a `JwtAuthenticator` checks tokens.
struct JwtOptions {
    /// The one signature algorithm accepted. A token whose header names any other
    /// (`none`, `HS512`, `HS256` against an RSA key, ...) is refused.
    enum class Algorithm { hs256, rs256, es256 };

    Algorithm algorithm = Algorithm::hs256;
    /// HS256: the shared secret (RFC 7518 asks for at least 32 bytes).
    /// RS256: a PEM public key (`-----BEGIN PUBLIC KEY-----`), RSA of at least 2048 bits.
    /// ES256: a PEM public key (`-----BEGIN PUBLIC KEY-----`), EC on P-256.
    std::string key;
    /// When set, the token's `iss` must equal it.
    std::optional<std::string> issuer;
    /// When set, the token's `aud` must equal it, or be an array that contains it.
    std::optional<std::string> audience;
    /// Clock skew tolerated when checking `exp` and `nbf`. A token is valid until `exp` + leeway,
    /// and so is the connection it opened (`Identity::expires_at`).
    std::chrono::seconds leeway{30};
    /// When set, `Identity::claims` keeps only these claims (those present), not the whole payload.
    /// Every open connection holds its claims: ~150 bytes for `sub` alone, ~100 for each number
    /// such as `exp` or `iat`, which `Identity::user` and `expires_at` already carry.
    std::optional<std::vector<std::string>> kept_claims;
};

/// An Auth policy (see `switchboard/auth.hpp`) that accepts a signed JWT.
///
/// A token is accepted when all of these hold:
/// - it is at most 8 KiB and in JWS compact form;
/// - its header names `JwtOptions::algorithm` exactly (`"HS256"`, `"RS256"` or `"ES256"`: RFC 7515's
///   names are case-sensitive) and its signature verifies with `JwtOptions::key`;
/// - `exp` is present, a whole number of seconds, and not in the past (give or take the leeway);
/// - `nbf`, when present, is not in the future (give or take the leeway);
/// - `iss` and `aud` match the options that are set;
/// - `sub` is a UUID in canonical text form.
///
/// The resulting `Identity` has `user` = `sub`, `claims` = the whole payload (a JSON object;
/// hosts read their own claims there, e.g. `"admin"`; only `JwtOptions::kept_claims` when set)
/// and `expires_at` = `exp` + leeway, the moment from which the token would be refused.
///
/// A refusal is `AuthFailure{401, reason}` with a short reason that never echoes the token:
/// "missing bearer token", "ambiguous credentials: header and query carry different tokens"
/// (see `UpgradeRequest::token`), "token too large", "token expired", "token not yet valid",
/// "wrong issuer", "wrong audience", "missing exp claim", "invalid exp claim",
/// "missing sub claim", "sub is not a UUID", or "invalid token: <why>"
/// (e.g. "invalid token: signature verification failed").
///
/// Thread-safe: `authenticate` and `verify` may run concurrently on any number of threads.
/// Cheap to copy: copies share one immutable state. A moved-from authenticator may only be
/// assigned to or destroyed.
class JwtAuthenticator {
public:
    /// Checks the options once, so that a misconfiguration shows at start-up.
    /// @throws std::invalid_argument when the key is empty or is not a PEM public key usable
    ///         with the algorithm, or when the leeway is negative or beyond 32 bits.
    explicit JwtAuthenticator(JwtOptions options);

    /// Verifies the request's token: `Authorization: Bearer <token>` or the `token` query
    /// parameter (see `UpgradeRequest::token`). Never throws.
    AuthResult authenticate(const UpgradeRequest& request) const;

    /// Verifies one token. Never throws.
    AuthResult verify(std::string_view token) const;

private:
    struct Impl;
    std::shared_ptr<const Impl> impl_;
};

/// Makes an HS256 token carrying `claims`, for tools, tests and examples.
/// Adds nothing: include `sub` and `exp` for a token a `JwtAuthenticator` will accept.
/// @throws std::invalid_argument when `secret` is empty or `claims` is not a JSON object.
std::string sign_hs256(std::string_view secret, const nlohmann::json& claims);

} // namespace switchboard
