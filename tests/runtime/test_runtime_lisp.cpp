// tests/runtime/test_runtime_lisp.cpp — the runtime with the real plugins (the lisp
// reconciler and the standard extensions from the build tree's plugin directory, a
// build dependency of this test): a program ticks with its action and log line
// persisted, a parse error is a failed run naming line and column, a runaway program
// fails on its own limit while another vigy keeps ticking.
#include "support.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <catch2/catch.hpp>

#include <regex>

using namespace rt_test;
using vigy::host::manual_clock;

namespace {

vigy_spec lisp(const std::string& name, const std::string& program, int64_t interval_ms = 100) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("program");
    w.String(program.c_str(), static_cast<rapidjson::SizeType>(program.size()));
    w.Key("source_name");
    const std::string source = name + ".tatara";
    w.String(source.c_str(), static_cast<rapidjson::SizeType>(source.size()));
    w.EndObject();
    vigy_spec s;
    s.name = name;
    s.kind = "lisp";
    s.config_json = buf.GetString();
    s.interval_ms = interval_ms;
    return s;
}

/// A runtime over the built-in plugin directory (the lisp kind must be there).
std::unique_ptr<runtime> open_with_lisp(const fs::path& db, std::shared_ptr<manual_clock> clock = nullptr) {
    runtime_options o;
    o.keep_runs = 0;
    o.clock = clock;
    auto rt = runtime::open(db, o);
    const auto kinds = rt->kinds();
    REQUIRE(std::find(kinds.begin(), kinds.end(), "lisp") != kinds.end());
    return rt;
}

}  // namespace

TEST_CASE("a lisp program ticks with its action and log line persisted", "[runtime][lisp]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_with_lisp(db.path, clock);
    collector c(*rt);
    rt->register_or_update(lisp("hello", "(vigy-log \"info\" \"hello from vigy\")\n(vigy-noop)\n(vigy-incr \"n\")"));
    rt->start();
    REQUIRE(c.wait_for("hello", 1));
    for (int i = 1; i < 10; ++i) {
        clock->advance(100ms);
        REQUIRE(c.wait_for("hello", static_cast<size_t>(i) + 1));
    }
    rt->stop();
    const auto runs = rt->recent_runs("hello", 1000);
    REQUIRE(runs.size() == 10);
    for (const auto& r : runs) {
        INFO(r.error);
        CHECK(r.result == run_result::ok);
        CHECK(r.actions_json.find("noop") != std::string::npos);
        CHECK(r.log_json.find("hello from vigy") != std::string::npos);
    }
    CHECK(kv_count(*rt, "hello") == 0);  // the counter is "n"
    for (const auto& e : rt->kv("hello"))
        if (e.key == "n") CHECK(std::stoll(e.value_json) == 10);
}

TEST_CASE("a lisp parse error is a failed run naming line and column", "[runtime][lisp]") {
    temp_db db;
    auto rt = open_with_lisp(db.path);
    auto spec = lisp("broken", "(vigy-noop)\n(vigy-log \"info\" \"unclosed\"\n");
    auto problem = rt->check(spec);
    REQUIRE(problem);
    rt->register_or_update(spec);
    run r = rt->tick_now("broken");
    CHECK(r.result == run_result::failed);
    INFO(r.error);
    CHECK(std::regex_search(r.error, std::regex("[0-9]+:[0-9]+")));
    CHECK(r.error == *problem);
    CHECK(r.status != VIGY_OK);
}

TEST_CASE("a runaway lisp program fails on its own limit while another vigy keeps ticking", "[runtime][lisp]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_with_lisp(db.path, clock);
    collector c(*rt);
    auto fuel = lisp("spin-fuel", "(define (spin n) (spin (+ n 1)))\n(spin 0)");
    fuel.limits.fuel = 200000;
    auto wall = lisp("spin-wall", "(define (spin n) (spin (+ n 1)))\n(spin 0)");
    wall.limits.fuel = 1'000'000'000'000;
    wall.limits.wall_ms = 700;
    rt->start();  // registered while serving: each ticks at once
    rt->register_or_update(fuel);
    rt->register_or_update(wall);
    rt->register_or_update(lisp("steady", "(vigy-noop)"));
    REQUIRE(c.wait_for("steady", 1));
    // while spin-wall runs (for real, 700 ms) steady keeps its schedule
    for (int i = 1; i <= 5; ++i) {
        clock->advance(100ms);
        REQUIRE(c.wait_for("steady", static_cast<size_t>(i) + 1));
    }
    REQUIRE(c.wait_for("spin-wall", 1));
    REQUIRE(c.wait_for("spin-fuel", 1));
    rt->stop();
    const auto f = c.of("spin-fuel").at(0);
    CHECK(f.result == run_result::failed);
    CHECK(f.error.find("fuel exhausted") != std::string::npos);
    const auto w = c.of("spin-wall").at(0);
    CHECK(w.result == run_result::failed);
    CHECK(w.error.find("wall-clock") != std::string::npos);
    for (const auto& r : c.of("steady")) CHECK(r.result == run_result::ok);
}

TEST_CASE("a commit lent to one vigy's tick carries nothing of another vigy's earlier tick", "[runtime][lisp]") {
    // Busy slots borrow their commit from one pool and an idle slot holds none, so the
    // commit a quiet vigy fills was very likely filled by a busy one before.
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_with_lisp(db.path, clock);
    collector c(*rt);
    const std::string busy =
        "(define n (vigy-incr \"n\"))\n(vigy-set \"s\" (string-append \"x\" (string n)))\n(vigy-desired \"replicas\" "
        "3)\n(vigy-observed \"replicas\" n)\n(vigy-condition \"Ready\" 'true \"Counted\" \"counter moved\")\n"
        "(vigy-event \"Counted\" \"counter moved\")\n(vigy-trace \"n\" n)\n(vigy-metric \"n\" n)\n"
        "(vigy-log \"info\" \"busy\")\n(vigy-noop)\n(vigy-push n)\n";
    const int per_kind = 20, rounds = 5;
    for (int i = 0; i < per_kind; ++i) {
        rt->register_or_update(lisp("busy-" + std::to_string(i), busy));
        rt->register_or_update(lisp("quiet-" + std::to_string(i), "0\n"));
    }
    rt->start();
    for (int round = 1; round <= rounds; ++round) {
        clock->advance(100ms);  // the first ticks are spread over one interval
        for (int i = 0; i < per_kind; ++i) {
            REQUIRE(c.wait_for("busy-" + std::to_string(i), static_cast<size_t>(round)));
            REQUIRE(c.wait_for("quiet-" + std::to_string(i), static_cast<size_t>(round)));
        }
    }
    rt->stop();
    for (int i = 0; i < per_kind; ++i) {
        const std::string name = "quiet-" + std::to_string(i);
        INFO(name);
        const auto runs = rt->recent_runs(name, 1000);
        REQUIRE(runs.size() >= static_cast<size_t>(rounds));
        for (const auto& r : runs) {
            CHECK(r.result == run_result::ok);
            CHECK(r.vigy_name == name);
            CHECK(r.output == "0");  // the value of its last form
            CHECK(r.actions_json == "[]");
            CHECK(r.desired_json == "{}");
            CHECK(r.observed_json == "{}");
            CHECK(r.conditions_json == "[]");
            CHECK(r.events_json == "[]");
            CHECK(r.log_json == "[]");
            CHECK(r.trace_json == "{}");
            CHECK(r.metrics_json == "{}");
            CHECK(r.kv_writes_json == "{}");
            CHECK(r.kv_deletes_json == "[]");
        }
        CHECK(rt->kv(name).empty());
        CHECK(rt->conditions(name).empty());
        CHECK(rt->events(name).empty());
        const auto busy_runs = rt->recent_runs("busy-" + std::to_string(i), 1000);
        REQUIRE(busy_runs.size() >= static_cast<size_t>(rounds));
        CHECK(busy_runs.front().events_json.find("Counted") != std::string::npos);  // the busy ones did fill theirs
    }
}
