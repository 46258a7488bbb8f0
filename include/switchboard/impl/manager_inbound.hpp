// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// ConnectionManager: inbound dispatch to handlers, error replies, and metrics.

#include <exception>

namespace switchboard {

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
    counters_.bytes_in.fetch_add(payload.size(), std::memory_order_relaxed);
    distributions_.inbound_frame_size.observe(payload.size());
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
        if (event.type() == "Ping") { // the heartbeat browsers need: they cannot see WebSocket pings
            send_to_connection(connection, Event("Pong", event.data(), Durability::ephemeral));
            return;
        }
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
    metrics.refused_by_auth = counters_.refused_by_auth.load(relaxed);
    metrics.refused_user_limit = counters_.refused_user_limit.load(relaxed);
    metrics.resumes_complete = counters_.resumes_complete.load(relaxed);
    metrics.resumes_unavailable = counters_.resumes_unavailable.load(relaxed);
    metrics.resumes_beyond_replay = counters_.resumes_beyond_replay.load(relaxed);
    metrics.events_replayed = counters_.events_replayed.load(relaxed);
    metrics.closed_stream_reset = counters_.closed_stream_reset.load(relaxed);
    metrics.history_append_failures = counters_.history_append_failures.load(relaxed);
    metrics.history_refused_sends = counters_.history_refused_sends.load(relaxed);
    metrics.bytes_in = counters_.bytes_in.load(relaxed);
    metrics.bytes_out = counters_.bytes_out.load(relaxed);
    metrics.backplane_published = counters_.backplane_published.load(relaxed);
    metrics.backplane_received = counters_.backplane_received.load(relaxed);
    metrics.stream_catch_ups = counters_.stream_catch_ups.load(relaxed);
    metrics.send_duration = distributions_.send_duration.snapshot();
    metrics.broadcast_duration = distributions_.broadcast_duration.snapshot();
    metrics.upgrade_duration = distributions_.upgrade_duration.snapshot();
    metrics.outbound_frame_size = distributions_.outbound_frame_size.snapshot();
    metrics.inbound_frame_size = distributions_.inbound_frame_size.snapshot();
    metrics.with_history = options_.history != nullptr;
    if (options_.history) metrics.history = options_.history->metrics();
    metrics.with_backplane = options_.backplane != nullptr;
    if (options_.backplane) metrics.backplane = options_.backplane->metrics();
    return metrics;
}

} // namespace switchboard
