// tests/runtime/test_runtime_lisp.cpp — the runtime with the real plugins (lisp
// reconciler + standard extensions from the build tree's plugin directory): hello
// program, parse errors with line:column, runaway programs failing on their own limits
// while another vigy keeps its schedule. Skipped (with a warning) when the lisp plugin
// was not built.
#include "vigy/host/runtime.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using vigy::host::run;
using vigy::host::run_result;
using vigy::host::runtime;
using vigy::host::vigy_spec;

namespace {

struct temp_dir {
    fs::path dir;
    temp_dir() {
        std::random_device rd;
        dir = fs::temp_directory_path() / ("vigy-runtime-lisp-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        fs::create_directories(dir);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out + "\"";
}

vigy_spec lisp(const std::string& name, const std::string& program, int64_t interval_ms = 100) {
    vigy_spec s;
    s.name = name;
    s.kind = "lisp";
    s.config_json = "{\"program\":" + json_string(program) + ",\"source_name\":\"" + name + ".tatara\"}";
    s.interval_ms = interval_ms;
    return s;
}

/// Opens a runtime with the built-in plugins; nullptr when the lisp kind is missing.
std::unique_ptr<runtime> open_with_lisp(const fs::path& db) {
    auto rt = runtime::open(db);
    const auto kinds = rt->kinds();
    if (std::find(kinds.begin(), kinds.end(), "lisp") == kinds.end()) return nullptr;
    return rt;
}

}  // namespace

TEST_CASE("hello program ticks with its action and log line persisted", "[runtime][lisp]") {
    temp_dir t;
    auto rt = open_with_lisp(t.dir / "vigy.db");
    if (!rt) {
        WARN("lisp plugin not built: skipped");
        return;
    }
    rt->register_or_update(lisp("hello", "(vigy-log :info \"hello from vigy\")\n(vigy-noop)\n(vigy-incr \"n\")"));
    rt->start();
    std::this_thread::sleep_for(1000ms);
    rt->stop();
    auto runs = rt->recent_runs("hello", 1000);
    REQUIRE(runs.size() >= 8);
    for (const auto& r : runs) {
        INFO(r.error);
        CHECK(r.result == run_result::ok);
        CHECK(r.actions_json.find("noop") != std::string::npos);
        CHECK(r.log_json.find("hello from vigy") != std::string::npos);
    }
    for (const auto& e : rt->kv("hello"))
        if (e.key == "n") CHECK(std::stoll(e.value_json) == static_cast<int64_t>(runs.size()));
}

TEST_CASE("a parse error is a failed run naming line and column", "[runtime][lisp]") {
    temp_dir t;
    auto rt = open_with_lisp(t.dir / "vigy.db");
    if (!rt) {
        WARN("lisp plugin not built: skipped");
        return;
    }
    auto spec = lisp("broken", "(vigy-noop)\n(vigy-log :info \"unclosed\"\n");
    auto problem = rt->check(spec);
    REQUIRE(problem);
    rt->register_or_update(spec);
    run r = rt->tick_now("broken");
    CHECK(r.result == run_result::failed);
    INFO(r.error);
    CHECK(std::regex_search(r.error, std::regex("[0-9]+:[0-9]+")));
    CHECK(r.error == *problem);
}

TEST_CASE("a runaway program fails on its own limit while another vigy keeps its schedule", "[runtime][lisp]") {
    temp_dir t;
    auto rt = open_with_lisp(t.dir / "vigy.db");
    if (!rt) {
        WARN("lisp plugin not built: skipped");
        return;
    }
    auto fuel = lisp("spin-fuel", "(define (spin n) (spin (+ n 1)))\n(spin 0)");
    fuel.limits.fuel = 200000;
    auto wall = lisp("spin-wall", "(define (spin n) (spin (+ n 1)))\n(spin 0)");
    wall.limits.fuel = 1'000'000'000'000;
    wall.limits.wall_ms = 700;
    rt->register_or_update(fuel);
    rt->register_or_update(wall);
    rt->register_or_update(lisp("steady", "(vigy-noop)"));
    std::mutex m;
    std::vector<run> steady_runs;
    auto sub = rt->subscribe([&](const run& r) {
        if (r.vigy_name != "steady") return;
        std::lock_guard lk(m);
        steady_runs.push_back(r);
    });
    rt->start();
    std::this_thread::sleep_for(2000ms);
    rt->stop();
    auto f = rt->recent_runs("spin-fuel");
    REQUIRE_FALSE(f.empty());
    CHECK(f.back().result == run_result::failed);
    CHECK(f.back().error.find("fuel exhausted") != std::string::npos);
    auto w = rt->recent_runs("spin-wall");
    REQUIRE_FALSE(w.empty());
    CHECK(w.back().result == run_result::failed);
    CHECK(w.back().error.find("wall-clock") != std::string::npos);
    std::lock_guard lk(m);
    CHECK(steady_runs.size() >= 18);  // 2 s at 100 ms, undisturbed
    for (size_t i = 1; i < steady_runs.size(); ++i)
        CHECK(steady_runs[i].started_ms - steady_runs[i - 1].started_ms <= 160);
}
