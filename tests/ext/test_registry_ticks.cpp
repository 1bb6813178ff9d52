// test_registry_ticks.cpp — reconcilers created through the real registry
// (host/reconciler.hpp) ticking against tick contexts: the chain accumulates
// buffers and kv across children of different kinds, stops at the first
// failing child, a lisp program compiled once sees kv carried across ticks,
// and lisp programs reach an application plugin's intrinsics exactly when
// their tick is granted its capability (the example tmux-sessions program).
#include "ext_harness.hpp"
#include "private_tmux.hpp"

#include "vigy/host/capabilities.hpp"
#include "vigy/host/reconciler.hpp"
#include "vigy/host/registry.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace vigy::host;
using vigy::test::make_tick;

namespace {

registry& plugins() {
    static registry* reg = [] {
        auto* r = new registry();  // lives until exit, like the CLI's
        r->load_search_path({VIGY_EXT_FIXTURE_DIR, VIGY_EXT_APP_PLUGIN_DIR});
        return r;
    }();
    return *reg;
}

std::string fixture_child(const std::string& program) {
    value cfg = value::map();
    cfg.set("program", value::string(program));
    value child = value::map();
    child.set("kind", value::string("ext-fixture"));
    child.set("config", cfg);
    return child.to_json();
}

std::string lisp_child(const std::string& program) {
    value cfg = value::map();
    cfg.set("program", value::string(program));
    value child = value::map();
    child.set("kind", value::string("lisp"));
    child.set("config", cfg);
    return child.to_json();
}

}  // namespace

TEST_CASE("chain accumulates actions buffers and kv across children on one tick", "[ext][chain]") {
    std::string cfg = "{\"children\":[" + fixture_child("vigy-pull 1\nvigy-incr \"n\"\nvigy-log \"info\" \"first\"") +
                      "," + fixture_child("vigy-push 2\nvigy-incr \"n\"\nvigy-desired \"k\" 1") + "]}";
    reconciler chain(plugins(), "chain", cfg);
    tick_context t = make_tick({{"n", value::integer(10)}});
    tick_result r = chain.tick(t.tick());
    INFO(r.message);
    REQUIRE(r.ok());
    CHECK(t.actions_json() == R"([{"kind":"pull","payload":1},{"kind":"push","payload":2}])");
    CHECK(t.kv_get("n")->as_int() == 12);
    CHECK(t.log_json() == R"([{"level":"info","message":"first"}])");
    CHECK(t.desired_json() == R"({"k":1})");
}

TEST_CASE("chain of a lisp child and a fixture child shares the tick and definitions stay per child",
          "[ext][chain][lisp]") {
    std::string cfg =
        "{\"children\":[" + lisp_child("(define secret 1) (vigy-create (hash-map \"id\" 7)) (vigy-set \"a\" 1)") + "," +
        fixture_child("vigy-get \"a\"\nvigy-noop") + "," +
        lisp_child("(vigy-trace \"a\" (vigy-get \"a\")) (vigy-trace \"secret\" (try secret (catch (e) \"unbound\")))") +
        "]}";
    reconciler chain(plugins(), "chain", cfg);
    tick_context t = make_tick();
    tick_result r = chain.tick(t.tick());
    INFO(r.message);
    REQUIRE(r.ok());
    CHECK(t.actions_json() == R"([{"kind":"create","payload":{"id":7}},{"kind":"noop","result":"ok"}])");
    CHECK(t.trace_json() == R"({"a":1,"secret":"unbound"})");
}

TEST_CASE("chain stops at the first failing child and names it", "[ext][chain]") {
    std::string cfg = "{\"children\":[" + fixture_child("vigy-pull 1") + "," + fixture_child("!fail boom") + "," +
                      fixture_child("vigy-push 2") + "]}";
    reconciler chain(plugins(), "chain", cfg);
    tick_context t = make_tick();
    tick_result r = chain.tick(t.tick());
    CHECK_FALSE(r.ok());
    CHECK(r.message.find("boom") != std::string::npos);
    CHECK(t.actions_json() == R"([{"kind":"pull","payload":1}])");  // the third child never ran
}

TEST_CASE("a lisp program compiled once ticks many times with kv carried: once fires once", "[ext][lisp]") {
    reconciler lisp(plugins(), "lisp",
                    R"j({"program":"(vigy-incr \"ticks\") (if (vigy-once \"init\") \"first\" \"again\")"})j");
    std::vector<std::string> outputs;
    kv_map kv = vigy::test::run_ticks(3, [&](tick_context& t, int) {
        tick_result r = lisp.tick(t.tick());
        REQUIRE(r.ok());
        outputs.push_back(t.output());
    });
    CHECK(outputs == std::vector<std::string>{"\"first\"", "\"again\"", "\"again\""});
    CHECK(kv.at("ticks").as_int() == 3);
}

TEST_CASE("lisp: a custom extension's intrinsic runs for a granted vigy and is refused to others",
          "[ext][lisp][grants]") {
    reconciler lisp(plugins(), "lisp", R"j({"program":"(test-greet (string (test-double 21)))"})j");
    capability_set custom({"com.example.custom"});
    tick_context granted = make_tick();
    granted.set_grants(&custom);
    tick_result r = lisp.tick(granted.tick());
    INFO(r.message);
    REQUIRE(r.ok());
    CHECK(granted.output() == "\"hello, 42\"");

    tick_context refused = make_tick();
    r = lisp.tick(refused.tick());
    CHECK(r.status != VIGY_OK);
    CHECK(r.message.find("test-double: capability com.example.custom is not granted to this vigy (grant it with "
                         "--allow com.example.custom)") != std::string::npos);
    CHECK_FALSE(refused.kv_has("greeted"));
}

TEST_CASE("lisp: tmux-sessions converges a private tmux server for a vigy granted io.pleme.mado",
          "[ext][lisp][mado][grants]") {
    vigy::test::private_tmux tmux;
    // a session the vigy did not create, and one it created earlier but no longer wants
    REQUIRE(tmux.tmux("new-session -d -s unrelated") == 0);
    REQUIRE(tmux.tmux("new-session -d -s retired") == 0);

    std::ifstream file(std::string(VIGY_EXT_EXAMPLES_DIR) + "/tmux-sessions.tatara");
    std::stringstream text;
    text << file.rdbuf();
    REQUIRE_FALSE(text.str().empty());
    value cfg = value::map();
    cfg.set("program", value::string(text.str()));
    cfg.set("source_name", value::string("tmux-sessions.tatara"));
    reconciler lisp(plugins(), "lisp", cfg.to_json());

    kv_map seed;
    seed["desired_sessions"] = value::from_json(R"(["web","worker","db"])");
    seed["managed_sessions"] = value::from_json(R"(["retired"])");

    // Without the grant the first mado call fails the tick and nothing changes.
    tick_context refused = make_tick(seed);
    tick_result denied = lisp.tick(refused.tick());
    CHECK_FALSE(denied.ok());
    CHECK(denied.message.find("mado-tear-list-sessions: capability io.pleme.mado is not granted to this vigy "
                              "(grant it with --allow io.pleme.mado)") != std::string::npos);
    CHECK(tmux.sessions() == "retired\nunrelated\n");

    capability_set grants({"io.pleme.mado"});
    std::vector<std::string> actions, ready;
    kv_map kv = vigy::test::run_ticks(
        3,
        [&](tick_context& t, int) {
            t.set_grants(&grants);
            tick_result r = lisp.tick(t.tick());
            INFO(r.message);
            REQUIRE(r.ok());
            actions.push_back(t.actions_json());
            ready.push_back(t.conditions().empty() ? "" : t.conditions().front().status);
        },
        seed);
    CHECK(actions[0] ==
          R"([{"kind":"create","payload":{"session":"web"}},{"kind":"create","payload":{"session":"worker"}},)"
          R"({"kind":"create","payload":{"session":"db"}},{"kind":"delete","payload":{"session":"retired"}}])");
    CHECK(actions[2] == R"([{"kind":"noop","result":"ok"}])");
    CHECK(ready[2] == "True");
    CHECK(kv.at("__converged::sessions") == value::boolean(true));
    CHECK(tmux.sessions() == "db\nunrelated\nweb\nworker\n");  // the server itself, listed independently
}

TEST_CASE("lisp: vigy-trigger reads why the tick runs", "[ext][lisp][scheduling]") {
    reconciler lisp(
        plugins(), "lisp",
        R"j({"program":"(let ((t (vigy-trigger))) (if t (list (get t \"kind\") (get t \"source\")) :scheduled))"})j");
    tick_context scheduled = make_tick();
    REQUIRE(lisp.tick(scheduled.tick()).ok());
    CHECK(scheduled.output() == ":scheduled");

    tick_context triggered = make_tick();
    value trigger = value::map();
    trigger.set("kind", value::string("kv"));
    trigger.set("source", value::string("orders"));
    trigger.set("payload", value::nil());
    triggered.set_trigger(trigger);
    tick_result r = lisp.tick(triggered.tick());
    INFO(r.message);
    REQUIRE(r.ok());
    CHECK(triggered.output() == "(\"kv\" \"orders\")");
}
