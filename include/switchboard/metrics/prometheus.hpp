// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// `PrometheusText`: metrics written in Prometheus' text exposition format 0.0.4, for a scrape
/// endpoint (`Content-Type: text/plain; version=0.0.4`). Every metric name gets one prefix
/// (`switchboard_` by default). A family's `# HELP` and `# TYPE` lines come once, followed by all of
/// its samples; counters must end in `_total`; label values and help text are escaped; numbers are
/// written without the locale (`std::to_chars`), `+Inf`, `-Inf` and `NaN` as the format spells them.
///
/// @code
///   PrometheusText out;
///   out.counter("frames_delivered_total", "Frames handed to the transport", metrics.frames_delivered);
///   out.family("closes_total", MetricType::counter, "Connections closed, by close code");
///   out.sample(closes_1000, {{"code", "1000"}});
///   out.histogram("send_duration_seconds", "Time in one send call", latency.snapshot(), 1e9);
///   respond(std::move(out).str());
/// @endcode
///
/// Threads: one `PrometheusText` belongs to the thread writing it; the figures it writes are
/// read by the caller (lock-free, see `Histogram` and `ManagerMetrics`).
///
/// Misuse is a programming error and throws `std::invalid_argument`: an invalid metric or label
/// name, a counter not ending in `_total`, a family written twice, a sample before any family.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <switchboard/metrics/histogram.hpp>

namespace switchboard {

enum class MetricType { counter, gauge, histogram };

struct MetricLabel {
    std::string_view name;
    std::string_view value;
};
using MetricLabels = std::initializer_list<MetricLabel>;

class PrometheusText {
public:
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

    explicit PrometheusText(std::string prefix = "switchboard_") : prefix_(std::move(prefix)) {}

    /// Starts a family: its `# HELP` and `# TYPE` lines. The samples that follow belong to it.
    PrometheusText& family(std::string_view name, MetricType type, std::string_view help);
    /// A sample of the current counter or gauge family.
    PrometheusText& sample(double value, MetricLabels labels = {});
    /// The buckets, sum and count of the current histogram family. `per_unit` is how many of the
    /// histogram's integer observations make the family's base unit (1e9 nanoseconds a second).
    PrometheusText& sample(const Histogram::Snapshot& histogram, double per_unit = 1, MetricLabels labels = {});

    /// A family with one sample.
    PrometheusText& counter(std::string_view name, std::string_view help, double value) {
        return family(name, MetricType::counter, help).sample(value);
    }
    PrometheusText& gauge(std::string_view name, std::string_view help, double value) {
        return family(name, MetricType::gauge, help).sample(value);
    }
    PrometheusText& histogram(std::string_view name, std::string_view help, const Histogram::Snapshot& histogram,
                              double per_unit = 1) {
        return family(name, MetricType::histogram, help).sample(histogram, per_unit);
    }

    const std::string& str() const& noexcept { return text_; }
    std::string str() && noexcept { return std::move(text_); }

private:
    void write_sample(std::string_view suffix, MetricLabels labels, const MetricLabel* extra, double value);
    static void append_number(std::string& out, double value);
    static void append_escaped(std::string& out, std::string_view text, bool quoted);
    static bool valid_name(std::string_view name, bool label);

    std::string prefix_;
    std::string text_;
    std::string family_;   ///< the current family's full name; empty before the first
    MetricType type_ = MetricType::counter;
    std::set<std::string, std::less<>> written_;
};

// --- Implementation -------------------------------------------------------------------------

inline PrometheusText& PrometheusText::family(std::string_view name, MetricType type, std::string_view help) {
    std::string full = prefix_ + std::string(name);
    if (!valid_name(full, false)) throw std::invalid_argument("PrometheusText: invalid metric name " + full);
    if (type == MetricType::counter && (full.size() < 6 || full.compare(full.size() - 6, 6, "_total") != 0))
        throw std::invalid_argument("PrometheusText: counter " + full + " must end in _total");
    if (!written_.insert(full).second) throw std::invalid_argument("PrometheusText: family " + full + " written twice");
    family_ = std::move(full);
    type_ = type;
    text_ += "# HELP ";
    text_ += family_;
    text_ += ' ';
    append_escaped(text_, help, false);
    text_ += "\n# TYPE ";
    text_ += family_;
    text_ += type == MetricType::counter ? " counter\n" : type == MetricType::gauge ? " gauge\n" : " histogram\n";
    return *this;
}

inline PrometheusText& PrometheusText::sample(double value, MetricLabels labels) {
    if (family_.empty() || type_ == MetricType::histogram)
        throw std::invalid_argument("PrometheusText: a counter or gauge sample needs a counter or gauge family");
    write_sample({}, labels, nullptr, value);
    return *this;
}

inline PrometheusText& PrometheusText::sample(const Histogram::Snapshot& histogram, double per_unit,
                                             MetricLabels labels) {
    if (family_.empty() || type_ != MetricType::histogram)
        throw std::invalid_argument("PrometheusText: a histogram sample needs a histogram family");
    std::string bound;
    for (std::size_t i = 0; i < histogram.cumulative.size(); ++i) {
        bound.clear();
        const bool above_all = i == histogram.upper_bounds.size();
        append_number(bound, above_all ? HUGE_VAL : static_cast<double>(histogram.upper_bounds[i]) / per_unit);
        const MetricLabel le{"le", bound};
        write_sample("_bucket", labels, &le, static_cast<double>(histogram.cumulative[i]));
    }
    write_sample("_sum", labels, nullptr, static_cast<double>(histogram.sum) / per_unit);
    write_sample("_count", labels, nullptr, static_cast<double>(histogram.count()));
    return *this;
}

inline void PrometheusText::write_sample(std::string_view suffix, MetricLabels labels, const MetricLabel* extra,
                                         double value) {
    text_ += family_;
    text_ += suffix;
    bool first = true;
    const auto write_label = [&](const MetricLabel& label) {
        if (!valid_name(label.name, true))
            throw std::invalid_argument("PrometheusText: invalid label name " + std::string(label.name));
        text_ += first ? '{' : ',';
        first = false;
        text_ += label.name;
        text_ += "=\"";
        append_escaped(text_, label.value, true);
        text_ += '"';
    };
    for (const MetricLabel& label : labels) write_label(label);
    if (extra) write_label(*extra);
    if (!first) text_ += '}';
    text_ += ' ';
    append_number(text_, value);
    text_ += '\n';
}

/// The shortest text that reads back as `value`, whatever the locale.
inline void PrometheusText::append_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        char buffer[32];
        const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
        out.append(buffer, error == std::errc{} ? end : buffer);
    }
}

/// Help text escapes `\` and newlines; label values also `"`.
inline void PrometheusText::append_escaped(std::string& out, std::string_view text, bool quoted) {
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && quoted)
            out += "\\\"";
        else
            out += c;
    }
}

/// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: [a-zA-Z_][a-zA-Z0-9_]*, not starting `__`.
inline bool PrometheusText::valid_name(std::string_view name, bool label) {
    if (name.empty() || (label && name.substr(0, 2) == "__")) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

} // namespace switchboard
