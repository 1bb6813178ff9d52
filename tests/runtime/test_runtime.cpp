// tests/runtime/test_runtime.cpp — host/src/runtime.cpp, the public layer: user errors
// with their canonical codes, register / list / selector / enable / disable / delete,
// compare-and-set on resource versions, pages with continue tokens, the change feed,
// the run cursor, subscriptions.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace rt_test;
using vigy::host::register_outcome;

TEST_CASE("user errors are reported with their canonical code and a clear message", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    auto [c1, m1] = code_of([&] { rt->register_or_update(fx_spec("x", 50)); });
    CHECK(c1 == VIGY_INVALID_ARGUMENT);
    CHECK(m1 == "invalid tick interval 50 ms: must be >= 100");
    auto bad_kind = fx_spec("x", 100);
    bad_kind.kind = "nope";
    auto [c2, m2] = code_of([&] { rt->register_or_update(bad_kind); });
    CHECK(c2 == VIGY_INVALID_ARGUMENT);
    CHECK(m2 == "unknown reconciler kind \"nope\" (known: fx)");
    auto [c3, m3] = code_of([&] { rt->register_or_update(fx_spec("x", 100, "{oops")); });
    CHECK(c3 == VIGY_INVALID_ARGUMENT);
    CHECK(m3.rfind("config is not valid json", 0) == 0);
    auto [c3b, m3b] = code_of([&] { rt->register_or_update(fx_spec("x", 100, "[1]")); });
    CHECK(c3b == VIGY_INVALID_ARGUMENT);
    CHECK(m3b == "config must be a JSON object");
    CHECK(code_of([&] { rt->register_or_update(fx_spec("", 100)); }).first == VIGY_INVALID_ARGUMENT);
    CHECK(code_of([&] { rt->register_or_update(fx_spec("Upper_Case", 100)); }).first == VIGY_INVALID_ARGUMENT);
    auto [c5, m5] = code_of([&] { rt->get("ghost"); });
    CHECK(c5 == VIGY_NOT_FOUND);
    CHECK(m5 == "vigy \"ghost\" not found");
    CHECK(code_of([&] { rt->tick_now("ghost"); }).first == VIGY_NOT_FOUND);
    CHECK(code_of([&] { rt->enable("ghost"); }).first == VIGY_NOT_FOUND);
    CHECK(code_of([&] { rt->disable("ghost"); }).first == VIGY_NOT_FOUND);
    CHECK(code_of([&] { rt->kv("ghost"); }).first == VIGY_NOT_FOUND);
    CHECK(code_of([&] { rt->recent_runs("ghost"); }).first == VIGY_NOT_FOUND);
    CHECK_FALSE(rt->remove("ghost"));
    CHECK_FALSE(rt->find("ghost"));
    CHECK(code_of([&] { rt->list("team in (a"); }).first == VIGY_INVALID_ARGUMENT);
    CHECK(code_of([&] { rt->list(",,"); }).first == VIGY_INVALID_ARGUMENT);
    auto labels = fx_spec("x", 100);
    labels.labels["bad key!"] = "v";
    CHECK(code_of([&] { rt->register_or_update(labels); }).first == VIGY_INVALID_ARGUMENT);
    auto control = fx_spec("x", 100);
    control.labels["team"] = "a\x1b[2J";
    CHECK(code_of([&] { rt->register_or_update(control); }).first == VIGY_INVALID_ARGUMENT);
    CHECK(code_of([&] { runtime::open(""); }).first == VIGY_INVALID_ARGUMENT);
    auto o = fixture_options();
    o.lease_ttl_ms = 1000;
    o.lease_renew_ms = 600;
    CHECK(code_of([&] { runtime::open(db.path, o); }).first == VIGY_INVALID_ARGUMENT);
    { std::ofstream(db.dir / "a-file") << "x"; }
    CHECK(code_of([&] { runtime::open(db.dir / "a-file" / "vigy.db"); }).first == VIGY_FAILED_PRECONDITION);
    CHECK(rt->list().empty());
}

TEST_CASE("register and list by selector and enable disable and delete keep their promises", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    auto s = fx_spec("a", 250);
    s.labels = {{"team", "infra"}, {"tier", "1"}};
    auto a = rt->register_or_update(s);
    CHECK(a.outcome == register_outcome::created);
    CHECK(a.previous_revision.empty());
    CHECK(a.enabled);
    CHECK(a.interval_ms == 250);
    CHECK(a.id.size() == 16);
    CHECK(a.resource_version > 0);
    rt->register_or_update(fx_spec("b", 100));
    CHECK(rt->list().size() == 2);
    auto names = [&](std::string_view sel) {
        std::vector<std::string> out;
        for (const auto& v : rt->list(sel)) out.push_back(v.name);
        return out;
    };
    CHECK(names("team=infra") == std::vector<std::string>{"a"});
    CHECK(names("team!=infra") == std::vector<std::string>{"b"});
    CHECK(names("!team") == std::vector<std::string>{"b"});
    CHECK(names("tier in (1,2)") == std::vector<std::string>{"a"});
    CHECK(names("tier notin (1)") == std::vector<std::string>{"b"});
    const auto again = rt->register_or_update(s);
    CHECK(again.outcome == register_outcome::unchanged);
    CHECK(again.previous_revision == a.revision);
    CHECK(std::string(vigy::host::register_outcome_name(again.outcome)) == "unchanged");
    CHECK_FALSE(rt->disable("a").enabled);
    auto edited = rt->register_or_update(fx_spec("a", 300, R"({"sleep_ms": 0})"));
    CHECK_FALSE(edited.enabled);  // re-register without saying enabled keeps it disabled
    CHECK(edited.id == a.id);
    CHECK(edited.revision != a.revision);
    CHECK(edited.outcome == register_outcome::updated);
    CHECK(edited.previous_revision == a.revision);
    CHECK(rt->get(a.id).name == "a");  // by id too
    CHECK(rt->enable("a").enabled);
    rt->tick_now("a");
    CHECK(rt->recent_runs("a").size() == 1);
    CHECK(rt->conditions("a").at(0).status == "True");
    CHECK(rt->remove("a", /*keep_history=*/false));
    CHECK_FALSE(rt->find("a"));
    CHECK(rt->list().size() == 1);
}

TEST_CASE("writes with an expected resource version are compare-and-set and abort on a mismatch", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    const auto v = rt->register_or_update(fx_spec("cas", 1000));
    const int64_t rv = v.resource_version;
    CHECK(code_of([&] { rt->register_or_update(fx_spec("cas", 500), rv + 1); }).first == VIGY_ABORTED);
    CHECK(code_of([&] { rt->disable("cas", rv + 1); }).first == VIGY_ABORTED);
    CHECK(code_of([&] { rt->remove("cas", false, rv + 1); }).first == VIGY_ABORTED);
    CHECK(code_of([&] { rt->remove("nobody", false, 1); }).first == VIGY_NOT_FOUND);
    CHECK(rt->get("cas").interval_ms == 1000);
    CHECK(rt->get("cas").enabled);
    CHECK(rt->resource_version() == rv);  // nothing written
    const auto up = rt->register_or_update(fx_spec("cas", 500), rv);
    CHECK(up.interval_ms == 500);
    CHECK(up.resource_version > rv);
    const auto off = rt->disable("cas", up.resource_version);
    CHECK(rt->remove("cas", false, off.resource_version));
}

TEST_CASE("list pages with an opaque continue token and the change feed reports each vigy", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    const int64_t start = rt->resource_version();
    for (int i = 0; i < 7; ++i) rt->register_or_update(fx_spec("p" + std::to_string(i), 1000));
    std::vector<std::string> seen;
    std::string token;
    int pages = 0;
    do {
        const auto page = rt->list_page("", 3, token);
        for (const auto& v : page.items) seen.push_back(v.name);
        token = page.continue_token;
        ++pages;
    } while (!token.empty());
    CHECK(pages == 3);
    CHECK(seen == std::vector<std::string>{"p0", "p1", "p2", "p3", "p4", "p5", "p6"});
    CHECK(code_of([&] { rt->list_page("", 3, "nonsense"); }).first == VIGY_INVALID_ARGUMENT);

    auto ch = rt->changes_since(start);
    CHECK_FALSE(ch.gone);
    REQUIRE(ch.changes.size() == 7);
    CHECK(ch.changes[0].type == vigy::host::change_type::added);
    const int64_t rv = ch.resource_version;
    rt->disable("p1");
    rt->remove("p2");
    ch = rt->changes_since(rv);
    REQUIRE(ch.changes.size() == 2);
    CHECK(ch.changes[0].type == vigy::host::change_type::modified);
    CHECK(ch.changes[0].vigy.name == "p1");
    CHECK(ch.changes[1].type == vigy::host::change_type::deleted);
    CHECK(ch.changes[1].vigy.name == "p2");
    CHECK(rt->changes_since(rt->resource_version()).changes.empty());
}

TEST_CASE("the run cursor sees runs of every process in commit order", "[runtime]") {
    temp_db db;
    auto a = open_rt(db.path);
    auto b = open_rt(db.path);
    a->register_or_update(fx_spec("t1", 1000));
    a->register_or_update(fx_spec("t2", 1000));
    const int64_t cursor = b->last_seq();
    CHECK(b->oldest_seq() == 0);
    a->tick_now("t1");
    b->tick_now("t2");
    a->tick_now("t1");
    auto seen = b->runs_after(cursor);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].vigy_name == "t1");
    CHECK(seen[1].vigy_name == "t2");
    CHECK(seen[2].vigy_name == "t1");
    CHECK(seen[0].seq < seen[1].seq);
    CHECK(seen[1].seq < seen[2].seq);
    CHECK(b->oldest_seq() == seen[0].seq);
    CHECK(b->runs_after(cursor, 10, std::string_view("t2")).size() == 1);
    CHECK(b->runs_since(seen[0].started_ms).size() == 3);
    auto one = b->find_run(seen[1].id);
    REQUIRE(one);
    CHECK(one->vigy_name == "t2");
}

TEST_CASE("a subscription stops delivering once reset", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    rt->register_or_update(fx_spec("s", 1000));
    std::atomic<int> got{0};
    auto sub = rt->subscribe([&](const run&) { got.fetch_add(1); });
    collector control(*rt);  // subscribed after: delivered after `sub` for every run
    rt->tick_now("s");
    REQUIRE(control.wait_for("s", 1));
    CHECK(got.load() == 1);
    sub.reset();
    rt->tick_now("s");
    REQUIRE(control.wait_for("s", 2));
    CHECK(got.load() == 1);
    CHECK(code_of([&] { rt->subscribe({}); }).first == VIGY_INVALID_ARGUMENT);
}

TEST_CASE("a subscription may outlive its runtime", "[runtime]") {
    temp_db db;
    vigy::host::subscription sub;
    {
        auto rt = open_rt(db.path);
        sub = rt->subscribe([](const run&) {});
        CHECK(static_cast<bool>(sub));
    }
    sub.reset();  // the runtime is gone: nothing to do, nothing to crash
    CHECK_FALSE(static_cast<bool>(sub));
}
