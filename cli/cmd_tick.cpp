// cli/cmd_tick.cpp — `vigy tick NAME|ID`: one forced tick, committed like any other
// run, printed. Never races a running `vigy serve` (runtime::tick_now).
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"

#include <rapidjson/document.h>
#include <CLI/CLI.hpp>

#include <iostream>

namespace vigy::cli {
namespace {

struct tick_options {
    std::string target;
    int64_t wait_ms = 5000;
};

void print_human(const host::run& r, const style& st) {
    const bool ok = r.result == host::run_result::ok;
    std::cout << (ok ? st.green("\u2713") : st.red("\u2717")) << " tick " << st.bold(r.vigy_name) << ": "
              << st.result(host::run_result_name(r.result)) << " in " << human_duration_us(r.duration_us) << " (run "
              << r.id << ")\n";
    // what the program printed comes before why it failed
    if (!r.output.empty() && r.output != "nil" && r.output != "()")
        std::cout << "  output: " << one_line(r.output, 200) << "\n";
    if (!r.error.empty()) std::cout << "  " << st.red("error: ") << printable(run_error_text(r)) << "\n";
    std::cout << "  actions: " << actions_summary(r.actions_json) << "\n";
    rapidjson::Document log;
    log.Parse(r.log_json.c_str(), r.log_json.size());
    if (!log.HasParseError() && log.IsArray())
        for (const auto& l : log.GetArray()) {
            if (!l.IsObject()) continue;
            const std::string level = l.HasMember("level") && l["level"].IsString() ? l["level"].GetString() : "?";
            const std::string msg = l.HasMember("message") && l["message"].IsString() ? l["message"].GetString() : "";
            std::cout << "  log: " << st.dim("[" + level + "]") << " " << one_line(msg, 200) << "\n";
        }
    if (auto s = object_summary(r.desired_json); !s.empty()) std::cout << "  desired: " << one_line(s, 120) << "\n";
    if (auto s = object_summary(r.observed_json); !s.empty()) std::cout << "  observed: " << one_line(s, 120) << "\n";
    if (auto s = object_summary(r.kv_writes_json); !s.empty()) std::cout << "  kv: " << one_line(s, 120) << "\n";
}

int run_tick(context& ctx, const tick_options& o) {
    auto rt = ctx.open_runtime(runtime_use::plugins);
    const host::run r = rt->tick_now(rt->get(o.target).id, o.wait_ms);
    if (ctx.json())
        print_json(std::cout, run_json(r));
    else
        print_human(r, style{ctx.color});
    return exit_ok;
}

void add_tick(CLI::App& root, context& ctx) {
    auto o = std::make_shared<tick_options>();
    auto* sub = root.add_subcommand("tick", "run one tick of a vigy now and print the run");
    sub->footer(std::string("The tick is committed like a scheduled one (run, kv, conditions, events) and\n"
                            "works on disabled vigies too. If `vigy serve` is running on the database, the\n"
                            "tick runs there (never concurrently with a scheduled tick of the same vigy);\n"
                            "beside serve --cluster hosts it runs on the host holding the vigy's shard\n"
                            "(docs/cluster.md); otherwise it runs in this process. A failed tick shows\n"
                            "what the program printed before its error.\n\n"
                            "exit status: 0 when the tick ran, even if the program failed (like kubectl:\n"
                            "the command succeeded; the run's result says \"failed\" and carries the error);\n"
                            "3 for an unknown vigy; 4 when serve (or a cluster host) did not take the tick\n"
                            "within --wait-ms, no cluster host is live, the tick did not finish in time,\n"
                            "or the database is locked.") +
                "\n\n" + global_options_help);
    sub->add_option("NAME", o->target, "the vigy's name or id")->required();
    sub->add_option("--wait-ms", o->wait_ms, "how long to wait for a running serve to take the tick")
        ->type_name("MS")
        ->default_val(5000);
    set_action(sub, ctx, [&ctx, o] { return run_tick(ctx, *o); });
}

}  // namespace

VIGY_CLI_COMMAND(add_tick);

}  // namespace vigy::cli
