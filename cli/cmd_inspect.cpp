// cli/cmd_inspect.cpp — `vigy inspect NAME|ID`: the vigy (spec, revision, interval,
// labels, limits, grants), its last runs (what a failed one printed, then why it
// failed), its current conditions, its kv and its recent events.
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"

#include <rapidjson/document.h>
#include <CLI/CLI.hpp>

#include <iostream>

namespace vigy::cli {
namespace {

struct inspect_options {
    std::string target;
    std::size_t runs = 10;
    std::size_t events = 20;
};

std::string limit_text(uint64_t set, uint64_t deflt, const char* unit) {
    if (set == 0) return std::to_string(deflt) + unit + " (default)";
    return std::to_string(set) + unit;
}

std::string config_string(const std::string& config_json, const char* key) {
    rapidjson::Document d;
    d.Parse(config_json.c_str(), config_json.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember(key) || !d[key].IsString()) return {};
    return d[key].GetString();
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

int run_inspect(context& ctx, const inspect_options& o) {
    auto rt = ctx.open_runtime(runtime_use::read_only);
    const host::vigy_info v = rt->get(o.target);
    const std::vector<host::run> runs = rt->recent_runs(v.id, o.runs);
    const std::vector<host::condition> conditions = rt->conditions(v.id);
    const std::vector<host::kv_entry> kv = rt->kv(v.id);
    const std::vector<host::event> events = rt->events(v.id, o.events);
    const std::vector<std::string> grants = rt->effective_grants(v);

    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("vigy");
        write_vigy(w, v, &grants);
        w.Key("runs");
        w.StartArray();
        for (const auto& r : runs) write_run(w, r);
        w.EndArray();
        w.Key("conditions");
        w.StartArray();
        for (const auto& c : conditions) write_condition(w, c);
        w.EndArray();
        w.Key("kv");
        w.StartObject();
        for (const auto& e : kv) {
            w.Key(e.key.c_str(), static_cast<rapidjson::SizeType>(e.key.size()));
            write_raw_json(w, e.value_json, "null");
        }
        w.EndObject();
        w.Key("events");
        w.StartArray();
        for (const auto& e : events) write_event(w, e);
        w.EndArray();
        w.EndObject();
        print_json(std::cout, text(buf));
        return exit_ok;
    }

    const style st{ctx.color};
    const int64_t now = now_ms();
    const host::tick_limits d = host::default_tick_limits();
    auto row = [&](const char* k, const std::string& val) {
        std::string key = std::string(k) + ":";
        key.append(key.size() < 11 ? 11 - key.size() : 1, ' ');
        std::cout << st.bold(key) << val << "\n";
    };
    row("Name", v.name);
    row("ID", v.id);
    row("Kind", v.kind);
    if (const std::string src = config_string(v.config_json, "source_name"); !src.empty())
        row("Source", printable(src));
    row("Revision", v.revision);
    row("Version", std::to_string(v.resource_version));
    const host::schedule_spec sched = host::schedule_of(v);
    if (sched.kind == host::schedule_kind::every) row("Every", human_interval(v.interval_ms));
    row("Schedule", sched.summary());
    row("Enabled", yes_no(v.enabled, st));
    row("State", v.state + (v.state_reason.empty() ? std::string() : " (" + printable(v.state_reason) + ")"));
    row("Labels", v.labels.empty() ? st.dim("none") : labels_text(v.labels));
    row("Limits",
        "fuel " + limit_text(v.limits.fuel, d.fuel, "") + ", wall " + limit_text(v.limits.wall_ms, d.wall_ms, "ms") +
            ", memory " +
            (v.limits.memory_bytes ? human_bytes(v.limits.memory_bytes) : human_bytes(d.memory_bytes) + " (default)") +
            ", depth " + limit_text(v.limits.max_depth, d.max_depth, ""));
    row("Grants", join(grants) + (v.allow.empty() ? " (the defaults)" : ""));
    row("Created", rfc3339_ms(v.created_ms) + " (" + human_age(now - v.created_ms) + " ago)");
    row("Updated", rfc3339_ms(v.updated_ms) + " (" + human_age(now - v.updated_ms) + " ago)");

    std::cout << "\n" << st.bold("Conditions:") << "\n";
    if (conditions.empty()) {
        std::cout << "  " << st.dim("none") << "\n";
    } else {
        table t({"  TYPE", "STATUS", "REASON", "MESSAGE", "LAST TRANSITION"});
        for (const auto& c : conditions) {
            const std::string& s = c.status;
            t.add({"  " + one_line(c.type, 60),
                   s == "True"    ? st.green(s)
                   : s == "False" ? st.red(s)
                                  : st.yellow(s),
                   one_line(c.reason, 60), one_line(c.message, 60), human_age(now - c.last_transition_ms) + " ago"});
        }
        t.print(std::cout, st);
    }

    std::cout << "\n" << st.bold("KV:") << "\n";
    if (kv.empty()) {
        std::cout << "  " << st.dim("empty") << "\n";
    } else {
        table t({"  KEY", "VALUE", "UPDATED"});
        for (const auto& e : kv)
            t.add({"  " + one_line(e.key, 60), one_line(e.value_json, 80),
                   e.updated_ms > 0 ? human_age(now - e.updated_ms) + " ago" : "-"});
        t.print(std::cout, st);
    }

    std::cout << "\n" << st.bold("Recent runs:") << "\n";
    if (runs.empty()) {
        std::cout << "  " << st.dim("none yet") << "\n";
    } else {
        table t({"  STARTED", "RESULT", "DURATION", "ACTIONS", "OUTPUT", "ERROR"});
        for (const auto& r : runs)
            t.add({"  " + rfc3339_ms(r.started_ms), st.result(host::run_result_name(r.result)),
                   human_duration_us(r.duration_us), actions_summary(r.actions_json),
                   one_line(r.output == "()" || r.output == "nil" ? std::string() : r.output, 40),
                   one_line(run_error_text(r), 100)});
        t.print(std::cout, st);
    }

    std::cout << "\n" << st.bold("Events:") << "\n";
    if (events.empty()) {
        std::cout << "  " << st.dim("none") << "\n";
    } else {
        table t({"  TYPE", "REASON", "MESSAGE", "COUNT", "LAST SEEN"});
        for (const auto& e : events)
            t.add({"  " + (e.type == "Warning" ? st.yellow(e.type) : e.type), one_line(e.reason, 60),
                   one_line(e.message, 60), std::to_string(e.count), human_age(now - e.last_ms) + " ago"});
        t.print(std::cout, st);
    }
    return exit_ok;
}

void add_inspect(CLI::App& root, context& ctx) {
    auto o = std::make_shared<inspect_options>();
    auto* sub = root.add_subcommand("inspect", "show a vigy: spec, grants, recent runs, conditions, kv and events");
    sub->footer(std::string("examples:\n  vigy inspect hello\n  vigy inspect hello --runs 50 -o json\n\n"
                            "exit status: 3 for an unknown vigy, or when the database file does not exist\n"
                            "(it is not created).") +
                "\n\n" + global_options_help);
    sub->add_option("NAME", o->target, "the vigy's name or id")->required();
    sub->add_option("--runs", o->runs, "how many recent runs to show (newest first)")->type_name("N")->default_val(10);
    sub->add_option("--events", o->events, "how many recent events to show")->type_name("N")->default_val(20);
    set_action(sub, ctx, [&ctx, o] { return run_inspect(ctx, *o); });
}

}  // namespace

VIGY_CLI_COMMAND(add_inspect);

}  // namespace vigy::cli
