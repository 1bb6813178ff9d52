// bench/store/bench_store.cpp — rows/s for hello-vigy-like runs: plain SQLite (sqlite3 C API,
// prepared INSERT, batched transactions) vs the vigy store writer (group commit, savepoints,
// kv). Usage: vigy_store_bench [--runs N] [--batch B] [--vigies V] [--kv K] [--threads T] [--dir D]
// [--only plain|writer] (one path, e.g. under `perf stat -e instructions:u`).
// The runtime bench reuses the "plain" number as its SQLite ceiling.
#include <vigy/store/store.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <atomic>
#include <ctime>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
namespace st = vigy::store;

/// Process CPU seconds (all threads): the machine is shared, so CPU cost is the stable number.
double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct result {
    double wall_rate = 0;  ///< runs per wall second
    double cpu_rate = 0;   ///< runs per CPU second
};

struct config {
    long runs = 200000;
    long batch = 1000;
    long vigies = 100;
    long kv = 2;  // kv upserts per run (__sys::tick_count, __sys::prev_tick_ms)
    long threads = 1;
    std::string dir;
    std::string only;  ///< "plain" or "writer": run one path (for perf stat)
};

const char* const k_actions = R"([{"kind":"noop","result":"ok"}])";
const char* const k_log = R"([{"level":"info","message":"hello, vigy","ts":"2026-05-21T12:00:00.000Z"}])";

void check(int rc, sqlite3* db, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fmt::print(stderr, "sqlite error in {}: {}\n", what, sqlite3_errmsg(db));
        std::exit(1);
    }
}

std::vector<std::string> make_vigies(const std::string& path, long n) {
    st::open_options o;
    o.path = path;
    o.start_writer = false;
    st::store s(o);
    std::vector<std::string> ids;
    for (long i = 0; i < n; ++i) {
        st::vigy_spec spec;
        spec.name = fmt::format("hello-{}", i);
        spec.kind = "lisp";
        spec.config_json = R"j({"program":"(vigy-log \"hello, vigy\")"})j";
        spec.interval_ms = 100;
        ids.push_back(s.register_or_update(spec).vigy.id);
    }
    return ids;
}

/// Plain SQLite: the same INSERT INTO runs (+ kv upserts) with prepared statements.
result bench_plain(const config& cfg, const std::string& path, const std::vector<std::string>& ids) {
    sqlite3* db = nullptr;
    check(sqlite3_open(path.c_str(), &db), db, "open");
    check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA cache_size=-65536", nullptr,
                       nullptr, nullptr),
          db, "pragmas");
    sqlite3_stmt* ins = nullptr;
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO runs(id, vigy_id, revision, started_at, ended_at, result, error, duration_ms, "
                             "actions_json, desired_json, observed_json, conditions_json, log_json, trace_json, "
                             "metrics_json, events_json, output_json) VALUES (?,?,?,?,?,'ok','',0,?,'{}','{}','[]',?,"
                             "'[]','[]','[]','null')",
                             -1, &ins, nullptr),
          db, "prepare runs");
    sqlite3_stmt* kv = nullptr;
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO kv(vigy_id, key, value_json, updated_at) VALUES (?,?,?,?) ON CONFLICT(vigy_id, "
                             "key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at",
                             -1, &kv, nullptr),
          db, "prepare kv");
    const auto t0 = clock_type::now();
    const double c0 = cpu_now();
    for (long i = 0; i < cfg.runs; ++i) {
        if (i % cfg.batch == 0) check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
        const std::string& vid = ids[static_cast<std::size_t>(i) % ids.size()];
        const std::string id = st::new_run_id();
        const std::string ts = st::now_timestamp();
        sqlite3_bind_text(ins, 1, id.c_str(), static_cast<int>(id.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, vid.c_str(), static_cast<int>(vid.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, "0000000000000000", 16, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, ts.c_str(), static_cast<int>(ts.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, ts.c_str(), static_cast<int>(ts.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, k_actions, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 7, k_log, -1, SQLITE_STATIC);
        check(sqlite3_step(ins), db, "insert run");
        sqlite3_reset(ins);
        for (long k = 0; k < cfg.kv; ++k) {
            const std::string key = fmt::format("__sys::k{}", k);
            const std::string val = std::to_string(i);
            sqlite3_bind_text(kv, 1, vid.c_str(), static_cast<int>(vid.size()), SQLITE_STATIC);
            sqlite3_bind_text(kv, 2, key.c_str(), static_cast<int>(key.size()), SQLITE_STATIC);
            sqlite3_bind_text(kv, 3, val.c_str(), static_cast<int>(val.size()), SQLITE_STATIC);
            sqlite3_bind_text(kv, 4, ts.c_str(), static_cast<int>(ts.size()), SQLITE_STATIC);
            check(sqlite3_step(kv), db, "upsert kv");
            sqlite3_reset(kv);
        }
        if (i % cfg.batch == cfg.batch - 1 || i == cfg.runs - 1)
            check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
    }
    const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    const double cpu = cpu_now() - c0;
    sqlite3_finalize(ins);
    sqlite3_finalize(kv);
    sqlite3_close(db);
    return {static_cast<double>(cfg.runs) / secs, static_cast<double>(cfg.runs) / cpu};
}

/// Through the store writer: build tick_commits, submit from `threads` threads, flush.
result bench_writer(const config& cfg, const std::string& path, const std::vector<std::string>& ids,
                    st::writer_stats& stats_out) {
    st::open_options o;
    o.path = path;
    o.writer.background_prune = false;  // measure the write path only
    o.writer.max_batch = static_cast<std::size_t>(cfg.batch);
    st::store s(o);
    std::atomic<long> failed{0};
    const auto t0 = clock_type::now();
    const double c0 = cpu_now();
    std::vector<std::thread> pool;
    for (long t = 0; t < cfg.threads; ++t)
        pool.emplace_back([&, t] {
            for (long i = t; i < cfg.runs; i += cfg.threads) {
                st::tick_commit c;
                c.run.vigy_id = ids[static_cast<std::size_t>(i) % ids.size()];
                c.run.revision = "0000000000000000";
                c.run.started_at = st::now_timestamp();
                c.run.ended_at = c.run.started_at;
                c.run.actions_json = k_actions;
                c.run.log_json = k_log;
                for (long k = 0; k < cfg.kv; ++k) c.kv_upserts.emplace_back(fmt::format("__sys::k{}", k), std::to_string(i));
                s.writer().submit(std::move(c), [&](const st::commit_result& r) {
                    if (!r.ok) ++failed;
                });
            }
        });
    for (auto& th : pool) th.join();
    s.writer().flush();
    const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    const double cpu = cpu_now() - c0;
    stats_out = s.writer().stats();
    if (failed != 0) fmt::print(stderr, "{} commits failed\n", failed.load());
    return {static_cast<double>(cfg.runs) / secs, static_cast<double>(cfg.runs) / cpu};
}

long arg_long(int& i, int argc, char** argv) {
    if (i + 1 >= argc) {
        fmt::print(stderr, "missing value for {}\n", argv[i]);
        std::exit(2);
    }
    return std::strtol(argv[++i], nullptr, 10);
}

}  // namespace

int main(int argc, char** argv) {
    config cfg;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--runs") cfg.runs = arg_long(i, argc, argv);
        else if (a == "--batch") cfg.batch = arg_long(i, argc, argv);
        else if (a == "--vigies") cfg.vigies = arg_long(i, argc, argv);
        else if (a == "--kv") cfg.kv = arg_long(i, argc, argv);
        else if (a == "--threads") cfg.threads = arg_long(i, argc, argv);
        else if (a == "--dir" && i + 1 < argc) cfg.dir = argv[++i];
        else if (a == "--only" && i + 1 < argc) cfg.only = argv[++i];
        else {
            fmt::print(stderr, "usage: {} [--runs N] [--batch B] [--vigies V] [--kv K] [--threads T] [--dir D] [--only plain|writer]\n", argv[0]);
            return 2;
        }
    }
    if (cfg.runs <= 0 || cfg.batch <= 0 || cfg.vigies <= 0 || cfg.threads <= 0 || cfg.kv < 0) {
        fmt::print(stderr, "all counts must be positive\n");
        return 2;
    }
    namespace fs = std::filesystem;
    const fs::path dir = cfg.dir.empty() ? fs::temp_directory_path() / fmt::format("vigy-store-bench-{}", ::getpid())
                                         : fs::path(cfg.dir);
    fs::create_directories(dir);
    const std::string plain_db = (dir / "plain.db").string();
    const std::string writer_db = (dir / "writer.db").string();
    for (const auto& p : {plain_db, writer_db})
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p + suffix);

    const auto plain_ids = make_vigies(plain_db, cfg.vigies);
    const auto writer_ids = make_vigies(writer_db, cfg.vigies);
    st::writer_stats ws;
    const result plain = cfg.only == "writer" ? result{1, 1} : bench_plain(cfg, plain_db, plain_ids);
    const result ours = cfg.only == "plain" ? result{1, 1} : bench_writer(cfg, writer_db, writer_ids, ws);

    fmt::print("runs={} vigies={} kv_per_run={} batch={} submit_threads={}\n", cfg.runs, cfg.vigies, cfg.kv, cfg.batch,
               cfg.threads);
    fmt::print("{:<34} {:>12} {:>14}\n", "path", "runs/s (wall)", "runs/cpu-s");
    fmt::print("{:<34} {:>12.0f} {:>14.0f}\n", "plain sqlite3 (prepared, batched)", plain.wall_rate, plain.cpu_rate);
    fmt::print("{:<34} {:>12.0f} {:>14.0f}   ({:.0f}% of plain wall, {:.0f}% cpu; {} transactions, {:.0f} runs/tx)\n",
               "vigy store writer", ours.wall_rate, ours.cpu_rate, 100.0 * ours.wall_rate / plain.wall_rate,
               100.0 * ours.cpu_rate / plain.cpu_rate, ws.transactions,
               ws.transactions ? static_cast<double>(ws.committed) / static_cast<double>(ws.transactions) : 0.0);
    if (ws.busy_us > 0 && ws.cpu_us > 0)
        fmt::print("{:<34} {:>12.0f} {:>14.0f}   (writer thread inside transactions only: its own ceiling)\n",
                   "vigy store writer, in-transaction", static_cast<double>(ws.committed) * 1e6 / static_cast<double>(ws.busy_us),
                   static_cast<double>(ws.committed) * 1e6 / static_cast<double>(ws.cpu_us));
    if (cfg.dir.empty()) fs::remove_all(dir);
    return 0;
}
