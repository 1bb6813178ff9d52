// vigy.native: noop, and chain (children in order on one tick, stop at the
// first error naming the child, nesting, config errors).
#include "vigy/host/reconciler.hpp"
#include "vigy/host/registry.hpp"

#include "failure.hpp"
#include "fake_tick.hpp"
#include "paths.hpp"

#include <catch2/catch.hpp>

using vigy::host::reconciler;
using vigy::host::registry;
using vigy::host::status_error;
using vigy::test::failure;
using vigy::test::fake_tick;

namespace {

/// vigy.native plus the test fixture (kinds emit, fail, echo, reject, throw).
struct plugins {
    registry reg;
    plugins() {
        REQUIRE(reg.load_file(vigy::test::native_plugin()));
        REQUIRE(reg.load_file(vigy::test::fixture("a_good")));
    }
};

}  // namespace

TEST_CASE("noop ticks without touching the tick", "[native]") {
    plugins p;
    reconciler r(p.reg, "noop", R"({"anything": [1, 2]})");
    fake_tick t;
    CHECK(r.tick(t.get()).ok());
    CHECK(r.tick(t.get()).ok());
    CHECK(t.actions.empty());
    CHECK(t.logs.empty());
    CHECK(t.kv.empty());
    CHECK(t.output.empty());
}

TEST_CASE("a chain of noop and two emitters yields their actions in order", "[native]") {
    plugins p;
    reconciler r(p.reg, "chain", R"({"children": [
        {"kind": "noop", "config": {}},
        {"kind": "emit", "config": {"action": "pull", "message": "first"}},
        {"kind": "emit", "config": {"action": "push", "message": "second"}}]})");
    fake_tick t;
    auto res = r.tick(t.get());
    CHECK(res.ok());
    CHECK(t.action_kinds() == std::vector<std::string>{"pull", "push"});
    CHECK(t.action_messages() == std::vector<std::string>{"first", "second"});

    // ticking again runs the same children again, on the new tick
    fake_tick t2;
    CHECK(r.tick(t2.get()).ok());
    CHECK(t2.action_kinds() == std::vector<std::string>{"pull", "push"});
}

TEST_CASE("a failing middle child stops the chain and the error names the child", "[native]") {
    plugins p;
    reconciler r(p.reg, "chain", R"({"children": [
        {"kind": "emit", "config": {"action": "pull"}},
        {"kind": "fail", "config": {"message": "upstream is down"}},
        {"kind": "emit", "config": {"action": "push"}}]})");
    fake_tick t;
    auto res = r.tick(t.get());
    CHECK(res.status == VIGY_FAILED_PRECONDITION);
    CHECK(res.message == "chain child 2 (fail): upstream is down");
    CHECK(t.action_kinds() == std::vector<std::string>{"pull"});  // the third child did not run
}

TEST_CASE("chains nest and a nested failure names every level", "[native]") {
    plugins p;
    reconciler ok(p.reg, "chain", R"({"children": [
        {"kind": "emit", "config": {"action": "create"}},
        {"kind": "chain", "config": {"children": [
            {"kind": "emit", "config": {"action": "update"}},
            {"kind": "chain", "config": {"children": [{"kind": "emit", "config": {"action": "delete"}}]}}]}},
        {"kind": "emit", "config": {"action": "apply"}}]})");
    fake_tick t;
    CHECK(ok.tick(t.get()).ok());
    CHECK(t.action_kinds() == std::vector<std::string>{"create", "update", "delete", "apply"});

    reconciler bad(p.reg, "chain", R"({"children": [
        {"kind": "noop"},
        {"kind": "chain", "config": {"children": [{"kind": "fail", "config": {"message": "deep"}}]}}]})");
    fake_tick t2;
    auto res = bad.tick(t2.get());
    CHECK(res.status == VIGY_FAILED_PRECONDITION);
    CHECK(res.message == "chain child 2 (chain): chain child 1 (fail): deep");
}

TEST_CASE("a child gets its own config as JSON and parsed and the chain's limits and name", "[native]") {
    plugins p;
    vigy_limits limits{};
    limits.struct_size = sizeof limits;
    limits.fuel = 99;
    reconciler r(p.reg, "chain", R"({"children": [{"kind": "echo", "config": {"x": [1, "two"]}}, {"kind": "echo"}]})",
                 &limits, "parent");
    fake_tick t;
    CHECK(r.tick(t.get()).ok());
    CHECK(t.action_messages() ==
          std::vector<std::string>{"{\"x\":[1,\"two\"]} map fuel=99 name=parent", " nil fuel=99 name=parent"});
}

TEST_CASE("an empty chain is a valid no-op", "[native]") {
    plugins p;
    reconciler r(p.reg, "chain", R"({"children": []})");
    fake_tick t;
    CHECK(r.tick(t.get()).ok());
    CHECK(t.actions.empty());
}

TEST_CASE("chain config errors say what is wrong and where", "[native]") {
    plugins p;
    CHECK(failure([&] { reconciler(p.reg, "chain", "[1]"); }) ==
          "invalid-argument: chain: config must be a map like {\"children\": [...]}, got list");
    CHECK(failure([&] { reconciler(p.reg, "chain", ""); }) ==
          "invalid-argument: chain: config must be a map like {\"children\": [...]}, got nil");
    CHECK(failure([&] { reconciler(p.reg, "chain", "{}"); }) ==
          "invalid-argument: chain: config has no \"children\" list");
    CHECK(failure([&] { reconciler(p.reg, "chain", R"({"children": {}})"); }) ==
          "invalid-argument: chain: \"children\" must be a list, got map");
    CHECK(failure([&] { reconciler(p.reg, "chain", R"({"children": [{"kind": "noop"}, 3]})"); }) ==
          "invalid-argument: chain child 2: must be a map like {\"kind\": \"noop\", \"config\": {}}, got int");
    CHECK(failure([&] { reconciler(p.reg, "chain", R"({"children": [{"config": {}}]})"); }) ==
          "invalid-argument: chain child 1: missing \"kind\"");
    CHECK(failure([&] { reconciler(p.reg, "chain", R"({"children": [{"kind": 5}]})"); }) ==
          "invalid-argument: chain child 1: \"kind\" must be a string, got int");
}

TEST_CASE("a child that cannot be created fails the chain's create naming the child", "[native]") {
    plugins p;
    CHECK(failure([&] { reconciler(p.reg, "chain", R"({"children": [{"kind": "noop"}, {"kind": "lisp"}]})"); }) ==
          "invalid-argument: chain child 2 (lisp): unknown reconciler kind \"lisp\" (known: chain, echo, emit, fail, "
          "noop, reject, throw)");
    CHECK(failure([&] { reconciler(p.reg, "chain", R"({"children": [{"kind": "reject", "config": {}}]})"); }) ==
          "invalid-argument: chain child 1 (reject): reject: this kind refuses every config");
}

TEST_CASE("an exception thrown by a child's tick becomes the chain's error", "[native]") {
    plugins p;
    reconciler r(p.reg, "chain", R"({"children": [{"kind": "emit"}, {"kind": "throw"}]})");
    fake_tick t;
    auto res = r.tick(t.get());
    CHECK(res.status == VIGY_INTERNAL);
    CHECK(res.message == "chain child 2 (throw): throw: tick threw an exception: tick exploded");
    CHECK(t.action_kinds() == std::vector<std::string>{"noop"});
}
