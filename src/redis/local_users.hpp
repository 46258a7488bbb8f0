// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The users a RedisBackplane should listen for: each counted by its joins minus its leaves, with
// the users whose count went from or to zero since the subscriber last caught up, so that the
// subscribes and unsubscribes asked for between two executor turns go out as one batch.
//
// Threads: every member may be called from any thread (one mutex, held for map operations only).

#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <switchboard/user_id.hpp>

namespace switchboard::redis::detail {

class LocalUsers {
public:
    struct Change {
        UserId user;
        bool wanted; ///< listen for them (else: stop)
    };

    /// True when the caller must schedule a `take_changes` (none is pending yet).
    bool joined(const UserId& user) {
        std::lock_guard lock(mutex_);
        if (++counts_[user] != 1) return false;
        return changed(user);
    }

    /// A leave without a join is ignored.
    bool left(const UserId& user) {
        std::lock_guard lock(mutex_);
        const auto found = counts_.find(user);
        if (found == counts_.end()) return false;
        if (--found->second != 0) return false;
        counts_.erase(found);
        return changed(user);
    }

    /// Each user whose count crossed zero since the last call, with whether it is above now; the
    /// next change schedules again.
    std::vector<Change> take_changes() {
        std::lock_guard lock(mutex_);
        std::vector<Change> changes;
        changes.reserve(changed_.size());
        for (const UserId& user : changed_) changes.push_back({user, counts_.count(user) != 0});
        changed_.clear();
        scheduled_ = false;
        return changes;
    }

    std::vector<UserId> users() const {
        std::lock_guard lock(mutex_);
        std::vector<UserId> users;
        users.reserve(counts_.size());
        for (const auto& [user, count] : counts_) users.push_back(user);
        return users;
    }

private:
    bool changed(const UserId& user) {
        changed_.insert(user);
        return !std::exchange(scheduled_, true);
    }

    mutable std::mutex mutex_;
    std::unordered_map<UserId, std::size_t> counts_;
    std::unordered_set<UserId> changed_;
    bool scheduled_ = false;
};

} // namespace switchboard::redis::detail
