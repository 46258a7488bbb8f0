// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A RedisBackplane's cluster presence over its Redis instances: one ClusterPresence per shard,
// each on that shard's command link, deciding there (with the same scripts and key names) the
// transitions of the users the ring puts on that shard, publishing them on that shard's
// `<prefix>.presence`, and beating there, so that each shard removes the nodes it has not heard
// from. A user's transitions all go to one shard, in this node's order, so each user's events
// keep the order Redis decided; users of different shards are decided independently. With one
// shard this is exactly one ClusterPresence.
//
// Threads: everything runs on the backplane's executor.

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <switchboard/redis/connection.hpp>
#include <switchboard/redis/shards.hpp>

#include "cluster_presence.hpp"

namespace switchboard::redis::detail {

class ShardedPresence {
public:
    /// `local_users` says whom this node holds now (all shards); `commands[i]` is shard i's link
    /// and must outlive every call into this object.
    ShardedPresence(const asio::any_io_executor& executor, const ShardRing& ring,
                    const std::vector<Connection*>& commands, const ClusterPresence::Options& options,
                    ClusterPresence::LocalUsers local_users)
        : ring_(ring), local_users_(std::move(local_users)) {
        for (std::size_t shard = 0; shard < commands.size(); ++shard)
            shards_.push_back(std::make_shared<ClusterPresence>(executor, *commands[shard], options,
                                                                [this, shard] { return users_of(shard); }));
    }
    ShardedPresence(const ShardedPresence&) = delete;
    ShardedPresence& operator=(const ShardedPresence&) = delete;

    ClusterPresence& of_shard(std::size_t shard) { return *shards_[shard]; }

    void changed(const UserId& user, bool online) { shards_[ring_.shard_of(user)]->changed(user, online); }

    /// Every shard forgets this node's users; `done` once all have (or were unreachable).
    void leave(std::function<void()> done) {
        auto remaining = std::make_shared<std::size_t>(shards_.size());
        auto all_done = std::make_shared<std::function<void()>>(std::move(done));
        for (const auto& shard : shards_)
            shard->leave([remaining, all_done] {
                if (--*remaining == 0) (*all_done)();
            });
    }

    void stop() {
        for (const auto& shard : shards_) shard->stop();
    }

private:
    std::vector<UserId> users_of(std::size_t shard) const { return ring_.only_on(shard, local_users_()); }

    const ShardRing& ring_;
    const ClusterPresence::LocalUsers local_users_;
    std::vector<std::shared_ptr<ClusterPresence>> shards_;
};

} // namespace switchboard::redis::detail
