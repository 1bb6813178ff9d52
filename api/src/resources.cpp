// api/src/resources.cpp — the JSON shape of vigies, runs, conditions and events.
#include "vigy/api/resources.hpp"

#include "vigy/host/tick_context.hpp"
#include "vigy/host/time.hpp"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>

#include <algorithm>
#include <cctype>
#include <ostream>

namespace vigy::api {

void write_raw_json(json_writer& w, std::string_view text, std::string_view fallback) {
    std::string_view t = text;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
    if (t.empty()) t = fallback;
    rapidjson::Type type = rapidjson::kObjectType;
    switch (t.front()) {
    case '[': type = rapidjson::kArrayType; break;
    case '"': type = rapidjson::kStringType; break;
    case 'n': type = rapidjson::kNullType; break;
    case 't': type = rapidjson::kTrueType; break;
    case 'f': type = rapidjson::kFalseType; break;
    case '{': type = rapidjson::kObjectType; break;
    default: type = rapidjson::kNumberType; break;
    }
    w.RawValue(t.data(), t.size(), type);
}

void write_string(json_writer& w, std::string_view s) {
    std::size_t bad = host::invalid_utf8_at(s);
    if (bad == std::string_view::npos) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
        return;
    }
    // JSON text is UTF-8: a byte that is not (a database written before validation)
    // becomes U+FFFD instead of making the whole document invalid.
    std::string fixed;
    fixed.reserve(s.size() + 8);
    while (bad != std::string_view::npos) {
        fixed.append(s.substr(0, bad));
        fixed += "\xEF\xBF\xBD";
        s.remove_prefix(bad + 1);
        bad = host::invalid_utf8_at(s);
    }
    fixed.append(s);
    w.String(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()));
}

namespace {

void key(json_writer& w, const char* k) { w.Key(k); }
void kv_str(json_writer& w, const char* k, std::string_view v) {
    w.Key(k);
    write_string(w, v);
}
void kv_int(json_writer& w, const char* k, int64_t v) {
    w.Key(k);
    w.Int64(v);
}
void kv_time(json_writer& w, const char* k, int64_t ms) { kv_str(w, k, host::format_rfc3339_ms(ms)); }

}  // namespace

void write_vigy(json_writer& w, const host::vigy_info& v, const std::vector<std::string>* grants) {
    w.StartObject();
    write_vigy_members(w, v, grants);
    w.EndObject();
}

void write_vigy_members(json_writer& w, const host::vigy_info& v, const std::vector<std::string>* grants) {
    kv_str(w, "id", v.id);
    kv_str(w, "name", v.name);
    kv_str(w, "kind", v.kind);
    kv_str(w, "revision", v.revision);
    kv_str(w, "resource_version", std::to_string(v.resource_version));
    kv_int(w, "tick_interval_ms", v.interval_ms);
    // The schedule as stored (schedule_spec::to_json: kind, every_ms | cron, tz |
    // at_ms, on, jitter, catch_up_ms, max_failures, within_ms, cool_down_ms) and its
    // one-line summary; the lifecycle state with why and since when.
    const host::schedule_spec sched = host::schedule_of(v);
    key(w, "schedule");
    {
        std::string sj = sched.to_json();
        if (sched.kind == host::schedule_kind::every && sj.find("\"every_ms\"") == std::string::npos)
            sj.insert(sj.size() - 1, ",\"every_ms\":" + std::to_string(sched.every_ms));  // always say how often
        write_raw_json(w, sj, "null");
    }
    kv_str(w, "schedule_summary", sched.summary());
    key(w, "enabled");
    w.Bool(v.enabled);
    kv_str(w, "state", v.state);
    if (!v.state_reason.empty()) kv_str(w, "state_reason", v.state_reason);
    if (v.state_ms > 0) kv_time(w, "state_since", v.state_ms);
    key(w, "labels");
    w.StartObject();
    for (const auto& [k, val] : v.labels) {
        w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        write_string(w, val);
    }
    w.EndObject();
    key(w, "limits");
    w.StartObject();
    kv_int(w, "fuel", static_cast<int64_t>(v.limits.fuel));
    kv_int(w, "wall_ms", static_cast<int64_t>(v.limits.wall_ms));
    kv_int(w, "memory_bytes", static_cast<int64_t>(v.limits.memory_bytes));
    kv_int(w, "max_depth", static_cast<int64_t>(v.limits.max_depth));
    w.EndObject();
    key(w, "allow");
    w.StartArray();
    for (const auto& g : v.allow) write_string(w, g);
    w.EndArray();
    if (grants) {
        key(w, "grants");
        w.StartArray();
        for (const auto& g : *grants) write_string(w, g);
        w.EndArray();
    }
    kv_time(w, "created_at", v.created_ms);
    kv_time(w, "updated_at", v.updated_ms);
    key(w, "config");
    write_raw_json(w, v.config_json, "null");
}

void write_cluster(json_writer& w, const host::cluster_info& c) {
    const store::cluster_view& v = c.view;
    w.StartObject();
    w.Key("shard_count");
    w.Int(v.shard_count);
    kv_time(w, "database_time", v.now_ms);
    w.Key("hosts");
    w.StartArray();
    for (const auto& h : v.hosts) {
        w.StartObject();
        kv_str(w, "owner", h.owner);
        kv_str(w, "host", h.host);
        w.Key("pid");
        w.Int64(h.pid);
        w.Key("live");
        w.Bool(h.live);
        kv_time(w, "joined", h.joined_ms);
        kv_time(w, "last_heartbeat", h.heartbeat_ms);
        kv_time(w, "expires", h.expires_ms);
        int64_t top = 0;
        w.Key("shards");
        w.StartArray();
        for (const auto& l : v.shards)
            if (l.owner == h.owner) {
                w.Int(l.shard);
                top = std::max(top, l.epoch);
            }
        w.EndArray();
        w.Key("max_epoch");
        w.Int64(top);
        const auto it = c.vigies_by_owner.find(h.owner);
        w.Key("vigies");
        w.Uint64(it == c.vigies_by_owner.end() ? 0 : it->second);
        w.EndObject();
    }
    w.EndArray();
    w.Key("shards");
    w.StartArray();
    for (const auto& l : v.shards) {
        w.StartObject();
        w.Key("shard");
        w.Int(l.shard);
        w.Key("owner");
        if (l.owner.empty())
            w.Null();
        else
            write_string(w, l.owner);
        kv_str(w, "host", l.host);
        w.Key("pid");
        w.Int64(l.pid);
        w.Key("epoch");
        w.Int64(l.epoch);
        w.Key("live");
        w.Bool(l.live);
        kv_time(w, "renewed", l.renewed_ms);
        kv_time(w, "expires", l.expires_ms);
        w.Key("takeovers");
        w.Int64(l.takeovers);
        w.EndObject();
    }
    w.EndArray();
    w.Key("vigies_unowned");
    w.Uint64(c.vigies_unowned);
    w.EndObject();
}

void write_run(json_writer& w, const host::run& r) {
    w.StartObject();
    kv_str(w, "id", r.id);
    kv_int(w, "seq", r.seq);
    kv_str(w, "vigy_id", r.vigy_id);
    kv_str(w, "vigy_name", r.vigy_name);
    kv_str(w, "revision", r.revision);
    kv_str(w, "trigger", host::run_trigger_name(r.trigger));
    if (!r.trigger_kind.empty()) kv_str(w, "trigger_kind", r.trigger_kind);
    if (!r.trigger_json.empty()) {
        key(w, "trigger_data");
        write_raw_json(w, r.trigger_json, "null");
    }
    kv_time(w, "started_at", r.started_ms);
    kv_time(w, "ended_at", r.ended_ms);
    key(w, "duration_ms");
    w.Double(static_cast<double>(r.duration_us) / 1000.0);
    key(w, "lateness_ms");
    w.Double(static_cast<double>(r.lateness_us) / 1000.0);
    kv_str(w, "result", host::run_result_name(r.result));
    if (r.result == host::run_result::failed) {
        kv_str(w, "status", vigy_status_name(r.status));
        kv_str(w, "error", r.error);
    }
    if (r.tick_count > 0) kv_int(w, "tick_count", r.tick_count);
    kv_str(w, "output", r.output);
    key(w, "actions");
    write_raw_json(w, r.actions_json, "[]");
    key(w, "desired");
    write_raw_json(w, r.desired_json, "{}");
    key(w, "observed");
    write_raw_json(w, r.observed_json, "{}");
    key(w, "conditions");
    write_raw_json(w, r.conditions_json, "[]");
    key(w, "log");
    write_raw_json(w, r.log_json, "[]");
    key(w, "trace");
    write_raw_json(w, r.trace_json, "{}");
    key(w, "metrics");
    write_raw_json(w, r.metrics_json, "{}");
    key(w, "events");
    write_raw_json(w, r.events_json, "[]");
    key(w, "kv_writes");
    write_raw_json(w, r.kv_writes_json, "{}");
    key(w, "kv_deletes");
    write_raw_json(w, r.kv_deletes_json, "[]");
    w.EndObject();
}

void write_condition(json_writer& w, const host::condition& c) {
    w.StartObject();
    kv_str(w, "type", c.type);
    kv_str(w, "status", c.status);
    kv_str(w, "reason", c.reason);
    kv_str(w, "message", c.message);
    kv_time(w, "last_transition", c.last_transition_ms);
    kv_time(w, "updated_at", c.updated_ms);
    w.EndObject();
}

void write_skipped_plugins(json_writer& w, const host::registry& reg) {
    w.StartArray();
    for (const auto& d : reg.skipped()) {
        w.StartObject();
        w.Key("file");
        write_string(w, d.file);
        w.Key("reason");
        write_string(w, d.reason);
        w.EndObject();
    }
    w.EndArray();
}

void write_event(json_writer& w, const host::event& e) {
    w.StartObject();
    kv_str(w, "type", e.type);
    kv_str(w, "reason", e.reason);
    kv_str(w, "message", e.message);
    kv_int(w, "count", e.count);
    kv_time(w, "first_seen", e.first_ms);
    kv_time(w, "last_seen", e.last_ms);
    w.EndObject();
}

void write_evaluated_tick(json_writer& w, const host::evaluated_tick& t, int64_t index) {
    const host::run& r = t.result;
    const bool ok = r.result == host::run_result::ok;
    w.StartObject();
    w.Key("index");
    w.Int64(index);
    w.Key("result");
    w.String(ok ? "ok" : "failed");
    if (!ok) {
        w.Key("status");
        w.String(vigy_status_name(r.status));
        w.Key("error");
        write_string(w, r.error);
    }
    w.Key("tick");
    w.StartObject();
    w.Key("start");
    write_string(w, host::format_rfc3339_ms(r.started_ms));
    w.Key("start_ms");
    w.Int64(r.started_ms);
    w.Key("previous_tick_ms");
    if (t.previous_tick_ms < 0)
        w.Null();
    else
        w.Int64(t.previous_tick_ms);
    w.Key("tick_count");
    w.Int64(r.tick_count);
    w.EndObject();
    w.Key("output");
    write_string(w, r.output);
    w.Key("log");
    write_raw_json(w, r.log_json, "[]");
    w.Key("trace");
    write_raw_json(w, r.trace_json, "{}");
    w.Key("metrics");
    write_raw_json(w, r.metrics_json, "{}");
    if (ok) {
        w.Key("actions");
        write_raw_json(w, r.actions_json, "[]");
        w.Key("desired");
        write_raw_json(w, r.desired_json, "{}");
        w.Key("observed");
        write_raw_json(w, r.observed_json, "{}");
        w.Key("conditions");
        write_raw_json(w, r.conditions_json, "[]");
        w.Key("events");
        write_raw_json(w, r.events_json, "[]");
        w.Key("kv_changes");
        w.StartObject();
        w.Key("set");
        write_raw_json(w, r.kv_writes_json, "{}");
        w.Key("deleted");
        write_raw_json(w, r.kv_deletes_json, "[]");
        w.EndObject();
    }
    w.EndObject();
}

void write_evaluation(json_writer& w, const host::evaluation& ev) {
    w.StartObject();
    w.Key("ticks");
    w.StartArray();
    for (std::size_t i = 0; i < ev.ticks.size(); ++i) write_evaluated_tick(w, ev.ticks[i], static_cast<int64_t>(i + 1));
    w.EndArray();
    w.Key("kv");
    write_raw_json(w, ev.kv_json, "{}");
    w.Key("conditions");
    write_raw_json(w, ev.conditions_json, "[]");
    w.EndObject();
}

std::string vigy_json(const host::vigy_info& v, const std::vector<std::string>* grants) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    write_vigy(w, v, grants);
    return text(buf);
}

std::string run_json(const host::run& r) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    write_run(w, r);
    return text(buf);
}

std::string pretty_json(std::string_view compact) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(compact.data(), compact.size());
    if (doc.HasParseError()) return std::string(compact);
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    doc.Accept(w);
    return text(buf);
}

void print_json(std::ostream& out, const std::string& compact, bool one_line_only) {
    out << (one_line_only ? compact : pretty_json(compact)) << '\n';
}

}  // namespace vigy::api
