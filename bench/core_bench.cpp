// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// The core benchmark: `ConnectionManager` against `NaiveManager`, the hand-written baseline,
/// both on `CountingTransport`, in one run. Prints Google Benchmark's results (5 interleaved
/// repetitions unless the command line says otherwise), then the medians side by side.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <switchboard/connection_manager.hpp>
#include <switchboard/events.hpp>

#include "counting_transport.hpp"
#include "naive_manager.hpp"

namespace {

using namespace switchboard;
using bench::CountingTransport;
using Naive = bench::NaiveManager<CountingTransport>;

/// Switchboard as configured by default: presence goes to everyone connected.
using Switchboard = ConnectionManager<CountingTransport>;

/// Switchboard with `PresenceMode::scoped` and no watchers: presence goes to no one, so
/// connecting N users costs O(N) instead of O(N²) deliveries. Delivery itself does not involve
/// presence; the delivery benchmarks use this one so that their setup takes a second, not minutes.
class ScopedSwitchboard : public Switchboard {
public:
    explicit ScopedSwitchboard(CountingTransport& transport) : Switchboard(transport, {}, options()) {}

private:
    static ManagerOptions options() {
        ManagerOptions options;
        options.presence.mode = PresenceMode::scoped;
        return options;
    }
};

constexpr std::size_t users_for_sends = 10'000;
constexpr std::size_t broadcast_connections = 100'000;
constexpr std::uint64_t population_seed = 1;
constexpr std::uint64_t newcomer_seed = 2;
constexpr std::uint64_t event_seed = 3;

// --- What the benchmarks run against --------------------------------------------------------

/// Random-looking version-4 UUIDs, the same in every run (and so in the same shards).
std::vector<UserId> make_user_ids(std::size_t count, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::vector<UserId> ids;
    ids.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        UserId::Bytes bytes;
        for (std::uint8_t& byte : bytes) byte = static_cast<std::uint8_t>(engine());
        bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);
        bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);
        ids.emplace_back(bytes);
    }
    return ids;
}

/// A typical event: a chat message, 183 bytes on the wire.
Event sample_event() {
    const std::vector<UserId> people = make_user_ids(2, event_seed);
    return MessageSent{"msg-0001", people[0], {people[1]}, "See you at the station at eight?"};
}

/// A manager on its own transport, with `users` users connected by `devices` connections each.
template <class Manager>
class Population {
public:
    using handle_type = CountingTransport::handle_type;

    Population(std::size_t users, std::size_t devices) : users_(make_user_ids(users, population_seed)) {
        // Everyone's first connection before anyone's second: presence goes out on first
        // connections only, to those already connected, so this order sends the fewest frames.
        for (std::size_t device = 0; device < devices; ++device)
            for (const UserId& user : users_) manager_.register_connection(user, new_handle());
    }

    Manager& manager() noexcept { return manager_; }
    const std::vector<UserId>& users() const noexcept { return users_; }
    handle_type new_handle() noexcept { return next_handle_++; }

private:
    CountingTransport transport_;
    Manager manager_{transport_};
    std::vector<UserId> users_;
    handle_type next_handle_ = 0;
};

/// Built once per shape and kept: Google Benchmark calls a benchmark once per repetition (and
/// more to pick an iteration count), and the threads of one run share it.
template <class Manager>
Population<Manager>& shared_population(std::size_t users, std::size_t devices) {
    static std::mutex mutex;
    static std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<Population<Manager>>> populations;
    std::lock_guard lock(mutex);
    auto& population = populations[{users, devices}];
    if (!population) population = std::make_unique<Population<Manager>>(users, devices);
    return *population;
}

/// What one thread's calls delivered, checked against what the transport saw.
class Deliveries {
public:
    Deliveries(const Event& event, std::size_t per_call)
        : frame_size_(event.to_frame().size()), per_call_(per_call),
          bytes_before_(CountingTransport::bytes_sent_by_this_thread()) {}

    void add(std::size_t reached) noexcept { delivered_ += reached; }
    std::uint64_t delivered() const noexcept { return delivered_; }

    /// Reports the bytes sent; fails the run unless every call reached `per_call` connections.
    void check(benchmark::State& state) const {
        const std::uint64_t bytes = CountingTransport::bytes_sent_by_this_thread() - bytes_before_;
        state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
        const std::uint64_t expected = static_cast<std::uint64_t>(state.iterations()) * per_call_;
        if (delivered_ != expected || bytes != expected * frame_size_)
            state.SkipWithError("a call did not reach every connection it should have");
    }

private:
    std::uint64_t frame_size_;
    std::uint64_t per_call_;
    std::uint64_t bytes_before_;
    std::uint64_t delivered_ = 0;
};

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

/// Sends to each of 10,000 users in turn, every user connected by `devices` connections. With
/// several threads, each sends to its own users: thread t to users t, t + threads, ...
template <class Manager>
void send_to_user(benchmark::State& state, std::size_t devices) {
    Population<Manager>& population = shared_population<Manager>(users_for_sends, devices);
    const std::vector<UserId>& users = population.users();
    const Event event = sample_event();
    Deliveries deliveries(event, devices);
    std::size_t next = static_cast<std::size_t>(state.thread_index());
    const auto stride = static_cast<std::size_t>(state.threads());
    for (auto _ : state) {
        deliveries.add(population.manager().send_to_user(users[next], event));
        next += stride;
        if (next >= users.size()) next -= users.size();
    }
    deliveries.check(state);
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

// --- Registration and the summary -----------------------------------------------------------

/// How the summary shows a benchmark's items: as a rate, or as nanoseconds per item.
enum class Figure { per_second, nanoseconds };

/// One line of the summary: the median items per second of two runs, by benchmark name.
struct Comparison {
    std::string metric;
    Figure figure;
    std::string switchboard;
    std::string naive;
};

/// One side of a comparison: "<benchmark>/<name>" runs `body`.
struct Contender {
    std::string name;
    void (*body)(benchmark::State&, std::size_t);
};

class Suite {
public:
    /// Registers `benchmark` for both contenders (a run already registered is shared) and adds
    /// a line to the summary.
    void compare(std::string metric, Figure figure, const std::string& benchmark, std::size_t argument,
                 const Contender& switchboard, const Contender& naive, int threads = 1) {
        comparisons_.push_back({std::move(metric), figure, add(benchmark, switchboard, argument, threads),
                                add(benchmark, naive, argument, threads)});
    }

    const std::vector<Comparison>& comparisons() const noexcept { return comparisons_; }

private:
    /// Single-threaded runs are timed in CPU time, which busy neighbours disturb less; threaded
    /// runs in wall time, which shows what contention costs.
    std::string add(const std::string& benchmark, const Contender& contender, std::size_t argument, int threads) {
        std::string name = benchmark + "/" + contender.name;
        if (!registered_.insert(name).second) return name;
        auto* registered = benchmark::RegisterBenchmark(name.c_str(), contender.body, argument)->Threads(threads);
        if (threads > 1) registered->UseRealTime();
        return name;
    }

    std::vector<Comparison> comparisons_;
    std::set<std::string> registered_;
};

Suite register_benchmarks() {
    const Contender switchboard_register{"switchboard", register_unregister<Switchboard>};
    const Contender naive_register{"naive", register_unregister<Naive>};
    const Contender naive_send{"naive", send_to_user<Naive>};
    const Contender switchboard_send{"switchboard_scoped", send_to_user<ScopedSwitchboard>};

    Suite suite;
    suite.compare("register+unregister /s, 1 bystander *", Figure::per_second, "BM_RegisterUnregister/bystanders:1",
                  1, switchboard_register, naive_register);
    suite.compare("register+unregister /s, 1,000 bystanders *", Figure::per_second,
                  "BM_RegisterUnregister/bystanders:1000", 1'000, switchboard_register, naive_register);
    suite.compare("  same, scoped presence (to no one) **", Figure::per_second,
                  "BM_RegisterUnregister/bystanders:1000", 1'000,
                  {"switchboard_scoped", register_unregister<ScopedSwitchboard>}, naive_register);
    suite.compare("ns per send_to_user, 1 device **", Figure::nanoseconds, "BM_SendToUser/devices:1", 1,
                  switchboard_send, naive_send);
    suite.compare("ns per send_to_user, 3 devices **", Figure::nanoseconds, "BM_SendToUser/devices:3", 3,
                  switchboard_send, naive_send);
    suite.compare("ns per send_to_user, 1 device, 2 threads ** ***", Figure::nanoseconds,
                  "BM_SendToUserContended/devices:1", 1, switchboard_send, naive_send, 2);
    suite.compare("ns per delivery, broadcast to 100,000 **", Figure::nanoseconds, "BM_Broadcast100k",
                  broadcast_connections, {"switchboard_scoped", broadcast<ScopedSwitchboard>},
                  {"naive", broadcast<Naive>});
    return suite;
}

/// Google Benchmark's console output, then the medians (or single runs) side by side.
class SummaryReporter : public benchmark::ConsoleReporter {
public:
    explicit SummaryReporter(std::vector<Comparison> comparisons)
        : ConsoleReporter(OO_Tabular), comparisons_(std::move(comparisons)) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            const bool summarized = run.run_type == Run::RT_Aggregate ? run.aggregate_name == "median"
                                                                      : run.repetitions == 1;
            const auto rate = run.counters.find("items_per_second");
            if (summarized && !run.error_occurred && rate != run.counters.end())
                items_per_second_[run.run_name.function_name] = rate->second;
        }
    }

    void Finalize() override {
        ConsoleReporter::Finalize();
        print_summary(GetOutputStream());
    }

private:
    void print_summary(std::ostream& out) const {
        out << "\nMedians. Ratio > 1: Switchboard is faster. Users connect with 1 device unless stated.\n"
            << line("%-48s %12s %12s %8s", "metric", "switchboard", "naive", "ratio");
        for (const Comparison& comparison : comparisons_) out << summary_line(comparison);
        out << "*   Switchboard (default options) also sends UserOnline/UserOffline to everyone connected;\n"
               "    the naive one has no presence.\n"
               "**  Switchboard with PresenceMode::scoped and no watchers: no presence fan-out. Delivery\n"
               "    does not involve presence; it only makes building 100,000 users take O(N), not O(N^2).\n"
               "*** Throughput of 2 threads together, each sending to its own users.\n";
    }

    std::string summary_line(const Comparison& comparison) const {
        const char* metric = comparison.metric.c_str();
        const double switchboard = figure(comparison, comparison.switchboard);
        const double naive = figure(comparison, comparison.naive);
        if (switchboard <= 0 || naive <= 0) return line("%-48s %12s %12s %8s", metric, "-", "-", "-");
        if (comparison.figure == Figure::per_second)
            return line("%-48s %12.0f %12.0f %8.2f", metric, switchboard, naive, switchboard / naive);
        return line("%-48s %12.1f %12.1f %8.2f", metric, switchboard, naive, naive / switchboard);
    }

    template <class... Args>
    static std::string line(const char* format, Args... args) {
        char text[160];
        std::snprintf(text, sizeof text, format, args...);
        return std::string(text) + "\n";
    }

    /// A run's figure; 0 when it did not run (filtered out) or failed.
    double figure(const Comparison& comparison, const std::string& run) const {
        const auto found = items_per_second_.find(run);
        if (found == items_per_second_.end() || found->second <= 0) return 0;
        return comparison.figure == Figure::per_second ? found->second : 1e9 / found->second;
    }

    std::vector<Comparison> comparisons_;
    std::map<std::string, double> items_per_second_;
};

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

    SummaryReporter reporter(register_benchmarks().comparisons());
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}
