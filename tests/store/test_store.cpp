// tests/store/test_store.cpp — store/src/store.cpp: vigies, compare-and-set writes, the
// change feed, paging, deletes, conditions, events, retention, the run cursor, the lease
// and fencing tokens, tick requests, busy databases, paths.
#include "common.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <thread>

using namespace vigy::store;
using namespace vigy_store_test;

namespace {

std::vector<std::string> names(const std::vector<vigy_record>& vs) {
    std::vector<std::string> out;
    for (const auto& v : vs) out.push_back(v.name);
    return out;
}

lease_clock clock_at(int64_t boot_ms, const std::string& boot = "boot-a", int64_t wall_ms = 1'000'000) {
    return lease_clock{boot, boot_ms, wall_ms};
}

lease_request req(const std::string& owner, const lease_clock& now, int64_t ttl = 1000, const std::string& host = "h") {
    return lease_request{owner, 11, host, now, ttl};
}

}  // namespace

TEST_CASE("the in-memory path opens a private temporary database removed on close", "[sqlite][store]") {
    std::string path;
    {
        store s(opts(":memory:"));
        path = s.path();
        CHECK(std::filesystem::exists(path));
        s.register_or_update(spec("m"));
        CHECK(s.list_vigies().size() == 1);
    }
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("create_if_missing = false refuses a missing file and creates nothing but opens an existing one",
          "[sqlite][store]") {
    if (on_postgres()) return;
    temp_dir dir;
    auto o = opts((dir.path / "sub" / "none.db").string());
    o.create_if_missing = false;
    std::string why;
    try {
        store s(o);
    } catch (const vigy::status_error& e) {
        CHECK(e.code() == VIGY_NOT_FOUND);
        why = e.what();
    }
    CHECK(why == "database " + o.path + " does not exist (nothing was created)");
    CHECK_FALSE(std::filesystem::exists(dir.path / "sub"));
    {
        auto c = opts(o.path);  // created by a default open
        store s(c);
        (void)s.register_or_update(spec("kept"));
    }
    store again(o);
    CHECK(again.list_vigies().size() == 1);
}

TEST_CASE("register creates updates to a new revision keeping id and created_ms or reports unchanged", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto spec1 = spec("counter");
    spec1.labels = {{"env", "dev"}};
    spec1.allow = {"io.pleme.mado", "io.pleme.mado", "a.b"};
    const auto r1 = s.register_or_update(spec1);
    CHECK(r1.outcome == register_outcome::created);
    CHECK(r1.revision_changed);
    CHECK(r1.previous_revision.empty());
    CHECK(r1.vigy.id == vigy_id_for("counter"));
    CHECK(r1.vigy.key > 0);
    CHECK(r1.vigy.revision == revision_for("lisp", spec1.config_json));
    CHECK(r1.vigy.enabled);
    CHECK(r1.vigy.interval_ms == 1000);
    CHECK(r1.vigy.labels == label_map{{"env", "dev"}});
    CHECK(r1.vigy.allow == std::vector<std::string>{"a.b", "io.pleme.mado"});  // sorted, deduplicated
    CHECK(r1.vigy.created_ms == r1.vigy.updated_ms);
    CHECK(r1.vigy.resource_version == s.change_seq());
    const auto rv1 = r1.vigy.resource_version;

    const auto same = s.register_or_update(spec1);
    CHECK(same.outcome == register_outcome::unchanged);
    CHECK(same.previous_revision == r1.vigy.revision);
    CHECK(same.vigy.resource_version == rv1);
    CHECK(s.change_seq() == rv1);

    auto spec2 = spec1;
    spec2.config_json = R"j({"program":"(noop) ; edited"})j";
    const auto r2 = s.register_or_update(spec2);
    CHECK(r2.outcome == register_outcome::updated);
    CHECK(r2.revision_changed);
    CHECK(r2.previous_revision == r1.vigy.revision);
    CHECK(r2.vigy.id == r1.vigy.id);
    CHECK(r2.vigy.key == r1.vigy.key);
    CHECK(r2.vigy.created_ms == r1.vigy.created_ms);
    CHECK(r2.vigy.resource_version > rv1);
    CHECK(s.get_revision(r1.vigy.id, r1.vigy.revision) == std::make_pair(std::string("lisp"), spec1.config_json));
    CHECK(s.get_revision(r1.vigy.id, r2.vigy.revision)->second == spec2.config_json);
    CHECK_FALSE(s.get_revision(r1.vigy.id, "ffffffffffffffff"));

    auto spec3 = spec2;
    spec3.interval_ms = 100;
    const auto r3 = s.register_or_update(spec3);
    CHECK(r3.outcome == register_outcome::updated);
    CHECK_FALSE(r3.revision_changed);
    CHECK(r3.vigy.interval_ms == 100);
    auto spec4 = spec3;
    spec4.allow.clear();
    CHECK(s.register_or_update(spec4).outcome == register_outcome::updated);  // grants are part of the spec

    s.set_enabled("counter", false);
    CHECK_FALSE(s.register_or_update(spec4).vigy.enabled);
    spec4.enabled = true;
    CHECK(s.register_or_update(spec4).vigy.enabled);
    CHECK(s.list_vigies().size() == 1);
}

TEST_CASE("writes conditional on a resource version are a compare-and-set that writes nothing on a mismatch",
          "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("cas")).vigy;
    const auto seq = s.change_seq();
    auto edit = spec("cas", R"j({"program":"(x)"})j");
    CHECK(code_of([&] { s.register_or_update(edit, v.resource_version + 1); }) == VIGY_ABORTED);
    CHECK(code_of([&] { s.set_enabled("cas", false, v.resource_version - 1); }) == VIGY_ABORTED);
    CHECK(code_of([&] { s.delete_vigy("cas", false, 999999); }) == VIGY_ABORTED);
    CHECK(code_of([&] { s.register_or_update(spec("missing"), 1); }) == VIGY_NOT_FOUND);
    CHECK(s.change_seq() == seq);  // nothing written
    CHECK(s.get_vigy("cas").revision == v.revision);
    CHECK(s.get_vigy("cas").enabled);
    CHECK_FALSE(s.find_vigy("missing"));
    try {
        s.set_enabled("cas", false, 1234);
    } catch (const vigy::status_error& e) {
        CHECK(std::string(e.what()) == "vigy \"cas\" was changed (resource version " +
                                           std::to_string(v.resource_version) +
                                           ", expected 1234); nothing was written");
    }
    const auto edited = s.register_or_update(edit, v.resource_version);
    CHECK(edited.outcome == register_outcome::updated);
    const auto off = s.set_enabled("cas", false, edited.vigy.resource_version);
    CHECK_FALSE(off.enabled);
    CHECK(s.delete_vigy("cas", false, off.resource_version).name == "cas");
    CHECK_FALSE(s.find_vigy("cas"));
}

TEST_CASE("register rejects bad specs with messages users can act on", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto bad_interval = spec("x");
    bad_interval.interval_ms = 50;
    CHECK_THROWS_WITH(s.register_or_update(bad_interval), "invalid tick interval 50 ms: must be >= 100");
    auto bad_label = spec("x");
    bad_label.labels = {{"bad key", "v"}};
    CHECK_THROWS_WITH(s.register_or_update(bad_label),
                      "invalid label key \"bad key\": name may contain only letters, digits, '-', '_' and '.'");
    auto bad_value = spec("x");
    bad_value.labels = {{"team", "\x1b[2J"}};
    CHECK_THROWS_WITH(s.register_or_update(bad_value), Catch::StartsWith("invalid label value \"\\x1b[2J\""));
    CHECK_THROWS_WITH(s.register_or_update(spec("x", "{nope")), Catch::StartsWith("config is not valid json"));
    CHECK_THROWS_WITH(s.register_or_update(spec("x", "[1]")), "config must be a JSON object");
    CHECK_THROWS_WITH(s.register_or_update(spec("")), "invalid vigy name \"\": must not be empty");
    CHECK_THROWS_WITH(s.register_or_update(spec("Caps")),
                      "invalid vigy name \"Caps\": only lowercase letters, digits, '-' and '.' are allowed");
    auto no_kind = spec("x");
    no_kind.kind = "";
    CHECK_THROWS_WITH(s.register_or_update(no_kind), "vigy \"x\": reconciler kind must not be empty");
    auto huge = spec("x");
    huge.limits.fuel = UINT64_MAX;
    CHECK(code_of([&] { s.register_or_update(huge); }) == VIGY_INVALID_ARGUMENT);
    auto bad_grant = spec("x");
    bad_grant.allow = {"rm -rf"};
    CHECK_THROWS_WITH(s.register_or_update(bad_grant), Catch::StartsWith("invalid capability \"rm -rf\""));
    CHECK(code_of([&] { s.register_or_update(bad_interval); }) == VIGY_INVALID_ARGUMENT);
    CHECK(s.list_vigies().empty());
}

TEST_CASE("get by name or id and unknown names are not_found with the name quoted", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("hello")).vigy;
    CHECK(s.get_vigy("hello").id == v.id);
    CHECK(s.get_vigy(v.id).name == "hello");
    CHECK_FALSE(s.find_vigy("nope"));
    try {
        (void)s.get_vigy("foo");
        FAIL("expected not_found");
    } catch (const vigy::status_error& e) {
        CHECK(e.code() == VIGY_NOT_FOUND);
        CHECK(std::string(e.what()) == "vigy \"foo\" not found");
    }
    CHECK_THROWS_WITH(s.set_enabled("foo", false), "vigy \"foo\" not found");
    CHECK_THROWS_WITH(s.delete_vigy("foo"), "vigy \"foo\" not found");
}

TEST_CASE("list filters by a full Kubernetes selector and pages with an opaque continue token", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto a = spec("a");
    a.labels = {{"env", "prod"}, {"team", "core"}};
    auto b = spec("b");
    b.labels = {{"env", "prod"}, {"team", "web"}};
    s.register_or_update(spec("c"));
    s.register_or_update(b);
    s.register_or_update(a);
    CHECK(names(s.list_vigies()) == std::vector<std::string>{"a", "b", "c"});
    CHECK(names(s.list_vigies(parse_selector("env=prod"))) == std::vector<std::string>{"a", "b"});
    CHECK(names(s.list_vigies(parse_selector("env=prod,team=web"))) == std::vector<std::string>{"b"});
    CHECK(names(s.list_vigies(parse_selector("team!=web"))) == std::vector<std::string>{"a", "c"});
    CHECK(names(s.list_vigies(parse_selector("team in (core,web),env"))) == std::vector<std::string>{"a", "b"});
    CHECK(names(s.list_vigies(parse_selector("!team"))) == std::vector<std::string>{"c"});

    for (int i = 0; i < 25; ++i) {
        auto p = spec("p" + std::string(i < 10 ? "0" : "") + std::to_string(i));
        p.labels = {{"pager", i % 2 == 0 ? "even" : "odd"}};
        s.register_or_update(p);
    }
    std::vector<std::string> seen;
    std::string token;
    int pages = 0;
    do {
        const auto page = s.list_page(parse_selector("pager=even"), 4, token);
        CHECK(page.resource_version == s.change_seq());
        CHECK(page.items.size() <= 4);
        for (const auto& v : page.items) seen.push_back(v.name);
        token = page.continue_token;
        ++pages;
    } while (!token.empty());
    CHECK(pages == 4);  // 13 even of 25: 4 + 4 + 4 + 1
    CHECK(seen.size() == 13);
    CHECK(std::is_sorted(seen.begin(), seen.end()));
    CHECK(seen.front() == "p00");
    CHECK(s.list_page({}, 0).items.size() == 28);
    CHECK(s.list_page({}, 0).continue_token.empty());
    CHECK(code_of([&] { (void)s.list_page({}, 2, "bogus"); }) == VIGY_INVALID_ARGUMENT);
}

TEST_CASE("delete removes history unless kept and the kept history comes back with the name", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto seed = [&](const std::string& name) {
        const auto v = s.register_or_update(spec(name)).vigy;
        auto c = commit_for(v);
        c.kv_upserts = {{"n", "1"}};
        c.conditions = {{"Ready", "True", "Ok", ""}};
        c.events = {{"Normal", "Ticked", "hi"}};
        REQUIRE(s.writer().submit(c).get().ok);
        return v;
    };
    const auto gone = seed("gone");
    const auto kept = seed("kept");
    const auto seq = s.change_seq();

    const auto was = s.delete_vigy("gone");
    CHECK(was.id == gone.id);
    CHECK(was.resource_version > seq);
    CHECK_FALSE(s.find_vigy("gone"));
    CHECK(s.count_runs(gone.id) == 0);
    CHECK(s.kv(gone.id).empty());
    CHECK(s.conditions(gone.id).empty());
    CHECK(s.events(gone.id).empty());

    s.delete_vigy(kept.id, /*keep_history=*/true);
    CHECK_FALSE(s.find_vigy("kept"));
    CHECK(s.list_vigies().empty());
    CHECK(s.count_runs(kept.id) == 1);
    CHECK(s.kv(kept.id).at(0).value_json == "1");
    CHECK(s.conditions(kept.id).size() == 1);

    const auto ch = s.changes_since(seq);
    REQUIRE(ch.changes.size() == 2);
    CHECK(ch.changes[0].type == change_type::deleted);
    CHECK(ch.changes[0].vigy.id == gone.id);
    CHECK(ch.changes[1].type == change_type::deleted);
    CHECK(ch.changes[1].vigy.name == "kept");

    // a tick of a deleted vigy is rejected, not resurrected
    auto late = commit_for(gone);
    const auto r = s.writer().submit(late).get();
    CHECK_FALSE(r.ok);
    CHECK(r.code == VIGY_NOT_FOUND);
    CHECK(s.count_runs(gone.id) == 0);
    auto late_kept = commit_for(kept);
    CHECK(s.commit_now(late_kept).code == VIGY_NOT_FOUND);

    const auto back = s.register_or_update(spec("kept")).vigy;
    CHECK(back.id == kept.id);
    CHECK(back.key == kept.key);
    CHECK(s.count_runs(back.id) == 1);
}

TEST_CASE("the change feed reports ADDED MODIFIED and DELETED per vigy with resource versions", "[store]") {
    temp_dir dir;
    store scheduler(opts(dir.db()));
    store cli(opts(dir.db()));
    const auto s0 = scheduler.change_seq();
    const auto x = cli.register_or_update(spec("x")).vigy;
    auto ch = scheduler.changes_since(s0);
    CHECK_FALSE(ch.gone);
    CHECK(ch.resource_version == x.resource_version);
    REQUIRE(ch.changes.size() == 1);
    CHECK(ch.changes[0].type == change_type::added);
    CHECK(ch.changes[0].resource_version == x.resource_version);
    CHECK(ch.changes[0].vigy.name == "x");
    CHECK(std::string(to_string(ch.changes[0].type)) == "ADDED");

    const auto s1 = ch.resource_version;
    cli.set_enabled("x", false);
    cli.register_or_update(spec("y"));
    ch = scheduler.changes_since(s1);
    REQUIRE(ch.changes.size() == 2);
    CHECK(ch.changes[0].type == change_type::modified);
    CHECK_FALSE(ch.changes[0].vigy.enabled);
    CHECK(ch.changes[1].type == change_type::added);
    CHECK(ch.changes[0].resource_version < ch.changes[1].resource_version);

    const auto s2 = ch.resource_version;
    cli.set_enabled("x", false);  // no change, no bump
    CHECK(scheduler.change_seq() == s2);
    cli.delete_vigy("x");
    cli.register_or_update(spec("x"));  // re-created: a new key
    ch = scheduler.changes_since(s2);
    REQUIRE(ch.changes.size() == 2);
    CHECK(ch.changes[0].type == change_type::deleted);
    CHECK(ch.changes[0].vigy.key == x.key);
    CHECK(ch.changes[1].type == change_type::added);
    CHECK(ch.changes[1].vigy.key != x.key);
    CHECK(scheduler.changes_since(ch.resource_version).changes.empty());

    // an old cursor below the compaction floor is gone
    auto o = opts(dir.db());
    retention_policy p;
    p.keep_runs = 0;
    p.max_age = std::chrono::milliseconds(0);
    p.keep_changes_age = std::chrono::milliseconds(1);
    REQUIRE(eventually([&] {
        scheduler.prune(p);
        return scheduler.changes_since(s1).gone;
    }));
    CHECK_FALSE(scheduler.changes_since(scheduler.change_seq()).gone);
}

TEST_CASE("conditions keep the latest per type and last_transition moves only when the status changes", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("c")).vigy;
    auto set = [&](const std::string& status, const std::string& message, int64_t at) {
        auto c = commit_for(v);
        c.run.started_ms = c.run.ended_ms = at;
        c.conditions = {{"Ready", status, "Reason", message}};
        REQUIRE(s.commit_now(c).ok);
        return c;
    };
    set("True", "first", 1000);
    const auto second = set("True", "second", 2000);
    auto cs = s.conditions(v.id);
    REQUIRE(cs.size() == 1);
    CHECK(cs[0].type == "Ready");
    CHECK(cs[0].status == "True");
    CHECK(cs[0].message == "second");
    CHECK(cs[0].last_transition_ms == 1000);
    CHECK(cs[0].updated_ms == 2000);
    CHECK(cs[0].run_seq == s.get_run(second.run.id)->seq);
    set("False", "third", 3000);
    cs = s.conditions(v.id);
    CHECK(cs[0].status == "False");
    CHECK(cs[0].last_transition_ms == 3000);

    auto bad = commit_for(v);
    bad.conditions = {{"Ready", "true", "", ""}};
    CHECK_THROWS_WITH(s.commit_now(bad), "invalid condition status \"true\": expected True, False or Unknown");
}

TEST_CASE("events are deduplicated Kubernetes-style with count first and last seen", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("e")).vigy;
    for (int64_t t : {1000, 2000, 3000}) {
        auto c = commit_for(v);
        c.run.started_ms = c.run.ended_ms = t;
        c.events = {{"Warning", "DiskFull", "disk at 91%"}};
        REQUIRE(s.commit_now(c).ok);
    }
    auto c = commit_for(v);
    c.run.started_ms = c.run.ended_ms = 4000;
    c.events = {{"Warning", "DiskFull", "disk at 95%"}};
    REQUIRE(s.commit_now(c).ok);
    const auto evs = s.events(v.id);
    REQUIRE(evs.size() == 2);
    CHECK(evs[0].message == "disk at 95%");
    CHECK(evs[0].count == 1);
    CHECK(evs[1].type == "Warning");
    CHECK(evs[1].count == 3);
    CHECK(evs[1].first_ms == 1000);
    CHECK(evs[1].last_ms == 3000);
    CHECK(evs[1].vigy_id == v.id);
    CHECK(s.events(v.id, 1).size() == 1);
    CHECK(s.events({}, 10).size() == 2);

    auto bad = commit_for(v);
    bad.events = {{"Error", "X", ""}};
    CHECK_THROWS_WITH(s.commit_now(bad), "invalid event type \"Error\": expected Normal or Warning");
}

TEST_CASE("retention prunes by count per vigy and by age and never loses the tick clock", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.background_prune = false;
    store s(o);
    const auto a = s.register_or_update(spec("a")).vigy;
    const auto b = s.register_or_update(spec("b")).vigy;
    std::vector<std::string> a_ids;
    std::vector<tick_commit> commits;
    for (int i = 0; i < 30; ++i) {
        auto c = commit_for(a);
        c.run.tick_count = i + 1;
        a_ids.push_back(c.run.id);
        commits.push_back(std::move(c));
        commits.push_back(commit_for(b));
    }
    for (auto& c : commits) (void)s.writer().submit(c);
    s.writer().flush();
    retention_policy keep5;
    keep5.keep_runs = 5;
    keep5.max_age = std::chrono::milliseconds(0);
    keep5.prune_chunk = 7;  // several chunks
    CHECK(s.prune(keep5) == 50);
    CHECK(s.count_runs(a.id) == 5);
    CHECK(s.count_runs(b.id) == 5);
    const auto left = s.recent_runs(a.id, 100);
    REQUIRE(left.size() == 5);
    CHECK(left.front().id == a_ids.back());  // the newest survive
    CHECK(left.back().id == a_ids[25]);
    CHECK(s.oldest_seq() == s.runs_after(0).front().seq);

    // age: every run of `a` is old; they all go, and its tick clock is kept
    REQUIRE(raw_exec(dir.db(),
                     "UPDATE runs SET started_ms = started_ms - 8 * 86400000, ended_ms = ended_ms - 8 * "
                     "86400000 WHERE vid = " +
                         std::to_string(a.key)));
    retention_policy week;
    week.keep_runs = 0;
    CHECK(s.prune(week) == 5);
    CHECK(s.count_runs(a.id) == 0);
    CHECK(s.count_runs() == 5);
    CHECK(s.tick_clock_of(a.key).tick_count == 30);
    CHECK(s.tick_clock_of(b.key).tick_count == 0);  // b's runs had tick_count 0
}

TEST_CASE("the writer prunes in the background between batches", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.retention.keep_runs = 10;
    o.retention.prune_interval = std::chrono::milliseconds(20);
    store s(o);
    const auto v = s.register_or_update(spec("bg")).vigy;
    std::vector<tick_commit> commits;
    for (int i = 0; i < 200; ++i) commits.push_back(commit_for(v));
    for (auto& c : commits) (void)s.writer().submit(c);
    s.writer().flush();
    CHECK(eventually([&] { return s.count_runs(v.id) == 10; }));
    CHECK(s.writer().stats().pruned_runs == 190);
}

TEST_CASE("the run cursor returns committed runs in seq order for all vigies or one", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto a = s.register_or_update(spec("a")).vigy;
    const auto b = s.register_or_update(spec("b")).vigy;
    CHECK(s.last_seq() == 0);
    CHECK(s.oldest_seq() == 0);
    std::vector<tick_commit> commits;
    for (int i = 0; i < 5; ++i) {
        commits.push_back(commit_for(a));
        commits.push_back(commit_for(b));
    }
    for (auto& c : commits) (void)s.writer().submit(c);
    s.writer().flush();
    const auto all = s.runs_after(0);
    REQUIRE(all.size() == 10);
    for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i].seq > all[i - 1].seq);
    CHECK(s.last_seq() == all.back().seq);
    CHECK(all[0].vigy_name == "a");
    CHECK(s.runs_after(0, a.id).size() == 5);
    CHECK(s.runs_after(all[6].seq).size() == 3);
    CHECK(s.runs_after(0, {}, 4).size() == 4);
    CHECK(s.seq_before_started(all[0].started_ms + 600'000) <= all.back().seq);
    CHECK(s.seq_before_started(0) == 0);
    const auto recent = s.recent_runs(a.id, 2);
    REQUIRE(recent.size() == 2);
    CHECK(recent[0].seq > recent[1].seq);
    store other(opts(dir.db()));
    CHECK(other.last_seq() == s.last_seq());
    CHECK(code_of([&] { (void)s.get_run("not-a-uuid"); }) == VIGY_INVALID_ARGUMENT);
    CHECK_FALSE(s.get_run(new_run_id(now_unix_ms())));
}

TEST_CASE("the scheduler lease has one live holder and a new token per new holder", "[store][lease]") {
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    CHECK_FALSE(a.lease_row());
    const auto t1 = a.acquire_lease(req("A", clock_at(100)));
    REQUIRE(t1);
    CHECK(a.acquire_lease(req("A", clock_at(200))) == t1);  // re-acquire = renew, same token
    CHECK_FALSE(b.acquire_lease(req("B", clock_at(300))));  // live: A's lease runs to boot 1200
    auto row = b.lease_row();
    REQUIRE(row);
    CHECK(row->owner == "A");
    CHECK(row->token == *t1);
    CHECK(row->expires_boot_ms == 1200);
    CHECK(a.renew_lease(req("A", clock_at(500)), *t1));
    CHECK_FALSE(b.acquire_lease(req("B", clock_at(1400))));     // renewed to 1500
    const auto t2 = b.acquire_lease(req("B", clock_at(1501)));  // expired on the shared monotonic clock
    REQUIRE(t2);
    CHECK(*t2 > *t1);
    CHECK_FALSE(a.renew_lease(req("A", clock_at(1502)), *t1));  // taken over
    CHECK_FALSE(a.renew_lease(req("B", clock_at(1502)), *t1));  // right owner, stale token
    a.release_lease("A", *t1);                                  // not ours: no-op
    CHECK(a.lease_row()->owner == "B");
    b.release_lease("B", *t2);
    CHECK_FALSE(a.lease_row());
    const auto t3 = a.acquire_lease(req("A", clock_at(1600)));
    REQUIRE(t3);
    CHECK(*t3 > *t2);  // tokens are never reused
    CHECK(code_of([&] { a.acquire_lease(req("", clock_at(0))); }) == VIGY_INVALID_ARGUMENT);
    CHECK(code_of([&] { a.acquire_lease(req("A", clock_at(0), 0)); }) == VIGY_INVALID_ARGUMENT);
}

TEST_CASE("lease expiry ignores a skewed wall clock on the same boot and trusts it only across hosts",
          "[store][lease]") {
    lease_info l;
    l.owner = "A";
    l.host = "h";
    l.boot_id = "boot-a";
    l.expires_boot_ms = 5000;
    l.expires_ms = 2'000'000;
    // same boot: the monotonic clock decides, whatever the wall clocks say
    CHECK(lease_live(l, "h", clock_at(4000, "boot-a", 99'000'000)));
    CHECK_FALSE(lease_live(l, "h", clock_at(5001, "boot-a", 0)));
    // same host, another boot: the holder died with its boot
    CHECK_FALSE(lease_live(l, "h", clock_at(0, "boot-b", 0)));
    // another host: only the recorded wall-clock expiry is known
    CHECK(lease_live(l, "other", clock_at(0, "boot-c", 1'999'999)));
    CHECK_FALSE(lease_live(l, "other", clock_at(0, "boot-c", 2'000'000)));

    temp_dir dir;
    store s(opts(dir.db()));
    REQUIRE(s.acquire_lease(req("A", clock_at(1000, "boot-a", 1'000'000), 5000)));
    // B's wall clock runs 10 s ahead: still no lease while A's is live on the shared clock
    CHECK_FALSE(s.acquire_lease(req("B", clock_at(2000, "boot-a", 1'010'000), 5000)));
}

TEST_CASE("take_over_lease replaces only the named holder live or not", "[store][lease]") {
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    CHECK_FALSE(b.take_over_lease("A", req("B", clock_at(0))));  // free: nothing to take over
    CHECK_FALSE(b.lease_row());
    const auto t1 = a.acquire_lease(req("A", clock_at(0), 60'000));
    REQUIRE(t1);
    CHECK_FALSE(b.take_over_lease("X", req("B", clock_at(1))));  // holder is not X
    CHECK(b.lease_row()->owner == "A");
    const auto t2 = b.take_over_lease("A", req("B", clock_at(1)));  // live, but named
    REQUIRE(t2);
    CHECK(*t2 > *t1);
    CHECK(a.lease_row()->owner == "B");
    CHECK_FALSE(a.renew_lease(req("A", clock_at(2)), *t1));
    CHECK_FALSE(a.take_over_lease("A", req("C", clock_at(3))));  // moved on meanwhile
    CHECK(code_of([&] { a.take_over_lease("", req("C", clock_at(0))); }) == VIGY_INVALID_ARGUMENT);
}

TEST_CASE("tick requests enqueue claim once complete with the run atomically and go back to pending for a new holder",
          "[store]") {
    temp_dir dir;
    store cli(opts(dir.db()));
    store serve(opts(dir.db()));
    const auto v = cli.register_or_update(spec("t")).vigy;
    CHECK_THROWS_WITH(cli.enqueue_tick_request("ffffffffffffffff", "cli"), "vigy \"ffffffffffffffff\" not found");
    const auto r1 = cli.enqueue_tick_request(v.id, "cli:1");
    const auto r2 = cli.enqueue_tick_request(v.id, "cli:2");
    CHECK(cli.get_tick_request(r1)->state == "pending");
    CHECK(cli.get_tick_request(r1)->vigy_id == v.id);
    const auto token = serve.acquire_lease(req("S", clock_at(0), 60'000));
    REQUIRE(token);
    auto claimed = serve.claim_tick_requests(*token);
    REQUIRE(claimed.size() == 2);
    CHECK(claimed[0].id == r1);
    CHECK(claimed[0].state == "claimed");
    CHECK(claimed[0].claimed_token == *token);
    CHECK(claimed[0].vigy_key == v.key);
    CHECK(serve.claim_tick_requests(*token).empty());

    auto c = commit_for(v);
    c.tick_request_id = r1;
    c.fence = token;
    REQUIRE(serve.writer().submit(c).get().ok);
    const auto done = cli.get_tick_request(r1);
    CHECK(done->state == "done");
    CHECK(done->run_id == c.run.id);

    // r2 is still claimed by S; a new holder puts it back to pending
    const auto t2 = cli.take_over_lease("S", req("N", clock_at(1), 60'000));
    REQUIRE(t2);
    CHECK(cli.get_tick_request(r2)->state == "pending");
    CHECK(cli.get_tick_request(r1)->state == "done");
    CHECK(cli.cancel_tick_request(r2, "gave up"));
    CHECK(cli.get_tick_request(r2)->state == "failed");
    CHECK(cli.get_tick_request(r2)->error == "gave up");
    CHECK(cli.get_tick_request(r2)->code == VIGY_UNAVAILABLE);
    CHECK_FALSE(cli.cancel_tick_request(r1, "too late"));
    const auto r3 = cli.enqueue_tick_request(v.id, "cli:3");
    serve.fail_tick_request(r3, VIGY_FAILED_PRECONDITION, "vigy is disabled");
    CHECK(cli.get_tick_request(r3)->code == VIGY_FAILED_PRECONDITION);
    CHECK(cli.get_tick_request(r3)->error == "vigy is disabled");
    CHECK_FALSE(cli.get_tick_request(9999));

    const auto r4 = cli.enqueue_tick_request(v.id, "cli:4");
    cli.delete_vigy("t");
    CHECK(cli.get_tick_request(r4)->state == "failed");
    CHECK(cli.get_tick_request(r4)->code == VIGY_NOT_FOUND);
}

TEST_CASE("a locked database surfaces as unavailable naming the path and loses nothing", "[sqlite][store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.busy_timeout_ms = 100;
    store s(o);
    const auto v = s.register_or_update(spec("held")).vigy;
    raw_db other(dir.db());
    REQUIRE(other.exec("BEGIN IMMEDIATE") == SQLITE_OK);
    try {
        s.register_or_update(spec("blocked"));
        FAIL("expected busy");
    } catch (const vigy::status_error& e) {
        CHECK(e.code() == VIGY_UNAVAILABLE);
        CHECK_THAT(e.what(), Catch::Contains(dir.db()) && Catch::Contains("locked") &&
                                 Catch::Contains("registering vigy \"blocked\""));
    }
    auto c1 = commit_for(v);
    CHECK(code_of([&] { s.commit_now(c1); }) == VIGY_UNAVAILABLE);
    // the writer retries: released while it waits, the commit lands
    auto c2 = commit_for(v);
    auto fut = s.writer().submit(c2);
    REQUIRE(eventually([&] { return s.writer().stats().busy_retries >= 1; }));
    REQUIRE(other.exec("COMMIT") == SQLITE_OK);
    CHECK(fut.get().ok);
    CHECK_FALSE(s.find_vigy("blocked"));
    CHECK(s.register_or_update(spec("blocked")).outcome == register_outcome::created);
    CHECK(s.count_runs(v.id) == 1);
}

TEST_CASE("64-bit values round-trip", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto sp = spec("big");
    sp.interval_ms = 5'000'000'000LL;
    sp.limits = {9'000'000'000'000ULL, 6'000'000'000ULL, 1ULL << 40, 3'000'000'000ULL};
    const auto v = s.register_or_update(sp).vigy;
    const auto back = s.get_vigy("big");
    CHECK(back.interval_ms == 5'000'000'000LL);
    CHECK(back.limits == sp.limits);
    auto c = commit_for(v);
    c.run.duration_us = 5'000'000'000'000LL;
    c.run.revision = "ffffffffffffffff";
    c.kv_upserts = {{"n", "9007199254740993"}};
    REQUIRE(s.commit_now(c).ok);
    const auto run = s.get_run(c.run.id);
    REQUIRE(run);
    CHECK(run->duration_us == 5'000'000'000'000LL);
    CHECK(run->revision == "ffffffffffffffff");
    CHECK(s.kv(v.id).at(0).value_json == "9007199254740993");
}

TEST_CASE("integrity_check is ok after a workload", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("i")).vigy;
    std::vector<tick_commit> commits;
    for (int i = 0; i < 300; ++i) {
        auto c = commit_for(v, i % 7 == 0 ? run_result::failed : run_result::ok);
        std::string key = "k";
        key += std::to_string(i % 13);
        c.kv_upserts = {{key, std::to_string(i)}};
        commits.push_back(std::move(c));
    }
    for (auto& c : commits) (void)s.writer().submit(c);
    s.writer().flush();
    s.delete_vigy("i");
    CHECK(s.integrity_check() == "ok");
}

TEST_CASE("retention keeps the most recently seen events per vigy", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.background_prune = false;
    store s(o);
    const auto v = s.register_or_update(spec("ev")).vigy;
    for (int i = 0; i < 12; ++i) {
        auto c = commit_for(v);
        c.run.started_ms = c.run.ended_ms = 1000 + i;
        c.events = {{"Normal", "Step", "step " + std::to_string(i)}};
        REQUIRE(s.commit_now(c).ok);
    }
    retention_policy p;
    p.keep_runs = 0;
    p.max_age = std::chrono::milliseconds(0);
    p.keep_events = 4;
    s.prune(p);
    const auto evs = s.events(v.id, 100);
    REQUIRE(evs.size() == 4);
    CHECK(evs.front().message == "step 11");
    CHECK(evs.back().message == "step 8");
    CHECK(s.count_runs(v.id) == 12);
}

TEST_CASE("paths with spaces work and unusable paths fail naming them", "[sqlite][store]") {
    temp_dir dir;
    const std::string spaced = (dir.path / "my dir" / "vigy db.sqlite").string();
    {
        store s(opts(spaced));
        s.register_or_update(spec("x"));
    }
    CHECK(std::filesystem::exists(spaced));
    store again(opts(spaced));
    CHECK(again.list_vigies().size() == 1);

    const std::string blocker = dir.db("file");
    { std::ofstream(blocker) << "x"; }
    try {
        store bad(opts(blocker + "/vigy.db"));
        FAIL("expected an error");
    } catch (const vigy::status_error& e) {
        CHECK(e.code() == VIGY_FAILED_PRECONDITION);
        CHECK_THAT(e.what(), Catch::Contains(blocker));
    }
    const std::string junk = dir.db("junk.db");
    { std::ofstream(junk) << std::string(4096, 'j'); }
    try {
        store bad(opts(junk));
        FAIL("expected an error");
    } catch (const vigy::status_error& e) {
        CHECK(e.code() == VIGY_FAILED_PRECONDITION);
        CHECK_THAT(e.what(), Catch::Contains(junk));
    }
    CHECK_THROWS_WITH(store(opts("")), "database path must not be empty");
}

TEST_CASE("try_change_seq never waits and agrees with change_seq, also for another process's writes", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    CHECK_FALSE(s.try_change_seq().has_value());  // no reader opened yet: the caller goes the blocking way
    const auto seq0 = s.change_seq();
    REQUIRE(s.try_change_seq().has_value());
    CHECK(*s.try_change_seq() == seq0);
    const auto r = s.register_or_update(spec("a"));
    CHECK(*s.try_change_seq() == r.vigy.resource_version);
    {
        store other(opts(dir.db()));  // another writer on the same file (the CLI beside serve)
        other.set_enabled("a", false);
        CHECK(*s.try_change_seq() == other.change_seq());
    }
    CHECK(*s.try_change_seq() > r.vigy.resource_version);
    // many threads at once: each either reads the current value or declines, never blocks or throws
    const auto now = s.change_seq();
    std::atomic<int> read{0}, wrong{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; ++t)
        ts.emplace_back([&] {
            for (int i = 0; i < 2000; ++i)
                if (const auto v = s.try_change_seq()) {
                    ++read;
                    if (*v != now) ++wrong;
                }
        });
    for (auto& t : ts) t.join();
    CHECK(read > 0);
    CHECK(wrong == 0);
}
