// tests/store/test_schema.cpp — store/src/schema.cpp: a fresh database at schema 4, the
// frozen schema 1, 2 and 3 databases (tests/store/fixtures) upgraded with their data,
// the readable views, refusing newer schemas and upgrades under a live older serve.
#include "common.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace vigy::store;
using namespace vigy_store_test;

namespace {

/// Loads a fixture .sql (a sqlite3 .dump) into a new database file.
void load_fixture(const std::string& path, const std::string& name) {
    raw_db raw(path);
    const std::string sql = fixture(name);
    REQUIRE_FALSE(sql.empty());
    REQUIRE(raw.exec(sql) == SQLITE_OK);
}

int64_t ms_of(const char* rfc3339) {
    raw_db mem(":memory:");
    return mem.scalar(std::string("SELECT CAST(round((julianday('") + rfc3339 +
                      "') - 2440587.5) * 86400000) AS INTEGER)");
}

}  // namespace

TEST_CASE("a new database is at schema 4 in WAL mode and reopening applies nothing", "[sqlite][store][schema]") {
    temp_dir dir;
    const std::string path = (dir.path / "a" / "b" / "vigy.db").string();
    {
        store s(opts(path));
        CHECK(s.path() == path);
        CHECK(s.schema_version() == 4);
        CHECK(s.integrity_check() == "ok");
    }
    raw_db raw(path);
    CHECK(raw.text("PRAGMA journal_mode") == "wal");
    CHECK(raw.scalar("SELECT count(*) FROM schema_version") == 4);
    store again(opts(path));
    CHECK(again.schema_version() == 4);
    CHECK(raw.scalar("SELECT count(*) FROM schema_version") == 4);
    CHECK(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'kv' AND sql LIKE '%__sys%'") == 0);
}

TEST_CASE("the frozen schema 2 database upgrades keeping runs kv conditions events and the tick clock",
          "[sqlite][store][schema]") {
    temp_dir dir;
    const std::string path = dir.db();
    load_fixture(path, "schema_v2.sql");
    raw_db before(path);
    const auto runs_before = before.scalar("SELECT count(*) FROM runs");
    const auto max_seq = before.scalar("SELECT max(seq) FROM runs");
    const auto tick_count = before.scalar(
        "SELECT CAST(value_json AS INTEGER) FROM kv WHERE vigy_id = 'efe899c74558f20b' AND key = '__sys::tick_count'");
    const auto n = before.scalar(
        "SELECT CAST(value_json AS INTEGER) FROM kv WHERE vigy_id = 'efe899c74558f20b' AND "
        "key = 'n'");
    const auto orphan_runs = before.scalar("SELECT count(*) FROM runs WHERE vigy_id = '283bb9deef02e684'");
    REQUIRE(runs_before > 10);
    REQUIRE(tick_count == n);
    REQUIRE(orphan_runs == 1);

    store s(opts(path));
    CHECK(s.schema_version() == 4);
    CHECK(s.integrity_check() == "ok");
    CHECK(s.count_runs() == runs_before);
    CHECK(s.last_seq() == max_seq);

    const auto counter = s.get_vigy("counter");
    CHECK(counter.id == "efe899c74558f20b");
    CHECK(counter.labels == label_map{{"team", "infra"}, {"tier", "1"}});
    CHECK(counter.interval_ms == 200);
    CHECK(counter.resource_version > 0);
    CHECK(s.get_vigy("idle").enabled == false);
    CHECK(s.list_vigies().size() == 4);  // counter, hello, idle, broken (not the deleted one)

    // kv without the bookkeeping keys; the tick clock comes from the runs
    const auto kv = s.kv(counter.id);
    REQUIRE(kv.size() == 1);
    CHECK(kv[0].key == "n");
    CHECK(kv[0].value_json == std::to_string(n));
    CHECK(kv[0].updated_ms > 0);
    const auto clock = s.tick_clock_of(counter.key);
    CHECK(clock.tick_count == tick_count);
    CHECK(clock.previous_tick_ms > 0);

    // runs read back whole
    const auto runs = s.recent_runs(counter.id, 1000);
    CHECK(static_cast<int64_t>(runs.size()) + s.count_runs(s.get_vigy("hello").id) +
              s.count_runs(s.get_vigy("broken").id) + 1 ==
          runs_before);
    const auto& newest = runs.front();
    CHECK(newest.result == run_result::ok);
    CHECK(newest.tick_count == tick_count);
    CHECK(newest.vigy_name == "counter");
    CHECK(newest.output == std::to_string(n));
    CHECK(newest.actions_json == "[{\"kind\":\"push\",\"payload\":" + std::to_string(n) + "}]");
    CHECK(newest.conditions_json.find("\"type\":\"Ready\"") != std::string::npos);
    CHECK(newest.conditions_json.find("\"status\":\"True\"") != std::string::npos);
    CHECK(newest.log_json == "[{\"level\":\"info\",\"message\":\"n=" + std::to_string(n) + "\"}]");
    CHECK(newest.duration_us > 0);
    CHECK(newest.started_ms > 0);
    CHECK(newest.ended_ms >= newest.started_ms);
    CHECK(newest.id.size() == 36);
    const auto again = s.get_run(newest.id);
    REQUIRE(again);
    CHECK(again->seq == newest.seq);
    const auto broken = s.recent_runs(s.get_vigy("broken").id, 10);
    REQUIRE_FALSE(broken.empty());
    CHECK(broken.front().result == run_result::failed);
    CHECK_FALSE(broken.front().error.empty());

    // conditions and events
    const auto conds = s.conditions(counter.id);
    REQUIRE(conds.size() == 1);
    CHECK(conds[0].type == "Ready");
    CHECK(conds[0].status == "True");
    CHECK(conds[0].reason == "Counted");
    CHECK(conds[0].run_seq > 0);
    const auto evs = s.events(counter.id);
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].count == n);
    CHECK(evs[0].first_ms <= evs[0].last_ms);

    // the history kept of the deleted vigy comes back with its name
    CHECK_FALSE(s.find_vigy("gone"));
    auto gone = spec("gone", "{}");
    gone.kind = "noop";
    const auto back = s.register_or_update(gone);
    CHECK(back.outcome == register_outcome::created);
    CHECK(back.vigy.id == "283bb9deef02e684");
    CHECK(s.count_runs(back.vigy.id) == orphan_runs);

    // the next tick of the counter continues its tick_count; seq continues
    auto c = commit_for(counter);
    c.run.tick_count = clock.tick_count + 1;
    c.kv_upserts = {{"n", std::to_string(n + 1)}};
    const auto r = s.commit_now(c);
    REQUIRE(r.ok);
    CHECK(r.seq > max_seq);
    CHECK(s.tick_clock_of(counter.key).tick_count == tick_count + 1);

    // the change feed starts at the upgrade: older cursors are gone, the current one is not
    CHECK(s.changes_since(0).gone);
    CHECK_FALSE(s.changes_since(s.change_seq()).gone);
}

TEST_CASE("the frozen schema 1 database upgrades through 2 to 3 with its data", "[sqlite][store][schema]") {
    temp_dir dir;
    const std::string path = dir.db();
    load_fixture(path, "schema_v1.sql");
    store s(opts(path));
    CHECK(s.schema_version() == 4);
    const auto v = s.get_vigy("old");
    CHECK(v.labels == label_map{{"team", "infra"}});
    CHECK(v.created_ms == ms_of("2026-05-21T12:00:00.000Z"));
    const auto runs = s.runs_after(0, v.id);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].id == "0186f1a2-3b4c-7d5e-8f60-718293a4b5c6");
    CHECK(runs[0].duration_us == 7000);  // schema 1 kept ms
    CHECK(runs[0].trigger == run_trigger::schedule);
    CHECK(runs[0].tick_count == 0);  // unknown before schema 2
    CHECK(runs[0].output == "1");
    CHECK(runs[0].revision == "1111111111111111");
    CHECK(runs[0].started_ms == ms_of("2026-05-21T12:00:01.000Z"));
    CHECK(runs[0].conditions_json ==
          R"([{"type":"Ready","status":"True","reason":"Counted","last_transition":"2026-05-21T12:00:01.000Z"}])");
    CHECK(runs[1].result == run_result::failed);
    CHECK(runs[1].error == "boom");
    CHECK(runs[1].status == VIGY_UNKNOWN);
    CHECK(runs[0].status == VIGY_OK);
    CHECK(runs[1].output.empty());
    CHECK(runs[1].trace_json == "{}");
    // the bookkeeping kv became the tick clock
    const auto clock = s.tick_clock_of(v.key);
    CHECK(clock.tick_count == 1);
    CHECK(clock.previous_tick_ms == ms_of("2026-05-21T12:00:01.000Z"));
    REQUIRE(s.kv(v.id).size() == 1);
    CHECK(s.kv(v.id)[0].key == "n");
    CHECK(s.conditions(v.id).at(0).run_seq == runs[0].seq);
    CHECK(s.get_revision(v.id, "1111111111111111"));
}

TEST_CASE("views show readable columns for sqlite3 users", "[sqlite][store][schema]") {
    temp_dir dir;
    {
        store s(opts(dir.db()));
        const auto v = s.register_or_update(spec("view")).vigy;
        auto c = commit_for(v);
        c.run.started_ms = c.run.ended_ms = ms_of("2026-05-21T12:00:01.250Z");
        c.run.output = "said \"hi\"";
        c.kv_upserts = {{"k", "1"}};
        c.conditions = {{"Ready", "True", "Ok", ""}};
        REQUIRE(s.commit_now(c).ok);
    }
    raw_db raw(dir.db());
    CHECK(raw.text("SELECT vigy FROM runs_view") == "view");
    CHECK(raw.text("SELECT started_at FROM runs_view") == "2026-05-21T12:00:01.250Z");
    CHECK(raw.text("SELECT result FROM runs_view") == "ok");
    CHECK(raw.text("SELECT run_trigger FROM runs_view") == "schedule");
    CHECK(raw.text("SELECT revision FROM runs_view") == "0000000000000000");
    CHECK(raw.text("SELECT output FROM runs_view") == "said \"hi\"");
    CHECK(raw.text("SELECT actions FROM runs_view") == R"([{"kind":"noop","result":"ok"}])");
    CHECK(raw.text("SELECT length(run_id) FROM runs_view") == "36");
    CHECK(raw.text("SELECT value FROM kv_view WHERE key = 'k'") == "1");
    CHECK(raw.text("SELECT status FROM conditions_view") == "True");
    CHECK(raw.text("SELECT enabled FROM vigies_view") == "yes");
    // only the filled buffers are stored, in one column
    CHECK(raw.text("SELECT body FROM runs") ==
          R"({"actions":[{"kind":"noop","result":"ok"}],"log":[{"level":"info","message":"hello, vigy"}],)"
          R"("output":"said \"hi\""})");
    CHECK(raw.text("SELECT body FROM runs").find("desired") == std::string::npos);
}

TEST_CASE("a database from a newer vigy is refused with a clear message", "[sqlite][store][schema]") {
    temp_dir dir;
    { store s(opts(dir.db())); }
    {
        raw_db raw(dir.db());
        REQUIRE(raw.exec("INSERT INTO schema_version(version, applied_at) VALUES (7, '2030-01-01T00:00:00.000Z')") ==
                SQLITE_OK);
    }
    try {
        store s(opts(dir.db()));
        FAIL("expected a refusal");
    } catch (const vigy::status_error& e) {
        CHECK(e.code() == VIGY_FAILED_PRECONDITION);
        CHECK(std::string(e.what()) ==
              "database " + dir.db() + " has schema version 7, newer than this vigy (supports up to 4); upgrade vigy");
    }
}

TEST_CASE("an upgrade is refused while an older serve still holds the database", "[sqlite][store][schema]") {
    temp_dir dir;
    const std::string path = dir.db();
    load_fixture(path, "schema_v2.sql");
    {
        raw_db raw(path);
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        REQUIRE(raw.exec("INSERT INTO scheduler_lease VALUES (1, 'serve:x', " + std::to_string(::getpid()) + ", '" +
                         host + "', 0, 0, " + std::to_string(now_unix_ms() + 60'000) + ")") == SQLITE_OK);
    }
    try {
        store s(opts(path));
        FAIL("expected a refusal");
    } catch (const vigy::status_error& e) {
        CHECK(e.code() == VIGY_FAILED_PRECONDITION);
        CHECK_THAT(e.what(), Catch::Contains("older vigy (pid " + std::to_string(::getpid())) &&
                                 Catch::Contains("stop it before upgrading"));
    }
    raw_db raw(path);
    CHECK(raw.scalar("SELECT max(version) FROM schema_version") == 2);  // untouched
}

TEST_CASE("the frozen schema 3 database upgrades to 4 keeping its data, with states from the enabled flag",
          "[sqlite][store][schema]") {
    temp_dir dir;
    const std::string path = dir.db();
    load_fixture(path, "schema_v3.sql");
    raw_db before(path);
    const auto runs_before = before.scalar("SELECT count(*) FROM runs");
    const auto rv_before = before.scalar("SELECT resource_version FROM vigies WHERE name = 'counter'");
    REQUIRE(runs_before == 6);
    store s(opts(path));
    CHECK(s.schema_version() == 4);
    CHECK(s.integrity_check() == "ok");
    CHECK(s.count_runs() == runs_before);
    const auto counter = s.get_vigy("counter");
    CHECK(counter.state == "Enabled");
    CHECK(counter.enabled);
    CHECK(counter.schedule_json.empty());  // fixed rate: the interval alone, as before
    CHECK(counter.interval_ms == 200);
    CHECK(counter.resource_version == rv_before);
    CHECK(counter.labels.at("team") == "infra");
    const auto idle = s.get_vigy("idle");
    CHECK(idle.state == "Disabled");
    CHECK_FALSE(idle.enabled);
    CHECK(s.kv_map_of(counter.key).at("n") == "2");
    CHECK(s.tick_clock_of(counter.key).tick_count == 2);
    const auto conds = s.conditions(counter.id);
    REQUIRE(conds.size() == 1);
    CHECK(conds[0].status == "True");
    const auto runs = s.recent_runs(counter.id, 10);
    REQUIRE(runs.size() == 4);
    CHECK(runs[0].trigger_kind.empty());
    CHECK(runs[0].trigger_json.empty());
    CHECK(runs[0].output == "2");
    raw_db raw(path);
    CHECK(raw.text("SELECT state FROM vigies_view WHERE name = 'idle'") == "Disabled");
    CHECK(raw.text("SELECT schedule FROM vigies_view WHERE name = 'counter'") == R"({"kind":"every","every_ms":200})");
    CHECK(raw.scalar("SELECT count(*) FROM runs_view WHERE trigger_kind IS NULL") == runs_before);
    // a new run continues the cursor
    auto c = commit_for(counter);
    c.run.trigger_kind = "event";
    c.run.trigger_json = R"({"kind":"event","source":"db","payload":null})";
    const auto r = s.commit_now(c);
    REQUIRE(r.ok);
    CHECK(r.seq == 7);
    const auto back = s.recent_runs(counter.id, 1).at(0);
    CHECK(back.trigger_kind == "event");
    CHECK(back.trigger_json == R"({"kind":"event","source":"db","payload":null})");
}

TEST_CASE("schedules and lifecycle states are stored, and re-registering re-arms a Completed one-shot",
          "[store][schema]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto sp = spec("job");
    sp.schedule_json = R"({"kind":"once"})";
    auto v = s.register_or_update(sp).vigy;
    CHECK(v.schedule_json == R"({"kind":"once"})");
    CHECK(v.state == "Enabled");
    // the same spec again: unchanged
    CHECK(s.register_or_update(sp).outcome == register_outcome::unchanged);
    // a guarded transition that does not apply writes nothing
    const auto same = s.set_state(v.id, state_completed, "ran once", {state_degraded});
    CHECK(same.state == "Enabled");
    CHECK(same.resource_version == v.resource_version);
    const auto done = s.set_state(v.id, state_completed, "ran once: ok", {state_enabled});
    CHECK(done.state == "Completed");
    CHECK(done.state_reason == "ran once: ok");
    CHECK(done.enabled);
    CHECK(done.resource_version > v.resource_version);
    // enable keeps a Completed one-shot Completed; re-registering unchanged keeps it too
    CHECK(s.set_enabled(v.id, true).state == "Completed");
    CHECK(s.register_or_update(sp).vigy.state == "Completed");
    // a new schedule re-arms it
    sp.schedule_json = R"({"kind":"once","at_ms":1})";
    const auto again = s.register_or_update(sp);
    CHECK(again.outcome == register_outcome::updated);
    CHECK(again.vigy.state == "Enabled");
    // Degraded -> enable: Enabled, condition Degraded=False
    s.set_state(v.id, state_degraded, "failed 5 times", {state_enabled},
                condition_update{"Degraded", "True", "TooManyFailures", "boom"});
    auto conds = s.conditions(v.id);
    REQUIRE(conds.size() == 1);
    CHECK(conds[0].status == "True");
    CHECK(s.get_vigy(v.id).state == "Degraded");
    CHECK(s.set_enabled(v.id, true).state == "Enabled");
    conds = s.conditions(v.id);
    REQUIRE(conds.size() == 1);
    CHECK(conds[0].status == "False");
    // disable -> Disabled; re-registering without `enabled` keeps it
    CHECK(s.set_enabled(v.id, false).state == "Disabled");
    sp.schedule_json = R"({"kind":"once","at_ms":2})";
    CHECK(s.register_or_update(sp).vigy.state == "Disabled");
    CHECK_THROWS_AS(s.set_state(v.id, "Sleeping", ""), vigy::status_error);
}

TEST_CASE("tick requests carry a trigger and coalesced ones are completed by the run", "[store][schema]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("t")).vigy;
    lease_request lr;
    lr.owner = "serve:test";
    lr.pid = 1;
    lr.host = "h";
    lr.now = {"boot", 1, now_unix_ms()};
    lr.ttl_ms = 60000;
    const auto token = s.acquire_lease(lr);
    REQUIRE(token);
    const auto a = s.enqueue_tick_request(v.id, "cli", R"({"kind":"manual","source":"cli","payload":1})");
    const auto b = s.enqueue_tick_request(v.id, "cli");
    const auto claimed = s.claim_tick_requests(*token);
    REQUIRE(claimed.size() == 2);
    CHECK(claimed[0].trigger_json == R"({"kind":"manual","source":"cli","payload":1})");
    CHECK(claimed[1].trigger_json.empty());
    auto c = commit_for(v);
    c.tick_request_id = b;
    c.fence = *token;
    const auto r = s.commit_now(c);
    REQUIRE(r.ok);
    s.complete_tick_request(a, c.run.id);
    CHECK(s.get_tick_request(a)->state == "done");
    CHECK(s.get_tick_request(a)->run_id == c.run.id);
    CHECK(s.get_tick_request(b)->run_id == c.run.id);
}
