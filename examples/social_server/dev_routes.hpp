// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// What the demo page needs and a real deployment must never offer: tokens for the asking. The
/// server mounts these routes only when it signs with the public development secret, which anyone
/// can sign with anyway (`social_server token`); with a secret of its own they do not exist (404).
///
///   POST /api/dev/token    {"user_id":"<uuid>"} -> {"token":"<JWT>","user_id":"<uuid>","expires_in":<s>}
///   GET  /api/dev/presence the body of GET /api/presence, without its admin token
///
/// Threads: `handle` is const and may run on every I/O thread at once.

#include <chrono>
#include <optional>
#include <string>

#include <switchboard/transport/websocketpp.hpp>
#include <switchboard/user_id.hpp>

namespace social {

class SocialApp;

/// A user's HS256 token: `sub` = user, `iat` = now, `exp` = now + `ttl`; `admin` adds `"admin":true`.
std::string mint_token(const std::string& secret, const switchboard::UserId& user, std::chrono::seconds ttl,
                       bool admin = false);

class DevRoutes {
public:
    static constexpr std::chrono::hours token_ttl{24};

    DevRoutes(std::string secret, const SocialApp& app) : secret_(std::move(secret)), app_(app) {}
    /// The answer when `request` is for one of these routes; nothing otherwise.
    std::optional<switchboard::HttpResponse> handle(const switchboard::HttpRequest& request) const;

private:
    switchboard::HttpResponse token(const switchboard::HttpRequest& request) const;

    std::string secret_;
    const SocialApp& app_;
};

} // namespace social
