// tests/store/common.hpp — temp databases, commit builders and condition waits for the
// store tests.
#pragma once

#include <vigy/store/store.hpp>

#include <libpq-fe.h>
#include <sqlite3.h>

#include <unistd.h>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace vigy_store_test {

/// The PostgreSQL server of this run (tests/support/with-postgres.sh), "" for SQLite.
inline std::string pg_admin_url() {
    const char* u = std::getenv("VIGY_TEST_PG_URL");
    return u != nullptr ? u : "";
}
inline bool on_postgres() { return !pg_admin_url().empty(); }

/// Runs one statement on the admin database; throws with the server's message.
inline void pg_admin(const std::string& sql) {
    PGconn* c = PQconnectdb(pg_admin_url().c_str());
    std::string err;
    if (PQstatus(c) != CONNECTION_OK) {
        err = PQerrorMessage(c);
    } else {
        PGresult* r = PQexec(c, sql.c_str());
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) err = PQerrorMessage(c);
        PQclear(r);
    }
    PQfinish(c);
    if (!err.empty()) throw std::runtime_error("postgres: " + err + " in " + sql);
}

/// The URL of database `name` on the admin URL's server.
inline std::string pg_url_of(const std::string& name) {
    const std::string admin = pg_admin_url();
    const auto q = admin.find('?');
    const std::string base = admin.substr(0, q);
    return base.substr(0, base.rfind('/') + 1) + name + (q == std::string::npos ? "" : admin.substr(q));
}

/// A fresh directory per test; removed at scope exit. Under PostgreSQL
/// (VIGY_TEST_PG_URL set) db(name) is a fresh database per name instead (CREATE
/// DATABASE vigy_t<pid>_<n>, dropped at scope exit), so the same tests run on both.
struct temp_dir {
    std::filesystem::path path;
    mutable std::map<std::string, std::string> pg_dbs;  // name -> database
    temp_dir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("vigy-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
        for (const auto& [name, database] : pg_dbs) {
            try {
                pg_admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            } catch (...) {
            }
        }
    }
    [[nodiscard]] std::string db(const std::string& name = "vigy.db") const {
        if (!on_postgres()) return (path / name).string();
        auto it = pg_dbs.find(name);
        if (it == pg_dbs.end()) {
            static int counter = 0;
            const std::string database = "vigy_t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
            pg_admin("CREATE DATABASE " + database);
            it = pg_dbs.emplace(name, database).first;
        }
        return pg_url_of(it->second);
    }
};

inline vigy::store::open_options opts(const std::string& path) {
    vigy::store::open_options o;
    o.path = path;
    return o;
}

inline vigy::store::vigy_spec spec(const std::string& name, const std::string& config = R"j({"program":"(noop)"})j") {
    vigy::store::vigy_spec s;
    s.name = name;
    s.kind = "lisp";
    s.config_json = config;
    return s;
}

/// A commit of an ok (or failed) run of `v` started now.
inline vigy::store::tick_commit commit_for(const vigy::store::vigy_record& v,
                                           vigy::store::run_result result = vigy::store::run_result::ok) {
    vigy::store::tick_commit c;
    c.vigy_key = v.key;
    c.run.vigy_id = v.id;
    c.run.started_ms = vigy::store::now_unix_ms();
    c.run.id = vigy::store::new_run_id(c.run.started_ms);
    c.run.revision = "0000000000000000";
    c.run.ended_ms = c.run.started_ms;
    c.run.result = result;
    c.run.actions_json = R"([{"kind":"noop","result":"ok"}])";
    c.run.log_json = R"([{"level":"info","message":"hello, vigy"}])";
    if (result == vigy::store::run_result::failed) c.run.error = "boom";
    return c;
}

/// The status code of what `f` throws (VIGY_OK when it does not throw).
template <class F>
vigy_status code_of(F&& f) {
    try {
        f();
    } catch (const vigy::status_error& e) {
        return e.code();
    }
    return VIGY_OK;
}

/// Polls `pred` until it holds or `timeout` passes (for states with no notification,
/// such as another connection's progress). Returns the last value of `pred`.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::mutex m;
    std::condition_variable cv;
    std::unique_lock lk(m);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return pred();
        cv.wait_for(lk, std::chrono::milliseconds(2));
    }
    return true;
}

/// The text of a file of tests/store/fixtures.
inline std::string fixture(const std::string& name) {
    std::ifstream in(std::string(VIGY_STORE_FIXTURES) + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Runs `sql` on database `db` (a file path or, under PostgreSQL, a URL from
/// temp_dir::db) from "another process"; true when it succeeded.
inline bool raw_exec(const std::string& db, const std::string& sql) {
    if (!on_postgres()) {
        sqlite3* h = nullptr;
        sqlite3_open(db.c_str(), &h);
        const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr);
        sqlite3_close(h);
        return rc == SQLITE_OK;
    }
    PGconn* c = PQconnectdb(db.c_str());
    bool ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult* r = PQexec(c, sql.c_str());
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
    }
    PQfinish(c);
    return ok;
}

/// A raw sqlite3 connection for poking at the file from "another process".
struct raw_db {
    sqlite3* db = nullptr;
    explicit raw_db(const std::string& path) { sqlite3_open(path.c_str(), &db); }
    ~raw_db() { sqlite3_close(db); }
    int exec(const std::string& sql) { return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr); }
    long long scalar(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        long long v = -1;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
    }
    std::string text(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        std::string v;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            const unsigned char* t = sqlite3_column_text(st, 0);
            if (t) v = reinterpret_cast<const char*>(t);
        }
        sqlite3_finalize(st);
        return v;
    }
};

}  // namespace vigy_store_test
