// api/src/routes_vigies.cpp — REST /v1/vigies: list, apply (create-or-update, dry run),
// get / put / merge-patch / delete with resource_version preconditions, the sub-resources
// (runs, kv, conditions, events, state), tick, enable, disable, and GET /v1/runs/{id}.
#include "routes_internal.hpp"

#include "vigy/api/json.hpp"
#include "vigy/host/time.hpp"
#include "vigy/store/labels.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdlib>

namespace vigy::api::detail {

// ---- shared helpers -------------------------------------------------------------------

response guarded(request& req, bool body_route, const std::function<response()>& f) {
    try {
        return f();
    } catch (const status_error& e) {
        const vigy_status c = e.code();
        status_hint h = status_hint::none;
        if (c == VIGY_INVALID_ARGUMENT && body_route) h = status_hint::body_validation;
        if (c == VIGY_ABORTED && req.header("If-Match")) h = status_hint::if_match_failed;
        problem p = make_problem(c, e.what(), h);
        if (c == VIGY_UNAVAILABLE) p.headers.set("Retry-After", "1");
        throw http_error(std::move(p));
    }
}

response json_ok(int status, const rapidjson::StringBuffer& buf) { return response::json(status, text(buf)); }

std::optional<int64_t> query_int(const request& req, std::string_view name, int64_t min, int64_t max) {
    const auto v = req.query.get(name);
    if (!v) return std::nullopt;
    const std::string s(*v);
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE || n < min || n > max ||
        !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-'))
        throw http_error(VIGY_INVALID_ARGUMENT, "invalid " + std::string(name) + " \"" + s +
                                                    "\": expected an integer from " + std::to_string(min) + " to " +
                                                    std::to_string(max));
    return n;
}

bool query_flag(const request& req, std::string_view name) {
    const auto v = req.query.get(name);
    if (!v) return false;
    if (v->empty() || *v == "true" || *v == "1") return true;
    if (*v == "false" || *v == "0") return false;
    throw http_error(VIGY_INVALID_ARGUMENT,
                     "invalid " + std::string(name) + " \"" + std::string(*v) + "\": expected true or false");
}

std::optional<int64_t> if_match(const request& req) {
    auto h = req.header("If-Match");
    if (!h) return std::nullopt;
    std::string_view v = *h;
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v == "*") return std::nullopt;
    if (v.substr(0, 2) == "W/") v.remove_prefix(2);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }) || v.size() > 18)
        throw http_error(VIGY_INVALID_ARGUMENT, "invalid If-Match \"" + std::string(*h) +
                                                    "\": expected the ETag of a vigy (\"<resource_version>\")");
    return std::strtoll(std::string(v).c_str(), nullptr, 10);
}

std::string etag_of(int64_t resource_version) { return "\"" + std::to_string(resource_version) + "\""; }

std::string encode_segment(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

namespace {

bool if_none_match_hits(const request& req, const std::string& etag) {
    const auto h = req.header("If-None-Match");
    if (!h) return false;
    std::string_view v = *h;
    while (!v.empty()) {
        const std::size_t comma = v.find(',');
        std::string_view item = v.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.substr(0, 2) == "W/") item.remove_prefix(2);
        if (item == "*" || item == etag) return true;
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
    return false;
}

std::string str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

}  // namespace

apply_body parse_apply(const rapidjson::Value& doc, std::string_view path_name, const std::vector<std::string>& kinds) {
    std::vector<field_error> errs;
    auto err = [&](std::string pointer, std::string detail) {
        errs.push_back({std::move(pointer), std::move(detail)});
    };
    apply_body out;
    if (!doc.IsObject())
        throw http_error::validation("the body must be a JSON object (a vigy spec)", {{"", "must be an object"}});
    static const std::set<std::string, std::less<>> known = {
        "name",    "program", "kind",   "config", "tick_interval_ms", "schedule",
        "enabled", "labels",  "grants", "limits", "resource_version"};
    for (const auto& m : doc.GetObject()) {
        const std::string k = str(m.name);
        if (!known.count(k))
            err("/" + json_pointer_token(k),
                "unknown member (expected one of name, program, kind, config, "
                "tick_interval_ms, schedule, enabled, labels, grants, limits)");
    }
    // name
    std::string name(path_name);
    if (doc.HasMember("name")) {
        const auto& n = doc["name"];
        if (!n.IsString()) {
            err("/name", "must be a string");
        } else if (!path_name.empty() && str(n) != path_name) {
            err("/name", "\"" + str(n) + "\" does not match the name in the path \"" + std::string(path_name) + "\"");
        } else {
            name = str(n);
        }
    } else if (path_name.empty()) {
        err("/name", "required");
    }
    if (!name.empty()) {
        try {
            store::validate_name(name);
        } catch (const status_error& e) {
            err("/name", e.what());
        }
    }
    out.spec.name = name;
    // kind + config, or program
    std::string kind = "lisp";
    if (doc.HasMember("kind")) {
        if (!doc["kind"].IsString() || doc["kind"].GetStringLength() == 0) {
            err("/kind", "must be a non-empty string");
        } else {
            kind = str(doc["kind"]);
            if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
                std::string list;
                for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
                err("/kind",
                    "unknown reconciler kind \"" + kind + "\" (known: " + (list.empty() ? "none" : list) + ")");
            }
        }
    }
    out.spec.kind = kind;
    const bool has_program = doc.HasMember("program");
    const bool has_config = doc.HasMember("config");
    if (has_program && has_config) {
        err("/program", "give program or config, not both");
    } else if (has_program) {
        if (!doc["program"].IsString()) {
            err("/program", "must be a string (the program's source)");
        } else if (kind != "lisp") {
            err("/program", "program is the source of a lisp vigy; kind \"" + kind + "\" takes config");
        } else {
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            w.StartObject();
            w.Key("program");
            write_string(w, str(doc["program"]));
            w.Key("source_name");
            write_string(w, name);
            w.EndObject();
            out.spec.config_json = text(buf);
        }
    } else if (has_config) {
        if (!doc["config"].IsObject())
            err("/config", "must be an object");
        else
            out.spec.config_json = to_json(doc["config"]);
    } else if (kind == "lisp") {
        err("/program", "required (or kind + config)");
    }
    // schedule
    std::optional<int64_t> every;
    auto interval_of = [&](const rapidjson::Value& v, const std::string& pointer) -> std::optional<int64_t> {
        if (!v.IsInt64() || v.GetInt64() < 100) {
            err(pointer, "must be an integer >= 100 (milliseconds)");
            return std::nullopt;
        }
        return v.GetInt64();
    };
    if (doc.HasMember("tick_interval_ms")) every = interval_of(doc["tick_interval_ms"], "/tick_interval_ms");
    if (doc.HasMember("schedule")) {
        const auto& s = doc["schedule"];
        if (!s.IsObject()) {
            err("/schedule", "must be an object {kind, ...}");
        } else if (!s.HasMember("kind") || !s["kind"].IsString()) {
            err("/schedule/kind", "required: a string");
        } else if (str(s["kind"]) != "every" || s.MemberCount() > 2 ||
                   (s.MemberCount() == 2 && !s.HasMember("every_ms"))) {
            // a full schedule (schedule.hpp: cron, once, trigger, jitter, catch-up, supervision)
            try {
                const host::schedule_spec sc = host::schedule_from_json(to_json(s));
                out.spec.schedule_json = sc.to_json();
                if (sc.kind == host::schedule_kind::every) {
                    if (every && *every != sc.every_ms)
                        err("/schedule/every_ms", "differs from tick_interval_ms (" + std::to_string(*every) + ")");
                    every = sc.every_ms;
                }
            } catch (const status_error& e) {
                err("/schedule", e.what());
            }
        } else if (s.HasMember("every_ms")) {
            const auto e = interval_of(s["every_ms"], "/schedule/every_ms");
            if (e && every && *e != *every)
                err("/schedule/every_ms", "differs from tick_interval_ms (" + std::to_string(*every) + ")");
            else if (e)
                every = e;
        }
    }
    out.spec.interval_ms = every.value_or(store::default_interval_ms);
    // enabled
    if (doc.HasMember("enabled")) {
        if (!doc["enabled"].IsBool())
            err("/enabled", "must be true or false");
        else
            out.spec.enabled = doc["enabled"].GetBool();
    }
    // labels
    if (doc.HasMember("labels")) {
        const auto& l = doc["labels"];
        if (!l.IsObject()) {
            err("/labels", "must be an object of strings");
        } else {
            for (const auto& m : l.GetObject()) {
                const std::string k = str(m.name);
                const std::string ptr = "/labels/" + json_pointer_token(k);
                if (!m.value.IsString()) {
                    err(ptr, "must be a string");
                    continue;
                }
                try {
                    store::validate_label_key(k);
                    store::validate_label_value(k, str(m.value));
                    out.spec.labels[k] = str(m.value);
                } catch (const status_error& e) {
                    err(ptr, e.what());
                }
            }
        }
    }
    // grants
    if (doc.HasMember("grants")) {
        const auto& g = doc["grants"];
        if (!g.IsArray()) {
            err("/grants", "must be an array of capability ids");
        } else {
            for (rapidjson::SizeType i = 0; i < g.Size(); ++i) {
                if (!g[i].IsString() || g[i].GetStringLength() == 0)
                    err("/grants/" + std::to_string(i), "must be a non-empty string");
                else
                    out.spec.allow.push_back(str(g[i]));
            }
        }
    }
    // limits
    if (doc.HasMember("limits")) {
        const auto& l = doc["limits"];
        if (!l.IsObject()) {
            err("/limits", "must be an object {fuel, wall_ms, memory_bytes, max_depth}");
        } else {
            for (const auto& m : l.GetObject()) {
                const std::string k = str(m.name);
                const std::string ptr = "/limits/" + json_pointer_token(k);
                uint64_t* field = k == "fuel"           ? &out.spec.limits.fuel
                                  : k == "wall_ms"      ? &out.spec.limits.wall_ms
                                  : k == "memory_bytes" ? &out.spec.limits.memory_bytes
                                  : k == "max_depth"    ? &out.spec.limits.max_depth
                                                        : nullptr;
                if (!field) {
                    err(ptr, "unknown limit (expected fuel, wall_ms, memory_bytes, max_depth)");
                } else if (!m.value.IsUint64()) {
                    err(ptr, "must be an integer >= 0 (0 = the runtime's default)");
                } else {
                    *field = m.value.GetUint64();
                }
            }
        }
    }
    // resource_version precondition
    if (doc.HasMember("resource_version")) {
        const auto& rv = doc["resource_version"];
        std::string t = rv.IsString() ? str(rv) : rv.IsInt64() ? std::to_string(rv.GetInt64()) : std::string();
        if (t.empty() || t.size() > 18 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
            err("/resource_version", "must be a resource_version as returned by the API (a decimal string)");
        else
            out.resource_version = std::strtoll(t.c_str(), nullptr, 10);
    }
    if (!errs.empty()) {
        std::string detail = errs.size() == 1 ? errs[0].pointer + ": " + errs[0].detail
                                              : std::to_string(errs.size()) + " invalid fields (first " +
                                                    errs[0].pointer + ": " + errs[0].detail + ")";
        if (errs[0].pointer.empty()) detail = errs[0].detail;
        throw http_error::validation(detail, std::move(errs));
    }
    return out;
}

std::shared_ptr<const vigy_read_cache::entry> vigy_read_cache::find(const std::string& key, int64_t seq) {
    std::lock_guard lock(mu_);
    if (seq != seq_) {
        if (seq < seq_) return nullptr;  // a reader behind the cache: render afresh
        entries_.clear();
        bytes_ = 0;
        seq_ = seq;
        return nullptr;
    }
    const auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : it->second;
}

void vigy_read_cache::put(const std::string& key, int64_t seq, std::shared_ptr<const entry> e) {
    if (e->body.size() > max_body) return;
    std::lock_guard lock(mu_);
    if (seq != seq_) return;
    const std::size_t add = key.size() + e->body.size() + e->etag.size();
    if (bytes_ + add > max_bytes) {
        entries_.clear();
        bytes_ = 0;
    }
    auto& slot = entries_[key];
    if (slot) bytes_ -= key.size() + slot->body.size() + slot->etag.size();
    slot = std::move(e);
    bytes_ += add;
}

namespace {

/// The VigyApply form of a stored vigy (the target of a merge patch).
rapidjson::Document apply_form(const host::vigy_info& v) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("kind");
    write_string(w, v.kind);
    w.Key("config");
    write_raw_json(w, v.config_json, "{}");
    w.Key("tick_interval_ms");
    w.Int64(v.interval_ms);
    w.Key("enabled");
    w.Bool(v.enabled);
    w.Key("labels");
    w.StartObject();
    for (const auto& [k, val] : v.labels) {
        w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        write_string(w, val);
    }
    w.EndObject();
    w.Key("grants");
    w.StartArray();
    for (const auto& g : v.allow) write_string(w, g);
    w.EndArray();
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
    w.EndObject();
    return parse_json(text(buf));
}

response vigy_response(service& s, int status, const host::vigy_info& v) {
    response res = response::json(status, s.vigy_json(v));
    res.headers.set("ETag", etag_of(v.resource_version));
    return res;
}

response apply_response(service& s, const host::register_result& rr) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("outcome");
    w.String(host::register_outcome_name(rr.outcome));
    w.Key("vigy");
    s.write_vigy(w, rr);
    if (!rr.previous_revision.empty()) {
        w.Key("previous_revision");
        write_string(w, rr.previous_revision);
    }
    w.EndObject();
    const bool created = rr.outcome == host::register_outcome::created;
    response res = json_ok(created ? 201 : 200, buf);
    res.headers.set("ETag", etag_of(rr.resource_version));
    if (created) res.headers.set("Location", "/v1/vigies/" + encode_segment(rr.name));
    return res;
}

/// The precondition of a write: If-Match wins over a body's resource_version.
std::optional<int64_t> precondition(const request& req, const std::optional<int64_t>& body_rv) {
    if (auto m = if_match(req)) return m;
    return body_rv;
}

response apply(service& s, request& req, const apply_body& body, bool dry_run) {
    if (dry_run) {
        if (auto msg = s.rt.check(body.spec)) {
            problem p = make_problem(VIGY_INVALID_ARGUMENT, *msg, status_hint::body_validation);
            p.errors.push_back({body.spec.kind == "lisp" ? "/program" : "/config", *msg});
            throw http_error(std::move(p));
        }
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("outcome");
        w.String("valid");
        w.Key("dry_run");
        w.Bool(true);
        w.EndObject();
        return json_ok(200, buf);
    }
    const auto rr = s.rt.register_or_update(body.spec, precondition(req, body.resource_version));
    return apply_response(s, rr);
}

void write_list_meta(json_writer& w, int64_t rv, const std::string& cont) {
    w.Key("metadata");
    w.StartObject();
    w.Key("resource_version");
    write_string(w, std::to_string(rv));
    if (!cont.empty()) {
        w.Key("continue");
        write_string(w, cont);
    }
    w.EndObject();
}

/// A list response, `{items: [...], metadata: {resource_version, continue?}}`, with each
/// item written by `write(w, item)`.
template <class Items, class Write>
response list_response(const Items& items, Write&& write, int64_t rv, const std::string& cont = {}) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const auto& item : items) write(w, item);
    w.EndArray();
    write_list_meta(w, rv, cont);
    w.EndObject();
    return json_ok(200, buf);
}

void write_kv(json_writer& w, const host::kv_entry& e) {
    w.StartObject();
    w.Key("key");
    write_string(w, e.key);
    w.Key("value");
    write_raw_json(w, e.value_json, "null");
    w.Key("updated_at");
    write_string(w, host::format_rfc3339_ms(e.updated_ms));
    w.EndObject();
}

const std::string& name_param(request& req) { return req.param("name"); }

}  // namespace

response list_vigies(service& s, request& req);
response watch_vigies(service& s, request& req);

response list_vigies(service& s, request& req) {
    const std::string selector(req.query.get("label_selector").value_or(""));
    const auto limit = query_int(req, "limit", 1, 500).value_or(500);
    const std::string cont(req.query.get("continue").value_or(""));
    const auto page = s.rt.list_page(selector, static_cast<size_t>(limit), cont);
    return list_response(
        page.items, [&s](json_writer& w, const host::vigy_info& v) { s.write_vigy(w, v); }, page.resource_version,
        page.continue_token);
}

void mount_vigies(router& r, service& s) {
    r.get("/v1/vigies", [&s](request& req) {
        return guarded(req, false,
                       [&] { return query_flag(req, "watch") ? watch_vigies(s, req) : list_vigies(s, req); });
    });

    r.post("/v1/vigies", [&s](request& req) {
        return guarded(req, true, [&] {
            const bool dry = query_flag(req, "dry_run");
            const auto doc = parse_json_body(req);
            const auto body = parse_apply(doc, "", s.rt.kinds());
            return apply(s, req, body, dry);
        });
    });

    // A hit answers on the event loop (try_resource_version never waits); a miss, or a
    // change_seq that cannot be read at once, goes to the pool to read and render.
    const auto cached_vigy = [](request& req, const vigy_read_cache::entry& hit) {
        if (if_none_match_hits(req, hit.etag)) {
            response res = response::empty(304);
            res.headers.set("ETag", hit.etag);
            return res;
        }
        response res = response::json(200, hit.body);
        res.headers.set("ETag", hit.etag);
        return res;
    };
    route_options vigy_get;
    vigy_get.probe = [&s, cached_vigy](request& req) -> std::optional<response> {
        const auto seq = s.rt.try_resource_version();
        if (!seq) return std::nullopt;
        const auto hit = s.reads.find(name_param(req), *seq);
        if (!hit) return std::nullopt;
        return cached_vigy(req, *hit);
    };
    r.get(
        "/v1/vigies/{name}",
        [&s, cached_vigy](request& req) {
            return guarded(req, false, [&] {
                const std::string name = name_param(req);
                const int64_t seq = s.rt.resource_version();  // read first: what follows is at least as new
                auto hit = s.reads.find(name, seq);
                if (!hit) {
                    const auto v = s.rt.get(name);
                    auto e = std::make_shared<vigy_read_cache::entry>();
                    e->resource_version = v.resource_version;
                    e->etag = etag_of(v.resource_version);
                    e->body = s.vigy_json(v);
                    s.reads.put(name, seq, e);
                    hit = std::move(e);
                }
                return cached_vigy(req, *hit);
            });
        },
        std::move(vigy_get));

    r.put("/v1/vigies/{name}", [&s](request& req) {
        return guarded(req, true, [&] {
            const bool dry = query_flag(req, "dry_run");
            const auto doc = parse_json_body(req);
            const auto body = parse_apply(doc, name_param(req), s.rt.kinds());
            return apply(s, req, body, dry);
        });
    });

    r.patch("/v1/vigies/{name}", [&s](request& req) {
        return guarded(req, true, [&] {
            const auto patch = parse_json_body(req);
            if (!patch.IsObject())
                throw http_error::validation("a merge patch of a vigy must be a JSON object",
                                             {{"", "must be an object"}});
            std::optional<int64_t> body_rv;
            if (patch.HasMember("resource_version")) {
                const auto& rv = patch["resource_version"];
                const std::string t = rv.IsString() ? std::string(rv.GetString(), rv.GetStringLength()) : std::string();
                if (t.empty() || t.size() > 18 || t.find_first_not_of("0123456789") != std::string::npos)
                    throw http_error::validation(
                        "invalid resource_version",
                        {{"/resource_version",
                          "must be a resource_version as returned by the API (a decimal string)"}});
                body_rv = std::strtoll(t.c_str(), nullptr, 10);
            }
            const auto client_rv = precondition(req, body_rv);
            // read-modify-write as a compare-and-set on the version read; a concurrent
            // writer makes it retry (unless the client named the version itself)
            for (int attempt = 0;; ++attempt) {
                const auto cur = s.rt.get(name_param(req));
                if (client_rv && *client_rv != cur.resource_version)
                    vigy::fail(VIGY_ABORTED, "vigy \"" + cur.name + "\" is at resource_version " +
                                                 std::to_string(cur.resource_version) + ", not " +
                                                 std::to_string(*client_rv) + ": read it again and reapply the change");
                rapidjson::Document target = apply_form(cur);
                rapidjson::Document merged = merge_patch(target, patch);
                if (merged.IsObject() && merged.HasMember("resource_version")) merged.RemoveMember("resource_version");
                if (merged.IsObject() && merged.HasMember("program") && merged["program"].IsString()) {
                    // program is shorthand for config.program (the lisp source)
                    rapidjson::Value prog(merged["program"], merged.GetAllocator());
                    merged.RemoveMember("program");
                    if (!merged.HasMember("config") || !merged["config"].IsObject())
                        merged.AddMember("config", rapidjson::Value(rapidjson::kObjectType), merged.GetAllocator());
                    auto& cfg = merged["config"];
                    if (cfg.HasMember("program")) cfg.RemoveMember("program");
                    cfg.AddMember("program", prog, merged.GetAllocator());
                    if (!cfg.HasMember("source_name"))
                        cfg.AddMember("source_name", rapidjson::Value(cur.name.c_str(), merged.GetAllocator()),
                                      merged.GetAllocator());
                }
                const auto body = parse_apply(merged, cur.name, s.rt.kinds());
                try {
                    const auto rr = s.rt.register_or_update(body.spec, cur.resource_version);
                    response res = vigy_response(s, 200, rr);
                    return res;
                } catch (const status_error& e) {
                    if (e.code() != VIGY_ABORTED || client_rv || attempt >= 4) throw;
                }
            }
        });
    });

    r.del("/v1/vigies/{name}", [&s](request& req) {
        return guarded(req, false, [&] {
            const bool keep = query_flag(req, "keep_history");
            const auto expected = if_match(req);
            const auto v = s.rt.get(name_param(req));
            if (!s.rt.remove(v.id, keep, expected))
                vigy::fail(VIGY_NOT_FOUND, "vigy \"" + name_param(req) + "\" not found");
            s.states.forget(v.id);
            return response::empty(204);
        });
    });

    auto lifecycle = [&s](bool on) {
        return [&s, on](request& req) {
            return guarded(req, false, [&] {
                const auto expected = if_match(req);
                const auto v = on ? s.rt.enable(name_param(req), expected) : s.rt.disable(name_param(req), expected);
                return vigy_response(s, 200, v);
            });
        };
    };
    r.post("/v1/vigies/{name}/enable", lifecycle(true));
    r.post("/v1/vigies/{name}/disable", lifecycle(false));

    r.post("/v1/vigies/{name}/tick", [&s](request& req) {
        return guarded(req, false, [&] {
            const auto wait = query_int(req, "wait_ms", 0, 60000).value_or(s.opts.tick_wait_ms);
            const auto run = s.rt.tick_now(name_param(req), wait);
            s.states.note(run);
            return response::json(200, run_json(run));
        });
    });

    r.post("/v1/vigies/{name}/trigger", [&s](request& req) {
        return guarded(req, false, [&] {
            // Body: {"payload": <any JSON>} (optional; empty body = no payload).
            std::string payload;
            if (!req.body.empty()) {
                const rapidjson::Document d = parse_json(req.body);
                if (!d.IsObject())
                    throw http_error(VIGY_INVALID_ARGUMENT, "the body must be an object {\"payload\": ...}");
                for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it)
                    if (std::string_view(it->name.GetString(), it->name.GetStringLength()) != "payload")
                        throw http_error(VIGY_INVALID_ARGUMENT,
                                         "unknown member \"" + str(it->name) + "\" (known: payload)");
                if (d.HasMember("payload")) payload = to_json(d["payload"]);
            }
            const auto wait = query_int(req, "wait_ms", 0, 60000).value_or(s.opts.tick_wait_ms);
            const auto v = s.rt.get(name_param(req));
            const auto run = s.rt.trigger(v.id, payload, "api", wait);
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            w.StartObject();
            w.Key("outcome");
            w.String(run ? "ran" : "queued");
            w.Key("vigy");
            write_string(w, v.name);
            if (run) {
                s.states.note(*run);
                w.Key("run");
                write_run(w, *run);
            }
            w.EndObject();
            return json_ok(run ? 200 : 202, buf);
        });
    });

    r.get("/v1/vigies/{name}/runs", [&s](request& req) {
        return guarded(req, false, [&] {
            const auto v = s.rt.get(name_param(req));
            const auto limit = query_int(req, "limit", 1, 500).value_or(100);
            const std::string order(req.query.get("order").value_or("asc"));
            if (order != "asc" && order != "desc")
                throw http_error(VIGY_INVALID_ARGUMENT, "invalid order \"" + order + "\": expected asc or desc");
            std::vector<host::run> runs;
            std::string cont;
            if (order == "desc") {
                if (req.query.has("after_seq") || req.query.has("continue"))
                    throw http_error(VIGY_INVALID_ARGUMENT,
                                     "order=desc lists the newest runs: after_seq and continue page order=asc");
                runs = s.rt.recent_runs(v.id, static_cast<size_t>(limit));
            } else {
                int64_t after = query_int(req, "after_seq", 0, INT64_MAX).value_or(0);
                if (auto c = req.query.get("continue"); c && !c->empty()) after = parse_cursor(*c, "continue");
                runs = s.rt.runs_after(after, static_cast<size_t>(limit), v.id);
                if (runs.size() == static_cast<size_t>(limit)) cont = std::to_string(runs.back().seq);
            }
            return list_response(runs, write_run, s.rt.resource_version(), cont);
        });
    });

    r.get("/v1/vigies/{name}/kv", [&s](request& req) {
        return guarded(req, false, [&] {
            const auto v = s.rt.get(name_param(req));
            return list_response(s.rt.kv(v.id), write_kv, s.rt.resource_version());
        });
    });

    r.get("/v1/vigies/{name}/conditions", [&s](request& req) {
        return guarded(req, false, [&] {
            const auto v = s.rt.get(name_param(req));
            return list_response(s.rt.conditions(v.id), write_condition, s.rt.resource_version());
        });
    });

    r.get("/v1/vigies/{name}/events", [&s](request& req) {
        return guarded(req, false, [&] {
            const auto v = s.rt.get(name_param(req));
            const auto limit = query_int(req, "limit", 1, 500).value_or(20);
            return list_response(s.rt.events(v.id, static_cast<size_t>(limit)), write_event, s.rt.resource_version());
        });
    });

    r.get("/v1/vigies/{name}/state", [&s](request& req) {
        return guarded(req, false, [&] {
            const auto v = s.rt.get(name_param(req));
            const auto recent = s.rt.recent_runs(v.id, 20);
            const host::run* last = recent.empty() ? nullptr : &recent.front();
            const host::run* last_ok = nullptr;
            for (const auto& r : recent)
                if (r.result == host::run_result::ok) {
                    last_ok = &r;
                    break;
                }
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            w.StartObject();
            w.Key("vigy_id");
            write_string(w, v.id);
            w.Key("name");
            write_string(w, v.name);
            w.Key("desired");
            write_raw_json(w, last_ok ? last_ok->desired_json : "{}", "{}");
            w.Key("observed");
            write_raw_json(w, last_ok ? last_ok->observed_json : "{}", "{}");
            w.Key("conditions");
            w.StartArray();
            for (const auto& c : s.rt.conditions(v.id)) write_condition(w, c);
            w.EndArray();
            w.Key("last_run");
            if (last)
                write_run(w, *last);
            else
                w.Null();
            w.Key("captured_at");
            write_string(w, host::format_rfc3339_ms(host::clock::system()->wall_ms()));
            w.EndObject();
            return json_ok(200, buf);
        });
    });

    r.get("/v1/runs/{run_id}", [&s](request& req) {
        return guarded(req, false, [&] {
            const auto run = s.rt.find_run(req.param("run_id"));
            if (!run) vigy::fail(VIGY_NOT_FOUND, "run \"" + req.param("run_id") + "\" not found");
            return response::json(200, run_json(*run));
        });
    });
}

}  // namespace vigy::api::detail
