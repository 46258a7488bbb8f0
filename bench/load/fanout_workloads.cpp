// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The fan-out workloads (issue 4): saturation, publish and rate, all Broadcasts from admins to
// every connection, and their shared bookkeeping (Fanout, Senders, the payloads).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "http_publisher.hpp"
#include "syscall_counter.hpp"
#include "workload_common.hpp"
#include "workloads.hpp"

namespace loadgen {
namespace {

/// The example server allows 20 inbound messages/s per connection (burst 40); senders stay below.
constexpr double max_rate_per_sender = 15;
/// Saturation: broadcasts whose deliveries may be outstanding at once. Enough to keep any server
/// busy, few enough that no connection's backlog nears a slow-consumer limit (32 x ~120 bytes).
constexpr std::uint64_t saturation_window = 32;
/// Publish: broadcasts outstanding at most, counted by the copy reaching connection 0.
constexpr std::uint64_t publish_window = 64;

/// The server's send and receive calls over the measured interval, deliveries per send call and
/// the clients' messages (broadcasts asked for) per receive call.
void report_syscalls(Report& report, const std::optional<SyscallCounts>& calls, const std::string& problem,
                     double delivered, double received) {
    if (!calls) {
        std::fprintf(stderr, "loadgen: no system call counts: %s\n", problem.c_str());
        return;
    }
    report.emplace_back("send_calls", std::to_string(calls->sends));
    report.emplace_back("recv_calls", std::to_string(calls->receives));
    const auto per = [](double count, std::uint64_t calls) {
        return fixed(calls ? count / static_cast<double>(calls) : 0);
    };
    report.emplace_back("deliveries_per_send", per(delivered, calls->sends));
    report.emplace_back("messages_per_recv", per(received, calls->receives));
}

/// What permessage-deflate did for a session's connections.
void report_compression(Report& report, const WsClients& clients) {
    report.emplace_back("deflate_agreed", std::to_string(clients.deflate_agreed()));
    report.emplace_back("compressed", std::to_string(clients.compressed_messages()));
    report.emplace_back("inflated", std::to_string(clients.inflated_messages()));
}

/// `,"posts":[...]`: records of a feed, as an application's JSON, filling a Broadcast to about
/// `bytes` in all (0: none). Words drawn with a fixed seed from a small vocabulary, so that it
/// compresses as such JSON does (repeated keys, some repeated words), not as a run of one character.
std::string padding_for(std::size_t bytes) {
    static constexpr const char* words[] = {"the",   "match",  "ended", "after", "extra",  "time",    "and",
                                            "fans",  "stayed", "late", "new",   "album", "tour",    "dates",
                                            "city",  "rain",   "again", "great", "photo", "thanks",  "for",
                                            "all",   "the",    "kind", "words", "see",   "tomorrow", "maybe"};
    constexpr std::size_t unpadded = 150; ///< the Broadcast without posts, about
    if (bytes <= unpadded) return {};
    std::uint64_t state = 0x2545F4914F6CDD1DULL;
    const auto next = [&] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    std::string posts = ",\"posts\":[";
    for (std::size_t id = 1000; posts.size() + unpadded < bytes; ++id) {
        if (id > 1000) posts += ',';
        posts += "{\"id\":" + std::to_string(id) + ",\"author\":\"user-" + std::to_string(next() % 1000) +
                 "\",\"likes\":" + std::to_string(next() % 500) + ",\"text\":\"";
        for (int word = 0; word < 6; ++word) posts += std::string(word ? " " : "") + words[next() % std::size(words)];
        posts += "\"}";
    }
    return posts + "]";
}

std::string broadcast_payload(std::uint64_t sequence, const std::string& padding) {
    return "{\"type\":\"Broadcast\",\"data\":{\"ts\":" + std::to_string(now_ns()) + ",\"seq\":" +
           std::to_string(sequence) + ",\"text\":\"fan-out benchmark payload, sixty-four bytes of text...\"" +
           padding + "}}";
}

/// The same broadcast through `POST /api/publish`: subscribers receive the same frame.
std::string publish_body(std::uint64_t sequence, const std::string& padding) {
    return "{\"broadcast\":true,\"event\":" + broadcast_payload(sequence, padding) + "}";
}

/// Round-robin over the first `count` connections, each sending at most `per_sender_rate` per second.
class Senders {
public:
    Senders(std::size_t count, double per_sender_rate)
        : next_allowed_(count, 0), interval_(static_cast<std::int64_t>(1e9 / per_sender_rate)) {}

    /// The connection that may send now, if any. In turn order, so if the next is not ready, none is.
    std::optional<std::uint32_t> take(std::int64_t now) {
        std::int64_t& allowed = next_allowed_[turn_];
        if (now < allowed) return std::nullopt;
        allowed = std::max(allowed + interval_, now);
        const auto sender = static_cast<std::uint32_t>(turn_);
        turn_ = (turn_ + 1) % next_allowed_.size();
        return sender;
    }

private:
    std::vector<std::int64_t> next_allowed_;
    std::int64_t interval_;
    std::size_t turn_ = 0;
};

/// Fan-out bookkeeping: each broadcast is owed to every connection open when it was sent.
struct Fanout {
    explicit Fanout(const Settings& settings) : padding(padding_for(settings.broadcast_bytes)) {}

    const std::string padding; ///< of every broadcast
    std::uint64_t sent = 0;
    std::uint64_t expected = 0;

    bool send(Session& session, std::uint32_t sender) {
        if (!session.clients().send_text(sender, broadcast_payload(sent, padding))) return false;
        count_sent(session);
        return true;
    }
    void count_sent(const Session& session) {
        ++sent;
        expected += session.counters.opened - session.counters.closed;
    }
    std::uint64_t outstanding(const Session& session) const {
        return expected > session.counters.broadcasts ? expected - session.counters.broadcasts : 0;
    }
    /// Waits up to `seconds` for every owed delivery; then reports what never came.
    void drain(Session& session, double seconds, Report& report) {
        session.run_until(now_ns() + seconds_ns(seconds), [&] { return outstanding(session) > 0; });
        report.emplace_back("broadcasts_sent", std::to_string(sent));
        report.emplace_back("expected", std::to_string(expected));
        report.emplace_back("received", std::to_string(session.counters.broadcasts));
        report.emplace_back("lost", std::to_string(outstanding(session)));
    }
};

/// The server's system calls over one more second of the same load: counting slows each of them,
/// so not while the rates are measured.
template <class Pump>
void count_syscalls(Session& session, const Settings& settings, const Fanout& fanout, Report& report,
                    const Pump& pump) {
    SyscallCounter syscalls(settings.server_pid);
    syscalls.start();
    session.run_until(now_ns() + 10 * second_ns, [&] { return pump() && !syscalls.ready(); });
    const std::uint64_t received_before = session.counters.broadcasts;
    const std::uint64_t sent_before = fanout.sent;
    session.run_until(now_ns() + second_ns, pump);
    const std::optional<SyscallCounts> calls = syscalls.stop();
    const auto delivered = static_cast<double>(session.counters.broadcasts - received_before);
    report_syscalls(report, calls, syscalls.problem(), delivered, static_cast<double>(fanout.sent - sent_before));
}

/// Fan-out at saturation, alike for every shape: `keep_sending` runs between polls; after a warm-up
/// second, `settings.seconds` of deliveries and the server's CPU; then its system calls, latency,
/// and the drain of what is still owed.
template <class KeepSending>
void measure_saturation(Session& session, const Settings& settings, Fanout& fanout, Report& report,
                        KeepSending&& keep_sending) {
    const auto pump = [&] {
        keep_sending();
        return true;
    };
    session.run_until(now_ns() + second_ns, pump); // warm-up

    CpuMeter cpu(settings.cpu_pids);
    const std::uint64_t received_before = session.counters.broadcasts;
    const std::uint64_t bytes_before = session.clients().received_bytes();
    const std::int64_t start = now_ns();
    session.record_latency = true;
    session.run_until(start + seconds_ns(settings.seconds), pump);
    const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
    session.record_latency = false;
    const double delivered = static_cast<double>(session.counters.broadcasts - received_before);
    const auto wire_bytes = static_cast<double>(session.clients().received_bytes() - bytes_before);
    report.emplace_back("deliveries_per_s", fixed(delivered / elapsed, 0));
    report.emplace_back("wire_bytes_per_delivery", fixed(delivered > 0 ? wire_bytes / delivered : 0, 0));
    report.emplace_back("broadcasts_per_s", fixed(delivered / elapsed / static_cast<double>(session.size()), 1));
    report_cpu(report, cpu, elapsed);
    // Steadier than deliveries/s where others' work takes part of the server's core.
    const double server_cpu_seconds = cpu.server_share(elapsed) * elapsed;
    report.emplace_back("deliveries_per_cpu_s", fixed(server_cpu_seconds > 0 ? delivered / server_cpu_seconds : 0, 0));
    count_syscalls(session, settings, fanout, report, pump);
    report_latency(report, session.latency);
    fanout.drain(session, 5, report);
    if (settings.deflate) report_compression(report, session.clients());
    session.report_health(report);
}

} // namespace

Report run_saturation(const Settings& settings) {
    Session session(settings, settings.clients, /*admin=*/true);
    Report report;
    connect_everyone(session, report);
    const std::size_t sender_count = settings.senders ? settings.senders : std::min<std::size_t>(session.size(), 400);
    Senders senders(sender_count, max_rate_per_sender);
    Fanout fanout(settings);
    const std::uint64_t window = (settings.window ? settings.window : saturation_window) * session.size();
    measure_saturation(session, settings, fanout, report, [&] {
        while (fanout.outstanding(session) < window) {
            const auto sender = senders.take(now_ns());
            if (!sender || !fanout.send(session, *sender)) break;
        }
    });
    return report;
}

Report run_publish(const Settings& settings) {
    if (settings.via != "ws" && settings.via != "http") throw std::invalid_argument("--via must be ws or http");
    Session session(settings, settings.clients, /*admin=*/true);
    Report report;
    connect_everyone(session, report);
    std::optional<HttpPublisher> http;
    if (settings.via == "http") {
        http.emplace(settings.server, session.admin_token());
        session.clients().wake_on(http->fd());
    }
    const std::uint64_t window = settings.window ? settings.window : publish_window;
    Fanout fanout(settings);
    const auto publish_one = [&] {
        if (!http) return fanout.send(session, 0);
        if (http->in_flight() >= window || !http->post(publish_body(fanout.sent, fanout.padding))) return false;
        fanout.count_sent(session);
        return true;
    };
    measure_saturation(session, settings, fanout, report, [&] {
        if (http) http->poll();
        while (fanout.sent - session.counters.first_broadcasts < window && publish_one()) {}
    });
    if (http) {
        report.emplace_back("http_answered", std::to_string(http->answered));
        report.emplace_back("http_failed", std::to_string(http->failed));
        report.emplace_back("http_first_error", http->first_error.empty() ? "-" : for_report(http->first_error));
    }
    return report;
}

Report run_rate(const Settings& settings) {
    Session session(settings, settings.clients, /*admin=*/true);
    Report report;
    connect_everyone(session, report);
    const double rate = settings.rate > 0 ? settings.rate : 20;
    const std::size_t sender_count =
        std::min<std::size_t>(session.size(), static_cast<std::size_t>(std::ceil(rate / 10)));
    Fanout fanout(settings);
    std::size_t turn = 0;
    CpuMeter cpu(settings.cpu_pids);
    const std::int64_t start = now_ns();
    const std::int64_t end = start + seconds_ns(settings.seconds);
    session.record_latency = true;
    session.run_until(end, [&] {
        const auto due = static_cast<std::uint64_t>(rate * static_cast<double>(now_ns() - start) / 1e9) + 1;
        while (fanout.sent < due && fanout.send(session, static_cast<std::uint32_t>(turn))) turn = (turn + 1) % sender_count;
        return true;
    });
    const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
    report.emplace_back("offered_per_s", fixed(rate * static_cast<double>(session.size()), 0));
    report.emplace_back("deliveries_per_s", fixed(static_cast<double>(session.counters.broadcasts) / elapsed, 0));
    report.emplace_back("behind_at_end", std::to_string(fanout.outstanding(session)));
    report_cpu(report, cpu, elapsed);
    fanout.drain(session, 10, report);
    report_latency(report, session.latency);
    session.report_health(report);
    return report;
}

} // namespace loadgen
