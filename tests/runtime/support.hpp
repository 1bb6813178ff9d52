// tests/runtime/support.hpp — what the runtime tests share: temp databases, runtimes
// over the fixture plugin and a manual clock, a run collector that waits on conditions.
#ifndef VIGY_TESTS_RUNTIME_SUPPORT_HPP
#define VIGY_TESTS_RUNTIME_SUPPORT_HPP

#include "fixture_plugin.hpp"

#include "vigy/host/runtime.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace rt_test {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using vigy::host::run;
using vigy::host::run_result;
using vigy::host::run_trigger;
using vigy::host::runtime;
using vigy::host::runtime_options;
using vigy::host::vigy_spec;

/// A fresh database path in its own temp directory, removed at scope exit.
struct temp_db {
    fs::path dir;
    fs::path path;
    temp_db() {
        std::random_device rd;
        dir = fs::temp_directory_path() /
              ("vigy-runtime-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        fs::create_directories(dir);
        path = dir / "vigy.db";
    }
    ~temp_db() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

/// Fixture plugin only; every run kept; `clock` when given (the fixture's sleep_ms moves it).
inline runtime_options fixture_options(std::shared_ptr<vigy::host::manual_clock> clock = nullptr) {
    runtime_options o;
    o.default_plugin_dirs = false;
    o.keep_runs = 0;  // keep every run: the tests count them against kv
    o.static_plugins.push_back({"fixture", &fx::entry});
    if (clock) {
        o.clock = clock;
        fx::use_clock(clock);
    }
    return o;
}

inline std::unique_ptr<runtime> open_rt(const fs::path& db, runtime_options o = fixture_options()) {
    return runtime::open(db, std::move(o));
}

inline vigy_spec fx_spec(const std::string& name, int64_t interval_ms, const std::string& config = "{}") {
    vigy_spec s;
    s.name = name;
    s.kind = "fx";
    s.config_json = config;
    s.interval_ms = interval_ms;
    return s;
}

/// Collects every run the runtime publishes.
struct collector {
    std::mutex m;
    std::condition_variable cv;
    std::vector<run> runs;
    vigy::host::subscription sub;

    explicit collector(runtime& rt) {
        sub = rt.subscribe([this](const run& r) {
            std::lock_guard lk(m);
            runs.push_back(r);
            cv.notify_all();
        });
    }
    std::vector<run> of(const std::string& name) {
        std::lock_guard lk(m);
        std::vector<run> out;
        for (const auto& r : runs)
            if (r.vigy_name == name) out.push_back(r);
        return out;
    }
    std::size_t count(const std::string& name) { return of(name).size(); }
    /// Waits until `name` has at least n runs (false after `timeout`).
    bool wait_for(const std::string& name, size_t n, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lk(m);
        return cv.wait_for(lk, timeout, [&] {
            return static_cast<size_t>(
                       std::count_if(runs.begin(), runs.end(), [&](const run& r) { return r.vigy_name == name; })) >= n;
        });
    }
};

inline int64_t kv_count(runtime& rt, const std::string& name) {
    for (const auto& e : rt.kv(name))
        if (e.key == "count") return std::stoll(e.value_json);
    return 0;
}

inline size_t ok_runs(runtime& rt, const std::string& name) {
    size_t n = 0;
    for (const auto& r : rt.recent_runs(name, 1'000'000))
        if (r.result == run_result::ok) ++n;
    return n;
}

/// The code of what `f` throws (VIGY_OK when it does not) and its message.
template <class F>
std::pair<vigy_status, std::string> code_of(F&& f) {
    try {
        f();
    } catch (const vigy::status_error& e) {
        return {e.code(), e.what()};
    }
    return {VIGY_OK, "no error"};
}

/// Polls `pred` until it holds or `timeout` passes (for state with no notification,
/// such as another process's progress in the database). Returns the last value.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
    std::mutex m;
    std::condition_variable cv;
    std::unique_lock lk(m);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return pred();
        cv.wait_for(lk, 5ms);
    }
    return true;
}

}  // namespace rt_test

#endif
