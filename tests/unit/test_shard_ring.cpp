// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// redis::ShardRing: which Redis shard holds a user, by consistent hashing (no Redis needed).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <switchboard/redis/shards.hpp>

using switchboard::UserId;
using switchboard::redis::ShardRing;
namespace redis_detail = switchboard::redis::detail;

namespace {

/// Fixed ids, the same in every run: the counter in the first eight bytes, a UUID v4's marks kept.
std::vector<UserId> numbered_users(std::size_t count) {
    std::vector<UserId> users;
    users.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        UserId::Bytes bytes{};
        for (int b = 0; b < 8; ++b) bytes[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(i >> (8 * b));
        bytes[6] = static_cast<std::uint8_t>(0x40 | (bytes[6] & 0x0f));
        bytes[8] = 0x80;
        users.emplace_back(bytes);
    }
    return users;
}

/// The ring's definition, read literally: the shard of the first point at or after the user's
/// hash, by a scan of every point (the ring itself sorts and searches).
std::size_t shard_by_definition(const UserId& user, std::size_t shards, std::size_t points) {
    const std::uint64_t hash = redis_detail::stable_hash(user);
    std::uint64_t best_after = std::numeric_limits<std::uint64_t>::max(), lowest = best_after;
    std::size_t after_shard = shards, lowest_shard = 0;
    for (std::size_t shard = 0; shard < shards; ++shard)
        for (std::size_t point = 0; point < points; ++point) {
            const std::uint64_t at =
                redis_detail::stable_hash("shard-" + std::to_string(shard) + "#" + std::to_string(point));
            if (at >= hash && at < best_after) best_after = at, after_shard = shard;
            if (at < lowest) lowest = at, lowest_shard = shard;
        }
    return after_shard < shards ? after_shard : lowest_shard;
}

} // namespace

TEST_CASE("the ring's hash is FNV-1a 64, by its published test vectors", "[unit][shards]") {
    const auto fnv = [](std::string_view text) {
        return redis_detail::fnv1a64(reinterpret_cast<const unsigned char*>(text.data()), text.size());
    };
    CHECK(fnv("") == 0xcbf29ce484222325ull);
    CHECK(fnv("a") == 0xaf63dc4c8601ec8cull);
    CHECK(fnv("foobar") == 0x85944171f73967e8ull);
    CHECK(redis_detail::stable_hash("foobar") == redis_detail::fmix64(0x85944171f73967e8ull));
}

TEST_CASE("two rings built apart place every user where the ring's definition does", "[unit][shards]") {
    const ShardRing first(3, 16);
    const ShardRing second(3, 16);
    for (const UserId& user : numbered_users(500)) {
        INFO(user.to_string());
        CHECK(first.shard_of(user) == shard_by_definition(user, 3, 16));
        CHECK(second.shard_of(user) == first.shard_of(user));
    }
}

TEST_CASE("with one shard, every user is on shard 0", "[unit][shards]") {
    const ShardRing ring(1);
    for (const UserId& user : numbered_users(1000)) CHECK(ring.shard_of(user) == 0);
    CHECK(ShardRing(1, 1).shard_of(UserId::random()) == 0);
    CHECK_THROWS_AS(ShardRing(0), std::invalid_argument);
    CHECK_THROWS_AS(ShardRing(2, 0), std::invalid_argument);
}

TEST_CASE("100,000 users spread over 2, 4 and 5 shards within 12% of an even share", "[unit][shards]") {
    const std::vector<UserId> users = numbered_users(100000);
    for (const std::size_t shards : {2, 4, 5}) {
        const ShardRing ring(shards);
        std::vector<std::size_t> counts(shards, 0);
        for (const UserId& user : users) ++counts[ring.shard_of(user)];
        const double even = static_cast<double>(users.size()) / static_cast<double>(shards);
        for (std::size_t shard = 0; shard < shards; ++shard) {
            INFO(shards << " shards, shard " << shard << ": " << counts[shard] << " users, even " << even);
            CHECK(static_cast<double>(counts[shard]) > 0.88 * even);
            CHECK(static_cast<double>(counts[shard]) < 1.12 * even);
        }
    }
}

TEST_CASE("a shard appended to four moves about a fifth of the users, each to the new shard", "[unit][shards]") {
    const std::vector<UserId> users = numbered_users(100000);
    const ShardRing four(4);
    const ShardRing five(5);
    std::size_t moved = 0;
    for (const UserId& user : users) {
        const std::size_t before = four.shard_of(user), after = five.shard_of(user);
        if (before == after) continue;
        ++moved;
        if (after != 4) FAIL_CHECK(user.to_string() << " moved from shard " << before << " to " << after);
    }
    const double share = static_cast<double>(moved) / static_cast<double>(users.size());
    INFO("moved " << moved);
    CHECK(share > 0.2 * 0.85);
    CHECK(share < 0.2 * 1.15);
}

TEST_CASE("only_on keeps the users the ring puts on a shard, in their order", "[unit][shards]") {
    std::vector<UserId> users;
    for (int i = 0; i < 1000; ++i) users.push_back(UserId::random());
    const ShardRing ring(3);
    std::size_t kept = 0;
    for (std::size_t shard = 0; shard < 3; ++shard) {
        const std::vector<UserId> on_shard = ring.only_on(shard, users);
        std::vector<UserId> expected;
        std::copy_if(users.begin(), users.end(), std::back_inserter(expected),
                     [&](const UserId& user) { return ring.shard_of(user) == shard; });
        CHECK(on_shard == expected);
        kept += on_shard.size();
    }
    CHECK(kept == users.size());
    CHECK(ShardRing(1).only_on(0, users) == users);
    CHECK(ShardRing(1).only_on(1, users).empty());
}
