// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: what `Endpoint` (endpoint.hpp) does on its ticker, the
// heartbeat duties of its open connections (pings, pong timeouts, credential expiry), and how it
// stops listening and ticking at shutdown.
//
// Threads: `post_due` runs on the ticker's strand; `serve` on the connection's strand, where
// its `ConnectionState` may be touched. The `DueTable` guards itself.

#include <chrono>
#include <future>
#include <memory>
#include <string_view>
#include <system_error>

#include <asio/post.hpp>
#include <websocketpp/connection.hpp>

#include <switchboard/transport.hpp>

#include "config.hpp"
#include "counters.hpp"
#include "sender.hpp"
#include "timers.hpp"

namespace switchboard::websocketpp_transport {

/// `Drop(con, code, reason)`: reports the connection closed now and closes it.
template <class ConfigType, class Drop>
class HeartbeatDuties {
    using Connection = websocketpp::connection<ConfigType>;
    using ConnectionPtr = std::shared_ptr<Connection>;
    static constexpr bool Multithreaded = ConfigType::enable_multithreading;

public:
    HeartbeatDuties(HeartbeatPeriods periods, DueTable& due_table, const Strands<Multithreaded>& strands,
                    ConnectionCounters& counters, Drop drop)
        : periods_(periods), due_table_(due_table), strands_(strands), counters_(counters), drop_(drop) {}

    const HeartbeatPeriods& periods() const { return periods_; }

    /// On the ticker's strand: posts `serve` to the strand of every connection that is due.
    void post_due() {
        for (const auto& connection : due_table_.take_due(Clock::now()))
            if (const ConnectionPtr con = connection_of<Connection>(connection))
                strands_.post(con, [this, con] { serve(con); });
    }

    /// On the connection's strand: whatever is due, in order of gravity, then the next due time.
    void serve(const ConnectionPtr& con) {
        if (!con->open || con->entry == no_entry) return;
        const Clock::time_point now = Clock::now();
        Heartbeat& heartbeat = con->heartbeat;
        switch (heartbeat.duty(now)) {
        case Heartbeat::Duty::expire:
            ConnectionCounters::count(counters_.credential_expiries);
            return drop_(con, CloseCode::policy_violation, "credentials expired");
        case Heartbeat::Duty::pong_timeout:
            ConnectionCounters::count(counters_.pong_timeouts);
            return drop_(con, CloseCode::going_away, "pong timeout");
        case Heartbeat::Duty::ping: ping(*con, heartbeat, now); break;
        case Heartbeat::Duty::none: break;
        }
        due_table_.set_due(con->entry, heartbeat.due());
    }

private:
    void ping(Connection& con, Heartbeat& heartbeat, Clock::time_point now) {
        Sender<ConfigType>::sample_backlog(con);
        std::error_code error;
        if (!heartbeat.awaiting_pong) con.ping("", error);
        heartbeat.pinged(now, !error, periods_);
    }

    const HeartbeatPeriods periods_;
    DueTable& due_table_;
    const Strands<Multithreaded>& strands_;
    ConnectionCounters& counters_;
    const Drop drop_;
};

/// Stops accepting and the endpoint's ticker. The acceptor is not thread-safe, and websocketpp
/// re-arms it from whichever thread accepted last. With the endpoint's own threads (joined by now)
/// that is done here; on a host's io_context, from an I/O thread (race-free when the host runs that
/// context on one thread), waited for at most `deadline`.
template <class Server>
void stop_listening(Server& server, Ticker& ticker, bool owns_io, std::chrono::milliseconds deadline) {
    std::error_code ignored;
    if (owns_io) {
        server.stop_listening(ignored);
        ticker.stop();
        return;
    }
    auto stopped = std::make_shared<std::promise<void>>();
    asio::post(ticker.strand(), [&server, ticker, stopped]() mutable {
        ticker.stop();
        std::error_code ignored_too;
        server.stop_listening(ignored_too);
        stopped->set_value();
    });
    stopped->get_future().wait_for(deadline);
}

} // namespace switchboard::websocketpp_transport
