// tick_context.cpp — the per-tick context behind vigy_tick_api: buffers, kv
// tracking over an owned or borrowed kv, condition transitions, UTF-8 checks at every
// slot, JSON read-out into reusable buffers.
#include "vigy/host/tick_context.hpp"
#include "runtime_executor.hpp"

#include "vigy/sdk.hpp"

#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <new>
#include <stdexcept>

namespace vigy::host {

namespace {

constexpr std::array<std::string_view, 10> action_kinds = {"noop",   "defer",  "pull",  "push",    "create",
                                                           "update", "delete", "apply", "restart", "custom"};
constexpr std::array<std::string_view, 3> action_results = {"ok", "failed", "skipped"};
constexpr std::array<std::string_view, 5> log_levels = {"trace", "debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 3> condition_statuses = {"False", "True", "Unknown"};  // VIGY_CONDITION_*
constexpr std::array<std::string_view, 2> event_types = {"Normal", "Warning"};                // VIGY_EVENT_*

/// Values nested deeper than this are refused at the slots (a plugin cannot make the
/// host recurse without bound).
constexpr int max_value_depth = 512;

template <size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view s) {
    return std::find(set.begin(), set.end(), s) != set.end();
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

/// Throws std::invalid_argument unless `s` is valid UTF-8.
void require_utf8(std::string_view s, const char* what) {
    const std::size_t at = invalid_utf8_at(s);
    if (at != std::string_view::npos)
        throw std::invalid_argument(std::string(what) + " is not valid UTF-8 (at byte " + std::to_string(at) + ")");
}

/// require_utf8 over every string, symbol, keyword and map key inside `v`.
void require_utf8(const vigy_value& v, const char* what, int depth = 0) {
    if (depth > max_value_depth)
        throw std::invalid_argument(std::string(what) + " is nested deeper than " + std::to_string(max_value_depth) +
                                    " levels");
    switch (v.type) {
    case VIGY_STRING:
    case VIGY_SYMBOL:
    case VIGY_KEYWORD:
        if (v.as.str.len) require_utf8(std::string_view(v.as.str.ptr, v.as.str.len), what);
        break;
    case VIGY_LIST:
        for (size_t i = 0; i < v.as.list.len; ++i) require_utf8(v.as.list.items[i], what, depth + 1);
        break;
    case VIGY_MAP:
        for (size_t i = 0; i < v.as.map.len; ++i) {
            require_utf8(v.as.map.entries[i].key, what, depth + 1);
            require_utf8(v.as.map.entries[i].value, what, depth + 1);
        }
        break;
    default: break;
    }
}

/// A rapidjson output stream appending to a std::string (reuses its capacity).
struct string_out {
    using Ch = char;
    std::string* s = nullptr;
    void Put(char c) { s->push_back(c); }
    void Flush() {}
};

using json_writer = rapidjson::Writer<string_out>;

void put_string(json_writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void put_key(json_writer& w, std::string_view s) { w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

// Writes a value through its own JSON text (keeps one mapping in value.cpp).
void put_value(json_writer& w, const value& v, std::string& scratch) {
    scratch.clear();
    v.append_json(scratch);
    w.RawValue(scratch.data(), scratch.size(), rapidjson::kObjectType);
}

void put_number(json_writer& w, double d) {
    if (std::isfinite(d))
        w.Double(d);
    else
        w.Null();
}

void write_actions(json_writer& w, const std::vector<action_record>& actions) {
    std::string scratch;
    w.StartArray();
    for (const action_record& a : actions) {
        w.StartObject();
        put_key(w, "kind");
        put_string(w, a.kind);
        if (a.payload) {
            put_key(w, "payload");
            put_value(w, *a.payload, scratch);
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
    std::string ts;
    for (const condition_record& c : conditions) {
        w.StartObject();
        put_key(w, "type");
        put_string(w, c.type);
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
        ts.clear();
        append_rfc3339_ms(c.last_transition_ms, ts);
        put_string(w, ts);
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

/// Writes through one writer per thread, reset for each use: its nesting stack keeps its
/// memory, so rendering a tick's buffers allocates nothing beyond the output's growth.
template <class F>
void render_into(std::string& out, F&& f) {
    thread_local string_out os;
    thread_local json_writer w(os);
    if (os.s) {  // re-entered: a writer of its own
        string_out inner{&out};
        json_writer iw(inner);
        f(iw);
        return;
    }
    os.s = &out;
    w.Reset(os);
    struct done {
        string_out& o;
        ~done() { o.s = nullptr; }
    } release{os};
    f(w);
}

template <class F>
std::string render(F&& f) {
    std::string out;
    render_into(out, std::forward<F>(f));
    return out;
}

}  // namespace

bool is_valid_action_kind(std::string_view kind) noexcept { return one_of(action_kinds, kind); }

std::size_t invalid_utf8_at(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        // ASCII fast path: 8 bytes at a time
        while (i + 8 <= n) {
            uint64_t block;
            std::memcpy(&block, p + i, 8);
            if (block & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;  // continuation byte, overlong 2-byte lead (c0/c1) or > U+10FFFF lead
        }
        if (i + len > n) return i;
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xc0) != 0x80) return i;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += len;
    }
    return std::string_view::npos;
}

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
      previous_conditions_(p.conditions_view ? std::vector<condition_record>{} : std::move(p.previous_conditions)),
      previous_view_(p.conditions_view),
      kv_(p.kv_view ? kv_map{} : std::move(p.kv)),
      kv_view_(p.kv_view) {
    c_.tick.struct_size = sizeof(vigy_tick);
    c_.tick.reserved = 0;
    c_.tick.api = &tick_api();
    c_.self = this;
    grants_ = p.grants;
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
    if (trigger_arena_)
        trigger_arena_->reset();
    else
        trigger_arena_ = std::make_unique<arena>();
    trigger_c_ = trigger_->to_vigy(trigger_arena_->c());
}

// ---- mechanism ----------------------------------------------------------------------------

void tick_context::emit_action(action_record a) {
    require_utf8(a.kind, "action kind");
    if (!is_valid_action_kind(a.kind))
        throw std::invalid_argument("unknown action kind " + quoted(a.kind) +
                                    " (valid kinds: " + std::string(valid_action_kinds) + ")");
    if (a.result && !one_of(action_results, *a.result))
        throw std::invalid_argument("unknown action result " + quoted(*a.result) +
                                    " (valid results: " + std::string(valid_action_results) + ")");
    if (a.message) require_utf8(*a.message, "action message");
    actions_.push_back(std::move(a));
}

void tick_context::set_desired(std::string_view key, value v) {
    require_utf8(key, "desired key");
    desired_.set(key, std::move(v));
}
void tick_context::set_observed(std::string_view key, value v) {
    require_utf8(key, "observed key");
    observed_.set(key, std::move(v));
}

void tick_context::set_condition(std::string_view type, std::string_view status, std::optional<std::string> reason,
                                 std::optional<std::string> message) {
    if (!one_of(condition_statuses, status))
        throw std::invalid_argument("unknown condition status " + quoted(status) + " (valid: True, False, Unknown)");
    if (type.empty()) throw std::invalid_argument("condition type must not be empty");
    require_utf8(type, "condition type");
    if (reason) require_utf8(*reason, "condition reason");
    if (message) require_utf8(*message, "condition message");
    condition_record c;
    c.type = std::string(type);
    c.status = std::string(status);
    c.reason = std::move(reason);
    c.message = std::move(message);
    c.last_transition_ms = tick_start_ms_;
    for (const condition_record& prev : previous_conditions())
        if (prev.type == type && prev.status == status) c.last_transition_ms = prev.last_transition_ms;
    for (condition_record& cur : conditions_) {
        if (cur.type == type) {
            cur = std::move(c);
            return;
        }
    }
    conditions_.push_back(std::move(c));
}

void tick_context::log(std::string_view level, std::string_view message) {
    if (!one_of(log_levels, level))
        throw std::invalid_argument("unknown log level " + quoted(level) + " (valid: trace, debug, info, warn, error)");
    require_utf8(message, "log message");
    log_.push_back(log_record{std::string(level), std::string(message)});
}

void tick_context::trace(std::string_view key, value v) {
    require_utf8(key, "trace key");
    trace_.set(key, std::move(v));
}

void tick_context::metric(std::string_view name, double v) {
    require_utf8(name, "metric name");
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
    require_utf8(reason, "event reason");
    require_utf8(message, "event message");
    events_.push_back(event_record{std::string(type), std::string(reason), std::string(message)});
}

const value* tick_context::kv_get(std::string_view key) const noexcept {
    if (auto it = kv_.find(key); it != kv_.end()) return &it->second;
    if (kv_view_ && deleted_.find(key) == deleted_.end())
        if (auto it = kv_view_->find(key); it != kv_view_->end()) return &it->second;
    return nullptr;
}

void tick_context::kv_set(std::string_view key, value v) {
    require_utf8(key, "kv key");
    auto it = kv_.find(key);
    if (it == kv_.end())
        kv_.emplace(std::string(key), std::move(v));
    else
        it->second = std::move(v);
    if (dirty_.find(key) == dirty_.end()) dirty_.emplace(key);
    if (auto d = deleted_.find(key); d != deleted_.end()) deleted_.erase(d);
}

bool tick_context::kv_has(std::string_view key) const noexcept { return kv_get(key) != nullptr; }

void tick_context::kv_del(std::string_view key) {
    if (kv_get(key) == nullptr) return;
    if (auto it = kv_.find(key); it != kv_.end()) kv_.erase(it);
    if (auto d = dirty_.find(key); d != dirty_.end()) dirty_.erase(d);
    deleted_.emplace(key);
}

void tick_context::set_output(std::string text) {
    const std::size_t at = invalid_utf8_at(text);
    if (at != std::string::npos) {
        output_.clear();
        output_error_ = "the output is not valid UTF-8 (at byte " + std::to_string(at) + ")";
        return;
    }
    output_ = std::move(text);
    output_error_.clear();
}

std::vector<condition_record> tick_context::merged_conditions() const {
    std::vector<condition_record> out;
    for (const condition_record& prev : previous_conditions()) {
        bool replaced = std::any_of(conditions_.begin(), conditions_.end(),
                                    [&](const condition_record& c) { return c.type == prev.type; });
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

void tick_context::apply_changes(kv_map& target) {
    for (const std::string& k : deleted_)
        if (auto it = target.find(k); it != target.end()) target.erase(it);
    for (const std::string& k : dirty_) {
        auto it = kv_.find(k);
        if (it == kv_.end()) continue;
        auto t = target.find(k);
        if (t == target.end())
            target.emplace(k, std::move(it->second));
        else
            t->second = std::move(it->second);
    }
    kv_.clear();
}

void tick_context::kv_changes_for_store(std::vector<std::pair<std::string, std::string>>& upserts,
                                        std::vector<std::string>& deletes) const {
    std::size_t n = 0;
    for (const std::string& k : dirty_) {
        auto it = kv_.find(k);
        if (it == kv_.end()) continue;
        if (n == upserts.size()) upserts.emplace_back();
        upserts[n].first.assign(k);
        upserts[n].second.clear();
        it->second.append_json(upserts[n].second);
        ++n;
    }
    upserts.resize(n);
    deletes.assign(deleted_.begin(), deleted_.end());
}

// ---- JSON -----------------------------------------------------------------------------------

void tick_context::append_actions_json(std::string& out) const {
    render_into(out, [&](json_writer& w) { write_actions(w, actions_); });
}
void tick_context::append_desired_json(std::string& out) const { desired_.append_json(out); }
void tick_context::append_observed_json(std::string& out) const { observed_.append_json(out); }
void tick_context::append_conditions_json(std::string& out) const {
    render_into(out, [&](json_writer& w) { write_conditions(w, conditions_); });
}
void tick_context::append_log_json(std::string& out) const {
    render_into(out, [&](json_writer& w) { write_log(w, log_); });
}
void tick_context::append_trace_json(std::string& out) const { trace_.append_json(out); }
void tick_context::append_metrics_json(std::string& out) const {
    render_into(out, [&](json_writer& w) { write_metrics(w, metrics_); });
}
void tick_context::append_events_json(std::string& out) const {
    render_into(out, [&](json_writer& w) { write_events(w, events_); });
}
namespace {
/// {key: value} of the keys set this tick (dirty and still present).
void write_kv_writes(json_writer& w, const kv_map& kv, const std::set<std::string, std::less<>>& dirty) {
    std::string scratch;
    w.StartObject();
    for (const std::string& k : dirty) {
        auto it = kv.find(k);
        if (it == kv.end()) continue;
        put_key(w, k);
        put_value(w, it->second, scratch);
    }
    w.EndObject();
}
/// [key] of the keys deleted this tick.
void write_kv_deletes(json_writer& w, const std::set<std::string, std::less<>>& deleted) {
    w.StartArray();
    for (const std::string& k : deleted) put_string(w, k);
    w.EndArray();
}
/// {"set": {key: value}, "deleted": [key]}.
void write_kv_changes(json_writer& w, const kv_map& kv, const std::set<std::string, std::less<>>& dirty,
                      const std::set<std::string, std::less<>>& deleted) {
    w.StartObject();
    put_key(w, "set");
    write_kv_writes(w, kv, dirty);
    put_key(w, "deleted");
    write_kv_deletes(w, deleted);
    w.EndObject();
}
}  // namespace

void tick_context::append_kv_writes_json(std::string& out) const {
    render_into(out, [&](json_writer& w) { write_kv_writes(w, kv_, dirty_); });
}
void tick_context::append_kv_deletes_json(std::string& out) const {
    render_into(out, [&](json_writer& w) { write_kv_deletes(w, deleted_); });
}

std::string tick_context::actions_json() const {
    std::string out;
    append_actions_json(out);
    return out;
}
std::string tick_context::desired_json() const { return desired_.to_json(); }
std::string tick_context::observed_json() const { return observed_.to_json(); }
std::string tick_context::conditions_json() const { return conditions_to_json(conditions_); }
std::string tick_context::log_json() const {
    std::string out;
    append_log_json(out);
    return out;
}
std::string tick_context::trace_json() const { return trace_.to_json(); }
std::string tick_context::metrics_json() const {
    std::string out;
    append_metrics_json(out);
    return out;
}
std::string tick_context::events_json() const {
    std::string out;
    append_events_json(out);
    return out;
}
std::string tick_context::kv_changes_json() const {
    return render([&](json_writer& w) { write_kv_changes(w, kv_, dirty_, deleted_); });
}

std::string tick_context::to_json() const {
    return render([&](json_writer& w) {
        std::string scratch;
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
        put_value(w, desired_, scratch);
        put_key(w, "observed");
        put_value(w, observed_, scratch);
        put_key(w, "conditions");
        write_conditions(w, conditions_);
        put_key(w, "log");
        write_log(w, log_);
        put_key(w, "trace");
        put_value(w, trace_, scratch);
        put_key(w, "metrics");
        write_metrics(w, metrics_);
        put_key(w, "events");
        write_events(w, events_);
        put_key(w, "output");
        put_string(w, output_);
        put_key(w, "kv_changes");
        write_kv_changes(w, kv_, dirty_, deleted_);
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
        const value* type = item.find("type");
        if (!type) type = item.find("name");  // before schema 3
        const value* status = item.find("status");
        if (!type || !type->is_stringish() || !status || !status->is_stringish())
            throw json_error("conditions: each condition needs string \"type\" and \"status\"");
        condition_record c;
        c.type = type->text();
        const std::string& s = status->text();
        c.status = (s == "True" || s == "true") ? "True" : (s == "False" || s == "false") ? "False" : "Unknown";
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

    /// A checked copy of a borrowed value (NULL = nil).
    static value from(const vigy_value* v, const char* what) {
        if (!v) return value();
        require_utf8(*v, what);
        return value::from_vigy(*v);
    }

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
            if (a->payload) r.payload = from(a->payload, "action payload");
            r.result = optional(a->result);
            r.message = optional(a->message);
            self(t).emit_action(std::move(r));
        });
    }
    static vigy_status set_desired(vigy_tick* t, vigy_str key, const vigy_value* v, vigy_error* err) {
        return fence(err, [&] { self(t).set_desired(view(key), from(v, "desired value")); });
    }
    static vigy_status set_observed(vigy_tick* t, vigy_str key, const vigy_value* v, vigy_error* err) {
        return fence(err, [&] { self(t).set_observed(view(key), from(v, "observed value")); });
    }
    static vigy_status set_condition(vigy_tick* t, vigy_str type, int32_t status, vigy_str reason, vigy_str message,
                                     vigy_error* err) {
        return fence(err, [&] {
            if (status < 0 || status > 2)
                throw std::invalid_argument("unknown condition status " + std::to_string(status) +
                                            " (valid: VIGY_CONDITION_FALSE, _TRUE, _UNKNOWN)");
            self(t).set_condition(view(type), condition_statuses[static_cast<size_t>(status)], optional(reason),
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
        return fence(err, [&] { self(t).trace(view(key), from(v, "trace value")); });
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
    static vigy_status kv_get(vigy_tick* t, vigy_str key, const vigy_arena* arena, vigy_value* out, vigy_error* err) {
        const value* v = self(t).kv_get(view(key));
        if (!v) return VIGY_NOT_FOUND;
        return fence(err, [&] {
            if (!arena || !out) throw std::invalid_argument("kv_get needs an arena and an output value");
            *out = v->to_vigy(*arena);
        });
    }
    static vigy_status kv_set(vigy_tick* t, vigy_str key, const vigy_value* v, vigy_error* err) {
        return fence(err, [&] { self(t).kv_set(view(key), from(v, "kv value")); });
    }
    static int32_t kv_has(vigy_tick* t, vigy_str key) { return self(t).kv_has(view(key)) ? 1 : 0; }
    static vigy_status kv_del(vigy_tick* t, vigy_str key, vigy_error* err) {
        return fence(err, [&] { self(t).kv_del(view(key)); });
    }
    static void set_output(vigy_tick* t, vigy_str text) {
        try {
            self(t).set_output(std::string(view(text)));
        } catch (...) {
            // out of memory: the output is lost, the tick goes on
        }
    }
    static int32_t cancelled(vigy_tick* t) {
        // The preemption point of fair scheduling: on a tick thread past its slice this
        // demotes the tick to the long lane and may park it (runtime_executor.hpp).
        detail::tick_executor::checkpoint();
        return self(t).cancelled_.load(std::memory_order_relaxed) ? 1 : 0;
    }
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
