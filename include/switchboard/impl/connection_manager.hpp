// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <utility>

namespace switchboard {

// --- Adapters: what the transport and the backplane call --------------------------------------

template <class Transport, class Auth>
class ConnectionManager<Transport, Auth>::Listener final : public TransportListener<handle_type> {
public:
    explicit Listener(ConnectionManager& manager) : manager_(manager) {}

    AuthResult on_upgrade(const UpgradeRequest& request) override { return manager_.admit(request); }
    ConnectionId on_open(const handle_type& handle, Identity identity) override {
        return manager_.add(std::move(identity), handle, Registry::Slot::reserved);
    }
    void on_abandon(const Identity& identity) override { manager_.abandon(identity); }
    void on_message(ConnectionId connection, std::string_view payload, MessageKind kind) override {
        manager_.handle_message(connection, payload, kind);
    }
    void on_close(ConnectionId connection) override { manager_.unregister_connection(connection); }
    void on_shutdown() override { manager_.shutting_down_.store(true, std::memory_order_relaxed); }

private:
    ConnectionManager& manager_;
};

template <class Transport, class Auth>
class ConnectionManager<Transport, Auth>::Sink final : public BackplaneSink {
public:
    explicit Sink(ConnectionManager& manager) : manager_(manager) {}
    void deliver_to_users(const std::vector<UserId>& users, const Frame& frame) override {
        manager_.deliver_to_users_locally(users, frame);
    }
    void deliver_to_all(const Frame& frame) override { manager_.deliver_to_all_locally(frame); }

private:
    ConnectionManager& manager_;
};

// --- Construction ---------------------------------------------------------------------------

template <class Transport, class Auth>
ConnectionManager<Transport, Auth>::ConnectionManager(Transport& transport, Auth auth, ManagerOptions options)
    : transport_(transport), auth_(std::move(auth)), options_(std::move(options)),
      inbound_limit_{options_.limits.inbound_rate, options_.limits.inbound_burst,
                     options_.limits.max_rate_limit_strikes} {
    if constexpr (detail::has_set_listener<Transport>::value) {
        listener_ = std::make_unique<Listener>(*this);
        transport_.set_listener(listener_.get());
    }
    if (options_.backplane) {
        sink_ = std::make_unique<Sink>(*this);
        options_.backplane->attach(sink_.get());
    }
    if (options_.presence.mode == PresenceMode::coalesced) {
        if (!options_.presence.executor)
            throw std::invalid_argument("PresenceMode::coalesced needs PresenceOptions::executor for its timer");
        presence_flush_ = std::make_shared<detail::PeriodicTask>(
            options_.presence.executor, options_.presence.coalesce_interval, [this] { flush_presence(); });
        presence_flush_->start();
    }
}

template <class Transport, class Auth>
ConnectionManager<Transport, Auth>::~ConnectionManager() {
    stop_stale_sweep();
    if (presence_flush_) presence_flush_->stop();
    if (options_.backplane) options_.backplane->attach(nullptr);
    if constexpr (detail::has_set_listener<Transport>::value) transport_.set_listener(nullptr);
}

// --- Lifecycle ------------------------------------------------------------------------------

template <class Transport, class Auth>
AuthResult ConnectionManager<Transport, Auth>::authenticate(const UpgradeRequest& request) const {
    return auth_.authenticate(request);
}

/// Authentication, then one of the user's slots under the per-user connection limit, reserved
/// until the transport reports the upgrade open or abandoned. Counts and reports refusals.
template <class Transport, class Auth>
AuthResult ConnectionManager<Transport, Auth>::admit(const UpgradeRequest& request) {
    AuthResult result = authenticate(request);
    const std::size_t per_user = options_.limits.max_connections_per_user;
    if (result && !registry_.reserve(result.identity().user, per_user)) {
        counters_.refused_user_limit.fetch_add(1, std::memory_order_relaxed);
        result = AuthFailure{429, "too many connections for this user (at most " + std::to_string(per_user) + ")"};
    }
    if (!result) {
        counters_.upgrades_refused.fetch_add(1, std::memory_order_relaxed);
        if (options_.hooks.refused) options_.hooks.refused(request, result.failure());
    }
    return result;
}

/// An accepted upgrade that will never open gives its user's slot back.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::abandon(const Identity& identity) {
    registry_.release(identity.user);
    counters_.upgrades_abandoned.fetch_add(1, std::memory_order_relaxed);
}

template <class Transport, class Auth>
ConnectionId ConnectionManager<Transport, Auth>::register_connection(const UserId& user, handle_type handle) {
    return add(Identity(user), std::move(handle), Registry::Slot::unreserved);
}

template <class Transport, class Auth>
ConnectionId ConnectionManager<Transport, Auth>::register_connection(Identity identity, handle_type handle) {
    return add(std::move(identity), std::move(handle), Registry::Slot::unreserved);
}

template <class Transport, class Auth>
ConnectionId ConnectionManager<Transport, Auth>::add(Identity identity, handle_type handle,
                                                     typename Registry::Slot slot) {
    auto state = std::make_shared<detail::ConnectionState>(std::move(identity), inbound_limit_);
    const ConnectionId id = registry_.add(state, std::move(handle), slot, [this](const UserId& user) {
        presence_changes_.push(PresenceChange{user, true});
    });
    counters_.registered.fetch_add(1, std::memory_order_relaxed);
    if (options_.hooks.connected) options_.hooks.connected(id, state->identity);
    publish_presence();
    return id;
}

template <class Transport, class Auth>
bool ConnectionManager<Transport, Auth>::unregister_connection(ConnectionId connection) {
    const auto removed = registry_.remove(connection, [this](const UserId& user) {
        presence_changes_.push(PresenceChange{user, false});
    });
    if (!removed) return false;
    counters_.unregistered.fetch_add(1, std::memory_order_relaxed);
    presence_subscriptions_.remove_all(connection);
    if (options_.hooks.disconnected) options_.hooks.disconnected(connection, *removed);
    publish_presence();
    return true;
}

template <class Transport, class Auth>
bool ConnectionManager<Transport, Auth>::disconnect(ConnectionId connection, CloseCode code, std::string_view reason) {
    const auto record = registry_.find(connection);
    return record && drop({connection, record->handle}, code, reason);
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::cleanup_stale_connections() {
    std::vector<ConnectionId> stale;
    registry_.for_each_shard([&](const typename Registry::Targets& targets) {
        for (const auto& target : targets)
            if (!transport_.is_open(target.handle)) stale.push_back(target.id);
    });
    return static_cast<std::size_t>(
        std::count_if(stale.begin(), stale.end(), [this](ConnectionId id) { return unregister_connection(id); }));
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::start_stale_sweep(asio::any_io_executor executor) {
    auto sweep = std::make_shared<detail::PeriodicTask>(std::move(executor), options_.stale_sweep_interval,
                                                        [this] { cleanup_stale_connections(); });
    sweep->start();
    std::lock_guard lock(sweep_mutex_);
    if (sweep_) sweep_->stop();
    sweep_ = std::move(sweep);
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::stop_stale_sweep() {
    std::shared_ptr<detail::PeriodicTask> sweep;
    {
        std::lock_guard lock(sweep_mutex_);
        sweep = std::move(sweep_);
    }
    if (sweep) sweep->stop();
}

// --- Presence -------------------------------------------------------------------------------

template <class Transport, class Auth>
bool ConnectionManager<Transport, Auth>::is_user_online(const UserId& user) const {
    return registry_.connection_count(user) > 0;
}

template <class Transport, class Auth>
std::vector<UserId> ConnectionManager<Transport, Auth>::online_users() const {
    return registry_.users();
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::connection_count(const UserId& user) const {
    return registry_.connection_count(user);
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::connection_count() const {
    return registry_.size();
}

template <class Transport, class Auth>
std::vector<ConnectionId> ConnectionManager<Transport, Auth>::connections_of(const UserId& user) const {
    return registry_.connections_of(user);
}

template <class Transport, class Auth>
std::shared_ptr<const Identity> ConnectionManager<Transport, Auth>::identity_of(ConnectionId connection) const {
    const auto record = registry_.find(connection);
    if (!record) return nullptr;
    return std::shared_ptr<const Identity>(record->state, &record->state->identity);
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::queued_bytes(ConnectionId connection) const {
    const auto record = registry_.find(connection);
    return record ? transport_.queued_bytes(record->handle) : 0;
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::watch_presence(ConnectionId watcher, const std::vector<UserId>& users) {
    if (!registry_.find(watcher)) return 0;
    if (presence_subscriptions_.size(watcher) + users.size() > options_.presence.max_watched_per_connection)
        throw ProtocolError("too_many_watched", "a connection may watch at most " +
                                                    std::to_string(options_.presence.max_watched_per_connection) +
                                                    " users");
    presence_subscriptions_.add(watcher, users);
    if (!registry_.find(watcher)) { // it left meanwhile: do not keep its subscriptions
        presence_subscriptions_.remove_all(watcher);
        return 0;
    }
    std::size_t online = 0;
    for (const UserId& user : users)
        if (is_user_online(user)) online += send_to_connection(watcher, UserOnline{user}) > 0 ? 1 : 0;
    return online;
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::unwatch_presence(ConnectionId watcher, const std::vector<UserId>& users) {
    presence_subscriptions_.remove(watcher, users);
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::flush_presence() {
    auto [joins, leaves] = pending_presence_.take();
    if (joins.empty() && leaves.empty()) return;
    const Frame frame = Event(PresenceDiff{std::move(joins), std::move(leaves)}).to_frame();
    deliver_to_all_locally(frame);
    if (options_.backplane) options_.backplane->publish_to_all(frame);
}

/// Delivers queued presence changes in order. Whoever finds the queue idle delivers them all.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::publish_presence() {
    presence_changes_.drain([this](const PresenceChange& change) { deliver_presence(change); });
}

/// While the transport shuts down, every connection is closing: presence would only cost
/// N^2 failed sends. Other nodes still hear of it through the backplane.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::deliver_presence(const PresenceChange& change) {
    const bool deliver_locally = !shutting_down_.load(std::memory_order_relaxed);
    if (deliver_locally && options_.presence.mode == PresenceMode::coalesced) {
        pending_presence_.record(change.user, change.online);
        return;
    }
    if (deliver_locally && options_.presence.mode == PresenceMode::scoped) {
        deliver_scoped_presence(change);
        return;
    }
    const Frame frame = presence_frame(change);
    if (deliver_locally) deliver_to_all_locally(frame);
    if (options_.backplane) options_.backplane->publish_to_all(frame);
}

/// To the related users' connections and the subscribed connections, each connection once.
/// Serializes nothing when nobody watches.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::deliver_scoped_presence(const PresenceChange& change) {
    const std::vector<UserId> related =
        options_.presence.watchers ? options_.presence.watchers(change.user) : std::vector<UserId>{};
    std::vector<ConnectionId> watchers = presence_subscriptions_.watchers_of(change.user);
    for (const UserId& watcher : related) {
        for (ConnectionId id : registry_.connections_of(watcher)) watchers.push_back(id);
    }
    const bool publish = options_.backplane && !related.empty();
    if (watchers.empty() && !publish) return;
    const Frame frame = presence_frame(change);
    deliver(registered_targets(std::move(watchers)), frame);
    if (publish) options_.backplane->publish_to_users(related, frame);
}

template <class Transport, class Auth>
Frame ConnectionManager<Transport, Auth>::presence_frame(const PresenceChange& change) {
    return (change.online ? Event(UserOnline{change.user}) : Event(UserOffline{change.user})).to_frame();
}

// --- Delivery -------------------------------------------------------------------------------

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::send_to_connection(ConnectionId connection, const Event& event) {
    return send_to_connections({connection}, event);
}

/// Serializes nothing when none of them is registered (a sender's other devices, often none).
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::send_to_connections(const std::vector<ConnectionId>& connections,
                                                                    const Event& event) {
    const typename Registry::Targets targets = registered_targets(connections);
    return targets.empty() ? 0 : deliver(targets, event.to_frame());
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
std::size_t ConnectionManager<Transport, Auth>::send_to_user(const UserId& user, const Event& event) {
    return send_to_users({user}, event);
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::send_to_users(const std::vector<UserId>& users, const Event& event) {
    const Frame frame = event.to_frame();
    const std::size_t reached = deliver_to_users_locally(users, frame);
    if (options_.backplane) options_.backplane->publish_to_users(users, frame);
    return reached;
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::broadcast(const Event& event) {
    const Frame frame = event.to_frame();
    const std::size_t reached = deliver_to_all_locally(frame);
    if (options_.backplane) options_.backplane->publish_to_all(frame);
    return reached;
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::deliver_to_users_locally(const std::vector<UserId>& users,
                                                                         const Frame& frame) {
    typename Registry::Targets targets;
    if (users.size() == 1) { // send_to_user: nothing to deduplicate
        registry_.collect_user(users.front(), targets);
        return deliver(targets, frame);
    }
    std::vector<UserId> unique_users = users;
    std::sort(unique_users.begin(), unique_users.end());
    unique_users.erase(std::unique(unique_users.begin(), unique_users.end()), unique_users.end());
    for (const UserId& user : unique_users) registry_.collect_user(user, targets);
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

/// The frame is prepared once for every shard.
template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::deliver_to_all_locally(const Frame& frame) {
    const auto& payload = payload_of(frame);
    std::size_t reached = 0;
    registry_.for_each_shard([&](const typename Registry::Targets& targets) {
        reached += send_each(targets, payload, frame.durability());
    });
    return reached;
}

template <class Transport, class Auth>
std::size_t ConnectionManager<Transport, Auth>::deliver(const typename Registry::Targets& targets, const Frame& frame) {
    if (targets.empty()) return 0;
    return send_each(targets, payload_of(frame), frame.durability());
}

/// One transport call per target: it checks the backlog and sends. A slow consumer is dealt with
/// by `on_backlogged`; a target whose send fails is closed (1011) and unregistered: it would fail again.
template <class Transport, class Auth>
template <class Payload>
std::size_t ConnectionManager<Transport, Auth>::send_each(const typename Registry::Targets& targets,
                                                          const Payload& payload, Durability durability) {
    const std::size_t max_backlog = backlog_limit(durability);
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
    counters_.delivered.fetch_add(reached, std::memory_order_relaxed);
    return reached;
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

// --- Inbound --------------------------------------------------------------------------------

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::on(std::string type, Handler handler) {
    handlers_[std::move(type)] = std::move(handler);
}

template <class Transport, class Auth>
template <class T, class F>
void ConnectionManager<Transport, Auth>::on(F handler) {
    on(std::string(T::type_name),
       [handler = std::move(handler)](const Inbound& inbound) { handler(inbound, event_cast<T>(inbound.event)); });
}

template <class Transport, class Auth>
bool ConnectionManager<Transport, Auth>::handle_message(ConnectionId connection, std::string_view payload,
                                                        MessageKind kind) {
    const auto record = registry_.find(connection);
    if (!record) return false;
    counters_.inbound.fetch_add(1, std::memory_order_relaxed);
    switch (record->state->inbound.take(inbound_limit_)) {
    case detail::TokenBucket::Verdict::allowed:
        dispatch(connection, record->state->identity, payload, kind);
        break;
    case detail::TokenBucket::Verdict::limited:
        counters_.rate_limited.fetch_add(1, std::memory_order_relaxed);
        reply_error(connection, errc::rate_limited, "too many messages: slow down");
        break;
    case detail::TokenBucket::Verdict::abusive:
        counters_.closed_for_abuse.fetch_add(1, std::memory_order_relaxed);
        disconnect(connection, CloseCode::policy_violation, "message rate limit exceeded");
        break;
    }
    return true;
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::dispatch(ConnectionId connection, const Identity& sender,
                                                  std::string_view payload, MessageKind kind) {
    try {
        if (kind == MessageKind::binary)
            throw ProtocolError(errc::binary_unsupported, "binary frames are not supported; send JSON text");
        const Event event = Event::parse(payload, options_.limits.max_json_depth);
        const auto handler = handlers_.find(event.type());
        if (handler == handlers_.end())
            throw ProtocolError(errc::unknown_type, "unknown event type: " + event.type().substr(0, 64));
        handler->second(Inbound{connection, sender, event});
    } catch (const ProtocolError& error) {
        reply_error(connection, error.code(), error.what());
    } catch (const nlohmann::json::exception& error) {
        reply_error(connection, errc::bad_payload, error.what());
    } catch (const InvalidUserId& error) {
        reply_error(connection, errc::bad_payload, error.what());
    } catch (const std::exception&) {
        reply_error(connection, errc::internal_error, "the server could not handle this message");
    }
}

template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::reply_error(ConnectionId connection, std::string_view code,
                                                     const std::string& message) {
    counters_.inbound_errors.fetch_add(1, std::memory_order_relaxed);
    send_to_connection(connection, Error{std::string(code), message});
}

template <class Transport, class Auth>
ManagerMetrics ConnectionManager<Transport, Auth>::metrics() const {
    constexpr auto relaxed = std::memory_order_relaxed;
    ManagerMetrics metrics;
    metrics.connections = registry_.size();
    metrics.users_online = registry_.user_count();
    metrics.connections_registered = counters_.registered.load(relaxed);
    metrics.connections_unregistered = counters_.unregistered.load(relaxed);
    metrics.upgrades_refused = counters_.upgrades_refused.load(relaxed);
    metrics.upgrades_pending = registry_.reservation_count();
    metrics.upgrades_abandoned = counters_.upgrades_abandoned.load(relaxed);
    metrics.frames_delivered = counters_.delivered.load(relaxed);
    metrics.send_failures = counters_.send_failures.load(relaxed);
    metrics.inbound_messages = counters_.inbound.load(relaxed);
    metrics.inbound_errors = counters_.inbound_errors.load(relaxed);
    metrics.rate_limited = counters_.rate_limited.load(relaxed);
    metrics.closed_for_abuse = counters_.closed_for_abuse.load(relaxed);
    metrics.closed_slow = counters_.closed_slow.load(relaxed);
    metrics.dropped_ephemeral = counters_.dropped_ephemeral.load(relaxed);
    metrics.refused_user_limit = counters_.refused_user_limit.load(relaxed);
    return metrics;
}

} // namespace switchboard
