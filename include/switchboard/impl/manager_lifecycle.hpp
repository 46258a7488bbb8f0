// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// ConnectionManager: the adapters the transport and the backplane call, construction, and the
// connection lifecycle (register, unregister, stale sweep).

#include <algorithm>
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
        received();
        manager_.deliver_to_users_locally(users, frame, ConnectionId{});
    }
    void deliver_to_all(const Frame& frame) override {
        received();
        manager_.deliver_to_all_locally(frame);
    }
    void deliver_from_stream(const UserId& user, const StreamPosition& position,
                             std::string_view event_text) override {
        received();
        manager_.receive_stream_event(user, position, event_text);
    }
    void resubscribed(const std::vector<UserId>& users) override { manager_.catch_up_streams(users); }
    /// Not counted in `backplane_received`, which counts the frames other nodes published.
    void deliver_presence(const UserId& user, bool online) override {
        manager_.announce_presence({user, online}, false);
    }

private:
    void received() { manager_.counters_.backplane_received.fetch_add(1, std::memory_order_relaxed); }

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
    if (options_.history) streams_ = std::make_unique<StreamQueues>();
    if (options_.history && options_.history->publishes_appends()) sequencers_ = std::make_unique<StreamSequencers>();
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
    lifeline_.end(); // what the store answers from now on is dropped
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

/// Authentication, then (history on) the `resume` parameter, then one of the user's slots under
/// the per-user connection limit, reserved until the transport reports the upgrade open or
/// abandoned. Counts and reports refusals.
template <class Transport, class Auth>
AuthResult ConnectionManager<Transport, Auth>::admit(const UpgradeRequest& request) {
    const HistogramTimer timed(distributions_.upgrade_duration);
    AuthResult result = authenticate(request);
    if (result && options_.history) {
        ResumeParameter resume = parse_resume(request.query);
        Identity identity = result.identity();
        identity.resume = resume.position;
        result = resume.failure ? AuthResult(std::move(*resume.failure)) : AuthResult(std::move(identity));
    }
    if (!result) counters_.refused_by_auth.fetch_add(1, std::memory_order_relaxed);
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
    const auto online = [this](const UserId& user) { presence_changes_.push(PresenceChange{user, true}); };
    const auto start = options_.history ? Registry::Start::later : Registry::Start::at_once;
    const ConnectionId id = registry_.add(state, std::move(handle), slot, online, start);
    counters_.registered.fetch_add(1, std::memory_order_relaxed);
    if (options_.hooks.connected) options_.hooks.connected(id, state->identity);
    if (options_.history) start_stream(id, state->identity);
    publish_presence();
    return id;
}

template <class Transport, class Auth>
bool ConnectionManager<Transport, Auth>::unregister_connection(ConnectionId connection) {
    std::optional<UserId> last_of; // the user whose last connection here this was
    const auto removed = registry_.remove(connection, [&](const UserId& user) {
        presence_changes_.push(PresenceChange{user, false});
        last_of = user;
    });
    if (!removed) return false;
    if (last_of && sequencers_) leave_stream(*last_of);
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

} // namespace switchboard
