// api/src/metrics.cpp — metric families and the Prometheus text format 0.0.4.
#include "vigy/api/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace vigy::api {

namespace {

bool name_char(char c, bool first, bool colon) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
    if (colon && c == ':') return true;
    return !first && c >= '0' && c <= '9';
}

void write_labels(std::string& out, const label_pairs& labels) {
    if (labels.empty()) return;
    out += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
        if (!valid_label_name(k)) throw std::invalid_argument("invalid metric label name \"" + k + "\"");
        if (!first) out += ',';
        first = false;
        out += k;
        out += "=\"";
        out += escape_label_value(v);
        out += '"';
    }
    out += '}';
}

void check_metric_name(std::string_view name) {
    if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name \"" + std::string(name) + "\"");
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, true)) return false;
    return true;
}

bool valid_label_name(std::string_view name) noexcept {
    if (name.empty() || name.substr(0, 2) == "__") return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, false)) return false;
    return true;
}

std::string format_metric_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) return std::to_string(static_cast<int64_t>(v));
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escape_help(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void exposition_writer::family(std::string_view name, std::string_view help, std::string_view type) {
    check_metric_name(name);
    if (type != "counter" && type != "gauge" && type != "histogram" && type != "untyped" && type != "summary")
        throw std::invalid_argument("invalid metric type \"" + std::string(type) + "\"");
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += escape_help(help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void exposition_writer::sample(std::string_view name, const label_pairs& labels, double value) {
    check_metric_name(name);
    out_ += name;
    write_labels(out_, labels);
    out_ += ' ';
    out_ += format_metric_value(value);
    out_ += '\n';
}

void exposition_writer::histogram(std::string_view name, const label_pairs& labels, const std::vector<double>& bounds,
                                  const std::vector<uint64_t>& cumulative, double sum) {
    if (cumulative.size() != bounds.size() + 1)
        throw std::invalid_argument("histogram " + std::string(name) + ": cumulative counts must be bounds + 1");
    const std::string n(name);
    label_pairs with_le = labels;
    with_le.emplace_back("le", "");
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        with_le.back().second = i < bounds.size() ? format_metric_value(bounds[i]) : "+Inf";
        sample(n + "_bucket", with_le, static_cast<double>(cumulative[i]));
    }
    sample(n + "_sum", labels, sum);
    sample(n + "_count", labels, static_cast<double>(cumulative.back()));
}

void counter::inc(double v) noexcept {
    if (v > 0) value_.fetch_add(v, std::memory_order_relaxed);
}

void gauge::inc(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept {
    const std::size_t i =
        std::isnan(v) ? bounds_.size()
                      : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> histogram::cumulative() const {
    std::vector<uint64_t> out(bounds_.size() + 1);
    uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        out[i] = running;
    }
    return out;
}

uint64_t histogram::count() const { return cumulative().back(); }

std::vector<double> default_duration_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <class Child>
metric_family<Child>::metric_family(std::string name, std::string help, std::vector<std::string> labels,
                                    std::function<std::unique_ptr<Child>()> make)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), make_(std::move(make)) {}

template <class Child>
Child& metric_family<Child>::with(const std::vector<std::string>& values) {
    if (values.size() != labels_.size())
        throw std::invalid_argument("metric " + name_ + " has " + std::to_string(labels_.size()) + " labels, got " +
                                    std::to_string(values.size()) + " values");
    std::lock_guard lock(mu_);
    auto it = children_.find(values);
    if (it == children_.end()) it = children_.emplace(values, make_()).first;
    return *it->second;
}

template <class Child>
void metric_family<Child>::each(const std::function<void(const std::vector<std::string>&, const Child&)>& f) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, child] : children_) f(values, *child);
}

template class metric_family<counter>;
template class metric_family<gauge>;
template class metric_family<histogram>;

struct metrics_registry::entry {
    std::string name;
    std::string type;
    std::vector<std::string> labels;
    std::vector<double> bounds;
    std::variant<std::unique_ptr<counter_family>, std::unique_ptr<gauge_family>, std::unique_ptr<histogram_family>>
        family;
};

metrics_registry::metrics_registry() = default;
metrics_registry::~metrics_registry() = default;

namespace {

void check_labels(const std::string& metric, const std::vector<std::string>& labels, bool histogram) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (!valid_label_name(labels[i]))
            throw std::invalid_argument("metric " + metric + ": invalid label name \"" + labels[i] + "\"");
        if (histogram && labels[i] == "le")
            throw std::invalid_argument("metric " + metric + ": a histogram cannot have a label \"le\"");
        for (std::size_t j = 0; j < i; ++j)
            if (labels[j] == labels[i])
                throw std::invalid_argument("metric " + metric + ": label \"" + labels[i] + "\" repeated");
    }
}

}  // namespace

counter_family& metrics_registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
    check_metric_name(name);
    if (!ends_with(name, "_total"))
        throw std::invalid_argument("counter " + name + ": a counter's name ends in _total");
    check_labels(name, labels, false);
    std::lock_guard lock(mu_);
    for (auto& e : entries_)
        if (e->name == name) {
            if (e->type != "counter" || e->labels != labels)
                throw std::invalid_argument("metric " + name + " is already registered as a different family");
            return *std::get<std::unique_ptr<counter_family>>(e->family);
        }
    auto e = std::make_unique<entry>();
    e->name = name;
    e->type = "counter";
    e->labels = labels;
    auto fam = std::unique_ptr<counter_family>(new counter_family(
        std::move(name), std::move(help), std::move(labels), [] { return std::make_unique<vigy::api::counter>(); }));
    auto& ref = *fam;
    e->family = std::move(fam);
    entries_.push_back(std::move(e));
    if (ref.label_names().empty()) ref.get();
    return ref;
}

gauge_family& metrics_registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
    check_metric_name(name);
    check_labels(name, labels, false);
    std::lock_guard lock(mu_);
    for (auto& e : entries_)
        if (e->name == name) {
            if (e->type != "gauge" || e->labels != labels)
                throw std::invalid_argument("metric " + name + " is already registered as a different family");
            return *std::get<std::unique_ptr<gauge_family>>(e->family);
        }
    auto e = std::make_unique<entry>();
    e->name = name;
    e->type = "gauge";
    e->labels = labels;
    auto fam = std::unique_ptr<gauge_family>(new gauge_family(std::move(name), std::move(help), std::move(labels),
                                                              [] { return std::make_unique<vigy::api::gauge>(); }));
    auto& ref = *fam;
    e->family = std::move(fam);
    entries_.push_back(std::move(e));
    if (ref.label_names().empty()) ref.get();
    return ref;
}

histogram_family& metrics_registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                              std::vector<double> bounds) {
    check_metric_name(name);
    check_labels(name, labels, true);
    if (ends_with(name, "_bucket") || ends_with(name, "_sum") || ends_with(name, "_count") || ends_with(name, "_total"))
        throw std::invalid_argument("histogram " + name + ": the name must not end in _bucket, _sum, _count or _total");
    if (bounds.empty()) throw std::invalid_argument("histogram " + name + ": no buckets");
    for (std::size_t i = 0; i < bounds.size(); ++i)
        if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            throw std::invalid_argument("histogram " + name + ": bucket bounds must be finite and strictly increasing");
    std::lock_guard lock(mu_);
    for (auto& e : entries_)
        if (e->name == name) {
            if (e->type != "histogram" || e->labels != labels || e->bounds != bounds)
                throw std::invalid_argument("metric " + name + " is already registered as a different family");
            return *std::get<std::unique_ptr<histogram_family>>(e->family);
        }
    auto e = std::make_unique<entry>();
    e->name = name;
    e->type = "histogram";
    e->labels = labels;
    e->bounds = bounds;
    auto fam = std::unique_ptr<histogram_family>(
        new histogram_family(std::move(name), std::move(help), std::move(labels),
                             [bounds] { return std::make_unique<vigy::api::histogram>(bounds); }));
    auto& ref = *fam;
    e->family = std::move(fam);
    entries_.push_back(std::move(e));
    if (ref.label_names().empty()) ref.get();
    return ref;
}

void metrics_registry::add_collector(std::function<void(exposition_writer&)> collector) {
    if (!collector) throw std::invalid_argument("metrics collector is empty");
    std::lock_guard lock(mu_);
    collectors_.push_back(std::move(collector));
}

std::string metrics_registry::expose() const {
    exposition_writer w;
    std::vector<const entry*> entries;
    std::vector<std::function<void(exposition_writer&)>> collectors;
    {
        std::lock_guard lock(mu_);
        for (const auto& e : entries_) entries.push_back(e.get());
        collectors = collectors_;
    }
    auto pairs = [](const std::vector<std::string>& names, const std::vector<std::string>& values) {
        label_pairs p;
        p.reserve(names.size());
        for (std::size_t i = 0; i < names.size(); ++i) p.emplace_back(names[i], values[i]);
        return p;
    };
    for (const entry* e : entries) {
        std::visit(
            [&](const auto& fam) {
                using fam_t = std::decay_t<decltype(*fam)>;
                bool any = false;
                fam->each([&](const std::vector<std::string>&, const auto&) { any = true; });
                if (!any) return;
                w.family(fam->name(), fam->help(), e->type);
                if constexpr (std::is_same_v<fam_t, histogram_family>) {
                    fam->each([&](const std::vector<std::string>& values, const vigy::api::histogram& h) {
                        w.histogram(fam->name(), pairs(fam->label_names(), values), h.bounds(), h.cumulative(),
                                    h.sum());
                    });
                } else {
                    fam->each([&](const std::vector<std::string>& values, const auto& c) {
                        w.sample(fam->name(), pairs(fam->label_names(), values), c.value());
                    });
                }
            },
            e->family);
    }
    for (const auto& c : collectors) c(w);
    return w.take();
}

}  // namespace vigy::api
