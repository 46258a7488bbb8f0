// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `redis::Connection`: one connection to one Redis server over hiredis' async API, driven by
/// Asio (a `posix::stream_descriptor` on hiredis' socket; hiredis keeps owning the fd), with what
/// hiredis 0.14 lacks: a connect timeout, command timeouts, reconnection with exponential backoff
/// and jitter, and a liveness check that also works on a subscribed connection.
///
/// - Commands are pipelined: each is written at once and replies come back in order. Arguments are
///   binary-safe (sent with their lengths). A command sent while no connection is up fails at once
///   with `Errc::not_connected`: nothing is queued while Redis is away, so memory stays bounded.
/// - A command without a reply within `command_timeout` fails with `Errc::timed_out`; the
///   connection is then torn down (the replies still owed would be out of step) and every other
///   pending command fails with `Errc::connection_lost`. The same happens when Redis closes it.
/// - Reconnection: a new hiredis context each time, after `backoff_initial` doubled per failed
///   attempt up to `backoff_max`, each delay drawn uniformly in [delay/2, delay] so that many
///   nodes do not come back in step. `on_connected` runs on each connection made (the place to
///   subscribe again and reload scripts: a new connection starts with none), `on_disconnected`
///   when one that was up ends, with the reason.
/// - Subscriptions: `subscribe` / `unsubscribe`; every message goes to `on_message`. hiredis 0.14
///   rejects other commands on a subscribed connection (and misroutes `PING` there), so keep one
///   connection for subscriptions and another for commands.
/// - Liveness: with `liveness_interval` set, `liveness_probe` is called every interval; if nothing
///   at all came from Redis (reply or message) since the previous probe, the connection is torn down
///   with `Errc::liveness_lost` and made again. On a command connection the probe can send `PING`; on
///   a subscriber it should make something arrive there, e.g. publish (from the command connection)
///   to a channel this one is subscribed to.
///
/// Threads: the connection lives on `executor` (one thread, or a strand): every hiredis call and
/// every callback (`on_*`, command callbacks, the probe) runs there. `start`, `command`,
/// `subscribe`, `unsubscribe` and `stop` may be called from any thread: they post to the executor
/// (or run inline when already on it) and never block. Destroy the Connection on the executor's
/// thread, or while its io_context is not running; it stops first. After `stop()` (or destruction)
/// no callback runs: callbacks of commands still pending are dropped. Do not destroy the Connection
/// from inside one of its own callbacks.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <switchboard/redis/errors.hpp>
#include <switchboard/redis/reply.hpp>

namespace switchboard::redis {

/// Called once per command: an error code (then the reply is nil), or the reply (which may be a
/// Redis error reply).
using ReplyHandler = std::function<void(std::error_code, Reply)>;

struct ConnectionOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{2000};
    std::chrono::milliseconds backoff_initial{50};
    std::chrono::milliseconds backoff_max{5000};
    std::chrono::milliseconds liveness_interval{0}; ///< 0: no liveness check

    std::function<void()> on_connected;
    std::function<void(std::error_code)> on_disconnected;
    /// An attempt to connect failed (`Errc::connect_failed`) or a connection ended (the reason):
    /// the next attempt will be made after `delay`. For logs and metrics.
    std::function<void(std::error_code why, std::chrono::milliseconds delay)> on_backoff;
    /// A published message on a subscribed channel.
    std::function<void(std::string_view channel, std::string_view payload)> on_message;
    /// Redis confirmed a subscription to `channel` (its `SUBSCRIBE` reply, one per channel, in
    /// the order asked): from then on what is published there reaches this connection.
    std::function<void(std::string_view channel)> on_subscribed;
    /// Makes Redis send something to this connection (see the file comment).
    std::function<void()> liveness_probe;
};

class Connection {
public:
    Connection(asio::any_io_executor executor, ConnectionOptions options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Connects, and keeps connecting again whenever the connection ends, until `stop()`.
    void start();
    /// Closes the connection and stops reconnecting; pending callbacks are dropped.
    void stop();

    void command(std::vector<std::string> args, ReplyHandler handler);
    void subscribe(std::vector<std::string> channels);
    void unsubscribe(std::vector<std::string> channels);

private:
    class Impl;
    /// Runs `call(Impl&)` on the executor, unless the connection is gone by then.
    template <typename Call>
    void on_executor(Call call);

    std::shared_ptr<Impl> impl_;
};

} // namespace switchboard::redis
