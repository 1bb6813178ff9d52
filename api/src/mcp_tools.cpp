// api/src/mcp_tools.cpp — the MCP tool catalog (schemas, annotations) and the tools,
// over the runtime and the one JSON codec of resources.hpp. The request-body
// mappings are the REST routes' own (routes_internal.hpp: parse_apply, parse_eval,
// write_plugins), so a tool and its route accept and answer the same thing.
#include "mcp_internal.hpp"
#include "routes_internal.hpp"

#include "vigy/api/json.hpp"
#include "vigy/api/resources.hpp"

#include <algorithm>
#include <regex>
#include <set>

namespace vigy::api::mcp {

namespace {

// ---- schemas ------------------------------------------------------------------------

const std::string vigy_schema =
    R"({"type":"object","description":"a vigy: the same object as GET /v1/vigies/{name}",)"
    R"("required":["id","name","kind","revision","resource_version","tick_interval_ms","enabled","labels","created_at","updated_at"],)"
    R"("properties":{"id":{"type":"string"},"name":{"type":"string"},"kind":{"type":"string"},"revision":{"type":"string"},)"
    R"("resource_version":{"type":"string"},"tick_interval_ms":{"type":"integer"},"schedule":{"type":"object"},)"
    R"("enabled":{"type":"boolean"},"labels":{"type":"object","additionalProperties":{"type":"string"}},)"
    R"("limits":{"type":"object"},"allow":{"type":"array","items":{"type":"string"}},)"
    R"("grants":{"type":"array","items":{"type":"string"}},"created_at":{"type":"string"},"updated_at":{"type":"string"},)"
    R"("config":{}}})";

const std::string run_schema =
    R"({"type":"object","description":"one committed tick: the same object as GET /v1/runs/{id}",)"
    R"("required":["id","seq","vigy_id","vigy_name","trigger","started_at","ended_at","result","output"],)"
    R"("properties":{"id":{"type":"string"},"seq":{"type":"integer"},"vigy_id":{"type":"string"},"vigy_name":{"type":"string"},)"
    R"("revision":{"type":"string"},"trigger":{"type":"string"},"started_at":{"type":"string"},"ended_at":{"type":"string"},)"
    R"("duration_ms":{"type":"number"},"lateness_ms":{"type":"number"},"result":{"type":"string","enum":["ok","failed","skipped"]},)"
    R"("status":{"type":"string"},"error":{"type":"string"},"tick_count":{"type":"integer"},"output":{"type":"string"},)"
    R"("actions":{"type":"array"},"desired":{"type":"object"},"observed":{"type":"object"},"conditions":{"type":"array"},)"
    R"("log":{"type":"array"},"trace":{"type":"object"},"metrics":{"type":"object"},"events":{"type":"array"},)"
    R"("kv_writes":{"type":"object"},"kv_deletes":{"type":"array"}}})";

const std::string condition_schema =
    R"({"type":"object","required":["type","status","reason","message"],"properties":{"type":{"type":"string"},)"
    R"("status":{"type":"string"},"reason":{"type":"string"},"message":{"type":"string"},)"
    R"("last_transition":{"type":"string"},"updated_at":{"type":"string"}}})";

const std::string id_property = R"("id":{"type":"string","description":"the vigy's name or id"})";

const std::string program_properties =
    R"("program":{"type":"string","description":"the tatara-lisp source of a lisp vigy; give program, or kind + config"},)"
    R"("kind":{"type":"string","description":"the reconciler kind, lisp by default; vigy_plugins lists the loaded kinds"},)"
    R"("config":{"type":"object","description":"the configuration of a non-lisp kind"})";

const std::string limits_property =
    R"("limits":{"type":"object","description":"per-tick limits; 0 or absent = the runtime's default",)"
    R"("additionalProperties":false,"properties":{"fuel":{"type":"integer","minimum":0},"wall_ms":{"type":"integer","minimum":0},)"
    R"("memory_bytes":{"type":"integer","minimum":0},"max_depth":{"type":"integer","minimum":0}}})";

const std::string grants_property =
    R"("grants":{"type":"array","items":{"type":"string"},"description":"capability ids granted beyond the defaults"})";

std::string object_schema(const std::string& properties, const std::string& required = "") {
    return R"({"type":"object","properties":{)" + properties + "}" +
           (required.empty() ? std::string() : R"(,"required":[)" + required + "]") +
           R"(,"additionalProperties":false})";
}

std::vector<tool> make_catalog() {
    std::vector<tool> c;
    c.push_back(
        {"vigy_register", "Register or update a vigy",
         "Registers a vigy (a reconciler program ticked on a schedule) or updates the one with the same name; "
         "registering the same name and program again changes nothing (outcome \"unchanged\"). The program is "
         "built first: one that does not build is refused with its line:col and nothing is stored (try it with "
         "vigy_check or vigy_eval). A new vigy is enabled unless enabled is false; an update keeps the enabled "
         "state unless enabled is given.",
         object_schema(
             R"("name":{"type":"string","description":"a DNS subdomain name: lowercase letters, digits, '-' and '.'"},)" +
                 program_properties +
                 R"(,"tick_interval_ms":{"type":"integer","minimum":100,"default":1000,"description":"how often it ticks"},)"
                 R"("enabled":{"type":"boolean","default":true},)"
                 R"("labels":{"type":"object","additionalProperties":{"type":"string"},"description":"Kubernetes-style labels"},)" +
                 grants_property + "," + limits_property,
             R"("name")"),
         R"({"type":"object","required":["outcome","vigy"],"properties":{"outcome":{"type":"string","enum":["created","updated","unchanged"]},)"
         R"("vigy":)" +
             vigy_schema + R"(,"previous_revision":{"type":"string"}}})",
         false, true, true});
    c.push_back(
        {"vigy_list", "List vigies",
         "Lists the registered vigies by name, optionally filtered by a Kubernetes label selector "
         "(app=web, tier!=db, env in (a,b), !legacy) and paged with limit + continue.",
         object_schema(R"("label_selector":{"type":"string","description":"a Kubernetes label selector; empty = all"},)"
                       R"("limit":{"type":"integer","minimum":1,"maximum":500,"default":500},)"
                       R"("continue":{"type":"string","description":"the continue token of the previous page"})"),
         R"({"type":"object","required":["items","resource_version"],"properties":{"items":{"type":"array","items":)" +
             vigy_schema +
             R"(},"resource_version":{"type":"string"},"continue":{"type":"string","description":"pass to get the next page"}}})",
         true, false, true});
    c.push_back({"vigy_inspect", "Inspect a vigy",
                 "A vigy with its 5 most recent runs (newest first) and its current conditions.",
                 object_schema(id_property, R"("id")"),
                 R"({"type":"object","required":["vigy","recent_runs","conditions"],"properties":{"vigy":)" +
                     vigy_schema + R"(,"recent_runs":{"type":"array","items":)" + run_schema +
                     R"(},"conditions":{"type":"array","items":)" + condition_schema + "}}}",
                 true, false, true});
    c.push_back(
        {"vigy_tick", "Tick a vigy now",
         "Runs one tick of the vigy now (enabled or not), on the process that serves the database when one does, "
         "and returns the committed run: result ok or failed with its error, and everything the program printed "
         "(output), logged, traced and planned (actions).",
         object_schema(
             id_property +
                 R"(,"wait_ms":{"type":"integer","minimum":0,"maximum":60000,"description":"how long to wait for the serving process to take the tick, 5000 by default"})",
             R"("id")"),
         run_schema, false, false, false});
    c.push_back({"vigy_enable", "Enable a vigy", "Enables a vigy: it ticks on its schedule again. Returns the vigy.",
                 object_schema(id_property, R"("id")"), vigy_schema, false, false, true});
    c.push_back({"vigy_disable", "Disable a vigy",
                 "Disables a vigy: it stays registered with its history and kv but does not tick. Returns the vigy.",
                 object_schema(id_property, R"("id")"), vigy_schema, false, false, true});
    c.push_back(
        {"vigy_delete", "Delete a vigy",
         "Deletes a vigy. By default its recorded runs, kv and events are kept for audit (they come back if the "
         "name is registered again); keep_history false deletes them too.",
         object_schema(id_property + R"(,"keep_history":{"type":"boolean","default":true})", R"("id")"),
         R"({"type":"object","required":["deleted","id","name","kept_history"],"properties":{"deleted":{"type":"boolean"},)"
         R"("id":{"type":"string"},"name":{"type":"string"},"kept_history":{"type":"boolean"}}})",
         false, true, true});
    c.push_back(
        {"vigy_eval", "Dry-run a program",
         "Evaluates a program for N simulated ticks in memory (nothing is registered or stored; time is simulated, "
         "no sleeping) and returns every tick's buffers: output, log, trace, metrics, actions, desired, observed, "
         "conditions, events, kv changes, and the kv and conditions after the last good tick. The safest way to "
         "try a program before vigy_register. Runs under the runtime's per-tick limits unless limits are given.",
         object_schema(
             program_properties +
             R"(,"ticks":{"type":"integer","minimum":1,"maximum":1000,"default":1},)"
             R"("every_ms":{"type":"integer","minimum":100,"default":1000,"description":"simulated time between ticks"},)"
             R"("kv":{"type":"object","description":"the initial kv store: key -> any JSON value"},)" +
             grants_property + "," + limits_property),
         R"({"type":"object","required":["ticks","kv","conditions"],"properties":{"ticks":{"type":"array","items":)"
         R"({"type":"object","required":["index","result","tick","output"],"properties":{"index":{"type":"integer"},)"
         R"("result":{"type":"string","enum":["ok","failed"]},"status":{"type":"string"},"error":{"type":"string"},)"
         R"("tick":{"type":"object"},"output":{"type":"string"},"log":{"type":"array"},"trace":{"type":"object"},)"
         R"("metrics":{"type":"object"},"actions":{"type":"array"},"desired":{"type":"object"},"observed":{"type":"object"},)"
         R"("conditions":{"type":"array"},"events":{"type":"array"},"kv_changes":{"type":"object"}}}},)"
         R"("kv":{"type":"object"},"conditions":{"type":"array"}}})",
         true, false, true});
    c.push_back(
        {"vigy_check", "Check a program builds",
         "Builds a program without running it: valid true, or valid false with the diagnostic and its line and "
         "column.",
         object_schema(program_properties),
         R"({"type":"object","required":["valid"],"properties":{"valid":{"type":"boolean"},"error":{"type":"string"},)"
         R"("line":{"type":"integer","minimum":1},"column":{"type":"integer","minimum":1}}})",
         true, false, true});
    c.push_back(
        {"vigy_runs", "Read a vigy's runs",
         "A vigy's committed runs with seq greater than after_seq, oldest first, at most limit. Pass next_after_seq "
         "back as after_seq to read on; more is true when the page is full.",
         object_schema(id_property + R"(,"after_seq":{"type":"integer","minimum":0,"default":0},)"
                                     R"("limit":{"type":"integer","minimum":1,"maximum":500,"default":100})",
                       R"("id")"),
         R"({"type":"object","required":["items","next_after_seq","more"],"properties":{"items":{"type":"array","items":)" +
             run_schema + R"(},"next_after_seq":{"type":"integer"},"more":{"type":"boolean"}}})",
         true, false, true});
    c.push_back(
        {"vigy_plugins", "List plugins, kinds and intrinsics",
         "Every loaded plugin with its reconciler kinds and its extensions' intrinsics (name, arity, doc), and "
         "the plugin files that were skipped and why: what a program may call.",
         object_schema(""),
         R"({"type":"object","required":["items","skipped"],"properties":{"items":{"type":"array","items":{"type":"object",)"
         R"("required":["id","version","kinds","extensions"],"properties":{"id":{"type":"string"},"version":{"type":"string"},)"
         R"("file":{"type":"string"},"abi_version":{"type":"string"},"kinds":{"type":"array","items":{"type":"object",)"
         R"("required":["kind"],"properties":{"kind":{"type":"string"},"plugin":{"type":"string"},"doc":{"type":"string"}}}},)"
         R"("extensions":{"type":"array","items":{"type":"object","required":["name","intrinsics"],"properties":{)"
         R"("name":{"type":"string"},"intrinsics":{"type":"array","items":{"type":"object","required":["name","arity"],)"
         R"("properties":{"name":{"type":"string"},"arity":{"type":"string"},"doc":{"type":"string"}}}}}}}}}},)"
         R"("skipped":{"type":"array","items":{"type":"object","properties":{"file":{"type":"string"},"reason":{"type":"string"}}}}}})",
         true, false, true});
    return c;
}

// ---- arguments ----------------------------------------------------------------------

std::string str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

/// Reads the arguments of a tool, collecting every problem; done() throws them as one
/// tool_error ("invalid arguments of vigy_runs: /limit: must be ...; /x: unknown").
class arg_reader {
public:
    arg_reader(const tool& t, const rapidjson::Value& a, std::set<std::string> known) : t_(t), a_(a) {
        for (const auto& m : a.GetObject())
            if (!known.count(str(m.name))) {
                std::string list;
                for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
                bad(str(m.name), "unknown argument (expected " + (list.empty() ? std::string("none") : list) + ")");
            }
    }
    std::optional<std::string> string(const char* name, bool required) {
        if (!a_.HasMember(name)) {
            if (required) bad(name, "required: a string");
            return std::nullopt;
        }
        if (!a_[name].IsString() || (required && a_[name].GetStringLength() == 0)) {
            bad(name, required ? "must be a non-empty string" : "must be a string");
            return std::nullopt;
        }
        return str(a_[name]);
    }
    std::optional<int64_t> integer(const char* name, int64_t min, int64_t max) {
        if (!a_.HasMember(name)) return std::nullopt;
        const auto& v = a_[name];
        if (!v.IsInt64() || v.GetInt64() < min || v.GetInt64() > max) {
            bad(name, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
            return std::nullopt;
        }
        return v.GetInt64();
    }
    std::optional<bool> boolean(const char* name) {
        if (!a_.HasMember(name)) return std::nullopt;
        if (!a_[name].IsBool()) {
            bad(name, "must be true or false");
            return std::nullopt;
        }
        return a_[name].GetBool();
    }
    void done() const {
        if (errs_.empty()) return;
        std::string msg = "invalid arguments of " + t_.name + ": ";
        for (std::size_t i = 0; i < errs_.size(); ++i) msg += (i ? "; " : "") + errs_[i];
        throw detail::tool_error(msg);
    }

private:
    void bad(const std::string& name, const std::string& what) {
        errs_.push_back("/" + json_pointer_token(name) + ": " + what);
    }
    const tool& t_;
    const rapidjson::Value& a_;
    std::vector<std::string> errs_;
};

/// A validation http_error of the shared body parsers as a tool_error.
[[noreturn]] void rethrow_validation(const tool& t, const http_error& e) {
    const auto& p = e.get();
    std::string msg = "invalid arguments of " + t.name + ": ";
    if (p.errors.empty()) {
        msg += p.detail;
    } else {
        for (std::size_t i = 0; i < p.errors.size(); ++i)
            msg += (i ? "; " : "") + (p.errors[i].pointer.empty() ? std::string("arguments") : p.errors[i].pointer) +
                   ": " + p.errors[i].detail;
    }
    throw detail::tool_error(msg);
}

/// "vigy \"foo\" not found; known: a, b" (at most 20 names shown).
[[noreturn]] void not_found(host::runtime& rt, const status_error& e) {
    std::string msg = e.what();
    std::vector<std::string> names;
    try {
        for (const auto& v : rt.list()) names.push_back(v.name);
    } catch (const std::exception&) {
    }
    if (names.empty()) {
        msg += "; no vigy is registered (vigy_register creates one)";
    } else {
        msg += "; known: ";
        for (std::size_t i = 0; i < names.size() && i < 20; ++i) msg += (i ? ", " : "") + names[i];
        if (names.size() > 20) msg += ", … (" + std::to_string(names.size() - 20) + " more; vigy_list shows all)";
    }
    throw detail::tool_error(msg);
}

template <class F>
std::string with_vigy(host::runtime& rt, F&& f) {
    try {
        return f();
    } catch (const status_error& e) {
        if (e.code() == VIGY_NOT_FOUND) not_found(rt, e);
        throw;
    }
}

std::string vigy_text(host::runtime& rt, const host::vigy_info& v) {
    const auto grants = rt.effective_grants(v);
    return vigy_json(v, &grants);
}

/// The line and column in a build diagnostic ("eval:2:3: ..." or "... at 2:3 ...").
std::optional<std::pair<int64_t, int64_t>> line_col(const std::string& msg) {
    static const std::regex re(R"((\d+):(\d+))");
    std::smatch m;
    if (!std::regex_search(msg, m, re)) return std::nullopt;
    return std::make_pair(std::stoll(m[1].str()), std::stoll(m[2].str()));
}

// ---- the tools ------------------------------------------------------------------------

std::string t_register(host::runtime& rt, const tool& t, const rapidjson::Value& a) {
    static const std::set<std::string, std::less<>> allowed = {
        "name", "program", "kind", "config", "tick_interval_ms", "enabled", "labels", "grants", "limits"};
    for (const auto& m : a.GetObject())
        if (!allowed.count(str(m.name)))
            throw detail::tool_error(
                "invalid arguments of vigy_register: /" + json_pointer_token(str(m.name)) +
                ": unknown argument (expected name, program, kind, config, tick_interval_ms, enabled, "
                "labels, grants, limits)");
    api::detail::apply_body body;
    try {
        body = api::detail::parse_apply(a, "", rt.kinds());
    } catch (const http_error& e) {
        rethrow_validation(t, e);
    }
    if (auto msg = rt.check(body.spec))
        throw detail::tool_error(
            "the program of \"" + body.spec.name + "\" does not build: " + *msg +
            "; nothing was registered (vigy_check and vigy_eval try a program without registering it)");
    const auto rr = rt.register_or_update(body.spec);
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("outcome");
    w.String(host::register_outcome_name(rr.outcome));
    w.Key("vigy");
    const auto grants = rt.effective_grants(rr);
    write_vigy(w, rr, &grants);
    if (!rr.previous_revision.empty()) {
        w.Key("previous_revision");
        write_string(w, rr.previous_revision);
    }
    w.EndObject();
    return text(buf);
}

std::string t_list(host::runtime& rt, const tool& t, const rapidjson::Value& a) {
    arg_reader r(t, a, {"label_selector", "limit", "continue"});
    const auto selector = r.string("label_selector", false).value_or("");
    const auto limit = r.integer("limit", 1, 500).value_or(500);
    const auto cont = r.string("continue", false).value_or("");
    r.done();
    const auto page = rt.list_page(selector, static_cast<size_t>(limit), cont);
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const auto& v : page.items) {
        const auto grants = rt.effective_grants(v);
        write_vigy(w, v, &grants);
    }
    w.EndArray();
    w.Key("resource_version");
    write_string(w, std::to_string(page.resource_version));
    if (!page.continue_token.empty()) {
        w.Key("continue");
        write_string(w, page.continue_token);
    }
    w.EndObject();
    return text(buf);
}

std::string t_inspect(host::runtime& rt, const tool& t, const rapidjson::Value& a) {
    arg_reader r(t, a, {"id"});
    const auto id = r.string("id", true);
    r.done();
    return with_vigy(rt, [&] {
        const auto v = rt.get(*id);
        const auto runs = rt.recent_runs(v.id, 5);
        const auto conds = rt.conditions(v.id);
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("vigy");
        const auto grants = rt.effective_grants(v);
        write_vigy(w, v, &grants);
        w.Key("recent_runs");
        w.StartArray();
        for (const auto& run : runs) write_run(w, run);
        w.EndArray();
        w.Key("conditions");
        w.StartArray();
        for (const auto& c : conds) write_condition(w, c);
        w.EndArray();
        w.EndObject();
        return text(buf);
    });
}

std::string t_tick(host::runtime& rt, const options& o, const tool& t, const rapidjson::Value& a) {
    arg_reader r(t, a, {"id", "wait_ms"});
    const auto id = r.string("id", true);
    const auto wait = r.integer("wait_ms", 0, 60000).value_or(o.tick_wait_ms);
    r.done();
    return with_vigy(rt, [&] { return run_json(rt.tick_now(*id, wait)); });
}

std::string t_lifecycle(host::runtime& rt, const tool& t, const rapidjson::Value& a, bool on) {
    arg_reader r(t, a, {"id"});
    const auto id = r.string("id", true);
    r.done();
    return with_vigy(rt, [&] { return vigy_text(rt, on ? rt.enable(*id) : rt.disable(*id)); });
}

std::string t_delete(host::runtime& rt, const tool& t, const rapidjson::Value& a) {
    arg_reader r(t, a, {"id", "keep_history"});
    const auto id = r.string("id", true);
    const bool keep = r.boolean("keep_history").value_or(true);
    r.done();
    return with_vigy(rt, [&] {
        const auto v = rt.get(*id);
        if (!rt.remove(v.id, keep)) vigy::fail(VIGY_NOT_FOUND, "vigy \"" + *id + "\" not found");
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("deleted");
        w.Bool(true);
        w.Key("id");
        write_string(w, v.id);
        w.Key("name");
        write_string(w, v.name);
        w.Key("kept_history");
        w.Bool(keep);
        w.EndObject();
        return text(buf);
    });
}

api::detail::eval_body eval_args(host::runtime& rt, const tool& t, const rapidjson::Value& a, bool check_only) {
    if (check_only) {
        for (const auto& m : a.GetObject()) {
            const std::string k = str(m.name);
            if (k != "program" && k != "kind" && k != "config")
                throw detail::tool_error("invalid arguments of vigy_check: /" + json_pointer_token(k) +
                                         ": unknown argument (expected program, kind, config)");
        }
    }
    try {
        return api::detail::parse_eval(a, rt.kinds());
    } catch (const http_error& e) {
        rethrow_validation(t, e);
    }
}

std::string t_eval(host::runtime& rt, const tool& t, const rapidjson::Value& a) {
    auto [spec, eo] = eval_args(rt, t, a, false);
    if (auto msg = rt.check(spec)) throw detail::tool_error("the program does not build: " + *msg);
    const auto ev = rt.evaluate(spec, eo);
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    write_evaluation(w, ev);
    return text(buf);
}

std::string t_check(host::runtime& rt, const tool& t, const rapidjson::Value& a) {
    const auto body = eval_args(rt, t, a, true);
    const auto msg = rt.check(body.spec);
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("valid");
    w.Bool(!msg);
    if (msg) {
        w.Key("error");
        write_string(w, *msg);
        if (const auto lc = line_col(*msg)) {
            w.Key("line");
            w.Int64(lc->first);
            w.Key("column");
            w.Int64(lc->second);
        }
    }
    w.EndObject();
    return text(buf);
}

std::string t_runs(host::runtime& rt, const tool& t, const rapidjson::Value& a) {
    arg_reader r(t, a, {"id", "after_seq", "limit"});
    const auto id = r.string("id", true);
    const auto after = r.integer("after_seq", 0, INT64_MAX).value_or(0);
    const auto limit = r.integer("limit", 1, 500).value_or(100);
    r.done();
    return with_vigy(rt, [&] {
        const auto v = rt.get(*id);
        const auto runs = rt.runs_after(after, static_cast<size_t>(limit), v.id);
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("items");
        w.StartArray();
        for (const auto& run : runs) write_run(w, run);
        w.EndArray();
        w.Key("next_after_seq");
        w.Int64(runs.empty() ? after : runs.back().seq);
        w.Key("more");
        w.Bool(runs.size() == static_cast<size_t>(limit));
        w.EndObject();
        return text(buf);
    });
}

std::string t_plugins(host::runtime& rt, const tool& t, const rapidjson::Value& a) {
    arg_reader r(t, a, {});
    r.done();
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    api::detail::write_plugins(w, rt.plugins());
    return text(buf);
}

}  // namespace

const std::vector<tool>& catalog() {
    static const std::vector<tool> c = make_catalog();
    return c;
}

namespace detail {

const tool* find_tool(std::string_view name) {
    for (const auto& t : catalog())
        if (t.name == name) return &t;
    return nullptr;
}

std::string call_tool(host::runtime& rt, const options& o, const tool& t, const rapidjson::Value& args) {
    const std::string& n = t.name;
    if (n == "vigy_register") return t_register(rt, t, args);
    if (n == "vigy_list") return t_list(rt, t, args);
    if (n == "vigy_inspect") return t_inspect(rt, t, args);
    if (n == "vigy_tick") return t_tick(rt, o, t, args);
    if (n == "vigy_enable") return t_lifecycle(rt, t, args, true);
    if (n == "vigy_disable") return t_lifecycle(rt, t, args, false);
    if (n == "vigy_delete") return t_delete(rt, t, args);
    if (n == "vigy_eval") return t_eval(rt, t, args);
    if (n == "vigy_check") return t_check(rt, t, args);
    if (n == "vigy_runs") return t_runs(rt, t, args);
    if (n == "vigy_plugins") return t_plugins(rt, t, args);
    throw bad_params("tool \"" + n + "\" has no implementation");  // unreachable: every catalog entry is above
}

}  // namespace detail

}  // namespace vigy::api::mcp
