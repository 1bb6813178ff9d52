// cli/cmd_tick.cpp — `vigy tick NAME|ID`: one forced tick, committed like any
// other run, printed. Never races a running `vigy serve` (Runtime::tick_now).
#include "cli.hpp"
#include "format.hpp"

#include <CLI/CLI.hpp>
#include <rapidjson/document.h>

#include <iostream>

namespace vigy::cli {
namespace {

struct tick_options {
    std::string target;
    int64_t wait_ms = 5000;
};

/// "key=value, …" from a JSON object text, or "" when empty / not an object.
std::string object_summary(const std::string& json_text, std::size_t max = 120) {
    rapidjson::Document d;
    d.Parse(json_text.c_str(), json_text.size());
    if (d.HasParseError() || !d.IsObject() || d.MemberCount() == 0) return {};
    std::string out;
    for (const auto& m : d.GetObject()) {
        if (!out.empty()) out += ", ";
        rapidjson::StringBuffer b;
        json_writer w(b);
        m.value.Accept(w);
        out += std::string(m.name.GetString()) + "=" + std::string(b.GetString(), b.GetSize());
    }
    return one_line(out, max);
}

void print_human(const host::run& r, const style& st) {
    const bool ok = r.result == host::run_result::ok;
    std::cout << (ok ? st.green("\u2713") : st.red("\u2717")) << " tick " << st.bold(r.vigy_name) << ": "
              << st.result(host::run_result_name(r.result)) << " in "
              << human_duration_ms(r.started_ms, r.ended_ms, r.duration_us) << " (run " << r.id << ")\n";
    if (!r.error.empty()) std::cout << "  " << st.red("error: ") << r.error << "\n";
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
    if (!r.output.empty() && r.output != "nil" && r.output != "()") std::cout << "  output: " << one_line(r.output, 200) << "\n";
    if (auto s = object_summary(r.desired_json); !s.empty()) std::cout << "  desired: " << s << "\n";
    if (auto s = object_summary(r.observed_json); !s.empty()) std::cout << "  observed: " << s << "\n";
    if (auto s = object_summary(r.kv_writes_json); !s.empty()) std::cout << "  kv: " << s << "\n";
}

int run_tick(context& ctx, const tick_options& o) {
    auto rt = open_runtime(ctx, runtime_use::plugins);
    host::run r;
    try {
        const auto v = find_vigy_or_fail(*rt, o.target);
        r = rt->tick_now(v.id, o.wait_ms);
    } catch (const std::exception& e) {
        rethrow_as_command_error(e, ctx.db_path());
    }
    if (ctx.json())
        print_json(std::cout, run_json(r));
    else
        print_human(r, style{ctx.color});
    return exit_ok;
}

void add_tick(CLI::App& root, context& ctx) {
    auto o = std::make_shared<tick_options>();
    auto* sub = root.add_subcommand("tick", "run one tick of a vigy now and print the run");
    sub->footer(std::string(
        "The tick is committed like a scheduled one (run, kv, conditions, events) and\n"
        "works on disabled vigies too. If `vigy serve` is running on the database, the\n"
        "tick runs there (never concurrently with a scheduled tick of the same vigy);\n"
        "otherwise it runs in this process.\n\n"
        "exit status: 0 when the tick ran, even if the program failed (like kubectl:\n"
        "the command succeeded; the run's result says \"failed\" and carries the error);\n"
        "1 when the tick could not run (unknown vigy, database locked, serve busy).") + "\n\n" + global_options_help);
    sub->add_option("NAME", o->target, "the vigy's name or id")->required();
    sub->add_option("--wait-ms", o->wait_ms, "how long to wait for a running serve to take the tick")
        ->type_name("MS")
        ->default_val(5000);
    set_action(sub, ctx, [&ctx, o] { return run_tick(ctx, *o); });
}

}  // namespace

VIGY_CLI_COMMAND(add_tick);

}  // namespace vigy::cli
