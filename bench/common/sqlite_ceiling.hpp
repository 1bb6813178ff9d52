// bench/common/sqlite_ceiling.hpp — the plain-SQLite ceiling both benchmarks compare the
// store against: the same compact schema 3 run rows (and, optionally, kv upserts) the
// writer inserts, from C through prepared statements, with the writer's PRAGMAs
// (WAL, synchronous=NORMAL, cache_size 64 MiB) and batched transactions. Header-only.
#pragma once

#include <vigy/store/store.hpp>

#include <sqlite3.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace vigy_bench {

/// The body a hello tick stores: one noop action, one log line.
inline constexpr const char* hello_body =
    R"({"actions":[{"kind":"noop","result":"ok"}],"log":[{"level":"info","message":"hello from tick 12345 at 1796169789956 ms"}]})";

inline double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

inline void check(int rc, sqlite3* db, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        std::fprintf(stderr, "sqlite error in %s: %s\n", what, sqlite3_errmsg(db));
        std::exit(1);
    }
}

struct ceiling_result {
    double rows_per_s = 0;      ///< wall clock
    double cpu_us_per_row = 0;  ///< CPU of the inserting thread: load-independent
};

/// Registers `vigies` vigies in a fresh store at `path` and returns their keys.
inline std::vector<std::int64_t> make_vigies(const std::string& path, long vigies) {
    vigy::store::open_options o;
    o.path = path;
    o.start_writer = false;
    vigy::store::store s(o);
    std::vector<std::int64_t> keys;
    for (long i = 0; i < vigies; ++i) {
        vigy::store::vigy_spec spec;
        spec.name = "hello-" + std::to_string(i);
        spec.kind = "noop";
        keys.push_back(s.register_or_update(spec).vigy.key);
    }
    return keys;
}

/// Inserts `rows` compact run rows (+ `kv` upserts each) round-robin over `keys`,
/// `batch` rows per BEGIN IMMEDIATE ... COMMIT.
inline ceiling_result plain_sqlite(const std::string& path, const std::vector<std::int64_t>& keys, long rows,
                                   long batch, long kv = 0) {
    sqlite3* db = nullptr;
    check(sqlite3_open(path.c_str(), &db), db, "open");
    const std::string pragmas =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; "
        "PRAGMA cache_size=-" +
        std::to_string(vigy::store::writer_options{}.cache_kib);
    check(sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr), db, "pragmas");
    sqlite3_stmt* ins = nullptr;
    check(sqlite3_prepare_v3(
              db,
              "INSERT INTO runs(vid, run_id, revision, started_ms, ended_ms, duration_us, lateness_us, "
              "result, run_trigger, tick_count, status, error, body) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, "
              "0, NULL, ?)",
              -1, SQLITE_PREPARE_PERSISTENT, &ins, nullptr),
          db, "prepare runs");
    sqlite3_stmt* kvs = nullptr;
    check(
        sqlite3_prepare_v3(db,
                           "INSERT INTO kv(vid, key, value_json, updated_ms) VALUES (?, ?, ?, ?) ON CONFLICT(vid, key) "
                           "DO UPDATE SET value_json = excluded.value_json, updated_ms = excluded.updated_ms",
                           -1, SQLITE_PREPARE_PERSISTENT, &kvs, nullptr),
        db, "prepare kv");
    std::string id;
    std::array<unsigned char, 16> blob{};
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    for (long i = 0; i < rows; ++i) {
        if (i % batch == 0) check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
        const std::int64_t vid = keys[static_cast<std::size_t>(i) % keys.size()];
        const std::int64_t now = vigy::store::now_unix_ms();
        vigy::store::new_run_id(now, id);  // the same id generation the runtime does
        for (std::size_t b = 0, o = 0; b < 16; ++o) {
            if (id[o] == '-') continue;
            auto h = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
            blob[b++] = static_cast<unsigned char>(h(id[o]) << 4 | h(id[o + 1]));
            ++o;
        }
        sqlite3_bind_int64(ins, 1, vid);
        sqlite3_bind_blob(ins, 2, blob.data(), 16, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, 0x1d88b22f022502e6LL);
        sqlite3_bind_int64(ins, 4, now);
        sqlite3_bind_int64(ins, 5, now);
        sqlite3_bind_int64(ins, 6, 30);
        sqlite3_bind_int64(ins, 7, 120);
        sqlite3_bind_int64(ins, 8, i + 1);
        sqlite3_bind_text(ins, 9, hello_body, -1, SQLITE_STATIC);
        check(sqlite3_step(ins), db, "insert run");
        sqlite3_reset(ins);
        for (long k = 0; k < kv; ++k) {
            const std::string key = "k" + std::to_string(k), val = std::to_string(i);
            sqlite3_bind_int64(kvs, 1, vid);
            sqlite3_bind_text(kvs, 2, key.c_str(), static_cast<int>(key.size()), SQLITE_STATIC);
            sqlite3_bind_text(kvs, 3, val.c_str(), static_cast<int>(val.size()), SQLITE_STATIC);
            sqlite3_bind_int64(kvs, 4, now);
            check(sqlite3_step(kvs), db, "upsert kv");
            sqlite3_reset(kvs);
        }
        if (i % batch == batch - 1 || i == rows - 1)
            check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = thread_cpu_seconds() - c0;
    sqlite3_finalize(ins);
    sqlite3_finalize(kvs);
    sqlite3_close(db);
    return {static_cast<double>(rows) / secs, cpu * 1e6 / static_cast<double>(rows)};
}

}  // namespace vigy_bench
