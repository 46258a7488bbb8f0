// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The one-to-one message workloads (issue 4): direct (SendMessage between random users) and resume
// (a device catching up on what it missed while offline).

#include <algorithm>
#include <vector>

#include "workload_common.hpp"
#include "workloads.hpp"

namespace loadgen {

Report run_direct(const Settings& settings) {
    Session session(settings, settings.clients, /*admin=*/false, Spread::halves);
    Report report;
    connect_everyone(session, report);
    const double rate = settings.rate > 0 ? settings.rate : 20000;
    const std::size_t users = session.size();
    // One node: everyone sends to anyone else. Two: the first half (node A) sends to the second
    // (node B), so that every message crosses the cluster.
    const std::size_t senders = session.nodes() > 1 ? (users + 1) / 2 : users; // Spread::halves' first half
    const std::size_t first_recipient = session.nodes() > 1 ? senders : 0;
    std::uint64_t sent = 0;
    std::uint64_t random_state = 0x9E3779B97F4A7C15ULL;
    auto random_recipient = [&] {
        random_state ^= random_state << 13;
        random_state ^= random_state >> 7;
        random_state ^= random_state << 17;
        return first_recipient + static_cast<std::size_t>(random_state % (users - first_recipient));
    };
    auto send_one = [&](std::size_t sender) {
        std::size_t to = random_recipient();
        if (to == sender) to = (to + 1) % users;
        const std::string payload = "{\"type\":\"SendMessage\",\"data\":{\"to\":[\"" + session.user(to) +
                                    "\"],\"ts\":" + std::to_string(now_ns()) + ",\"text\":\"hello, how are you?\"}}";
        return session.clients().send_text(static_cast<std::uint32_t>(sender), payload);
    };
    CpuMeter cpu(settings.cpu_pids);
    const std::int64_t start = now_ns();
    session.record_latency = true;
    session.run_until(start + seconds_ns(settings.seconds), [&] {
        // Senders take turns, so each sends rate/senders per second (10/s for 20k/s among 2,000; 20/s
        // among two nodes' 2,000, half of them senders).
        const auto due = static_cast<std::uint64_t>(rate * static_cast<double>(now_ns() - start) / 1e9) + 1;
        while (sent < due) send_one(sent++ % senders);
        return true;
    });
    const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
    report.emplace_back("offered_per_s", fixed(static_cast<double>(sent) / elapsed, 0));
    report.emplace_back("delivered_per_s", fixed(static_cast<double>(session.counters.messages) / elapsed, 0));
    report_cpu(report, cpu, elapsed);
    session.run_until(now_ns() + 5 * second_ns, [&] { return session.counters.messages < sent; });
    report.emplace_back("sent", std::to_string(sent));
    report.emplace_back("received", std::to_string(session.counters.messages));
    // A refused message was answered (Error overloaded): not lost, and not carried either.
    const std::uint64_t answered = session.counters.messages + session.counters.refused;
    report.emplace_back("refused", std::to_string(session.counters.refused));
    report.emplace_back("lost", std::to_string(sent > answered ? sent - answered : 0));
    report_latency(report, session.latency);
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
