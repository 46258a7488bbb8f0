// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// Sharding over several Redis instances: `redis::Endpoint` names one, `redis::ShardRing` says
/// which one holds a user's channel and keys, by consistent hashing.
///
/// The ring. Each of N shards owns `points_per_shard` points on a ring of 64-bit values, point j
/// of shard i being `stable_hash("shard-<i>#<j>")`; a user belongs to the shard of the first point
/// at or after `stable_hash(<the user id's 16 bytes>)`, going round past the largest. So:
/// - the answer depends on nothing but N, the points per shard and the id: every process, build
///   and machine agrees (the hash is FNV-1a 64 followed by MurmurHash3's 64-bit finaliser, both
///   defined byte by byte, not `std::hash`);
/// - with many points per shard, users spread evenly (each shard's share within a few percent of
///   1/N at the default 256 points);
/// - a shard appended at the end (index N) takes only its own points: about 1/(N+1) of the users
///   move to it, and no user moves between the shards that were there. Shards are named by their
///   index, so list them in the same order on every node and append new ones at the end; a
///   shard removed from the middle renumbers those after it and moves more.
///
/// Threads: a `ShardRing` is immutable after construction; `shard_of` may be called from any
/// number of threads at once.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <switchboard/user_id.hpp>

namespace switchboard::redis {

/// One Redis instance.
struct Endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;

    friend bool operator==(const Endpoint& a, const Endpoint& b) { return a.host == b.host && a.port == b.port; }
    friend bool operator!=(const Endpoint& a, const Endpoint& b) { return !(a == b); }
};

namespace detail {

/// FNV-1a, 64 bits: offset basis 14695981039346656037, prime 1099511628211.
constexpr std::uint64_t fnv1a64(const unsigned char* data, std::size_t size) noexcept {
    std::uint64_t hash = 14695981039346656037ull;
    for (std::size_t i = 0; i < size; ++i) {
        hash ^= data[i];
        hash *= 1099511628211ull;
    }
    return hash;
}

/// MurmurHash3's fmix64: FNV-1a alone leaves its high bits poorly mixed for short, similar
/// inputs such as the ring's point names, and the ring orders by all 64 bits.
constexpr std::uint64_t fmix64(std::uint64_t value) noexcept {
    value ^= value >> 33;
    value *= 0xff51afd7ed558ccdull;
    value ^= value >> 33;
    value *= 0xc4ceb9fe1a85ec53ull;
    value ^= value >> 33;
    return value;
}

inline std::uint64_t stable_hash(std::string_view bytes) noexcept {
    return fmix64(fnv1a64(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

inline std::uint64_t stable_hash(const UserId& user) noexcept {
    return fmix64(fnv1a64(user.bytes().data(), user.bytes().size()));
}

/// `first` then `more`: every shard, in order. Throws `std::invalid_argument` (naming `who`) when
/// an endpoint is listed twice: it would hold two shards' users and see each of their messages twice.
inline std::vector<Endpoint> every_shard(Endpoint first, const std::vector<Endpoint>& more, const std::string& who) {
    std::vector<Endpoint> shards{std::move(first)};
    for (const Endpoint& endpoint : more) {
        if (std::find(shards.begin(), shards.end(), endpoint) != shards.end())
            throw std::invalid_argument(who + ": Redis " + endpoint.host + ":" + std::to_string(endpoint.port) +
                                        " is listed twice");
        shards.push_back(endpoint);
    }
    return shards;
}

} // namespace detail

class ShardRing {
public:
    static constexpr std::size_t default_points_per_shard = 256;

    /// Throws `std::invalid_argument` for no shard or no point per shard.
    explicit ShardRing(std::size_t shards, std::size_t points_per_shard = default_points_per_shard)
        : shards_(shards) {
        if (shards == 0 || points_per_shard == 0)
            throw std::invalid_argument("ShardRing: needs at least one shard and one point per shard");
        if (shards == 1) return; // everyone on shard 0: no ring to search
        points_.reserve(shards * points_per_shard);
        for (std::size_t shard = 0; shard < shards; ++shard)
            for (std::size_t point = 0; point < points_per_shard; ++point)
                points_.emplace_back(point_hash(shard, point), shard);
        std::sort(points_.begin(), points_.end()); // equal hashes (never seen): the lower shard first
    }

    std::size_t shards() const noexcept { return shards_; }

    /// O(log(shards * points_per_shard)); 0 with one shard.
    std::size_t shard_of(const UserId& user) const noexcept {
        if (points_.empty()) return 0;
        const std::uint64_t hash = detail::stable_hash(user);
        const auto at = std::lower_bound(points_.begin(), points_.end(), std::make_pair(hash, std::size_t{0}));
        return at == points_.end() ? points_.front().second : at->second;
    }

    /// Those of `users` on `shard`, in their order; all of them with one shard.
    std::vector<UserId> only_on(std::size_t shard, std::vector<UserId> users) const {
        if (points_.empty()) return shard == 0 ? users : std::vector<UserId>{};
        users.erase(std::remove_if(users.begin(), users.end(),
                                   [&](const UserId& user) { return shard_of(user) != shard; }),
                    users.end());
        return users;
    }

    /// Where point `point` of shard `shard` lies on the ring (by the file comment's definition).
    static std::uint64_t point_hash(std::size_t shard, std::size_t point) {
        return detail::stable_hash("shard-" + std::to_string(shard) + "#" + std::to_string(point));
    }

private:
    std::size_t shards_;
    std::vector<std::pair<std::uint64_t, std::size_t>> points_; ///< (hash, shard), ascending
};

} // namespace switchboard::redis
