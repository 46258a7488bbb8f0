// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include <switchboard/history.hpp>
#include <switchboard/stream_position.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard::detail {

/// Per user, the stream position this node's started connections of that user have been sent up
/// to, so that events that reach the node out of offset order, twice, or not at all (a history
/// that publishes its appends: a local append of offset 7 may return before offset 6 from another
/// node arrives over pub/sub, which may lose a message) still go out in offset order, once each.
///
/// - `deliver`: an event at `top + 1` goes out; one at or below `top` is dropped (sent already or
///   replayed); one above `top + 1` has a gap before it, filled by `read(top, offset - 1)` first.
/// - `start`: a connection starts at the stream's top `T`; the user's started connections are
///   first brought up to `T` from `read`, then `top = T` (the new one gets its replay up to `T`).
/// - `catch_up`: the store says the stream's top is `T` now (read after the node's subscriber came
///   back from a lost link, which lost what was published meanwhile): what lies in (`top`, `T`]
///   goes out from `read`, then `top = T`; nothing if `top` is there already.
/// - An event or a start in another epoch, or a gap that `read` cannot fill, is `Outcome::reset`:
///   the caller closes the user's started connections (they reconnect and resume), and the state
///   is as after that.
///
/// `read(after, upto)` returns the events in (`after.offset`, `upto`] of epoch `after.epoch`, or
/// none; `send(event, offset)` sends one to the user's started connections.
///
/// Threads: none of its own. The manager keeps one per stripe of its stream order points and
/// calls it only while draining that stripe (`SerialQueue`: one drainer at a time, handed over
/// under the queue's mutex), so the calls are serialized and each sees the last one's writes.
class StreamSequencer {
public:
    enum class Outcome { sent, dropped, reset };

    /// An event at `at` for `user`'s started connections here (the caller has found some).
    template <class Read, class Send>
    Outcome deliver(const UserId& user, const StreamPosition& at, const StoredEvent& event, Read&& read, Send&& send) {
        const auto found = sent_.find(user);
        if (found == sent_.end() || found->second.epoch != at.epoch) return forget_for_reset(user);
        StreamPosition& sent = found->second;
        if (at.offset <= sent.offset) return Outcome::dropped;
        if (at.offset > sent.offset + 1 && !fill(sent, at.offset - 1, read, send)) return forget_for_reset(user);
        send(event, at.offset);
        sent.offset = at.offset;
        return Outcome::sent;
    }

    /// A connection of `user` starts at `top`; `others_started`: the user has started connections
    /// here besides it. `reset`: those others are in another epoch or cannot be caught up.
    template <class Read, class Send>
    Outcome start(const UserId& user, const StreamPosition& top, bool others_started, Read&& read, Send&& send) {
        const auto [found, fresh] = sent_.try_emplace(user, top);
        StreamPosition& sent = found->second;
        if (fresh || !others_started) {
            sent = top;
            return Outcome::sent;
        }
        const bool caught_up =
            sent.epoch == top.epoch && (sent.offset >= top.offset || fill(sent, top.offset, read, send));
        sent = top;
        return caught_up ? Outcome::sent : Outcome::reset;
    }

    /// `user`'s stream is at `top` in the store now. `dropped`: no position held for them, or
    /// nothing missed; `reset`: `top` is in another epoch, or the history cannot fill the gap.
    template <class Read, class Send>
    Outcome catch_up(const UserId& user, const StreamPosition& top, Read&& read, Send&& send) {
        const auto found = sent_.find(user);
        if (found == sent_.end()) return Outcome::dropped;
        StreamPosition& sent = found->second;
        if (sent.epoch != top.epoch) return forget_for_reset(user);
        if (top.offset <= sent.offset) return Outcome::dropped;
        return fill(sent, top.offset, read, send) ? Outcome::sent : forget_for_reset(user);
    }

    /// `user` has no started connection here any more.
    void forget(const UserId& user) { sent_.erase(user); }

    /// Users with a position held.
    std::size_t size() const noexcept { return sent_.size(); }

private:
    Outcome forget_for_reset(const UserId& user) {
        forget(user);
        return Outcome::reset;
    }

    /// Sends what follows `sent` up to `upto`; false if the history no longer has all of it.
    template <class Read, class Send>
    static bool fill(StreamPosition& sent, std::uint64_t upto, Read& read, Send& send) {
        const std::optional<std::vector<StoredEvent>> missed = read(sent, upto);
        if (!missed || missed->size() != upto - sent.offset) return false;
        for (const StoredEvent& event : *missed) send(event, ++sent.offset);
        return true;
    }

    std::unordered_map<UserId, StreamPosition> sent_;
};

} // namespace switchboard::detail
