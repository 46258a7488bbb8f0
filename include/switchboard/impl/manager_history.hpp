// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// ConnectionManager with history: each user's stream order point.
//
// A user's appends (which decide offsets) and connection starts are queued under the lock of
// the user's stripe, in the same critical section, so queue order is offset order. Whoever finds
// the stripe idle processes what is queued, with no lock held (`detail::SerialQueue`):
// - a delivery sends its event, with its offset (none if the store could not keep it), to the
//   user's started connections;
// - a start sends the connection's `Session`, then what its client missed up to the top the
//   start was queued at, then what was held for it meanwhile, and only then makes it started.
// Deliveries queued before a start skip that connection (their offsets are at most that top:
// replayed, or at or before the client's position); those queued after reach it. So across the
// seam between replay and live delivery no offset is skipped or repeated, whatever the threads.
// When the history publishes its appends (several nodes), deliveries also come from the other
// nodes, out of offset order: manager_sequence.hpp puts them back in order.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>

namespace switchboard {

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::start_stream(ConnectionId connection, const Identity& identity) {
    const UserId& user = identity.user;
    History& history = *options_.history;
    const auto make = [&] {
        StreamStart start{connection, user, identity.resume, {}, nullptr};
        if (!history.answers_asynchronously()) {
            start.top = history.open(user);
        } else {
            start.awaited = std::make_shared<AwaitedTop>();
            history.open_async(user, answer_to(user, start.awaited));
        }
        return StreamItem{std::move(start)};
    };
    StreamScratch scratch{{}, SendTally(*this)};
    order(user, make, /*call=*/0, scratch);
}

/// Serializes the event once; each user's frame differs only in its offset. With a store that
/// answers asynchronously the deliveries wait for it: what this call reaches is what it is
/// queued for; a store that is behind refuses the whole call before anything is queued.
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::append_to_streams(std::vector<UserId> users, const Event& event,
                                                                  ConnectionId except) {
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
    History& history = *options_.history;
    const bool asynchronous = history.answers_asynchronously();
    if (asynchronous && !history.admits(users)) {
        counters_.history_refused_sends.fetch_add(1, std::memory_order_relaxed);
        throw HistoryOverloaded();
    }
    const StoredEvent stored(event);
    const auto call = asynchronous ? 0 : reinterpret_cast<std::uintptr_t>(&stored);
    StreamScratch scratch{{}, SendTally(*this)};
    std::size_t reached = 0;
    for (const UserId& user : users) {
        const auto make = [&] {
            StreamDelivery delivery{user, stored, {}, nullptr, except, call};
            if (!asynchronous) {
                delivery.top = history.append(user, stored);
            } else {
                delivery.awaited = std::make_shared<AwaitedTop>();
                history.append_async(user, stored, answer_to(user, delivery.awaited));
            }
            return StreamItem{std::move(delivery)};
        };
        // Asynchronously, what the drain delivers is others' (this call's items await): not counted.
        const std::size_t delivered = order(user, make, call, scratch);
        reached += asynchronous ? registry_.count_started(user, except) : delivered;
    }
    // A history that publishes its appends publishes them itself (those it kept: `note_unkept`).
    if (options_.backplane && !sequencers_) publish_to_users(users, Frame(std::string(stored.text())));
    return reached;
}

/// What the store's asynchronous answer for an item queued at the user's order point does: it
/// settles the item there and delivers what no longer waits, on the answering thread, unless
/// the manager is gone by then.
template <class Transport, class Auth>
StreamTopHandler ConnectionManager<Transport, Auth>::answer_to(const UserId& user,
                                                              const std::shared_ptr<AwaitedTop>& awaited) {
    return [this, guard = lifeline_.guard(), user, awaited](const StreamTop& top) {
        guard.run([&] {
            StreamScratch scratch{{}, SendTally(*this)};
            streams_->of(std::hash<UserId>{}(user))
                .settle_and_drain(
                    [&] {
                        awaited->top = top;
                        awaited->answered = true;
                    },
                    [&](StreamItem& item) { process(item, /*call=*/0, scratch); });
        });
    };
}

template <class Transport, class Auth>
bool ConnectionManager<Transport, Auth>::Unanswered::operator()(const StreamItem& item) const noexcept {
    const auto awaits = [](const std::shared_ptr<AwaitedTop>& awaited) { return awaited && !awaited->answered; };
    if (const auto* start = std::get_if<StreamStart>(&item)) return awaits(start->awaited);
    if (const auto* delivery = std::get_if<StreamDelivery>(&item)) return awaits(delivery->awaited);
    return false;
}

/// Queues what `make` returns at the user's order point and processes the queue unless another
/// thread is; returns what the deliveries of `call` reached here.
template <class Transport, class Auth>
template <class Make>
std::size_t ConnectionManager<Transport, Auth>::order(const UserId& user, Make&& make, std::uintptr_t call,
                                                      StreamScratch& scratch) {
    std::size_t reached = 0;
    streams_->of(std::hash<UserId>{}(user)).push_and_drain(std::forward<Make>(make), [&](StreamItem& item) {
        reached += process(item, call, scratch);
    });
    return reached;
}

/// An answered item first takes what its store answered.
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::process(StreamItem& item, std::uintptr_t call,
                                                        StreamScratch& scratch) {
    if (auto* start = std::get_if<StreamStart>(&item)) {
        if (start->awaited) start->top = start->awaited->top;
        begin_session(*start);
        return 0;
    }
    if (const auto* leave = std::get_if<StreamLeave>(&item)) {
        forget_if_gone(leave->user);
        return 0;
    }
    if (const auto* catch_up = std::get_if<StreamCatchUp>(&item)) {
        catch_up_in_sequence(*catch_up);
        return 0;
    }
    StreamDelivery& delivery = std::get<StreamDelivery>(item);
    if (delivery.awaited) delivery.top = delivery.awaited->top;
    if (!delivery.top.stored) note_unkept(delivery);
    const std::size_t reached = deliver_from_stream(delivery, scratch);
    return delivery.call == call ? reached : 0;
}

/// The store could not keep the event: it goes out live without an offset, here and (a history
/// that publishes its appends did not publish it) to the other nodes.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::note_unkept(const StreamDelivery& delivery) {
    counters_.history_append_failures.fetch_add(1, std::memory_order_relaxed);
    if (options_.backplane && sequencers_) publish_to_users({delivery.user}, Frame(std::string(delivery.event.text())));
}

/// `Session`, the replay and what was held go out unlimited by the backlog: the history's
/// bounds limit the replay, and the connection's first frames must all arrive.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::begin_session(const StreamStart& start) {
    const auto record = registry_.find(start.connection);
    if (!record) return; // gone before its start
    if (start.top.created) close_for_reset(start.user);
    if (sequencers_) start_in_sequence(start);
    const typename Registry::Targets target{{start.connection, record->handle}};
    const auto send = [&](const Frame& frame) {
        return send_each(target, payload_of(frame), frame, /*max_backlog=*/0) == 1;
    };
    const Resumption resumed = resumption(start);
    bool open = send(Event(resumed.session).to_frame());
    for (std::size_t i = 0; open && i < resumed.replay.size(); ++i)
        open = send(resumed.replay[i].frame_at(resumed.session.offset + 1 + i));
    for (std::vector<Frame> held = registry_.start(start.user, start.connection); !held.empty();
         held = registry_.start(start.user, start.connection))
        for (const Frame& frame : held) send(frame);
}

/// What the connection's client is told, and what it missed (`replay`, from its offset on).
template <class Transport, class Auth>
typename ConnectionManager<Transport, Auth>::Resumption
ConnectionManager<Transport, Auth>::resumption(const StreamStart& start) {
    constexpr auto relaxed = std::memory_order_relaxed;
    const StreamPosition& top = start.top.position;
    Resumption resumed{Session{top.epoch, top.offset, Recovery::none, 0}, {}};
    if (!start.resume) return resumed;
    const StreamPosition& from = *start.resume;
    const bool behind = from.epoch == top.epoch && from.offset <= top.offset;
    bool beyond_replay = behind && options_.max_replay != 0 && top.offset - from.offset > options_.max_replay;
    std::optional<std::vector<StoredEvent>> missed;
    if (behind && !beyond_replay)
        missed = from.offset == top.offset ? std::vector<StoredEvent>{}
                                           : options_.history->read(start.user, from, top.offset);
    if (missed && !within_replay_bytes(*missed)) {
        missed.reset();
        beyond_replay = true;
    }
    if (!missed) {
        resumed.session.recovery = Recovery::unavailable;
        counters_.resumes_unavailable.fetch_add(1, relaxed);
        if (beyond_replay) counters_.resumes_beyond_replay.fetch_add(1, relaxed);
        return resumed;
    }
    resumed.session = Session{top.epoch, from.offset, Recovery::complete, missed->size()};
    resumed.replay = std::move(*missed);
    counters_.resumes_complete.fetch_add(1, relaxed);
    counters_.events_replayed.fetch_add(resumed.replay.size(), relaxed);
    return resumed;
}

/// A replay is queued at once, outside the backlog limit: at most half of it, so that live
/// events still find room behind a replay the client is reading (0: no limit).
template <class Transport, class Auth>
bool ConnectionManager<Transport, Auth>::within_replay_bytes(const std::vector<StoredEvent>& replay) const {
    constexpr std::size_t offset_bytes = 30; // `"offset":<up to 20 digits>,` spliced into each
    const std::size_t budget = backlog_limit(Durability::durable) / 2;
    std::size_t bytes = 0;
    for (const StoredEvent& event : replay) bytes += event.size() + offset_bytes;
    return budget == 0 || bytes <= budget;
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::deliver_from_stream(const StreamDelivery& delivery,
                                                                    StreamScratch& scratch) {
    if (delivery.reset()) {
        close_for_reset(delivery.user);
        if (sequencers_) sequencer_of(delivery.user).forget(delivery.user);
        return 0; // whoever starts from now on gets it in its replay
    }
    // Offset 0: the store could not keep it; live only, as without history.
    const bool kept = delivery.top.stored;
    if (sequencers_ && kept) return deliver_in_sequence(delivery, scratch);
    typename Registry::Targets& targets = scratch.recipients;
    targets.clear();
    registry_.collect_user(delivery.user, targets);
    if (delivery.except) Registry::leave_out(targets, delivery.except);
    if (targets.empty()) return 0;
    const Frame frame = kept ? delivery.event.frame_at(delivery.top.position.offset) : Frame(std::string(delivery.event.text()));
    return deliver(targets, frame, &scratch.tally);
}

/// The store made the user's stream anew (it had forgotten it): the user's started connections
/// know an epoch whose offsets will not go on, so they are closed, to reconnect and resume
/// (`unavailable`: their app reloads).
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::close_for_reset(const UserId& user) {
    typename Registry::Targets started;
    registry_.collect_user(user, started);
    for (const auto& target : started)
        if (drop(target, CloseCode::service_restart, "history lost: reconnect"))
            counters_.closed_stream_reset.fetch_add(1, std::memory_order_relaxed);
}

} // namespace switchboard
