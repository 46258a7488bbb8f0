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
#include <switchboard/event.hpp>
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
///
/// Starting connections (`add` with `Start::later`; the manager's history uses it): registered
/// and counted, but left out of `collect_user` and of broadcasts until `start` says they have
/// had their first frame. What is sent to one meanwhile is held for it (`Frame`s passed as
/// `hold`, or `hold_if_starting`), under the user's shard lock, and `start` hands it over.
template <class Handle>
class Registry {
public:
    /// Whether a connection being added takes a slot that `reserve` set aside for it.
    enum class Slot { unreserved, reserved };
    /// Whether a connection being added gets sends at once or only after `start`.
    enum class Start { at_once, later };

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
    ConnectionId add(std::shared_ptr<ConnectionState> state, Handle handle, Slot slot, OnFirst&& on_first,
                     Start start = Start::at_once) {
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
        if (start == Start::later) {
            shard.starting.try_emplace(id);
            starting_.fetch_add(1, std::memory_order_relaxed);
        }
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
        if (shard.starting.erase(id) != 0) starting_.fetch_sub(1, std::memory_order_relaxed);
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

    /// Appends the user's started connections to `out`, and holds `*hold` (if given) for those
    /// still starting.
    void collect_user(const UserId& user, Targets& out, const Frame* hold = nullptr) {
        UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        const auto [begin, end] = shard.users.equal_range(user);
        for (auto entry = begin; entry != end; ++entry) {
            const auto starting = shard.starting.empty() ? shard.starting.end() : shard.starting.find(entry->second.id);
            if (starting == shard.starting.end()) out.push_back(entry->second);
            else if (hold) starting->second.push_back(*hold);
        }
    }

    /// How many of the user's connections but `except` have started: what `collect_user` would
    /// give, counted without copying their handles.
    std::size_t count_started(const UserId& user, ConnectionId except) {
        UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        const auto [begin, end] = shard.users.equal_range(user);
        return static_cast<std::size_t>(std::count_if(begin, end, [&](const auto& entry) {
            const ConnectionId id = entry.second.id;
            return id != except && (shard.starting.empty() || shard.starting.count(id) == 0);
        }));
    }

    /// Calls `visit(targets)` once per shard with that shard's started connections, after its
    /// lock is released; holds `*hold` (if given) for those still starting.
    template <class Visit>
    void for_each_shard(Visit&& visit, const Frame* hold = nullptr) {
        for (UserShard& shard : user_shards_) {
            const std::shared_ptr<const Targets> snapshot = shard.snapshot(hold);
            if (!snapshot->empty()) visit(*snapshot);
        }
    }

    /// Holds `frame` for the connection if it is still starting; false if it is not (started,
    /// or not registered).
    bool hold_if_starting(ConnectionId id, const Frame& frame) {
        if (starting_.load(std::memory_order_relaxed) == 0) return false;
        const std::optional<Record> record = find(id);
        if (!record) return false;
        UserShard& shard = user_shard(record->state->identity.user);
        std::lock_guard lock(shard.mutex);
        const auto starting = shard.starting.find(id);
        if (starting == shard.starting.end()) return false;
        starting->second.push_back(frame);
        return true;
    }

    /// Ends a connection's start, unless frames were held for it meanwhile: then it takes them
    /// (and the connection is still starting) and must send them and call again. Empty once
    /// the connection is started, or if it was not starting. Frames held while the caller sends
    /// come after those it has, so a sender's order holds.
    std::vector<Frame> start(const UserId& user, ConnectionId id) {
        UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        const auto starting = shard.starting.find(id);
        if (starting == shard.starting.end()) return {};
        std::vector<Frame> held = std::move(starting->second);
        if (!held.empty()) {
            starting->second.clear();
            return held;
        }
        shard.starting.erase(starting);
        starting_.fetch_sub(1, std::memory_order_relaxed);
        shard.cached.reset();
        return {};
    }

    std::size_t connection_count(const UserId& user) const {
        const UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        return shard.connection_count(user);
    }

    /// Removes `id` from `targets`, if there.
    static void leave_out(Targets& targets, ConnectionId id) {
        const auto named = [id](const Target& target) { return target.id == id; };
        targets.erase(std::remove_if(targets.begin(), targets.end(), named), targets.end());
    }

    /// Started or starting.
    std::vector<ConnectionId> connections_of(const UserId& user) const {
        const UserShard& shard = user_shard(user);
        std::lock_guard lock(shard.mutex);
        std::vector<ConnectionId> ids;
        const auto [begin, end] = shard.users.equal_range(user);
        for (auto entry = begin; entry != end; ++entry) ids.push_back(entry->second.id);
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
        mutable std::shared_ptr<const Targets> cached;     ///< of `users` started; reset on change
        std::unordered_map<UserId, std::size_t> reservations; ///< users with reserved slots only
        /// Connections of `users` not started yet, each with what is held for it.
        std::unordered_map<ConnectionId, std::vector<Frame>> starting;

        /// Under `mutex`.
        std::size_t connection_count(const UserId& user) const {
            return users.count(user);
        }

        /// Under `mutex`.
        std::size_t reservation_count(const UserId& user) const {
            const auto found = reservations.find(user);
            return found == reservations.end() ? 0 : found->second;
        }

        /// The started connections; holds `*hold` (if given) for the starting ones.
        std::shared_ptr<const Targets> snapshot(const Frame* hold) {
            std::lock_guard lock(mutex);
            if (hold)
                for (auto& held : starting) held.second.push_back(*hold);
            if (!cached) {
                auto targets = std::make_shared<Targets>();
                targets->reserve(users.size() - starting.size());
                for (const auto& entry : users)
                    if (starting.empty() || starting.count(entry.second.id) == 0) targets->push_back(entry.second);
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
    std::atomic<std::size_t> starting_{0}; ///< over all shards
};

} // namespace switchboard::detail
