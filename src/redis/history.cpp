// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <switchboard/redis/history.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string_view>

#include "async_top_scripts.hpp"
#include "backplane_wire.hpp"
#include "blocking_link.hpp"
#include "history_calls.hpp"
#include "unkept_users.hpp"

namespace switchboard::redis {

namespace {

using detail::append_script;
using detail::history_keys;
using detail::millis;
using detail::open_script;
using detail::read_script;
using detail::renew_script;
using Script = detail::HistoryScript;

} // namespace

/// The blocking links, `connections` per shard, each with the script digests loaded on it; a user
/// always uses the same one, on the user's shard.
class RedisHistory::Links {
public:
    explicit Links(const RedisHistoryOptions& options)
        : Links(detail::every_shard({options.host, options.port}, options.more_shards, "RedisHistory"), options) {}

    Links(const std::vector<Endpoint>& endpoints, const RedisHistoryOptions& options) : ring_(endpoints.size()) {
        for (const Endpoint& shard : endpoints) {
            const detail::BlockingLinkOptions link{shard.host, shard.port, options.connect_timeout,
                                                   options.command_timeout, options.retry_interval};
            auto& slots = shards_.emplace_back();
            for (std::size_t i = 0; i < options.connections; ++i) slots.push_back(std::make_unique<Slot>(link));
        }
    }

    /// Runs `script` with the user's two keys and `args`; false on any failure (then `reply` is
    /// meaningless).
    bool run(const UserId& user, Script script, const std::array<std::string, 2>& keys,
             const std::vector<std::string>& args, Reply& reply) {
        const auto& slots = shards_[ring_.shard_of(user)];
        Slot& slot = *slots[std::hash<UserId>{}(user) % slots.size()];
        std::lock_guard lock(slot.mutex);
        std::string& sha = slot.digests[script];
        if (sha.empty()) {
            if (slot.link.command({"SCRIPT", "LOAD", *detail::history_script_bodies[script]}, reply) ||
                reply.type != Reply::Type::string)
                return false;
            sha = reply.text;
        }
        if (!evaluate(slot, "EVALSHA", sha, keys, args, reply)) return false;
        if (detail::is_noscript(reply) &&
            !evaluate(slot, "EVAL", *detail::history_script_bodies[script], keys, args, reply))
            return false;
        return !reply.is_error();
    }

    std::size_t shards() const { return shards_.size(); }
    std::size_t shard_of(const UserId& user) const { return ring_.shard_of(user); }

    /// Sends `commands` to `shard` in one round trip, on its first link; false on a failure.
    bool pipeline(std::size_t shard, const std::vector<std::vector<std::string_view>>& commands,
                  std::vector<Reply>& replies) {
        Slot& slot = *shards_[shard].front();
        std::lock_guard lock(slot.mutex);
        return !slot.link.pipeline(commands, replies);
    }

private:
    struct Slot {
        explicit Slot(const detail::BlockingLinkOptions& options) : link(options) {}
        std::mutex mutex;
        detail::BlockingLink link;
        std::array<std::string, detail::history_script_count> digests;
    };

    static bool evaluate(Slot& slot, std::string_view verb, std::string_view script,
                         const std::array<std::string, 2>& keys, const std::vector<std::string>& args,
                         Reply& reply) {
        std::vector<std::string_view> command{verb, script, "2", keys[0], keys[1]};
        command.insert(command.end(), args.begin(), args.end());
        return !slot.link.command(command, reply);
    }

    const ShardRing ring_;
    std::vector<std::vector<std::unique_ptr<Slot>>> shards_;
};

namespace {

RedisHistoryOptions checked(RedisHistoryOptions options) {
    if (options.prefix.empty()) throw std::invalid_argument("RedisHistory: the prefix must not be empty");
    if (options.meta_ttl.count() != 0 && (options.max_age.count() == 0 || options.meta_ttl < options.max_age))
        throw std::invalid_argument(
            "RedisHistory: meta_ttl must be 0 or at least max_age (the meta outlives the events)");
    if (options.connections < 1 || options.connections > 64)
        throw std::invalid_argument("RedisHistory: connections must be 1 to 64");
    if (options.max_in_flight == 0) throw std::invalid_argument("RedisHistory: max_in_flight must be at least 1");
    if (!options.backplane_prefix.empty() && options.node_id.empty())
        throw std::invalid_argument("RedisHistory: backplane_prefix needs the backplane's node_id");
    return options;
}

/// The events of a read's array reply; none for any other reply, or for an entry not ours
/// (someone else wrote under this prefix).
std::optional<std::vector<StoredEvent>> events_of(const Reply& reply) {
    if (reply.type != Reply::Type::array) return std::nullopt;
    std::vector<StoredEvent> events;
    try {
        for (const Reply& element : reply.elements) events.push_back(StoredEvent::from_frame_text(element.text));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return events;
}

/// The position in an `HMGET <meta> epoch top` reply; none for a missing meta or anything else.
std::optional<StreamPosition> top_of_meta(const Reply& reply) {
    if (reply.type != Reply::Type::array || reply.elements.size() != 2) return std::nullopt;
    const std::optional<Epoch> epoch = Epoch::try_parse(reply.elements[0].text);
    const std::string& top = reply.elements[1].text;
    std::uint64_t offset = 0;
    const auto [end, error] = std::from_chars(top.data(), top.data() + top.size(), offset);
    if (!epoch || error != std::errc() || end != top.data() + top.size()) return std::nullopt;
    return StreamPosition{*epoch, offset};
}

} // namespace

RedisHistory::RedisHistory(RedisHistoryOptions options)
    : options_(checked(std::move(options))),
      user_channel_prefix_(detail::Channels::user_prefix_of(options_.backplane_prefix)),
      envelope_head_(detail::stream_envelope_head(options_.node_id)), links_(std::make_unique<Links>(options_)),
      unkept_(std::make_unique<detail::UnkeptUsers>(options_.max_unkept_users)) {}

RedisHistory::RedisHistory(asio::any_io_executor executor, RedisHistoryOptions options)
    : RedisHistory(std::move(options)) {
    async_ = std::make_shared<detail::AsyncTopScripts>(std::move(executor), options_, *unkept_,
                                                       [this](std::size_t shard) { renew_remembered(shard); });
}

/// On the executor, `shard`'s connection made again: the users of that shard whose appends
/// failed get their streams renewed now (an open, which renews first), not at their next call,
/// so that a resume on another node is not told `complete` by the numbering missing the event.
/// Not after an overflow (every stream is renewed as it is touched).
void RedisHistory::renew_remembered(std::size_t shard) {
    if (unkept_->overflowed()) return;
    for (const UserId& user : unkept_->users()) {
        if (links_->shard_of(user) != shard) continue;
        async_->submit(user, open_script, script_arguments(user, nullptr),
                       [this, user](const std::optional<StreamTop>& top) {
                           if (!top || !top->created) return;
                           std::lock_guard lock(renewed_unseen_mutex_);
                           renewed_unseen_.insert(user);
                       });
    }
}

/// An answer Redis gave (`answered`) also reports `created` if the user's stream was renewed at
/// a reconnection since the manager last heard of it. Any answer takes the mark: one that is
/// `created` by itself carries an epoch newer than that renewal's, so one reset covers both.
StreamTop RedisHistory::with_unseen_renewal(const UserId& user, bool answered, StreamTop answer) {
    if (!answered) return answer;
    std::lock_guard lock(renewed_unseen_mutex_);
    const bool renewed_unseen = renewed_unseen_.erase(user) == 1;
    answer.created = answer.created || renewed_unseen;
    return answer;
}

RedisHistory::~RedisHistory() = default;

void RedisHistory::append_async(const UserId& user, const StoredEvent& event, StreamTopHandler done) {
    if (!async_) return History::append_async(user, event, std::move(done));
    async_->submit(user, append_script, script_arguments(user, &event),
                   [this, user, done = std::move(done)](const std::optional<StreamTop>& top) {
                       done(with_unseen_renewal(user, top.has_value(), finish_append(user, top)));
                   });
}

bool RedisHistory::admits(const std::vector<UserId>& users) const noexcept {
    return !async_ || async_->admits(users);
}

void RedisHistory::open_async(const UserId& user, StreamTopHandler done) {
    if (!async_) return History::open_async(user, std::move(done));
    async_->submit(user, open_script, script_arguments(user, nullptr),
                   [this, user, done = std::move(done)](const std::optional<StreamTop>& top) {
                       done(with_unseen_renewal(user, top.has_value(), finish_open(top)));
                   });
}

StreamTop RedisHistory::append(const UserId& user, const StoredEvent& event) {
    return finish_append(user, run_top_script(append_script, user, script_arguments(user, &event)));
}

StreamTop RedisHistory::open(const UserId& user) {
    return finish_open(run_top_script(open_script, user, script_arguments(user, nullptr)));
}

/// The arguments of the append script for `event`, or of the open script for none: a new epoch
/// and the meta's expiry first (for a stream the script has to make).
std::vector<std::string> RedisHistory::script_arguments(const UserId& user, const StoredEvent* event) const {
    std::vector<std::string> args{Epoch::random().to_string(), millis(options_.meta_ttl)};
    if (event)
        args.insert(args.end(), {std::to_string(options_.max_events_per_user), millis(options_.max_age),
                                 std::string(event->text()),
                                 publishes_appends() ? user_channel_prefix_ + user.to_string() : std::string(),
                                 envelope_head_});
    return args;
}

/// Runs `open` or `append`, after renewing the user's stream if an append of theirs had failed.
std::optional<StreamTop> RedisHistory::run_top_script(std::size_t script, const UserId& user,
                                                      const std::vector<std::string>& args) {
    const std::array<std::string, 2> keys = history_keys(options_.prefix, user);
    const std::optional<detail::UnkeptUsers::Renewal> renewal = unkept_->renewal(user);
    std::optional<bool> renewed = false;
    Reply reply;
    if (renewal) {
        const std::vector<std::string> renew_args = detail::renew_arguments(*renewal, options_.meta_ttl);
        renewed = links_->run(user, renew_script, keys, renew_args, reply) ? detail::renewed_of(reply) : std::nullopt;
        if (!renewed) return std::nullopt;
    }
    std::optional<StreamTop> top =
        links_->run(user, static_cast<Script>(script), keys, args, reply) ? detail::top_of_script(reply) : std::nullopt;
    if (!top) return std::nullopt;
    if (renewal) unkept_->renewed(user, *renewal);
    top->created = top->created || *renewed;
    return top;
}

/// What `append` returns for the append script's outcome `top`: on a failure the user's stream
/// must be renewed before their next call.
StreamTop RedisHistory::finish_append(const UserId& user, const std::optional<StreamTop>& top) {
    if (!top) {
        unkept_->add(user);
        return failed(/*stored=*/false);
    }
    appended_.fetch_add(1, std::memory_order_relaxed);
    return *top;
}

StreamTop RedisHistory::finish_open(const std::optional<StreamTop>& top) {
    return top ? *top : failed(/*stored=*/true);
}

/// What a failed `open` or `append` returns: a numbering no client holds, so no resume completes.
/// Not `created`: the user's connections stay (they could not learn of a newer epoch either).
StreamTop RedisHistory::failed(bool stored) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    return StreamTop{{Epoch::random(), 0}, /*created=*/false, stored};
}

std::optional<std::vector<StoredEvent>> RedisHistory::read(const UserId& user, const StreamPosition& after,
                                                          std::uint64_t upto) {
    if (upto < after.offset) return std::nullopt;
    const std::vector<std::string> args{after.epoch.to_string(), std::to_string(after.offset + 1) + "-0",
                                        std::to_string(upto) + "-0", std::to_string(upto - after.offset)};
    Reply reply;
    const bool answered = links_->run(user, read_script, history_keys(options_.prefix, user), args, reply);
    if (answered && reply.is_nil()) return std::nullopt; // another epoch, or events gone
    std::optional<std::vector<StoredEvent>> events = answered ? events_of(reply) : std::nullopt;
    if (!events) failures_.fetch_add(1, std::memory_order_relaxed);
    return events;
}

/// One `HMGET` of the meta per user, pipelined per shard. A user whose meta is gone (its
/// numbering lost) gets none: the next `open` or `append` makes their stream anew.
std::vector<std::optional<StreamPosition>> RedisHistory::tops(const std::vector<UserId>& users) {
    std::vector<std::optional<StreamPosition>> found(users.size());
    std::vector<std::vector<std::size_t>> by_shard(links_->shards()); // indexes into `users`
    for (std::size_t i = 0; i < users.size(); ++i) by_shard[links_->shard_of(users[i])].push_back(i);
    for (std::size_t shard = 0; shard < by_shard.size(); ++shard) {
        if (by_shard[shard].empty()) continue;
        std::vector<std::string> metas;
        metas.reserve(by_shard[shard].size());
        for (const std::size_t i : by_shard[shard]) metas.push_back(history_keys(options_.prefix, users[i])[0]);
        std::vector<std::vector<std::string_view>> commands;
        commands.reserve(metas.size());
        for (const std::string& meta : metas) commands.push_back({"HMGET", meta, "epoch", "top"});
        std::vector<Reply> replies;
        if (!links_->pipeline(shard, commands, replies)) {
            failures_.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        for (std::size_t k = 0; k < replies.size(); ++k) found[by_shard[shard][k]] = top_of_meta(replies[k]);
    }
    return found;
}

HistoryMetrics RedisHistory::metrics() const {
    HistoryMetrics metrics;
    metrics.appended = appended_.load(std::memory_order_relaxed);
    metrics.failures = failures();
    return metrics;
}

std::size_t RedisHistory::unkept_users() const { return unkept_->size(); }

bool RedisHistory::unkept_overflowed() const { return unkept_->overflowed(); }

} // namespace switchboard::redis
