// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: what it keeps in each websocketpp connection.

#include <atomic>
#include <cstdint>
#include <memory>

#include <switchboard/connection_id.hpp>

#include "admission.hpp"
#include "backlog.hpp"
#include "timers.hpp"

namespace switchboard::websocketpp_transport {

/// Per-connection state, stored inside each websocketpp connection (its `connection_base`), a
/// part per concern, packed (every idle connection pays for it). Plain members belong to the
/// connection's strand; `open` and `backlog` are shared with sending threads.
struct ConnectionState {
    /// The send path's: while `backlog.handshaking`, and under `backlog.lock`, what was sent and
    /// asked meanwhile. Not inline: open connections would pay for it.
    std::unique_ptr<HeldUntilOpen> held;
    Admission::Slot slot = nullptr; ///< from validation until gone
    ConnectionId id;                ///< once the listener registered it
    std::uint32_t entry = no_entry; ///< in the endpoint's `DueTable`, while open
    bool reported_closed = false;
    bool write_waiting = false;        ///< single-threaded: its write waits in the I/O thread's round
    /// permessage-deflate's window for what is sent to it; 0: not negotiated. Set in the validate
    /// handler, before the connection is registered: sending threads read it.
    std::uint8_t deflate_window_bits = 0;
    /// The close code this server sent, on the connection's strand; 0: none (yet). websocketpp's
    /// own is 1006 once the peer drops the socket before echoing, even though ours went out.
    std::uint16_t sent_close_code = 0;
    std::atomic<bool> open{false};
    Heartbeat heartbeat;
    mutable Backlog backlog;
};

} // namespace switchboard::websocketpp_transport
