// vigy::host::reconciler: create from (kind, config JSON, limits, name), tick,
// destroy, and every way creating or ticking can fail.
#include "vigy/host/reconciler.hpp"

#include "failure.hpp"
#include "fake_tick.hpp"
#include "paths.hpp"

#include <catch2/catch.hpp>

using vigy::host::reconciler;
using vigy::host::registry;
using vigy::host::status_error;
using vigy::test::failure;
using vigy::test::fake_tick;
using vigy::test::fixture;

TEST_CASE("a reconciler ticks against the tick it is given", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    reconciler r(reg, "emit", R"({"action":"create","message":"made it"})", nullptr, "demo");
    CHECK(r.kind() == "emit");
    fake_tick t;
    auto res = r.tick(t.get());
    CHECK(res.ok());
    CHECK(res.message.empty());
    REQUIRE(t.actions.size() == 1);
    CHECK(t.actions[0].kind == "create");
    CHECK(t.actions[0].message == "made it");
    CHECK(t.actions[0].payload_type == VIGY_INT);
}

TEST_CASE("the plugin gets the config both as JSON text and parsed", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    fake_tick t;
    reconciler(reg, "echo", R"({"a": [1, 2.5, "x"]})").tick(t.get());
    reconciler(reg, "echo", "").tick(t.get());
    reconciler(reg, "echo", "42").tick(t.get());
    CHECK(t.action_messages() == std::vector<std::string>{"{\"a\": [1, 2.5, \"x\"]} map", " nil", "42 int"});
}

TEST_CASE("from_value serialises the config for the plugin", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    vigy_map_entry e{vigy_str_value(VIGY_STRING, "k", 1), vigy_int(3)};
    vigy_value m = vigy_nil();
    m.type = VIGY_MAP;
    m.as.map.entries = &e;
    m.as.map.len = 1;
    fake_tick t;
    reconciler::from_value(reg, "echo", &m).tick(t.get());
    reconciler::from_value(reg, "echo", nullptr).tick(t.get());
    CHECK(t.action_messages() == std::vector<std::string>{"{\"k\":3} map", " nil"});
}

TEST_CASE("an unknown kind is INVALID_ARGUMENT listing the known kinds", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    CHECK(failure([&] { reconciler(reg, "lisp", "{}"); }) ==
          "invalid-argument: unknown reconciler kind \"lisp\" (known: echo, emit, fail, reject, throw)");
    registry empty;
    CHECK(failure([&] { reconciler(empty, "noop", ""); }) ==
          "invalid-argument: unknown reconciler kind \"noop\" (known: none)");
}

TEST_CASE("malformed config JSON is INVALID_ARGUMENT before the plugin sees it", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    CHECK_THAT(failure([&] { reconciler(reg, "emit", "{\"action\": }"); }),
               Catch::StartsWith("invalid-argument: config: "));
}

TEST_CASE("a factory's create error keeps its status and message", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    CHECK(failure([&] { reconciler(reg, "reject", "{}"); }) ==
          "invalid-argument: reject: this kind refuses every config");
}

TEST_CASE("a failing tick returns the plugin's status and message", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    reconciler r(reg, "fail", R"({"message":"database is down"})");
    fake_tick t;
    auto res = r.tick(t.get());
    CHECK(res.status == VIGY_FAILED_PRECONDITION);
    CHECK(res.message == "database is down");
}

TEST_CASE("a C++ exception escaping a plugin's tick is caught at the call site", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    reconciler r(reg, "throw", "");
    fake_tick t;
    auto res = r.tick(t.get());
    CHECK(res.status == VIGY_INTERNAL);
    CHECK(res.message == "throw: tick threw an exception: tick exploded");
}

TEST_CASE("a moved-from reconciler refuses to tick and the moved-to one works", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    reconciler a(reg, "emit", "");
    reconciler b = std::move(a);
    fake_tick t;
    CHECK(a.tick(t.get()).status == VIGY_FAILED_PRECONDITION);  // NOLINT(bugprone-use-after-move): the point
    CHECK(b.tick(t.get()).ok());
    CHECK(t.actions.size() == 1);
}

TEST_CASE("limits and the vigy's name reach the plugin", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    vigy_limits limits{};
    limits.struct_size = sizeof limits;
    limits.fuel = 10;
    reconciler r(reg, "echo", "{}", &limits, "demo");
    fake_tick t;
    CHECK(r.tick(t.get()).ok());
    CHECK(t.action_messages() == std::vector<std::string>{"{} map fuel=10 name=demo"});
}
