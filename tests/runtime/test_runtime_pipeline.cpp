// tests/runtime/test_runtime_pipeline.cpp — host/src/runtime_pipeline.cpp: what one tick
// produces and commits: kv carried across ticks and runtimes (the tick clock from the
// runs, no bookkeeping kv), runs read back whole, build errors as failed runs, a
// plugin's status code kept in the run, output kept with failed runs, invalid UTF-8
// refused at the slots, grants handed to the tick, evaluate in memory.
#include "support.hpp"

#include "vigy/host/tick_context.hpp"
#include "vigy/store/store.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

using namespace rt_test;
using vigy::host::manual_clock;

namespace {
bool valid_json(const std::string& s) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(s.c_str(), s.size());
    return !d.HasParseError();
}
}  // namespace

TEST_CASE("kv is carried across ticks and across reopening with no bookkeeping keys", "[runtime][pipeline]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    {
        auto rt = open_rt(db.path, fixture_options(clock));
        rt->register_or_update(fx_spec("keep", 1000));
        for (int i = 1; i <= 3; ++i) {
            run r = rt->tick_now("keep");  // nobody serves: ticks here under a short lease
            CHECK(r.result == run_result::ok);
            CHECK(r.tick_count == i);
            CHECK(r.output == std::to_string(i));
            CHECK(r.trigger == run_trigger::forced);
        }
        CHECK(kv_count(*rt, "keep") == 3);
    }
    auto rt = open_rt(db.path, fixture_options(clock));
    collector c(*rt);
    rt->start();
    REQUIRE(c.wait_for("keep", 1));
    clock->advance(1000ms);
    REQUIRE(c.wait_for("keep", 2));
    rt->stop();
    const auto runs = c.of("keep");
    CHECK(runs[0].tick_count == 4);  // recovered from the runs
    CHECK(runs[0].output == "4");
    CHECK(runs[1].tick_count == 5);
    const auto kv = rt->kv("keep");
    REQUIRE(kv.size() == 1);  // no __sys:: keys: the tick clock lives in the runs
    CHECK(kv[0].key == "count");
    CHECK(kv_count(*rt, "keep") == static_cast<int64_t>(ok_runs(*rt, "keep")));
}

TEST_CASE("runs read back carry trigger tick_count duration kv changes and conditions", "[runtime][pipeline]") {
    temp_db db;
    auto rt = open_rt(db.path);
    rt->register_or_update(fx_spec("fidelity", 1000));
    const run live = rt->tick_now("fidelity");
    REQUIRE(live.result == run_result::ok);
    rt->tick_now("fidelity");
    const auto back = rt->recent_runs("fidelity");
    REQUIRE(back.size() == 2);
    const run& r = back[1];  // newest first
    CHECK(r.id == live.id);
    CHECK(r.seq == live.seq);
    CHECK(r.trigger == run_trigger::forced);
    CHECK(r.tick_count == 1);
    CHECK(back[0].tick_count == 2);
    CHECK(r.duration_us == live.duration_us);  // µs
    CHECK(r.kv_writes_json == live.kv_writes_json);
    CHECK(r.kv_writes_json == R"({"count":1})");
    CHECK(r.kv_deletes_json == "[]");
    CHECK(r.actions_json == R"([{"kind":"noop"}])");
    CHECK(r.log_json == R"([{"level":"info","message":"tick 1"}])");
    CHECK(r.conditions_json.find(R"("type":"Ready","status":"True","reason":"Counted")") != std::string::npos);
    CHECK(r.vigy_name == "fidelity");
    const auto conds = rt->conditions("fidelity");
    REQUIRE(conds.size() == 1);
    CHECK(conds[0].type == "Ready");
    CHECK(conds[0].status == "True");
    CHECK(conds[0].run_seq == back[0].seq);
    for (const auto& e : rt->kv("fidelity")) CHECK(e.updated_ms == back[0].ended_ms);
    CHECK(rt->find_run(live.id)->seq == live.seq);
}

TEST_CASE("a program that does not build is a failed run with its code and the runtime carries on",
          "[runtime][pipeline]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_rt(db.path, fixture_options(clock));
    collector c(*rt);
    rt->start();
    auto spec = fx_spec("broken", 100, R"({"build_error": "parse error at 3:7: unbalanced parenthesis"})");
    CHECK(rt->check(spec) == std::optional<std::string>("parse error at 3:7: unbalanced parenthesis"));
    rt->register_or_update(spec);  // registering does not reject it
    rt->register_or_update(fx_spec("healthy", 100));
    REQUIRE(c.wait_for("broken", 1));
    for (int i = 1; i < 5; ++i) {
        clock->advance(100ms);
        REQUIRE(c.wait_for("healthy", static_cast<size_t>(i) + 1));
    }
    rt->stop();
    const auto broken = c.of("broken");
    REQUIRE(broken.size() == 1);  // then backing off (1 s)
    CHECK(broken[0].result == run_result::failed);
    CHECK(broken[0].status == VIGY_INVALID_ARGUMENT);
    CHECK(broken[0].error == "parse error at 3:7: unbalanced parenthesis");
    const auto stored = rt->recent_runs("broken");
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].error == "parse error at 3:7: unbalanced parenthesis");
    CHECK(stored[0].status == VIGY_INVALID_ARGUMENT);
    CHECK(rt->kv("broken").empty());
    for (const auto& r : c.of("healthy")) CHECK(r.result == run_result::ok);
}

TEST_CASE("a plugin's RESOURCE_EXHAUSTED reaches the run as resource-exhausted", "[runtime][pipeline]") {
    temp_db db;
    auto rt = open_rt(db.path);
    rt->register_or_update(fx_spec("hungry", 1000, R"({"fail": true, "fail_status": "resource-exhausted"})"));
    const run r = rt->tick_now("hungry");
    CHECK(r.result == run_result::failed);
    CHECK(r.status == VIGY_RESOURCE_EXHAUSTED);
    CHECK(std::string(vigy_status_name(r.status)) == "resource-exhausted");
    CHECK(rt->recent_runs("hungry").at(0).status == VIGY_RESOURCE_EXHAUSTED);
}

TEST_CASE("a failed run keeps what the program printed and its log but no effects", "[runtime][pipeline]") {
    temp_db db;
    auto rt = open_rt(db.path);
    rt->register_or_update(fx_spec("talker", 1000, R"({"fail": true, "print": "got this far"})"));
    const run r = rt->tick_now("talker");
    CHECK(r.result == run_result::failed);
    CHECK(r.output == "got this far");
    const auto back = rt->recent_runs("talker").at(0);
    CHECK(back.output == "got this far");
    CHECK(back.error == "fixture failure 1");
    CHECK(back.actions_json == "[]");
    CHECK(back.kv_writes_json == "{}");
    CHECK(rt->kv("talker").empty());
    const run e = rt->evaluate(fx_spec("talker", 1000, R"({"fail": true, "print": "in memory too"})"));
    CHECK(e.output == "in memory too");
    CHECK(e.result == run_result::failed);
}

TEST_CASE("strings that are not UTF-8 are refused at the slot and nothing invalid is stored", "[runtime][pipeline]") {
    temp_db db;
    auto rt = open_rt(db.path);
    rt->register_or_update(fx_spec("badlog", 1000, R"({"bad_utf8": "log"})"));
    rt->register_or_update(fx_spec("badkey", 1000, R"({"bad_utf8": "kv"})"));
    rt->register_or_update(fx_spec("badout", 1000, R"({"bad_utf8": "output"})"));
    const run log = rt->tick_now("badlog");
    CHECK(log.result == run_result::failed);
    CHECK(log.status == VIGY_INVALID_ARGUMENT);
    CHECK(log.error == "log message is not valid UTF-8 (at byte 4)");
    const run key = rt->tick_now("badkey");
    CHECK(key.result == run_result::failed);
    CHECK(key.error == "kv key is not valid UTF-8 (at byte 4)");
    const run out = rt->tick_now("badout");
    CHECK(out.result == run_result::failed);
    CHECK(out.status == VIGY_INVALID_ARGUMENT);
    CHECK(out.error == "the output is not valid UTF-8 (at byte 4)");
    CHECK(out.output.empty());
    CHECK(rt->kv("badkey").empty());
    for (const char* name : {"badlog", "badkey", "badout"})
        for (const auto& r : rt->recent_runs(name)) {
            for (const std::string* b :
                 {&r.actions_json, &r.log_json, &r.trace_json, &r.conditions_json, &r.kv_writes_json, &r.metrics_json})
                CHECK(valid_json(*b));
            CHECK(vigy::host::invalid_utf8_at(r.output) == std::string::npos);
            CHECK(vigy::host::invalid_utf8_at(r.error) == std::string::npos);
        }
}

TEST_CASE("a tick gets its vigy's grants and nullptr for the defaults", "[runtime][pipeline]") {
    temp_db db;
    auto rt = open_rt(db.path);
    auto plain = fx_spec("plain", 1000, R"({"echo_grants": true})");
    auto extra = fx_spec("extra", 1000, R"({"echo_grants": true})");
    extra.allow = {"io.pleme.mado"};
    rt->register_or_update(plain);
    const auto v = rt->register_or_update(extra);
    CHECK(v.allow == std::vector<std::string>{"io.pleme.mado"});
    CHECK(rt->tick_now("plain").output == "defaults");
    CHECK(rt->tick_now("extra").output == "io.pleme.mado");  // the grants beyond the defaults
    CHECK(rt->effective_grants(rt->get("plain")) == runtime::default_grants());
    CHECK(rt->evaluate(extra).output.find("io.pleme.mado") == 0);
}

TEST_CASE("evaluate runs ticks in memory with the kv and the tick clock carried and nothing persisted",
          "[runtime][pipeline]") {
    temp_db db;
    auto rt = open_rt(db.path);
    const run r = rt->evaluate(fx_spec("scratch", 1000));
    CHECK(r.result == run_result::ok);
    CHECK(r.seq == 0);
    CHECK(r.output == "1");
    CHECK(r.kv_writes_json == R"({"count":1})");
    CHECK(rt->list().empty());
    CHECK(rt->last_seq() == 0);
    vigy::host::evaluate_options o;
    o.ticks = 3;
    o.every_ms = 500;
    o.start_ms = 1000;
    o.kv_json = {{"count", "40"}};
    const auto ev = rt->evaluate(fx_spec("scratch", 1000), o);
    REQUIRE(ev.ticks.size() == 3);
    for (int i = 0; i < 3; ++i) {
        CHECK(ev.ticks[static_cast<size_t>(i)].result.started_ms == 1000 + 500 * i);
        CHECK(ev.ticks[static_cast<size_t>(i)].result.tick_count == i + 1);
        CHECK(ev.ticks[static_cast<size_t>(i)].result.output == std::to_string(41 + i));
    }
    CHECK(ev.ticks[0].previous_tick_ms == -1);
    CHECK(ev.ticks[2].previous_tick_ms == 1500);
    CHECK(ev.kv_json == R"({"count":43})");
    CHECK(ev.conditions_json.find("\"last_transition\":\"1970-01-01T00:00:01.000Z\"") != std::string::npos);
    const run bad = rt->evaluate(fx_spec("scratch", 1000, R"({"build_error": "parse error at 1:2: x"})"));
    CHECK(bad.result == run_result::failed);
    CHECK(bad.error == "parse error at 1:2: x");
    o.kv_json = {{"k", "{not json"}};
    CHECK(code_of([&] { rt->evaluate(fx_spec("scratch", 1000), o); }).first == VIGY_INVALID_ARGUMENT);
    o.kv_json.clear();
    o.ticks = 0;
    CHECK(code_of([&] { rt->evaluate(fx_spec("scratch", 1000), o); }).first == VIGY_INVALID_ARGUMENT);
}

TEST_CASE("evaluate writes the final kv of many keys in linear time", "[runtime][pipeline]") {
    vigy::host::registry reg;
    reg.add_static(fx::entry(VIGY_ABI_VERSION), "builtin:fixture");
    vigy::host::evaluate_options o;
    for (int i = 0; i < 100'000; ++i) o.kv_json["k" + std::to_string(i)] = std::to_string(i);
    const auto t0 = std::chrono::steady_clock::now();
    const auto ev = vigy::host::evaluate(reg, fx_spec("many", 1000), o);
    const auto took = std::chrono::steady_clock::now() - t0;
    INFO("100k kv keys took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    // Quadratic took minutes. Sanitizer builds (Debug, instrumented) run it ~10x slower.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    CHECK(took < 60s);
#else
    CHECK(took < 5s);
#endif
    CHECK(ev.ticks.at(0).result.result == run_result::ok);
    CHECK(ev.kv_json.find("\"k99999\":99999") != std::string::npos);
}
