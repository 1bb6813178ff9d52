/// vigy/api/metrics.hpp — a small Prometheus metrics registry and the text
/// exposition format 0.0.4 (what GET /metrics serves).
///
/// Families are counters, gauges and histograms with fixed label names; a child
/// per label-value tuple is created on first use and lives as long as the
/// registry (references to it stay valid). Collectors add families computed at
/// scrape time (the runtime's counters, vigies by state) through the same
/// writer, so every line is escaped and validated in one place.
///
/// Output rules (promtool check metrics clean): `# HELP` (escaping \ and
/// newline) and `# TYPE` once per family, samples of a family together, label
/// values escaped (\\, \", \n), values as integers when integral, +Inf/-Inf/NaN;
/// histograms with cumulative `_bucket{le="..."}` ending in le="+Inf", then
/// `_sum` and `_count` (= the +Inf bucket). Names are checked:
/// [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* (not "__…",
/// not "le" on histograms) for labels; a bad one is std::invalid_argument.
///
/// Threading: everything is thread-safe; inc/set/observe on a child are lock-free.
#ifndef VIGY_API_METRICS_HPP
#define VIGY_API_METRICS_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigy::api {

/// Content-Type of the text exposition format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Label name/value pairs of one sample, in the family's label order.
using label_pairs = std::vector<std::pair<std::string, std::string>>;

/// Writes exposition text; used by the registry and by collectors.
class exposition_writer {
public:
    /// Starts a family: "# HELP name help" and "# TYPE name type" (type:
    /// "counter", "gauge", "histogram", "untyped"). Throws std::invalid_argument
    /// for a bad name or type.
    void family(std::string_view name, std::string_view help, std::string_view type);
    /// One sample line `name{labels} value`. `name` may carry a suffix of the
    /// current family (_total is part of a counter's name; _bucket/_sum/_count).
    void sample(std::string_view name, const label_pairs& labels, double value);
    /// A histogram's lines from per-bucket cumulative counts: `bounds` are the
    /// finite upper bounds (ascending), `cumulative` has bounds.size() + 1
    /// entries (the last one = +Inf = count).
    void histogram(std::string_view name, const label_pairs& labels, const std::vector<double>& bounds,
                   const std::vector<uint64_t>& cumulative, double sum);

    /// Everything written so far.
    const std::string& text() const noexcept { return out_; }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

/// Formats a sample value as the exposition format wants it ("1", "0.25", "+Inf").
std::string format_metric_value(double v);
/// Escapes a label value (\\, \", \n).
std::string escape_label_value(std::string_view v);
/// Escapes HELP text (\\, \n).
std::string escape_help(std::string_view v);
/// True for a valid metric name / label name.
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

/// A monotonically increasing value.
class counter {
public:
    /// Adds `v` (>= 0; a negative v is ignored — counters never go down).
    void inc(double v = 1.0) noexcept;
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

/// A value that goes up and down.
class gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void inc(double v = 1.0) noexcept;
    void dec(double v = 1.0) noexcept { inc(-v); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

/// Observations counted into fixed buckets (upper bounds, seconds for durations).
class histogram {
public:
    explicit histogram(std::vector<double> bounds);
    void observe(double v) noexcept;
    /// Cumulative counts per bound plus +Inf (bounds().size() + 1 entries) and the sum.
    std::vector<uint64_t> cumulative() const;
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
    uint64_t count() const;
    const std::vector<double>& bounds() const noexcept { return bounds_; }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  ///< per bucket (not cumulative), last = +Inf
    std::atomic<double> sum_{0.0};
};

/// Default duration buckets, seconds: 0.0005 … 10.
std::vector<double> default_duration_buckets();

/// A family of one metric type with fixed label names.
template <class Child>
class metric_family {
public:
    /// The child for these label values (in label-name order), created on first
    /// use. Throws std::invalid_argument when the count differs from the label names.
    Child& with(const std::vector<std::string>& values);
    /// The child of a family without labels.
    Child& get() { return with({}); }

    const std::string& name() const noexcept { return name_; }
    const std::string& help() const noexcept { return help_; }
    const std::vector<std::string>& label_names() const noexcept { return labels_; }

    /// Calls f(label values, child) for every child, sorted by label values.
    void each(const std::function<void(const std::vector<std::string>&, const Child&)>& f) const;

private:
    friend class metrics_registry;
    metric_family(std::string name, std::string help, std::vector<std::string> labels,
                  std::function<std::unique_ptr<Child>()> make);
    std::string name_, help_;
    std::vector<std::string> labels_;
    std::function<std::unique_ptr<Child>()> make_;
    mutable std::mutex mu_;
    std::map<std::vector<std::string>, std::unique_ptr<Child>> children_;
};

using counter_family = metric_family<counter>;
using gauge_family = metric_family<gauge>;
using histogram_family = metric_family<histogram>;

/// The registry behind GET /metrics.
class metrics_registry {
public:
    metrics_registry();
    ~metrics_registry();
    metrics_registry(const metrics_registry&) = delete;
    metrics_registry& operator=(const metrics_registry&) = delete;

    /// Registers (or returns the existing, when name, type and labels are the
    /// same) a family. A counter's name ends in "_total". Throws
    /// std::invalid_argument for a bad name/label, or a name already taken by a
    /// different family.
    counter_family& counter(std::string name, std::string help, std::vector<std::string> labels = {});
    gauge_family& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
    histogram_family& histogram(std::string name, std::string help, std::vector<std::string> labels = {},
                                std::vector<double> bounds = default_duration_buckets());

    /// Adds a scrape-time collector: called from expose() (on the scraping
    /// worker thread), it writes whole families through the writer. It must not
    /// register families or call expose().
    void add_collector(std::function<void(exposition_writer&)> collector);

    /// The exposition text of every family (registration order), then every collector.
    std::string expose() const;

private:
    struct entry;
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<entry>> entries_;
    std::vector<std::function<void(exposition_writer&)>> collectors_;
};

}  // namespace vigy::api

#endif  // VIGY_API_METRICS_HPP
