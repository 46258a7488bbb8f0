// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "async_top_scripts.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>
#include <utility>

#include <asio/post.hpp>

namespace switchboard::redis::detail {

namespace {

ConnectionOptions connection_options(const Endpoint& shard, const RedisHistoryOptions& options) {
    ConnectionOptions connection;
    connection.host = shard.host;
    connection.port = shard.port;
    connection.connect_timeout = options.connect_timeout;
    connection.command_timeout = options.command_timeout;
    // As a blocking link refuses for `retry_interval` after a failure, so no reconnection waits longer.
    connection.backoff_max = options.retry_interval;
    connection.backoff_initial = std::min(connection.backoff_initial, options.retry_interval);
    return connection;
}

} // namespace

AsyncTopScripts::AsyncTopScripts(asio::any_io_executor executor, const RedisHistoryOptions& options,
                                 UnkeptUsers& unkept, std::function<void(std::size_t shard)> connected)
    : executor_(std::move(executor)), prefix_(options.prefix), meta_ttl_(options.meta_ttl),
      max_in_flight_(options.max_in_flight), max_waiting_(options.max_waiting),
      max_unanswered_(options.max_unanswered), unkept_(unkept),
      ring_(1 + options.more_shards.size()) {
    const std::vector<Endpoint> endpoints =
        every_shard({options.host, options.port}, options.more_shards, "RedisHistory");
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        ConnectionOptions connection = connection_options(endpoints[i], options);
        connection.on_connected = [this, i, connected] {
            load_scripts(*shards_[i]);
            first_attempt_ended(*shards_[i]);
            connected(i);
        };
        connection.on_backoff = [this, i](std::error_code, std::chrono::milliseconds) {
            first_attempt_ended(*shards_[i]);
        };
        shards_.push_back(std::make_unique<Shard>(executor_, std::move(connection)));
    }
    // Only once `shards_` is complete: from here on the executor may read it.
    for (const auto& shard : shards_) shard->connection.start();
}

void AsyncTopScripts::submit(const UserId& user, HistoryScript script, std::vector<std::string> args, Done done) {
    Call call{user, ring_.shard_of(user), script, std::move(args), std::move(done), 0, std::nullopt, std::nullopt};
    shards_[call.shard]->unanswered.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    // Decided here, in call order: a call queued behind a renewal may rely on it.
    call.since = unkept_.tickets();
    call.renewal = unkept_.renewal(user);
    if (call.renewal && call.renewal->force) {
        const auto [renewing, first] = renewing_.try_emplace(user, call.renewal->ticket);
        if (!first && renewing->second == call.renewal->ticket) call.renewal.reset(); // it follows that one
        else renewing->second = call.renewal->ticket;
    }
    if (!call.renewal) call.renewed = false;
    queue_.push_back(std::move(call));
    if (queue_.size() == 1)
        asio::post(executor_, [weak = weak_from_this()] {
            if (const auto self = weak.lock()) self->flush();
        });
}

bool AsyncTopScripts::admits(const std::vector<UserId>& users) const noexcept {
    if (max_unanswered_ == 0) return true;
    return std::none_of(users.begin(), users.end(), [this](const UserId& user) {
        return shards_[ring_.shard_of(user)]->unanswered.load(std::memory_order_relaxed) >= max_unanswered_;
    });
}

void AsyncTopScripts::flush() {
    std::vector<Call> calls;
    {
        std::lock_guard lock(mutex_);
        calls.swap(queue_);
    }
    for (Call& call : calls) issue(std::make_shared<Call>(std::move(call)));
}

/// Queues the call on the user's shard, behind those waiting; past `max_waiting`, it fails.
void AsyncTopScripts::issue(const std::shared_ptr<Call>& call) {
    Shard& shard = *shards_[call->shard];
    if (shard.waiting.size() >= max_waiting_) return finish(*call, std::nullopt);
    shard.waiting.push_back(call);
    send_waiting(shard);
}

/// Sends what waits, in order, while the window has room.
void AsyncTopScripts::send_waiting(Shard& shard) {
    while (shard.first_attempt_ended && shard.in_flight < max_in_flight_ && !shard.waiting.empty()) {
        const std::shared_ptr<Call> call = std::move(shard.waiting.front());
        shard.waiting.pop_front();
        send(shard, call);
    }
}

/// Sends the call's renewal, if any, and its script, one after the other on its shard.
void AsyncTopScripts::send(Shard& shard, const std::shared_ptr<Call>& call) {
    ++shard.in_flight;
    const std::array<std::string, 2> keys = history_keys(prefix_, call->user);
    if (call->renewal)
        shard.connection.command(
            evaluation(shard, renew_script, keys, renew_arguments(*call->renewal, meta_ttl_)),
            [this, call, &shard](std::error_code error, Reply reply) {
                call->renewed = answered(shard, renew_script, error, reply) ? renewed_of(reply) : std::nullopt;
            });
    shard.connection.command(evaluation(shard, call->script, keys, std::move(call->args)),
                             [this, call, &shard](std::error_code error, Reply reply) {
                                 --shard.in_flight;
                                 const bool ok = answered(shard, call->script, error, reply);
                                 finish(*call, ok ? top_of_script(reply) : std::nullopt);
                                 send_waiting(shard);
                             });
}

void AsyncTopScripts::finish(Call& call, std::optional<StreamTop> top) {
    const bool leads_renewal = call.renewal && call.renewal->force;
    const std::uint64_t since = std::max(call.since, call.renewal ? call.renewal->ticket : 0);
    if (top && (!call.renewed || unkept_.failed_since(call.user, since))) top.reset();
    if (top && call.renewal) {
        unkept_.renewed(call.user, *call.renewal);
        top->created = top->created || *call.renewed;
    }
    // The calls queued behind this renewal carry none: a new ticket makes them fail too.
    if (!top && leads_renewal) unkept_.add(call.user);
    if (leads_renewal) {
        std::lock_guard lock(mutex_);
        const auto renewing = renewing_.find(call.user);
        if (renewing != renewing_.end() && renewing->second == call.renewal->ticket) renewing_.erase(renewing);
    }
    shards_[call.shard]->unanswered.fetch_sub(1, std::memory_order_relaxed);
    call.done(top);
}

/// `EVALSHA <digest>` once the script is loaded on the shard, `EVAL <body>` until then.
std::vector<std::string> AsyncTopScripts::evaluation(const Shard& shard, HistoryScript script,
                                                     const std::array<std::string, 2>& keys,
                                                     std::vector<std::string> args) const {
    const std::string& digest = shard.digests[script];
    std::vector<std::string> command{digest.empty() ? "EVAL" : "EVALSHA",
                                     digest.empty() ? *history_script_bodies[script] : digest, "2", keys[0], keys[1]};
    command.insert(command.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    return command;
}

/// Whether Redis answered without an error. A NOSCRIPT (a restart, a SCRIPT FLUSH) loads the
/// scripts again, once for the commands sent with the lost digest.
bool AsyncTopScripts::answered(Shard& shard, HistoryScript script, std::error_code error, const Reply& reply) {
    if (error) return false;
    if (is_noscript(reply) && !shard.digests[script].empty())
        load_scripts(shard);
    return !reply.is_error();
}

void AsyncTopScripts::first_attempt_ended(Shard& shard) {
    if (shard.first_attempt_ended) return;
    shard.first_attempt_ended = true;
    send_waiting(shard);
}

void AsyncTopScripts::load_scripts(Shard& shard) {
    for (std::size_t script = 0; script < history_script_count; ++script) {
        shard.digests[script].clear(); // EVAL until the load has answered
        shard.connection.command({"SCRIPT", "LOAD", *history_script_bodies[script]},
                                 [&shard, script](std::error_code error, Reply reply) {
                                     if (!error && reply.type == Reply::Type::string)
                                         shard.digests[script] = std::move(reply.text);
                                 });
    }
}

} // namespace switchboard::redis::detail
