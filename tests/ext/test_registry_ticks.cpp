// test_registry_ticks.cpp — reconcilers created through the real registry
// (host/reconciler.hpp) ticking against tick contexts: the chain accumulates
// buffers and kv across children of different kinds, stops at the first
// failing child, and a lisp program compiled once sees kv carried across ticks.
#include "ext_harness.hpp"

#include "vigy/host/reconciler.hpp"
#include "vigy/host/registry.hpp"

#include <catch2/catch.hpp>

using namespace vigy::host;
using vigy::test::make_tick;

namespace {

registry& plugins() {
    static registry* reg = [] {
        auto* r = new registry();  // lives until exit, like the CLI's
        r->load_search_path({VIGY_EXT_FIXTURE_DIR});
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

TEST_CASE("chain of a lisp child and a fixture child shares the tick and definitions stay per child", "[ext][chain][lisp]") {
    std::string cfg = "{\"children\":[" + lisp_child("(define secret 1) (vigy-create (hash-map \"id\" 7)) (vigy-set \"a\" 1)") +
                      "," + fixture_child("vigy-get \"a\"\nvigy-noop") + "," +
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
