// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `StaticTokenAuthenticator`: a fixed table of opaque tokens, for tests and local tools.
/// Not for production: tokens never expire and are compared as plain strings.

#include <string>
#include <unordered_map>
#include <utility>

#include <switchboard/auth.hpp>

namespace switchboard {

class StaticTokenAuthenticator {
public:
    StaticTokenAuthenticator() = default;
    explicit StaticTokenAuthenticator(std::unordered_map<std::string, Identity> identities)
        : identities_(std::move(identities)) {}

    /// Adds or replaces a token. Not thread-safe: fill the table before serving.
    void add(std::string token, Identity identity) { identities_[std::move(token)] = std::move(identity); }
    void add(std::string token, const UserId& user) { add(std::move(token), Identity{user}); }

    AuthResult authenticate(const UpgradeRequest& request) const {
        const auto token = request.token();
        if (!token) return token.failure();
        const auto found = identities_.find(token.value());
        if (found == identities_.end()) return AuthFailure{401, "unknown token"};
        return found->second;
    }

private:
    std::unordered_map<std::string, Identity> identities_;
};

} // namespace switchboard
