// cli/cmd_list.cpp — `vigy list [--selector k=v,…]`: every vigy with its
// schedule, state and last run.
#include "cli.hpp"
#include "format.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace vigy::cli {
namespace {

int run_list(context& ctx, const std::string& selector) {
    auto rt = open_runtime(ctx, runtime_use::read);
    std::vector<host::vigy_info> vigies;
    std::vector<std::optional<host::run>> last;
    try {
        vigies = rt->list(selector);
        for (const auto& v : vigies) {
            auto runs = rt->recent_runs(v.id, 1);
            last.push_back(runs.empty() ? std::nullopt : std::optional<host::run>(runs.front()));
        }
    } catch (const std::exception& e) {
        rethrow_as_command_error(e, ctx.db_path());
    }

    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("vigies");
        w.StartArray();
        for (std::size_t i = 0; i < vigies.size(); ++i) {
            // the vigy object plus "last_run"
            std::string v = vigy_json(vigies[i]);
            v.pop_back();  // '}'
            v += ",\"last_run\":";
            if (last[i]) {
                rapidjson::StringBuffer rb;
                json_writer rw(rb);
                rw.StartObject();
                rw.Key("id");
                rw.String(last[i]->id.c_str());
                rw.Key("result");
                rw.String(host::run_result_name(last[i]->result));
                rw.Key("started_at");
                rw.String(rfc3339_ms(last[i]->started_ms).c_str());
                if (!last[i]->error.empty()) {
                    rw.Key("error");
                    rw.String(last[i]->error.c_str());
                }
                rw.EndObject();
                v.append(rb.GetString(), rb.GetSize());
            } else {
                v += "null";
            }
            v += '}';
            w.RawValue(v.c_str(), v.size(), rapidjson::kObjectType);
        }
        w.EndArray();
        w.EndObject();
        print_json(std::cout, std::string(buf.GetString(), buf.GetSize()));
        return exit_ok;
    }

    const style st{ctx.color};
    if (vigies.empty()) {
        std::cout << st.dim(selector.empty() ? "no vigies registered" : "no vigies match \"" + selector + "\"")
                  << "\n";
        return exit_ok;
    }
    table t({"NAME", "ID", "KIND", "EVERY", "ENABLED", "LAST RUN", "LABELS"});
    const int64_t now = now_ms();
    for (std::size_t i = 0; i < vigies.size(); ++i) {
        const auto& v = vigies[i];
        std::string last_run = "-";
        if (last[i]) {
            last_run = st.result(host::run_result_name(last[i]->result)) + " " +
                       human_age(now - last[i]->started_ms) + " ago";
        }
        t.add({st.bold(v.name), v.id, v.kind, human_interval(v.interval_ms), yes_no(v.enabled, st), last_run,
               labels_text(v.labels)});
    }
    t.print(std::cout, st);
    return exit_ok;
}

void add_list(CLI::App& root, context& ctx) {
    auto selector = std::make_shared<std::string>();
    auto* sub = root.add_subcommand("list", "list the registered vigies");
    sub->footer(std::string(
        "columns: NAME, ID, KIND, EVERY (interval), ENABLED, LAST RUN (result and age), LABELS\n"
        "--selector takes comma-separated key=value clauses that must all match, e.g.\n"
        "  vigy list --selector team=infra,env=prod") + "\n\n" + global_options_help);
    sub->add_option("-l,--selector", *selector, "only vigies whose labels match k=v[,k=v…]")->type_name("SELECTOR");
    set_action(sub, ctx, [&ctx, selector] { return run_list(ctx, *selector); });
}

}  // namespace

VIGY_CLI_COMMAND(add_list);

}  // namespace vigy::cli
