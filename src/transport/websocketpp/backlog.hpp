// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: what the send path (sender.hpp) keeps per connection.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <switchboard/detail/spin_lock.hpp>
#include <switchboard/event.hpp>
#include <switchboard/transport.hpp>

namespace switchboard::websocketpp_transport {

/// What a connection's backlog is believed to be. websocketpp's own figure is written by senders
/// (under a lock of websocketpp's that it does not expose) and by its writes (on the strand), and
/// read without any lock. So it is read on the strand, under `lock`, which every send of ours
/// holds; between readings, the bytes accepted since are added, posted ones included.
struct Backlog {
    detail::SpinLock lock;
    // Under `lock`:
    bool sample_pending = false;
    bool handshaking = false;  ///< registered, not yet open in websocketpp: sends are held
    std::uint32_t posted = 0;  ///< sends posted to the I/O thread that have not reached websocketpp
    std::size_t accepted = 0;  ///< bytes ever reported sent
    std::size_t applied = 0;   ///< of those, bytes that reached websocketpp
    std::size_t applied_at_sample = 0;
    std::size_t at_sample = 0; ///< websocketpp's figure, read when `applied` was `applied_at_sample`

    std::size_t estimate() const { return at_sample + accepted - applied_at_sample; }
};

/// What a connection registered before its 101 is sent until websocketpp opens it, in order: the
/// payloads (a `Frame` or a prepared message), then a close, if one was asked for.
struct HeldUntilOpen {
    std::vector<std::variant<Frame, std::shared_ptr<void>>> payloads;
    std::size_t bytes = 0; ///< of the payloads
    std::optional<std::pair<CloseCode, std::string>> close;
};

} // namespace switchboard::websocketpp_transport
