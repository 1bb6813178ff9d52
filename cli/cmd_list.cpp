// cli/cmd_list.cpp — `vigy list [--selector SEL]`: every vigy with its schedule, state
// and last run.
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace vigy::cli {
namespace {

int run_list(context& ctx, const std::string& selector) {
    (void)host::parse_selector(selector);  // a malformed selector fails before the database opens
    auto rt = ctx.open_runtime(runtime_use::read_only);
    const std::vector<host::vigy_info> vigies = rt->list(selector);
    std::vector<std::optional<host::run>> last;
    for (const auto& v : vigies) {
        auto runs = rt->recent_runs(v.id, 1);
        last.push_back(runs.empty() ? std::nullopt : std::optional<host::run>(std::move(runs.front())));
    }

    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("vigies");
        w.StartArray();
        for (std::size_t i = 0; i < vigies.size(); ++i) {
            w.StartObject();
            write_vigy_members(w, vigies[i]);
            w.Key("last_run");
            if (last[i]) {
                w.StartObject();
                w.Key("id");
                write_string(w, last[i]->id);
                w.Key("result");
                w.String(host::run_result_name(last[i]->result));
                w.Key("started_at");
                write_string(w, rfc3339_ms(last[i]->started_ms));
                if (!last[i]->error.empty()) {
                    w.Key("error");
                    write_string(w, last[i]->error);
                }
                w.EndObject();
            } else {
                w.Null();
            }
            w.EndObject();
        }
        w.EndArray();
        w.Key("resource_version");
        write_string(w, std::to_string(rt->resource_version()));
        w.EndObject();
        print_json(std::cout, text(buf));
        return exit_ok;
    }

    const style st{ctx.color};
    if (vigies.empty()) {
        std::cout << st.dim(selector.empty() ? "no vigies registered" : "no vigies match \"" + selector + "\"") << "\n";
        return exit_ok;
    }
    table t({"NAME", "ID", "KIND", "EVERY", "ENABLED", "STATE", "SCHEDULE", "LAST RUN", "LABELS"});
    const int64_t now = now_ms();
    for (std::size_t i = 0; i < vigies.size(); ++i) {
        const auto& v = vigies[i];
        std::string last_run = "-";
        if (last[i])
            last_run =
                st.result(host::run_result_name(last[i]->result)) + " " + human_age(now - last[i]->started_ms) + " ago";
        const host::schedule_spec sched = host::schedule_of(v);
        const std::string every = sched.kind == host::schedule_kind::every ? human_interval(v.interval_ms) : "-";
        std::string state = v.state;
        if (state == "Degraded")
            state = st.red(state);
        else if (state != "Enabled")
            state = st.yellow(state);
        t.add({st.bold(v.name), v.id, v.kind, every, yes_no(v.enabled, st), state, sched.summary(), last_run,
               labels_text(v.labels)});
    }
    t.print(std::cout, st);
    return exit_ok;
}

void add_list(CLI::App& root, context& ctx) {
    auto selector = std::make_shared<std::string>();
    auto* sub = root.add_subcommand("list", "list the registered vigies");
    sub->footer(std::string("columns: NAME, ID, KIND, EVERY (interval; - for cron/once/triggered), ENABLED (not\n"
                            "disabled), STATE (Enabled, Disabled, Degraded, Completed), SCHEDULE, LAST RUN\n"
                            "(result and age), LABELS\n"
                            "--selector takes a Kubernetes label selector: comma-separated requirements that\n"
                            "must all hold: k=v (or k==v), k!=v (also matches vigies without k), k in (a,b),\n"
                            "k notin (a,b), k (has the label), !k (has not). examples:\n"
                            "  vigy list --selector team=infra,env=prod\n"
                            "  vigy list -l 'tier in (1,2),!deprecated'\n\n"
                            "exit status: 3 when the database file does not exist (it is not created).") +
                "\n\n" + global_options_help);
    sub->add_option("-l,--selector", *selector, "only vigies whose labels match the selector")->type_name("SELECTOR");
    set_action(sub, ctx, [&ctx, selector] { return run_list(ctx, *selector); });
}

}  // namespace

VIGY_CLI_COMMAND(add_list);

}  // namespace vigy::cli
