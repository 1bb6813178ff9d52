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
    const bool changed = before.enabled != after.enabled;
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
            std::cout << st.green("\u2713") << " " << st.bold(after.name) << " " << verb << "\n";
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

    auto keep = std::make_shared<bool>(false);
    auto* del = root.add_subcommand("delete", "delete a vigy and (unless --keep-history) its runs, kv and events");
    del->footer(std::string(
        "A running serve stops ticking it within a second; an in-flight tick finishes.\n"
        "With --keep-history the runs, kv and events stay in the database and come\n"
        "back if a vigy with the same name is registered again.") + "\n\n" + global_options_help);
    del->add_option("NAME", *target, "the vigy's name or id")->required();
    del->add_flag("--keep-history", *keep, "keep its runs, kv and events");
    del->add_option("--resource-version", *version, version_help)->type_name("RV");
    set_action(del, ctx, [&ctx, target, keep, version] { return run_delete(ctx, *target, *keep, *version); });
}

}  // namespace

VIGY_CLI_COMMAND(add_lifecycle);

}  // namespace vigy::cli
