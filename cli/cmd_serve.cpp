// cli/cmd_serve.cpp — `vigy serve`: becomes the database's scheduler, prints
// what it loaded and what it ticks, then one line per committed run until
// SIGINT/SIGTERM, then stops cleanly (in-flight ticks finish, the writer is
// flushed) and exits 0.
#include "cli.hpp"
#include "format.hpp"

#include "vigy/host/registry.hpp"
#include "vigy/host/sd_notify.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <set>

namespace vigy::cli {
namespace {

struct serve_options {
    unsigned threads = 0;
    int64_t keep_runs = 1000;
};

/// Serialised, flushed line output shared by the main thread and run callbacks.
/// Lines from callbacks (`later`) are held back until release(), so the header
/// printed after start() comes first.
class line_out {
public:
    void put(const std::string& line) {
        std::lock_guard lock(mu_);
        write(line);
    }
    void later(const std::string& line) {
        std::lock_guard lock(mu_);
        if (held_)
            pending_.push_back(line);
        else
            write(line);
    }
    void release() {
        std::lock_guard lock(mu_);
        held_ = false;
        for (const auto& l : pending_) write(l);
        pending_.clear();
    }

private:
    static void write(const std::string& line) {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }
    std::mutex mu_;
    bool held_ = true;
    std::vector<std::string> pending_;
};

std::string json_str(std::string_view s) { return json_quote(s); }

int run_serve(context& ctx, const serve_options& o) {
    block_stop_signals();  // before the runtime starts threads: they inherit the mask
    host::runtime_options opts;
    opts.tick_threads = o.threads;
    opts.keep_runs = o.keep_runs;
    auto rt = open_runtime(ctx, runtime_use::plugins, opts);
    const std::string db = ctx.db_path();
    const style st{ctx.color};
    const bool json = ctx.json();
    line_out out;
    const long pid = static_cast<long>(::getpid());

    const auto& reg = rt->plugins();
    std::atomic<uint64_t> n_ok{0}, n_failed{0};
    std::size_t name_width = 8;
    try {
        for (const auto& v : rt->list()) name_width = std::max(name_width, v.name.size());
    } catch (const std::exception& e) {
        rethrow_as_command_error(e, db);
    }
    name_width = std::min<std::size_t>(name_width, 24);
    auto sub = rt->subscribe([&](const host::run& r) {
        (r.result == host::run_result::ok ? n_ok : n_failed)++;
        if (json)
            out.later("{\"event\":\"run\",\"run\":" + run_json(r) + "}");
        else
            out.later(run_line(r, st, name_width));
    });

    try {
        rt->start();
    } catch (const host::runtime_error& e) {
        std::string msg = e.what();
        if (e.code() == host::errc::failed_precondition) {
            if (auto s = rt->scheduler(); s && msg.find(std::to_string(s->pid)) == std::string::npos)
                msg += " (held by pid " + std::to_string(s->pid) + " on " + s->hostname + ")";
        }
        sub.reset();
        rethrow_as_command_error(host::runtime_error(e.code(), msg), db);
    } catch (const std::exception& e) {
        sub.reset();
        rethrow_as_command_error(e, db);
    }

    // what was loaded (skipped plugin files were already logged as warnings by the registry)
    if (!json) {
        out.put(st.bold("vigy serve") + ": database " + db + " (pid " + std::to_string(pid) + ")");
        if (reg.plugins().empty()) out.put(st.yellow("no plugins loaded: nothing can tick (see vigy plugins list)"));
        for (const auto& p : reg.plugins()) {
            std::string kinds, exts;
            for (const auto& k : p.kinds) kinds += (kinds.empty() ? "" : ", ") + k.kind;
            for (const auto& e : p.extensions) exts += (exts.empty() ? "" : ", ") + e.name;
            std::string line = "plugin " + st.bold(p.id) + " " + p.version;
            if (!kinds.empty()) line += "  kinds: " + kinds;
            if (!exts.empty()) line += "  extensions: " + exts;
            out.put(line);
        }
    }

    auto intervals = [&] {
        std::map<std::string, int64_t> m;
        for (const auto& v : rt->list()) m[v.name] = v.interval_ms;
        return m;
    };
    auto scheduled_now = [&] {
        const auto names = rt->scheduled();
        return std::set<std::string>(names.begin(), names.end());
    };
    std::set<std::string> ticking = scheduled_now();
    {
        const auto every = intervals();
        if (json) {
            std::string line = "{\"event\":\"serving\",\"db\":" + json_str(db) + ",\"pid\":" + std::to_string(pid) +
                                ",\"plugins\":[";
            bool first = true;
            for (const auto& p : reg.plugins()) {
                line += std::string(first ? "" : ",") + "{\"id\":" + json_str(p.id) + ",\"version\":" +
                        json_str(p.version) + ",\"file\":" + json_str(p.file) + ",\"kinds\":[";
                for (std::size_t i = 0; i < p.kinds.size(); ++i)
                    line += std::string(i ? "," : "") + json_str(p.kinds[i].kind);
                line += "]}";
                first = false;
            }
            line += "],\"skipped\":[";
            first = true;
            for (const auto& d : reg.skipped()) {
                line += std::string(first ? "" : ",") + "{\"file\":" + json_str(d.file) +
                        ",\"reason\":" + json_str(d.reason) + "}";
                first = false;
            }
            line += "],\"vigies\":[";
            first = true;
            for (const auto& n : ticking) {
                const auto it = every.find(n);
                line += std::string(first ? "" : ",") + "{\"name\":" + json_str(n) +
                        ",\"tick_interval_ms\":" + std::to_string(it == every.end() ? 0 : it->second) + "}";
                first = false;
            }
            line += "]}";
            out.put(line);
        } else {
            if (ticking.empty()) {
                out.put(st.dim("nothing to tick yet: register a vigy (vigy register FILE --name N)"));
            } else {
                std::string line = "ticking " + std::to_string(ticking.size()) +
                                   (ticking.size() == 1 ? " vigy: " : " vigies: ");
                std::size_t shown = 0;
                for (const auto& n : ticking) {
                    if (shown == 20) {
                        line += ", …";
                        break;
                    }
                    const auto it = every.find(n);
                    line += (shown ? ", " : "") + n +
                            (it == every.end() ? "" : " every " + human_interval(it->second));
                    ++shown;
                }
                out.put(line);
            }
            out.put(st.green("serving ") + db + " as pid " + std::to_string(pid) + " (ctrl-c to stop)");
        }
    }
    out.release();
    host::sd_notify("READY=1\nSTATUS=serving " + db);  // systemd Type=notify (no-op elsewhere)

    int sig = 0;
    while ((sig = wait_for_stop_signal(250)) == 0) {
        const auto now = scheduled_now();
        if (now == ticking) continue;
        const auto every = intervals();
        for (const auto& n : now)
            if (!ticking.count(n)) {
                const auto it = every.find(n);
                if (json)
                    out.put("{\"event\":\"scheduled\",\"vigy\":" + json_str(n) + "}");
                else
                    out.put(st.cyan("+") + " now ticking " + st.bold(n) +
                            (it == every.end() ? "" : " every " + human_interval(it->second)));
            }
        for (const auto& n : ticking)
            if (!now.count(n)) {
                if (json)
                    out.put("{\"event\":\"unscheduled\",\"vigy\":" + json_str(n) + "}");
                else
                    out.put(st.yellow("-") + " stopped ticking " + st.bold(n));
            }
        ticking = now;
    }

    // a second ctrl-c while shutting down kills the process the default way
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    const char* sig_name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    if (!json) out.put(st.dim(std::string("") + sig_name + ": shutting down (finishing in-flight ticks)…"));
    host::sd_notify("STOPPING=1");
    try {
        rt->stop();
    } catch (const std::exception& e) {
        sub.reset();
        rethrow_as_command_error(e, db);
    }
    sub.reset();
    const uint64_t ok = n_ok.load(), failed = n_failed.load();
    if (json)
        out.put("{\"event\":\"stopped\",\"signal\":" + json_str(sig_name) + ",\"runs\":" + std::to_string(ok + failed) +
                ",\"ok\":" + std::to_string(ok) + ",\"failed\":" + std::to_string(failed) + "}");
    else
        out.put("stopped: " + std::to_string(ok + failed) + " runs (" + std::to_string(ok) + " ok, " +
                std::to_string(failed) + " failed)");
    return exit_ok;
}

void add_serve(CLI::App& root, context& ctx) {
    auto o = std::make_shared<serve_options>();
    auto* sub = root.add_subcommand("serve", "tick every enabled vigy until ctrl-c (the scheduler of the database)");
    sub->footer(std::string(
        "Loads the plugins (built-in directory, each --plugin-dir, $VIGY_PLUGIN_PATH),\n"
        "prints them and the vigies it ticks, then one line per committed run (as\n"
        "`vigy tail`; with -o json one JSON object per line, each with an \"event\").\n"
        "Registrations, edits, enable/disable/delete and `vigy tick` from other\n"
        "processes take effect within a second. Only one serve per database: a second\n"
        "one exits 1 naming the pid that serves. SIGINT/SIGTERM: in-flight ticks\n"
        "finish, every run is flushed to the database, exit 0.") + "\n\n" + global_options_help);
    sub->add_option("--threads", o->threads, "threads running ticks (0 = max(4, 2 x cores))")
        ->type_name("N")
        ->default_val(0);
    sub->add_option("--keep-runs", o->keep_runs, "runs kept per vigy (older ones are pruned; 0 = all)")
        ->type_name("N")
        ->default_val(1000);
    set_action(sub, ctx, [&ctx, o] { return run_serve(ctx, *o); });
}

}  // namespace

VIGY_CLI_COMMAND(add_serve);

}  // namespace vigy::cli
