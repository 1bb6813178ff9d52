// tests/store/common.hpp — temp databases, commit builders and condition waits for the
// store tests.
#pragma once

#include <vigy/store/store.hpp>

#include <sqlite3.h>

#include <unistd.h>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <sstream>
#include <string>

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
