// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// ConnectionManager with a history that publishes its appends itself (`History::publishes_appends`,
// several nodes on one store): each user's stream, on this node, in offset order and once each.
//
// A user's deliveries reach the order point from this node's appends (offsets the store decided)
// and, through the backplane, from the other nodes' appends, which the store published in the
// append itself; between the two there is no order (a local append of offset 7 may return before
// offset 6 from another node arrives), and pub/sub may lose a message. So the user's stripe has a
// `detail::StreamSequencer` that keeps the highest offset sent to the user's started connections
// here, drops what is at or below it, and fills a gap from the history before what follows it.
// A start first brings the user's started connections up to the top its replay ends at. When the
// backplane listens again after losing its link, the users it serves are caught up to the tops
// the store gives (`History::tops`, read once the subscriptions are back, so that what follows
// comes live), each at the user's order point, so a lost event needs no later one to arrive.
//
// Threads: a sequencer is touched only from `process`, that is by its stripe's one drainer
// (`SerialQueue` hands the drainer's role over under its mutex, so each drainer sees what the
// last one wrote): it needs no lock of its own. Its `read`s run there, with no lock held.

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>

namespace switchboard {

template <class Transport, class Auth>
detail::StreamSequencer& ConnectionManager<Transport, Auth>::sequencer_of(const UserId& user) {
    return (*sequencers_)[StreamQueues::stripe_of(std::hash<UserId>{}(user))];
}

namespace detail {

/// The sequencer's `read` of `user`'s events: none past `max_replay` (0: no limit), so that a
/// gap of that size resets the user's connections rather than sending a huge replay.
inline auto stream_reader(History& history, const UserId& user, std::uint64_t max_replay) {
    return [&history, &user, max_replay](const StreamPosition& after, std::uint64_t upto) {
        using Events = std::optional<std::vector<StoredEvent>>;
        return max_replay != 0 && upto - after.offset > max_replay ? Events() : history.read(user, after, upto);
    };
}

} // namespace detail

/// The event goes to the user's started connections but `except` (the ones it follows, filled
/// from the history, go to all of them); returns what the event itself reached.
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::deliver_in_sequence(const StreamDelivery& delivery,
                                                                    StreamScratch& scratch) {
    const UserId& user = delivery.user;
    detail::StreamSequencer& sequencer = sequencer_of(user);
    typename Registry::Targets& started = scratch.recipients;
    started.clear();
    registry_.collect_user(user, started);
    if (started.empty()) { // whoever starts from now on gets it in its replay
        sequencer.forget(user);
        return 0;
    }
    std::size_t reached = 0;
    const auto send = [&](const StoredEvent& event, std::uint64_t offset) {
        const bool own = offset == delivery.top.position.offset; // the last one sent
        if (own && delivery.except) Registry::leave_out(started, delivery.except);
        const std::size_t sent = deliver(started, event.frame_at(offset), &scratch.tally);
        if (own) reached = sent;
    };
    const auto read = detail::stream_reader(*options_.history, user, options_.max_replay);
    if (sequencer.deliver(user, delivery.top.position, delivery.event, read, send) == detail::StreamSequencer::Outcome::reset)
        close_for_reset(user);
    return reached;
}

/// Before the starting connection's replay (up to `start.top`), the user's connections started
/// here already get what they have not had up to there; the starting one is not among them yet.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::start_in_sequence(const StreamStart& start) {
    sequence_started(start.user, [&](detail::StreamSequencer& sequencer, bool any, auto& read, auto& send) {
        return sequencer.start(start.user, start.top.position, any, read, send);
    });
}

/// The user's started connections get what they miss up to the top the store gave.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::catch_up_in_sequence(const StreamCatchUp& catch_up) {
    sequence_started(catch_up.user, [&](detail::StreamSequencer& sequencer, bool any, auto& read, auto& send) {
        using Outcome = detail::StreamSequencer::Outcome;
        return any ? sequencer.catch_up(catch_up.user, catch_up.top, read, send) : Outcome::dropped;
    });
}

/// Runs `step(sequencer, any started, read, send)` for the user's connections started here, whom
/// `send` reaches; a reset closes them.
template <class Transport, class Auth>
template <class Step>
void ConnectionManager<Transport, Auth>::sequence_started(const UserId& user, Step&& step) {
    typename Registry::Targets started;
    registry_.collect_user(user, started);
    const auto send = [&](const StoredEvent& event, std::uint64_t offset) { deliver(started, event.frame_at(offset)); };
    const auto read = detail::stream_reader(*options_.history, user, options_.max_replay);
    if (step(sequencer_of(user), !started.empty(), read, send) == detail::StreamSequencer::Outcome::reset)
        close_for_reset(user);
}

/// The backplane listens again for `users` after losing its link: their tops, in one call to the
/// store, each queued at the user's order point. Nothing without a history that publishes its
/// appends: there is no stream numbering shared with other nodes to catch up on.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::catch_up_streams(const std::vector<UserId>& users) {
    if (!sequencers_ || users.empty()) return;
    const std::vector<std::optional<StreamPosition>> tops = options_.history->tops(users);
    StreamScratch scratch{{}, SendTally(*this)};
    for (std::size_t i = 0; i < users.size() && i < tops.size(); ++i) {
        if (!tops[i]) continue;
        counters_.stream_catch_ups.fetch_add(1, std::memory_order_relaxed);
        const auto make = [&] { return StreamItem{StreamCatchUp{users[i], *tops[i]}}; };
        order(users[i], make, /*call=*/0, scratch);
    }
}

/// Another node's append, as the history published it: queued at the user's order point like
/// this node's own appends. A text that is not an event's is ignored. A node whose own history
/// does not publish its appends (another `--history` in a mixed cluster) keeps no numbering of
/// that stream: it delivers the event live, without an offset, as a plain backplane frame.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::receive_stream_event(const UserId& user, const StreamPosition& position,
                                                              std::string_view event_text) {
    std::optional<StoredEvent> event;
    try {
        event.emplace(StoredEvent::from_frame_text(event_text));
    } catch (const std::exception&) {
        return;
    }
    if (!sequencers_) {
        deliver_to_users_locally({user}, Frame(std::string(event_text)), ConnectionId{});
        return;
    }
    StreamScratch scratch{{}, SendTally(*this)};
    const auto make = [&] { return StreamItem{StreamDelivery{user, *event, StreamTop{position}, nullptr, ConnectionId{}, 0}}; };
    order(user, make, /*call=*/0, scratch);
}

/// The user's last connection here left: their sequencer forgets them, in queue order, unless
/// one started meanwhile.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::leave_stream(const UserId& user) {
    StreamScratch scratch{{}, SendTally(*this)};
    order(user, [&] { return StreamItem{StreamLeave{user}}; }, /*call=*/0, scratch);
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::forget_if_gone(const UserId& user) {
    typename Registry::Targets started;
    registry_.collect_user(user, started);
    if (started.empty()) sequencer_of(user).forget(user);
}

} // namespace switchboard
