// tests/store/test_store.cpp — opening, migrations, vigies, deletes, conditions, events,
// retention, tail cursor, generation, leases, tick requests, busy databases.
#include "common.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

using namespace vigy::store;
using namespace vigy_store_test;

namespace {
/// "2026-05-21T12:00:SS.000Z" for small i: increasing timestamps for ordering tests.
std::string fmt_ts(int i) {
    return format_timestamp(parse_timestamp("2026-05-21T12:00:00.000Z") + std::chrono::seconds(i));
}
}  // namespace

TEST_CASE("open creates parent directories, WAL mode, schema version 2, integrity ok", "[store]") {
    temp_dir dir;
    const std::string path = (dir.path / "a" / "b" / "vigy.db").string();
    {
        store s(opts(path));
        CHECK(s.path() == path);
        CHECK(s.schema_version() == 2);
        CHECK(s.integrity_check() == "ok");
    }
    raw_db raw(path);
    CHECK(raw.text("PRAGMA journal_mode") == "wal");
    CHECK(raw.scalar("SELECT count(*) FROM schema_version") == 2);
    // reopening applies nothing new
    store again(opts(path));
    CHECK(again.schema_version() == 2);
    CHECK(raw.scalar("SELECT count(*) FROM schema_version") == 2);
}

// Frozen copy of schema version 1 exactly as vigy 1 created it (store/src/db.cpp migration 1,
// plus the schema_version bookkeeping). Never edit: it is what old databases look like.
const char* const schema_v1[] = {
    R"(CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL))",
    R"(CREATE TABLE store_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL))",
    R"(INSERT INTO store_meta(key, value) VALUES ('generation', 0))",
    R"(CREATE TABLE vigies (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        config_json TEXT NOT NULL,
        revision TEXT NOT NULL,
        interval_ms BIGINT NOT NULL CHECK (interval_ms >= 100),
        enabled INTEGER NOT NULL,
        labels_json TEXT NOT NULL,
        fuel BIGINT NOT NULL DEFAULT 0,
        wall_ms BIGINT NOT NULL DEFAULT 0,
        memory_bytes BIGINT NOT NULL DEFAULT 0,
        max_depth BIGINT NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        generation BIGINT NOT NULL))",
    R"(CREATE INDEX vigies_by_generation ON vigies(generation))",
    R"(CREATE TABLE vigy_tombstones (
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        generation BIGINT NOT NULL,
        deleted_at TEXT NOT NULL))",
    R"(CREATE INDEX vigy_tombstones_by_generation ON vigy_tombstones(generation))",
    R"(CREATE TABLE vigy_revisions (
        vigy_id TEXT NOT NULL,
        revision TEXT NOT NULL,
        kind TEXT NOT NULL,
        config_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (vigy_id, revision)) WITHOUT ROWID)",
    R"(CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        vigy_id TEXT NOT NULL,
        revision TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        result TEXT NOT NULL CHECK (result IN ('ok', 'failed', 'skipped')),
        error TEXT NOT NULL,
        duration_ms BIGINT NOT NULL,
        actions_json TEXT NOT NULL,
        desired_json TEXT NOT NULL,
        observed_json TEXT NOT NULL,
        conditions_json TEXT NOT NULL,
        log_json TEXT NOT NULL,
        trace_json TEXT NOT NULL,
        metrics_json TEXT NOT NULL,
        events_json TEXT NOT NULL,
        output_json TEXT NOT NULL))",
    R"(CREATE INDEX runs_by_vigy ON runs(vigy_id, seq))",
    R"(CREATE TABLE kv (
        vigy_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value_json TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (vigy_id, key)) WITHOUT ROWID)",
    R"(CREATE TABLE conditions (
        vigy_id TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('true', 'false', 'unknown')),
        reason TEXT NOT NULL,
        message TEXT NOT NULL,
        last_transition TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        run_id TEXT NOT NULL,
        PRIMARY KEY (vigy_id, name)) WITHOUT ROWID)",
    R"(CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        vigy_id TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('Normal', 'Warning')),
        reason TEXT NOT NULL,
        message TEXT NOT NULL,
        count BIGINT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        run_id TEXT NOT NULL,
        UNIQUE (vigy_id, type, reason, message)))",
    R"(CREATE INDEX events_by_vigy ON events(vigy_id, last_seen))",
    R"(CREATE TABLE scheduler_lease (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        owner TEXT NOT NULL,
        pid BIGINT NOT NULL,
        host TEXT NOT NULL,
        acquired_ms BIGINT NOT NULL,
        heartbeat_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL))",
    R"(CREATE TABLE tick_requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        vigy_id TEXT NOT NULL,
        requester TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'done', 'failed')),
        requested_ms BIGINT NOT NULL,
        claimed_ms BIGINT NOT NULL DEFAULT 0,
        done_ms BIGINT NOT NULL DEFAULT 0,
        run_id TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT ''))",
    R"(CREATE INDEX tick_requests_by_state ON tick_requests(state, id))",
    R"(INSERT INTO schema_version(version, applied_at) VALUES (1, '2026-05-21T12:00:00.000Z'))",
};

TEST_CASE("a schema 1 database upgrades on open and keeps its runs and kv", "[store]") {
    temp_dir dir;
    const std::string path = dir.db();
    const std::string vid = vigy_id_for("old");
    const std::string run_id = new_run_id();
    {
        raw_db raw(path);
        REQUIRE(raw.exec("BEGIN") == SQLITE_OK);
        for (const char* stmt : schema_v1) REQUIRE(raw.exec(stmt) == SQLITE_OK);
        REQUIRE(raw.exec("INSERT INTO vigies VALUES ('" + vid + "', 'old', 'lisp', '{}', '0000000000000000', 1000, 1, "
                         "'{}', 0, 0, 0, 0, '2026-05-21T12:00:00.000Z', '2026-05-21T12:00:00.000Z', 1)") == SQLITE_OK);
        REQUIRE(raw.exec("UPDATE store_meta SET value = 1 WHERE key = 'generation'") == SQLITE_OK);
        REQUIRE(raw.exec("INSERT INTO runs(id, vigy_id, revision, started_at, ended_at, result, error, duration_ms, "
                         "actions_json, desired_json, observed_json, conditions_json, log_json, trace_json, metrics_json, "
                         "events_json, output_json) VALUES ('" + run_id + "', '" + vid + "', '0000000000000000', "
                         "'2026-05-21T12:00:01.000Z', '2026-05-21T12:00:01.007Z', 'ok', '', 7, '[]', '{}', '{}', '[]', "
                         "'[]', '{}', '{}', '[]', '\"hi\"')") == SQLITE_OK);
        REQUIRE(raw.exec("INSERT INTO kv VALUES ('" + vid + "', 'n', '1', '2026-05-21T12:00:01.007Z')") == SQLITE_OK);
        REQUIRE(raw.exec("COMMIT") == SQLITE_OK);
        REQUIRE(raw.scalar("SELECT max(version) FROM schema_version") == 1);
    }
    store s(opts(path));
    CHECK(s.schema_version() == 2);
    CHECK(s.integrity_check() == "ok");
    // the old run is intact and reads back with the new fields defaulted
    auto old = s.get_run(run_id);
    REQUIRE(old);
    CHECK(old->vigy_id == vid);
    CHECK(old->duration_ms == 7);
    CHECK(old->duration_us == 7000);
    CHECK(old->trigger == "schedule");
    CHECK(old->tick_count == 0);
    CHECK(old->kv_writes_json == "{}");
    CHECK(old->kv_deletes_json == "[]");
    CHECK(old->output_json == "\"hi\"");
    CHECK(s.count_runs(vid) == 1);
    auto kv = s.kv_entries(vid);
    REQUIRE(kv.size() == 1);
    CHECK(kv[0].key == "n");
    CHECK(kv[0].value_json == "1");
    CHECK(kv[0].updated_at == "2026-05-21T12:00:01.007Z");
    CHECK(s.get_vigy("old").generation == 1);
    // new runs keep everything
    auto c = commit_for(vid);
    c.run.trigger = "forced";
    c.run.tick_count = 2;
    c.run.duration_ms = 1;
    c.run.duration_us = 1234;
    c.run.kv_writes_json = R"({"n":2})";
    c.run.kv_deletes_json = R"(["gone"])";
    c.kv_upserts = {{"n", "2"}};
    REQUIRE(s.commit_now(c).ok);
    auto runs = s.runs_after(0, vid);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].id == run_id);
    CHECK(runs[1].trigger == "forced");
    CHECK(runs[1].tick_count == 2);
    CHECK(runs[1].duration_us == 1234);
    CHECK(runs[1].kv_writes_json == R"({"n":2})");
    CHECK(runs[1].kv_deletes_json == R"(["gone"])");
    CHECK(s.kv_entries(vid)[0].updated_at == c.run.ended_at);
    // a reopen applies nothing new
    raw_db raw(path);
    CHECK(raw.scalar("SELECT count(*) FROM schema_version") == 2);
}

TEST_CASE("runs keep trigger tick_count microsecond duration and kv changes and bad values are refused", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("keep")).vigy;
    auto c = commit_for(v.id);
    c.run.duration_ms = 3;  // duration_us 0: derived
    c.run.tick_count = 9;
    c.run.kv_writes_json = R"({"a":1})";
    c.run.kv_deletes_json = R"(["b"])";
    c.kv_upserts = {{"a", "1"}};
    c.kv_deletes = {"b"};
    const auto ok = s.commit_now(c);
    REQUIRE(ok.ok);
    auto r = s.get_run(ok.run_id);
    REQUIRE(r);
    CHECK(r->trigger == "schedule");
    CHECK(r->tick_count == 9);
    CHECK(r->duration_us == 3000);
    CHECK(r->kv_writes_json == R"({"a":1})");
    CHECK(r->kv_deletes_json == R"(["b"])");
    // a failed run carries no kv, whatever it says
    auto f = commit_for(v.id, run_result::failed);
    f.run.kv_writes_json = R"({"a":2})";
    f.run.kv_deletes_json = R"(["a"])";
    const auto failed = s.commit_now(f);
    REQUIRE(failed.ok);
    CHECK(s.get_run(failed.run_id)->kv_writes_json == "{}");
    CHECK(s.get_run(failed.run_id)->kv_deletes_json == "[]");
    CHECK(s.kv(v.id).at("a") == "1");

    auto bad = commit_for(v.id);
    bad.run.trigger = "cron";
    CHECK_THROWS_WITH(s.commit_now(bad), "invalid run trigger \"cron\": expected schedule or forced");
    bad = commit_for(v.id);
    bad.run.tick_count = -1;
    CHECK_THROWS_WITH(s.commit_now(bad), "run tick_count must be >= 0");
    bad = commit_for(v.id);
    bad.run.duration_us = -1;
    CHECK_THROWS_WITH(s.commit_now(bad), "run duration_us must be >= 0");
    bad = commit_for(v.id);
    bad.run.kv_writes_json = "{";
    CHECK_THROWS_AS(s.commit_now(bad), error);
    bad = commit_for(v.id);
    bad.run.kv_deletes_json = "[1,";
    CHECK_THROWS_AS(s.commit_now(bad), error);
    CHECK(s.count_runs(v.id) == 2);
}

TEST_CASE("a database from a newer vigy is refused with a clear message", "[store]") {
    temp_dir dir;
    { store s(opts(dir.db())); }
    {
        raw_db raw(dir.db());
        REQUIRE(raw.exec("INSERT INTO schema_version(version, applied_at) VALUES (7, '2030-01-01T00:00:00.000Z')") == SQLITE_OK);
    }
    try {
        store s(opts(dir.db()));
        FAIL("expected newer_schema");
    } catch (const error& e) {
        CHECK(e.code() == error_code::newer_schema);
        CHECK(std::string(e.what()) == "database schema version 7 is newer than this vigy (supports up to 2); upgrade vigy");
    }
}

TEST_CASE("the in-memory path opens a private temporary database removed on close", "[store]") {
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

TEST_CASE("register creates, updates to a new revision keeping id and created_at, or reports unchanged", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto spec1 = spec("counter");
    spec1.labels = {{"env", "dev"}};
    const auto r1 = s.register_or_update(spec1);
    CHECK(r1.outcome == register_outcome::created);
    CHECK(r1.revision_changed);
    CHECK(r1.previous_revision.empty());
    CHECK(r1.vigy.id == vigy_id_for("counter"));
    CHECK(r1.vigy.revision == revision_for("lisp", spec1.config_json));
    CHECK(r1.vigy.enabled);
    CHECK(r1.vigy.interval_ms == 1000);
    CHECK(r1.vigy.labels == label_map{{"env", "dev"}});
    CHECK(r1.vigy.created_at == r1.vigy.updated_at);
    const auto gen1 = s.vigies_generation();

    const auto same = s.register_or_update(spec1);
    CHECK(same.outcome == register_outcome::unchanged);
    CHECK(same.previous_revision == r1.vigy.revision);
    CHECK(s.vigies_generation() == gen1);

    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto spec2 = spec1;
    spec2.config_json = R"j({"program":"(noop) ; edited"})j";
    const auto r2 = s.register_or_update(spec2);
    CHECK(r2.outcome == register_outcome::updated);
    CHECK(r2.revision_changed);
    CHECK(r2.previous_revision == r1.vigy.revision);
    CHECK(r2.vigy.id == r1.vigy.id);
    CHECK(r2.vigy.created_at == r1.vigy.created_at);
    CHECK(r2.vigy.updated_at > r1.vigy.updated_at);
    CHECK(r2.vigy.revision != r1.vigy.revision);
    CHECK(s.vigies_generation() > gen1);
    // both revisions are kept for inspecting old runs
    CHECK(s.get_revision(r1.vigy.id, r1.vigy.revision) == std::make_pair(std::string("lisp"), spec1.config_json));
    CHECK(s.get_revision(r1.vigy.id, r2.vigy.revision)->second == spec2.config_json);
    CHECK_FALSE(s.get_revision(r1.vigy.id, "ffffffffffffffff"));

    // interval-only change: updated, same revision
    auto spec3 = spec2;
    spec3.interval_ms = 100;
    const auto r3 = s.register_or_update(spec3);
    CHECK(r3.outcome == register_outcome::updated);
    CHECK_FALSE(r3.revision_changed);
    CHECK(r3.previous_revision == r2.vigy.revision);
    CHECK(r3.vigy.interval_ms == 100);

    // enabled: nullopt keeps the stored state, an explicit value sets it
    s.set_enabled("counter", false);
    CHECK_FALSE(s.register_or_update(spec3).vigy.enabled);
    spec3.enabled = true;
    CHECK(s.register_or_update(spec3).vigy.enabled);
    CHECK(s.list_vigies().size() == 1);
}

TEST_CASE("register rejects bad specs with messages users can act on", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto bad_interval = spec("x");
    bad_interval.interval_ms = 50;
    CHECK_THROWS_WITH(s.register_or_update(bad_interval), "invalid tick interval 50 ms: must be >= 100");
    auto ok_interval = spec("x100");
    ok_interval.interval_ms = 100;
    CHECK_NOTHROW(s.register_or_update(ok_interval));
    auto bad_label = spec("x");
    bad_label.labels = {{"bad key", "v"}};
    CHECK_THROWS_WITH(s.register_or_update(bad_label), "invalid label key \"bad key\": only [A-Za-z0-9-_./] allowed");
    CHECK_THROWS_WITH(s.register_or_update(spec("x", "{nope")), Catch::StartsWith("config is not valid json"));
    CHECK_THROWS_WITH(s.register_or_update(spec("")), "vigy name must not be empty");
    auto no_kind = spec("x");
    no_kind.kind = "";
    CHECK_THROWS_WITH(s.register_or_update(no_kind), "vigy \"x\": reconciler kind must not be empty");
    auto neg = spec("x");
    neg.limits.fuel = -1;
    CHECK_THROWS_AS(s.register_or_update(neg), error);
    try {
        s.register_or_update(bad_interval);
    } catch (const error& e) {
        CHECK(e.code() == error_code::invalid_argument);
    }
    CHECK(s.list_vigies().size() == 1);
}

TEST_CASE("get by name or id, unknown names are not_found with the name quoted", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("hello")).vigy;
    CHECK(s.get_vigy("hello").id == v.id);
    CHECK(s.get_vigy(v.id).name == "hello");
    CHECK_FALSE(s.find_vigy("nope"));
    try {
        (void)s.get_vigy("foo");
        FAIL("expected not_found");
    } catch (const error& e) {
        CHECK(e.code() == error_code::not_found);
        CHECK(std::string(e.what()) == "vigy \"foo\" not found");
    }
    CHECK_THROWS_WITH(s.set_enabled("foo", false), "vigy \"foo\" not found");
    CHECK_THROWS_WITH(s.delete_vigy("foo"), "vigy \"foo\" not found");
}

TEST_CASE("list filters by label selector with AND semantics and rejects malformed selectors", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto a = spec("a");
    a.labels = {{"env", "prod"}, {"team", "core"}};
    auto b = spec("b");
    b.labels = {{"env", "prod"}, {"team", "web"}};
    auto c = spec("c");
    s.register_or_update(c);
    s.register_or_update(b);
    s.register_or_update(a);
    auto names = [](const std::vector<vigy_record>& vs) {
        std::vector<std::string> out;
        for (const auto& v : vs) out.push_back(v.name);
        return out;
    };
    CHECK(names(s.list_vigies()) == std::vector<std::string>{"a", "b", "c"});
    CHECK(names(s.list_vigies("env=prod")) == std::vector<std::string>{"a", "b"});
    CHECK(names(s.list_vigies("env=prod,team=web")) == std::vector<std::string>{"b"});
    CHECK(s.list_vigies("env=dev").empty());
    CHECK_THROWS_WITH(s.list_vigies("env"), "invalid label selector \"env\": expected key=value");
    CHECK_THROWS_AS(s.list_vigies("env=prod,,team"), error);
}

TEST_CASE("delete removes runs, kv, conditions and events unless history is kept", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto seed = [&](const std::string& name) {
        const auto v = s.register_or_update(spec(name)).vigy;
        auto c = commit_for(v.id);
        c.kv_upserts = {{"n", "1"}};
        c.conditions = {{"Ready", "true", "Ok", ""}};
        c.events = {{"Normal", "Ticked", "hi"}};
        REQUIRE(s.writer().submit(c).get().ok);
        return v;
    };
    const auto gone = seed("gone");
    const auto kept = seed("kept");
    const auto gen = s.vigies_generation();

    s.delete_vigy("gone");
    CHECK_FALSE(s.find_vigy("gone"));
    CHECK(s.count_runs(gone.id) == 0);
    CHECK(s.kv(gone.id).empty());
    CHECK(s.conditions(gone.id).empty());
    CHECK(s.events(gone.id).empty());

    s.delete_vigy(kept.id, /*keep_history=*/true);
    CHECK_FALSE(s.find_vigy("kept"));
    CHECK(s.count_runs(kept.id) == 1);
    CHECK(s.kv(kept.id).at("n") == "1");
    CHECK(s.conditions(kept.id).size() == 1);

    const auto ch = s.changes_since(gen);
    CHECK(ch.deleted_ids == std::vector<std::string>{gone.id, kept.id});
    CHECK(ch.upserted.empty());

    // a tick of a deleted vigy is rejected, not resurrected
    const auto late = s.writer().submit(commit_for(gone.id)).get();
    CHECK_FALSE(late.ok);
    CHECK(late.code == error_code::not_found);
    CHECK(s.count_runs(gone.id) == 0);

    // re-registering the kept name gets the same id back, with its history
    const auto back = s.register_or_update(spec("kept")).vigy;
    CHECK(back.id == kept.id);
    CHECK(s.count_runs(back.id) == 1);
}

TEST_CASE("conditions keep the latest per name and last_transition moves only when the status changes", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("c")).vigy;
    auto set = [&](const std::string& status, const std::string& message, const std::string& at) {
        auto c = commit_for(v.id);
        c.run.started_at = c.run.ended_at = at;
        c.conditions = {{"Ready", status, "Reason", message}};
        REQUIRE(s.commit_now(c).ok);
    };
    set("True", "first", "2026-05-21T12:00:00.000Z");
    set("true", "second", "2026-05-21T12:00:01.000Z");
    auto cs = s.conditions(v.id);
    REQUIRE(cs.size() == 1);
    CHECK(cs[0].status == "true");
    CHECK(cs[0].message == "second");
    CHECK(cs[0].last_transition == "2026-05-21T12:00:00.000Z");
    CHECK(cs[0].updated_at == "2026-05-21T12:00:01.000Z");
    set("false", "third", "2026-05-21T12:00:02.000Z");
    cs = s.conditions(v.id);
    CHECK(cs[0].status == "false");
    CHECK(cs[0].last_transition == "2026-05-21T12:00:02.000Z");

    auto bad = commit_for(v.id);
    bad.conditions = {{"Ready", "maybe", "", ""}};
    CHECK_THROWS_WITH(s.commit_now(bad), "invalid condition status \"maybe\": expected true, false or unknown");
}

TEST_CASE("events are deduplicated Kubernetes-style with count, first_seen and last_seen", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("e")).vigy;
    const char* times[] = {"2026-05-21T12:00:00.000Z", "2026-05-21T12:00:01.000Z", "2026-05-21T12:00:02.000Z"};
    for (const char* t : times) {
        auto c = commit_for(v.id);
        c.run.started_at = c.run.ended_at = t;
        c.events = {{"warning", "DiskFull", "disk at 91%"}};
        REQUIRE(s.commit_now(c).ok);
    }
    auto c = commit_for(v.id);
    c.run.started_at = c.run.ended_at = "2026-05-21T12:00:03.000Z";
    c.events = {{"Warning", "DiskFull", "disk at 95%"}};
    REQUIRE(s.commit_now(c).ok);
    const auto evs = s.events(v.id);
    REQUIRE(evs.size() == 2);
    CHECK(evs[0].message == "disk at 95%");
    CHECK(evs[0].count == 1);
    CHECK(evs[1].type == "Warning");
    CHECK(evs[1].count == 3);
    CHECK(evs[1].first_seen == "2026-05-21T12:00:00.000Z");
    CHECK(evs[1].last_seen == "2026-05-21T12:00:02.000Z");
    CHECK(s.events(v.id, 1).size() == 1);

    auto bad = commit_for(v.id);
    bad.events = {{"Error", "X", ""}};
    CHECK_THROWS_WITH(s.commit_now(bad), "invalid event type \"Error\": expected Normal or Warning");
}

TEST_CASE("retention prunes by count per vigy and by age", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.background_prune = false;
    store s(o);
    const auto a = s.register_or_update(spec("a")).vigy;
    const auto b = s.register_or_update(spec("b")).vigy;
    std::vector<std::string> a_ids;
    for (int i = 0; i < 30; ++i) {
        auto c = commit_for(a.id);
        a_ids.push_back(c.run.id);
        s.writer().submit(std::move(c), nullptr);
        s.writer().submit(commit_for(b.id), nullptr);
    }
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

    // age: an old run goes, recent ones stay
    auto old = commit_for(a.id);
    old.run.started_at = old.run.ended_at = format_timestamp(std::chrono::system_clock::now() - std::chrono::hours(24 * 8));
    REQUIRE(s.commit_now(old).ok);
    retention_policy week;
    week.keep_runs = 0;
    CHECK(s.prune(week) == 1);
    CHECK_FALSE(s.get_run(old.run.id));
    CHECK(s.count_runs() == 10);
}

TEST_CASE("the writer prunes in the background between batches", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.retention.keep_runs = 10;
    o.retention.prune_interval = std::chrono::milliseconds(20);
    store s(o);
    const auto v = s.register_or_update(spec("bg")).vigy;
    for (int i = 0; i < 200; ++i) s.writer().submit(commit_for(v.id), nullptr);
    s.writer().flush();
    for (int i = 0; i < 100 && s.count_runs(v.id) > 10; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(s.count_runs(v.id) == 10);
    CHECK(s.writer().stats().pruned_runs == 190);
}

TEST_CASE("tail cursor runs_after returns committed runs in seq order, all vigies or one", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto a = s.register_or_update(spec("a")).vigy;
    const auto b = s.register_or_update(spec("b")).vigy;
    CHECK(s.last_seq() == 0);
    for (int i = 0; i < 5; ++i) {
        s.writer().submit(commit_for(a.id), nullptr);
        s.writer().submit(commit_for(b.id), nullptr);
    }
    s.writer().flush();
    const auto all = s.runs_after(0);
    REQUIRE(all.size() == 10);
    for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i].seq > all[i - 1].seq);
    CHECK(s.last_seq() == all.back().seq);
    CHECK(s.runs_after(0, a.id).size() == 5);
    CHECK(s.runs_after(all[6].seq).size() == 3);
    CHECK(s.runs_after(0, {}, 4).size() == 4);
    const auto cursor = s.last_seq();
    s.writer().submit(commit_for(b.id)).get();
    const auto next = s.runs_after(cursor);
    REQUIRE(next.size() == 1);
    CHECK(next[0].vigy_id == b.id);
    // newest first for inspect
    const auto recent = s.recent_runs(a.id, 2);
    REQUIRE(recent.size() == 2);
    CHECK(recent[0].seq > recent[1].seq);
    // a second process sees the same cursor
    store other(opts(dir.db()));
    CHECK(other.last_seq() == s.last_seq());
}

TEST_CASE("the generation bump is visible from another connection", "[store]") {
    temp_dir dir;
    store scheduler(opts(dir.db()));
    store cli(opts(dir.db()));
    const auto g0 = scheduler.vigies_generation();
    const auto v = cli.register_or_update(spec("x")).vigy;
    const auto g1 = scheduler.vigies_generation();
    CHECK(g1 > g0);
    auto ch = scheduler.changes_since(g0);
    CHECK(ch.generation == g1);
    REQUIRE(ch.upserted.size() == 1);
    CHECK(ch.upserted[0].name == "x");
    cli.set_enabled("x", false);
    ch = scheduler.changes_since(g1);
    REQUIRE(ch.upserted.size() == 1);
    CHECK_FALSE(ch.upserted[0].enabled);
    const auto g2 = ch.generation;
    cli.set_enabled("x", false);  // no change, no bump
    CHECK(scheduler.vigies_generation() == g2);
    cli.delete_vigy("x");
    ch = scheduler.changes_since(g2);
    CHECK(ch.upserted.empty());
    CHECK(ch.deleted_ids == std::vector<std::string>{v.id});
    CHECK(scheduler.changes_since(ch.generation).upserted.empty());
}

TEST_CASE("scheduler lease has one holder, renewals, expiry, release", "[store]") {
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    CHECK_FALSE(a.lease_holder());
    CHECK(a.acquire_lease("A", 11, "host-a", 150));
    CHECK(a.acquire_lease("A", 11, "host-a", 150));  // re-acquire = renew
    CHECK_FALSE(b.acquire_lease("B", 22, "host-b", 150));
    auto holder = b.lease_holder();
    REQUIRE(holder);
    CHECK(holder->owner == "A");
    CHECK(holder->pid == 11);
    CHECK(holder->host == "host-a");
    CHECK(holder->expires_ms > holder->heartbeat_ms);
    CHECK(a.renew_lease("A", 150));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(b.lease_holder());  // expired
    CHECK(b.acquire_lease("B", 22, "host-b", 10'000));
    CHECK_FALSE(a.renew_lease("A", 150));  // taken over
    CHECK(a.lease_holder()->owner == "B");
    a.release_lease("A");  // not ours: no-op
    CHECK(a.lease_holder()->owner == "B");
    b.release_lease("B");
    CHECK_FALSE(a.lease_holder());
    CHECK_THROWS_AS(a.acquire_lease("", 1, "h", 100), error);
    CHECK_THROWS_AS(a.acquire_lease("A", 1, "h", 0), error);
}

TEST_CASE("take_over_lease replaces only the named holder expired or not", "[store]") {
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    CHECK_FALSE(b.take_over_lease("A", "B", 22, "host-b", 10'000));  // free: nothing to take over
    CHECK_FALSE(b.lease_holder());
    REQUIRE(a.acquire_lease("A", 11, "host-a", 60'000));
    CHECK_FALSE(b.take_over_lease("X", "B", 22, "host-b", 10'000));  // holder is not X
    CHECK(b.lease_holder()->owner == "A");
    CHECK(b.take_over_lease("A", "B", 22, "host-b", 10'000));  // unexpired, but named
    auto holder = a.lease_holder();
    REQUIRE(holder);
    CHECK(holder->owner == "B");
    CHECK(holder->pid == 22);
    CHECK(holder->host == "host-b");
    CHECK(holder->expires_ms > holder->heartbeat_ms);
    CHECK_FALSE(a.renew_lease("A", 150));  // A lost it
    CHECK_FALSE(a.take_over_lease("A", "C", 33, "host-c", 10'000));  // moved on meanwhile
    CHECK(a.lease_holder()->owner == "B");
    CHECK_THROWS_AS(a.take_over_lease("", "C", 1, "h", 100), error);
    CHECK_THROWS_AS(a.take_over_lease("B", "", 1, "h", 100), error);
    CHECK_THROWS_AS(a.take_over_lease("B", "C", 1, "h", 0), error);
}

TEST_CASE("tick requests enqueue, claim once, complete with the run atomically or with an error", "[store]") {
    temp_dir dir;
    store cli(opts(dir.db()));
    store serve(opts(dir.db()));
    const auto v = cli.register_or_update(spec("t")).vigy;
    CHECK_THROWS_WITH(cli.enqueue_tick_request("ffffffffffffffff", "cli"), "vigy \"ffffffffffffffff\" not found");
    const auto r1 = cli.enqueue_tick_request(v.id, "cli:1");
    const auto r2 = cli.enqueue_tick_request(v.id, "cli:2");
    CHECK(cli.get_tick_request(r1)->state == "pending");
    auto claimed = serve.claim_tick_requests();
    REQUIRE(claimed.size() == 2);
    CHECK(claimed[0].id == r1);
    CHECK(claimed[0].state == "claimed");
    CHECK(claimed[0].requester == "cli:1");
    CHECK(serve.claim_tick_requests().empty());

    auto c = commit_for(v.id);
    c.tick_request_id = r1;
    const auto res = serve.writer().submit(c).get();
    REQUIRE(res.ok);
    const auto done = cli.get_tick_request(r1);
    CHECK(done->state == "done");
    CHECK(done->run_id == c.run.id);
    CHECK(done->done_ms >= done->claimed_ms);

    serve.complete_tick_request(r2, "", "vigy is disabled");
    CHECK(cli.get_tick_request(r2)->state == "failed");
    CHECK(cli.get_tick_request(r2)->error == "vigy is disabled");
    CHECK_FALSE(cli.get_tick_request(9999));
    CHECK_THROWS_AS(serve.complete_tick_request(9999, "", ""), error);

    // deleting the vigy fails its pending requests
    const auto r3 = cli.enqueue_tick_request(v.id, "cli:3");
    cli.delete_vigy("t");
    CHECK(cli.get_tick_request(r3)->state == "failed");
}

TEST_CASE("a locked database surfaces as busy naming the path, and loses nothing", "[store]") {
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
    } catch (const error& e) {
        CHECK(e.code() == error_code::busy);
        CHECK_THAT(e.what(), Catch::Contains(dir.db()) && Catch::Contains("locked") &&
                                 Catch::Contains("registering vigy \"blocked\""));
    }
    CHECK_THROWS_AS(s.commit_now(commit_for(v.id)), error);
    // the writer retries: released while it waits, the commit lands
    auto fut = s.writer().submit(commit_for(v.id));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    REQUIRE(other.exec("COMMIT") == SQLITE_OK);
    CHECK(fut.get().ok);
    // reads still work, and the blocked registration can simply be retried
    CHECK_FALSE(s.find_vigy("blocked"));
    CHECK(s.register_or_update(spec("blocked")).outcome == register_outcome::created);
    CHECK(s.count_runs(v.id) == 1);
}

TEST_CASE("64-bit values round-trip", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    auto sp = spec("big");
    sp.interval_ms = 5'000'000'000LL;
    sp.limits = {9'000'000'000'000LL, 6'000'000'000LL, 1LL << 40, 3'000'000'000LL};
    const auto v = s.register_or_update(sp).vigy;
    const auto back = s.get_vigy("big");
    CHECK(back.interval_ms == 5'000'000'000LL);
    CHECK(back.limits == sp.limits);
    auto c = commit_for(v.id);
    c.run.duration_ms = 5'000'000'000LL;
    c.kv_upserts = {{"n", "9007199254740993"}};
    REQUIRE(s.commit_now(c).ok);
    const auto run = s.get_run(c.run.id);
    REQUIRE(run);
    CHECK(run->duration_ms == 5'000'000'000LL);
    CHECK(s.kv(v.id).at("n") == "9007199254740993");
}

TEST_CASE("integrity_check is ok after a workload", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("i")).vigy;
    for (int i = 0; i < 300; ++i) {
        auto c = commit_for(v.id, i % 7 == 0 ? run_result::failed : run_result::ok);
        std::string key = "k";
        key += std::to_string(i % 13);
        c.kv_upserts = {{key, std::to_string(i)}};
        s.writer().submit(std::move(c), nullptr);
    }
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
        auto c = commit_for(v.id);
        c.run.started_at = c.run.ended_at = fmt_ts(i);
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
    CHECK(s.count_runs(v.id) == 12);  // runs untouched by the events rule
}

TEST_CASE("paths with spaces work and unusable paths fail with an io error naming them", "[store]") {
    temp_dir dir;
    const std::string spaced = (dir.path / "my dir" / "vigy db.sqlite").string();
    {
        store s(opts(spaced));
        s.register_or_update(spec("x"));
    }
    CHECK(std::filesystem::exists(spaced));
    store again(opts(spaced));
    CHECK(again.list_vigies().size() == 1);

    // the parent "directory" is a regular file
    const std::string blocker = dir.db("file");
    { std::ofstream(blocker) << "x"; }
    try {
        store bad(opts(blocker + "/vigy.db"));
        FAIL("expected io error");
    } catch (const error& e) {
        CHECK(e.code() == error_code::io);
        CHECK_THAT(e.what(), Catch::Contains(blocker));
    }
    // a file that is not a database
    const std::string junk = dir.db("junk.db");
    { std::ofstream(junk) << std::string(4096, 'j'); }
    try {
        store bad(opts(junk));
        FAIL("expected io error");
    } catch (const error& e) {
        CHECK(e.code() == error_code::io);
        CHECK_THAT(e.what(), Catch::Contains(junk));
    }
    CHECK_THROWS_WITH(store(opts("")), "database path must not be empty");
}
