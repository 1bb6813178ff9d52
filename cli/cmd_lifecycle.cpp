// cli/cmd_lifecycle.cpp — `vigy enable|disable|delete NAME|ID`.
#include "cli.hpp"
#include "format.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace vigy::cli {
namespace {

int run_set_enabled(context& ctx, const std::string& target, bool enable) {
    auto rt = open_runtime(ctx, runtime_use::read);
    host::vigy_info before, after;
    try {
        before = find_vigy_or_fail(*rt, target);
        after = enable ? rt->enable(before.id) : rt->disable(before.id);
    } catch (const std::exception& e) {
        rethrow_as_command_error(e, ctx.db_path());
    }
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
        print_json(std::cout, std::string(buf.GetString(), buf.GetSize()));
    } else {
        const style st{ctx.color};
        if (changed)
            std::cout << st.green("\u2713") << " " << st.bold(after.name) << " " << verb << "\n";
        else
            std::cout << st.dim("\u00b7") << " " << st.bold(after.name) << " already " << verb << "\n";
    }
    return exit_ok;
}

int run_delete(context& ctx, const std::string& target, bool keep_history) {
    auto rt = open_runtime(ctx, runtime_use::read);
    host::vigy_info v;
    try {
        v = find_vigy_or_fail(*rt, target);
        if (!rt->remove(v.id, keep_history))
            throw command_error(exit_error, "vigy \"" + target + "\" not found");
    } catch (const std::exception& e) {
        rethrow_as_command_error(e, ctx.db_path());
    }
    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("outcome");
        w.String("deleted");
        w.Key("id");
        w.String(v.id.c_str());
        w.Key("name");
        w.String(v.name.c_str());
        w.Key("keep_history");
        w.Bool(keep_history);
        w.EndObject();
        print_json(std::cout, std::string(buf.GetString(), buf.GetSize()));
    } else {
        const style st{ctx.color};
        std::cout << st.green("\u2713") << " " << st.bold(v.name) << " deleted"
                  << (keep_history ? " (runs, kv and events kept)" : "") << "\n";
    }
    return exit_ok;
}

void add_lifecycle(CLI::App& root, context& ctx) {
    auto target = std::make_shared<std::string>();
    auto* en = root.add_subcommand("enable", "enable a vigy (serve ticks it)");
    en->footer(global_options_help);
    en->add_option("NAME", *target, "the vigy's name or id")->required();
    set_action(en, ctx, [&ctx, target] { return run_set_enabled(ctx, *target, true); });

    auto* dis = root.add_subcommand("disable", "disable a vigy (serve stops ticking it; history is kept)");
    dis->footer(global_options_help);
    dis->add_option("NAME", *target, "the vigy's name or id")->required();
    set_action(dis, ctx, [&ctx, target] { return run_set_enabled(ctx, *target, false); });

    auto keep = std::make_shared<bool>(false);
    auto* del = root.add_subcommand("delete", "delete a vigy and (unless --keep-history) its runs, kv and events");
    del->footer(std::string(
        "A running serve stops ticking it within a second; an in-flight tick finishes.\n"
        "With --keep-history the runs, kv and events stay in the database and come\n"
        "back if a vigy with the same name is registered again.") + "\n\n" + global_options_help);
    del->add_option("NAME", *target, "the vigy's name or id")->required();
    del->add_flag("--keep-history", *keep, "keep its runs, kv and events");
    set_action(del, ctx, [&ctx, target, keep] { return run_delete(ctx, *target, *keep); });
}

}  // namespace

VIGY_CLI_COMMAND(add_lifecycle);

}  // namespace vigy::cli
