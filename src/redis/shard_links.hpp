// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// One Redis instance (shard) of a RedisBackplane: its subscriber and command connections, whether
// each is up, and the channels the subscriber holds. Each shard's links reconnect on their own;
// a new subscriber connection subscribes again to every channel the backplane says it should
// hold on this shard. Its liveness probe is a publish to the node's channel on the same shard.
//
// Threads: everything runs on the backplane's executor, except `commands_up`, `up`,
// `subscriptions` and `resubscribes` (atomics, read from any thread). Destroy it on the
// executor's thread, or while its io_context is not running.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <switchboard/redis/connection.hpp>

namespace switchboard::redis::detail {

class ShardLinks {
public:
    struct Hooks {
        /// Every channel the subscriber should hold on this shard now (on each new connection).
        std::function<std::vector<std::string>()> channels;
        std::function<void(std::string_view channel, std::string_view payload)> message;
        /// Both links are up: the second of them just came up.
        std::function<void()> both_up;
        /// A subscriber connection made after one was lost holds every channel it took (Redis
        /// confirmed each): what was published to them in between never came.
        std::function<void()> resubscribed;
        std::function<void(std::error_code why)> commands_lost;
        std::function<void(const std::string& line)> log;
    };
    struct Change {
        std::string channel;
        bool wanted; ///< subscribe (else: unsubscribe)
    };

    /// `options`: where this shard is, with the backplane's timeouts and liveness interval (its
    /// callbacks are replaced). Connects once `start` is called.
    ShardLinks(const asio::any_io_executor& executor, ConnectionOptions options, std::string probe_channel,
               std::string probe_payload, Hooks hooks);
    /// The subscriber first, as the backplane did with one instance (no callback runs after).
    ~ShardLinks();
    ShardLinks(const ShardLinks&) = delete;
    ShardLinks& operator=(const ShardLinks&) = delete;

    void start();
    Connection& commands() { return *commands_; }

    /// Subscribes and unsubscribes (batched) what changed; nothing while the subscriber is down
    /// (its next connection subscribes to everything).
    void update(const std::vector<Change>& changes);
    /// Publishes the probe to the node's channel: it comes back on the subscriber, through Redis.
    void probe();

    bool commands_up() const noexcept { return commands_up_.load(std::memory_order_relaxed); }
    bool up() const noexcept { return commands_up() && subscriber_up_.load(std::memory_order_relaxed); }
    std::size_t subscriptions() const noexcept { return subscription_count_.load(std::memory_order_relaxed); }
    std::uint64_t resubscribes() const noexcept { return resubscribes_.load(std::memory_order_relaxed); }

private:
    ConnectionOptions subscriber_options(ConnectionOptions options);
    ConnectionOptions command_options(ConnectionOptions options);
    void subscriber_connected();
    void confirmed();
    void counted();

    const std::string probe_channel_;
    const std::string probe_payload_;
    const Hooks hooks_;
    std::unique_ptr<Connection> subscriber_;
    std::unique_ptr<Connection> commands_;

    std::unordered_set<std::string> subscribed_; ///< what the subscriber's connection holds now
    bool subscribed_before_ = false;
    std::size_t unconfirmed_ = 0; ///< of a resubscribe's channels: SUBSCRIBE replies still owed
    std::atomic<bool> commands_up_{false};
    std::atomic<bool> subscriber_up_{false};
    std::atomic<std::size_t> subscription_count_{0};
    std::atomic<std::uint64_t> resubscribes_{0};
};

} // namespace switchboard::redis::detail
