// tick_context.cpp — the per-tick context behind vigy_tick_api: buffers, kv
// tracking, condition transitions, JSON read-out.
#include "vigy/host/tick_context.hpp"

#include "vigy/sdk.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <stdexcept>

namespace vigy::host {

namespace {

constexpr std::array<std::string_view, 10> action_kinds = {"noop",   "defer",  "pull",   "push",    "create",
                                                           "update", "delete", "apply",  "restart", "custom"};
constexpr std::array<std::string_view, 3> action_results = {"ok", "failed", "skipped"};
constexpr std::array<std::string_view, 5> log_levels = {"trace", "debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 3> condition_statuses = {"false", "true", "unknown"};  // VIGY_CONDITION_*
constexpr std::array<std::string_view, 2> event_types = {"Normal", "Warning"};                // VIGY_EVENT_*

template <size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view s) {
    return std::find(set.begin(), set.end(), s) != set.end();
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

bool is_valid_action_kind(std::string_view kind) noexcept { return one_of(action_kinds, kind); }

tick_clock tick_clock_from_kv(const kv_map& kv) noexcept {
    tick_clock c;
    auto count = kv.find(kv_key_tick_count);
    int64_t previous_count = (count != kv.end() && count->second.is_int()) ? count->second.as_int() : 0;
    c.tick_count = previous_count + 1;
    auto prev = kv.find(kv_key_prev_tick_ms);
    if (prev != kv.end() && prev->second.is_int()) c.previous_tick_ms = prev->second.as_int();
    return c;
}

// ---- construction --------------------------------------------------------------------

tick_context::tick_context(tick_params p) : tick_context(std::move(p), false) {}

tick_context::tick_context(tick_params p, bool write_clock)
    : tick_start_ms_(p.tick_start_ms),
      previous_tick_ms_(p.previous_tick_ms),
      tick_count_(p.tick_count),
      vigy_name_(std::move(p.vigy_name)),
      vigy_id_(std::move(p.vigy_id)),
      previous_conditions_(std::move(p.previous_conditions)),
      kv_(std::move(p.kv)) {
    c_.tick.struct_size = sizeof(vigy_tick);
    c_.tick.reserved = 0;
    c_.tick.api = &tick_api();
    c_.self = this;
    if (write_clock) {
        kv_set(kv_key_tick_count, value::integer(tick_count_));
        kv_set(kv_key_prev_tick_ms, value::integer(tick_start_ms_));
    }
}

tick_context tick_context::begin(kv_map kv, int64_t now_ms, std::string vigy_name, std::string vigy_id,
                                 std::vector<condition_record> previous_conditions) {
    tick_clock clock = tick_clock_from_kv(kv);
    tick_params p;
    p.tick_start_ms = now_ms;
    p.previous_tick_ms = clock.previous_tick_ms;
    p.tick_count = clock.tick_count;
    p.vigy_name = std::move(vigy_name);
    p.vigy_id = std::move(vigy_id);
    p.kv = std::move(kv);
    p.previous_conditions = std::move(previous_conditions);
    return tick_context(std::move(p), true);
}

tick_context* tick_context::from(vigy_tick* t) noexcept { return reinterpret_cast<c_handle*>(t)->self; }

void tick_context::set_trigger(std::optional<value> trigger) {
    trigger_ = std::move(trigger);
    trigger_c_ = vigy_nil();
    if (!trigger_) {
        trigger_arena_.reset();
        return;
    }
    if (trigger_arena_) trigger_arena_->reset();
    else trigger_arena_ = std::make_unique<arena>();
    trigger_c_ = trigger_->to_vigy(trigger_arena_->c());
}

// ---- mechanism ----------------------------------------------------------------------------

void tick_context::emit_action(action_record a) {
    if (!is_valid_action_kind(a.kind))
        throw std::invalid_argument("unknown action kind " + quoted(a.kind) + " (valid kinds: " +
                                    std::string(valid_action_kinds) + ")");
    if (a.result && !one_of(action_results, *a.result))
        throw std::invalid_argument("unknown action result " + quoted(*a.result) + " (valid results: " +
                                    std::string(valid_action_results) + ")");
    actions_.push_back(std::move(a));
}

void tick_context::set_desired(std::string_view key, value v) { desired_.set(key, std::move(v)); }
void tick_context::set_observed(std::string_view key, value v) { observed_.set(key, std::move(v)); }

void tick_context::set_condition(std::string_view name, std::string_view status, std::optional<std::string> reason,
                                 std::optional<std::string> message) {
    if (!one_of(condition_statuses, status))
        throw std::invalid_argument("unknown condition status " + quoted(status) + " (valid: true, false, unknown)");
    if (name.empty()) throw std::invalid_argument("condition name must not be empty");
    condition_record c;
    c.name = std::string(name);
    c.status = std::string(status);
    c.reason = std::move(reason);
    c.message = std::move(message);
    c.last_transition_ms = tick_start_ms_;
    for (const condition_record& prev : previous_conditions_)
        if (prev.name == name && prev.status == status) c.last_transition_ms = prev.last_transition_ms;
    for (condition_record& cur : conditions_) {
        if (cur.name == name) {
            cur = std::move(c);
            return;
        }
    }
    conditions_.push_back(std::move(c));
}

void tick_context::log(std::string_view level, std::string_view message) {
    if (!one_of(log_levels, level))
        throw std::invalid_argument("unknown log level " + quoted(level) + " (valid: trace, debug, info, warn, error)");
    log_.push_back(log_record{std::string(level), std::string(message)});
}

void tick_context::trace(std::string_view key, value v) { trace_.set(key, std::move(v)); }

void tick_context::metric(std::string_view name, double v) {
    for (auto& m : metrics_) {
        if (m.first == name) {
            m.second = v;
            return;
        }
    }
    metrics_.emplace_back(std::string(name), v);
}

void tick_context::event(std::string_view type, std::string_view reason, std::string_view message) {
    if (!one_of(event_types, type))
        throw std::invalid_argument("unknown event type " + quoted(type) + " (valid: Normal, Warning)");
    events_.push_back(event_record{std::string(type), std::string(reason), std::string(message)});
}

const value* tick_context::kv_get(std::string_view key) const noexcept {
    auto it = kv_.find(key);
    return it == kv_.end() ? nullptr : &it->second;
}

void tick_context::kv_set(std::string_view key, value v) {
    auto it = kv_.find(key);
    if (it == kv_.end())
        kv_.emplace(std::string(key), std::move(v));
    else
        it->second = std::move(v);
    if (dirty_.find(key) == dirty_.end()) dirty_.emplace(key);
    if (auto d = deleted_.find(key); d != deleted_.end()) deleted_.erase(d);
}

bool tick_context::kv_has(std::string_view key) const noexcept { return kv_.find(key) != kv_.end(); }

void tick_context::kv_del(std::string_view key) {
    auto it = kv_.find(key);
    if (it == kv_.end()) return;
    kv_.erase(it);
    if (auto d = dirty_.find(key); d != dirty_.end()) dirty_.erase(d);
    deleted_.emplace(key);
}

std::vector<condition_record> tick_context::merged_conditions() const {
    std::vector<condition_record> out;
    for (const condition_record& prev : previous_conditions_) {
        bool replaced = std::any_of(conditions_.begin(), conditions_.end(),
                                    [&](const condition_record& c) { return c.name == prev.name; });
        if (!replaced) out.push_back(prev);
    }
    out.insert(out.end(), conditions_.begin(), conditions_.end());
    return out;
}

kv_changes tick_context::changes() const {
    kv_changes out;
    for (const std::string& k : dirty_)
        if (auto it = kv_.find(k); it != kv_.end()) out.upserts.emplace(k, it->second);
    out.deleted = deleted_;
    return out;
}

// ---- JSON -----------------------------------------------------------------------------------

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put_string(json_writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void put_key(json_writer& w, std::string_view s) { w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

// Writes a value through its own JSON text (keeps one mapping in value.cpp).
void put_value(json_writer& w, const value& v) {
    std::string text = v.to_json();
    w.RawValue(text.data(), text.size(), rapidjson::kObjectType);
}

void put_number(json_writer& w, double d) {
    if (std::isfinite(d))
        w.Double(d);
    else
        w.Null();
}

void write_actions(json_writer& w, const std::vector<action_record>& actions) {
    w.StartArray();
    for (const action_record& a : actions) {
        w.StartObject();
        put_key(w, "kind");
        put_string(w, a.kind);
        if (a.payload) {
            put_key(w, "payload");
            put_value(w, *a.payload);
        }
        if (a.result) {
            put_key(w, "result");
            put_string(w, *a.result);
        }
        if (a.message) {
            put_key(w, "message");
            put_string(w, *a.message);
        }
        w.EndObject();
    }
    w.EndArray();
}

void write_conditions(json_writer& w, const std::vector<condition_record>& conditions) {
    w.StartArray();
    for (const condition_record& c : conditions) {
        w.StartObject();
        put_key(w, "name");
        put_string(w, c.name);
        put_key(w, "status");
        put_string(w, c.status);
        if (c.reason) {
            put_key(w, "reason");
            put_string(w, *c.reason);
        }
        if (c.message) {
            put_key(w, "message");
            put_string(w, *c.message);
        }
        put_key(w, "last_transition");
        put_string(w, format_rfc3339_ms(c.last_transition_ms));
        w.EndObject();
    }
    w.EndArray();
}

void write_log(json_writer& w, const std::vector<log_record>& lines) {
    w.StartArray();
    for (const log_record& l : lines) {
        w.StartObject();
        put_key(w, "level");
        put_string(w, l.level);
        put_key(w, "message");
        put_string(w, l.message);
        w.EndObject();
    }
    w.EndArray();
}

void write_metrics(json_writer& w, const std::vector<std::pair<std::string, double>>& metrics) {
    w.StartObject();
    for (const auto& m : metrics) {
        put_key(w, m.first);
        put_number(w, m.second);
    }
    w.EndObject();
}

void write_events(json_writer& w, const std::vector<event_record>& events) {
    w.StartArray();
    for (const event_record& e : events) {
        w.StartObject();
        put_key(w, "type");
        put_string(w, e.type);
        put_key(w, "reason");
        put_string(w, e.reason);
        put_key(w, "message");
        put_string(w, e.message);
        w.EndObject();
    }
    w.EndArray();
}

void write_kv_changes(json_writer& w, const kv_changes& ch) {
    w.StartObject();
    put_key(w, "set");
    w.StartObject();
    for (const auto& [k, v] : ch.upserts) {
        put_key(w, k);
        put_value(w, v);
    }
    w.EndObject();
    put_key(w, "deleted");
    w.StartArray();
    for (const std::string& k : ch.deleted) put_string(w, k);
    w.EndArray();
    w.EndObject();
}

template <class F>
std::string render(F&& f) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    f(w);
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

std::string tick_context::actions_json() const {
    return render([&](json_writer& w) { write_actions(w, actions_); });
}
std::string tick_context::desired_json() const { return desired_.to_json(); }
std::string tick_context::observed_json() const { return observed_.to_json(); }
std::string tick_context::conditions_json() const { return conditions_to_json(conditions_); }
std::string tick_context::log_json() const {
    return render([&](json_writer& w) { write_log(w, log_); });
}
std::string tick_context::trace_json() const { return trace_.to_json(); }
std::string tick_context::metrics_json() const {
    return render([&](json_writer& w) { write_metrics(w, metrics_); });
}
std::string tick_context::events_json() const {
    return render([&](json_writer& w) { write_events(w, events_); });
}
std::string tick_context::kv_changes_json() const {
    return render([&](json_writer& w) { write_kv_changes(w, changes()); });
}

std::string tick_context::to_json() const {
    return render([&](json_writer& w) {
        w.StartObject();
        put_key(w, "tick");
        w.StartObject();
        put_key(w, "start");
        put_string(w, format_rfc3339_ms(tick_start_ms_));
        put_key(w, "start_ms");
        w.Int64(tick_start_ms_);
        put_key(w, "previous_tick_ms");
        if (previous_tick_ms_ < 0)
            w.Null();
        else
            w.Int64(previous_tick_ms_);
        put_key(w, "tick_count");
        w.Int64(tick_count_);
        w.EndObject();
        put_key(w, "actions");
        write_actions(w, actions_);
        put_key(w, "desired");
        put_value(w, desired_);
        put_key(w, "observed");
        put_value(w, observed_);
        put_key(w, "conditions");
        write_conditions(w, conditions_);
        put_key(w, "log");
        write_log(w, log_);
        put_key(w, "trace");
        put_value(w, trace_);
        put_key(w, "metrics");
        write_metrics(w, metrics_);
        put_key(w, "events");
        write_events(w, events_);
        put_key(w, "output");
        put_string(w, output_);
        put_key(w, "kv_changes");
        write_kv_changes(w, changes());
        w.EndObject();
    });
}

std::string conditions_to_json(const std::vector<condition_record>& conditions) {
    return render([&](json_writer& w) { write_conditions(w, conditions); });
}

std::vector<condition_record> conditions_from_json(std::string_view text) {
    value v = value::from_json(text);
    if (!v.is_list()) throw json_error("conditions: expected a JSON array");
    std::vector<condition_record> out;
    for (const value& item : v.items()) {
        const value* name = item.find("name");
        const value* status = item.find("status");
        if (!name || !name->is_stringish() || !status || !status->is_stringish())
            throw json_error("conditions: each condition needs string \"name\" and \"status\"");
        condition_record c;
        c.name = name->text();
        c.status = status->text();
        if (const value* r = item.find("reason"); r && r->is_stringish()) c.reason = r->text();
        if (const value* m = item.find("message"); m && m->is_stringish()) c.message = m->text();
        if (const value* t = item.find("last_transition")) {
            if (t->is_int()) {
                c.last_transition_ms = t->as_int();
            } else if (t->is_stringish()) {
                std::optional<int64_t> ms = parse_rfc3339_ms(t->text());
                if (!ms) throw json_error("conditions: malformed last_transition " + quoted(t->text()));
                c.last_transition_ms = *ms;
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

// ---- timestamps ------------------------------------------------------------------------------

std::string format_rfc3339_ms(int64_t epoch_ms) {
    int64_t secs = epoch_ms / 1000;
    int64_t ms = epoch_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view s) noexcept {
    auto digits = [&](size_t pos, size_t n, int& out) {
        if (pos + n > s.size()) return false;
        int v = 0;
        for (size_t i = pos; i < pos + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            v = v * 10 + (s[i] - '0');
        }
        out = v;
        return true;
    };
    int year, mon, day, hour, min, sec;
    if (!digits(0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(5, 2, mon) || s[7] != '-' ||
        !digits(8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, hour) ||
        s[13] != ':' || !digits(14, 2, min) || s[16] != ':' || !digits(17, 2, sec))
        return std::nullopt;
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return std::nullopt;
    size_t pos = 19;
    int64_t ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int n = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (n < 3) ms = ms * 10 + (s[pos] - '0');
            ++n;
            ++pos;
        }
        if (n == 0) return std::nullopt;
        for (int i = n; i < 3; ++i) ms *= 10;
    }
    int64_t offset_s = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(pos + 4, 2, om))
            return std::nullopt;
        offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_s;
    return secs * 1000 + ms;
}

// ---- the C vtable -----------------------------------------------------------------------------

struct tick_slots {
    static tick_context& self(vigy_tick* t) { return *tick_context::from(t); }

    static std::string_view view(vigy_str s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }
    static std::optional<std::string> optional(vigy_str s) {
        if (!s.ptr) return std::nullopt;
        return std::string(view(s));
    }

    /// sdk::fence, plus the two host exceptions that have a better status than INTERNAL.
    template <class F>
    static vigy_status fence(vigy_error* err, F&& f) noexcept {
        return vigy::sdk::fence(err, [&] {
            try {
                f();
            } catch (const std::invalid_argument& e) {
                vigy::sdk::fail(VIGY_INVALID_ARGUMENT, e.what());
            } catch (const arena_exhausted& e) {
                vigy::sdk::fail(VIGY_RESOURCE_EXHAUSTED, e.what());
            }
        });
    }

    static value from(const vigy_value* v) { return v ? value::from_vigy(*v) : value(); }

    static void info(vigy_tick* t, vigy_tick_info* out) {
        if (!out || out->struct_size < sizeof(uint32_t) * 2) return;
        tick_context& c = self(t);
        // Fill only the fields the caller's struct has room for.
        vigy_tick_info full{};
        full.struct_size = out->struct_size;
        full.tick_start_ms = c.tick_start_ms_;
        full.previous_tick_ms = c.previous_tick_ms_;
        full.tick_count = c.tick_count_;
        full.vigy_name = vigy_str{c.vigy_name_.c_str(), c.vigy_name_.size()};
        full.vigy_id = vigy_str{c.vigy_id_.c_str(), c.vigy_id_.size()};
        full.trigger = c.trigger_ ? &c.trigger_c_ : nullptr;
        size_t n = out->struct_size < sizeof full ? out->struct_size : sizeof full;
        std::memcpy(out, &full, n);
    }
    static vigy_status emit_action(vigy_tick* t, const vigy_action* a, vigy_error* err) {
        return fence(err, [&] {
            if (!a) throw std::invalid_argument("action must not be NULL");
            action_record r;
            r.kind = std::string(view(a->kind));
            if (a->payload) r.payload = value::from_vigy(*a->payload);
            r.result = optional(a->result);
            r.message = optional(a->message);
            self(t).emit_action(std::move(r));
        });
    }
    static vigy_status set_desired(vigy_tick* t, vigy_str key, const vigy_value* v, vigy_error* err) {
        return fence(err, [&] { self(t).set_desired(view(key), from(v)); });
    }
    static vigy_status set_observed(vigy_tick* t, vigy_str key, const vigy_value* v, vigy_error* err) {
        return fence(err, [&] { self(t).set_observed(view(key), from(v)); });
    }
    static vigy_status set_condition(vigy_tick* t, vigy_str name, int32_t status, vigy_str reason, vigy_str message,
                                     vigy_error* err) {
        return fence(err, [&] {
            if (status < 0 || status > 2)
                throw std::invalid_argument("unknown condition status " + std::to_string(status) +
                                            " (valid: VIGY_CONDITION_FALSE, _TRUE, _UNKNOWN)");
            self(t).set_condition(view(name), condition_statuses[static_cast<size_t>(status)], optional(reason),
                                  optional(message));
        });
    }
    static vigy_status log(vigy_tick* t, int32_t level, vigy_str message, vigy_error* err) {
        return fence(err, [&] {
            if (level < 0 || level > 4)
                throw std::invalid_argument("unknown log level " + std::to_string(level) +
                                            " (valid: VIGY_LOG_TRACE .. VIGY_LOG_ERROR)");
            self(t).log(log_levels[static_cast<size_t>(level)], view(message));
        });
    }
    static vigy_status trace(vigy_tick* t, vigy_str key, const vigy_value* v, vigy_error* err) {
        return fence(err, [&] { self(t).trace(view(key), from(v)); });
    }
    static vigy_status metric(vigy_tick* t, vigy_str name, double v, vigy_error* err) {
        return fence(err, [&] { self(t).metric(view(name), v); });
    }
    static vigy_status event(vigy_tick* t, int32_t type, vigy_str reason, vigy_str message, vigy_error* err) {
        return fence(err, [&] {
            if (type < 0 || type > 1)
                throw std::invalid_argument("unknown event type " + std::to_string(type) +
                                            " (valid: VIGY_EVENT_NORMAL, VIGY_EVENT_WARNING)");
            self(t).event(event_types[static_cast<size_t>(type)], view(reason), view(message));
        });
    }
    static vigy_status kv_get(vigy_tick* t, vigy_str key, const vigy_arena* arena, vigy_value* out,
                              vigy_error* err) {
        const value* v = self(t).kv_get(view(key));
        if (!v) return VIGY_NOT_FOUND;
        return fence(err, [&] {
            if (!arena || !out) throw std::invalid_argument("kv_get needs an arena and an output value");
            *out = v->to_vigy(*arena);
        });
    }
    static vigy_status kv_set(vigy_tick* t, vigy_str key, const vigy_value* v, vigy_error* err) {
        return fence(err, [&] { self(t).kv_set(view(key), from(v)); });
    }
    static int32_t kv_has(vigy_tick* t, vigy_str key) { return self(t).kv_has(view(key)) ? 1 : 0; }
    static vigy_status kv_del(vigy_tick* t, vigy_str key, vigy_error* err) {
        return fence(err, [&] { self(t).kv_del(view(key)); });
    }
    static void set_output(vigy_tick* t, vigy_str text) {
        try {
            self(t).set_output(std::string(view(text)));
        } catch (...) {
        }
    }
    static int32_t cancelled(vigy_tick* t) { return self(t).cancelled_.load(std::memory_order_relaxed) ? 1 : 0; }
};

const vigy_tick_api& tick_api() noexcept {
    static const vigy_tick_api api = [] {
        vigy_tick_api a{};
        a.struct_size = sizeof(vigy_tick_api);
        a.info = &tick_slots::info;
        a.emit_action = &tick_slots::emit_action;
        a.set_desired = &tick_slots::set_desired;
        a.set_observed = &tick_slots::set_observed;
        a.set_condition = &tick_slots::set_condition;
        a.log = &tick_slots::log;
        a.trace = &tick_slots::trace;
        a.metric = &tick_slots::metric;
        a.event = &tick_slots::event;
        a.kv_get = &tick_slots::kv_get;
        a.kv_set = &tick_slots::kv_set;
        a.kv_has = &tick_slots::kv_has;
        a.kv_del = &tick_slots::kv_del;
        a.set_output = &tick_slots::set_output;
        a.cancelled = &tick_slots::cancelled;
        return a;
    }();
    return api;
}

}  // namespace vigy::host
