// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// The manager with a `MemoryHistory` (default bounds) against the same manager without one, on
/// `CountingTransport`: the cost of appending every durable send to the users' streams, of a
/// resume, and the memory per retained event (measured with glibc's mallinfo2).

#include "history_bench.hpp"

#include <malloc.h>

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <switchboard/history/memory.hpp>

#include "population.hpp"

namespace switchboard::bench {
namespace {

constexpr std::size_t missed_events = 1000;

/// The sends' store: every stream full at its bound, 100 events, so that 10,000 users' streams
/// (10,000 x 100 x ~240 bytes) stay within the default 256 MiB cap: the steady state of a busy
/// server. (With the default 1,000, the benchmark's round robin over 10,000 users outgrows the
/// cap, and each send finds its user's stream evicted, as the least recently used, and makes a
/// new one.)
std::shared_ptr<History> full_streams() {
    MemoryHistoryOptions bounds;
    bounds.max_events_per_user = 100;
    return std::make_shared<MemoryHistory>(bounds);
}

/// `ScopedSwitchboard` with the embedded history.
class HistorySwitchboard : public ScopedSwitchboard {
public:
    static constexpr bool streams = true;
    explicit HistorySwitchboard(CountingTransport& transport, std::shared_ptr<History> history = full_streams())
        : ScopedSwitchboard(transport, with(std::move(history))) {}

private:
    static ManagerOptions with(std::shared_ptr<History> history) {
        ManagerOptions options;
        options.history = std::move(history);
        return options;
    }
};

/// Sends to `group` consecutive users at a time (each once), moving along the 10,000.
template <class Manager>
void send_to_users(benchmark::State& state, std::size_t group) {
    Population<Manager>& population = shared_population<Manager>(users_for_sends, 1);
    const std::vector<UserId>& users = population.users();
    const Event event = sample_event();
    Deliveries deliveries(streams<Manager>::value ? 0 : event.to_frame().size(), group);
    std::vector<UserId> recipients(group);
    std::size_t next = 0;
    for (auto _ : state) {
        for (UserId& recipient : recipients) recipient = users[next++ % users.size()];
        deliveries.add(population.manager().send_to_users(recipients, event));
    }
    deliveries.check(state);
    state.SetItemsProcessed(state.iterations());
}

/// A user who was offline while `missed` events were sent resumes: registers from the position
/// before them (its Session and the whole replay go to the transport before the call returns),
/// then unregisters.
void resume(benchmark::State& state, std::size_t missed) {
    CountingTransport transport;
    const auto history = std::make_shared<MemoryHistory>();
    HistorySwitchboard manager(transport, history);
    const UserId user = make_user_ids(1, newcomer_seed).front();
    Identity resuming(user);
    resuming.resume = history->open(user).position;
    const Event event = sample_event();
    for (std::size_t n = 0; n < missed; ++n) manager.send_to_user(user, event);
    for (auto _ : state) manager.unregister_connection(manager.register_connection(resuming, 1));
    if (manager.metrics().events_replayed != static_cast<std::uint64_t>(state.iterations()) * missed)
        state.SkipWithError("a resume did not replay every missed event");
    state.SetItemsProcessed(state.iterations());
}

/// What malloc holds per event a store retains, when each of `users` streams is sent the same
/// `missed_events` events (as `send_to_users` appends them: each event's text once).
double retained_bytes_per_event(std::size_t users) {
    const std::vector<UserId> ids = make_user_ids(users, population_seed);
    MemoryHistory history;
    for (const UserId& id : ids) history.open(id); // the streams' records exist: count the events
    const std::size_t before = mallinfo2().uordblks;
    for (std::size_t n = 0; n < missed_events; ++n) {
        const StoredEvent event(sample_event());
        for (const UserId& id : ids) history.append(id, event);
    }
    return static_cast<double>(mallinfo2().uordblks - before) / static_cast<double>(missed_events * users);
}

/// Bytes per retained event (per user's copy when shared), less the event's text if `beyond_text`.
template <bool beyond_text>
void retained_memory(benchmark::State& state, std::size_t users) {
    const double text = static_cast<double>(StoredEvent(sample_event()).size());
    double total = 0;
    for (auto _ : state) total += retained_bytes_per_event(users) - (beyond_text ? text : 0);
    state.counters[bytes_per_item] = total / static_cast<double>(state.iterations());
}

} // namespace

void register_history_benchmarks(Suite& suite) {
    const Contender none_user{"switchboard_scoped", send_to_user<ScopedSwitchboard>};
    const Contender memory_user{"switchboard_memory_history", send_to_user<HistorySwitchboard>};
    const Contender none_users{"switchboard_scoped", send_to_users<ScopedSwitchboard>};
    const Contender memory_users{"switchboard_memory_history", send_to_users<HistorySwitchboard>};
    Table& table = suite.table(
        {"History: the manager with a MemoryHistory against none. Ratio: with / without\n"
         "(targets: at most 1.5x the time; under 64 bytes per retained event beyond its text).",
         "memory", "none", /*ratio_is_cost=*/true,
         "10,000 users, 1 device each, scoped presence (**). Every send appends to each user's stream,\n"
         "each stream full at 100 events (see history_bench.cpp). The resume: Session and 1,000\n"
         "replayed frames to the transport, then unregistering (default bounds).\n",
         {}});
    suite.compare(table, "ns per send_to_user, 1 device", Figure::nanoseconds, "BM_SendToUser/devices:1", 1,
                  memory_user, none_user);
    suite.compare(table, "ns per send_to_users, 10 users", Figure::nanoseconds, "BM_SendToUsers/users:10", 10,
                  memory_users, none_users);
    suite.single(table, "ns per resume of 1,000 missed events", Figure::nanoseconds, "BM_Resume/missed:1000",
                 missed_events, {"switchboard_memory_history", resume});
    suite.single(table, "bytes per retained event (183-byte event)", Figure::bytes, "BM_RetainedEvent/users:1", 1,
                 {"memory_history", retained_memory<false>});
    suite.single(table, "  beyond its text", Figure::bytes, "BM_RetainedEventOverhead/users:1", 1,
                 {"memory_history", retained_memory<true>});
    suite.single(table, "  sent to 10 users, per user", Figure::bytes, "BM_RetainedEvent/users:10", 10,
                 {"memory_history", retained_memory<false>});
}

} // namespace switchboard::bench
