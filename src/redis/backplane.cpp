// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <switchboard/redis/backplane.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include <asio/post.hpp>

#include "backplane_wire.hpp"
#include "cluster_presence.hpp"
#include "local_users.hpp"
#include "online_mirror.hpp"

namespace switchboard::redis {

namespace {

/// Channels per SUBSCRIBE or UNSUBSCRIBE, so that resubscribing many users never makes one huge command.
constexpr std::size_t subscribe_batch = 512;

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

/// `verb` followed by at most `subscribe_batch` of `channels` per call of `send`.
template <class Send>
void in_batches(const std::vector<std::string>& channels, Send send) {
    for (std::size_t first = 0; first < channels.size(); first += subscribe_batch) {
        const auto begin = channels.begin() + static_cast<std::ptrdiff_t>(first);
        send(std::vector<std::string>(begin, begin + static_cast<std::ptrdiff_t>(
                                                         std::min(subscribe_batch, channels.size() - first))));
    }
}

void ignore_reply(std::error_code, const Reply&) {}

} // namespace

class RedisBackplane::Impl : public std::enable_shared_from_this<Impl> {
public:
    Impl(asio::any_io_executor executor, RedisBackplaneOptions options)
        : executor_(std::move(executor)), options_(std::move(options)), node_id_(checked_node_id(options_.node_id)),
          channels_(checked_prefix(options_.prefix), node_id_),
          subscriber_(std::make_unique<Connection>(executor_, subscriber_options())),
          commands_(std::make_unique<Connection>(executor_, command_options())),
          presence_(std::make_shared<detail::ClusterPresence>(
              executor_, *commands_,
              detail::ClusterPresence::Options{options_.prefix, node_id_, options_.heartbeat_interval,
                                               options_.dead_after},
              [this] { return local_users_.users(); })) {
        subscriber_->start();
        commands_->start();
    }

    /// The connections' callbacks point here: they go first.
    ~Impl() {
        presence_->stop();
        subscriber_.reset();
        commands_.reset();
    }

    const std::string& node_id() const { return node_id_; }

    void attach(BackplaneSink* sink) {
        std::lock_guard lock(sink_mutex_);
        sink_ = sink;
    }

    /// Fails at once, counted, while the command link is down or too much awaits Redis already.
    void publish(std::vector<std::string> channels, const Frame& frame) {
        const std::size_t count = channels.size();
        if (!commands_up_.load(std::memory_order_relaxed) || !reserve_in_flight(count)) {
            publish_failures_.fetch_add(count, std::memory_order_relaxed);
            return;
        }
        asio::post(executor_, [weak = weak_from_this(), channels = std::move(channels),
                               payload = detail::seal(node_id_, frame)] {
            if (const auto self = weak.lock()) self->send_publishes(channels, payload);
        });
    }

    const detail::Channels& channels() const { return channels_; }

    /// Subscribes (batched), and tells Redis, in this node's order, which decides presence.
    void user_joined(const UserId& user) {
        if (local_users_.joined(user)) schedule_catch_up();
        on_executor([user](Impl& self) { self.presence_->changed(user, true); });
    }
    void user_left(const UserId& user) {
        if (local_users_.left(user)) schedule_catch_up();
        on_executor([user](Impl& self) { self.presence_->changed(user, false); });
    }

    void leave_cluster(std::function<void()> done) {
        on_executor([done = std::move(done)](Impl& self) mutable { self.presence_->leave(std::move(done)); });
    }

    bool is_online_in_cluster(const UserId& user) const { return online_.is_online(user); }
    std::vector<UserId> online_in_cluster() const { return online_.users(); }

    BackplaneMetrics metrics() const {
        constexpr auto relaxed = std::memory_order_relaxed;
        BackplaneMetrics metrics;
        metrics.connected = commands_up_.load(relaxed) && subscriber_up_.load(relaxed);
        metrics.subscriptions = subscription_count_.load(relaxed);
        metrics.published = published_.load(relaxed);
        metrics.publish_failures = publish_failures_.load(relaxed);
        metrics.resubscribes = resubscribes_.load(relaxed);
        return metrics;
    }

private:
    ConnectionOptions subscriber_options() {
        ConnectionOptions options = link_options();
        options.on_connected = [this] { subscriber_connected(); };
        options.on_disconnected = [this](std::error_code why) {
            subscriber_up_.store(false, std::memory_order_relaxed);
            subscribed_.clear();
            subscription_count_.store(0, std::memory_order_relaxed);
            log("subscriber link lost: " + why.message());
        };
        options.on_message = [this](std::string_view channel, std::string_view payload) { received(channel, payload); };
        options.liveness_probe = [this] { probe(); };
        return options;
    }

    ConnectionOptions command_options() {
        ConnectionOptions options = link_options();
        options.on_connected = [this] {
            commands_up_.store(true, std::memory_order_relaxed);
            if (subscriber_up_.load(std::memory_order_relaxed)) links_up();
            log("command link up");
        };
        options.on_disconnected = [this](std::error_code why) {
            commands_up_.store(false, std::memory_order_relaxed);
            presence_->disconnected();
            log("command link lost: " + why.message());
        };
        options.liveness_probe = [this] { commands_->command({"PING"}, ignore_reply); };
        return options;
    }

    ConnectionOptions link_options() const {
        ConnectionOptions options = options_.redis;
        options.on_backoff = nullptr;
        options.on_message = nullptr;
        options.liveness_interval = options_.liveness_interval;
        return options;
    }

    bool reserve_in_flight(std::size_t count) {
        if (in_flight_.fetch_add(count, std::memory_order_relaxed) + count <= options_.max_in_flight) return true;
        in_flight_.fetch_sub(count, std::memory_order_relaxed);
        return false;
    }

    /// One PUBLISH per channel, all written in this executor turn: one pipeline.
    void send_publishes(const std::vector<std::string>& channels, const std::string& payload) {
        for (const std::string& channel : channels) {
            commands_->command({"PUBLISH", channel, payload}, [this](std::error_code error, const Reply& reply) {
                in_flight_.fetch_sub(1, std::memory_order_relaxed);
                (error || reply.is_error() ? publish_failures_ : published_).fetch_add(1, std::memory_order_relaxed);
            });
        }
    }

    /// Comes back on the subscriber, through Redis.
    void probe() {
        commands_->command({"PUBLISH", channels_.node(), detail::seal(node_id_, Frame("probe"))}, ignore_reply);
    }

    /// Presence syncs once both links are up and the subscriber listens (a probe came back; the
    /// liveness probes repeat it if this one went out too early), so that this node hears what
    /// its sync announces.
    void links_up() {
        awaiting_listener_ = true;
        probe();
    }

    /// Then the copy of who is online is read again (after the sync, in the pipeline).
    void listening() {
        presence_->connected();
        online_.seeding();
        commands_->command({"SMEMBERS", presence_->online_key()}, [this](std::error_code error, const Reply& reply) {
            std::vector<UserId> users;
            if (error || reply.type != Reply::Type::array) users = online_.users(); // keep what it knew
            for (const Reply& element : reply.elements)
                if (const auto user = UserId::try_parse(element.text)) users.push_back(*user);
            online_.seeded(users);
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

    /// Subscribes to the users who came and unsubscribes from those who left since the last turn.
    /// While the subscriber is down, `subscriber_connected` will subscribe to everyone.
    void catch_up() {
        const std::vector<detail::LocalUsers::Change> changes = local_users_.take_changes();
        if (!subscriber_up_.load(std::memory_order_relaxed)) return;
        std::vector<std::string> subscribe, unsubscribe;
        for (const auto& change : changes) {
            std::string channel = channels_.user(change.user);
            if (change.wanted && subscribed_.insert(channel).second) subscribe.push_back(std::move(channel));
            else if (!change.wanted && subscribed_.erase(channel) != 0) unsubscribe.push_back(std::move(channel));
        }
        in_batches(subscribe, [this](std::vector<std::string> batch) { subscriber_->subscribe(std::move(batch)); });
        in_batches(unsubscribe, [this](std::vector<std::string> batch) { subscriber_->unsubscribe(std::move(batch)); });
        subscription_count_.store(subscribed_.size(), std::memory_order_relaxed);
    }

    /// A new connection has no subscription: it takes every channel this node should hold.
    void subscriber_connected() {
        std::vector<std::string> channels{channels_.broadcast(), channels_.node(), channels_.presence()};
        for (const UserId& user : local_users_.users()) channels.push_back(channels_.user(user));
        subscribed_ = std::unordered_set<std::string>(channels.begin(), channels.end());
        in_batches(channels, [this](std::vector<std::string> batch) { subscriber_->subscribe(std::move(batch)); });
        subscription_count_.store(subscribed_.size(), std::memory_order_relaxed);
        subscriber_up_.store(true, std::memory_order_relaxed);
        if (commands_up_.load(std::memory_order_relaxed)) links_up();
        if (std::exchange(subscribed_before_, true)) resubscribes_.fetch_add(1, std::memory_order_relaxed);
        log("subscriber link up: " + std::to_string(channels.size()) + " channels");
    }

    /// Another node's message, to this node's connections. Its own (and its probes) are ignored:
    /// they were delivered here before they were published. Presence, which Redis publishes, is
    /// delivered here as everywhere, in the order Redis decided it.
    void received(std::string_view channel, std::string_view payload) {
        if (channel == channels_.presence()) return received_presence(payload);
        if (channel == channels_.node()) {
            if (std::exchange(awaiting_listener_, false) && commands_up_.load(std::memory_order_relaxed)) listening();
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

    void received_presence(std::string_view payload) {
        const auto change = detail::parse_presence(payload);
        if (change) online_.changed(*change);
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
    std::unique_ptr<Connection> subscriber_;
    std::unique_ptr<Connection> commands_;
    detail::LocalUsers local_users_;
    const std::shared_ptr<detail::ClusterPresence> presence_; ///< on the executor only
    detail::OnlineMirror online_;

    // On the executor only:
    std::unordered_set<std::string> subscribed_; ///< what the subscriber's connection holds now
    bool subscribed_before_ = false;
    bool awaiting_listener_ = false; ///< both links came up: sync presence once the subscriber hears

    std::mutex sink_mutex_; ///< held while delivering, so that `attach(nullptr)` waits for the delivery
    BackplaneSink* sink_ = nullptr;

    std::atomic<bool> commands_up_{false};
    std::atomic<bool> subscriber_up_{false};
    std::atomic<std::size_t> in_flight_{0};
    std::atomic<std::size_t> subscription_count_{0};
    std::atomic<std::uint64_t> published_{0}, publish_failures_{0}, resubscribes_{0};
};

RedisBackplane::RedisBackplane(asio::any_io_executor executor, RedisBackplaneOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

RedisBackplane::~RedisBackplane() = default;

const std::string& RedisBackplane::node_id() const noexcept { return impl_->node_id(); }

void RedisBackplane::attach(BackplaneSink* sink) { impl_->attach(sink); }

void RedisBackplane::publish_to_users(const std::vector<UserId>& users, const Frame& frame) {
    std::vector<std::string> channels;
    channels.reserve(users.size());
    for (const UserId& user : users) channels.push_back(impl_->channels().user(user));
    std::sort(channels.begin(), channels.end()); // each user once
    channels.erase(std::unique(channels.begin(), channels.end()), channels.end());
    impl_->publish(std::move(channels), frame);
}

void RedisBackplane::publish_to_all(const Frame& frame) { impl_->publish({impl_->channels().broadcast()}, frame); }

void RedisBackplane::user_joined(const UserId& user) { impl_->user_joined(user); }

void RedisBackplane::user_left(const UserId& user) { impl_->user_left(user); }

bool RedisBackplane::decides_presence() const noexcept { return true; }

void RedisBackplane::leave_cluster(std::function<void()> done) { impl_->leave_cluster(std::move(done)); }

bool RedisBackplane::is_online_in_cluster(const UserId& user) const { return impl_->is_online_in_cluster(user); }

std::vector<UserId> RedisBackplane::online_in_cluster() const { return impl_->online_in_cluster(); }

BackplaneMetrics RedisBackplane::metrics() const { return impl_->metrics(); }

} // namespace switchboard::redis
