// cli/cmd_tail.cpp — `vigy tail`: follows the runs COMMITTED to the database
// (by every process: serve, vigy tick, an embedding app), oldest first, one line
// per run, until SIGINT/SIGTERM.
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"
#include "signals.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace vigy::cli {
namespace {

struct tail_options {
    std::string id;
    std::string since;
    int64_t poll_ms = 200;
};

/// --since as epoch ms: a duration back from now, or an RFC 3339 time.
std::optional<int64_t> since_ms(const std::string& s) {
    if (auto d = parse_duration_ms(s)) return now_ms() - *d;
    return parse_rfc3339(s);
}

int run_tail(context& ctx, const tail_options& o) {
    block_stop_signals();
    auto rt = ctx.open_runtime(runtime_use::read_only);
    const std::string db = store::display_path(ctx.db_path());
    const style st{ctx.color};
    std::optional<std::string> only;
    std::size_t name_width = 8;
    if (!o.id.empty()) {
        const auto v = rt->get(o.id);
        only = v.id;
        name_width = std::max(name_width, v.name.size());
    } else {
        for (const auto& v : rt->list()) name_width = std::max(name_width, v.name.size());
    }
    name_width = std::min<std::size_t>(name_width, 24);
    int64_t cursor = rt->last_seq();
    std::vector<host::run> history;
    if (!o.since.empty()) {
        history = rt->runs_since(*since_ms(o.since), 100000, only);
        for (const auto& r : history) cursor = std::max(cursor, r.seq);
    }

    auto print = [&](const host::run& r) {
        if (ctx.json())
            std::cout << run_json(r) << '\n';
        else
            std::cout << run_line(r, st, name_width) << '\n';
    };
    for (const auto& r : history) print(r);
    std::cout.flush();
    std::cerr << st.dim("tailing committed runs of " + (o.id.empty() ? std::string("every vigy") : o.id) + " in " + db +
                        " (ctrl-c to stop)")
              << std::endl;

    bool warned = false;
    for (;;) {
        std::size_t got = 0;
        try {
            const auto batch = rt->runs_after(cursor, 1000, only);
            for (const auto& r : batch) {
                print(r);
                cursor = std::max(cursor, r.seq);
            }
            got = batch.size();
            if (got) std::cout.flush();
            warned = false;
        } catch (const status_error& e) {
            if (e.code() != VIGY_UNAVAILABLE) throw;
            if (!warned) std::cerr << "warning: " << e.what() << " (retrying)\n";
            warned = true;
        }
        if (got == 1000) continue;  // more waiting: read again right away
        if (wait_for_stop_signal(static_cast<int>(o.poll_ms)) != 0) break;
    }
    return exit_ok;
}

void add_tail(CLI::App& root, context& ctx) {
    auto o = std::make_shared<tail_options>();
    auto* sub = root.add_subcommand("tail", "follow committed runs (of every process), newest at the bottom");
    sub->footer(std::string("One line per run: start time, vigy, result, duration, actions, error. With\n"
                            "-o json each line is one run as a JSON object. --since first prints the runs\n"
                            "started since then (a duration back from now such as 30s, 5m, 2h, 1d, or an\n"
                            "RFC 3339 time such as 2026-05-21T12:00:00Z). Stops on ctrl-c / SIGTERM (exit 0).\n"
                            "A database file that does not exist is refused (exit 3), not created.\n\n"
                            "examples:\n  vigy tail\n  vigy tail --id hello --since 10m -o json") +
                "\n\n" + global_options_help);
    sub->add_option("--id", o->id, "only this vigy (name or id)")->type_name("NAME");
    sub->add_option("--since", o->since, "print history from this time first (duration or RFC 3339)")
        ->type_name("WHEN")
        ->check([](const std::string& s) -> std::string {
            if (since_ms(s)) return {};
            return "expected a duration (30s, 5m, 2h) or an RFC 3339 time, got \"" + s + "\"";
        });
    sub->add_option("--poll-ms", o->poll_ms, "how often to look for new runs")
        ->type_name("MS")
        ->default_val(200)
        ->check(CLI::Range(int64_t{10}, int64_t{60000}));
    set_action(sub, ctx, [&ctx, o] { return run_tail(ctx, *o); });
}

}  // namespace

VIGY_CLI_COMMAND(add_tail);

}  // namespace vigy::cli
