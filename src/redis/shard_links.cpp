// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "shard_links.hpp"

#include <algorithm>
#include <utility>

namespace switchboard::redis::detail {

namespace {

/// Channels per SUBSCRIBE or UNSUBSCRIBE, so that resubscribing many users never makes one huge command.
constexpr std::size_t subscribe_batch = 512;

/// At most `subscribe_batch` of `channels` per call of `send`.
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

ShardLinks::ShardLinks(const asio::any_io_executor& executor, ConnectionOptions options, std::string probe_channel,
                       std::string probe_payload, Hooks hooks)
    : probe_channel_(std::move(probe_channel)), probe_payload_(std::move(probe_payload)), hooks_(std::move(hooks)),
      subscriber_(std::make_unique<Connection>(executor, subscriber_options(options))),
      commands_(std::make_unique<Connection>(executor, command_options(options))) {}

ShardLinks::~ShardLinks() {
    subscriber_.reset();
    commands_.reset();
}

void ShardLinks::start() {
    subscriber_->start();
    commands_->start();
}

ConnectionOptions ShardLinks::subscriber_options(ConnectionOptions options) {
    options.on_connected = [this] { subscriber_connected(); };
    options.on_disconnected = [this](std::error_code why) {
        subscriber_up_.store(false, std::memory_order_relaxed);
        subscribed_.clear();
        unconfirmed_ = 0;
        counted();
        hooks_.log("subscriber link lost: " + why.message());
    };
    options.on_message = [this](std::string_view channel, std::string_view payload) {
        hooks_.message(channel, payload);
    };
    options.on_subscribed = [this](std::string_view) { confirmed(); };
    options.liveness_probe = [this] { probe(); };
    return options;
}

ConnectionOptions ShardLinks::command_options(ConnectionOptions options) {
    options.on_connected = [this] {
        commands_up_.store(true, std::memory_order_relaxed);
        if (subscriber_up_.load(std::memory_order_relaxed)) hooks_.both_up();
        hooks_.log("command link up");
    };
    options.on_disconnected = [this](std::error_code why) {
        commands_up_.store(false, std::memory_order_relaxed);
        hooks_.commands_lost(why);
        hooks_.log("command link lost: " + why.message());
    };
    options.on_message = nullptr;
    options.on_subscribed = nullptr;
    options.liveness_probe = [this] { commands_->command({"PING"}, ignore_reply); };
    return options;
}

void ShardLinks::update(const std::vector<Change>& changes) {
    if (!subscriber_up_.load(std::memory_order_relaxed)) return;
    std::vector<std::string> subscribe, unsubscribe;
    for (const Change& change : changes) {
        if (change.wanted && subscribed_.insert(change.channel).second) subscribe.push_back(change.channel);
        else if (!change.wanted && subscribed_.erase(change.channel) != 0) unsubscribe.push_back(change.channel);
    }
    in_batches(subscribe, [this](std::vector<std::string> batch) { subscriber_->subscribe(std::move(batch)); });
    in_batches(unsubscribe, [this](std::vector<std::string> batch) { subscriber_->unsubscribe(std::move(batch)); });
    counted();
}

void ShardLinks::probe() { commands_->command({"PUBLISH", probe_channel_, probe_payload_}, ignore_reply); }

/// A new connection has no subscription: it takes every channel it should hold. After a lost
/// link, the first replies to come are those of these SUBSCRIBEs (replies come in order).
void ShardLinks::subscriber_connected() {
    const std::vector<std::string> channels = hooks_.channels();
    subscribed_ = std::unordered_set<std::string>(channels.begin(), channels.end());
    const bool again = std::exchange(subscribed_before_, true);
    unconfirmed_ = again ? channels.size() : 0;
    in_batches(channels, [this](std::vector<std::string> batch) { subscriber_->subscribe(std::move(batch)); });
    counted();
    subscriber_up_.store(true, std::memory_order_relaxed);
    if (commands_up()) hooks_.both_up();
    if (again) resubscribes_.fetch_add(1, std::memory_order_relaxed);
    hooks_.log("subscriber link up: " + std::to_string(channels.size()) + " channels");
}

void ShardLinks::confirmed() {
    if (unconfirmed_ != 0 && --unconfirmed_ == 0) hooks_.resubscribed();
}

void ShardLinks::counted() { subscription_count_.store(subscribed_.size(), std::memory_order_relaxed); }

} // namespace switchboard::redis::detail
