// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// The transport policy: what `ConnectionManager` needs from the thing that owns sockets.
///
/// A Transport `T` provides, all callable concurrently from any thread:
/// @code
///   typename T::handle_type;                                   // copyable; names one connection
///   bool        T::send(const handle_type&, const Frame&);     // queue one text frame; false if it
///                                                              // could not be queued (closed, failed)
///   void        T::close(const handle_type&, CloseCode, std::string_view reason); // idempotent
///   bool        T::is_open(const handle_type&) const;
///   std::size_t T::queued_bytes(const handle_type&) const;     // accepted but not yet written
/// @endcode
/// Frames sent to one connection from one thread must go out in the order of the calls.
///
/// Optional, detected at compile time:
/// - Framing once for many recipients: `typename T::prepared_type`,
///   `prepared_type T::prepare(const Frame&)` and `bool T::send(const handle_type&, const prepared_type&)`.
///   The manager then prepares each delivery once and sends the prepared value to every recipient.
/// - Checking the backlog and sending in one call, for a `Payload` of `Frame` or `prepared_type`
///   (each detected on its own):
///   `SendStatus T::try_send(const handle_type&, const Payload&, std::size_t max_backlog)`.
///   Past `max_backlog` queued bytes (0: no limit) it queues nothing and returns `backlogged`;
///   otherwise it does what `send` does. The manager calls it once per recipient, so a transport
///   that must look a connection up (lock a handle, find a socket) does it once instead of twice;
///   without it, the manager calls `queued_bytes`, then `send`.
/// - Connection events: `void T::set_listener(TransportListener<handle_type>*)`. The manager
///   installs itself at construction (and removes itself at destruction); the transport then
///   reports upgrades, opens (or abandoned upgrades), messages and closes to it.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include <switchboard/auth.hpp>
#include <switchboard/connection_id.hpp>
#include <switchboard/event.hpp>

namespace switchboard {

/// WebSocket close codes the library uses (RFC 6455 section 7.4).
enum class CloseCode : std::uint16_t {
    normal = 1000,
    going_away = 1001,       ///< server shutting down
    protocol_error = 1002,
    unsupported_data = 1003,
    invalid_payload = 1007,  ///< e.g. invalid UTF-8 in a text frame
    policy_violation = 1008, ///< e.g. credentials expired, sustained abuse
    message_too_big = 1009,
    internal_error = 1011,   ///< e.g. a send failed
    service_restart = 1012,  ///< e.g. the history lost the connection's stream: reconnect and resume
    try_again_later = 1013,  ///< e.g. slow consumer
};

enum class MessageKind { text, binary };

/// What an optional `try_send` did with a frame.
enum class SendStatus {
    sent,       ///< queued, as `send` returning true
    backlogged, ///< not queued: the connection's backlog is past the limit
    failed,     ///< not queued: closed or broken, as `send` returning false
};

/// What a transport reports to the manager that serves it. Called on transport threads;
/// for one connection, calls never overlap and come in the order the events happened.
///
/// An upgrade that `on_upgrade` accepts may hold resources from then on (the manager reserves
/// one of the user's connection slots, so that upgrades arriving together cannot overshoot the
/// limit). The transport must therefore follow every accepted upgrade with exactly one of
/// `on_open` (the reservation becomes the connection) or `on_abandon` (it is released): also
/// when the handshake cannot be written, the client leaves first, or the transport is stopping.
template <class Handle>
class TransportListener {
public:
    /// An HTTP upgrade arrived. Refused: the transport answers with `failure().status`.
    virtual AuthResult on_upgrade(const UpgradeRequest& request) = 0;
    /// The connection of an accepted upgrade is to be registered; `identity` is the one
    /// `on_upgrade` returned. Returns the id the transport passes to the calls below. So that an
    /// event sent once the client has its 101 reaches it, a transport may call this before it
    /// writes the 101 (websocketpp's does); it then holds what is sent to the connection until the
    /// socket is open, and reports `on_close` if the handshake fails after all.
    virtual ConnectionId on_open(const Handle& handle, Identity identity) = 0;
    /// An accepted upgrade will never open: release what `on_upgrade` reserved for `identity`.
    virtual void on_abandon(const Identity& identity) = 0;
    virtual void on_message(ConnectionId connection, std::string_view payload, MessageKind kind) = 0;
    /// The connection is closed, whoever closed it. Called once per connection `on_open` reported.
    virtual void on_close(ConnectionId connection) = 0;
    /// The transport is shutting down and about to close every connection: what the listener
    /// would tell the others about each close (presence) is moot.
    virtual void on_shutdown() = 0;

protected:
    ~TransportListener() = default;
};

namespace detail {

template <class T, class = void>
struct has_handle_type : std::false_type {};
template <class T>
struct has_handle_type<T, std::void_t<typename T::handle_type>> : std::true_type {};

template <class T, class Payload, class = void>
struct has_send : std::false_type {};
template <class T, class Payload>
struct has_send<T, Payload,
                std::enable_if_t<std::is_convertible_v<
                    decltype(std::declval<T&>().send(std::declval<const typename T::handle_type&>(),
                                                     std::declval<const Payload&>())),
                    bool>>> : std::true_type {};

template <class T, class = void>
struct has_close : std::false_type {};
template <class T>
struct has_close<T, std::void_t<decltype(std::declval<T&>().close(
                        std::declval<const typename T::handle_type&>(), CloseCode::normal, std::string_view{}))>>
    : std::true_type {};

template <class T, class = void>
struct has_is_open : std::false_type {};
template <class T>
struct has_is_open<T, std::enable_if_t<std::is_convertible_v<
                          decltype(std::declval<const T&>().is_open(std::declval<const typename T::handle_type&>())),
                          bool>>> : std::true_type {};

template <class T, class = void>
struct has_queued_bytes : std::false_type {};
template <class T>
struct has_queued_bytes<
    T, std::enable_if_t<std::is_convertible_v<decltype(std::declval<const T&>().queued_bytes(
                                                  std::declval<const typename T::handle_type&>())),
                                              std::size_t>>> : std::true_type {};

template <class T, class = void>
struct has_prepare : std::false_type {};
template <class T>
struct has_prepare<T, std::enable_if_t<std::is_same_v<decltype(std::declval<T&>().prepare(std::declval<const Frame&>())),
                                                      typename T::prepared_type>>>
    : has_send<T, typename T::prepared_type> {};

template <class T, class Payload, class = void>
struct has_try_send : std::false_type {};
template <class T, class Payload>
struct has_try_send<T, Payload,
                    std::enable_if_t<std::is_same_v<
                        decltype(std::declval<T&>().try_send(std::declval<const typename T::handle_type&>(),
                                                             std::declval<const Payload&>(), std::size_t{})),
                        SendStatus>>> : std::true_type {};

/// Sends unless the backlog is past `max_backlog` (0: no limit): in one call where the transport
/// has `try_send` for this payload, else with `queued_bytes` and `send`.
template <class T, class Payload>
SendStatus try_send(T& transport, const typename T::handle_type& handle, const Payload& payload,
                    std::size_t max_backlog) {
    if constexpr (has_try_send<T, Payload>::value) {
        return transport.try_send(handle, payload, max_backlog);
    } else {
        if (max_backlog != 0 && transport.queued_bytes(handle) > max_backlog) return SendStatus::backlogged;
        return transport.send(handle, payload) ? SendStatus::sent : SendStatus::failed;
    }
}

template <class T, class = void>
struct has_set_listener : std::false_type {};
template <class T>
struct has_set_listener<T, std::void_t<decltype(std::declval<T&>().set_listener(
                               static_cast<TransportListener<typename T::handle_type>*>(nullptr)))>>
    : std::true_type {};

/// Checks one requirement at a time so that the first missing one is the error a user reads.
template <class T>
constexpr bool check_transport() {
    static_assert(has_handle_type<T>::value, "Transport policy lacks `using handle_type = ...;` (see switchboard/transport.hpp)");
    if constexpr (has_handle_type<T>::value) {
        static_assert(std::is_copy_constructible_v<typename T::handle_type>, "Transport::handle_type must be copyable");
        static_assert(has_send<T, Frame>::value, "Transport policy lacks `bool send(const handle_type&, const Frame&)`");
        static_assert(has_close<T>::value, "Transport policy lacks `void close(const handle_type&, CloseCode, std::string_view)`");
        static_assert(has_is_open<T>::value, "Transport policy lacks `bool is_open(const handle_type&) const`");
        static_assert(has_queued_bytes<T>::value, "Transport policy lacks `std::size_t queued_bytes(const handle_type&) const`");
    }
    return true;
}

} // namespace detail

/// True when `T` meets every required operation of the transport policy.
template <class T>
inline constexpr bool is_transport_v = [] {
    if constexpr (detail::has_handle_type<T>::value)
        return detail::has_send<T, Frame>::value && detail::has_close<T>::value && detail::has_is_open<T>::value &&
               detail::has_queued_bytes<T>::value;
    else
        return false;
}();

} // namespace switchboard
