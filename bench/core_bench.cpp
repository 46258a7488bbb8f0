// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// The core benchmark: `ConnectionManager` against `NaiveManager`, the hand-written baseline,
/// both on `CountingTransport`, in one run, and the manager with a history against none
/// (history_bench.cpp). Prints Google Benchmark's results (5 interleaved
/// repetitions unless the command line says otherwise), then the medians side by side.

#include <cstddef>
#include <vector>

#include <benchmark/benchmark.h>

#include <switchboard/connection_manager.hpp>
#include <switchboard/events.hpp>

#include "counting_transport.hpp"
#include "history_bench.hpp"
#include "naive_manager.hpp"
#include "population.hpp"
#include "summary.hpp"

namespace {

using namespace switchboard;
using namespace switchboard::bench;
using Naive = NaiveManager<CountingTransport>;

constexpr std::size_t broadcast_connections = 100'000;

// --- The benchmarks: each a template, instantiated for each implementation ------------------

/// One connection of a new user registers and unregisters while `bystanders` users are
/// connected. `Switchboard` also sends UserOnline and UserOffline to everyone connected.
template <class Manager>
void register_unregister(benchmark::State& state, std::size_t bystanders) {
    Population<Manager>& population = shared_population<Manager>(bystanders, 1);
    const UserId newcomer = make_user_ids(1, newcomer_seed).front();
    const auto handle = population.new_handle();
    for (auto _ : state) {
        const auto connection = population.manager().register_connection(newcomer, handle);
        benchmark::DoNotOptimize(population.manager().unregister_connection(connection));
    }
    state.SetItemsProcessed(state.iterations());
}

/// Broadcasts to `connections` connections, one per user.
template <class Manager>
void broadcast(benchmark::State& state, std::size_t connections) {
    Population<Manager>& population = shared_population<Manager>(connections, 1);
    const Event event = sample_event();
    Deliveries deliveries(event, connections);
    for (auto _ : state) deliveries.add(population.manager().broadcast(event));
    deliveries.check(state);
    state.SetItemsProcessed(static_cast<std::int64_t>(deliveries.delivered()));
}

// --- Registration ---------------------------------------------------------------------------

void register_benchmarks(Suite& suite) {
    const Contender switchboard_register{"switchboard", register_unregister<Switchboard>};
    const Contender naive_register{"naive", register_unregister<Naive>};
    const Contender naive_send{"naive", send_to_user<Naive>};
    const Contender switchboard_send{"switchboard_scoped", send_to_user<ScopedSwitchboard>};

    Table& table = suite.table(
        {"Medians. Ratio > 1: Switchboard is faster. Users connect with 1 device unless stated.", "switchboard",
         "naive", /*ratio_is_cost=*/false,
         "*   Switchboard (default options) also sends UserOnline/UserOffline to everyone connected;\n"
         "    the naive one has no presence.\n"
         "**  Switchboard with PresenceMode::scoped and no watchers: no presence fan-out. Delivery\n"
         "    does not involve presence; it only makes building 100,000 users take O(N), not O(N^2).\n"
         "*** Throughput of 2 threads together, each sending to its own users.\n",
         {}});
    suite.compare(table, "register+unregister /s, 1 bystander *", Figure::per_second,
                  "BM_RegisterUnregister/bystanders:1", 1, switchboard_register, naive_register);
    suite.compare(table, "register+unregister /s, 1,000 bystanders *", Figure::per_second,
                  "BM_RegisterUnregister/bystanders:1000", 1'000, switchboard_register, naive_register);
    suite.compare(table, "  same, scoped presence (to no one) **", Figure::per_second,
                  "BM_RegisterUnregister/bystanders:1000", 1'000,
                  {"switchboard_scoped", register_unregister<ScopedSwitchboard>}, naive_register);
    suite.compare(table, "ns per send_to_user, 1 device **", Figure::nanoseconds, "BM_SendToUser/devices:1", 1,
                  switchboard_send, naive_send);
    suite.compare(table, "ns per send_to_user, 3 devices **", Figure::nanoseconds, "BM_SendToUser/devices:3", 3,
                  switchboard_send, naive_send);
    suite.compare(table, "ns per send_to_user, 1 device, 2 threads ** ***", Figure::nanoseconds,
                  "BM_SendToUserContended/devices:1", 1, switchboard_send, naive_send, 2);
    suite.compare(table, "ns per delivery, broadcast to 100,000 **", Figure::nanoseconds, "BM_Broadcast100k",
                  broadcast_connections, {"switchboard_scoped", broadcast<ScopedSwitchboard>},
                  {"naive", broadcast<Naive>});
}

} // namespace

int main(int argc, char** argv) {
    // Defaults first, so that the same flags on the command line override them. Interleaving the
    // repetitions of all benchmarks spreads a noisy neighbour's bursts over both implementations.
    static char repetitions[] = "--benchmark_repetitions=5";
    static char interleaving[] = "--benchmark_enable_random_interleaving=true";
    static char aggregates_only[] = "--benchmark_display_aggregates_only=true";
    std::vector<char*> args{argv[0], repetitions, interleaving, aggregates_only};
    args.insert(args.end(), argv + 1, argv + argc);
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;

    Suite suite;
    register_benchmarks(suite);
    register_history_benchmarks(suite);
    SummaryReporter reporter(suite.tables());
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}
