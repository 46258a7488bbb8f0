// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// This node's copy of the users online anywhere in the cluster, so that presence queries need no
// round trip: filled from Redis' set when the links come up, then kept by the presence changes
// Redis publishes. While the copy of Redis' set is on its way, the changes heard meanwhile are
// kept and applied over it on arrival (in the order heard, which is Redis' order), so that a
// change made after Redis answered is not lost under the answer.
//
// Threads: `changed`, `seeding` and `seeded` on the backplane's executor; the queries from any
// thread (one mutex, held for set operations only).

#include <mutex>
#include <unordered_set>
#include <vector>

#include <switchboard/user_id.hpp>

#include "backplane_wire.hpp"

namespace switchboard::redis::detail {

class OnlineMirror {
public:
    void changed(const PresenceChange& change) {
        std::lock_guard lock(mutex_);
        if (seeding_) heard_.push_back(change);
        apply(change);
    }

    /// Redis' set was asked for: keep what is heard until it comes.
    void seeding() {
        std::lock_guard lock(mutex_);
        seeding_ = true;
        heard_.clear();
    }

    void seeded(const std::vector<UserId>& online) {
        std::lock_guard lock(mutex_);
        online_ = std::unordered_set<UserId>(online.begin(), online.end());
        for (const PresenceChange& change : heard_) apply(change);
        heard_.clear();
        seeding_ = false;
    }

    bool is_online(const UserId& user) const {
        std::lock_guard lock(mutex_);
        return online_.count(user) != 0;
    }

    std::vector<UserId> users() const {
        std::lock_guard lock(mutex_);
        return {online_.begin(), online_.end()};
    }

private:
    void apply(const PresenceChange& change) {
        if (change.online) online_.insert(change.user);
        else online_.erase(change.user);
    }

    mutable std::mutex mutex_;
    std::unordered_set<UserId> online_;
    bool seeding_ = false;
    std::vector<PresenceChange> heard_;
};

} // namespace switchboard::redis::detail
