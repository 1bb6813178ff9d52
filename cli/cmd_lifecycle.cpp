// cli/cmd_lifecycle.cpp — `vigy enable|disable|delete NAME|ID`.
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace vigy::cli {
namespace {

std::optional<int64_t> expected_version(const std::string& text) {
    if (text.empty()) return std::nullopt;
    try {
        std::size_t used = 0;
        const long long v = std::stoll(text, &used);
        if (used == text.size() && v >= 0) return v;
    } catch (const std::exception&) {
    }
    usage_error("--resource-version must be a resource version (a number), got \"" + text + "\"");
}

int run_set_enabled(context& ctx, const std::string& target, bool enable, const std::string& version) {
    const auto expected = expected_version(version);
    auto rt = ctx.open_runtime(runtime_use::read);
    const host::vigy_info before = rt->get(target);
    const host::vigy_info after = enable ? rt->enable(before.id, expected) : rt->disable(before.id, expected);
    const bool changed = before.state != after.state;
    const char* verb = enable ? "enabled" : "disabled";
    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("outcome");
        w.String(changed ? verb : "unchanged");
        w.Key("vigy");
        write_vigy(w, after);
        w.EndObject();
        print_json(std::cout, text(buf));
    } else {
        const style st{ctx.color};
        if (changed)
            std::cout << st.green("\u2713") << " " << st.bold(after.name) << " " << verb
                      << (before.state == "Degraded" ? " (was Degraded; supervision cleared)" : "") << "\n";
        else if (enable && after.state == "Completed")
            std::cout << st.dim("\u00b7") << " " << st.bold(after.name)
                      << " is Completed (a one-shot that ran): register it again or vigy tick it\n";
        else
            std::cout << st.dim("\u00b7") << " " << st.bold(after.name) << " already " << verb << "\n";
    }
    return exit_ok;
}

int run_delete(context& ctx, const std::string& target, bool keep_history, const std::string& version) {
    const auto expected = expected_version(version);
    auto rt = ctx.open_runtime(runtime_use::read);
    const host::vigy_info v = rt->get(target);
    rt->remove(v.id, keep_history, expected);
    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("outcome");
        w.String("deleted");
        w.Key("id");
        write_string(w, v.id);
        w.Key("name");
        write_string(w, v.name);
        w.Key("keep_history");
        w.Bool(keep_history);
        w.EndObject();
        print_json(std::cout, text(buf));
    } else {
        const style st{ctx.color};
        std::cout << st.green("\u2713") << " " << st.bold(v.name) << " deleted"
                  << (keep_history ? " (runs, kv and events kept)" : "") << "\n";
    }
    return exit_ok;
}

int run_reset(context& ctx, const std::string& target) {
    auto rt = ctx.open_runtime(runtime_use::read);
    const host::vigy_info before = rt->get(target);
    const host::vigy_info after = rt->reset(before.id);
    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("outcome");
        w.String(before.state != after.state ? "reset" : "unchanged");
        w.Key("vigy");
        write_vigy(w, after);
        w.EndObject();
        print_json(std::cout, text(buf));
    } else {
        const style st{ctx.color};
        std::cout << st.green("\u2713") << " " << st.bold(after.name) << " reset: " << after.state
                  << (before.state != after.state ? " (was " + before.state + ")" : std::string()) << "\n";
    }
    return exit_ok;
}

int run_trigger(context& ctx, const std::string& target, const std::string& payload, int64_t wait_ms) {
    auto rt = ctx.open_runtime(runtime_use::plugins);  // with nobody serving, the tick runs here
    const host::vigy_info v = rt->get(target);
    const std::optional<host::run> r = rt->trigger(v.id, payload, "cli", wait_ms);
    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("outcome");
        w.String(r ? "ran" : "queued");
        w.Key("vigy");
        write_string(w, v.name);
        if (r) {
            w.Key("run");
            api::write_run(w, *r);
        }
        w.EndObject();
        print_json(std::cout, text(buf));
    } else {
        const style st{ctx.color};
        if (r)
            std::cout << st.green("\u2713") << " triggered " << st.bold(v.name) << ": "
                      << st.result(host::run_result_name(r->result)) << " (run " << r->id
                      << ", nobody serves: ran here)"
                      << (r->error.empty() ? std::string() : "\n  error: " + printable(r->error)) << "\n";
        else
            std::cout << st.green("\u2713") << " triggered " << st.bold(v.name) << " (queued for the scheduler)\n";
    }
    return exit_ok;
}

void add_lifecycle(CLI::App& root, context& ctx) {
    auto target = std::make_shared<std::string>();
    auto version = std::make_shared<std::string>();
    const char* version_help = "only if the vigy is still at this resource version (else exit 4, nothing changed)";
    auto* en = root.add_subcommand("enable", "enable a vigy (serve ticks it)");
    en->footer(global_options_help);
    en->add_option("NAME", *target, "the vigy's name or id")->required();
    en->add_option("--resource-version", *version, version_help)->type_name("RV");
    set_action(en, ctx, [&ctx, target, version] { return run_set_enabled(ctx, *target, true, *version); });

    auto* dis = root.add_subcommand("disable", "disable a vigy (serve stops ticking it; history is kept)");
    dis->footer(global_options_help);
    dis->add_option("NAME", *target, "the vigy's name or id")->required();
    dis->add_option("--resource-version", *version, version_help)->type_name("RV");
    set_action(dis, ctx, [&ctx, target, version] { return run_set_enabled(ctx, *target, false, *version); });

    auto* rs = root.add_subcommand("reset", "clear a vigy's supervision: a Degraded vigy is Enabled again");
    rs->footer(std::string("A Degraded vigy (it failed --max-failures times within --within) is Enabled\n"
                           "again and its condition Degraded becomes False; an Enabled vigy forgets its\n"
                           "counted failures. Disabled and Completed vigies stay as they are.") +
               "\n\n" + global_options_help);
    rs->add_option("NAME", *target, "the vigy's name or id")->required();
    set_action(rs, ctx, [&ctx, target] { return run_reset(ctx, *target); });

    auto payload = std::make_shared<std::string>();
    auto wait = std::make_shared<int64_t>(5000);
    auto* tr = root.add_subcommand("trigger", "trigger a vigy now, with an optional JSON payload");
    tr->footer(
        std::string("The tick sees (vigy-trigger) = {\"kind\" \"manual\", \"source\" \"cli\", \"payload\" <JSON>}.\n"
                    "While serve runs, the trigger is queued to it and coalesces: while a tick of\n"
                    "the vigy runs at most one trigger waits (the newest payload wins). When nobody\n"
                    "serves, the tick runs here and its run is printed. Only an Enabled vigy is\n"
                    "triggered under serve (exit 1 otherwise). Beside serve --cluster hosts it is\n"
                    "queued to the host holding the vigy's shard; exit 4 when no host is live.\n\n"
                    "examples:\n"
                    "  vigy trigger deploy --payload '{\"version\": \"1.2.3\"}'") +
        "\n\n" + global_options_help);
    tr->add_option("NAME", *target, "the vigy's name or id")->required();
    tr->add_option("--payload", *payload, "the trigger's payload (JSON)")->type_name("JSON");
    tr->add_option("--wait-ms", *wait, "when nobody serves: how long to wait for the database (default 5000)")
        ->type_name("MS");
    set_action(tr, ctx, [&ctx, target, payload, wait] { return run_trigger(ctx, *target, *payload, *wait); });

    auto keep = std::make_shared<bool>(false);
    auto* del = root.add_subcommand("delete", "delete a vigy and (unless --keep-history) its runs, kv and events");
    del->footer(std::string("A running serve stops ticking it within a second; an in-flight tick finishes.\n"
                            "With --keep-history the runs, kv and events stay in the database and come\n"
                            "back if a vigy with the same name is registered again.") +
                "\n\n" + global_options_help);
    del->add_option("NAME", *target, "the vigy's name or id")->required();
    del->add_flag("--keep-history", *keep, "keep its runs, kv and events");
    del->add_option("--resource-version", *version, version_help)->type_name("RV");
    set_action(del, ctx, [&ctx, target, keep, version] { return run_delete(ctx, *target, *keep, *version); });
}

}  // namespace

VIGY_CLI_COMMAND(add_lifecycle);

}  // namespace vigy::cli
