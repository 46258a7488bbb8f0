// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// ConnectionManager: delivery to connections, users and everyone, backlog limits and slow consumers.

#include <algorithm>

namespace switchboard {

// --- Delivery -------------------------------------------------------------------------------

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::send_to_connection(ConnectionId connection, const Event& event) {
    return send_to_connections({connection}, event);
}

/// Serializes nothing when none of them is registered (a sender's other devices, often none).
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::send_to_connections(const std::vector<ConnectionId>& connections,
                                                                    const Event& event) {
    typename Registry::Targets targets = registered_targets(connections);
    return targets.empty() ? 0 : deliver_to_connections(std::move(targets), event.to_frame());
}

/// Holds the frame for those still starting (history on: their `Session` has not gone out yet).
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::deliver_to_connections(typename Registry::Targets targets,
                                                                       const Frame& frame) {
    const auto held = [&](const typename Registry::Target& target) {
        return registry_.hold_if_starting(target.id, frame);
    };
    if (options_.history) targets.erase(std::remove_if(targets.begin(), targets.end(), held), targets.end());
    return deliver(targets, frame);
}

/// The registered ones among `ids`, each once.
template <class Transport, class Auth>
typename ConnectionManager<Transport, Auth>::Registry::Targets
ConnectionManager<Transport, Auth>::registered_targets(std::vector<ConnectionId> ids) const {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    typename Registry::Targets targets;
    for (ConnectionId id : ids)
        if (const auto record = registry_.find(id)) targets.push_back({id, record->handle});
    return targets;
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::send_to_user(const UserId& user, const Event& event,
                                                             ConnectionId except) {
    return send_to_users({user}, event, except);
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::send_to_users(const std::vector<UserId>& users, const Event& event,
                                                              ConnectionId except) {
    thread_local TimingSample sample;
    const HistogramTimer timed(distributions_.send_duration, sample);
    if (options_.history && event.durability() == Durability::durable) return append_to_streams(users, event, except);
    const Frame frame = event.to_frame();
    const std::size_t reached = deliver_to_users_locally(users, frame, except);
    if (options_.backplane) publish_to_users(users, frame);
    return reached;
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::broadcast(const Event& event) {
    thread_local TimingSample sample;
    const HistogramTimer timed(distributions_.broadcast_duration, sample);
    const Frame frame = event.to_frame();
    const std::size_t reached = deliver_to_all_locally(frame);
    if (options_.backplane) publish_to_all(frame);
    return reached;
}

/// To the other nodes through the backplane (there is one), counted.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::publish_to_users(const std::vector<UserId>& users, const Frame& frame) {
    counters_.backplane_published.fetch_add(1, std::memory_order_relaxed);
    options_.backplane->publish_to_users(users, frame);
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::publish_to_all(const Frame& frame) {
    counters_.backplane_published.fetch_add(1, std::memory_order_relaxed);
    options_.backplane->publish_to_all(frame);
}

/// Holds the frame for connections still starting (history on).
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::deliver_to_users_locally(const std::vector<UserId>& users,
                                                                         const Frame& frame, ConnectionId except) {
    typename Registry::Targets targets;
    if (users.size() == 1) { // send_to_user: nothing to deduplicate
        registry_.collect_user(users.front(), targets, &frame);
    } else {
        std::vector<UserId> unique_users = users;
        std::sort(unique_users.begin(), unique_users.end());
        unique_users.erase(std::unique(unique_users.begin(), unique_users.end()), unique_users.end());
        for (const UserId& user : unique_users) registry_.collect_user(user, targets, &frame);
    }
    if (except) Registry::leave_out(targets, except);
    return deliver(targets, frame);
}

/// What every recipient of `frame` is sent: the frame prepared once where the transport can
/// prepare frames, else the frame itself.
template <class Transport, class Auth>
decltype(auto) ConnectionManager<Transport, Auth>::payload_of(const Frame& frame) {
    if constexpr (detail::has_prepare<Transport>::value)
        return transport_.prepare(frame);
    else
        return (frame);
}

/// The frame is prepared once for every shard, and held for connections still starting.
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::deliver_to_all_locally(const Frame& frame) {
    const auto& payload = payload_of(frame);
    const std::size_t max_backlog = backlog_limit(frame.durability());
    std::size_t reached = 0;
    registry_.for_each_shard(
        [&](const typename Registry::Targets& targets) {
            reached += send_each(targets, payload, frame, max_backlog);
        },
        &frame);
    return reached;
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::deliver(const typename Registry::Targets& targets, const Frame& frame,
                                                        SendTally* tally) {
    if (targets.empty()) return 0;
    return send_each(targets, payload_of(frame), frame, backlog_limit(frame.durability()), tally);
}

/// One transport call per target: it checks the backlog and sends. A slow consumer is dealt with
/// by `on_backlogged`; a target whose send fails is closed (1011) and unregistered: it would fail again.
/// `payload` is `frame`, or `frame` prepared. Counted in `tally` if given, else at once.
template <class Transport, class Auth>
template <class Payload>
std::size_t ConnectionManager<Transport, Auth>::send_each(const typename Registry::Targets& targets,
                                                          const Payload& payload, const Frame& frame,
                                                          std::size_t max_backlog, SendTally* tally) {
    const Durability durability = frame.durability();
    std::size_t reached = 0;
    for (const auto& target : targets) {
        switch (detail::try_send(transport_, target.handle, payload, max_backlog)) {
        case SendStatus::sent:
            ++reached;
            break;
        case SendStatus::backlogged:
            on_backlogged(target, durability);
            break;
        case SendStatus::failed:
            counters_.send_failures.fetch_add(1, std::memory_order_relaxed);
            drop(target, CloseCode::internal_error, "send failed");
            break;
        }
    }
    if (tally) {
        tally->add(reached, frame.size());
    } else {
        SendTally(*this).add(reached, frame.size());
    }
    return reached;
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::SendTally::add(std::size_t reached, std::size_t frame_size) noexcept {
    if (reached == 0) return;
    if (frame_size != frame_size_) count_sizes();
    frame_size_ = frame_size;
    frames_ += reached;
    reached_ += reached;
    bytes_ += reached * frame_size;
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::SendTally::count_sizes() noexcept {
    manager_.distributions_.outbound_frame_size.observe(frame_size_, frames_);
    frames_ = 0;
}

template <class Transport, class Auth>
ConnectionManager<Transport, Auth>::SendTally::~SendTally() {
    if (reached_ == 0) return;
    count_sizes();
    manager_.counters_.delivered.fetch_add(reached_, std::memory_order_relaxed);
    manager_.counters_.bytes_out.fetch_add(bytes_, std::memory_order_relaxed);
}

/// The backlog past which a connection is sent nothing more of this durability (0: no limit).
/// Under drop_ephemeral, durable events go on up to the hard cap (or the soft one, if higher).
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::backlog_limit(Durability durability) const {
    const LimitOptions& limits = options_.limits;
    if (limits.max_queued_bytes == 0) return 0;
    if (limits.slow_consumer == SlowConsumerPolicy::close || durability == Durability::ephemeral)
        return limits.max_queued_bytes;
    return limits.max_queued_bytes_hard == 0 ? 0 : std::max(limits.max_queued_bytes, limits.max_queued_bytes_hard);
}

/// A send refused for the target's backlog. Under drop_ephemeral, an ephemeral event is dropped
/// while the backlog is within the hard cap; otherwise the slow consumer is closed (1013).
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::on_backlogged(const typename Registry::Target& target,
                                                       Durability durability) {
    const LimitOptions& limits = options_.limits;
    if (limits.slow_consumer == SlowConsumerPolicy::drop_ephemeral && durability == Durability::ephemeral) {
        // The send checked the soft limit only; a second look-up is affordable on this rare path.
        const bool past_hard_cap =
            limits.max_queued_bytes_hard != 0 && transport_.queued_bytes(target.handle) > limits.max_queued_bytes_hard;
        if (!past_hard_cap) {
            counters_.dropped_ephemeral.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    counters_.closed_slow.fetch_add(1, std::memory_order_relaxed);
    drop(target, CloseCode::try_again_later, "slow consumer");
}

/// Unregisters the target and closes it, unless someone else unregistered it meanwhile.
template <class Transport, class Auth>
bool ConnectionManager<Transport, Auth>::drop(const typename Registry::Target& target, CloseCode code,
                                              std::string_view reason) {
    if (!unregister_connection(target.id)) return false;
    transport_.close(target.handle, code, reason);
    return true;
}

} // namespace switchboard
