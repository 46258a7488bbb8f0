// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The history hook (`ManagerOptions::history`): per-user streams of durable events, each event
/// with an offset, so that a client that reconnects with `?resume=<epoch>:<offset>` gets what it
/// missed, in order, exactly once, or is told plainly that it cannot (`Recovery::unavailable`).
///
/// - `History`: the store policy. `MemoryHistory` (`switchboard/history/memory.hpp`) is the
///   embedded one; a store shared by several nodes (Redis) plugs in here too.
/// - `StoredEvent`: a durable event serialized once, shared by every stream it is appended to.
/// - `Session`: the first frame of every connection while history is on.
/// - `parse_resume`: the upgrade's `resume` query parameter.
///
/// The manager coordinates; it holds no stream. It appends each durable event sent to users
/// (`send_to_user`, `send_to_users`) to each user's stream and delivers it with its offset (or,
/// if the store could not keep it, live without one: `StreamTop::stored`); ephemeral events
/// (typing, presence, `Error`) and broadcasts are never stored.

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <switchboard/auth.hpp>
#include <switchboard/event.hpp>
#include <switchboard/stream_position.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard {

/// What a resuming connection is told in its `Session`.
enum class Recovery {
    none,        ///< no `resume` given: the stream's top is the client's starting point
    complete,    ///< the events after the client's position follow, then live ones
    unavailable, ///< the position cannot be served (another epoch, too old, too far behind)
};

inline std::string_view to_string(Recovery recovery) noexcept {
    switch (recovery) {
    case Recovery::complete: return "complete";
    case Recovery::unavailable: return "unavailable";
    case Recovery::none: break;
    }
    return "none";
}

/// A durable event serialized once, `{"type":...,"data":...}` as `Event::to_frame` writes it, in
/// one allocation shared by every copy (an event sent to ten users is stored once). Immutable;
/// copies may be used and dropped on any threads.
class StoredEvent {
public:
    explicit StoredEvent(const Event& event) : StoredEvent(std::string_view(event.to_text())) {}

    /// From the text of an unstreamed frame (`Frame::text()` of `Event::to_frame`), as a store
    /// that keeps text elsewhere reads it back. Throws `std::invalid_argument` for any other text,
    /// `std::length_error` from 4 GiB on.
    static StoredEvent from_frame_text(std::string_view text) { return StoredEvent(text); }

    StoredEvent(const StoredEvent& other) noexcept : block_(other.block_) {
        block_->references.fetch_add(1, std::memory_order_relaxed);
    }
    /// A moved-from event may only be destroyed or assigned to.
    StoredEvent(StoredEvent&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
    StoredEvent& operator=(StoredEvent other) noexcept {
        std::swap(block_, other.block_);
        return *this;
    }
    ~StoredEvent() {
        if (!block_ || block_->references.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        block_->~Block();
        ::operator delete(block_);
    }

    /// `{"type":...,"data":...}`, without an offset.
    std::string_view text() const noexcept { return {block_->text(), block_->size}; }
    std::size_t size() const noexcept { return block_->size; }

    /// What its one allocation takes from malloc (glibc: 8 bytes of header, 16-byte granules).
    std::size_t memory_size() const noexcept { return (sizeof(Block) + block_->size + 8 + 15) / 16 * 16; }

    /// The frame of this event at `offset` in a stream: `{"type":...,"offset":N,"data":...}`.
    Frame frame_at(std::uint64_t offset) const {
        constexpr std::string_view key = R"("offset":)";
        char spliced[key.size() + 21]; // the key, up to 20 digits and ','
        key.copy(spliced, key.size());
        char* const end = std::to_chars(spliced + key.size(), spliced + sizeof spliced, offset).ptr;
        *end = ',';
        const std::string_view all = text();
        const std::size_t head = block_->data_at;
        const std::size_t splice = static_cast<std::size_t>(end + 1 - spliced);
        std::string frame(all.size() + splice, '\0');
        all.copy(frame.data(), head);
        std::memcpy(frame.data() + head, spliced, splice);
        all.copy(frame.data() + head + splice, all.size() - head, head);
        return Frame(std::move(frame));
    }

private:
    explicit StoredEvent(std::string_view frame_text) {
        constexpr std::string_view head = R"({"type":")";
        // A JSON string escapes every '"' in it, so this first match follows the type.
        const std::size_t data_at = frame_text.find(R"(,"data":)");
        if (frame_text.substr(0, head.size()) != head || data_at == std::string_view::npos)
            throw std::invalid_argument(R"(StoredEvent: not an {"type":...,"data":...} frame)");
        if (frame_text.size() >= std::uint32_t{0xFFFFFFFF})
            throw std::length_error("StoredEvent: 4 GiB or more");
        block_ = static_cast<Block*>(::operator new(sizeof(Block) + frame_text.size()));
        new (block_) Block{{1}, static_cast<std::uint32_t>(frame_text.size()), static_cast<std::uint32_t>(data_at + 1)};
        std::memcpy(block_->text(), frame_text.data(), frame_text.size());
    }

    struct Block {
        std::atomic<std::uint32_t> references;
        std::uint32_t size;
        std::uint32_t data_at; ///< where `"data":` starts: the offset goes in before it
        char* text() noexcept { return reinterpret_cast<char*>(this + 1); }
    };

    Block* block_;
};

/// A stream's position after a store call, and whether that call made the stream in a new epoch
/// that the user's connections cannot know (`created`): a new stream, or one the store had
/// forgotten whole (its top included). A stream made in the epoch `open` already reported is not.
///
/// `stored` is false only from an `append` whose event the store could not keep (a shared store
/// away): `position` and `created` then mean nothing, and the manager delivers the event live,
/// without an offset, to the user's connections. Such a store must not serve that stream's old
/// numbering afterwards: its next answer for the user gives the stream a new epoch (`created`).
struct StreamTop {
    StreamPosition position;
    bool created = false;
    bool stored = true;
};

/// A store's figures: counters since construction and current sizes, read with relaxed atomics
/// (each exact, not necessarily all from one instant).
struct HistoryMetrics {
    std::size_t streams = 0; ///< kept, with events or only their epoch and top
    std::size_t events = 0;  ///< kept, over all streams
    std::size_t bytes = 0;   ///< serialized size of the events kept, each stream's counted
    std::size_t memory = 0;  ///< what the store counts against its memory cap
    std::uint64_t appended = 0;
    std::uint64_t dropped_over_events = 0; ///< oldest events dropped for the per-user event bound
    std::uint64_t dropped_over_bytes = 0;  ///< oldest events dropped for the per-user byte bound
    std::uint64_t expired = 0;             ///< dropped for their age
    std::uint64_t evicted_events = 0;      ///< dropped with their least-recently-used stream, for memory
    std::uint64_t evicted_streams = 0;     ///< streams forgotten whole for memory (epoch and top too)
    std::uint64_t failures = 0;            ///< calls a shared store could not answer (0 in memory)
};

/// Thrown by a durable send to users (`send_to_users`, `send_to_user`) when the history
/// answers asynchronously and does not admit more appends now (`History::admits`): nothing was
/// stored, delivered or published; the caller may retry later. A `ProtocolError` with code
/// `overloaded`, so that an inbound handler's send answers its sender with that `Error`.
class HistoryOverloaded : public ProtocolError {
public:
    HistoryOverloaded()
        : ProtocolError(errc::overloaded, "the server is too busy to keep this event; retry later") {}
};

/// Told once what an asynchronous `append_async` or `open_async` would have returned.
using StreamTopHandler = std::function<void(const StreamTop&)>;

/// The store policy: per-user streams of `StoredEvent`s. Every member may be called from any
/// thread at any time. The manager calls `append` and `open` (or their asynchronous forms) under
/// its per-user order lock (so they must be quick and must not call back into the manager) and
/// `read` with no lock held.
///
/// Within an epoch, offsets start at 1, are contiguous and are never reused; a store that may
/// have lost a stream's top (a restart, a stream forgotten whole) gives it a new epoch. A store
/// may drop old events (bounds, age, memory) but keeps the epoch and top longer, so that a
/// position that has merely expired is told apart from one whose numbering is gone.
class History {
public:
    virtual ~History() = default;

    /// Appends `event` to `user`'s stream (making the stream if there is none) and returns its
    /// position there: the stream's new top; or `stored` false if the event could not be kept.
    virtual StreamTop append(const UserId& user, const StoredEvent& event) = 0;

    /// The current top of `user`'s stream. For a user without one, (an epoch, 0): a store that
    /// can tell the user never had a stream may make none until the first `append`, which makes
    /// it in that same epoch and not `created`; one that cannot makes it here (`created`).
    virtual StreamTop open(const UserId& user) = 0;

    /// Every event of `user`'s stream with an offset in (`after.offset`, `upto`], in order, if the
    /// stream is in `after.epoch` and still keeps all of them; `std::nullopt` otherwise.
    virtual std::optional<std::vector<StoredEvent>> read(const UserId& user, const StreamPosition& after,
                                                        std::uint64_t upto) = 0;

    /// The current top of each of `users`' streams, in their order; `std::nullopt` for one the
    /// store cannot tell (a failure, or a numbering it lost). The manager asks, with no lock held,
    /// when its backplane listens again after losing its link (what was published meanwhile is
    /// lost), for the users that link serves, a few hundred at a time. By default `open` for each;
    /// a store across the network answers them in one round trip (`redis::RedisHistory` does).
    virtual std::vector<std::optional<StreamPosition>> tops(const std::vector<UserId>& users) {
        std::vector<std::optional<StreamPosition>> found;
        found.reserve(users.size());
        for (const UserId& user : users) found.emplace_back(open(user).position);
        return found;
    }

    virtual HistoryMetrics metrics() const = 0;

    /// True when the store answers `append` and `open` asynchronously (`append_async`,
    /// `open_async`): a store across the network, whose round trips must not hold the caller's
    /// thread. The manager then calls those in place of `append` and `open`; a user's events wait
    /// at the user's order point until the store has answered for them and for all queued before
    /// them. Constant for the store's life.
    virtual bool answers_asynchronously() const noexcept { return false; }

    /// As `append`, without waiting: `done` is called exactly once with what `append` would
    /// return, later, on a thread of the store (never from within this call: the caller holds a
    /// lock that `done` may need), unless the store is destroyed first. A user's appends take
    /// their offsets in the order of these calls. Must not block (no I/O on the caller's thread).
    /// Only called when `answers_asynchronously`; by default throws `std::logic_error`.
    virtual void append_async(const UserId& /*user*/, const StoredEvent& /*event*/, StreamTopHandler /*done*/) {
        throw std::logic_error("History::append_async: this store answers synchronously");
    }

    /// As `open`, without waiting; `done` as for `append_async`, and in order with the user's
    /// appends: the top it reports follows every append called before it and none called after.
    virtual void open_async(const UserId& /*user*/, StreamTopHandler /*done*/) {
        throw std::logic_error("History::open_async: this store answers synchronously");
    }

    /// Whether the store takes an `append_async` for each of `users` now: false while the shard
    /// of any of them has so many calls unanswered that one more would wait past the store's
    /// bound (Redis slower than the traffic). The manager then refuses the send whole
    /// (`HistoryOverloaded`), so that a stream never misses an event some device got live.
    /// Advisory: callers racing may pass it together; the store still bounds what it queues.
    /// Called under no lock, from any thread; must be quick. By default always true.
    virtual bool admits(const std::vector<UserId>& /*users*/) const noexcept { return true; }

    /// True when each `append` also publishes the event with its position to the other nodes
    /// itself (`redis::RedisHistory` with a backplane prefix), so that all agree on its offset.
    /// The manager then publishes no stream event through its `Backplane`, takes those the
    /// backplane hands to `BackplaneSink::deliver_from_stream`, and orders and de-duplicates
    /// each user's deliveries on its node (filling gaps by `read`). Constant for the store's life.
    virtual bool publishes_appends() const noexcept { return false; }
};

/// The first frame of every connection while history is on:
/// `{"type":"Session","data":{"epoch":"<hex>","offset":N,"recovery":"none|complete|unavailable","replayed":K}}`.
/// `none`: `offset` is the stream's top (later events have higher offsets), `replayed` 0.
/// `complete`: `offset` echoes the client's; the `replayed` events after it follow at once, then
/// live ones. `unavailable`: nothing is replayed, `offset` is the top; the app reloads.
struct Session {
    static constexpr std::string_view type_name = "Session";
    Epoch epoch;
    std::uint64_t offset = 0;
    Recovery recovery = Recovery::none;
    std::uint64_t replayed = 0;
};

inline void to_json(nlohmann::json& json, const Session& session) {
    json = {{"epoch", session.epoch.to_string()},
            {"offset", session.offset},
            {"recovery", to_string(session.recovery)},
            {"replayed", session.replayed}};
}

inline void from_json(const nlohmann::json& json, Session& session) {
    const auto epoch = Epoch::try_parse(json.at("epoch").get_ref<const std::string&>());
    if (!epoch) throw std::invalid_argument("Session: epoch must be 32 lower-case hex digits");
    const std::string& recovery = json.at("recovery").get_ref<const std::string&>();
    if (recovery != "none" && recovery != "complete" && recovery != "unavailable")
        throw std::invalid_argument("Session: unknown recovery " + recovery);
    session.epoch = *epoch;
    session.offset = json.at("offset").get<std::uint64_t>();
    session.recovery = recovery == "complete"      ? Recovery::complete
                       : recovery == "unavailable" ? Recovery::unavailable
                                                   : Recovery::none;
    session.replayed = json.at("replayed").get<std::uint64_t>();
}

/// What an upgrade's query says about resuming: a position, none, or why it is refused.
struct ResumeParameter {
    std::optional<StreamPosition> position; ///< empty: no `resume` (or a refusal)
    std::optional<AuthFailure> failure;     ///< 400 with the reason
};

/// Reads `resume=<epoch>:<offset>` (percent-decoded, then `StreamPosition::parse`) from a raw
/// query string. A malformed value, or `resume` given twice, is refused with 400 and a reason.
inline ResumeParameter parse_resume(std::string_view query) {
    constexpr std::string_view name = "resume";
    const auto refuse = [](std::string_view why) {
        return ResumeParameter{std::nullopt, AuthFailure{400, "malformed resume parameter: " + std::string(why)}};
    };
    const std::optional<std::string_view> raw = detail::find_query_value(query, name);
    if (!raw) return {};
    const std::optional<std::string> value = detail::percent_decode(*raw);
    if (!value) return refuse("bad percent-encoding");
    const ParsedPosition parsed = StreamPosition::parse(*value);
    if (!parsed) return refuse(parsed.error);
    const std::size_t rest = static_cast<std::size_t>(raw->data() + raw->size() - query.data());
    if (detail::find_query_value(query.substr(rest), name)) return refuse("given more than once");
    return {parsed.position, std::nullopt};
}

} // namespace switchboard
