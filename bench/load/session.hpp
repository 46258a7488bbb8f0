// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// One benchmark session: N users with their tokens, their connections, and what they received.
/// Every workload (workloads.hpp) builds one and drives it.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "stats.hpp"
#include "ws_client.hpp"

namespace loadgen {

/// The command line, as the workloads read it.
struct Settings {
    ServerAddress server;             ///< the first node (the only one unless `--ports` lists more)
    std::vector<ServerAddress> nodes; ///< every node of the cluster under test, `server` first
    std::string secret;               ///< HS256, the same for every server under test
    pid_t server_pid = 0;             ///< for memory and CPU figures; 0: not reported
    std::vector<pid_t> cpu_pids;      ///< whose CPU is the server's: `server_pid`, or a cluster's processes
    std::string workload;             ///< idle, idle-after-storm, saturation, publish, rate, direct, storm
    std::size_t clients = 1000;
    std::vector<std::size_t> steps;   ///< idle workloads: connection counts to measure at
    double rate = 0;                  ///< rate: broadcasts/s; direct: messages/s
    double seconds = 5;               ///< how long to send (after any warm-up)
    double timeout = 60;              ///< storm: give up after this (idle-after-storm: per step)
    std::size_t senders = 0;          ///< connections that send; 0: the workload decides
    std::size_t window = 0;           ///< saturation, publish: broadcasts outstanding at most; 0: the default
    std::string via = "ws";           ///< publish: the publisher's way in, "ws" or "http" (POST /api/publish)
    bool quick_ack = false;           ///< diagnostic: TCP_QUICKACK after every read (see WsClients)
    double hold = 0;                  ///< idle: seconds every connection stays open after the last step
    bool deflate = false;             ///< offer permessage-deflate (see WsClients::set_offer_deflate)
    std::uint32_t inflate_every = 1;  ///< with deflate: inflate one compressed message in this many
    std::size_t broadcast_bytes = 0;  ///< fan-out: each Broadcast event padded to about this size; 0: ~150
};

/// How a session's connections are spread over several nodes (`Settings::nodes`): the first half
/// on the first node and the rest on the second (a workload's senders, its first connections, on
/// one node), or connection i on node i % nodes. With one node, every connection is on it.
enum class Spread { halves, alternate };

/// `key=value` pairs, printed on one line in this order.
using Report = std::vector<std::pair<std::string, std::string>>;

/// What the connections of a session saw, summed over all of them.
struct Counters {
    std::uint64_t opened = 0;
    std::uint64_t failed = 0;
    std::uint64_t closed = 0;          ///< closed by the server
    std::uint64_t broadcasts = 0;      ///< Broadcast events received (compressed ones not inflated too)
    std::uint64_t first_broadcasts = 0; ///< of those, by connection 0 (the publish workload's echo)
    std::uint64_t messages = 0;        ///< MessageSent events received
    std::uint64_t presence = 0;        ///< UserOnline, UserOffline and PresenceDiff events received
    std::uint64_t presence_joins = 0;  ///< users named online: one per UserOnline, the joins of a PresenceDiff
    std::uint64_t errors = 0;          ///< Error events received
    std::uint64_t refused = 0;         ///< of those, `overloaded`: a send the server refused whole
    std::uint64_t sessions = 0;        ///< Session events received (a server with history)
    std::uint64_t sessions_complete = 0; ///< of those, with recovery "complete"
    std::string epoch;                 ///< the last Session's
    std::uint64_t last_offset = 0;     ///< the highest stream offset received
    std::uint64_t other = 0;
    std::int64_t last_open_ns = 0;
    std::int64_t last_presence_ns = 0;
    std::string first_error;           ///< the first Error event or failure, for the report
    std::map<int, std::uint64_t> close_codes;
};

class Session final : public ClientListener {
public:
    /// Users get random UUIDs and tokens valid for an hour; `admin` adds `"admin": true`.
    Session(const Settings& settings, std::size_t users, bool admin, Spread spread = Spread::halves);

    WsClients& clients() { return *clients_; }
    /// A bearer token for one more admin user, e.g. an HTTP publisher.
    std::string admin_token() const;
    const std::string& user(std::size_t index) const { return users_[index]; }
    /// The request target connection `index` upgrades with ("/ws?token=...").
    const std::string& target(std::size_t index) const { return targets_[index]; }
    std::size_t size() const { return users_.size(); }
    /// The nodes its connections are spread over (1: a single server).
    std::size_t nodes() const { return nodes_; }

    /// Connects users [from, to), at most `max_in_flight` upgrades at a time; returns once each has
    /// opened or failed, or at `deadline_ns`. True if all opened.
    bool connect_range(std::size_t from, std::size_t to, std::size_t max_in_flight, std::int64_t deadline_ns);

    /// Handles traffic until `deadline_ns`, calling `keep_going()` between polls; stops early when it
    /// returns false.
    template <class KeepGoing>
    void run_until(std::int64_t deadline_ns, KeepGoing&& keep_going) {
        while (now_ns() < deadline_ns && keep_going()) clients_->poll(std::chrono::milliseconds(1));
    }
    void pause(double seconds) {
        run_until(now_ns() + static_cast<std::int64_t>(seconds * 1e9), [] { return true; });
    }

    /// Failures, closes and errors, for every workload's report.
    void report_health(Report& report) const;

    Counters counters;
    LatencyHistogram latency;     ///< of Broadcast and MessageSent events, from their "ts"
    bool record_latency = false;

private:
    void on_open(std::uint32_t index) override;
    void on_failed(std::uint32_t index, std::string_view why) override;
    void on_text(std::uint32_t index, std::string_view payload) override;
    /// Counted as a Broadcast: in the fan-out workloads, the only events above servers' compression
    /// thresholds; the ones inflated are checked to be.
    void on_compressed_unread(std::uint32_t index) override;
    void on_closed(std::uint32_t index, int code) override;
    void note_error(std::string_view text);
    void record_timestamp(std::string_view payload);
    /// Keeps the highest stream offset (`"offset":`) a payload carries.
    void record_offset(std::string_view payload);

    const std::string secret_;
    const std::size_t nodes_;
    std::vector<std::string> users_;
    std::vector<std::string> targets_;
    std::unique_ptr<WsClients> clients_;
};

/// `text` fit for a report's value: its first 100 characters, blanks replaced by '_'.
std::string for_report(std::string_view text);
/// The "type" of a `{"type":...,"data":...}` event (keys in either order); empty if none.
std::string_view event_type(std::string_view payload);
/// The number after `"ts":` in a payload; -1 if none.
std::int64_t timestamp_of(std::string_view payload);
/// The number after `key` (e.g. `"offset":`) in a payload; -1 if none.
std::int64_t number_after(std::string_view payload, std::string_view key);

} // namespace loadgen
