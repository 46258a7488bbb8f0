// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "cluster_presence.hpp"

#include <string_view>
#include <unordered_set>
#include <utility>

#include "presence_scripts.hpp"

namespace switchboard::redis::detail {

namespace {

/// Transitions per script call, so that a connect storm never makes one huge command.
constexpr std::size_t max_batch = 512;

std::string source_of(int script) {
    static const char* const bodies[] = {scripts::apply, scripts::sync, scripts::beat, scripts::leave_cluster};
    return std::string(scripts::prelude) + bodies[script];
}

bool is_noscript(const Reply& reply) {
    return reply.is_error() && std::string_view(reply.text).substr(0, 8) == "NOSCRIPT";
}

} // namespace

ClusterPresence::ClusterPresence(asio::any_io_executor executor, Connection& commands, Options options,
                                 LocalUsers local_users)
    : executor_(std::move(executor)), commands_(commands), options_(std::move(options)),
      local_users_(std::move(local_users)), heartbeat_(executor_), loaded_(4) {}

/// A new connection may be to a Redis that lost everything: load the scripts, then say who is here.
void ClusterPresence::connected() {
    up_ = true;
    for (int script = 0; script < 4; ++script) {
        commands_.command({"SCRIPT", "LOAD", source_of(script)},
                          [weak = weak_from_this(), script](std::error_code error, const Reply& reply) {
                              const auto self = weak.lock();
                              if (self && !error && reply.type == Reply::Type::string) self->loaded_[script] = reply.text;
                          });
    }
    need_sync_ = true;
    flush();
    if (!stopped_) schedule_beat();
}

/// What was queued or awaited is covered by the sync the next connection makes. A leave under
/// way is over: Redis is not reachable (with several shards, the others' leaves still wait for it).
void ClusterPresence::disconnected() {
    up_ = false;
    in_flight_ = false;
    queued_.clear();
    heartbeat_.cancel();
    left();
}

void ClusterPresence::changed(const UserId& user, bool online) {
    if (stopped_) return;
    queued_.push_back((online ? "+" : "-") + user.to_string());
    flush();
}

void ClusterPresence::leave(std::function<void()> done) {
    stop();
    if (!up_) {
        done();
        return;
    }
    leaving_ = std::move(done);
    flush();
}

void ClusterPresence::stop() {
    stopped_ = true;
    queued_.clear();
    heartbeat_.cancel();
}

void ClusterPresence::flush() {
    if (!up_ || in_flight_) return;
    if (leaving_) send_leave();
    else if (stopped_) return;
    else if (need_sync_) send_sync();
    else if (!queued_.empty()) send_changes();
}

void ClusterPresence::send_changes() {
    const std::size_t count = std::min(max_batch, queued_.size());
    std::vector<std::string> changes(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(count));
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(count));
    run(Script::apply, changes, [this, changes](bool ok, const Reply&) {
        if (!ok) return failed();
        for (const std::string& change : changes) {
            if (change[0] == '+') told_.insert(change.substr(1));
            else told_.erase(change.substr(1));
        }
        flush();
    });
}

/// The sync states everything this node holds, and whom it told Redis of and holds no more: what
/// is queued is in it already.
void ClusterPresence::send_sync() {
    need_sync_ = false;
    queued_.clear();
    std::unordered_set<std::string> held;
    for (const UserId& user : local_users_()) held.insert(user.to_string());
    std::vector<std::string> args{std::to_string(held.size())};
    args.insert(args.end(), held.begin(), held.end());
    for (const std::string& user : told_)
        if (held.count(user) == 0) args.push_back(user);
    run(Script::sync, std::move(args), [this, held = std::move(held)](bool ok, const Reply&) mutable {
        if (!ok) return failed();
        told_ = std::move(held);
        flush();
    });
}

void ClusterPresence::send_leave() {
    run(Script::leave, {}, [this](bool, const Reply&) { left(); });
}

/// Once: the leave's reply and the link's loss may both come.
void ClusterPresence::left() {
    if (leaving_) std::exchange(leaving_, nullptr)();
}

void ClusterPresence::beat() {
    if (!up_ || stopped_) return;
    run(Script::beat, {std::to_string(options_.dead_after.count())}, [this](bool ok, const Reply& reply) {
        if (!ok) return failed();
        if (reply.integer == 1) need_sync_ = true; // Redis did not know this node: say everything again
        flush();
    });
    schedule_beat();
}

void ClusterPresence::schedule_beat() {
    heartbeat_.expires_after(options_.heartbeat_interval);
    heartbeat_.async_wait([weak = weak_from_this()](std::error_code error) {
        const auto self = weak.lock();
        if (!error && self) self->beat();
    });
}

/// EVALSHA once Redis said the script's SHA1, EVAL before that or when Redis forgot it (NOSCRIPT:
/// then once more, before anything else of the queue). The beat runs beside the queue (it touches
/// no user of this node); the rest one at a time.
void ClusterPresence::run(Script script, std::vector<std::string> args,
                          std::function<void(bool ok, const Reply&)> done) {
    const auto index = static_cast<int>(script);
    std::vector<std::string> command{"EVAL", source_of(index), "0", options_.prefix, options_.node_id};
    command.insert(command.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    const bool by_sha = !loaded_[index].empty();
    if (by_sha) command[0] = "EVALSHA", command[1] = loaded_[index];
    if (script != Script::beat) in_flight_ = true;
    send(script, std::move(command), by_sha, std::move(done));
}

void ClusterPresence::send(Script script, std::vector<std::string> command, bool retry_on_noscript,
                           std::function<void(bool ok, const Reply&)> done) {
    auto again = retry_on_noscript ? command : std::vector<std::string>{};
    commands_.command(std::move(command), [weak = weak_from_this(), script, again = std::move(again),
                                           done = std::move(done)](std::error_code error, const Reply& reply) mutable {
        const auto self = weak.lock();
        if (!self) return;
        const auto index = static_cast<int>(script);
        if (!error && is_noscript(reply) && !again.empty()) {
            self->loaded_[index].clear();
            again[0] = "EVAL", again[1] = source_of(index);
            return self->send(script, std::move(again), false, std::move(done));
        }
        if (script != Script::beat) self->in_flight_ = false;
        done(!error && !reply.is_error(), reply);
    });
}

void ClusterPresence::failed() { need_sync_ = true; }

} // namespace switchboard::redis::detail
