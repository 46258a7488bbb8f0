// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `MockTransport`: an in-memory transport for unit tests of the library and of hosts.
///
/// It records every frame sent to each connection, lets a test play the client (upgrade,
/// send messages, close, vanish) and the network (fail sends, report a backlog, an upgrade
/// whose handshake never completes). Every member
/// is thread-safe. Listener callbacks run synchronously on the calling thread, with no mock
/// lock held, so a test sees their effects as soon as the call returns.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <switchboard/event.hpp>
#include <switchboard/transport.hpp>

namespace switchboard {

class MockTransport {
public:
    /// Names one mock connection; ids are never reused by one mock.
    struct Handle {
        std::uint64_t id = 0;
        friend bool operator==(Handle a, Handle b) noexcept { return a.id == b.id; }
        friend bool operator!=(Handle a, Handle b) noexcept { return a.id != b.id; }
        friend bool operator<(Handle a, Handle b) noexcept { return a.id < b.id; }
    };
    using handle_type = Handle;

    struct CloseRecord {
        CloseCode code;
        std::string reason;
        bool by_server; ///< true when the manager (or host) closed it, false for the client
    };

    /// The outcome of `connect` or `upgrade`: a handle (with `connect`, also its manager-assigned
    /// id), or the refusal.
    struct Upgrade {
        std::optional<Handle> handle;
        ConnectionId connection;
        std::optional<AuthFailure> failure;
        explicit operator bool() const noexcept { return handle.has_value(); }
    };

    // --- Transport policy ------------------------------------------------------------------

    bool send(const Handle& handle, const Frame& frame) {
        return try_send(handle, frame, /*max_backlog=*/0) == SendStatus::sent;
    }

    /// The backlog is the one set with `set_queued_bytes`; checked first, as `queued_bytes` then
    /// `send` would.
    SendStatus try_send(const Handle& handle, const Frame& frame, std::size_t max_backlog) {
        std::lock_guard lock(mutex_);
        Connection* connection = find(handle);
        if (!connection) return SendStatus::failed;
        if (max_backlog != 0 && connection->queued_bytes > max_backlog) return SendStatus::backlogged;
        if (connection->close || connection->failing_sends) return SendStatus::failed;
        connection->frames.push_back(frame);
        ++frames_sent_;
        return SendStatus::sent;
    }

    void close(const Handle& handle, CloseCode code, std::string_view reason) {
        finish(handle, CloseRecord{code, std::string(reason), true});
    }

    bool is_open(const Handle& handle) const {
        std::lock_guard lock(mutex_);
        const Connection* connection = find(handle);
        return connection && !connection->close && !connection->vanished;
    }

    std::size_t queued_bytes(const Handle& handle) const {
        std::lock_guard lock(mutex_);
        const Connection* connection = find(handle);
        return connection ? connection->queued_bytes : 0;
    }

    void set_listener(TransportListener<Handle>* listener) {
        std::lock_guard lock(mutex_);
        listener_ = listener;
    }

    // --- Playing the client and the network ---------------------------------------------------

    /// A new open connection that no listener hears of: for `register_connection` called directly.
    Handle open() {
        std::lock_guard lock(mutex_);
        const Handle handle{++last_id_};
        connections_[handle.id];
        return handle;
    }

    /// A full upgrade through the listener: `upgrade`, then `complete`. Requires a listener.
    Upgrade connect(const UpgradeRequest& request) {
        Upgrade upgraded = upgrade(request);
        if (upgraded) upgraded.connection = complete(*upgraded.handle);
        return upgraded;
    }

    /// The HTTP upgrade alone: the listener authenticates it (and reserves what it needs). An
    /// accepted upgrade is not open yet: it waits for `complete` or `abandon`. Requires a listener.
    Upgrade upgrade(const UpgradeRequest& request) {
        const AuthResult verdict = current_listener()->on_upgrade(request);
        if (!verdict) return Upgrade{std::nullopt, ConnectionId{}, verdict.failure()};
        std::lock_guard lock(mutex_);
        const Handle handle{++last_id_};
        upgrading_.emplace(handle.id, verdict.identity());
        return Upgrade{handle, ConnectionId{}, std::nullopt};
    }

    /// The handshake of an accepted `upgrade` completes: the connection opens and the listener
    /// hears of it. Returns its id; none if `handle` is not an upgrade waiting to complete.
    /// Requires a listener.
    ConnectionId complete(const Handle& handle) {
        std::optional<Identity> identity = take_upgrading(handle);
        if (!identity) return ConnectionId{};
        {
            std::lock_guard lock(mutex_);
            connections_[handle.id];
        }
        const ConnectionId id = current_listener()->on_open(handle, std::move(*identity));
        std::lock_guard lock(mutex_);
        connections_.at(handle.id).id = id;
        return id;
    }

    /// The handshake of an accepted `upgrade` never completes (the client left, the response
    /// could not be written): the listener hears it abandoned. Ignored unless `handle` waits.
    void abandon(const Handle& handle) {
        const std::optional<Identity> identity = take_upgrading(handle);
        TransportListener<Handle>* listener = current_listener();
        if (identity && listener) listener->on_abandon(*identity);
    }

    /// The client sends one message; reported to the listener if the connection is open.
    void receive(const Handle& handle, std::string_view payload, MessageKind kind = MessageKind::text) {
        ConnectionId id;
        TransportListener<Handle>* listener = nullptr;
        {
            std::lock_guard lock(mutex_);
            const Connection* connection = find(handle);
            if (!connection || connection->close || connection->vanished || !connection->id) return;
            id = connection->id;
            listener = listener_;
        }
        if (listener) listener->on_message(id, payload, kind);
    }

    /// The client closes the connection; the listener hears of it.
    void close_by_client(const Handle& handle, CloseCode code = CloseCode::normal, std::string_view reason = {}) {
        finish(handle, CloseRecord{code, std::string(reason), false});
    }

    /// Plays a server shutdown: tells the listener, then closes every connection with 1001 and
    /// abandons every upgrade still waiting to complete.
    void shutdown() {
        if (TransportListener<Handle>* listener = current_listener()) listener->on_shutdown();
        std::vector<Handle> open_handles;
        std::vector<Handle> upgrading_handles;
        {
            std::lock_guard lock(mutex_);
            for (const auto& [id, connection] : connections_)
                if (!connection.close) open_handles.push_back(Handle{id});
            for (const auto& upgrading : upgrading_) upgrading_handles.push_back(Handle{upgrading.first});
        }
        for (const Handle& handle : open_handles) close(handle, CloseCode::going_away, "server shutting down");
        for (const Handle& handle : upgrading_handles) abandon(handle);
    }

    /// The connection dies unnoticed (no close frame, no callback): only `is_open` tells.
    void vanish(const Handle& handle) {
        std::lock_guard lock(mutex_);
        if (Connection* connection = find(handle)) connection->vanished = true;
    }

    /// Makes every later send to this connection fail (or succeed again).
    void fail_sends(const Handle& handle, bool failing = true) {
        std::lock_guard lock(mutex_);
        if (Connection* connection = find(handle)) connection->failing_sends = failing;
    }

    void set_queued_bytes(const Handle& handle, std::size_t bytes) {
        std::lock_guard lock(mutex_);
        if (Connection* connection = find(handle)) connection->queued_bytes = bytes;
    }

    // --- Inspection ------------------------------------------------------------------------------

    std::vector<Frame> frames(const Handle& handle) const {
        std::lock_guard lock(mutex_);
        const Connection* connection = find(handle);
        return connection ? connection->frames : std::vector<Frame>{};
    }

    /// The frames sent to this connection, parsed back into events.
    std::vector<Event> events(const Handle& handle) const {
        std::vector<Event> events;
        for (const Frame& frame : frames(handle)) events.push_back(Event::parse(frame.text()));
        return events;
    }

    std::optional<CloseRecord> close_record(const Handle& handle) const {
        std::lock_guard lock(mutex_);
        const Connection* connection = find(handle);
        return connection ? connection->close : std::nullopt;
    }

    /// Frames successfully sent, over all connections.
    std::size_t frames_sent() const {
        std::lock_guard lock(mutex_);
        return frames_sent_;
    }

private:
    struct Connection {
        ConnectionId id; ///< set once the listener accepted it
        std::vector<Frame> frames;
        std::optional<CloseRecord> close;
        bool vanished = false;
        bool failing_sends = false;
        std::size_t queued_bytes = 0;
    };

    Connection* find(const Handle& handle) {
        const auto found = connections_.find(handle.id);
        return found == connections_.end() ? nullptr : &found->second;
    }
    const Connection* find(const Handle& handle) const {
        const auto found = connections_.find(handle.id);
        return found == connections_.end() ? nullptr : &found->second;
    }

    TransportListener<Handle>* current_listener() const {
        std::lock_guard lock(mutex_);
        return listener_;
    }

    /// The identity of an accepted upgrade, which then no longer waits; none if it did not.
    std::optional<Identity> take_upgrading(const Handle& handle) {
        std::lock_guard lock(mutex_);
        const auto found = upgrading_.find(handle.id);
        if (found == upgrading_.end()) return std::nullopt;
        Identity identity = std::move(found->second);
        upgrading_.erase(found);
        return identity;
    }

    /// Closes once; the first close wins, as on a real socket. Reports it to the listener.
    void finish(const Handle& handle, CloseRecord record) {
        ConnectionId id;
        TransportListener<Handle>* listener = nullptr;
        {
            std::lock_guard lock(mutex_);
            Connection* connection = find(handle);
            if (!connection || connection->close) return;
            connection->close = std::move(record);
            id = connection->id;
            listener = listener_;
        }
        if (listener && id) listener->on_close(id);
    }

    mutable std::mutex mutex_;
    TransportListener<Handle>* listener_ = nullptr;
    std::map<std::uint64_t, Connection> connections_;
    std::map<std::uint64_t, Identity> upgrading_; ///< accepted upgrades, neither completed nor abandoned
    std::uint64_t last_id_ = 0;
    std::size_t frames_sent_ = 0;
};

} // namespace switchboard
