// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `ConnectionManager<Transport, Auth>`: who is connected, who is online, and delivery of
/// events to one connection, one user (every device), a list of users, or everyone.
///
/// Threads. Every public member function may be called from any thread at any time, except
/// `on(...)` (register inbound handlers before the transport starts serving) and the
/// constructor/destructor (stop the transport before destroying the manager). Locks:
/// the registry is sharded; a shard lock is held only to read or change its maps and never
/// across a call into the transport, the authenticator, a handler or the backplane.
///
/// Ordering. Events sent to one connection from one thread go out in call order (the transport
/// sends synchronously on the calling thread). With a transport that registers a connection
/// before its handshake response (websocketpp's), an event sent once the client has its 101
/// reaches it, from any thread. Presence events (`UserOnline` on a user's first
/// connection, `UserOffline` on the last, or their coalesced `PresenceDiff`) are produced exactly
/// once per transition and delivered in transition order, by one thread at a time: usually the
/// registering thread before its call returns, or another thread already delivering presence,
/// shortly after. See `PresenceMode` for who receives them.
///
/// History (`ManagerOptions::history`). Each durable event sent to users is appended to each
/// user's stream, online or not, and delivered as `{"type":...,"offset":N,"data":...}`; each
/// connection's first frame is `Session` (see history.hpp), then what it missed when it resumes
/// (`?resume=<epoch>:<offset>`, or `Identity::resume`). Until its Session has gone out a
/// connection is starting: it counts as registered (presence, counts), but what is sent to it
/// is held and follows its Session and replay, in order. A connection receives each offset of
/// its user's stream at most once and in order, from its Session on without a gap (while the
/// stream keeps its epoch; if the store forgets the stream, its connections are closed with
/// 1012 to resume). Locks: a user's appends and connection starts are ordered under the lock of
/// the user's stripe (one of 64), held only to call the store's `append`/`open` (or their
/// asynchronous forms, whose answers come later: what follows waits for them) and queue; the
/// queued deliveries run with no lock held, by the calling thread or, if another thread is
/// delivering for that stripe, by that thread shortly after. So a durable send to users may go
/// out after a later send from the same thread that is not one (ephemeral, to connections,
/// broadcast).
///
/// Failures. A connection whose send fails is closed (1011) and unregistered at once. Inbound
/// messages that are not JSON, not an envelope, of an unknown type or with a bad payload are
/// answered with an `Error` event to that connection only; nothing escapes the manager.
///
/// Heartbeat. The manager answers an inbound `{"type":"Ping","data":D}` itself with
/// `{"type":"Pong","data":D}` to that connection only (D as received; a missing `data` is `{}`),
/// since a browser can neither send nor see WebSocket pings. A `Ping` passes the same checks as any
/// inbound message (size, JSON depth, the rate limit), never reaches a handler (one registered for
/// "Ping" is not called), and its ephemeral `Pong` is never stored in a history.
///
/// Limits (`LimitOptions`): a connection whose backlog passes `max_queued_bytes` is a slow
/// consumer (closed with 1013, or spared ephemeral events until `max_queued_bytes_hard`); inbound messages beyond the token
/// bucket get `Error {"code":"rate_limited"}`, and a sender that keeps going is closed with 1008;
/// a user's connections beyond `max_connections_per_user` are refused at the upgrade with 429.
/// An accepted upgrade holds one of its user's slots from then on: the connection takes it when
/// it opens, or it is released when the transport reports the upgrade abandoned. The check and
/// the reservation are one step under the user's shard lock, so upgrades arriving together
/// cannot overshoot the limit. `register_connection` (a host's own connections) takes a slot
/// without checking: the limit governs upgrades.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <switchboard/auth.hpp>
#include <switchboard/auth/static_token.hpp>
#include <switchboard/backplane.hpp>
#include <switchboard/connection_id.hpp>
#include <switchboard/detail/lifeline.hpp>
#include <switchboard/detail/periodic_task.hpp>
#include <switchboard/detail/presence.hpp>
#include <switchboard/detail/registry.hpp>
#include <switchboard/detail/serial_queue.hpp>
#include <switchboard/detail/stream_sequencer.hpp>
#include <switchboard/event.hpp>
#include <switchboard/events.hpp>
#include <switchboard/history.hpp>
#include <switchboard/manager_options.hpp>
#include <switchboard/metrics/histogram.hpp>
#include <switchboard/transport.hpp>
#include <switchboard/user_id.hpp>

namespace switchboard {

/// One inbound message, as a handler sees it.
struct Inbound {
    ConnectionId connection;
    const Identity& sender; ///< who sent it, as authenticated at the upgrade
    const Event& event;
};

template <class Transport, class Auth = StaticTokenAuthenticator>
class ConnectionManager {
    static_assert(detail::check_transport<Transport>());
    static_assert(is_authenticator_v<Auth>,
                  "Auth policy lacks `AuthResult authenticate(const UpgradeRequest&) const` (see switchboard/auth.hpp)");

public:
    using transport_type = Transport;
    using handle_type = typename Transport::handle_type;
    using Handler = std::function<void(const Inbound&)>;

    /// The transport must outlive the manager. If it has `set_listener`, the manager listens to it.
    explicit ConnectionManager(Transport& transport, Auth auth = Auth{}, ManagerOptions options = {});
    ~ConnectionManager();
    ConnectionManager(const ConnectionManager&) = delete;
    ConnectionManager& operator=(const ConnectionManager&) = delete;

    // --- Lifecycle ----------------------------------------------------------------------------

    /// Runs the Auth policy on an upgrade request.
    AuthResult authenticate(const UpgradeRequest& request) const;

    /// Registers an open connection of `user` (or of an authenticated identity). The first
    /// connection of a user makes the user online and sends `UserOnline` to everyone connected.
    /// Never refused: `max_connections_per_user` counts it, but governs upgrades only.
    ConnectionId register_connection(const UserId& user, handle_type handle);
    ConnectionId register_connection(Identity identity, handle_type handle);

    /// Forgets a connection (does not close it); false if it was not registered. The last
    /// connection of a user makes the user offline and sends `UserOffline` to everyone connected.
    bool unregister_connection(ConnectionId connection);

    /// Closes a connection with `code` and unregisters it at once; false if it was not registered.
    bool disconnect(ConnectionId connection, CloseCode code = CloseCode::normal, std::string_view reason = {});

    /// Unregisters every connection the transport reports closed; returns how many.
    std::size_t cleanup_stale_connections();

    /// Runs `cleanup_stale_connections` every `options.stale_sweep_interval` on `executor`,
    /// until `stop_stale_sweep` or destruction. Starting again restarts the schedule.
    void start_stale_sweep(asio::any_io_executor executor);
    /// After this returns no sweep is running or will run. Idempotent.
    void stop_stale_sweep();

    // --- Presence -----------------------------------------------------------------------------

    /// On this node.
    bool is_user_online(const UserId& user) const;
    std::vector<UserId> online_users() const;
    /// On any node, when the backplane decides presence for the cluster (`Backplane::
    /// decides_presence`), at the backplane's cost (`RedisBackplane`: a local copy, no I/O);
    /// otherwise the same as the local forms.
    bool is_user_online_in_cluster(const UserId& user) const;
    std::vector<UserId> online_users_in_cluster() const;
    /// Connections of one user / of everyone.
    std::size_t connection_count(const UserId& user) const;
    std::size_t connection_count() const;
    std::vector<ConnectionId> connections_of(const UserId& user) const;
    /// The identity a connection registered with, if it is registered.
    std::shared_ptr<const Identity> identity_of(ConnectionId connection) const;
    /// Bytes the transport has accepted for this connection but not yet written (0 if unknown).
    std::size_t queued_bytes(ConnectionId connection) const;

    /// Scoped presence: `watcher` hears of these users' transitions from now on, and at once gets
    /// `UserOnline` for each of them who is online; returns how many are. Throws `ProtocolError`
    /// ("too_many_watched") past `max_watched_per_connection`. 0 if `watcher` is not registered.
    std::size_t watch_presence(ConnectionId watcher, const std::vector<UserId>& users);
    void unwatch_presence(ConnectionId watcher, const std::vector<UserId>& users);
    /// Coalesced presence: sends the pending `PresenceDiff` now (the timer calls this).
    void flush_presence();

    // --- Delivery (serialized once per call; each returns the connections it reached) ---------
    //
    // With history, a durable event sent to users goes into each user's stream (online or not:
    // that is the offline queue) and out with its offset, from a per-user order point: the
    // calling thread delivers it before returning, unless another thread is delivering from a
    // stream of the same stripe at that moment, which then delivers it shortly after; what that
    // thread reaches is not counted in this call's return value. With a store that answers
    // asynchronously (`History::answers_asynchronously`: Redis), the call only queues the event
    // (no I/O, no wait for the store) and returns the started connections it is queued for; it
    // goes out once the store has answered for it and for what the user's order point holds
    // before it, from the thread that brings the answer. When that store is behind
    // (`History::admits` false for one of the users), a durable send throws `HistoryOverloaded`
    // and nothing is stored, delivered or published: a stream never misses an event that some
    // device got live (which would reset it). Ephemeral events, events to connections and
    // broadcasts are never stored.

    /// To connections, not stored (with history too): they are not a user's stream.
    std::size_t send_to_connection(ConnectionId connection, const Event& event);
    /// Each listed connection once; unknown ids are ignored.
    std::size_t send_to_connections(const std::vector<ConnectionId>& connections, const Event& event);
    /// Every connection of the user but `except` (the sending device of a message, say). With
    /// history the event still enters the user's stream, so `except` gets it if it ever resumes
    /// from before it; live, it never gets it.
    std::size_t send_to_user(const UserId& user, const Event& event, ConnectionId except = {});
    /// Every connection of each listed user but `except`; duplicates and offline users are ignored.
    std::size_t send_to_users(const std::vector<UserId>& users, const Event& event, ConnectionId except = {});
    /// Every connection; live only, never stored (with history too): an event for everyone would
    /// be copied into every user's stream, and whoever was offline can reload what concerns all.
    std::size_t broadcast(const Event& event);

    // --- Inbound ------------------------------------------------------------------------------

    /// Handles messages of one type; replaces an earlier handler of that type. A handler that
    /// throws `ProtocolError` answers the sender with that `Error`; any other exception becomes
    /// `Error {"code":"bad_payload"}` (JSON errors, bad UUIDs) or `{"code":"internal_error"}`.
    void on(std::string type, Handler handler);
    /// Handles messages of a typed event `T`, parsed (and validated) before `handler(inbound, t)` runs.
    template <class T, class F>
    void on(F handler);

    /// Dispatches one message received on a connection; false if the connection is not
    /// registered. Called by transports; hosts with their own transport call it too.
    bool handle_message(ConnectionId connection, std::string_view payload, MessageKind kind = MessageKind::text);

    ManagerMetrics metrics() const;
    Transport& transport() noexcept { return transport_; }

private:
    using Registry = detail::Registry<handle_type>;
    struct PresenceChange {
        UserId user;
        bool online;
    };
    class Listener;
    class Sink;
    class SendTally;

    // A user's stream order point (with history): what is queued there runs in queue order.
    /// A store's answer not come yet (`History::answers_asynchronously`); written under the
    /// order point's lock.
    struct AwaitedTop {
        StreamTop top;
        bool answered = false;
    };
    struct StreamStart { ///< a connection's `Session`, replay, then its live start
        ConnectionId connection;
        UserId user;
        std::optional<StreamPosition> resume;
        StreamTop top; ///< when queued (or, once answered, what `awaited` brought)
        std::shared_ptr<AwaitedTop> awaited;
    };
    struct StreamDelivery { ///< one durable event to a user's started connections
        UserId user;
        StoredEvent event;
        StreamTop top; ///< not `stored`: delivered without an offset
        std::shared_ptr<AwaitedTop> awaited;
        ConnectionId except;
        std::uintptr_t call; ///< names the send that queued it, while it runs
        bool reset() const noexcept { return top.stored && top.created; } ///< those started had another epoch
    };
    struct StreamLeave { ///< the user's last connection here left (history publishing its appends)
        UserId user;
    };
    struct StreamCatchUp { ///< the store's top, read after the backplane's subscriber came back
        UserId user;
        StreamPosition top;
    };
    using StreamItem = std::variant<StreamStart, StreamDelivery, StreamLeave, StreamCatchUp>;
    struct Unanswered { ///< the item awaits its store's answer
        bool operator()(const StreamItem& item) const noexcept;
    };
    using StreamQueues = detail::StripedSerialQueues<StreamItem, 64, Unanswered>;
    /// One per stripe of `StreamQueues`, used only while draining it.
    using StreamSequencers = std::array<detail::StreamSequencer, StreamQueues::stripes>;
    struct Resumption {
        Session session;
        std::vector<StoredEvent> replay;
    };
    /// What sends reached, added to the metrics when it goes out of scope rather than per send: a
    /// durable event to N users with history is N frames (an offset each), counted at once.
    class SendTally {
    public:
        explicit SendTally(ConnectionManager& manager) noexcept : manager_(manager) {}
        SendTally(const SendTally&) = delete;
        SendTally& operator=(const SendTally&) = delete;
        ~SendTally();
        void add(std::size_t reached, std::size_t frame_size) noexcept;

    private:
        void count_sizes() noexcept;
        ConnectionManager& manager_;
        std::uint64_t reached_ = 0, bytes_ = 0;
        std::uint64_t frame_size_ = 0, frames_ = 0; ///< deliveries of the frames of this size not yet counted
    };
    struct StreamScratch { ///< reused across the users of one call
        typename Registry::Targets recipients;
        SendTally tally;
    };

    ConnectionId add(Identity identity, handle_type handle, typename Registry::Slot slot);
    AuthResult admit(const UpgradeRequest& request);
    void abandon(const Identity& identity);
    typename Registry::Targets registered_targets(std::vector<ConnectionId> ids) const;
    std::size_t deliver_to_connections(typename Registry::Targets targets, const Frame& frame);
    std::size_t deliver(const typename Registry::Targets& targets, const Frame& frame, SendTally* tally = nullptr);
    decltype(auto) payload_of(const Frame& frame);
    template <class Payload>
    std::size_t send_each(const typename Registry::Targets& targets, const Payload& payload, const Frame& frame,
                          std::size_t max_backlog, SendTally* tally = nullptr);
    void publish_to_users(const std::vector<UserId>& users, const Frame& frame);
    void publish_to_all(const Frame& frame);
    std::size_t backlog_limit(Durability durability) const;
    void on_backlogged(const typename Registry::Target& target, Durability durability);
    bool drop(const typename Registry::Target& target, CloseCode code, std::string_view reason);
    std::size_t deliver_to_users_locally(const std::vector<UserId>& users, const Frame& frame, ConnectionId except);
    void start_stream(ConnectionId connection, const Identity& identity);
    std::size_t append_to_streams(std::vector<UserId> users, const Event& event, ConnectionId except);
    template <class Make>
    std::size_t order(const UserId& user, Make&& make, std::uintptr_t call, StreamScratch& scratch);
    std::size_t process(StreamItem& item, std::uintptr_t call, StreamScratch& scratch);
    StreamTopHandler answer_to(const UserId& user, const std::shared_ptr<AwaitedTop>& awaited);
    void note_unkept(const StreamDelivery& delivery);
    void begin_session(const StreamStart& start);
    Resumption resumption(const StreamStart& start);
    bool within_replay_bytes(const std::vector<StoredEvent>& replay) const;
    void close_for_reset(const UserId& user);
    std::size_t deliver_from_stream(const StreamDelivery& delivery, StreamScratch& scratch);
    detail::StreamSequencer& sequencer_of(const UserId& user);
    std::size_t deliver_in_sequence(const StreamDelivery& delivery, StreamScratch& scratch);
    void start_in_sequence(const StreamStart& start);
    void catch_up_in_sequence(const StreamCatchUp& catch_up);
    template <class Step>
    void sequence_started(const UserId& user, Step&& step);
    void catch_up_streams(const std::vector<UserId>& users);
    void receive_stream_event(const UserId& user, const StreamPosition& position, std::string_view event_text);
    void leave_stream(const UserId& user);
    void forget_if_gone(const UserId& user);
    std::size_t deliver_to_all_locally(const Frame& frame);
    void publish_presence();
    void deliver_presence(const PresenceChange& change);
    void announce_presence(const PresenceChange& change, bool publish);
    void deliver_scoped_presence(const PresenceChange& change, bool publish_related);
    static Frame presence_frame(const PresenceChange& change);
    void dispatch(ConnectionId connection, const Identity& sender, std::string_view payload, MessageKind kind);
    void reply_error(ConnectionId connection, std::string_view code, const std::string& message);

    Transport& transport_;
    Auth auth_;
    ManagerOptions options_;
    const detail::TokenBucket::Settings inbound_limit_; ///< of `options_.limits`
    Registry registry_;
    detail::SerialQueue<PresenceChange> presence_changes_;
    detail::PendingPresence pending_presence_;
    detail::PresenceSubscriptions presence_subscriptions_;
    std::shared_ptr<detail::PeriodicTask> presence_flush_;
    std::atomic<bool> shutting_down_{false};
    std::unordered_map<std::string, Handler> handlers_;
    std::unique_ptr<StreamQueues> streams_; ///< with history only
    std::unique_ptr<StreamSequencers> sequencers_; ///< with a history that publishes its appends only
    detail::Lifeline lifeline_; ///< of the store's answers (`answer_to`)
    std::unique_ptr<Listener> listener_;
    std::unique_ptr<Sink> sink_;
    std::mutex sweep_mutex_;
    std::shared_ptr<detail::PeriodicTask> sweep_;

    struct Counters {
        std::atomic<std::uint64_t> registered{0}, unregistered{0}, upgrades_refused{0}, delivered{0},
            send_failures{0}, inbound{0}, inbound_errors{0}, rate_limited{0}, closed_for_abuse{0}, closed_slow{0},
            dropped_ephemeral{0}, refused_by_auth{0}, refused_user_limit{0}, upgrades_abandoned{0}, resumes_complete{0},
            resumes_unavailable{0}, resumes_beyond_replay{0}, events_replayed{0}, closed_stream_reset{0},
            history_append_failures{0}, history_refused_sends{0}, bytes_in{0},
            bytes_out{0}, backplane_published{0}, backplane_received{0}, stream_catch_ups{0};
    };
    Counters counters_;
    /// Durations in nanoseconds, sizes in bytes (bounds: see `ManagerMetrics`).
    struct Distributions {
        Histogram send_duration = ManagerMetrics::duration_histogram();
        Histogram broadcast_duration = ManagerMetrics::duration_histogram();
        Histogram upgrade_duration = ManagerMetrics::duration_histogram();
        Histogram outbound_frame_size = ManagerMetrics::size_histogram();
        Histogram inbound_frame_size = ManagerMetrics::size_histogram();
    };
    Distributions distributions_;
};

} // namespace switchboard

#include <switchboard/impl/manager_lifecycle.hpp>
#include <switchboard/impl/manager_presence.hpp>
#include <switchboard/impl/manager_delivery.hpp>
#include <switchboard/impl/manager_history.hpp>
#include <switchboard/impl/manager_sequence.hpp>
#include <switchboard/impl/manager_inbound.hpp>
