// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// This node's copy of the users online anywhere in the cluster, so that presence queries need no
// round trip. Each shard decides its own users' presence (sharded_presence.hpp), so the copy is
// one set per shard, merged by the queries: a shard's set is filled from that shard's
// `<prefix>.presence.online` when its links come up, then kept by the changes that shard
// publishes. While a shard's set is on its way, the changes heard from it meanwhile are kept and
// applied over it on arrival (in the order heard, which is Redis' order), so that a change made
// after Redis answered is not lost under the answer; the other shards' sets are left as they are.
//
// Threads: `changed`, `seeding` and `seeded` on the backplane's executor; the queries from any
// thread (one mutex, held for set operations only).

#include <cstddef>
#include <mutex>
#include <unordered_set>
#include <vector>

#include <switchboard/user_id.hpp>

#include "backplane_wire.hpp"

namespace switchboard::redis::detail {

class OnlineMirror {
public:
    explicit OnlineMirror(std::size_t shards) : shards_(shards) {}

    void changed(std::size_t shard, const PresenceChange& change) {
        std::lock_guard lock(mutex_);
        Shard& of = shards_[shard];
        if (of.seeding) of.heard.push_back(change);
        of.apply(change);
    }

    /// Shard `shard`'s set was asked for: keep what it says until the set comes.
    void seeding(std::size_t shard) {
        std::lock_guard lock(mutex_);
        shards_[shard].seeding = true;
        shards_[shard].heard.clear();
    }

    void seeded(std::size_t shard, const std::vector<UserId>& online) {
        std::lock_guard lock(mutex_);
        Shard& of = shards_[shard];
        of.online = std::unordered_set<UserId>(online.begin(), online.end());
        for (const PresenceChange& change : of.heard) of.apply(change);
        of.heard.clear();
        of.seeding = false;
    }

    /// O(shards): a user is in their own shard's set only.
    bool is_online(const UserId& user) const {
        std::lock_guard lock(mutex_);
        for (const Shard& shard : shards_)
            if (shard.online.count(user) != 0) return true;
        return false;
    }

    std::vector<UserId> users() const {
        std::lock_guard lock(mutex_);
        std::vector<UserId> users;
        for (const Shard& shard : shards_) users.insert(users.end(), shard.online.begin(), shard.online.end());
        return users;
    }

    /// What shard `shard` is known to hold online (kept while its Redis is away).
    std::vector<UserId> users_of(std::size_t shard) const {
        std::lock_guard lock(mutex_);
        return {shards_[shard].online.begin(), shards_[shard].online.end()};
    }

private:
    struct Shard {
        void apply(const PresenceChange& change) {
            if (change.online) online.insert(change.user);
            else online.erase(change.user);
        }

        std::unordered_set<UserId> online;
        bool seeding = false;
        std::vector<PresenceChange> heard;
    };

    mutable std::mutex mutex_;
    std::vector<Shard> shards_;
};

} // namespace switchboard::redis::detail
