// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <switchboard/auth.hpp>
#include <switchboard/connection_id.hpp>
#include <switchboard/detail/token_bucket.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard::detail {

/// What the manager keeps of one connection besides its handle.
struct ConnectionState {
    ConnectionState(Identity identity_, const TokenBucket::Settings& inbound_limit)
        : identity(std::move(identity_)), inbound(inbound_limit) {}

    const Identity identity;
    TokenBucket inbound; ///< under the manager's `inbound_limit_`
};

/// The set of registered connections, in two sharded indexes:
/// - by user: user -> that user's connections (decides presence; serves per-user sends),
/// - by id:   connection -> its identity and handle (serves unregister, inbound, per-connection sends).
///
/// Each shard has its own mutex, held only to read or change the maps: never across a call
/// into the transport. A connection is entered in the id index before the user index, and
/// leaves the id index first, so whoever finds an id in the user index can find it by id.
///
/// Broadcasts read a user shard through an immutable snapshot of its connections, made from the
/// user index when first needed after a change and shared by every broadcast until the next
/// change: repeated broadcasts to a stable population copy nothing. Between broadcasts a
/// connection costs its two index entries; the snapshot, once made, a `Target` more.
///
/// Reservations: an upgrade sets aside one of its user's connection slots when it is accepted
/// (`reserve`), and the connection takes that slot when it opens (`add` with `Slot::reserved`)
/// unless the upgrade is abandoned (`release`). A user's slots are counted, checked and taken
/// under the user's shard lock, so upgrades arriving together cannot overshoot a limit.
template <class Handle>
class Registry {
public:
    /// Whether a connection being added takes a slot that `reserve` set aside for it.
    enum class Slot { unreserved, reserved };

    struct Target {
        ConnectionId id;
        Handle handle;
    };
    using Targets = std::vector<Target>;

    struct Record {
        std::shared_ptr<ConnectionState> state;
        Handle handle;
    };

    /// Sets aside one of `user`'s slots for an accepted upgrade, unless the user's connections and
    /// reservations already fill `limit` (0: no limit). Returns whether it did.
    bool reserve(const UserId& user, std::size_t limit) {
        UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        if (limit != 0 && shard.connection_count(user) + shard.reservation_count(user) >= limit) return false;
        ++shard.reservations[user];
        reservations_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }

    /// Gives back a slot `reserve` set aside for `user`, for an upgrade that will never open.
    /// Does nothing if `user` holds none.
    void release(const UserId& user) {
        UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        unreserve(shard, user);
    }

    /// Registers a connection; with `Slot::reserved` it takes a slot `reserve` set aside, in the
    /// same critical section, so that the user's count never dips for another upgrade to take.
    /// `on_first(user)` runs under the user's shard lock when this is the user's first
    /// connection, so presence transitions of one user are observed in order.
    template <class OnFirst>
    ConnectionId add(std::shared_ptr<ConnectionState> state, Handle handle, Slot slot, OnFirst&& on_first) {
        const ConnectionId id = ConnectionId::next();
        const UserId user = state->identity.user;
        {
            IdShard& shard = id_shard(id);
            std::lock_guard lock(shard.mutex);
            shard.records.emplace(id, Record{std::move(state), handle});
        }
        UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        if (slot == Slot::reserved) unreserve(shard, user);
        const bool first = shard.users.find(user) == shard.users.end();
        shard.users.emplace(user, Target{id, std::move(handle)});
        shard.cached.reset();
        size_.fetch_add(1, std::memory_order_relaxed);
        if (first) {
            ++shard.user_total;
            on_first(user);
        }
        return id;
    }

    /// Unregisters a connection and returns its user; `std::nullopt` when it was not registered
    /// (any more). `on_last(user)` runs under the user's shard lock when this was the user's last
    /// connection.
    template <class OnLast>
    std::optional<UserId> remove(ConnectionId id, OnLast&& on_last) {
        std::optional<Record> record = take_record(id);
        if (!record) return std::nullopt;
        const UserId& user = record->state->identity.user;
        UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        const auto [begin, end] = shard.users.equal_range(user);
        shard.users.erase(std::find_if(begin, end, [id](const auto& entry) { return entry.second.id == id; }));
        shard.cached.reset();
        size_.fetch_sub(1, std::memory_order_relaxed);
        if (shard.users.find(user) == shard.users.end()) {
            --shard.user_total;
            on_last(user);
        }
        return user;
    }

    std::optional<Record> find(ConnectionId id) const {
        const IdShard& shard = id_shard(id);
        std::lock_guard lock(shard.mutex);
        const auto found = shard.records.find(id);
        if (found == shard.records.end()) return std::nullopt;
        return found->second;
    }

    /// Appends the user's connections to `out`.
    void collect_user(const UserId& user, Targets& out) const {
        const UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        const auto [begin, end] = shard.users.equal_range(user);
        for (auto entry = begin; entry != end; ++entry) out.push_back(entry->second);
    }

    /// Calls `visit(targets)` once per shard with that shard's connections, after its lock is released.
    template <class Visit>
    void for_each_shard(Visit&& visit) const {
        for (const UserShard& shard : user_shards_) {
            const std::shared_ptr<const Targets> snapshot = shard.snapshot();
            if (!snapshot->empty()) visit(*snapshot);
        }
    }

    std::size_t connection_count(const UserId& user) const {
        const UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        return shard.connection_count(user);
    }

    std::vector<ConnectionId> connections_of(const UserId& user) const {
        Targets targets;
        collect_user(user, targets);
        std::vector<ConnectionId> ids;
        for (const Target& target : targets) ids.push_back(target.id);
        return ids;
    }

    std::vector<UserId> users() const {
        std::vector<UserId> users;
        for (const UserShard& shard : user_shards_) {
            std::lock_guard lock(shard.mutex);
            for (const auto& entry : shard.users)
                if (users.empty() || users.back() != entry.first) users.push_back(entry.first); // a user's are adjacent
        }
        return users;
    }

    std::size_t user_count() const {
        std::size_t count = 0;
        for (const UserShard& shard : user_shards_) {
            std::lock_guard lock(shard.mutex);
            count += shard.user_total;
        }
        return count;
    }

    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
    /// Slots set aside by `reserve` and neither taken nor released yet, over all users.
    std::size_t reservation_count() const noexcept { return reservations_.load(std::memory_order_relaxed); }

private:
    static constexpr std::size_t shard_count = 16;

    struct alignas(64) UserShard {
        mutable std::mutex mutex;
        /// A node per connection: most users have one, and a map of vectors would cost them a vector.
        std::unordered_multimap<UserId, Target> users;
        std::size_t user_total = 0;                        ///< distinct users in `users`
        mutable std::shared_ptr<const Targets> cached;     ///< of `users`; reset on change
        std::unordered_map<UserId, std::size_t> reservations; ///< users with reserved slots only

        /// Under `mutex`.
        std::size_t connection_count(const UserId& user) const {
            return users.count(user);
        }

        /// Under `mutex`.
        std::size_t reservation_count(const UserId& user) const {
            const auto found = reservations.find(user);
            return found == reservations.end() ? 0 : found->second;
        }

        std::shared_ptr<const Targets> snapshot() const {
            std::lock_guard lock(mutex);
            if (!cached) {
                auto targets = std::make_shared<Targets>();
                targets->reserve(users.size());
                for (const auto& entry : users) targets->push_back(entry.second);
                cached = std::move(targets);
            }
            return cached;
        }
    };
    struct alignas(64) IdShard {
        mutable std::mutex mutex;
        std::unordered_map<ConnectionId, Record> records;
    };

    /// Under `shard.mutex`.
    void unreserve(UserShard& shard, const UserId& user) {
        const auto found = shard.reservations.find(user);
        if (found == shard.reservations.end()) return;
        if (--found->second == 0) shard.reservations.erase(found);
        reservations_.fetch_sub(1, std::memory_order_relaxed);
    }

    std::optional<Record> take_record(ConnectionId id) {
        IdShard& shard = id_shard(id);
        std::lock_guard lock(shard.mutex);
        const auto found = shard.records.find(id);
        if (found == shard.records.end()) return std::nullopt;
        Record record = std::move(found->second);
        shard.records.erase(found);
        return record;
    }

    UserShard& user_shard(const UserId& user) { return user_shards_[std::hash<UserId>{}(user) % shard_count]; }
    const UserShard& user_shard(const UserId& user) const {
        return user_shards_[std::hash<UserId>{}(user) % shard_count];
    }
    IdShard& id_shard(ConnectionId id) { return id_shards_[id.value() % shard_count]; }
    const IdShard& id_shard(ConnectionId id) const { return id_shards_[id.value() % shard_count]; }

    std::array<UserShard, shard_count> user_shards_;
    std::array<IdShard, shard_count> id_shards_;
    std::atomic<std::size_t> size_{0};
    std::atomic<std::size_t> reservations_{0};
};

} // namespace switchboard::detail
