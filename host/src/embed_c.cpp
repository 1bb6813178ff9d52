// host/src/embed_c.cpp — the C embedding API (sdk/include/vigy/embed.h) over
// vigy::host::runtime, built as libvigy.so.1 (host/CMakeLists.txt). Every
// exported function is an exception fence: C++ errors become vigy_status codes
// and a message in the caller's error sink. Data crosses as JSON (rapidjson).
#include "vigy/embed.h"

#include "vigy/host/plugin_loader.hpp"
#include "vigy/host/runtime.hpp"
#include "vigy/sdk.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/dll/runtime_symbol_info.hpp>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#ifndef VIGY_EMBED_PLUGIN_DIR
#error "VIGY_EMBED_PLUGIN_DIR (the plugin directory relative to the library's directory) must be defined"
#endif

namespace host = vigy::host;
namespace fs = std::filesystem;

struct vigy_embed_runtime {
    std::unique_ptr<host::runtime> rt;
    std::mutex mu;  // guards subs and next_id
    std::map<uint64_t, host::subscription> subs;
    uint64_t next_id = 1;
};

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// True on a thread that is running one of our subscription callbacks.
thread_local bool in_callback = false;

[[noreturn]] void fail(vigy_status code, const std::string& message) { throw vigy::sdk::status_error(code, message); }

/// The exception fence of every exported function: a vigy::status_error keeps its
/// canonical code, anything else becomes INTERNAL (RESOURCE_EXHAUSTED for bad_alloc).
template <class F>
vigy_status guarded(vigy_error* err, F&& f) noexcept {
    // A sink too small for the 1.0 layout is not called (its `set` is not there).
    if (err && err->struct_size < sizeof(vigy_error)) err = nullptr;
    return vigy::sdk::fence(err, [&] { f(); });
}

void require(const void* p, const char* what) {
    if (!p) fail(VIGY_INVALID_ARGUMENT, std::string(what) + " is NULL");
}

/// A malloc'ed, NUL-terminated copy for an out_json parameter (freed by vigy_embed_free).
char* c_string(const rapidjson::StringBuffer& buf) {
    const size_t n = buf.GetSize();
    auto* p = static_cast<char*>(std::malloc(n + 1));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, buf.GetString(), n);
    p[n] = '\0';
    return p;
}

/// Writes JSON with `write(json_writer&)` into *out (when out is not NULL).
template <class F>
void write_out(char** out, F&& write) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    write(w);
    if (out) *out = c_string(buf);
}

// ---- writing ----------------------------------------------------------------

void key_str(json_writer& w, const char* k, std::string_view v) {
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void key_int(json_writer& w, const char* k, int64_t v) {
    w.Key(k);
    w.Int64(v);
}

/// A stored JSON buffer written as it is; `fallback` when empty.
void key_raw(json_writer& w, const char* k, std::string_view text, std::string_view fallback) {
    w.Key(k);
    std::string_view t = text.empty() ? fallback : text;
    rapidjson::Type type = rapidjson::kObjectType;
    switch (t.front()) {
    case '[': type = rapidjson::kArrayType; break;
    case 'n': type = rapidjson::kNullType; break;
    default: break;
    }
    w.RawValue(t.data(), t.size(), type);
}

void write_vigy_fields(json_writer& w, const host::vigy_info& v) {
    key_str(w, "id", v.id);
    key_str(w, "name", v.name);
    key_str(w, "kind", v.kind);
    key_str(w, "revision", v.revision);
    key_int(w, "interval_ms", v.interval_ms);
    w.Key("enabled");
    w.Bool(v.enabled);
    w.Key("labels");
    w.StartObject();
    for (const auto& [k, val] : v.labels) key_str(w, k.c_str(), val);
    w.EndObject();
    w.Key("limits");
    w.StartObject();
    w.Key("fuel");
    w.Uint64(v.limits.fuel);
    w.Key("wall_ms");
    w.Uint64(v.limits.wall_ms);
    w.Key("memory_bytes");
    w.Uint64(v.limits.memory_bytes);
    w.Key("max_depth");
    w.Uint64(v.limits.max_depth);
    w.EndObject();
    key_raw(w, "config", v.config_json, "null");
    key_int(w, "created_ms", v.created_ms);
    key_int(w, "updated_ms", v.updated_ms);
}

void write_vigy(json_writer& w, const host::vigy_info& v) {
    w.StartObject();
    write_vigy_fields(w, v);
    w.EndObject();
}

void write_run(json_writer& w, const host::run& r) {
    w.StartObject();
    key_str(w, "id", r.id);
    key_int(w, "seq", r.seq);
    key_str(w, "vigy_id", r.vigy_id);
    key_str(w, "vigy_name", r.vigy_name);
    key_str(w, "revision", r.revision);
    key_str(w, "trigger", host::run_trigger_name(r.trigger));
    key_int(w, "started_ms", r.started_ms);
    key_int(w, "ended_ms", r.ended_ms);
    key_int(w, "duration_us", r.duration_us);
    key_str(w, "result", host::run_result_name(r.result));
    key_str(w, "error", r.error);
    key_int(w, "tick_count", r.tick_count);
    key_str(w, "output", r.output);
    key_raw(w, "actions", r.actions_json, "[]");
    key_raw(w, "desired", r.desired_json, "{}");
    key_raw(w, "observed", r.observed_json, "{}");
    key_raw(w, "conditions", r.conditions_json, "[]");
    key_raw(w, "log", r.log_json, "[]");
    key_raw(w, "trace", r.trace_json, "{}");
    key_raw(w, "metrics", r.metrics_json, "{}");
    key_raw(w, "events", r.events_json, "[]");
    key_raw(w, "kv_writes", r.kv_writes_json, "{}");
    key_raw(w, "kv_deletes", r.kv_deletes_json, "[]");
    w.EndObject();
}

// ---- reading a spec -----------------------------------------------------------

std::string compact(const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    v.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
}

[[noreturn]] void bad_field(const char* field, const char* must) {
    fail(VIGY_INVALID_ARGUMENT, std::string("vigy spec field \"") + field + "\" must be " + must);
}

std::string get_string(const rapidjson::Value& v, const char* field) {
    if (!v.IsString()) bad_field(field, "a string");
    return std::string(v.GetString(), v.GetStringLength());
}

uint64_t get_limit(const rapidjson::Value& v, const char* field) {
    if (!v.IsUint64()) bad_field(field, "a non-negative integer");
    return v.GetUint64();
}

host::vigy_spec parse_spec(const char* text) {
    rapidjson::Document d;
    d.Parse(text);
    if (d.HasParseError())
        fail(VIGY_INVALID_ARGUMENT,
             "vigy spec is not JSON: parse error at offset " + std::to_string(d.GetErrorOffset()));
    if (!d.IsObject()) fail(VIGY_INVALID_ARGUMENT, "vigy spec must be a JSON object");

    host::vigy_spec spec;
    std::string program, source_name;
    bool has_program = false, has_config = false;
    for (const auto& m : d.GetObject()) {
        const std::string_view k(m.name.GetString(), m.name.GetStringLength());
        const rapidjson::Value& v = m.value;
        if (k == "name") {
            spec.name = get_string(v, "name");
        } else if (k == "kind") {
            spec.kind = get_string(v, "kind");
        } else if (k == "program") {
            program = get_string(v, "program");
            has_program = true;
        } else if (k == "source_name") {
            source_name = get_string(v, "source_name");
        } else if (k == "config") {
            if (!v.IsObject()) bad_field("config", "an object");
            spec.config_json = compact(v);
            has_config = true;
        } else if (k == "interval_ms") {
            if (!v.IsInt64()) bad_field("interval_ms", "an integer");
            spec.interval_ms = v.GetInt64();
        } else if (k == "labels") {
            if (!v.IsObject()) bad_field("labels", "an object of strings");
            for (const auto& l : v.GetObject()) {
                if (!l.value.IsString()) bad_field("labels", "an object of strings");
                spec.labels[l.name.GetString()] = std::string(l.value.GetString(), l.value.GetStringLength());
            }
        } else if (k == "enabled") {
            if (!v.IsBool()) bad_field("enabled", "true or false");
            spec.enabled = v.GetBool();
        } else if (k == "limits") {
            if (!v.IsObject()) bad_field("limits", "an object");
            for (const auto& l : v.GetObject()) {
                const std::string_view lk(l.name.GetString(), l.name.GetStringLength());
                if (lk == "fuel")
                    spec.limits.fuel = get_limit(l.value, "limits.fuel");
                else if (lk == "wall_ms")
                    spec.limits.wall_ms = get_limit(l.value, "limits.wall_ms");
                else if (lk == "memory_bytes")
                    spec.limits.memory_bytes = get_limit(l.value, "limits.memory_bytes");
                else if (lk == "max_depth")
                    spec.limits.max_depth = get_limit(l.value, "limits.max_depth");
                else
                    fail(VIGY_INVALID_ARGUMENT, "unknown vigy spec field \"limits." + std::string(lk) +
                                                    "\" (known: fuel, wall_ms, memory_bytes, max_depth)");
            }
        } else {
            fail(VIGY_INVALID_ARGUMENT,
                 "unknown vigy spec field \"" + std::string(k) +
                     "\" (known: name, kind, program, source_name, config, interval_ms, labels, enabled, limits)");
        }
    }
    if (!d.HasMember("name")) fail(VIGY_INVALID_ARGUMENT, "vigy spec has no \"name\"");
    if (has_program && has_config)
        fail(VIGY_INVALID_ARGUMENT, "vigy spec has both \"program\" and \"config\": give one");
    if (has_program) {
        if (spec.kind != "lisp")
            fail(VIGY_INVALID_ARGUMENT,
                 "vigy spec field \"program\" is for kind lisp, not \"" + spec.kind + "\": give \"config\"");
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        key_str(w, "program", program);
        key_str(w, "source_name", source_name.empty() ? spec.name + ".tatara" : source_name);
        w.EndObject();
        spec.config_json.assign(buf.GetString(), buf.GetSize());
    } else if (!source_name.empty()) {
        fail(VIGY_INVALID_ARGUMENT, "vigy spec field \"source_name\" needs \"program\"");
    }
    return spec;
}

// ---- options ------------------------------------------------------------------

/// The 1.0 layout of vigy_embed_options ends after max_run_age_ms.
constexpr size_t options_1_0_size = offsetof(vigy_embed_options, max_run_age_ms) + sizeof(int64_t);

/// The built-in plugin directory of this library: VIGY_EMBED_PLUGIN_DIR relative
/// to the directory libvigy.so was loaded from (so a relocated prefix works);
/// the host's own search when that directory does not exist.
fs::path library_plugin_dir() {
    std::error_code ec;
    const fs::path self = boost::dll::this_line_location(ec);
    if (!ec && self.is_absolute()) {
        const fs::path dir = (self.parent_path() / VIGY_EMBED_PLUGIN_DIR).lexically_normal();
        if (fs::is_directory(dir, ec)) return dir;
    }
    return host::builtin_plugin_dir();
}

host::runtime_options to_runtime_options(const vigy_embed_options* o) {
    host::runtime_options opts;
    opts.default_plugin_dirs = false;  // the search below puts the library's own directory first
    uint32_t flags = 0;
    if (o) {
        if (o->struct_size < options_1_0_size)
            fail(VIGY_INVALID_ARGUMENT, "options.struct_size " + std::to_string(o->struct_size) +
                                            " is smaller than the 1.0 layout (" + std::to_string(options_1_0_size) +
                                            " bytes)");
        flags = o->flags;
        if (flags & ~VIGY_EMBED_NO_DEFAULT_PLUGIN_DIRS)
            fail(VIGY_INVALID_ARGUMENT, "options.flags has unknown bits " + std::to_string(flags));
        if (o->plugin_dir_count > 0 && !o->plugin_dirs)
            fail(VIGY_INVALID_ARGUMENT,
                 "options.plugin_dirs is NULL with plugin_dir_count " + std::to_string(o->plugin_dir_count));
        if (o->tick_threads > 0) opts.tick_threads = o->tick_threads;
        if (o->keep_runs != 0) opts.keep_runs = o->keep_runs < 0 ? 0 : o->keep_runs;
        if (o->max_run_age_ms != 0) opts.max_run_age_ms = o->max_run_age_ms < 0 ? 0 : o->max_run_age_ms;
    }
    if (!(flags & VIGY_EMBED_NO_DEFAULT_PLUGIN_DIRS)) {
        std::error_code ec;
        if (fs::path dir = library_plugin_dir(); !dir.empty() && fs::is_directory(dir, ec))
            opts.plugin_dirs.push_back(dir);
    }
    for (size_t i = 0; o && i < o->plugin_dir_count; ++i) {
        if (!o->plugin_dirs[i]) fail(VIGY_INVALID_ARGUMENT, "options.plugin_dirs[" + std::to_string(i) + "] is NULL");
        opts.plugin_dirs.emplace_back(o->plugin_dirs[i]);
    }
    if (!(flags & VIGY_EMBED_NO_DEFAULT_PLUGIN_DIRS))
        for (const fs::path& d : host::env_plugin_path()) opts.plugin_dirs.push_back(d);
    return opts;
}

}  // namespace

extern "C" {

VIGY_EMBED_API uint32_t vigy_embed_version(void) { return VIGY_EMBED_VERSION; }

VIGY_EMBED_API const char* vigy_embed_status_name(vigy_status status) { return vigy_status_name(status); }

VIGY_EMBED_API vigy_status vigy_embed_open(const char* db_path, const vigy_embed_options* options,
                                           vigy_embed_runtime** out, vigy_error* err) {
    if (out) *out = nullptr;
    return guarded(err, [&] {
        require(out, "out");
        auto opts = to_runtime_options(options);
        const fs::path path = db_path && *db_path ? fs::path(db_path) : host::runtime::default_db_path();
        auto handle = std::make_unique<vigy_embed_runtime>();
        handle->rt = host::runtime::open(path, std::move(opts));
        *out = handle.release();
    });
}

VIGY_EMBED_API void vigy_embed_close(vigy_embed_runtime* rt) {
    if (!rt) return;
    try {
        rt->rt->stop();
    } catch (...) {  // close cannot fail: a failed flush was already logged by the runtime
    }
    std::map<uint64_t, host::subscription> subs;
    {
        std::lock_guard lk(rt->mu);
        subs.swap(rt->subs);
    }
    subs.clear();  // each waits for its running callback
    delete rt;
}

VIGY_EMBED_API void vigy_embed_free(void* p) { std::free(p); }

VIGY_EMBED_API vigy_status vigy_embed_register(vigy_embed_runtime* rt, const char* spec_json, char** out_json,
                                               vigy_error* err) {
    if (out_json) *out_json = nullptr;
    return guarded(err, [&] {
        require(rt, "runtime");
        require(spec_json, "spec_json");
        const host::register_result r = rt->rt->register_or_update(parse_spec(spec_json));
        write_out(out_json, [&](json_writer& w) {
            w.StartObject();
            write_vigy_fields(w, r);
            key_str(w, "outcome", host::register_outcome_name(r.outcome));
            key_str(w, "previous_revision", r.previous_revision);
            w.EndObject();
        });
    });
}

VIGY_EMBED_API vigy_status vigy_embed_remove(vigy_embed_runtime* rt, const char* name_or_id, int keep_history,
                                             vigy_error* err) {
    return guarded(err, [&] {
        require(rt, "runtime");
        require(name_or_id, "name_or_id");
        if (!rt->rt->remove(name_or_id, keep_history != 0))
            fail(VIGY_NOT_FOUND, std::string("no vigy named or with id \"") + name_or_id + "\"");
    });
}

VIGY_EMBED_API vigy_status vigy_embed_get(vigy_embed_runtime* rt, const char* name_or_id, char** out_json,
                                          vigy_error* err) {
    if (out_json) *out_json = nullptr;
    return guarded(err, [&] {
        require(rt, "runtime");
        require(name_or_id, "name_or_id");
        require(out_json, "out_json");
        write_out(out_json, [&](json_writer& w) { write_vigy(w, rt->rt->get(name_or_id)); });
    });
}

VIGY_EMBED_API vigy_status vigy_embed_list(vigy_embed_runtime* rt, const char* selector, char** out_json,
                                           vigy_error* err) {
    if (out_json) *out_json = nullptr;
    return guarded(err, [&] {
        require(rt, "runtime");
        require(out_json, "out_json");
        write_out(out_json, [&](json_writer& w) {
            w.StartArray();
            for (const auto& v : rt->rt->list(selector ? selector : "")) write_vigy(w, v);
            w.EndArray();
        });
    });
}

VIGY_EMBED_API vigy_status vigy_embed_runs(vigy_embed_runtime* rt, const char* name_or_id, size_t limit,
                                           char** out_json, vigy_error* err) {
    if (out_json) *out_json = nullptr;
    return guarded(err, [&] {
        require(rt, "runtime");
        require(name_or_id, "name_or_id");
        require(out_json, "out_json");
        const auto runs = rt->rt->recent_runs(rt->rt->get(name_or_id).id, limit ? limit : 20);
        write_out(out_json, [&](json_writer& w) {
            w.StartArray();
            for (const auto& r : runs) write_run(w, r);
            w.EndArray();
        });
    });
}

VIGY_EMBED_API vigy_status vigy_embed_tick(vigy_embed_runtime* rt, const char* name_or_id, int64_t wait_ms,
                                           char** out_run_json, vigy_error* err) {
    if (out_run_json) *out_run_json = nullptr;
    return guarded(err, [&] {
        require(rt, "runtime");
        require(name_or_id, "name_or_id");
        if (wait_ms < 0) fail(VIGY_INVALID_ARGUMENT, "wait_ms " + std::to_string(wait_ms) + " must be >= 0");
        const host::run r = rt->rt->tick_now(name_or_id, wait_ms ? wait_ms : 5000);
        write_out(out_run_json, [&](json_writer& w) { write_run(w, r); });
    });
}

VIGY_EMBED_API vigy_status vigy_embed_subscribe(vigy_embed_runtime* rt, vigy_embed_run_fn fn, void* user_data,
                                                uint64_t* out_id, vigy_error* err) {
    return guarded(err, [&] {
        require(rt, "runtime");
        require(reinterpret_cast<const void*>(fn), "fn");
        require(out_id, "out_id");
        host::subscription sub = rt->rt->subscribe([fn, user_data](const host::run& r) {
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            write_run(w, r);
            in_callback = true;
            fn(user_data, buf.GetString(), buf.GetSize());  // a C function: it does not throw
            in_callback = false;
        });
        std::lock_guard lk(rt->mu);
        const uint64_t id = rt->next_id++;
        rt->subs.emplace(id, std::move(sub));
        *out_id = id;
    });
}

VIGY_EMBED_API vigy_status vigy_embed_unsubscribe(vigy_embed_runtime* rt, uint64_t id, vigy_error* err) {
    return guarded(err, [&] {
        require(rt, "runtime");
        if (in_callback) fail(VIGY_FAILED_PRECONDITION, "vigy_embed_unsubscribe called from a run callback");
        host::subscription sub;
        {
            std::lock_guard lk(rt->mu);
            auto it = rt->subs.find(id);
            if (it == rt->subs.end()) fail(VIGY_NOT_FOUND, "no subscription " + std::to_string(id));
            sub = std::move(it->second);
            rt->subs.erase(it);
        }
        sub.reset();  // outside the lock: waits for a running callback
    });
}

VIGY_EMBED_API vigy_status vigy_embed_start(vigy_embed_runtime* rt, vigy_error* err) {
    return guarded(err, [&] {
        require(rt, "runtime");
        rt->rt->start();
    });
}

VIGY_EMBED_API vigy_status vigy_embed_stop(vigy_embed_runtime* rt, vigy_error* err) {
    return guarded(err, [&] {
        require(rt, "runtime");
        if (in_callback) fail(VIGY_FAILED_PRECONDITION, "vigy_embed_stop called from a run callback");
        rt->rt->stop();
    });
}

VIGY_EMBED_API vigy_status vigy_embed_plugins(vigy_embed_runtime* rt, char** out_json, vigy_error* err) {
    if (out_json) *out_json = nullptr;
    return guarded(err, [&] {
        require(rt, "runtime");
        require(out_json, "out_json");
        const host::registry& reg = rt->rt->plugins();
        write_out(out_json, [&](json_writer& w) {
            w.StartObject();
            w.Key("plugins");
            w.StartArray();
            for (const auto& p : reg.plugins()) {
                w.StartObject();
                key_str(w, "id", p.id);
                key_str(w, "version", p.version);
                key_str(w, "abi",
                        std::to_string(VIGY_ABI_VERSION_MAJOR(p.abi_version)) + "." +
                            std::to_string(VIGY_ABI_VERSION_MINOR(p.abi_version)));
                key_str(w, "file", p.file);
                w.Key("kinds");
                w.StartArray();
                for (const auto& k : p.kinds) w.String(k.kind.c_str());
                w.EndArray();
                w.Key("extensions");
                w.StartArray();
                for (const auto& e : p.extensions) w.String(e.name.c_str());
                w.EndArray();
                w.EndObject();
            }
            w.EndArray();
            w.Key("skipped");
            w.StartArray();
            for (const auto& d : reg.skipped()) {
                w.StartObject();
                key_str(w, "file", d.file);
                key_str(w, "reason", d.reason);
                w.EndObject();
            }
            w.EndArray();
            w.EndObject();
        });
    });
}

VIGY_EMBED_API int vigy_embed_serving(const vigy_embed_runtime* rt) { return rt && rt->rt->serving() ? 1 : 0; }

}  // extern "C"
