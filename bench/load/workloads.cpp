// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The workloads of the side-by-side benchmark (issue 4). Each is bounded in time and returns one
// report; see loadgen.cpp for the command line and README-like notes in run.sh.

#include "workloads.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "http_publisher.hpp"
#include "syscall_counter.hpp"

namespace loadgen {
namespace {

constexpr std::int64_t second_ns = 1'000'000'000;
constexpr std::size_t upgrades_at_once = 500; ///< steady connects: below the servers' listen backlogs
/// The example server allows 20 inbound messages/s per connection (burst 40); senders stay below.
constexpr double max_rate_per_sender = 15;
/// Saturation: broadcasts whose deliveries may be outstanding at once. Enough to keep any server
/// busy, few enough that no connection's backlog nears a slow-consumer limit (32 x ~120 bytes).
constexpr std::uint64_t saturation_window = 32;
/// Publish: broadcasts outstanding at most, counted by the copy reaching connection 0.
constexpr std::uint64_t publish_window = 64;

std::int64_t seconds_ns(double seconds) { return static_cast<std::int64_t>(seconds * 1e9); }

std::string fixed(double value, int decimals = 2) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

void report_latency(Report& report, const LatencyHistogram& latency) {
    report.emplace_back("samples", std::to_string(latency.count()));
    report.emplace_back("p50_ms", fixed(latency.percentile_ms(0.50)));
    report.emplace_back("p90_ms", fixed(latency.percentile_ms(0.90)));
    report.emplace_back("p95_ms", fixed(latency.percentile_ms(0.95)));
    report.emplace_back("p99_ms", fixed(latency.percentile_ms(0.99)));
    report.emplace_back("p999_ms", fixed(latency.percentile_ms(0.999)));
}

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

void report_cpu(Report& report, const CpuMeter& cpu, double wall_seconds) {
    report.emplace_back("server_cpu", fixed(cpu.server_share(wall_seconds)));
    report.emplace_back("client_cpu", fixed(cpu.own_share(wall_seconds)));
    report.emplace_back("others_cpu", fixed(cpu.others_share(wall_seconds)));
}

/// What permessage-deflate did for a session's connections.
void report_compression(Report& report, const WsClients& clients) {
    report.emplace_back("deflate_agreed", std::to_string(clients.deflate_agreed()));
    report.emplace_back("compressed", std::to_string(clients.compressed_messages()));
    report.emplace_back("inflated", std::to_string(clients.inflated_messages()));
}

/// Connects everyone at a steady pace and lets the dust (presence, if any) settle.
void connect_everyone(Session& session, Report& report) {
    const std::int64_t start = now_ns();
    session.connect_range(0, session.size(), upgrades_at_once, start + 60 * second_ns);
    report.emplace_back("connect_s", fixed(static_cast<double>(now_ns() - start) / 1e9));
    session.pause(0.5);
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

double least_squares_slope(const std::vector<double>& x, const std::vector<double>& y) {
    const double n = static_cast<double>(x.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    const double denominator = n * sxx - sx * sx;
    return denominator == 0 ? 0 : (n * sxy - sx * sy) / denominator;
}

/// A few connections opened and closed before the idle workload's base figure: what a server
/// loads or builds once, at its first connections (libcrypto's code pages at the first JWT check,
/// ~2 MB for the example server), is then in the base rather than charged to the first step. Few,
/// so that the memory they free does not pre-grow the heap for the connections measured.
void warm_up(const Settings& settings) {
    constexpr std::size_t connections = 10;
    Session session(settings, connections, /*admin=*/false);
    session.connect_range(0, connections, connections, now_ns() + 10 * second_ns);
    session.pause(0.2);
} // closed here; measure_idle's pause lets the server finish with them

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

    CpuMeter cpu(settings.server_pid);
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

/// Connects users [from, to) at once and handles traffic until every upgrade has finished and no
/// presence has come for a second, or until `give_up_ns`. Returns when it settled (-1: never).
std::int64_t connect_storm(Session& session, std::size_t from, std::size_t to, std::int64_t give_up_ns) {
    constexpr std::int64_t quiet = second_ns;
    const std::uint64_t wanted = session.counters.opened + session.counters.failed + (to - from);
    for (std::size_t i = from; i < to; ++i) session.clients().connect(static_cast<std::uint32_t>(i));
    auto last_activity = [&] { return std::max(session.counters.last_open_ns, session.counters.last_presence_ns); };
    auto settled = [&] {
        return session.counters.opened + session.counters.failed >= wanted && now_ns() - last_activity() >= quiet;
    };
    session.run_until(give_up_ns, [&] { return !settled(); });
    return settled() ? last_activity() : -1;
}

/// Server memory per connection at each of `steps`, each reached by `connect(session, from, to,
/// step, report)`, which may add the step's own figures: the idle workloads differ in how they connect.
template <class Connect>
Report measure_idle(const Settings& settings, Connect&& connect) {
    std::vector<std::size_t> steps = settings.steps.empty() ? std::vector<std::size_t>{settings.clients} : settings.steps;
    std::sort(steps.begin(), steps.end());
    warm_up(settings);
    Session session(settings, steps.back(), /*admin=*/false);
    Report report;
    session.pause(0.5);
    const double base = static_cast<double>(resident_bytes(settings.server_pid));
    report.emplace_back("rss_base_kib", fixed(base / 1024, 0));
    std::vector<double> counts, rss;
    std::size_t connected = 0;
    for (const std::size_t step : steps) {
        const std::string n = std::to_string(step);
        connect(session, connected, step, n, report);
        connected = step;
        const double open = static_cast<double>(session.counters.opened - session.counters.closed);
        const double resident = static_cast<double>(resident_bytes(settings.server_pid));
        counts.push_back(open);
        rss.push_back(resident);
        report.emplace_back("open_" + n, fixed(open, 0));
        report.emplace_back("rss_kib_" + n, fixed(resident / 1024, 0));
        report.emplace_back("bytes_per_conn_" + n, fixed(open > 0 ? (resident - base) / open : 0, 0));
        // What the connections of this step cost, each: flat when the server's memory grows linearly.
        const double opened_before = counts.size() > 1 ? counts[counts.size() - 2] : 0;
        const double resident_before = rss.size() > 1 ? rss[rss.size() - 2] : base;
        const double added = open - opened_before;
        report.emplace_back("step_bytes_per_conn_" + n, fixed(added > 0 ? (resident - resident_before) / added : 0, 0));
    }
    report.emplace_back("slope_bytes_per_conn", fixed(least_squares_slope(counts, rss), 0));
    if (settings.hold > 0) session.pause(settings.hold);
    session.report_health(report);
    return report;
}

} // namespace

Report run_idle(const Settings& settings) {
    return measure_idle(settings, [](Session& session, std::size_t from, std::size_t to, const std::string&, Report&) {
        session.connect_range(from, to, upgrades_at_once, now_ns() + 60 * second_ns);
        session.pause(1.5); // let the server finish its work for the last upgrades
    });
}

/// A step's connections all connect at once, as in `storm`; what the storm's transient work
/// (presence, handshakes, queued frames) leaves behind is measured with the connections.
Report run_idle_after_storm(const Settings& settings) {
    return measure_idle(settings, [&](Session& session, std::size_t from, std::size_t to, const std::string& n,
                                      Report& report) {
        const std::int64_t start = now_ns();
        const std::int64_t settled = connect_storm(session, from, to, start + seconds_ns(settings.timeout));
        report.emplace_back("settled_s_" + n, settled < 0 ? "-1" : fixed(static_cast<double>(settled - start) / 1e9));
    });
}

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
    CpuMeter cpu(settings.server_pid);
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

Report run_direct(const Settings& settings) {
    Session session(settings, settings.clients, /*admin=*/false);
    Report report;
    connect_everyone(session, report);
    const double rate = settings.rate > 0 ? settings.rate : 20000;
    const std::size_t users = session.size();
    std::uint64_t sent = 0;
    std::uint64_t random_state = 0x9E3779B97F4A7C15ULL;
    auto random_user = [&] {
        random_state ^= random_state << 13;
        random_state ^= random_state >> 7;
        random_state ^= random_state << 17;
        return static_cast<std::size_t>(random_state % users);
    };
    auto send_one = [&](std::size_t sender) {
        std::size_t to = random_user();
        if (to == sender) to = (to + 1) % users;
        const std::string payload = "{\"type\":\"SendMessage\",\"data\":{\"to\":[\"" + session.user(to) +
                                    "\"],\"ts\":" + std::to_string(now_ns()) + ",\"text\":\"hello, how are you?\"}}";
        return session.clients().send_text(static_cast<std::uint32_t>(sender), payload);
    };
    CpuMeter cpu(settings.server_pid);
    const std::int64_t start = now_ns();
    session.record_latency = true;
    session.run_until(start + seconds_ns(settings.seconds), [&] {
        // Senders take turns, so each sends rate/users per second (10/s for 20k/s among 2,000).
        const auto due = static_cast<std::uint64_t>(rate * static_cast<double>(now_ns() - start) / 1e9) + 1;
        while (sent < due) send_one(sent++ % users);
        return true;
    });
    const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
    report.emplace_back("offered_per_s", fixed(static_cast<double>(sent) / elapsed, 0));
    report.emplace_back("delivered_per_s", fixed(static_cast<double>(session.counters.messages) / elapsed, 0));
    report_cpu(report, cpu, elapsed);
    session.run_until(now_ns() + 5 * second_ns, [&] { return session.counters.messages < sent; });
    report.emplace_back("sent", std::to_string(sent));
    report.emplace_back("received", std::to_string(session.counters.messages));
    report.emplace_back("lost", std::to_string(sent > session.counters.messages ? sent - session.counters.messages : 0));
    report_latency(report, session.latency);
    session.report_health(report);
    return report;
}

Report run_storm(const Settings& settings) {
    Session session(settings, settings.clients, /*admin=*/false);
    Report report;
    const std::size_t users = session.size();
    const std::int64_t start = now_ns();
    const std::int64_t settled = connect_storm(session, 0, users, start + seconds_ns(settings.timeout));
    const bool all_open = session.counters.opened >= users;
    const auto since_start = [&](std::int64_t at) { return fixed(static_cast<double>(at - start) / 1e9, 2); };
    report.emplace_back("handshakes_s", all_open ? since_start(session.counters.last_open_ns) : "-1");
    report.emplace_back("settled_s", settled >= 0 && all_open ? since_start(settled) : "-1");
    report.emplace_back("timeout_s", fixed(settings.timeout, 0));
    report.emplace_back("presence_events", std::to_string(session.counters.presence));
    report.emplace_back("presence_joins", std::to_string(session.counters.presence_joins));
    session.report_health(report);
    return report;
}

/// A user's device goes offline while `missed` messages are sent to it, then resumes from the
/// last offset it had: the time from its reconnect to the last missed message, over `rounds`
/// rounds. The senders (`--senders`, 100) stay below the example server's rate limit.
Report run_resume(const Settings& settings) {
    constexpr std::size_t missed = 1000;
    constexpr int rounds = 5;
    const std::size_t senders = settings.senders > 0 ? settings.senders : 100;
    Session session(settings, senders + 1, /*admin=*/false); // connection 0 resumes
    Report report;
    session.connect_range(0, 1, 1, now_ns() + 10 * second_ns);
    session.run_until(now_ns() + 5 * second_ns, [&] { return session.counters.sessions == 0; });
    const std::string epoch = session.counters.epoch; // its stream's; the senders' Sessions name theirs
    session.connect_range(1, session.size(), upgrades_at_once, now_ns() + 60 * second_ns);
    session.pause(0.5);
    std::vector<double> resume_ms;
    for (int round = 0; round < rounds && session.counters.failed == 0; ++round) {
        // Only connection 0 receives messages: its last offset is the highest anyone saw.
        const std::string position = epoch + ":" + std::to_string(session.counters.last_offset);
        session.clients().close(0);
        session.pause(0.2); // until the server has seen it go
        const std::uint64_t errors_before = session.counters.errors;
        for (std::size_t n = 0; n < missed; ++n) {
            const std::size_t sender = 1 + n % senders;
            session.clients().send_text(static_cast<std::uint32_t>(sender),
                                        "{\"type\":\"SendMessage\",\"data\":{\"to\":[\"" + session.user(0) +
                                            "\"],\"text\":\"while you were away\"}}");
        }
        // A type no server knows is answered with an Error: each sender's messages before it are handled.
        for (std::size_t sender = 1; sender <= senders; ++sender)
            session.clients().send_text(static_cast<std::uint32_t>(sender), "{\"type\":\"LoadgenBarrier\",\"data\":{}}");
        session.run_until(now_ns() + 10 * second_ns, [&] { return session.counters.errors < errors_before + senders; });
        const std::uint64_t messages_before = session.counters.messages;
        const std::int64_t start = now_ns();
        session.clients().reconnect(0, session.target(0) + "&resume=" + position);
        session.run_until(start + 10 * second_ns, [&] { return session.counters.messages < messages_before + missed; });
        if (session.counters.messages < messages_before + missed) break;
        resume_ms.push_back(static_cast<double>(now_ns() - start) / 1e6);
    }
    std::sort(resume_ms.begin(), resume_ms.end());
    report.emplace_back("rounds", std::to_string(resume_ms.size()));
    report.emplace_back("missed", std::to_string(missed));
    report.emplace_back("resume_ms_median", resume_ms.empty() ? "-" : fixed(resume_ms[resume_ms.size() / 2]));
    report.emplace_back("resume_ms_max", resume_ms.empty() ? "-" : fixed(resume_ms.back()));
    report.emplace_back("sessions_complete", std::to_string(session.counters.sessions_complete));
    report.emplace_back("round_trips", std::to_string(resume_ms.size() * senders)); // answered by the errors below
    session.report_health(report);
    return report;
}

} // namespace loadgen
