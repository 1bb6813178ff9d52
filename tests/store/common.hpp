// tests/store/common.hpp — temp databases and commit builders for the store tests.
#pragma once

#include <vigy/store/store.hpp>

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>

namespace vigy_store_test {

/// A fresh directory per test; removed at scope exit.
struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("vigy-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    [[nodiscard]] std::string db(const std::string& name = "vigy.db") const { return (path / name).string(); }
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

inline vigy::store::tick_commit commit_for(const std::string& vigy_id,
                                           vigy::store::run_result result = vigy::store::run_result::ok) {
    vigy::store::tick_commit c;
    c.run.id = vigy::store::new_run_id();
    c.run.vigy_id = vigy_id;
    c.run.revision = "0000000000000000";
    c.run.started_at = vigy::store::now_timestamp();
    c.run.ended_at = c.run.started_at;
    c.run.result = result;
    c.run.actions_json = R"([{"kind":"noop","result":"ok"}])";
    c.run.log_json = R"([{"level":"info","message":"hello, vigy"}])";
    if (result == vigy::store::run_result::failed) c.run.error = "boom";
    return c;
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
