// bench/store/bench_store.cpp — the store writer against its plain-SQLite ceiling
// (bench/common/sqlite_ceiling.hpp): the same compact run rows (+ K kv upserts each),
// same PRAGMAs, batched. Usage:
//   vigy_store_bench [--runs N] [--batch B] [--vigies V] [--kv K] [--dir D] [--only plain|writer]
//                    [--db postgresql://...]
// (--only runs one path, e.g. under `perf stat -e instructions:u`). CPU is the stable
// number on a shared machine: the writer's is its own thread's CPU inside transactions.
// --db runs the writer path alone against that database (an empty PostgreSQL database:
// the server's CPU is not in the writer's number).
#include "../common/sqlite_ceiling.hpp"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace st = vigy::store;

struct config {
    long runs = 200000;
    long batch = 1000;
    long vigies = 100;
    long kv = 0;
    std::string dir;
    std::string only;
    std::string db;  ///< --db: the writer against this database instead of a file in dir
};

/// The runtime's commit sink in miniature: counts completions.
struct counting_sink final : st::commit_sink {
    std::atomic<long> ok{0}, failed{0};
    void on_committed(std::span<st::tick_commit* const> commits, std::span<const st::commit_result> results) override {
        for (std::size_t i = 0; i < commits.size(); ++i) (results[i].ok ? ok : failed)++;
    }
};

/// Through the store writer: prebuilt commits (the runtime reuses one per vigy), submitted, flushed.
st::writer_stats bench_writer(const config& cfg, const std::string& path, const std::vector<std::int64_t>& keys) {
    st::open_options o;
    o.path = path;
    o.writer.background_prune = false;  // measure the write path only
    o.writer.max_batch = static_cast<std::size_t>(cfg.batch);
    o.writer.max_queued = static_cast<std::size_t>(cfg.runs) + 1;
    st::store s(o);
    std::vector<st::vigy_record> vigies;
    for (const auto& v : s.list_vigies()) vigies.push_back(v);
    std::vector<st::tick_commit> commits(static_cast<std::size_t>(cfg.runs));
    for (long i = 0; i < cfg.runs; ++i) {
        auto& c = commits[static_cast<std::size_t>(i)];
        const auto& v = vigies[static_cast<std::size_t>(i) % vigies.size()];
        c.vigy_key = v.key;
        c.run.vigy_id = v.id;
        c.run.revision = "1d88b22f022502e6";
        c.run.started_ms = c.run.ended_ms = st::now_unix_ms();
        c.run.duration_us = 30;
        c.run.lateness_us = 120;
        c.run.tick_count = i + 1;
        c.run.actions_json = R"([{"kind":"noop","result":"ok"}])";
        c.run.log_json = R"([{"level":"info","message":"hello from tick 12345 at 1796169789956 ms"}])";
        st::new_run_id(c.run.started_ms, c.run.id);
        for (long k = 0; k < cfg.kv; ++k) c.kv_upserts.emplace_back("k" + std::to_string(k), std::to_string(i));
    }
    (void)keys;
    counting_sink sink;
    for (auto& c : commits) s.writer().submit(&c, &sink);
    s.writer().flush();
    if (sink.failed != 0) fmt::print(stderr, "{} commits failed\n", sink.failed.load());
    return s.writer().stats();
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
        if (a == "--runs")
            cfg.runs = arg_long(i, argc, argv);
        else if (a == "--batch")
            cfg.batch = arg_long(i, argc, argv);
        else if (a == "--vigies")
            cfg.vigies = arg_long(i, argc, argv);
        else if (a == "--kv")
            cfg.kv = arg_long(i, argc, argv);
        else if (a == "--dir" && i + 1 < argc)
            cfg.dir = argv[++i];
        else if (a == "--only" && i + 1 < argc)
            cfg.only = argv[++i];
        else if (a == "--db" && i + 1 < argc)
            cfg.db = argv[++i];
        else {
            fmt::print(stderr,
                       "usage: {} [--runs N] [--batch B] [--vigies V] [--kv K] [--dir D] [--only plain|writer] "
                       "[--db URL]\n",
                       argv[0]);
            return 2;
        }
    }
    if (cfg.runs <= 0 || cfg.batch <= 0 || cfg.vigies <= 0 || cfg.kv < 0) {
        fmt::print(stderr, "all counts must be positive\n");
        return 2;
    }
    namespace fs = std::filesystem;
    const fs::path dir = cfg.dir.empty() ? fs::temp_directory_path() / fmt::format("vigy-store-bench-{}", ::getpid())
                                         : fs::path(cfg.dir);
    fs::create_directories(dir);
    const std::string plain_db = (dir / "plain.db").string();
    const std::string writer_db = cfg.db.empty() ? (dir / "writer.db").string() : cfg.db;
    if (!cfg.db.empty()) cfg.only = "writer";
    for (const auto& p : {plain_db, (dir / "writer.db").string()})
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p + suffix);

    vigy_bench::ceiling_result plain;
    if (cfg.only != "writer")
        plain = vigy_bench::plain_sqlite(plain_db, vigy_bench::make_vigies(plain_db, cfg.vigies), cfg.runs, cfg.batch,
                                         cfg.kv);
    st::writer_stats ws;
    if (cfg.only != "plain") ws = bench_writer(cfg, writer_db, vigy_bench::make_vigies(writer_db, cfg.vigies));

    fmt::print("runs={} vigies={} kv_per_run={} batch={}\n", cfg.runs, cfg.vigies, cfg.kv, cfg.batch);
    fmt::print("{:<38} {:>14} {:>14}\n", "path", "rows/s (wall)", "CPU us/row");
    if (cfg.only != "writer")
        fmt::print("{:<38} {:>14.0f} {:>14.2f}\n", "plain sqlite3 (compact rows, batched)", plain.rows_per_s,
                   plain.cpu_us_per_row);
    if (cfg.only != "plain" && ws.committed > 0)
        fmt::print(
            "{:<38} {:>14.0f} {:>14.2f}   ({} transactions; writer thread in transactions)\n", "vigy store writer",
            static_cast<double>(ws.committed) * 1e6 / static_cast<double>(std::max<std::uint64_t>(1, ws.busy_us)),
            static_cast<double>(ws.cpu_us) / static_cast<double>(ws.committed), ws.transactions);
    if (cfg.dir.empty()) fs::remove_all(dir);
    return 0;
}
