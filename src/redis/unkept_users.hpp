// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The users whose event RedisHistory could not keep (a failed append), remembered on this node
// until their stream has been renewed: given a new epoch, its events and numbering dropped,
// because offline devices hold positions in a numbering that now misses an event. Bounded: at
// most `cap` users. One more overflows it: it forgets them all and draws a mark instead, and
// from then on every stream this node touches is renewed once (a stream already carrying the
// mark in Redis is not). Safe, at the cost of resets for users who lost nothing and of one more
// round trip per call for as long as the node runs.
//
// Threads: every member may be called from any thread (one mutex, held for no I/O).

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <switchboard/stream_position.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard::redis::detail {

class UnkeptUsers {
public:
    /// What a call for a user must do first: renew its stream unconditionally (`force`), or
    /// unless the stream already carries `mark` (when not empty, the renewal leaves it there).
    struct Renewal {
        std::string mark;
        bool force = false;
        std::uint64_t ticket = 0; ///< for `renewed`: a failure after it is not forgotten
    };

    explicit UnkeptUsers(std::size_t cap) : cap_(cap) {}

    /// After a failed append for `user`.
    void add(const UserId& user) {
        std::lock_guard lock(mutex_);
        if (users_.size() >= cap_ && !users_.count(user)) {
            users_.clear(); // the new mark covers them: every stream gets renewed once
            mark_ = Epoch::random().to_string();
            marked_at_ = ++tickets_;
            return;
        }
        users_[user] = ++tickets_;
    }

    /// Empty when `user`'s stream needs no renewal.
    std::optional<Renewal> renewal(const UserId& user) const {
        std::lock_guard lock(mutex_);
        const auto found = users_.find(user);
        if (found != users_.end()) return Renewal{mark_, true, found->second};
        if (!mark_.empty()) return Renewal{mark_, false, 0};
        return std::nullopt;
    }

    /// After a renewal from `renewal(user)` and the call after it succeeded.
    void renewed(const UserId& user, const Renewal& renewal) {
        std::lock_guard lock(mutex_);
        const auto found = users_.find(user);
        if (found != users_.end() && found->second == renewal.ticket) users_.erase(found);
    }

    /// The tickets given so far, for `failed_since`.
    std::uint64_t tickets() const {
        std::lock_guard lock(mutex_);
        return tickets_;
    }

    /// Whether an append of `user` failed (or the set overflowed, forgetting who) since `tickets()`
    /// returned `since`: a call sent before that failure was known carried no renewal for it.
    bool failed_since(const UserId& user, std::uint64_t since) const {
        std::lock_guard lock(mutex_);
        const auto found = users_.find(user);
        return marked_at_ > since || (found != users_.end() && found->second > since);
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return users_.size();
    }

    /// Who is remembered now.
    std::vector<UserId> users() const {
        std::lock_guard lock(mutex_);
        std::vector<UserId> remembered;
        remembered.reserve(users_.size());
        for (const auto& entry : users_) remembered.push_back(entry.first);
        return remembered;
    }

    bool overflowed() const {
        std::lock_guard lock(mutex_);
        return !mark_.empty();
    }

private:
    const std::size_t cap_;
    mutable std::mutex mutex_;
    std::unordered_map<UserId, std::uint64_t> users_; ///< each with the ticket of its last failure
    std::string mark_;                                ///< drawn at the first overflow, redrawn at each
    std::uint64_t tickets_ = 0;
    std::uint64_t marked_at_ = 0; ///< the ticket of the last overflow
};

} // namespace switchboard::redis::detail
