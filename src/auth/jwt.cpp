// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

#include <switchboard/auth/jwt.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <jwt/jwt.hpp>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

namespace switchboard {
namespace {

using Algorithm = JwtOptions::Algorithm;

constexpr std::size_t max_token_size = 8 * 1024;
constexpr char bad_signature[] = "invalid token: signature verification failed";
// The latest exp a system_clock::time_point can hold (year 2262 with libstdc++'s nanoseconds).
constexpr std::uint64_t latest_exp =
    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max()).count();

AuthFailure refuse(std::string reason) { return AuthFailure{401, std::move(reason)}; }

std::string_view jws_name(Algorithm algorithm) {
    switch (algorithm) {
    case Algorithm::hs256: return "HS256";
    case Algorithm::rs256: return "RS256";
    case Algorithm::es256: return "ES256";
    }
    throw std::invalid_argument("JwtOptions::algorithm is not one of the enumerators");
}

// Failed verifications leave entries on the calling thread's OpenSSL error queue; TLS code running next on the
// same transport thread would take them for its own errors.
struct ClearOpenSslErrorsOnExit {
    ~ClearOpenSslErrorsOnExit() { ERR_clear_error(); }
};

using PublicKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

PublicKey read_pem_public_key(const std::string& pem) {
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                        &BIO_free);
    if (!bio) throw std::bad_alloc();
    return PublicKey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
}

bool is_on_p256(const EVP_PKEY& key) {
    char group[64] = {};
    std::size_t length = 0;
    return EVP_PKEY_get_group_name(&key, group, sizeof group, &length) == 1 &&
           std::string_view(group, length) == "prime256v1";
}

// RFC 7518: RS256 needs an RSA key of 2048 bits or more, ES256 an EC key on P-256.
bool is_usable_with(const EVP_PKEY& key, Algorithm algorithm) {
    if (algorithm == Algorithm::rs256) return EVP_PKEY_is_a(&key, "RSA") && EVP_PKEY_get_bits(&key) >= 2048;
    return EVP_PKEY_is_a(&key, "EC") && is_on_p256(key);
}

void check_key(const JwtOptions& options) {
    if (options.key.empty()) throw std::invalid_argument("JwtOptions::key is empty");
    if (options.algorithm == Algorithm::hs256) return;
    const ClearOpenSslErrorsOnExit clear_errors;
    const auto key = read_pem_public_key(options.key);
    if (!key || !is_usable_with(*key, options.algorithm))
        throw std::invalid_argument("JwtOptions::key is not a PEM public key usable with " +
                                    std::string(jws_name(options.algorithm)));
}

std::uint32_t checked_leeway(std::chrono::seconds leeway) {
    if (leeway.count() < 0 || leeway.count() > std::numeric_limits<std::uint32_t>::max())
        throw std::invalid_argument("JwtOptions::leeway is negative or too large");
    return static_cast<std::uint32_t>(leeway.count());
}

std::string base64url(std::string_view bytes) {
    auto text = jwt::base64_encode(bytes.data(), bytes.size());
    text.resize(jwt::base64_uri_encode(text.data(), text.size()));
    return text;
}

std::string hs256_signature(std::string_view secret, std::string_view signing_input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_size))
        throw std::runtime_error("HMAC-SHA256 failed");
    return base64url(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

// cpp-jwt 1.4 compares HMACs with operator==, whose running time tells a forger how much of a guessed signature
// is right. Checking HS256 here in constant time first means cpp-jwt only ever compares equal signatures.
bool hs256_signature_matches(std::string_view secret, std::string_view token) {
    const auto last_dot = token.rfind('.');
    if (last_dot == std::string_view::npos) return false;
    const auto expected = hs256_signature(secret, token.substr(0, last_dot));
    const auto presented = token.substr(last_dot + 1);
    return presented.size() == expected.size() &&
           CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

// JWS compact form is base64url and dots only. cpp-jwt 1.4's base64 decoder indexes its table with a signed char:
// a byte >= 0x80 reads outside the table (and trips an assertion in debug builds), so such tokens stop here.
bool is_compact_form_text(std::string_view token) {
    return std::all_of(token.begin(), token.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.';
    });
}

// The JOSE header (part 0) or the claims (part 1) of a compact-form token, parsed; not an object when the part is
// missing or is no JSON object, which cpp-jwt then reports in its own words.
nlohmann::json decoded_part(std::string_view token, std::size_t part) {
    const std::size_t first_dot = token.find('.');
    const std::size_t second_dot = token.find('.', first_dot + 1);
    if (first_dot == std::string_view::npos || second_dot == std::string_view::npos) return nullptr;
    const std::string_view text =
        part == 0 ? token.substr(0, first_dot) : token.substr(first_dot + 1, second_dot - first_dot - 1);
    return nlohmann::json::parse(jwt::base64_uri_decode(text.data(), text.size()), nullptr,
                                 /*allow_exceptions=*/false);
}

// RFC 7515: "alg" is case-sensitive. cpp-jwt 1.4 matches it with strcasecmp, which also stops at a NUL, so it
// would take "hs256" or "HS256\u0000x" for HS256: only the exact name goes on.
std::optional<std::string> algorithm_problem(std::string_view token, std::string_view expected) {
    const auto header = decoded_part(token, 0);
    if (!header.is_object()) return std::nullopt;
    const auto alg = header.find("alg"); // one that is absent or no string is cpp-jwt's to refuse
    if (alg != header.end() && alg->is_string() && alg->get_ref<const std::string&>() != expected)
        return "invalid token: algorithm not allowed";
    return std::nullopt;
}

// cpp-jwt checks exp and nbf before the signature and converts them to integers the way nlohmann does, which
// overflows (undefined behaviour) for a huge floating-point value. So anyone, without a valid signature, could
// reach that conversion: look at the two claims first and refuse any that is not a whole number.
std::optional<std::string> time_claims_problem(std::string_view token) {
    const auto claims = decoded_part(token, 1);
    if (!claims.is_object()) return std::nullopt;
    for (const char* name : {"exp", "nbf"}) {
        const auto found = claims.find(name);
        if (found != claims.end() && !found->is_number_integer()) return std::string("invalid ") + name + " claim";
    }
    return std::nullopt;
}

std::string reason_for(const std::error_code& error) {
    if (error == jwt::VerificationErrc::TokenExpired) return "token expired";
    if (error == jwt::VerificationErrc::ImmatureSignature) return "token not yet valid";
    if (error == jwt::VerificationErrc::InvalidAlgorithm) return "invalid token: algorithm not allowed";
    if (error == jwt::VerificationErrc::InvalidSignature || error == jwt::AlgorithmErrc::VerificationErr)
        return bad_signature;
    return "invalid token: " + error.message();
}

const nlohmann::json& claim(const nlohmann::json& claims, const char* name) {
    static const nlohmann::json absent;
    const auto found = claims.find(name);
    return found == claims.end() ? absent : *found;
}

// RFC 7519: aud is one string or an array of them.
bool audience_matches(const nlohmann::json& aud, const std::string& expected) {
    if (aud.is_array()) return std::find(aud.begin(), aud.end(), expected) != aud.end();
    return aud == expected;
}

// cpp-jwt has checked exp and nbf when present; exp must be present too, and a value cpp-jwt cannot misread
// (it reads a negative exp as a huge unsigned one, i.e. never expiring).
std::optional<std::string> registered_claims_problem(const nlohmann::json& claims, const JwtOptions& options) {
    if (!claims.is_object()) return "invalid token: payload is not a JSON object";
    const auto& exp = claim(claims, "exp");
    if (exp.is_null()) return "missing exp claim";
    if (!exp.is_number_unsigned() || exp.get<std::uint64_t>() > latest_exp) return "invalid exp claim";
    if (options.issuer && claim(claims, "iss") != *options.issuer) return "wrong issuer";
    if (options.audience && !audience_matches(claim(claims, "aud"), *options.audience)) return "wrong audience";
    return std::nullopt;
}

// The token is accepted until `leeway` past its exp, so that is when the credentials expire: a transport closing
// the connection at exp itself would close at once one it has just accepted within the leeway. Capped at the
// latest time a time_point holds (exp <= latest_exp was checked; the leeway fits in 32 bits).
std::chrono::system_clock::time_point effective_expiry(std::uint64_t exp, std::chrono::seconds leeway) {
    const std::uint64_t expiry = std::min(exp + static_cast<std::uint64_t>(leeway.count()), latest_exp);
    return std::chrono::system_clock::time_point(std::chrono::seconds(expiry));
}

AuthResult identity_from(nlohmann::json claims, const JwtOptions& options) {
    if (auto problem = registered_claims_problem(claims, options)) return refuse(std::move(*problem));
    const auto& sub = claim(claims, "sub");
    if (sub.is_null()) return refuse("missing sub claim");
    const auto user = sub.is_string() ? UserId::try_parse(sub.get_ref<const std::string&>()) : std::nullopt;
    if (!user) return refuse("sub is not a UUID");
    const auto expires_at = effective_expiry(claims["exp"].get<std::uint64_t>(), options.leeway);
    if (options.kept_claims) {
        nlohmann::json kept = nlohmann::json::object();
        for (const std::string& name : *options.kept_claims)
            if (const auto found = claims.find(name); found != claims.end()) kept[name] = std::move(*found);
        claims = std::move(kept);
    }
    return Identity(*user, std::move(claims), expires_at);
}

} // namespace

struct JwtAuthenticator::Impl {
    explicit Impl(JwtOptions options_)
        : options(std::move(options_)), algorithm_name(jws_name(options.algorithm)),
          leeway(checked_leeway(options.leeway)) {
        check_key(options);
    }

    AuthResult verify(std::string_view token) const {
        if (token.empty()) return refuse("missing bearer token");
        if (token.size() > max_token_size) return refuse("token too large");
        if (!is_compact_form_text(token)) return refuse("invalid token: unexpected character");
        if (options.algorithm == Algorithm::hs256 && !hs256_signature_matches(options.key, token))
            return refuse(bad_signature);
        if (auto problem = algorithm_problem(token, algorithm_name)) return refuse(std::move(*problem));
        if (auto problem = time_claims_problem(token)) return refuse(std::move(*problem));
        std::error_code error;
        const auto decoded = jwt::decode(token, jwt::params::algorithms({algorithm_name}), error,
                                         jwt::params::secret(options.key), jwt::params::leeway(leeway));
        if (error) return refuse(reason_for(error));
        return identity_from(decoded.payload().create_json_obj(), options);
    }

    const JwtOptions options;
    const std::string_view algorithm_name;
    const std::uint32_t leeway;
};

JwtAuthenticator::JwtAuthenticator(JwtOptions options) : impl_(std::make_shared<const Impl>(std::move(options))) {}

AuthResult JwtAuthenticator::authenticate(const UpgradeRequest& request) const {
    const auto token = request.token();
    if (!token) return token.failure();
    return verify(token.value());
}

AuthResult JwtAuthenticator::verify(std::string_view token) const {
    const ClearOpenSslErrorsOnExit clear_errors;
    try {
        return impl_->verify(token);
    } catch (...) { // cpp-jwt throws from nlohmann_json on some malformed headers and payloads
        return refuse("invalid token: malformed");
    }
}

std::string sign_hs256(std::string_view secret, const nlohmann::json& claims) {
    if (secret.empty()) throw std::invalid_argument("sign_hs256: the secret is empty");
    if (!claims.is_object()) throw std::invalid_argument("sign_hs256: the claims are not a JSON object");
    const auto signing_input = base64url(R"({"alg":"HS256","typ":"JWT"})") + '.' + base64url(claims.dump());
    return signing_input + '.' + hs256_signature(secret, signing_input);
}

} // namespace switchboard
