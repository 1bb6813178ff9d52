// test_extensions.cpp — every intrinsic of the six standard extension plugins,
// loaded from their .so files: result, effect on the tick context, argument
// errors, and the cross-tick behaviours (once, rate limit, kv carry-over).
#include "ext_harness.hpp"

#include <catch2/catch.hpp>

using namespace vigy::test;
using vigy::host::kv_map;
using vigy::host::tick_context;

namespace {
harness& h() {
    static harness instance = harness::standard();
    return instance;
}
value str(const char* s) { return value::string(s); }
value num(int64_t i) { return value::integer(i); }
}  // namespace

TEST_CASE("six plugins load with their ids packs and exactly the listed intrinsics", "[ext]") {
    CHECK(h().plugin_ids() == std::vector<std::string>{"vigy.actions", "vigy.state", "vigy.kv", "vigy.convergence",
                                                       "vigy.scheduling", "vigy.diagnostics"});
    CHECK(h().pack_names() ==
          std::vector<std::string>{"actions", "state", "kv", "convergence", "scheduling", "diagnostics"});
    for (const char* n : {"vigy-noop",          "vigy-defer",      "vigy-pull",          "vigy-push",
                          "vigy-create",        "vigy-update",     "vigy-delete-action", "vigy-apply",
                          "vigy-restart",       "vigy-emit",       "vigy-desired",       "vigy-observed",
                          "vigy-condition",     "vigy-get",        "vigy-set",           "vigy-incr",
                          "vigy-has?",          "vigy-del",        "vigy-once",          "vigy-mark-converged",
                          "vigy-converged?",    "vigy-tick",       "vigy-tick-count",    "vigy-since-last-tick",
                          "vigy-rate-limited?", "vigy-backoff-ms", "vigy-trigger",       "vigy-log",
                          "vigy-trace",         "vigy-metric",     "vigy-event"})
        CHECK(h().has(n));
    CHECK(h().intrinsic("vigy-condition").min_arity == 2);
    CHECK(h().intrinsic("vigy-condition").max_arity == 4);
    CHECK(h().intrinsic("vigy-noop").max_arity == 0);
    CHECK(h().intrinsic("vigy-incr").max_arity == 2);
}

// ---- actions -------------------------------------------------------------------------------

TEST_CASE("action verbs record typed actions per the reference constructors", "[ext][actions]") {
    tick_context t = make_tick();
    CHECK(h().call(t, "vigy-noop").result.is_nil());
    REQUIRE(h().call(t, "vigy-defer", {str("waiting")}).ok());
    value payload = value::map();
    payload.set("n", num(2));
    for (const char* verb :
         {"vigy-pull", "vigy-push", "vigy-create", "vigy-update", "vigy-delete-action", "vigy-apply", "vigy-restart"})
        REQUIRE(h().call(t, verb, {payload}).ok());
    REQUIRE(h().call(t, "vigy-pull").ok());  // payload absent
    REQUIRE(h().call(t, "vigy-emit", {str("custom"), num(1)}).ok());
    REQUIRE(h().call(t, "vigy-emit", {value::keyword("apply")}).ok());
    CHECK(
        t.actions_json() ==
        R"([{"kind":"noop","result":"ok"},{"kind":"defer","result":"skipped","message":"waiting"},)"
        R"({"kind":"pull","payload":{"n":2}},{"kind":"push","payload":{"n":2}},{"kind":"create","payload":{"n":2}},)"
        R"({"kind":"update","payload":{"n":2}},{"kind":"delete","payload":{"n":2}},{"kind":"apply","payload":{"n":2}},)"
        R"({"kind":"restart","payload":{"n":2}},{"kind":"pull"},{"kind":"custom","payload":1},{"kind":"apply"}])");
}

TEST_CASE("action verbs reject bad arguments naming the intrinsic and argument", "[ext][actions]") {
    tick_context t = make_tick();
    call_result r = h().call(t, "vigy-emit", {str("explode")});
    CHECK(r.status == VIGY_INVALID_ARGUMENT);
    CHECK(r.error ==
          "vigy-emit: argument 1 (kind) must be one of noop, defer, pull, push, create, update, delete, "
          "apply, restart, custom, got \"explode\"");
    r = h().call(t, "vigy-emit", {num(3)});
    CHECK(r.error == "vigy-emit: argument 1 (kind) must be a string, got int");
    r = h().call(t, "vigy-defer", {num(3)});
    CHECK(r.error == "vigy-defer: argument 1 (reason) must be a string, got int");
    CHECK(h().call(t, "vigy-noop", {num(1)}).error == "arity");
    CHECK(t.actions().empty());
}

// ---- state ---------------------------------------------------------------------------------

TEST_CASE("desired and observed record key -> value later writes win", "[ext][state]") {
    tick_context t = make_tick();
    REQUIRE(h().call(t, "vigy-desired", {str("count"), num(3)}).ok());
    REQUIRE(h().call(t, "vigy-desired", {str("count"), num(4)}).ok());
    REQUIRE(h().call(t, "vigy-observed", {value::keyword("count"), value::list({num(1)})}).ok());
    CHECK(t.desired_json() == R"({"count":4})");
    CHECK(t.observed_json() == R"({"count":[1]})");
    CHECK(h().call(t, "vigy-desired", {num(1), num(1)}).error ==
          "vigy-desired: argument 1 (key) must be a string, got int");
    CHECK(h().call(t, "vigy-observed", {str(""), num(1)}).error == "vigy-observed: argument 1 (key) must not be empty");
}

TEST_CASE("vigy-condition takes 2-4 args nil reason/message validates status", "[ext][state]") {
    tick_context t = make_tick();
    REQUIRE(h().call(t, "vigy-condition", {str("Ready"), str("true")}).ok());
    REQUIRE(h().call(t, "vigy-condition", {str("Healthy"), value::boolean(false), value(), value()}).ok());
    REQUIRE(h().call(t, "vigy-condition", {str("Synced"), value::keyword("unknown"), str("Waiting"), str("msg")}).ok());
    REQUIRE(h().call(t, "vigy-condition", {str("Active"), value::symbol("True"), value::symbol("RateLimited")}).ok());
    REQUIRE(t.conditions().size() == 4);
    CHECK(t.conditions()[0].status == "True");
    CHECK_FALSE(t.conditions()[0].reason.has_value());
    CHECK(t.conditions()[1].status == "False");
    CHECK_FALSE(t.conditions()[1].message.has_value());
    CHECK(t.conditions()[2].status == "Unknown");
    CHECK(t.conditions()[2].message == "msg");
    CHECK(t.conditions()[3].reason == "RateLimited");
    call_result r = h().call(t, "vigy-condition", {str("Ready"), str("maybe")});
    CHECK(r.status == VIGY_INVALID_ARGUMENT);
    CHECK(r.error == "vigy-condition: argument 2 (status) must be true, false or unknown, got \"maybe\"");
    CHECK(h().call(t, "vigy-condition", {str("Ready"), num(1)}).error ==
          "vigy-condition: argument 2 (status) must be \"true\", \"false\", \"unknown\" or a bool, got int");
    CHECK(h().call(t, "vigy-condition", {str("Ready"), str("true"), num(1)}).error ==
          "vigy-condition: argument 3 (reason) must be a string, got int");
    CHECK(h().call(t, "vigy-condition", {str("Ready"), str("true"), value(), num(1)}).error ==
          "vigy-condition: argument 4 (message) must be a string, got int");
    CHECK(h().call(t, "vigy-condition", {str("Ready")}).error == "arity");
    CHECK(h().call(t, "vigy-condition", {num(1), str("true")}).error ==
          "vigy-condition: argument 1 (type) must be a string, got int");
    CHECK(h().call(t, "vigy-condition", {str(""), str("true")}).error ==
          "vigy-condition: argument 1 (type) must not be empty");
}

// ---- kv ------------------------------------------------------------------------------------

TEST_CASE("vigy-get/set/has?/del over the tick kv", "[ext][kv]") {
    tick_context t = make_tick({{"pre", num(5)}});
    CHECK(h().call(t, "vigy-get", {str("pre")}).result == num(5));
    CHECK(h().call(t, "vigy-get", {str("missing")}).result.is_nil());
    CHECK(h().call(t, "vigy-get", {str("missing"), str("dflt")}).result == str("dflt"));
    value m = value::map();
    m.set("xs", value::list({num(1), value::real(1.5), value::keyword("k")}));
    REQUIRE(h().call(t, "vigy-set", {str("m"), m}).ok());
    CHECK(h().call(t, "vigy-get", {str("m")}).result == m);
    CHECK(h().call(t, "vigy-has?", {str("m")}).result == value::boolean(true));
    CHECK(h().call(t, "vigy-has?", {str("zz")}).result == value::boolean(false));
    CHECK(h().call(t, "vigy-del", {str("pre")}).result == value::boolean(true));
    CHECK(h().call(t, "vigy-del", {str("pre")}).result == value::boolean(false));
    CHECK(t.changes().upserts.at("m") == m);
    CHECK(t.changes().deleted.count("pre") == 1);
    for (const char* fn : {"vigy-get", "vigy-has?", "vigy-del"}) {
        call_result r = h().call(t, fn, {num(1)});
        CHECK(r.status == VIGY_INVALID_ARGUMENT);
        CHECK(r.error == std::string(fn) + ": argument 1 (key) must be a string, got int");
    }
    CHECK(h().call(t, "vigy-set", {value::list({}), num(1)}).error ==
          "vigy-set: argument 1 (key) must be a string, got list");
    CHECK(h().call(t, "vigy-set", {str("")}).error == "arity");
}

TEST_CASE("vigy-incr: default delta 1 absent counts 0 type errors", "[ext][kv]") {
    tick_context t = make_tick({{"s", str("text")}, {"big", num(INT64_MAX)}});
    CHECK(h().call(t, "vigy-incr", {str("n")}).result == num(1));
    CHECK(h().call(t, "vigy-incr", {str("n"), num(10)}).result == num(11));
    CHECK(h().call(t, "vigy-incr", {str("n"), num(-20)}).result == num(-9));
    CHECK(t.kv_get("n")->is_int());
    call_result r = h().call(t, "vigy-incr", {str("n"), value::real(1.5)});
    CHECK(r.status == VIGY_INVALID_ARGUMENT);
    CHECK(r.error == "vigy-incr: argument 2 (delta) must be an int, got double");
    r = h().call(t, "vigy-incr", {str("s")});
    CHECK(r.status == VIGY_FAILED_PRECONDITION);
    CHECK(r.error == "vigy-incr: value of key \"s\" is string, not an int");
    r = h().call(t, "vigy-incr", {str("big")});
    CHECK(r.status == VIGY_OUT_OF_RANGE);
    CHECK(r.error == "vigy-incr: integer overflow incrementing key \"big\"");
    CHECK(h().call(t, "vigy-incr", {num(1)}).error == "vigy-incr: argument 1 (key) must be a string, got int");
}

TEST_CASE("kv is carried across ticks with types preserved", "[ext][kv]") {
    value m = value::map();
    m.set("a", value::list({num(1), value::real(2.0), value::boolean(true), value()}));
    kv_map kv = run_ticks(3, [&](tick_context& t, int i) {
        REQUIRE(h().call(t, "vigy-incr", {str("counter")}).ok());
        if (i == 0) {
            REQUIRE(h().call(t, "vigy-set", {str("map"), m}).ok());
            REQUIRE(h().call(t, "vigy-set", {str("f"), value::real(3.0)}).ok());
        } else {
            CHECK(h().call(t, "vigy-get", {str("map")}).result == m);
            CHECK(h().call(t, "vigy-get", {str("f")}).result.is_double());
        }
    });
    CHECK(kv.at("counter") == num(3));
    CHECK(kv.at("__sys::tick_count") == num(3));
    CHECK(kv.at("map") == m);
    // through JSON (the store's form) too
    CHECK(value::from_json(kv.at("map").to_json()) == m);
}

// ---- convergence ----------------------------------------------------------------------------

TEST_CASE("vigy-once fires exactly once per key across ticks", "[ext][convergence]") {
    std::vector<bool> fired;
    kv_map kv = run_ticks(4, [&](tick_context& t, int) {
        fired.push_back(h().call(t, "vigy-once", {str("init")}).result == value::boolean(true));
        if (fired.size() == 2) CHECK(h().call(t, "vigy-once", {str("other")}).result == value::boolean(true));
    });
    CHECK(fired == std::vector<bool>{true, false, false, false});
    CHECK(kv.count("__once::init") == 1);
    tick_context t = make_tick();
    CHECK(h().call(t, "vigy-once", {num(1)}).error == "vigy-once: argument 1 (key) must be a string, got int");
    CHECK(h().call(t, "vigy-once", {str("")}).error == "vigy-once: argument 1 (key) must not be empty");
}

TEST_CASE("vigy-mark-converged / vigy-converged? over __converged::<k>", "[ext][convergence]") {
    std::vector<bool> seen;
    run_ticks(2, [&](tick_context& t, int i) {
        seen.push_back(h().call(t, "vigy-converged?", {str("in_sync")}).result == value::boolean(true));
        if (i == 0) {
            REQUIRE(h().call(t, "vigy-mark-converged", {str("in_sync")}).ok());
            CHECK(t.kv_get("__converged::in_sync") != nullptr);
        }
    });
    CHECK(seen == std::vector<bool>{false, true});
    tick_context t = make_tick();
    CHECK(h().call(t, "vigy-mark-converged", {num(1)}).error ==
          "vigy-mark-converged: argument 1 (key) must be a string, got int");
    CHECK(h().call(t, "vigy-converged?", {value::map()}).error ==
          "vigy-converged?: argument 1 (key) must be a string, got map");
}

// ---- scheduling -----------------------------------------------------------------------------

TEST_CASE("vigy-tick vigy-tick-count and vigy-since-last-tick follow the tick clock", "[ext][scheduling]") {
    std::vector<int64_t> ticks, counts, since;
    run_ticks(
        3,
        [&](tick_context& t, int) {
            ticks.push_back(h().call(t, "vigy-tick").result.as_int());
            counts.push_back(h().call(t, "vigy-tick-count").result.as_int());
            since.push_back(h().call(t, "vigy-since-last-tick").result.as_int());
        },
        {}, 10'000, 500);
    CHECK(ticks == std::vector<int64_t>{10'000, 10'500, 11'000});
    CHECK(counts == std::vector<int64_t>{1, 2, 3});
    CHECK(since == std::vector<int64_t>{-1, 500, 500});
    tick_context t = make_tick();
    CHECK(h().call(t, "vigy-tick", {num(1)}).error == "arity");
}

TEST_CASE("vigy-rate-limited? is #t while the window is closed and reopens after it", "[ext][scheduling]") {
    // ticks every 500 ms, window 2000 ms: open at 0, closed 500..1500, open at 2000, ...
    std::vector<bool> limited;
    run_ticks(
        6,
        [&](tick_context& t, int) {
            limited.push_back(h().call(t, "vigy-rate-limited?", {str("sync"), num(2000)}).result ==
                              value::boolean(true));
        },
        {}, 0, 500);
    CHECK(limited == std::vector<bool>{false, true, true, true, false, true});
    tick_context t = make_tick();
    CHECK(h().call(t, "vigy-rate-limited?", {str("k"), value::real(1.0)}).error ==
          "vigy-rate-limited?: argument 2 (window-ms) must be an int, got double");
    CHECK(h().call(t, "vigy-rate-limited?", {str("k"), num(-1)}).error ==
          "vigy-rate-limited?: argument 2 (window-ms) must be >= 0, got -1");
    CHECK(h().call(t, "vigy-rate-limited?", {num(1), num(1)}).error ==
          "vigy-rate-limited?: argument 1 (key) must be a string, got int");
    REQUIRE(h().call(t, "vigy-rate-limited?", {str("k"), num(0)}).result == value::boolean(false));
    CHECK(t.kv_get("__ratelimit::k")->as_int() == t.tick_start_ms());
}

TEST_CASE("vigy-backoff-ms is 1000*2^attempt capped at 30000", "[ext][scheduling]") {
    tick_context t = make_tick();
    std::vector<int64_t> curve;
    for (int64_t a : {0, 1, 2, 3, 4, 5, 6, 62, 63, 1000})
        curve.push_back(h().call(t, "vigy-backoff-ms", {num(a)}).result.as_int());
    CHECK(curve == std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000});
    CHECK(h().call(t, "vigy-backoff-ms", {num(-1)}).error ==
          "vigy-backoff-ms: argument 1 (attempt) must be >= 0, got -1");
    CHECK(h().call(t, "vigy-backoff-ms", {str("1")}).error ==
          "vigy-backoff-ms: argument 1 (attempt) must be an int, got string");
}

TEST_CASE("vigy-trigger is nil for a scheduled tick and the trigger map of a triggered one", "[ext][scheduling]") {
    tick_context t = make_tick();
    call_result r = h().call(t, "vigy-trigger");
    REQUIRE(r.ok());
    CHECK(r.result.is_nil());
    value trigger = value::map();
    trigger.set("kind", value::string("kv"));
    trigger.set("source", value::string("orders"));
    value payload = value::map();
    payload.set("key", value::string("orders"));
    payload.set("n", value::integer(3));
    trigger.set("payload", payload);
    t.set_trigger(trigger);
    r = h().call(t, "vigy-trigger");
    REQUIRE(r.ok());
    CHECK(r.result == trigger);
    CHECK(h().call(t, "vigy-trigger", {num(1)}).error == "arity");
}

// ---- diagnostics ----------------------------------------------------------------------------

TEST_CASE("vigy-log records level and message and unknown level rejected", "[ext][diagnostics]") {
    tick_context t = make_tick();
    for (const char* l : {"trace", "debug", "info", "warn", "error"})
        REQUIRE(h().call(t, "vigy-log", {str(l), str(l)}).ok());
    REQUIRE(h().call(t, "vigy-log", {value::keyword("INFO"), str("kw")}).ok());
    REQUIRE(t.log_lines().size() == 6);
    CHECK(t.log_lines()[3].level == "warn");
    CHECK(t.log_lines()[5].level == "info");
    CHECK(t.log_lines()[5].message == "kw");
    CHECK(h().call(t, "vigy-log", {str("loud"), str("x")}).error ==
          "vigy-log: argument 1 (level) must be one of trace, debug, info, warn, error, got \"loud\"");
    CHECK(h().call(t, "vigy-log", {str("info"), num(1)}).error ==
          "vigy-log: argument 2 (message) must be a string, got int");
}

TEST_CASE("vigy-trace and vigy-metric record into their maps", "[ext][diagnostics]") {
    tick_context t = make_tick();
    REQUIRE(h().call(t, "vigy-trace", {str("tick"), num(1)}).ok());
    REQUIRE(h().call(t, "vigy-trace", {str("state"), value::list({str("a")})}).ok());
    REQUIRE(h().call(t, "vigy-metric", {str("ints"), num(3)}).ok());
    REQUIRE(h().call(t, "vigy-metric", {str("floats"), value::real(0.25)}).ok());
    CHECK(t.trace_json() == R"({"tick":1,"state":["a"]})");
    CHECK(t.metrics_json() == R"({"ints":3.0,"floats":0.25})");
    CHECK(h().call(t, "vigy-metric", {str("m"), str("1")}).error ==
          "vigy-metric: argument 2 (value) must be a number, got string");
    CHECK(h().call(t, "vigy-trace", {num(1), num(1)}).error ==
          "vigy-trace: argument 1 (key) must be a string, got int");
    CHECK(h().call(t, "vigy-metric", {value::list({}), num(1)}).error ==
          "vigy-metric: argument 1 (name) must be a string, got list");
    CHECK(h().call(t, "vigy-metric", {str("m")}).error == "arity");
}

TEST_CASE("vigy-event records reason and message with an optional type", "[ext][diagnostics]") {
    tick_context t = make_tick();
    REQUIRE(h().call(t, "vigy-event", {str("Heartbeat"), str("tick 10")}).ok());
    REQUIRE(h().call(t, "vigy-event", {str("Failed"), str("boom"), str("warning")}).ok());
    REQUIRE(h().call(t, "vigy-event", {str("Fine"), str("ok"), value::keyword("Normal")}).ok());
    CHECK(t.events_json() == R"([{"type":"Normal","reason":"Heartbeat","message":"tick 10"},)"
                             R"({"type":"Warning","reason":"Failed","message":"boom"},)"
                             R"({"type":"Normal","reason":"Fine","message":"ok"}])");
    CHECK(h().call(t, "vigy-event", {str("X"), str("y"), str("fatal")}).error ==
          "vigy-event: argument 3 (type) must be normal or warning, got \"fatal\"");
    CHECK(h().call(t, "vigy-event", {num(1), str("y")}).error ==
          "vigy-event: argument 1 (reason) must be a string, got int");
    CHECK(h().call(t, "vigy-event", {str("X"), num(2)}).error ==
          "vigy-event: argument 2 (message) must be a string, got int");
}
