// cli/cmd_register.cpp — `vigy register [FILE] --name N …`: create a vigy, or
// update the one with that name to a new revision.
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace vigy::cli {
namespace {

struct register_options {
    std::string file;
    std::string name;
    host::schedule_flags schedule;
    std::vector<std::string> labels;
    bool disabled = false;
    std::string kind = "lisp";
    std::string config;
    bool config_given = false;
    uint64_t fuel = 0;
    uint64_t wall_ms = 0;
    uint64_t memory_bytes = 0;
    uint64_t max_depth = 0;
    std::vector<std::string> allow;
    std::string resource_version;
};

std::string read_text_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) vigy::fail(VIGY_FAILED_PRECONDITION, "cannot read " + path + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << f.rdbuf();
    if (f.bad()) vigy::fail(VIGY_FAILED_PRECONDITION, "cannot read " + path);
    return ss.str();
}

/// Parses `text` as a JSON object; `what` names its origin in errors.
rapidjson::Document parse_config(const std::string& text, const std::string& what) {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError())
        vigy::fail(VIGY_INVALID_ARGUMENT, what + " is not valid json at offset " + std::to_string(d.GetErrorOffset()) +
                                              ": " + rapidjson::GetParseError_En(d.GetParseError()));
    if (!d.IsObject()) vigy::fail(VIGY_INVALID_ARGUMENT, what + " must be a json object");
    return d;
}

std::string to_text(const rapidjson::Document& d) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    d.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
}

/// The spec from the command line, validated locally (clear messages before
/// touching the database).
host::vigy_spec build_spec(const register_options& o) {
    host::vigy_spec spec;
    spec.name = o.name;
    spec.kind = o.kind;
    store::validate_name(o.name);
    // The schedule flags, validated together (mutually exclusive kinds, --tz needs --cron, ...).
    const host::schedule_spec sched = host::parse_schedule_flags(o.schedule, now_ms());
    spec.interval_ms = sched.kind == host::schedule_kind::every ? sched.every_ms : host::default_every_ms;
    spec.schedule_json = sched.to_json();
    for (const auto& l : o.labels) {
        const auto eq = l.find('=');
        if (eq == std::string::npos) usage_error("--label must be KEY=VALUE, got \"" + printable(l) + "\"");
        spec.labels[l.substr(0, eq)] = l.substr(eq + 1);
    }
    store::validate_labels(spec.labels);
    spec.allow = o.allow;
    if (o.disabled) spec.enabled = false;
    spec.limits.fuel = o.fuel;
    spec.limits.wall_ms = o.wall_ms;
    spec.limits.memory_bytes = o.memory_bytes;
    spec.limits.max_depth = o.max_depth;

    if (o.kind == "lisp") {
        if (o.file.empty() && !o.config_given) usage_error("register needs FILE (the lisp program) or --config JSON");
        rapidjson::Document cfg =
            o.config_given ? parse_config(o.config, "--config") : rapidjson::Document(rapidjson::kObjectType);
        if (!o.file.empty()) {
            const std::string program = read_text_file(o.file);
            require_utf8(program, o.file);  // never store text that is not UTF-8 (every face prints it as JSON)
            auto& a = cfg.GetAllocator();
            cfg.RemoveMember("program");
            cfg.RemoveMember("source_name");
            cfg.AddMember("program",
                          rapidjson::Value(program.c_str(), static_cast<rapidjson::SizeType>(program.size()), a), a);
            cfg.AddMember("source_name", rapidjson::Value(o.file.c_str(), a), a);
        } else if (!cfg.HasMember("program") || !cfg["program"].IsString()) {
            vigy::fail(VIGY_INVALID_ARGUMENT, "--config for kind lisp needs a \"program\" string (or give FILE)");
        }
        spec.config_json = to_text(cfg);
    } else if (o.config_given) {
        spec.config_json = to_text(parse_config(o.config, "--config"));
    } else if (!o.file.empty()) {
        spec.config_json = to_text(parse_config(read_text_file(o.file), o.file));
    } else {
        spec.config_json = "{}";
    }
    return spec;
}

int run_register(context& ctx, const register_options& o) {
    const host::vigy_spec spec = build_spec(o);
    std::optional<int64_t> expected;
    if (!o.resource_version.empty()) {
        std::size_t used = 0;
        long long v = -1;
        try {
            v = std::stoll(o.resource_version, &used);
        } catch (const std::exception&) {
        }
        if (v < 0 || used != o.resource_version.size())
            usage_error("--resource-version must be a resource version (a number), got \"" + o.resource_version + "\"");
        expected = v;
    }
    auto rt = ctx.open_runtime(runtime_use::plugins);
    const auto kinds = rt->kinds();
    if (std::find(kinds.begin(), kinds.end(), spec.kind) == kinds.end()) {
        std::string known;
        for (const auto& k : kinds) known += (known.empty() ? "" : ", ") + k;
        vigy::fail(VIGY_INVALID_ARGUMENT, "unknown reconciler kind \"" + spec.kind + "\" (--kind); loaded kinds: " +
                                              (known.empty() ? "none (no plugins found)" : known));
    }
    const host::register_result after = rt->register_or_update(spec, expected);
    const std::optional<std::string> compile_error = rt->check(spec);
    using host::register_outcome;
    const register_outcome oc = after.outcome;
    const bool new_revision = oc == register_outcome::updated && after.previous_revision != after.revision;

    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("outcome");
        w.String(host::register_outcome_name(oc));
        if (new_revision) {
            w.Key("previous_revision");
            w.String(after.previous_revision.c_str());
        }
        w.Key("vigy");
        const auto grants = rt->effective_grants(after);
        write_vigy(w, after, &grants);
        if (compile_error) {
            w.Key("warning");
            w.String(compile_error->c_str());
        }
        w.EndObject();
        print_json(std::cout, text(buf));
    } else {
        const style st{ctx.color};
        std::string line;
        switch (oc) {
        case register_outcome::created:
            line = st.green("\u2713") + " created " + st.bold(after.name) + " (id " + after.id + ", revision " +
                   after.revision + ")";
            break;
        case register_outcome::updated:
            line = st.green("\u2713") + " updated " + st.bold(after.name) +
                   (new_revision ? " to revision " + after.revision + " (was " + after.previous_revision + ")"
                                 : " (revision " + after.revision + " unchanged)");
            break;
        case register_outcome::unchanged:
            line = st.dim("\u00b7") + " " + st.bold(after.name) + " unchanged (revision " + after.revision + ")";
            break;
        }
        std::cout << line << "\n";
        const host::lifecycle_state state = host::state_of(after);
        const host::schedule_spec sched = host::schedule_of(after);
        if (state == host::lifecycle_state::enabled) {
            if (sched.kind == host::schedule_kind::every &&
                sched.summary() == "every " + human_interval(after.interval_ms))
                std::cout << "  ticking every " << human_interval(after.interval_ms) << " (when `vigy serve` runs)\n";
            else
                std::cout << "  schedule: " << sched.summary() << " (when `vigy serve` runs)\n";
        } else {
            std::cout << "  "
                      << st.yellow(state == host::lifecycle_state::disabled ? std::string("registered disabled")
                                                                            : "state " + after.state)
                      << "\n";
        }
    }
    if (compile_error)
        std::cerr << "warning: " << after.name << " does not build, its runs will fail until fixed: " << *compile_error
                  << "\n";
    return exit_ok;
}

void add_register(CLI::App& root, context& ctx) {
    auto o = std::make_shared<register_options>();
    auto* sub = root.add_subcommand("register", "register a vigy, or update the one with the same name");
    sub->footer(std::string("FILE is the lisp program (kind lisp, the default); it is stored as the config\n"
                            "{\"program\": <text>, \"source_name\": FILE}. With another --kind, --config gives\n"
                            "the JSON config (or FILE is read as that JSON).\n\n"
                            "Registering an existing name updates it: a changed program or config is a new\n"
                            "revision (the id, kv and run history are kept); prints created, updated (to\n"
                            "revision X) or unchanged. Without --disabled an existing vigy keeps its\n"
                            "enabled state. Limits of 0 use the runtime's defaults.\n\n"
                            "Names are DNS subdomains (lowercase letters, digits, '-', '.'); label keys and\n"
                            "values follow Kubernetes (values: up to 63 of [A-Za-z0-9._-]). A vigy may call the\n"
                            "intrinsics of the standard extensions; --allow ID grants another plugin's\n"
                            "(e.g. --allow io.pleme.mado). --resource-version RV updates only if the vigy is\n"
                            "still at that version (exit 4 and nothing written otherwise).\n\n"
                            "Schedules (docs/schedules.md): --every (fixed rate, the default 1s), --cron EXPR\n"
                            "[--tz ZONE], --once [--at TIME], --on TRIGGER (also with --every/--cron); --jitter,\n"
                            "--catch-up; supervision --max-failures N --within DURATION [--cool-down DURATION]:\n"
                            "a vigy failing N times in the window becomes Degraded (vigy enable / vigy reset).\n"
                            "Invalid schedules exit 1 and store nothing.\n\n"
                            "examples:\n"
                            "  vigy register examples/hello-vigy.tatara --name hello --every 500\n"
                            "  vigy register report.tatara --name report --cron '30 2 * * *' --tz Europe/Berlin\n"
                            "  vigy register on-change.tatara --name follow --on event:db/Changed\n"
                            "  vigy register ctl.tatara --name ctl --label team=infra --fuel 50000000\n"
                            "  vigy register --name idle --kind noop --config '{}'") +
                "\n\n" + global_options_help);
    sub->add_option("FILE", o->file, "the program file (kind lisp) or the JSON config (other kinds)");
    sub->add_option("--name", o->name, "the vigy's name (its identity)")->required()->type_name("NAME");
    auto starts_with_digit = CLI::Validator(
        [](std::string& v) -> std::string {
            if (v.empty() || v[0] < '0' || v[0] > '9') return "expected a number of ms or a duration such as 10s";
            return {};
        },
        "MS|DURATION");
    auto& sf = o->schedule;
    sub->add_option("--every", sf.every, "fixed rate: ms (>= 100) or a duration (10s, 5m); default 1000")
        ->type_name("MS")
        ->check(starts_with_digit);
    sub->add_option("--cron", sf.cron, "cron schedule: 5 fields (6 with seconds first) or @daily, @hourly, ...")
        ->type_name("EXPR");
    sub->add_option("--tz", sf.tz, "time zone of --cron (IANA name; default UTC)")->type_name("ZONE");
    sub->add_flag("--once", sf.once, "a one-shot: runs once (at --at, or as soon as served), then Completed");
    sub->add_option("--at", sf.at, "when --once runs: RFC 3339 time or +DURATION")->type_name("TIME");
    sub->add_option("--on", sf.on, "tick on event:VIGY/Reason, condition:VIGY/Type or manual (repeatable)")
        ->type_name("TRIGGER")
        ->allow_extra_args(false);
    sub->add_option("--jitter", sf.jitter, "spread timer ticks: PCT% of the interval, or a window (30s, 500)")
        ->type_name("PCT%|DURATION");
    sub->add_option("--catch-up", sf.catch_up, "one catch-up tick on serve start for a slot missed within WINDOW")
        ->type_name("WINDOW");
    sub->add_option("--max-failures", sf.max_failures,
                    "Degraded after N failures within --within (0 = never; default 5)")
        ->type_name("N");
    sub->add_option("--within", sf.within, "the window of --max-failures (default 1m)")->type_name("DURATION");
    sub->add_option("--cool-down", sf.cool_down, "a Degraded vigy is Enabled again after DURATION (default: never)")
        ->type_name("DURATION");
    sub->add_option("--label", o->labels, "a label key=value (repeatable)")->type_name("K=V")->allow_extra_args(false);
    sub->add_flag("--disabled", o->disabled, "register it disabled (not ticked by serve)");
    sub->add_option("--kind", o->kind, "reconciler kind (lisp, chain, noop, ...)")
        ->type_name("KIND")
        ->default_val("lisp");
    auto* cfg = sub->add_option("--config", o->config, "reconciler config as a JSON object")->type_name("JSON");
    sub->add_option("--fuel", o->fuel, "evaluation steps per tick (0 = default)")->type_name("N");
    sub->add_option("--wall-ms", o->wall_ms, "wall-clock ms per tick (0 = default)")->type_name("MS");
    sub->add_option("--memory", o->memory_bytes, "bytes allocated per tick (0 = default)")->type_name("BYTES");
    sub->add_option("--max-depth", o->max_depth, "recursion depth per tick (0 = default)")->type_name("N");
    sub->add_option("--allow", o->allow, "grant the capability (plugin id) ID beyond the defaults (repeatable)")
        ->type_name("ID")
        ->allow_extra_args(false);
    sub->add_option("--resource-version", o->resource_version, "only update if still at this resource version")
        ->type_name("RV");
    set_action(sub, ctx, [&ctx, o, cfg] {
        o->config_given = cfg->count() > 0;
        return run_register(ctx, *o);
    });
}

}  // namespace

VIGY_CLI_COMMAND(add_register);

}  // namespace vigy::cli
