// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// How the core benchmark registers runs two by two and prints their medians side by side:
/// `Suite` (tables of comparisons; each run registered once) and `SummaryReporter` (Google
/// Benchmark's console output, then the tables).

#include <cstddef>
#include <cstdio>
#include <deque>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

namespace switchboard::bench {

/// How a run's figure is shown: items per second, nanoseconds per item, or the run's
/// `bytes_per_item` counter.
enum class Figure { per_second, nanoseconds, bytes };

/// The counter a `Figure::bytes` run sets.
inline constexpr const char* bytes_per_item = "bytes_per_item";

/// One side of a comparison: "<benchmark>/<name>" runs `body(state, argument)`.
struct Contender {
    std::string name;
    void (*body)(benchmark::State&, std::size_t);
};

/// One line of a table: two runs by name (the second may be empty: a figure of its own).
struct Comparison {
    std::string metric;
    Figure figure;
    std::string left;
    std::string right;
};

/// One table of the summary.
struct Table {
    std::string title;
    std::string left, right; ///< column names
    /// True: the ratio is left's figure over right's (what the left costs, time or bytes);
    /// false: how many times faster the left is.
    bool ratio_is_cost;
    std::string notes;
    std::vector<Comparison> rows;
};

class Suite {
public:
    Table& table(Table table) { return tables_.emplace_back(std::move(table)); }

    /// Registers `benchmark` for both contenders (a run already registered is shared) and adds a
    /// row to `table`.
    void compare(Table& table, std::string metric, Figure figure, const std::string& benchmark, std::size_t argument,
                 const Contender& left, const Contender& right, int threads = 1) {
        table.rows.push_back({std::move(metric), figure, add(benchmark, left, argument, threads),
                              add(benchmark, right, argument, threads)});
    }

    /// A row with a left figure only.
    void single(Table& table, std::string metric, Figure figure, const std::string& benchmark, std::size_t argument,
                const Contender& left) {
        table.rows.push_back({std::move(metric), figure, add(benchmark, left, argument, 1), ""});
    }

    const std::deque<Table>& tables() const noexcept { return tables_; }

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

    std::deque<Table> tables_; ///< rows are added to a table by reference
    std::set<std::string> registered_;
};

/// Google Benchmark's console output, then each table with the medians (or single runs).
class SummaryReporter : public benchmark::ConsoleReporter {
public:
    explicit SummaryReporter(std::deque<Table> tables) : ConsoleReporter(OO_Tabular), tables_(std::move(tables)) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            const bool summarized = run.run_type == Run::RT_Aggregate ? run.aggregate_name == "median"
                                                                      : run.repetitions == 1;
            if (!summarized || run.error_occurred) continue;
            for (const char* counter : {"items_per_second", bytes_per_item})
                if (const auto found = run.counters.find(counter); found != run.counters.end())
                    counters_[{run.run_name.function_name, counter}] = found->second;
        }
    }

    void Finalize() override {
        ConsoleReporter::Finalize();
        for (const Table& table : tables_) print(GetOutputStream(), table);
    }

private:
    void print(std::ostream& out, const Table& table) const {
        out << "\n" << table.title << "\n" << line("%-48s %12s %12s %8s", "metric", table.left.c_str(),
                                                      table.right.c_str(), "ratio");
        for (const Comparison& row : table.rows) out << row_line(table, row);
        out << table.notes;
    }

    std::string row_line(const Table& table, const Comparison& row) const {
        const double left = figure(row, row.left);
        const double right = row.right.empty() ? 0 : figure(row, row.right);
        const char* format = row.figure == Figure::per_second ? "%-48s %12.0f %12s %8s" : "%-48s %12.1f %12s %8s";
        if (left <= 0) return line("%-48s %12s %12s %8s", row.metric.c_str(), "-", "-", "-");
        if (right <= 0) return line(format, row.metric.c_str(), left, "", "");
        const bool higher_is_better = row.figure == Figure::per_second;
        const double ratio = table.ratio_is_cost == higher_is_better ? right / left : left / right;
        char right_text[32];
        std::snprintf(right_text, sizeof right_text, row.figure == Figure::per_second ? "%.0f" : "%.1f", right);
        char ratio_text[32];
        std::snprintf(ratio_text, sizeof ratio_text, "%.2f", ratio);
        return line(format, row.metric.c_str(), left, right_text, ratio_text);
    }

    template <class... Args>
    static std::string line(const char* format, Args... args) {
        char text[160];
        std::snprintf(text, sizeof text, format, args...);
        return std::string(text) + "\n";
    }

    /// A run's figure; 0 when it did not run (filtered out) or failed.
    double figure(const Comparison& row, const std::string& run) const {
        const bool bytes = row.figure == Figure::bytes;
        const auto found = counters_.find({run, bytes ? bytes_per_item : "items_per_second"});
        if (found == counters_.end() || found->second <= 0) return 0;
        return row.figure == Figure::nanoseconds ? 1e9 / found->second : found->second;
    }

    std::deque<Table> tables_;
    std::map<std::pair<std::string, std::string>, double> counters_; ///< (run, counter) -> median
};

} // namespace switchboard::bench
