// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include <switchboard/connection_id.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard::detail {

/// Presence changes waiting for the next coalesced flush. A user's changes alternate (online,
/// offline, online...), so a second pending change for a user cancels the first: joining and
/// leaving inside one interval is no change at all.
class PendingPresence {
public:
    void record(const UserId& user, bool online) {
        std::lock_guard lock(mutex_);
        const auto [entry, inserted] = pending_.emplace(user, online);
        if (!inserted) pending_.erase(entry);
    }

    /// Takes every pending change: (joins, leaves), each sorted.
    std::pair<std::vector<UserId>, std::vector<UserId>> take() {
        std::unordered_map<UserId, bool> taken;
        {
            std::lock_guard lock(mutex_);
            taken.swap(pending_);
        }
        std::pair<std::vector<UserId>, std::vector<UserId>> diff;
        for (const auto& [user, online] : taken) (online ? diff.first : diff.second).push_back(user);
        std::sort(diff.first.begin(), diff.first.end());
        std::sort(diff.second.begin(), diff.second.end());
        return diff;
    }

private:
    std::mutex mutex_;
    std::unordered_map<UserId, bool> pending_;
};

/// Which connections asked to hear of which users' presence, both ways round so that either
/// side can be dropped quickly. While nobody subscribes (the common case outside scoped
/// presence), lookups skip the lock: a lookup racing with a first subscription may miss it,
/// as it would had it come a moment earlier.
class PresenceSubscriptions {
public:
    void add(ConnectionId watcher, const std::vector<UserId>& users) {
        std::lock_guard lock(mutex_);
        for (const UserId& user : users) {
            watchers_[user].insert(watcher);
            watched_[watcher].insert(user);
        }
        update_empty();
    }

    void remove(ConnectionId watcher, const std::vector<UserId>& users) {
        std::lock_guard lock(mutex_);
        for (const UserId& user : users) unlink(watcher, user);
        update_empty();
    }

    /// Forgets every subscription of a connection that went away.
    void remove_all(ConnectionId watcher) {
        std::lock_guard lock(mutex_);
        const auto found = watched_.find(watcher);
        if (found == watched_.end()) return;
        const std::set<UserId> users = std::move(found->second);
        for (const UserId& user : users) unlink(watcher, user);
        update_empty();
    }

    std::vector<ConnectionId> watchers_of(const UserId& user) const {
        if (empty_.load(std::memory_order_acquire)) return {};
        std::lock_guard lock(mutex_);
        const auto found = watchers_.find(user);
        if (found == watchers_.end()) return {};
        return {found->second.begin(), found->second.end()};
    }

    std::size_t size(ConnectionId watcher) const {
        std::lock_guard lock(mutex_);
        const auto found = watched_.find(watcher);
        return found == watched_.end() ? 0 : found->second.size();
    }

private:
    void update_empty() { empty_.store(watched_.empty(), std::memory_order_release); }

    void unlink(ConnectionId watcher, const UserId& user) {
        erase_from(watchers_, user, watcher);
        erase_from(watched_, watcher, user);
    }

    template <class Map, class Key, class Value>
    static void erase_from(Map& map, const Key& key, const Value& value) {
        const auto found = map.find(key);
        if (found == map.end()) return;
        found->second.erase(value);
        if (found->second.empty()) map.erase(found);
    }

    mutable std::mutex mutex_;
    std::atomic<bool> empty_{true};
    std::unordered_map<UserId, std::set<ConnectionId>> watchers_;
    std::unordered_map<ConnectionId, std::set<UserId>> watched_;
};

} // namespace switchboard::detail
