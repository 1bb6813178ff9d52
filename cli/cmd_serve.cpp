// cli/cmd_serve.cpp — `vigy serve`: becomes the database's scheduler, prints what it
// loaded and what it ticks, then one line per committed run until SIGINT/SIGTERM, then
// stops cleanly (in-flight ticks finish, the writer is flushed) and exits 0.
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"
#include "signals.hpp"

#include "vigy/api/mcp.hpp"
#include "vigy/api/routes.hpp"
#include "vigy/api/server.hpp"
#include "vigy/host/registry.hpp"
#include "vigy/host/sd_notify.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

namespace vigy::cli {
namespace {

struct serve_options {
    unsigned threads = 0;
    int64_t tick_slice_ms = 10;   ///< --tick-slice (fair scheduling; 0 = off)
    unsigned max_long_ticks = 0;  ///< --max-long-ticks (0 = max(1, cores / 2))
    int64_t keep_runs = 1000;
    std::string lease_ttl;
    std::string poll_interval;              ///< --poll-interval (default 250ms; the API watch 100ms)
    bool no_notify = false;                 ///< --no-notify: poll only (PostgreSQL)
    bool cluster = false;                   ///< --cluster (PostgreSQL)
    std::string lease_duration;             ///< --lease-duration (cluster; default 15s)
    std::string renew_deadline;             ///< --renew-deadline (cluster; default 10s)
    std::string retry_period;               ///< --retry-period (cluster; default 2s)
    std::vector<std::string> listen;        ///< --listen (repeatable); empty = 127.0.0.1:38821
    std::string token_file;                 ///< --token-file
    std::vector<std::string> allow_hosts;   ///< --allow-host
    std::vector<std::string> cors_origins;  ///< --cors-origin
    bool no_db_check = false;
    bool no_dashboard = false;  ///< --no-dashboard
};

/// The HTTP API of a serving runtime: the routes mounted over it, the server bound to
/// every --listen address, and the io threads. stop() ends streams, then the loop.
class api_face {
public:
    /// Mounts and binds (nothing runs yet). Throws api::server_error naming the address.
    api_face(host::runtime& rt, const serve_options& o, std::vector<api::listen_address> listen) {
        api::mount_options mo;
        mo.dashboard = !o.no_dashboard;
        if (const auto ms = parse_duration_ms(o.poll_interval)) mo.poll_ms = *ms;  // checked by run_serve
        api::router routes;
        service_ = api::mount(routes, rt, mo);
        mcp_ = api::mcp::mount(routes, rt);  // MCP over Streamable HTTP: POST /mcp
        api::server_options so;
        so.listen = std::move(listen);
        if (!o.token_file.empty()) so.token_file = o.token_file;
        so.allowed_hosts = o.allow_hosts;
        so.cors_origins = o.cors_origins;
        so.metrics = service_->metrics();
        server_ = std::make_unique<api::server>(io_, std::move(routes), so);
        listeners_ = server_->start();
    }
    ~api_face() { stop(); }
    const std::vector<api::listener_info>& listeners() const { return listeners_; }
    void run(unsigned threads) {
        for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    void stop() {
        if (stopped_) return;
        stopped_ = true;
        server_->stop();
        service_->stop();
        work_.reset();
        // the server lets in-flight responses finish; then nothing is left to run
        for (auto& t : threads_) t.join();
        threads_.clear();
        server_.reset();
    }

private:
    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{io_.get_executor()};
    std::shared_ptr<api::api_service> service_;
    std::shared_ptr<api::mcp::dispatcher> mcp_;
    std::unique_ptr<api::server> server_;
    std::vector<api::listener_info> listeners_;
    std::vector<std::thread> threads_;
    bool stopped_ = false;
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

/// One JSON event line: {"event": name, ...members written by `body`}.
template <class F>
std::string event_line(const char* name, F&& body) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("event");
    w.String(name);
    body(w);
    w.EndObject();
    return text(buf);
}

int run_serve(context& ctx, const serve_options& o) {
    block_stop_signals();  // before the runtime starts threads: they inherit the mask
    host::runtime_options opts;
    opts.tick_threads = o.threads;
    opts.tick_slice_ms = o.tick_slice_ms;
    opts.max_long_ticks = o.max_long_ticks;
    opts.keep_runs = o.keep_runs;
    if (!o.lease_ttl.empty()) {
        const auto ttl = parse_duration_ms(o.lease_ttl);
        if (!ttl || *ttl < 100)
            usage_error("--lease-ttl must be a duration of at least 100ms, got \"" + o.lease_ttl + "\"");
        opts.lease_ttl_ms = *ttl;
        opts.lease_renew_ms = std::max<int64_t>(*ttl / 5, 10);
    }
    if (!o.poll_interval.empty()) {
        const auto ms = parse_duration_ms(o.poll_interval);
        if (!ms || *ms < 10 || *ms > 60'000)
            usage_error("--poll-interval must be a duration from 10ms to 60s, got \"" + o.poll_interval + "\"");
        opts.poll_ms = *ms;
    }
    opts.notify = !o.no_notify;
    opts.cluster = o.cluster;
    auto cluster_duration = [&](const std::string& text, const char* flag, int64_t& into) {
        if (text.empty()) return;
        if (!o.cluster) usage_error(std::string(flag) + " needs --cluster");
        const auto ms = parse_duration_ms(text);
        if (!ms || *ms < 10)
            usage_error(std::string(flag) + " must be a duration of at least 10ms, got \"" + text + "\"");
        into = *ms;
    };
    cluster_duration(o.lease_duration, "--lease-duration", opts.cluster_lease_ms);
    cluster_duration(o.renew_deadline, "--renew-deadline", opts.cluster_renew_deadline_ms);
    cluster_duration(o.retry_period, "--retry-period", opts.cluster_retry_ms);
    if (o.cluster && !(opts.cluster_retry_ms < opts.cluster_renew_deadline_ms &&
                       opts.cluster_renew_deadline_ms < opts.cluster_lease_ms))
        usage_error("cluster lease settings need --retry-period < --renew-deadline < --lease-duration (got " +
                    std::to_string(opts.cluster_retry_ms) + " ms, " + std::to_string(opts.cluster_renew_deadline_ms) +
                    " ms, " + std::to_string(opts.cluster_lease_ms) + " ms)");
    if (o.cluster && !is_postgresql_url(ctx.db_path()))
        usage_error("--cluster needs a PostgreSQL database (--db postgresql://...); " +
                    store::display_path(ctx.db_path()) + " is an SQLite file, which one vigy serve uses at a time");
    // For tests and operators: a host whose wall clock is off by this many ms. It moves
    // the run timestamps, never the lease's expiry (which runs on CLOCK_BOOTTIME).
    if (const char* off = std::getenv("VIGY_TEST_CLOCK_OFFSET_MS"); off && *off)
        opts.clock = host::clock::system(std::strtoll(off, nullptr, 10));
    std::vector<api::listen_address> listen;
    try {
        listen = api::parse_listen_addresses(o.listen);
    } catch (const std::invalid_argument& e) {
        usage_error(std::string("--listen: ") + e.what());
    }
    auto rt = ctx.open_runtime(runtime_use::plugins, opts);
    const std::string db = store::display_path(ctx.db_path());  // shown: a URL without its password
    // bind before ticking: a bind failure exits 1 naming the address, nothing ran
    std::unique_ptr<api_face> face;
    if (!listen.empty()) {
        try {
            face = std::make_unique<api_face>(*rt, o, std::move(listen));
        } catch (const api::server_error& e) {
            vigy::fail(VIGY_FAILED_PRECONDITION, e.what());  // exit 1 with the message
        }
    }
    const style st{ctx.color};
    const bool json = ctx.json();
    line_out out;
    const long pid = static_cast<long>(::getpid());

    const auto& reg = rt->plugins();
    std::atomic<uint64_t> n_ok{0}, n_failed{0};
    std::size_t name_width = 8;
    for (const auto& v : rt->list()) name_width = std::max(name_width, v.name.size());
    name_width = std::min<std::size_t>(name_width, 24);
    auto sub = rt->subscribe([&](const host::run& r) {
        (r.result == host::run_result::ok ? n_ok : n_failed)++;
        if (json)
            out.later(event_line("run", [&](json_writer& w) {
                w.Key("run");
                write_run(w, r);
            }));
        else
            out.later(run_line(r, st, name_width));
    });

    // A damaged database is refused before anything ticks (PRAGMA quick_check; see docs/operations.md).
    store::check_report check;
    check.ok = true;
    if (!o.no_db_check) check = store::check_database(ctx.db_path(), false);
    if (!check.ok)
        vigy::fail(VIGY_FAILED_PRECONDITION,
                   "database " + db + " failed quick_check: " + check.problems.front() +
                       (check.problems.size() > 1 ? " (and " + std::to_string(check.problems.size() - 1) + " more)"
                                                  : std::string()) +
                       "; not serving it (vigy db check --full lists every problem)");

    rt->start();

    // what was loaded (skipped plugin files were already logged as warnings by the registry)
    if (!json) {
        out.put(st.bold("vigy serve") + ": database " + db + " (pid " + std::to_string(pid) +
                (o.no_db_check ? std::string(", quick_check skipped")
                               : ", quick_check ok in " + std::to_string(check.duration_ms) + " ms") +
                ")");
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
            out.put(event_line("serving", [&](json_writer& w) {
                w.Key("db");
                write_string(w, db);
                w.Key("pid");
                w.Int64(pid);
                w.Key("lease_token");
                w.Int64(rt->stats().lease_token);
                w.Key("plugins");
                w.StartArray();
                for (const auto& p : reg.plugins()) {
                    w.StartObject();
                    w.Key("id");
                    write_string(w, p.id);
                    w.Key("version");
                    write_string(w, p.version);
                    w.Key("file");
                    write_string(w, p.file);
                    w.Key("kinds");
                    w.StartArray();
                    for (const auto& k : p.kinds) write_string(w, k.kind);
                    w.EndArray();
                    w.EndObject();
                }
                w.EndArray();
                w.Key("skipped");
                api::write_skipped_plugins(w, reg);
                w.Key("vigies");
                w.StartArray();
                for (const auto& n : ticking) {
                    const auto it = every.find(n);
                    w.StartObject();
                    w.Key("name");
                    write_string(w, n);
                    w.Key("tick_interval_ms");
                    w.Int64(it == every.end() ? 0 : it->second);
                    w.EndObject();
                }
                w.EndArray();
            }));
        } else {
            if (ticking.empty()) {
                out.put(st.dim("nothing to tick yet: register a vigy (vigy register FILE --name N)"));
            } else {
                std::string line =
                    "ticking " + std::to_string(ticking.size()) + (ticking.size() == 1 ? " vigy: " : " vigies: ");
                std::size_t shown = 0;
                for (const auto& n : ticking) {
                    if (shown == 20) {
                        line += ", …";
                        break;
                    }
                    const auto it = every.find(n);
                    line += (shown ? ", " : "") + n + (it == every.end() ? "" : " every " + human_interval(it->second));
                    ++shown;
                }
                out.put(line);
            }
            out.put(st.green("serving ") + db + " as pid " + std::to_string(pid) + " (ctrl-c to stop)");
        }
    }
    if (face) {
        for (const auto& l : face->listeners()) {
            if (json)
                out.put(event_line("listening", [&](json_writer& w) {
                    w.Key("address");
                    write_string(w, l.address);
                    w.Key("url");
                    write_string(w, l.url);
                }));
            else
                out.put(
                    "API on " + st.bold(l.url) +
                    (o.no_dashboard || l.url.rfind("http", 0) != 0 ? std::string() : "  (dashboard: " + l.url + "/)"));
        }
        face->run(2);
    } else if (!json) {
        out.put(st.dim("no HTTP API (--listen none)"));
    }
    if (json) out.put(R"({"event":"ready"})");
    out.release();
    host::sd_notify("READY=1\nSTATUS=serving " + db);  // systemd Type=notify (no-op elsewhere)

    int sig = 0;
    std::optional<std::string> corrupt;
    while ((sig = wait_for_stop_signal(250)) == 0) {
        if ((corrupt = store::corruption_detected())) break;  // stop serving a damaged database
        const auto now = scheduled_now();
        if (now == ticking) continue;
        const auto every = intervals();
        for (const auto& n : now)
            if (!ticking.count(n)) {
                const auto it = every.find(n);
                if (json)
                    out.put(event_line("scheduled", [&](json_writer& w) {
                        w.Key("vigy");
                        write_string(w, n);
                    }));
                else
                    out.put(st.cyan("+") + " now ticking " + st.bold(n) +
                            (it == every.end() ? "" : " every " + human_interval(it->second)));
            }
        for (const auto& n : ticking)
            if (!now.count(n)) {
                if (json)
                    out.put(event_line("unscheduled", [&](json_writer& w) {
                        w.Key("vigy");
                        write_string(w, n);
                    }));
                else
                    out.put(st.yellow("-") + " stopped ticking " + st.bold(n));
            }
        ticking = now;
    }

    unblock_stop_signals();  // a second ctrl-c while shutting down kills the process the default way
    const char* sig_name = corrupt ? "corruption" : sig == SIGINT ? "SIGINT" : "SIGTERM";
    if (corrupt) std::fprintf(stderr, "error: %s; stopped serving\n", corrupt->c_str());
    if (!json) out.put(st.dim(std::string(sig_name) + ": shutting down (finishing in-flight ticks)…"));
    host::sd_notify("STOPPING=1");
    if (face) face->stop();  // watch streams end, in-flight requests finish
    rt->stop();
    sub.reset();
    const auto stats = rt->stats();
    const uint64_t ok = n_ok.load(), failed = n_failed.load();
    if (json)
        out.put(event_line("stopped", [&](json_writer& w) {
            w.Key("signal");
            w.String(sig_name);
            w.Key("runs");
            w.Uint64(ok + failed);
            w.Key("ok");
            w.Uint64(ok);
            w.Key("failed");
            w.Uint64(failed);
            w.Key("rejected");
            w.Uint64(stats.runs_rejected);
            w.Key("stale");
            w.Uint64(stats.stale_commits);
        }));
    else
        out.put("stopped: " + std::to_string(ok + failed) + " runs (" + std::to_string(ok) + " ok, " +
                std::to_string(failed) + " failed" +
                (stats.stale_commits ? ", " + std::to_string(stats.stale_commits) + " stale rejected" : std::string()) +
                ")");
    return corrupt ? exit_error : exit_ok;
}

void add_serve(CLI::App& root, context& ctx) {
    auto o = std::make_shared<serve_options>();
    auto* sub = root.add_subcommand("serve", "tick every enabled vigy until ctrl-c (the scheduler of the database)");
    sub->footer(std::string("Loads the plugins (built-in directory, each --plugin-dir, $VIGY_PLUGIN_PATH),\n"
                            "prints them and the vigies it ticks, then one line per committed run (as\n"
                            "`vigy tail`; with -o json one JSON object per line, each with an \"event\").\n"
                            "Registrations, edits, enable/disable/delete and `vigy tick` from other\n"
                            "processes take effect within a second. Only one serve per database: a second\n"
                            "one exits 1 naming the pid that serves. Every run is committed under the\n"
                            "scheduler lease's fencing token: a serve that was paused past its lease\n"
                            "(--lease-ttl, default 5s) cannot commit anything once another took over.\n"
                            "SIGINT/SIGTERM: in-flight ticks finish, every run is flushed, exit 0.\n\n"
                            "The HTTP API (REST /v1, watch streams, /metrics, /readyz, /livez, OpenAPI at\n"
                            "/openapi.json) and the web dashboard at / are served on --listen (default\n"
                            "127.0.0.1:38821; unix:/path for a socket; none for no API). A non-loopback\n"
                            "address needs --token-file. A bind failure exits 1 naming the address.\n"
                            "With -o json each listener is printed as {\"event\":\"listening\",\"url\"}, then\n"
                            "{\"event\":\"ready\"}. See docs/api.md and docs/dashboard.md.\n\n"
                            "For tests and operators: --lease-ttl 1s makes a takeover after a crash or a\n"
                            "pause fast; VIGY_TEST_CLOCK_OFFSET_MS=N runs serve with its wall clock N ms\n"
                            "off (the lease never trusts wall clocks on one host).") +
                "\n\n" + global_options_help);
    sub->add_option("--threads", o->threads, "threads running ticks (0 = max(4, 2 x cores))")
        ->type_name("N")
        ->default_val(0);
    sub->add_option("--tick-slice", o->tick_slice_ms,
                    "ms a tick runs before it moves to the long lane and then between its turns there "
                    "(fair scheduling, docs/operations.md; 0 = off)")
        ->type_name("MS")
        ->check(CLI::Range(int64_t{0}, int64_t{60000}))
        ->default_val(10);
    sub->add_option("--max-long-ticks", o->max_long_ticks,
                    "long ticks running at once; the others wait parked (0 = max(1, cores / 2))")
        ->type_name("N")
        ->check(CLI::Range(0u, 1024u))
        ->default_val(0);
    sub->add_option("--keep-runs", o->keep_runs, "runs kept per vigy (older ones are pruned; 0 = all)")
        ->type_name("N")
        ->default_val(1000);
    sub->add_option("--lease-ttl", o->lease_ttl, "how long the scheduler lease lasts without renewal (e.g. 2s)")
        ->type_name("DURATION");
    sub->add_option("--poll-interval", o->poll_interval,
                    "how often to look for other processes' changes, tick requests and runs when not notified "
                    "(PostgreSQL notifies at once and this poll is the fallback; default 250ms, 100ms for API watches)")
        ->type_name("DURATION");
    sub->add_flag("--no-notify", o->no_notify,
                  "PostgreSQL: do not LISTEN for changes, only poll every --poll-interval (e.g. behind PgBouncer in "
                  "transaction mode)");
    sub->add_flag("--cluster", o->cluster,
                  "share a PostgreSQL database with other serve --cluster hosts: each ticks the vigies of the "
                  "shards it leases (docs/cluster.md)");
    sub->add_option("--lease-duration", o->lease_duration,
                    "cluster: how long a shard lease lasts without renewal (default 15s)")
        ->type_name("DURATION");
    sub->add_option("--renew-deadline", o->renew_deadline,
                    "cluster: stop ticking when the leases were not renewed for this long (default 10s)")
        ->type_name("DURATION");
    sub->add_option("--retry-period", o->retry_period,
                    "cluster: how often shard leases are renewed and taken (default 2s)")
        ->type_name("DURATION");
    sub->add_option("--listen", o->listen,
                    "HTTP API address, repeatable: HOST:PORT, [V6]:PORT, unix:/path or none (default 127.0.0.1:38821)")
        ->type_name("ADDR");
    sub->add_option("--token-file", o->token_file,
                    "bearer token file (mode 0600) required by every route but /livez; needed beyond loopback")
        ->type_name("FILE");
    sub->add_option("--allow-host", o->allow_hosts, "extra name accepted in the Host header (DNS rebinding check)")
        ->type_name("NAME");
    sub->add_option("--cors-origin", o->cors_origins, "origin allowed to call the API cross-origin (exact, repeatable)")
        ->type_name("ORIGIN");
    sub->add_flag("--no-dashboard", o->no_dashboard, "do not serve the web dashboard at /");
    sub->add_flag("--no-db-check", o->no_db_check,
                  "skip PRAGMA quick_check at start (it reads the whole file: seconds per GB; see vigy db check)");
    set_action(sub, ctx, [&ctx, o] { return run_serve(ctx, *o); });
}

}  // namespace

VIGY_CLI_COMMAND(add_serve);

}  // namespace vigy::cli
