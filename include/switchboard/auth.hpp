// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The authenticator policy: what it receives (`UpgradeRequest`, whose `token()` finds the
/// client's token) and what it answers (`AuthResult`: an `Identity` or an `AuthFailure`).
///
/// An Auth policy `A` is any type with
/// @code
///   AuthResult A::authenticate(const UpgradeRequest&) const;   // thread-safe, must not throw
/// @endcode
/// It runs at the HTTP upgrade, before any WebSocket frame, on a transport thread.
/// A refused upgrade creates no state in the manager.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <switchboard/detail/text.hpp>
#include <switchboard/stream_position.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard {

/// Why an upgrade was refused: the HTTP status to answer with and a short reason.
struct AuthFailure {
    int status = 401;
    std::string reason;
};

/// What `UpgradeRequest::token` found: the client's token, or why there is none to check.
class TokenResult {
public:
    enum class Problem {
        missing,   ///< neither `Authorization: Bearer` nor a `token` query parameter
        ambiguous, ///< both, carrying different tokens: the server must not pick one
    };

    TokenResult(std::string token) : value_(std::move(token)) {}
    TokenResult(Problem problem) : value_(problem) {}

    bool found() const noexcept { return value_.index() == 0; }
    explicit operator bool() const noexcept { return found(); }
    /// Precondition: `found()`.
    const std::string& value() const { return std::get<std::string>(value_); }
    /// Precondition: `!found()`.
    Problem problem() const { return std::get<Problem>(value_); }
    /// Precondition: `!found()`. The refusal to answer with: 401, "missing bearer token" or
    /// "ambiguous credentials: header and query carry different tokens".
    AuthFailure failure() const {
        if (problem() == Problem::missing) return AuthFailure{401, "missing bearer token"};
        return AuthFailure{401, "ambiguous credentials: header and query carry different tokens"};
    }

private:
    std::variant<std::string, Problem> value_;
};

/// The parts of an HTTP upgrade request an authenticator may look at.
struct UpgradeRequest {
    std::string path;  ///< without the query, e.g. "/ws"
    std::string query; ///< raw, without '?', e.g. "token=abc&x=1"
    std::vector<std::pair<std::string, std::string>> headers;
    std::string remote_address;

    /// First header of that name, compared case-insensitively.
    std::optional<std::string_view> header(std::string_view name) const {
        for (const auto& [key, value] : headers)
            if (detail::iequals(key, name)) return std::string_view(value);
        return std::nullopt;
    }

    /// First query parameter of that name, percent-decoded; `std::nullopt` when absent or
    /// malformed.
    std::optional<std::string> query_param(std::string_view name) const {
        const auto raw = detail::find_query_value(query, name);
        return raw ? detail::percent_decode(*raw) : std::nullopt;
    }

    /// The credentials of `Authorization: Bearer <token>`, if that header has that form.
    std::optional<std::string_view> bearer_token() const {
        constexpr std::string_view scheme = "Bearer ";
        const auto value = header("Authorization");
        if (!value || value->size() <= scheme.size() || !detail::iequals(value->substr(0, scheme.size()), scheme))
            return std::nullopt;
        return value->substr(scheme.size());
    }

    /// The client's token: `Authorization: Bearer <token>` or the `token` query parameter
    /// (browsers cannot set headers on a WebSocket), or why there is none: neither is there, or
    /// both are there and differ (an ambiguous credential is no credential).
    TokenResult token() const {
        const auto from_header = bearer_token();
        auto from_query = query_param("token");
        if (from_header && from_query && *from_header != *from_query) return TokenResult::Problem::ambiguous;
        if (from_header) return std::string(*from_header);
        if (from_query) return std::move(*from_query);
        return TokenResult::Problem::missing;
    }
};

/// Who is connecting, as established by the authenticator.
struct Identity {
    Identity() = default;
    explicit Identity(UserId user_, nlohmann::json claims_ = nlohmann::json::object(),
                      std::optional<std::chrono::system_clock::time_point> expires_at_ = std::nullopt)
        : user(user_), claims(std::move(claims_)), expires_at(expires_at_) {}

    UserId user;
    /// Whatever the host's handlers may need (JWT claims, roles); an object, possibly empty.
    nlohmann::json claims = nlohmann::json::object();
    /// When the credentials stop being valid, if they expire: the first moment the authenticator
    /// would refuse them, tolerances included (for a JWT, `exp` plus the leeway). A transport may
    /// close the connection then (`WebsocketppTransport`: 1008), so an authenticator must never
    /// set it earlier than it accepts the credentials.
    std::optional<std::chrono::system_clock::time_point> expires_at;
    /// Where the client resumes its user's event stream (`ManagerOptions::history`): set by the
    /// manager at the upgrade from `?resume=<epoch>:<offset>`, never by an authenticator. A host
    /// registering its own connections may set it.
    std::optional<StreamPosition> resume;
};

/// Either an `Identity` (accepted) or an `AuthFailure` (refused).
class AuthResult {
public:
    AuthResult(Identity identity) : value_(std::move(identity)) {}
    AuthResult(AuthFailure failure) : value_(std::move(failure)) {}

    bool accepted() const noexcept { return value_.index() == 0; }
    explicit operator bool() const noexcept { return accepted(); }
    /// Precondition: `accepted()`.
    const Identity& identity() const { return std::get<Identity>(value_); }
    /// Precondition: `!accepted()`.
    const AuthFailure& failure() const { return std::get<AuthFailure>(value_); }

private:
    std::variant<Identity, AuthFailure> value_;
};

template <class A, class = void>
struct is_authenticator : std::false_type {};

template <class A>
struct is_authenticator<A, std::void_t<decltype(AuthResult(std::declval<const A&>().authenticate(
                               std::declval<const UpgradeRequest&>())))>> : std::true_type {};

template <class A>
inline constexpr bool is_authenticator_v = is_authenticator<A>::value;

} // namespace switchboard
