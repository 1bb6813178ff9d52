// bench/runtime/bench_runtime.cpp — the runtime under load: N vigies running the hello
// program every 100 ms for S seconds, then plain SQLite inserting the same run rows (+2 kv
// upserts each) in batched transactions, in the same process, as the ceiling.
//
//   vigy_runtime_bench [--vigies 100,1000,10000] [--seconds 30] [--interval 100]
//                      [--kind lisp|noop] [--threads 2] [--tick-threads 0] [--dir DIR]
//
// Prints one table row per N: requested and achieved ticks/s, lateness p50/p99 (timer due
// -> tick start), CPU (cores busy) and RSS, runs persisted/s, the plain-SQLite rows/s and
// our fraction of it. The machine may be shared: CPU is the stable number.
#include "vigy/host/runtime.hpp"
#include "vigy/store/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// VmRSS / VmHWM from /proc/self/status, in MiB.
double proc_mib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field, 0) == 0) return std::strtod(line.c_str() + std::strlen(field) + 1, nullptr) / 1024.0;
    return 0;
}

/// CPU seconds per thread name (utime + stime from /proc/self/task/*/stat).
std::map<std::string, double> cpu_by_thread() {
    std::map<std::string, double> out;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    for (const auto& e : fs::directory_iterator("/proc/self/task")) {
        std::ifstream in(e.path() / "stat");
        std::string line;
        std::getline(in, line);
        const auto l = line.find('('), r = line.rfind(')');
        if (l == std::string::npos || r == std::string::npos) continue;
        const std::string name = line.substr(l + 1, r - l - 1);
        std::istringstream rest(line.substr(r + 2));
        std::string f;
        std::vector<std::string> fields;
        while (rest >> f) fields.push_back(f);
        if (fields.size() < 13) continue;
        out[name] += (std::stod(fields[11]) + std::stod(fields[12])) / tick;  // utime, stime
    }
    return out;
}

const char* const hello_program = "(vigy-log \"info\" \"hello, vigy\")\n(vigy-noop)";

void check(int rc, sqlite3* db, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        std::fprintf(stderr, "sqlite error in %s: %s\n", what, sqlite3_errmsg(db));
        std::exit(1);
    }
}

double thread_cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct plain_result {
    double rows_per_s = 0;
    double cpu_us_per_row = 0;  ///< CPU of the inserting thread: load-independent
};

/// Plain SQLite ceiling: `rows` run rows + 2 kv upserts each, BEGIN IMMEDIATE per `batch`.
plain_result plain_sqlite_rows_per_s(const fs::path& path, long vigies, long rows, long batch) {
    std::vector<std::string> ids;
    {
        vigy::store::open_options o;
        o.path = path.string();
        o.start_writer = false;
        vigy::store::store s(o);  // the same schema
        for (long i = 0; i < vigies; ++i) {
            vigy::store::vigy_spec spec;
            spec.name = "hello-" + std::to_string(i);
            spec.kind = "lisp";
            spec.interval_ms = 100;
            ids.push_back(s.register_or_update(spec).vigy.id);
        }
    }
    sqlite3* db = nullptr;
    check(sqlite3_open(path.c_str(), &db), db, "open");
    // The same PRAGMAs as the store's writer session (cache_size: writer_options::cache_kib, 64 MiB), so the
    // ceiling and the writer are compared on equal terms.
    const std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; "
                                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-" +
                                std::to_string(vigy::store::writer_options{}.cache_kib);
    check(sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr), db, "pragmas");
    sqlite3_stmt* ins = nullptr;
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO runs(id, vigy_id, revision, started_at, ended_at, result, error, duration_ms, "
                             "actions_json, desired_json, observed_json, conditions_json, log_json, trace_json, "
                             "metrics_json, events_json, output_json) VALUES (?,?,?,?,?,'ok','',0,?,'{}','{}','[]',?,"
                             "'{}','{}','[]','null')",
                             -1, &ins, nullptr),
          db, "prepare runs");
    sqlite3_stmt* kv = nullptr;
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO kv(vigy_id, key, value_json, updated_at) VALUES (?,?,?,?) ON CONFLICT(vigy_id, "
                             "key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at",
                             -1, &kv, nullptr),
          db, "prepare kv");
    const char* actions = R"([{"kind":"noop","result":"ok"}])";
    const char* log = R"([{"level":"info","message":"hello, vigy"}])";
    const auto t0 = clock_type::now();
    const double c0 = thread_cpu_now();
    for (long i = 0; i < rows; ++i) {
        if (i % batch == 0) check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
        const std::string& vid = ids[static_cast<size_t>(i) % ids.size()];
        const std::string id = vigy::store::new_run_id();
        const std::string ts = vigy::store::now_timestamp();
        sqlite3_bind_text(ins, 1, id.c_str(), static_cast<int>(id.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, vid.c_str(), static_cast<int>(vid.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, "0000000000000000", 16, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, ts.c_str(), static_cast<int>(ts.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, ts.c_str(), static_cast<int>(ts.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, actions, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 7, log, -1, SQLITE_STATIC);
        check(sqlite3_step(ins), db, "insert run");
        sqlite3_reset(ins);
        for (const char* key : {"__sys::tick_count", "__sys::prev_tick_ms"}) {
            const std::string val = std::to_string(i);
            sqlite3_bind_text(kv, 1, vid.c_str(), static_cast<int>(vid.size()), SQLITE_STATIC);
            sqlite3_bind_text(kv, 2, key, -1, SQLITE_STATIC);
            sqlite3_bind_text(kv, 3, val.c_str(), static_cast<int>(val.size()), SQLITE_STATIC);
            sqlite3_bind_text(kv, 4, ts.c_str(), static_cast<int>(ts.size()), SQLITE_STATIC);
            check(sqlite3_step(kv), db, "upsert kv");
            sqlite3_reset(kv);
        }
        if (i % batch == batch - 1 || i == rows - 1)
            check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
    }
    const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    const double cpu = thread_cpu_now() - c0;
    sqlite3_finalize(ins);
    sqlite3_finalize(kv);
    sqlite3_close(db);
    return {static_cast<double>(rows) / secs, cpu * 1e6 / static_cast<double>(rows)};
}

struct options {
    std::vector<long> vigies{100, 1000, 10000};
    int seconds = 30;
    int64_t interval_ms = 100;
    std::string kind = "lisp";
    unsigned threads = 2;
    unsigned tick_threads = 0;
    fs::path dir;
};

int usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--vigies 100,1000,10000] [--seconds 30] [--interval 100] [--kind lisp|noop] "
                 "[--threads 2] [--tick-threads 0] [--dir DIR]\n",
                 argv0);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return usage(argv[0]);
        const std::string v = argv[++i];
        if (a == "--vigies") {
            opt.vigies.clear();
            std::stringstream ss(v);
            std::string item;
            while (std::getline(ss, item, ',')) opt.vigies.push_back(std::stol(item));
        } else if (a == "--seconds") {
            opt.seconds = std::stoi(v);
        } else if (a == "--interval") {
            opt.interval_ms = std::stoll(v);
        } else if (a == "--kind") {
            opt.kind = v;
        } else if (a == "--threads") {
            opt.threads = static_cast<unsigned>(std::stoul(v));
        } else if (a == "--tick-threads") {
            opt.tick_threads = static_cast<unsigned>(std::stoul(v));
        } else if (a == "--dir") {
            opt.dir = v;
        } else {
            return usage(argv[0]);
        }
    }
    if (opt.dir.empty()) opt.dir = fs::temp_directory_path() / ("vigy-runtime-bench-" + std::to_string(::getpid()));
    fs::create_directories(opt.dir);

    std::printf("| N | kind | requested ticks/s | achieved ticks/s | lateness p50 / p99 ms | CPU cores | RSS MiB | "
                "runs persisted/s | skipped slots | commits/s | plain SQLite rows/s | fraction | CPU us/tick (all) | "
                "writer CPU us/run | plain CPU us/row | fraction by CPU |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (long n : opt.vigies) {
        const fs::path db = opt.dir / ("runtime-" + std::to_string(n) + ".db");
        fs::remove(db);
        vigy::RuntimeOptions ro;
        ro.threads = opt.threads;
        ro.tick_threads = opt.tick_threads;
        auto rt = vigy::Runtime::open(db, ro);
        std::string kind = opt.kind;
        const auto kinds = rt->kinds();
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
            std::fprintf(stderr, "kind %s not loaded; using noop\n", kind.c_str());
            kind = "noop";
        }
        vigy::host::vigy_spec spec;
        spec.kind = kind;
        spec.interval_ms = opt.interval_ms;
        if (kind == "lisp") {
            std::string json = "{\"program\":\"";
            for (const char* p = hello_program; *p; ++p) {
                if (*p == '"' || *p == '\\') json += '\\';
                if (*p == '\n') {
                    json += "\\n";
                    continue;
                }
                json += *p;
            }
            spec.config_json = json + "\"}";
        }
        const auto r0 = clock_type::now();
        for (long i = 0; i < n; ++i) {
            spec.name = "hello-" + std::to_string(i);
            rt->register_or_update(spec);
        }
        const double reg_s = std::chrono::duration<double>(clock_type::now() - r0).count();
        std::fprintf(stderr, "N=%ld: registered in %.1f s; serving %d s...\n", n, reg_s, opt.seconds);

        const double c0 = cpu_now();
        const auto t0 = clock_type::now();
        const auto threads0 = cpu_by_thread();
        rt->start();
        std::this_thread::sleep_for(std::chrono::seconds(opt.seconds));
        const auto mid = rt->stats();  // before stop: lateness window of the steady state
        const double cpu_mid = cpu_now() - c0;
        double writer_cpu = 0;
        {
            std::string per;
            for (const auto& [name, secs] : cpu_by_thread()) {
                auto it = threads0.find(name);
                const double d = secs - (it == threads0.end() ? 0.0 : it->second);
                if (name == "vigy-writer") writer_cpu = d;
                char buf[96];
                std::snprintf(buf, sizeof buf, " %s=%.2f", name.c_str(), d / opt.seconds);
                per += buf;
            }
            std::fprintf(stderr, "  cores busy per thread name:%s\n", per.c_str());
        }
        const double rss = proc_mib("VmRSS:");
        rt->stop();
        const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
        const double cpu = cpu_now() - c0;
        const auto st = rt->stats();
        const double requested = static_cast<double>(n) * 1000.0 / static_cast<double>(opt.interval_ms);
        const double achieved = static_cast<double>(st.ticks_ok + st.ticks_failed) / secs;
        const double persisted = static_cast<double>(st.runs_committed) / secs;
        if (st.ticks_failed) std::fprintf(stderr, "  %llu failed ticks\n", static_cast<unsigned long long>(st.ticks_failed));
        rt.reset();

        const fs::path plain = opt.dir / ("plain-" + std::to_string(n) + ".db");
        fs::remove(plain);
        const long rows = std::max<long>(100000, static_cast<long>(std::min<double>(st.runs_committed, 1e6)));
        const plain_result pr = plain_sqlite_rows_per_s(plain, n, rows, 1000);
        const double ceiling = pr.rows_per_s;
        const double runs_mid = static_cast<double>(std::max<uint64_t>(1, mid.runs_committed));
        const double all_us = cpu_mid * 1e6 / runs_mid;
        const double writer_us = writer_cpu * 1e6 / runs_mid;
        std::printf("| %ld | %s | %.0f | %.0f | %.2f / %.2f | %.2f | %.0f | %.0f | %llu | %.1f | %.0f | %.2f | %.1f | "
                    "%.1f | %.1f | %.2f |\n",
                    n, kind.c_str(), requested, achieved, mid.lateness_p50_ms, mid.lateness_p99_ms, cpu / secs, rss,
                    persisted, static_cast<unsigned long long>(st.skipped_slots),
                    static_cast<double>(st.commits) / secs, ceiling, persisted / ceiling, all_us, writer_us,
                    pr.cpu_us_per_row, pr.cpu_us_per_row / writer_us);
        std::fflush(stdout);
        std::error_code ec;
        fs::remove(db, ec);
        fs::remove(plain, ec);
    }
    std::error_code ec;
    fs::remove_all(opt.dir, ec);
    return 0;
}
