// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// ConnectionManager: presence queries, scoped watches, and the delivery of presence changes.

namespace switchboard {

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
bool ConnectionManager<Transport, Auth>::is_user_online_in_cluster(const UserId& user) const {
    if (options_.backplane && options_.backplane->decides_presence())
        return options_.backplane->is_online_in_cluster(user);
    return is_user_online(user);
}

template <class Transport, class Auth>
std::vector<UserId> ConnectionManager<Transport, Auth>::online_users_in_cluster() const {
    if (options_.backplane && options_.backplane->decides_presence()) return options_.backplane->online_in_cluster();
    return online_users();
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
    if (options_.backplane && !options_.backplane->decides_presence()) publish_to_all(frame);
}

/// Delivers queued presence changes in order. Whoever finds the queue idle delivers them all.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::publish_presence() {
    presence_changes_.drain([this](const PresenceChange& change) { deliver_presence(change); });
}

/// The backplane hears of each transition here, in order, to follow this node's users; when it
/// decides presence for the cluster, it alone says what to announce (`Sink::deliver_presence`).
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::deliver_presence(const PresenceChange& change) {
    if (options_.backplane) {
        if (change.online) options_.backplane->user_joined(change.user);
        else options_.backplane->user_left(change.user);
        if (options_.backplane->decides_presence()) return;
    }
    announce_presence(change, options_.backplane != nullptr);
}

/// To local connections as the presence mode says, and to the other nodes too when `publish`.
/// While the transport shuts down, every connection is closing: local presence would only cost
/// N^2 failed sends.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::announce_presence(const PresenceChange& change, bool publish) {
    const bool deliver_locally = !shutting_down_.load(std::memory_order_relaxed);
    if (deliver_locally && options_.presence.mode == PresenceMode::coalesced) {
        pending_presence_.record(change.user, change.online);
        return;
    }
    if (deliver_locally && options_.presence.mode == PresenceMode::scoped) {
        deliver_scoped_presence(change, publish);
        return;
    }
    const Frame frame = presence_frame(change);
    if (deliver_locally) deliver_to_all_locally(frame);
    if (publish) publish_to_all(frame);
}

/// To the related users' connections and the subscribed connections, each connection once.
/// Serializes nothing when nobody watches.
template <class Transport, class Auth>
void ConnectionManager<Transport, Auth>::deliver_scoped_presence(const PresenceChange& change, bool publish_related) {
    const std::vector<UserId> related =
        options_.presence.watchers ? options_.presence.watchers(change.user) : std::vector<UserId>{};
    std::vector<ConnectionId> watchers = presence_subscriptions_.watchers_of(change.user);
    for (const UserId& watcher : related) {
        for (ConnectionId id : registry_.connections_of(watcher)) watchers.push_back(id);
    }
    const bool publish = publish_related && !related.empty();
    if (watchers.empty() && !publish) return;
    const Frame frame = presence_frame(change);
    deliver_to_connections(registered_targets(std::move(watchers)), frame);
    if (publish) publish_to_users(related, frame);
}

template <class Transport, class Auth>
Frame ConnectionManager<Transport, Auth>::presence_frame(const PresenceChange& change) {
    return (change.online ? Event(UserOnline{change.user}) : Event(UserOffline{change.user})).to_frame();
}

} // namespace switchboard
