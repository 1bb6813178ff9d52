// test_eval.cpp — `vigy eval` end to end, running the real binary with the real
// plugin loader: once and --ticks N, kv/tick metadata carried between ticks,
// failures, usage errors; with the test-only `ext-fixture` reconciler (always)
// and with the lisp reconciler on the examples ([lisp] cases).
#include "cli_run.hpp"

#include "vigy/host/value.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using vigy::host::value;
using vigy::test::run_result;
using vigy::test::run_vigy;

namespace {

const std::string fixture_dir = VIGY_EXT_FIXTURE_DIR;
const std::string examples = VIGY_EXT_EXAMPLES_DIR;

/// `vigy eval` with the fixture plugins and kind.
run_result fixture_eval(std::vector<std::string> args) {
    std::vector<std::string> all{"--plugin-dir", fixture_dir, "eval", "--kind", "ext-fixture"};
    all.insert(all.end(), args.begin(), args.end());
    return run_vigy(all);
}

const value& at(const value& v, const char* key) {
    const value* p = v.find(key);
    if (!p) FAIL("missing key " << key << " in " << v.to_json());
    return *p;
}

value parse(const run_result& r) {
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE_NOTHROW(value::from_json(r.out));
    return value::from_json(r.out);
}

}  // namespace

// ---- with the fixture reconciler ------------------------------------------------------------

TEST_CASE("eval once prints the tick output and its kv changes", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "vigy-incr \"n\" 42"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "42\n");
    r = fixture_eval({"-e", "vigy-set \"greeted\" \"hello, vigy\"", "-o", "json"});
    CHECK(r.exit_code == 0);
    value doc = parse(r);
    const value& tick = at(doc, "ticks").items().at(0);
    CHECK(at(tick, "output").text() == "nil");
    CHECK(at(at(at(tick, "kv_changes"), "set"), "greeted").text() == "hello, vigy");
}

TEST_CASE("eval refuses a custom extension's intrinsic: eval grants only the standard extensions", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "test-double 21"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("test-double: capability com.example.custom is not granted to this vigy (grant it with --allow "
                     "com.example.custom)") != std::string::npos);
}

TEST_CASE("eval --ticks carries kv tick metadata and conditions from tick to tick", "[ext][eval]") {
    const std::string program =
        "vigy-incr \"n\"\nvigy-once \"init\"\nvigy-log \"info\" \"hi\"\nvigy-noop\nvigy-condition \"Ready\" \"true\"\n";
    run_result r = fixture_eval({"-e", program, "--ticks", "3", "--every", "500", "--start-ms", "1000", "-o", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    value doc = parse(r);
    const auto& ticks = at(doc, "ticks").items();
    REQUIRE(ticks.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        const value& t = ticks[i];
        CHECK(at(t, "result").text() == "ok");
        CHECK(at(at(t, "tick"), "tick_count").as_int() == static_cast<int64_t>(i + 1));
        CHECK(at(at(t, "tick"), "start_ms").as_int() == 1000 + 500 * static_cast<int64_t>(i));
        CHECK(at(t, "actions").to_json() == R"([{"kind":"noop","result":"ok"}])");
        CHECK(at(t, "log").to_json() == R"([{"level":"info","message":"hi"}])");
        CHECK(at(at(at(t, "kv_changes"), "set"), "n").as_int() == static_cast<int64_t>(i + 1));
        // Ready never changes status: last_transition stays at the first tick's start
        CHECK(at(at(t, "conditions").items().at(0), "last_transition").text() == "1970-01-01T00:00:01.000Z");
    }
    CHECK(at(at(ticks[0], "tick"), "previous_tick_ms").is_nil());
    CHECK(at(at(ticks[2], "tick"), "previous_tick_ms").as_int() == 1500);
    CHECK(at(at(ticks[0], "kv_changes"), "set").find("__once::init") != nullptr);
    CHECK(at(at(ticks[1], "kv_changes"), "set").find("__once::init") == nullptr);  // fired once
    const value& kv = at(doc, "kv");
    CHECK(at(kv, "n").as_int() == 3);
    CHECK(kv.find("__sys::tick_count") == nullptr);  // the tick clock is not kept in kv
}

TEST_CASE("eval --kv seeds typed kv values", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "vigy-incr \"n\"", "--kv", "n=41"});
    CHECK(r.out == "42\n");
    r = fixture_eval({"-e", "vigy-get \"m\"", "--kv", R"(m={"a":[1,2.5,"s"]})"});
    CHECK(r.out == "{\"a\" (1 2.500000 \"s\")}\n");
}

TEST_CASE("eval human output shows each tick's buffers and hides __sys keys", "[ext][eval]") {
    const std::string program =
        "vigy-noop\nvigy-set \"k\" 1\nvigy-log \"warn\" \"careful\"\nvigy-event \"Beat\" \"m\"\n"
        "vigy-desired \"count\" 2\nvigy-metric \"m\" 1.5\n";
    run_result r = fixture_eval({"-e", program, "--ticks", "2"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("tick 1  ") != std::string::npos);
    CHECK(r.out.find("tick 2  ") != std::string::npos);
    CHECK(r.out.find("action     noop (ok)") != std::string::npos);
    CHECK(r.out.find("log        [warn] careful") != std::string::npos);
    CHECK(r.out.find("event      Normal Beat: m") != std::string::npos);
    CHECK(r.out.find("desired    count=2") != std::string::npos);
    CHECK(r.out.find("metrics    m=1.5") != std::string::npos);
    CHECK(r.out.find("kv         k=1") != std::string::npos);
    CHECK(r.out.find("__sys") == std::string::npos);
}

TEST_CASE("eval: a failed tick saves nothing and does not advance tick_count and exit 1", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "vigy-incr \"n\"\n!fail boom", "--ticks", "2", "-o", "json"});
    CHECK(r.exit_code == 1);
    value doc = parse(r);
    for (const value& t : at(doc, "ticks").items()) {
        CHECK(at(t, "result").text() == "failed");
        CHECK(at(t, "error").text() == "<expr>:2: boom");
        CHECK(at(at(t, "tick"), "tick_count").as_int() == 1);
    }
    CHECK(at(doc, "kv").find("n") == nullptr);
}

TEST_CASE("eval once: errors go to stderr with exit 1", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "vigy-noop\n!fail boom"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "error: <expr>:2: boom\n");
    r = fixture_eval({"-e", "vigy-incr \"n\" 1.5"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: <expr>:1: vigy-incr: argument 2 (delta) must be an int, got double\n");
    r = fixture_eval({"-e", "nope 1"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: <expr>:1: unknown intrinsic nope\n");
}

TEST_CASE("eval usage errors", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "vigy-noop", "--kv", "novalue"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: --kv must be KEY=JSON, got \"novalue\"\n");
    r = fixture_eval({"-e", "vigy-noop", "--kv", "k={"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("error: --kv k: invalid json at offset 1") == 0);
    r = fixture_eval({});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: nothing to evaluate: give FILE or -e SRC\n");
    r = fixture_eval({"some.tatara", "-e", "vigy-noop"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: give either FILE or -e SRC, not both\n");
    r = fixture_eval({"/nonexistent/prog.tatara"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: cannot read /nonexistent/prog.tatara: No such file or directory\n");
    r = run_vigy({"eval", "--kind", "no-such-kind", "-e", "1"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("error: unknown reconciler kind \"no-such-kind\"") == 0);
}

// ---- with the lisp reconciler and the examples ------------------------------------------------

TEST_CASE("lisp: eval once prints the last value and errors carry line:column and a caret", "[ext][eval][lisp]") {
    run_result r = run_vigy({"eval", "-e", "(vigy-incr \"n\" 41) (+ 1 2)"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "3\n");
    r = run_vigy({"eval", "--each", "-e", "(+ 1 2)\n(vigy-incr \"n\" 5)"});
    CHECK(r.out == "3\n5\n");
    r = run_vigy({"eval", "-e", "(+ 1\n (foo 2))"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("error: <expr>:2:3: unbound symbol: foo") != std::string::npos);
    CHECK(r.err.find("   |   ^") != std::string::npos);
    r = run_vigy({"eval", "-e", "(vigy-condition \"Ready\" \"maybe\")"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("vigy-condition: argument 2 (status) must be true, false or unknown, got \"maybe\"") !=
          std::string::npos);
}

TEST_CASE("lisp: a custom extension plugin's intrinsic is refused to a program without the grant",
          "[ext][eval][lisp]") {
    run_result r = run_vigy({"--plugin-dir", fixture_dir, "eval", "-e", "(test-greet (string (test-double 21)))"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("test-double: capability com.example.custom is not granted to this vigy (grant it with --allow "
                     "com.example.custom)") != std::string::npos);
    CHECK(r.err.find("<expr>:1:21") != std::string::npos);  // where the refused call is
}

TEST_CASE("lisp: hello-vigy logs and emits one noop per tick", "[ext][eval][lisp]") {
    run_result r =
        run_vigy({"eval", examples + "/hello-vigy.tatara", "--ticks", "3", "--start-ms", "5000", "-o", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    value doc = parse(r);
    const auto& ticks = at(doc, "ticks").items();
    REQUIRE(ticks.size() == 3);
    for (size_t i = 0; i < ticks.size(); ++i) {
        CHECK(at(ticks[i], "actions").to_json() == R"([{"kind":"noop","result":"ok"}])");
        std::string expected =
            "hello from tick " + std::to_string(i + 1) + " at " + std::to_string(5000 + 1000 * i) + " ms";
        CHECK(at(ticks[i], "log").to_json() == R"([{"level":"info","message":")" + expected + R"("}])");
    }
}

TEST_CASE("lisp: tear-mirror converges over 20 ticks with a heartbeat on ticks 10 and 20", "[ext][eval][lisp]") {
    run_result r = run_vigy({"eval", examples + "/tear-mirror.tatara", "--ticks", "20", "-o", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    value doc = parse(r);
    const auto& ticks = at(doc, "ticks").items();
    REQUIRE(ticks.size() == 20);
    for (const value& t : ticks) {
        INFO("tick " << at(t, "index").as_int());
        CHECK(at(t, "result").text() == "ok");
        bool heartbeat = false;
        for (const value& e : at(t, "events").items()) heartbeat = heartbeat || at(e, "reason").text() == "Heartbeat";
        int64_t index = at(t, "index").as_int();
        CHECK(heartbeat == (index == 10 || index == 20));
    }
    // converged: the flag is set and Ready is true, both at the end and on the last tick
    const value& kv = at(doc, "kv");
    CHECK(at(kv, "__converged::in_sync") == value::boolean(true));
    CHECK(at(kv, "daemon_session_count") == at(kv, "embed_session_count"));
    bool ready = false;
    for (const value& c : at(doc, "conditions").items())
        if (at(c, "type").text() == "Ready") ready = at(c, "status").text() == "True";
    CHECK(ready);
    bool ready_last = false;
    for (const value& c : at(ticks[19], "conditions").items())
        if (at(c, "type").text() == "Ready") ready_last = at(c, "status").text() == "True";
    CHECK(ready_last);
    CHECK(at(at(ticks[19], "trace"), "in_sync") == value::boolean(true));
    // it took real work to get there: pulls first, then noops once in sync
    CHECK(at(at(ticks[0], "actions").items().at(0), "kind").text() == "pull");
    CHECK(at(at(ticks[19], "actions").items().at(0), "kind").text() == "defer");  // rate limited between windows
}
