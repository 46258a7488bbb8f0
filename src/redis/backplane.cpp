// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <switchboard/redis/backplane.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>
#include <stdexcept>
#include <utility>

#include <asio/post.hpp>

#include "backplane_wire.hpp"
#include "local_users.hpp"
#include "online_mirror.hpp"
#include "shard_links.hpp"
#include "sharded_presence.hpp"

namespace switchboard::redis {

namespace {

std::string random_node_id() {
    std::random_device random;
    const std::uint64_t bits = (std::uint64_t{random()} << 32) | random();
    static constexpr char hex[] = "0123456789abcdef";
    std::string id(16, '0');
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = hex[(bits >> (60 - 4 * i)) & 0xf];
    return id;
}

std::string checked_node_id(std::string id) {
    if (id.empty()) return random_node_id();
    const auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
    };
    if (id.size() > 64 || !std::all_of(id.begin(), id.end(), allowed))
        throw std::invalid_argument("RedisBackplane: node_id must be 1 to 64 of A-Z a-z 0-9 . _ -");
    return id;
}

const std::string& checked_prefix(const std::string& prefix) {
    if (prefix.empty()) throw std::invalid_argument("RedisBackplane: prefix must not be empty");
    return prefix;
}

} // namespace

class RedisBackplane::Impl : public std::enable_shared_from_this<Impl> {
public:
    Impl(asio::any_io_executor executor, RedisBackplaneOptions options)
        : executor_(std::move(executor)), options_(std::move(options)), node_id_(checked_node_id(options_.node_id)),
          channels_(checked_prefix(options_.prefix), node_id_),
          endpoints_(detail::every_shard({options_.redis.host, options_.redis.port}, options_.more_shards,
                                         "RedisBackplane")),
          ring_(endpoints_.size()),
          shards_(make_shards()),
          presence_(executor_, ring_, command_links(),
                    {options_.prefix, node_id_, options_.heartbeat_interval, options_.dead_after},
                    [this] { return local_users_.users(); }),
          awaiting_listener_(shards_.size(), false), online_(shards_.size()) {
        for (const auto& shard : shards_) shard->start();
    }

    /// The connections' callbacks point here: they go first.
    ~Impl() {
        presence_.stop();
        shards_.clear();
    }

    const std::string& node_id() const { return node_id_; }

    void attach(BackplaneSink* sink) {
        std::lock_guard lock(sink_mutex_);
        sink_ = sink;
    }

    /// A channel on the shard that holds it.
    struct Target {
        std::size_t shard;
        std::string channel;
    };

    /// Each distinct user's channel, on the user's shard.
    void publish_to_users(std::vector<UserId> users, const Frame& frame) {
        std::sort(users.begin(), users.end()); // each user once
        users.erase(std::unique(users.begin(), users.end()), users.end());
        std::vector<Target> targets;
        targets.reserve(users.size());
        for (const UserId& user : users) targets.push_back({ring_.shard_of(user), channels_.user(user)});
        publish(std::move(targets), frame);
    }

    void publish_to_all(const Frame& frame) { publish({{0, channels_.broadcast()}}, frame); }

    /// Subscribes (batched), and tells the user's shard, in this node's order, which decides presence.
    void user_joined(const UserId& user) {
        if (local_users_.joined(user)) schedule_catch_up();
        on_executor([user](Impl& self) { self.presence_.changed(user, true); });
    }
    void user_left(const UserId& user) {
        if (local_users_.left(user)) schedule_catch_up();
        on_executor([user](Impl& self) { self.presence_.changed(user, false); });
    }

    void leave_cluster(std::function<void()> done) {
        on_executor([done = std::move(done)](Impl& self) mutable { self.presence_.leave(std::move(done)); });
    }

    bool is_online_in_cluster(const UserId& user) const { return online_.is_online(user); }
    std::vector<UserId> online_in_cluster() const { return online_.users(); }

    /// Summed over the shards; connected while every shard's links are up.
    BackplaneMetrics metrics() const {
        constexpr auto relaxed = std::memory_order_relaxed;
        BackplaneMetrics metrics;
        metrics.connected = true;
        for (const auto& shard : shards_) {
            metrics.connected = metrics.connected && shard->up();
            metrics.subscriptions += shard->subscriptions();
            metrics.resubscribes += shard->resubscribes();
        }
        metrics.published = published_.load(relaxed);
        metrics.publish_failures = publish_failures_.load(relaxed);
        return metrics;
    }

private:
    /// Shard 0 is `options_.redis`; it also carries broadcasts.
    std::vector<std::unique_ptr<detail::ShardLinks>> make_shards() {
        std::vector<std::unique_ptr<detail::ShardLinks>> shards;
        for (std::size_t index = 0; index < endpoints_.size(); ++index) {
            ConnectionOptions link = options_.redis;
            link.host = endpoints_[index].host;
            link.port = endpoints_[index].port;
            link.on_backoff = nullptr;
            link.liveness_interval = options_.liveness_interval;
            shards.push_back(std::make_unique<detail::ShardLinks>(executor_, std::move(link), channels_.node(),
                                                                  detail::seal(node_id_, Frame("probe")),
                                                                  shard_hooks(index)));
        }
        return shards;
    }

    detail::ShardLinks::Hooks shard_hooks(std::size_t index) {
        detail::ShardLinks::Hooks hooks;
        hooks.channels = [this, index] { return channels_of_shard(index); };
        hooks.message = [this, index](std::string_view channel, std::string_view payload) {
            received(index, channel, payload);
        };
        hooks.both_up = [this, index] { links_up(index); };
        hooks.resubscribed = [this, index] { hand_over_to_catch_up(users_of_shard(index)); };
        hooks.commands_lost = [this, index](std::error_code) { presence_.of_shard(index).disconnected(); };
        const Endpoint& endpoint = endpoints_[index];
        const std::string name = endpoints_.size() == 1 ? std::string()
                                                        : "shard " + std::to_string(index) + " (" + endpoint.host +
                                                              ":" + std::to_string(endpoint.port) + "): ";
        hooks.log = [this, name](const std::string& line) { log(name + line); };
        return hooks;
    }

    std::vector<Connection*> command_links() const {
        std::vector<Connection*> links;
        for (const auto& shard : shards_) links.push_back(&shard->commands());
        return links;
    }

    /// What a new subscriber connection of shard `index` takes: its users' channels, the node's
    /// (for the liveness probe), its presence, and on the first shard broadcasts.
    std::vector<std::string> channels_of_shard(std::size_t index) const {
        std::vector<std::string> channels{channels_.node(), channels_.presence()};
        if (index == 0) channels.push_back(channels_.broadcast());
        for (const UserId& user : users_of_shard(index)) channels.push_back(channels_.user(user));
        return channels;
    }

    std::vector<UserId> users_of_shard(std::size_t index) const {
        return ring_.only_on(index, local_users_.users());
    }

    /// Their stream events published while the subscriber was away never came: the manager reads
    /// them from the history, `catch_up_batch` users per executor turn (one round trip to the
    /// store each, and a read per user behind), so that messages go on being handled in between.
    void hand_over_to_catch_up(const std::vector<UserId>& users) {
        constexpr std::size_t catch_up_batch = 512;
        for (std::size_t first = 0; first < users.size(); first += catch_up_batch) {
            const auto begin = users.begin() + static_cast<std::ptrdiff_t>(first);
            const auto end = begin + static_cast<std::ptrdiff_t>(std::min(catch_up_batch, users.size() - first));
            on_executor([batch = std::vector<UserId>(begin, end)](Impl& self) {
                std::lock_guard lock(self.sink_mutex_);
                if (self.sink_) self.sink_->resubscribed(batch);
            });
        }
    }

    /// Fails at once, counted, for a shard whose command link is down, or when too much awaits
    /// Redis already.
    void publish(std::vector<Target> targets, const Frame& frame) {
        const auto down = std::remove_if(targets.begin(), targets.end(),
                                         [this](const Target& target) { return !shards_[target.shard]->commands_up(); });
        std::size_t failed = static_cast<std::size_t>(targets.end() - down);
        targets.erase(down, targets.end());
        if (!reserve_in_flight(targets.size())) {
            failed += targets.size();
            targets.clear();
        }
        if (failed != 0) publish_failures_.fetch_add(failed, std::memory_order_relaxed);
        if (targets.empty()) return;
        asio::post(executor_, [weak = weak_from_this(), targets = std::move(targets),
                               payload = detail::seal(node_id_, frame)] {
            if (const auto self = weak.lock()) self->send_publishes(targets, payload);
        });
    }

    bool reserve_in_flight(std::size_t count) {
        if (in_flight_.fetch_add(count, std::memory_order_relaxed) + count <= options_.max_in_flight) return true;
        in_flight_.fetch_sub(count, std::memory_order_relaxed);
        return false;
    }

    /// One PUBLISH per channel, all written in this executor turn: one pipeline per shard.
    void send_publishes(const std::vector<Target>& targets, const std::string& payload) {
        for (const Target& target : targets) {
            shards_[target.shard]->commands().command({"PUBLISH", target.channel, payload},
                                                      [this](std::error_code error, const Reply& reply) {
                in_flight_.fetch_sub(1, std::memory_order_relaxed);
                (error || reply.is_error() ? publish_failures_ : published_).fetch_add(1, std::memory_order_relaxed);
            });
        }
    }

    /// A shard's presence syncs once both its links are up and its subscriber listens (a probe
    /// came back; the liveness probes repeat it if this one went out too early), so that this
    /// node hears what its sync announces. The other shards are not touched.
    void links_up(std::size_t shard) {
        awaiting_listener_[shard] = true;
        shards_[shard]->probe();
    }

    /// Then this shard's part of the copy of who is online is read again (after the sync, in the
    /// pipeline).
    void listening(std::size_t shard) {
        detail::ClusterPresence& presence = presence_.of_shard(shard);
        presence.connected();
        online_.seeding(shard);
        shards_[shard]->commands().command({"SMEMBERS", presence.online_key()}, [this, shard](std::error_code error,
                                                                                            const Reply& reply) {
            std::vector<UserId> users;
            if (error || reply.type != Reply::Type::array) users = online_.users_of(shard); // keep what it knew
            for (const Reply& element : reply.elements)
                if (const auto user = UserId::try_parse(element.text)) users.push_back(*user);
            online_.seeded(shard, users);
        });
    }

    void schedule_catch_up() {
        on_executor([](Impl& self) { self.catch_up(); });
    }

    template <class Call>
    void on_executor(Call call) {
        asio::post(executor_, [weak = weak_from_this(), call = std::move(call)]() mutable {
            if (const auto self = weak.lock()) call(*self);
        });
    }

    /// Subscribes to the users who came and unsubscribes from those who left since the last
    /// turn, each on the user's shard. A shard whose subscriber is down takes its users when it
    /// comes back.
    void catch_up() {
        std::vector<std::vector<detail::ShardLinks::Change>> by_shard(shards_.size());
        for (const auto& change : local_users_.take_changes())
            by_shard[ring_.shard_of(change.user)].push_back({channels_.user(change.user), change.wanted});
        for (std::size_t index = 0; index < shards_.size(); ++index) shards_[index]->update(by_shard[index]);
    }

    /// Another node's message, to this node's connections. Its own (and its probes) are ignored:
    /// they were delivered here before they were published. Presence, which Redis publishes, is
    /// delivered here as everywhere, in the order the user's shard decided it. A probe that
    /// comes back proves the shard's subscriber alive, and lets a shard that came up sync.
    void received(std::size_t shard, std::string_view channel, std::string_view payload) {
        if (channel == channels_.presence()) return received_presence(shard, payload);
        if (channel == channels_.node()) {
            const bool awaited = awaiting_listener_[shard];
            awaiting_listener_[shard] = false;
            if (awaited && shards_[shard]->commands_up()) listening(shard);
            return;
        }
        const auto envelope = detail::unseal(payload);
        if (!envelope || envelope->origin == node_id_) return;
        if (envelope->position) return received_stream_event(channel, *envelope);
        const Frame frame(std::string(envelope->text), envelope->durability);
        std::lock_guard lock(sink_mutex_);
        if (!sink_) return;
        if (channel == channels_.broadcast()) sink_->deliver_to_all(frame);
        else if (const auto user = channels_.user_of(channel)) sink_->deliver_to_users({*user}, frame);
    }

    /// What another node's history published with its append, on the user's channel only.
    void received_stream_event(std::string_view channel, const detail::Envelope& envelope) {
        const auto user = channels_.user_of(channel);
        if (!user) return;
        std::lock_guard lock(sink_mutex_);
        if (sink_) sink_->deliver_from_stream(*user, *envelope.position, envelope.text);
    }

    void received_presence(std::size_t shard, std::string_view payload) {
        const auto change = detail::parse_presence(payload);
        if (change) online_.changed(shard, *change);
        std::lock_guard lock(sink_mutex_);
        if (change && sink_) sink_->deliver_presence(change->user, change->online);
    }

    void log(const std::string& line) const {
        if (options_.log) options_.log("redis backplane, node " + node_id_ + ": " + line);
    }

    const asio::any_io_executor executor_;
    const RedisBackplaneOptions options_;
    const std::string node_id_;
    const detail::Channels channels_;
    const std::vector<Endpoint> endpoints_; ///< every shard, `options_.redis` first
    const ShardRing ring_;
    detail::LocalUsers local_users_; ///< before the shards, whose first connection reads it
    std::vector<std::unique_ptr<detail::ShardLinks>> shards_;
    detail::ShardedPresence presence_; ///< on the executor only; after the shards, whose links it uses
    /// By shard, on the executor only: both links came up, sync presence once the subscriber hears.
    std::vector<bool> awaiting_listener_;
    detail::OnlineMirror online_;

    std::mutex sink_mutex_; ///< held while delivering, so that `attach(nullptr)` waits for the delivery
    BackplaneSink* sink_ = nullptr;

    std::atomic<std::size_t> in_flight_{0};
    std::atomic<std::uint64_t> published_{0}, publish_failures_{0};
};

RedisBackplane::RedisBackplane(asio::any_io_executor executor, RedisBackplaneOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

RedisBackplane::~RedisBackplane() = default;

const std::string& RedisBackplane::node_id() const noexcept { return impl_->node_id(); }

void RedisBackplane::attach(BackplaneSink* sink) { impl_->attach(sink); }

void RedisBackplane::publish_to_users(const std::vector<UserId>& users, const Frame& frame) {
    impl_->publish_to_users(users, frame);
}

void RedisBackplane::publish_to_all(const Frame& frame) { impl_->publish_to_all(frame); }

void RedisBackplane::user_joined(const UserId& user) { impl_->user_joined(user); }

void RedisBackplane::user_left(const UserId& user) { impl_->user_left(user); }

bool RedisBackplane::decides_presence() const noexcept { return true; }

void RedisBackplane::leave_cluster(std::function<void()> done) { impl_->leave_cluster(std::move(done)); }

bool RedisBackplane::is_online_in_cluster(const UserId& user) const { return impl_->is_online_in_cluster(user); }

std::vector<UserId> RedisBackplane::online_in_cluster() const { return impl_->online_in_cluster(); }

BackplaneMetrics RedisBackplane::metrics() const { return impl_->metrics(); }

} // namespace switchboard::redis
