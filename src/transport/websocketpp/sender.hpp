// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport: the send path. A send from any thread, counted against
// the connection's backlog (backlog.hpp); held in order while the connection is registered but
// not yet open; posted to the I/O thread where websocketpp may not be called. The writes
// themselves are batched below, in `detail::BatchingConnection`.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

#include <websocketpp/close.hpp>
#include <websocketpp/connection.hpp>

#include <switchboard/event.hpp>
#include <switchboard/transport.hpp>

#include "backlog.hpp"
#include "config.hpp"
#include "grown_write_storage.hpp"
#include "websocketpp_internals.hpp"

namespace switchboard::websocketpp_transport {

/// The send path of one endpoint, which owns it. Each function says where it runs; those without
/// a word run on any thread.
template <class ConfigType>
class Sender {
    using Connection = websocketpp::connection<ConfigType>;
    using ConnectionPtr = std::shared_ptr<Connection>;
    using Message = typename ConfigType::message_type;

public:
    /// Bytes sent between two readings of websocketpp's backlog figure.
    static constexpr std::size_t backlog_sample_step = 64 * 1024;

    explicit Sender(Strands<ConfigType::enable_multithreading> strands) : strands_(strands) {}

    /// Sends `payload` (a `Frame` or a prepared message) unless the backlog is over `max_backlog`
    /// (0: no limit), counted, and a fresh reading asked of the strand every so often. Where
    /// websocketpp may not be called (single-threaded, off the I/O thread), the send is posted to
    /// the I/O thread and counts as sent if the connection is open: one that closes meanwhile drops
    /// it, as it drops what it has queued. A send on the I/O thread is posted too while earlier
    /// posted sends to that connection wait: it must not overtake them.
    template <class Payload>
    SendStatus send(const ConnectionPtr& con, std::size_t bytes, std::size_t max_backlog, const Payload& payload) {
        const bool on_io_thread = strands_.may_call_websocketpp();
        // Posted to a stopped context (after a shutdown), a send would never run.
        if (!on_io_thread && (!con->open || strands_.io().stopped())) return SendStatus::failed;
        Backlog& backlog = con->backlog;
        bool post = !on_io_thread;
        bool sample_due = false;
        {
            std::lock_guard lock(backlog.lock);
            if (max_backlog != 0 && backlog.estimate() > max_backlog) return SendStatus::backlogged;
            post = post || backlog.posted != 0;
            if (post) {
                ++backlog.posted;
            } else if (backlog.handshaking) {
                hold(*con, payload, bytes);
            } else {
                if (send_now(*con, payload)) return SendStatus::failed;
                backlog.applied += bytes;
            }
            backlog.accepted += bytes;
            sample_due = !backlog.sample_pending && backlog.accepted - backlog.applied_at_sample >= backlog_sample_step;
            backlog.sample_pending |= sample_due;
        }
        if (post) asio::post(strands_.io(), [con, payload, bytes] { send_posted(*con, payload, bytes); });
        if (sample_due) strands_.post(con, [con] { sample_backlog(*con); });
        return SendStatus::sent;
    }

    /// websocketpp's close writes strand-owned state (timers, the connection state) without its lock:
    /// it runs on the connection's strand. Frames sent before this call are queued ahead of the close.
    /// The close is posted before sends see the connection closed: a send that then fails makes its
    /// caller close too (the manager, with 1011), and that close must queue behind this one.
    void close(const ConnectionPtr& con, CloseCode code, std::string_view reason) {
        strands_.post(con, [con, code, reason = std::string(reason)] { close_now(*con, code, reason); });
        con->open = false;
    }

    static std::size_t queued_bytes(const Connection& con) {
        std::lock_guard lock(con.backlog.lock);
        return con.backlog.estimate();
    }

    /// Registered before websocketpp writes the 101: what is sent from now on is held until
    /// `release_held`.
    static void hold_until_open(Connection& con) {
        std::lock_guard lock(con.backlog.lock);
        con.backlog.handshaking = true;
    }

    /// On the strand, once websocketpp has opened the connection: what was held goes to it first,
    /// under the lock that later sends take, so none of them overtakes; then a close asked for.
    static void release_held(Connection& con) {
        std::unique_ptr<HeldUntilOpen> held;
        {
            std::lock_guard lock(con.backlog.lock);
            con.backlog.handshaking = false;
            held = std::move(con.held);
            if (!held) return;
            for (const auto& payload : held->payloads)
                std::visit([&con](const auto& each) { send_now(con, each); }, payload);
            con.backlog.applied += held->bytes;
        }
        if (held->close) close_now(con, held->close->first, held->close->second);
    }

    /// On the strand: websocketpp's figure, and how much had reached it when it was read.
    static void sample_backlog(Connection& con) {
        Backlog& backlog = con.backlog;
        std::lock_guard lock(backlog.lock);
        backlog.applied_at_sample = backlog.applied;
        backlog.at_sample = con.get_buffered_amount();
        backlog.sample_pending = false;
    }

    /// Where the endpoint's I/O threads count the writes that gave back grown storage.
    websocketpp_internals::GrownWriteStorage& grown_write_storage() { return grown_write_storage_; }

    /// On the ticker's strand: whether writes gave back grown storage since the last call.
    bool released_grown_write_storage() { return grown_write_storage_.take() > 0; }

private:
    /// On the I/O thread, a send that was posted. If it fails, the connection is closing, and its
    /// close is reported as any other.
    template <class Payload>
    static void send_posted(Connection& con, const Payload& payload, std::size_t bytes) {
        {
            std::lock_guard lock(con.backlog.lock);
            --con.backlog.posted;
            if (con.backlog.handshaking) return hold(con, payload, bytes);
        }
        send_now(con, payload);
        std::lock_guard lock(con.backlog.lock);
        con.backlog.applied += bytes;
    }

    /// Under the backlog lock, while the connection is handshaking.
    template <class Payload>
    static void hold(ConnectionState& state, const Payload& payload, std::size_t bytes) {
        if (!state.held) state.held = std::make_unique<HeldUntilOpen>();
        state.held->payloads.emplace_back(payload);
        state.held->bytes += bytes;
    }

    /// On the strand. websocketpp ignores a close before the connection is open: it is held till then.
    static void close_now(Connection& con, CloseCode code, const std::string& reason) {
        {
            std::lock_guard lock(con.backlog.lock);
            if (con.backlog.handshaking) {
                if (!con.held) con.held = std::make_unique<HeldUntilOpen>();
                con.held->close.emplace(code, reason);
                return;
            }
        }
        std::error_code failed; // already closing: the close under way has its own code
        con.close(static_cast<websocketpp::close::status::value>(code), reason, failed);
        if (!failed) con.sent_close_code = static_cast<std::uint16_t>(code);
    }

    /// websocketpp's send; a nonzero error if it failed.
    static std::error_code send_now(Connection& to, const Frame& frame) {
        return to.send(frame.text().data(), frame.size(), websocketpp::frame::opcode::text);
    }
    /// The cast's copy is the one websocketpp's send takes by value: one reference-count update, not two.
    static std::error_code send_now(Connection& to, const std::shared_ptr<void>& message) {
        return to.send(std::static_pointer_cast<Message>(message));
    }

    const Strands<ConfigType::enable_multithreading> strands_;
    websocketpp_internals::GrownWriteStorage grown_write_storage_;
};

} // namespace switchboard::websocketpp_transport
