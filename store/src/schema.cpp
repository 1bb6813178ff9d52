// store/src/schema.cpp — migrations 1..4. Migration N is the Nth entry; append only,
// never edit a released one (the tests keep frozen schema 1, 2 and 3 databases).
//
// Schema 4 adds schedules and lifecycle to schema 3:
//   vigies          + schedule_json ('' = every interval_ms) | state Enabled/Disabled/
//                   Degraded/Completed | state_reason | state_ms
//   runs            + trigger_kind (NULL | event | condition | manual | catch-up) | trigger_json
//   tick_requests   + trigger_json (NULL for a plain forced tick)
//
// Schema 3:
//   vigies          vid (surrogate key) | id | name | spec | grants | created/updated ms |
//                   resource_version | deleted (kept history of a deleted vigy)
//   vigy_changes    the change feed: seq (= change_seq) | vid | id | name | type 0/1/2
//   vigy_revisions  (vid, revision) -> kind, config
//   runs            seq | vid | run_id BLOB(16) | revision INT64 | started/ended ms |
//                   duration/lateness µs | result 0/1/2 | trigger 0/1 | tick_count |
//                   status (vigy_status) | error (NULL unless failed) | body (JSON of the filled buffers, or NULL)
//   kv              (vid, key) -> value_json, updated_ms
//   tick_marks      vid -> the tick clock of a vigy whose runs retention removed
//   conditions      (vid, type) -> status True/False/Unknown, reason, message, times, run_seq
//   events          deduplicated per (vid, type, reason, message)
//   scheduler_lease one row: owner, fencing token, pid, host, boot id, expiries
//   tick_requests   forced ticks for the scheduler
//   store_meta      change_seq, changes_floor, lease_epoch
// and views with readable columns for `sqlite3 vigy.db` (runs_view, vigies_view,
// kv_view, conditions_view, events_view, lease_view, tick_requests_view).
#include "schema.hpp"

#include "codec.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

namespace vigy::store::schema {

namespace {

using sqlite::connection;
using sqlite::statement;

// ---- migrations 1 and 2 (released; frozen) ----------------------------------------

const std::vector<const char*> migration_1 = {
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
};

const std::vector<const char*> migration_2 = {
    R"(ALTER TABLE runs ADD COLUMN duration_us BIGINT NOT NULL DEFAULT 0)",
    R"(UPDATE runs SET duration_us = duration_ms * 1000)",
    R"(ALTER TABLE runs ADD COLUMN run_trigger TEXT NOT NULL DEFAULT 'schedule'
        CHECK (run_trigger IN ('schedule', 'forced')))",
    R"(ALTER TABLE runs ADD COLUMN tick_count BIGINT NOT NULL DEFAULT 0)",
    R"(ALTER TABLE runs ADD COLUMN kv_writes_json TEXT NOT NULL DEFAULT '{}')",
    R"(ALTER TABLE runs ADD COLUMN kv_deletes_json TEXT NOT NULL DEFAULT '[]')",
};

// ---- migration 3: the compact schema -------------------------------------------------

// SQL functions available while migration 3 runs (registered on its connection only).

std::string_view arg_text(sqlite3_value* v) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_value_bytes(v))) : std::string_view();
}

/// vigy_uuid(text) -> 16-byte blob.
void fn_uuid(sqlite3_context* ctx, int, sqlite3_value** argv) {
    codec::uuid u{};
    const std::string_view t = arg_text(argv[0]);
    if (!codec::parse_uuid(t, u)) {
        const std::string msg = fmt::format("run id {:?} is not a UUID", t);
        sqlite3_result_error(ctx, msg.c_str(), static_cast<int>(msg.size()));
        return;
    }
    sqlite3_result_blob(ctx, u.data(), 16, SQLITE_TRANSIENT);
}

/// vigy_hex64(text) -> int64 (0 for anything that is not 16 hex digits).
void fn_hex64(sqlite3_context* ctx, int, sqlite3_value** argv) {
    std::int64_t v = 0;
    if (!codec::parse_hex64(arg_text(argv[0]), v)) v = 0;
    sqlite3_result_int64(ctx, v);
}

/// vigy_run_body(actions, desired, observed, conditions, log, trace, metrics, events,
/// output_json, kv_writes, kv_deletes) -> the schema 3 body (NULL when all empty).
void fn_run_body(sqlite3_context* ctx, int, sqlite3_value** argv) {
    run_record r;
    r.actions_json = arg_text(argv[0]);
    r.desired_json = arg_text(argv[1]);
    r.observed_json = arg_text(argv[2]);
    r.conditions_json = codec::upgrade_conditions_json(arg_text(argv[3]));
    r.log_json = arg_text(argv[4]);
    r.trace_json = arg_text(argv[5]);
    r.metrics_json = arg_text(argv[6]);
    r.events_json = arg_text(argv[7]);
    const std::string_view output_json = arg_text(argv[8]);
    r.kv_writes_json = arg_text(argv[9]);
    r.kv_deletes_json = arg_text(argv[10]);
    // output_json was a JSON value: a string for program output, "null" for none.
    if (output_json.size() >= 2 && output_json.front() == '"') {
        run_record tmp;
        const std::string wrapped = fmt::format("{{\"output\":{}}}", output_json);
        codec::read_body(wrapped, tmp);
        r.output = tmp.output;
    } else if (!output_json.empty() && output_json != "null") {
        r.output = output_json;
    }
    std::string body;
    codec::append_body(r, true, body);
    if (body.empty())
        sqlite3_result_null(ctx);
    else
        sqlite3_result_text(ctx, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
}

void register_functions(connection& c) {
    const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    if (sqlite3_create_function_v2(c.get(), "vigy_uuid", 1, flags, nullptr, fn_uuid, nullptr, nullptr, nullptr) !=
            SQLITE_OK ||
        sqlite3_create_function_v2(c.get(), "vigy_hex64", 1, flags, nullptr, fn_hex64, nullptr, nullptr, nullptr) !=
            SQLITE_OK ||
        sqlite3_create_function_v2(c.get(), "vigy_run_body", 11, flags, nullptr, fn_run_body, nullptr, nullptr,
                                   nullptr) != SQLITE_OK)
        sqlite::fail(sqlite3_errcode(c.get()), sqlite3_errmsg(c.get()), c.path(), "preparing the schema 3 upgrade");
}

void unregister_functions(connection& c) {
    for (auto [name, n] : {std::pair{"vigy_uuid", 1}, {"vigy_hex64", 1}, {"vigy_run_body", 11}})
        sqlite3_create_function_v2(c.get(), name, n, SQLITE_UTF8, nullptr, nullptr, nullptr, nullptr, nullptr);
}

/// Epoch ms of a schema 1/2 timestamp column (RFC 3339 ms), as SQL.
std::string ms(const char* col) {
    return fmt::format("CAST(round((julianday({}) - 2440587.5) * 86400000) AS INTEGER)", col);
}

std::int64_t scalar(connection& c, const std::string& sql, std::int64_t fallback = 0) {
    statement st = c.prepare(sql);
    if (!st.step("reading the schema")) return fallback;
    return st.is_null(0) ? fallback : st.int64(0);
}

/// Refuses to upgrade while an older serve holds a live lease on this database.
void refuse_live_old_scheduler(connection& c) {
    statement st = c.prepare("SELECT owner, pid, host, expires_ms FROM scheduler_lease WHERE id = 1");
    if (!st.step("reading the scheduler lease")) return;
    const std::string owner(st.text(0));
    const std::int64_t pid = st.int64(1);
    const std::string host(st.text(2));
    const std::int64_t expires = st.int64(3);
    if (expires <= now_unix_ms()) return;
    char buf[256] = {};
    const bool same_host = ::gethostname(buf, sizeof buf - 1) == 0 && host == buf;
    if (same_host && pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return;  // gone
    vigy::fail(VIGY_FAILED_PRECONDITION,
               fmt::format("database {} is being served by an older vigy (pid {} on {}); stop it before upgrading "
                           "the database to schema 3",
                           c.path(), pid, host));
}

void migration_3(connection& c) {
    refuse_live_old_scheduler(c);
    register_functions(c);
    struct guard {
        connection& c;
        ~guard() { unregister_functions(c); }
    } g{c};
    const std::int64_t now = now_unix_ms();
    const std::int64_t old_runs_seq = scalar(c, "SELECT seq FROM sqlite_sequence WHERE name = 'runs'");
    const std::int64_t old_events_seq = scalar(c, "SELECT seq FROM sqlite_sequence WHERE name = 'events'");
    const std::int64_t old_requests_seq = scalar(c, "SELECT seq FROM sqlite_sequence WHERE name = 'tick_requests'");

    const std::vector<std::string> steps = {
        // vigies: the live ones, then a deleted row for history kept without a vigy
        R"(CREATE TABLE vigies_3 (
            vid INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            config_json TEXT NOT NULL,
            revision TEXT NOT NULL,
            interval_ms INTEGER NOT NULL CHECK (interval_ms >= 100),
            enabled INTEGER NOT NULL,
            labels_json TEXT NOT NULL,
            grants_json TEXT NOT NULL,
            fuel INTEGER NOT NULL,
            wall_ms INTEGER NOT NULL,
            memory_bytes INTEGER NOT NULL,
            max_depth INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            resource_version INTEGER NOT NULL,
            deleted INTEGER NOT NULL))",
        fmt::format(R"(INSERT INTO vigies_3(id, name, kind, config_json, revision, interval_ms, enabled, labels_json,
            grants_json, fuel, wall_ms, memory_bytes, max_depth, created_ms, updated_ms, resource_version, deleted)
            SELECT id, name, kind, config_json, revision, interval_ms, enabled, labels_json, '[]', fuel, wall_ms,
                   memory_bytes, max_depth, {}, {}, generation, 0 FROM vigies ORDER BY created_at, name)",
                    ms("created_at"), ms("updated_at")),
        fmt::format(R"(INSERT INTO vigies_3(id, name, kind, config_json, revision, interval_ms, enabled, labels_json,
            grants_json, fuel, wall_ms, memory_bytes, max_depth, created_ms, updated_ms, resource_version, deleted)
            SELECT o.vigy_id,
                   coalesce((SELECT t.name FROM vigy_tombstones t WHERE t.id = o.vigy_id
                             ORDER BY t.generation DESC LIMIT 1), 'deleted-' || o.vigy_id),
                   '', '{{}}', '', 1000, 0, '{{}}', '[]', 0, 0, 0, 0,
                   coalesce((SELECT {} FROM vigy_tombstones t WHERE t.id = o.vigy_id
                             ORDER BY t.generation DESC LIMIT 1), {}),
                   coalesce((SELECT {} FROM vigy_tombstones t WHERE t.id = o.vigy_id
                             ORDER BY t.generation DESC LIMIT 1), {}),
                   coalesce((SELECT t.generation FROM vigy_tombstones t WHERE t.id = o.vigy_id
                             ORDER BY t.generation DESC LIMIT 1), 0),
                   1
            FROM (SELECT vigy_id FROM runs UNION SELECT vigy_id FROM kv UNION SELECT vigy_id FROM conditions
                  UNION SELECT vigy_id FROM events) o
            WHERE o.vigy_id NOT IN (SELECT id FROM vigies) ORDER BY o.vigy_id)",
                    ms("t.deleted_at"), now, ms("t.deleted_at"), now),
        R"(CREATE TABLE vigy_revisions_3 (
            vid INTEGER NOT NULL,
            revision TEXT NOT NULL,
            kind TEXT NOT NULL,
            config_json TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            PRIMARY KEY (vid, revision)) WITHOUT ROWID)",
        fmt::format(R"(INSERT INTO vigy_revisions_3 SELECT v.vid, r.revision, r.kind, r.config_json, {}
            FROM vigy_revisions r JOIN vigies_3 v ON v.id = r.vigy_id)",
                    ms("r.created_at")),
        R"(CREATE TABLE runs_3 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            vid INTEGER NOT NULL,
            run_id BLOB NOT NULL,
            revision INTEGER NOT NULL,
            started_ms INTEGER NOT NULL,
            ended_ms INTEGER NOT NULL,
            duration_us INTEGER NOT NULL,
            lateness_us INTEGER NOT NULL,
            result INTEGER NOT NULL CHECK (result IN (0, 1, 2)),
            run_trigger INTEGER NOT NULL CHECK (run_trigger IN (0, 1)),
            tick_count INTEGER NOT NULL,
            status INTEGER NOT NULL,
            error TEXT,
            body TEXT))",
        fmt::format(R"(INSERT INTO runs_3 SELECT r.seq, v.vid, vigy_uuid(r.id), vigy_hex64(r.revision), {}, {},
            CASE WHEN r.duration_us > 0 THEN r.duration_us ELSE r.duration_ms * 1000 END, 0,
            CASE r.result WHEN 'ok' THEN 0 WHEN 'failed' THEN 1 ELSE 2 END,
            CASE r.run_trigger WHEN 'forced' THEN 1 ELSE 0 END, r.tick_count,
            CASE r.result WHEN 'failed' THEN 2 ELSE 0 END, NULLIF(r.error, ''),
            vigy_run_body(r.actions_json, r.desired_json, r.observed_json, r.conditions_json, r.log_json,
                          r.trace_json, r.metrics_json, r.events_json, r.output_json, r.kv_writes_json,
                          r.kv_deletes_json)
            FROM runs r JOIN vigies_3 v ON v.id = r.vigy_id ORDER BY r.seq)",
                    ms("r.started_at"), ms("r.ended_at")),
        R"(CREATE TABLE kv_3 (
            vid INTEGER NOT NULL,
            key TEXT NOT NULL,
            value_json TEXT NOT NULL,
            updated_ms INTEGER NOT NULL,
            PRIMARY KEY (vid, key)) WITHOUT ROWID)",
        fmt::format(R"(INSERT INTO kv_3 SELECT v.vid, k.key, k.value_json, {}
            FROM kv k JOIN vigies_3 v ON v.id = k.vigy_id
            WHERE k.key NOT IN ('__sys::tick_count', '__sys::prev_tick_ms'))",
                    ms("k.updated_at")),
        // The per-tick bookkeeping kv of schema 1/2 becomes the tick clock mark.
        R"(CREATE TABLE tick_marks (
            vid INTEGER PRIMARY KEY,
            tick_count INTEGER NOT NULL,
            prev_tick_ms INTEGER NOT NULL))",
        R"(INSERT INTO tick_marks SELECT v.vid, CAST(t.value_json AS INTEGER),
            coalesce((SELECT CAST(p.value_json AS INTEGER) FROM kv p
                      WHERE p.vigy_id = t.vigy_id AND p.key = '__sys::prev_tick_ms'), -1)
            FROM kv t JOIN vigies_3 v ON v.id = t.vigy_id WHERE t.key = '__sys::tick_count')",
        R"(CREATE TABLE conditions_3 (
            vid INTEGER NOT NULL,
            type TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('True', 'False', 'Unknown')),
            reason TEXT NOT NULL,
            message TEXT NOT NULL,
            last_transition_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            run_seq INTEGER NOT NULL,
            PRIMARY KEY (vid, type)) WITHOUT ROWID)",
        fmt::format(R"(INSERT INTO conditions_3 SELECT v.vid, c.name,
            CASE c.status WHEN 'true' THEN 'True' WHEN 'false' THEN 'False' ELSE 'Unknown' END,
            c.reason, c.message, {}, {}, coalesce((SELECT r.seq FROM runs r WHERE r.id = c.run_id), 0)
            FROM conditions c JOIN vigies_3 v ON v.id = c.vigy_id)",
                    ms("c.last_transition"), ms("c.updated_at")),
        R"(CREATE TABLE events_3 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            vid INTEGER NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('Normal', 'Warning')),
            reason TEXT NOT NULL,
            message TEXT NOT NULL,
            count INTEGER NOT NULL,
            first_ms INTEGER NOT NULL,
            last_ms INTEGER NOT NULL,
            run_seq INTEGER NOT NULL,
            UNIQUE (vid, type, reason, message)))",
        fmt::format(R"(INSERT INTO events_3 SELECT e.id, v.vid, e.type, e.reason, e.message, e.count, {}, {},
            coalesce((SELECT r.seq FROM runs r WHERE r.id = e.run_id), 0)
            FROM events e JOIN vigies_3 v ON v.id = e.vigy_id ORDER BY e.id)",
                    ms("e.first_seen"), ms("e.last_seen")),
        R"(CREATE TABLE scheduler_lease_3 (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            owner TEXT NOT NULL,
            token INTEGER NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            boot_id TEXT NOT NULL,
            acquired_ms INTEGER NOT NULL,
            heartbeat_ms INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL,
            expires_boot_ms INTEGER NOT NULL))",
        R"(CREATE TABLE tick_requests_3 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            vid INTEGER NOT NULL,
            requester TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'done', 'failed')),
            requested_ms INTEGER NOT NULL,
            claimed_ms INTEGER NOT NULL DEFAULT 0,
            claimed_token INTEGER NOT NULL DEFAULT 0,
            done_ms INTEGER NOT NULL DEFAULT 0,
            run_id BLOB,
            error_code INTEGER NOT NULL DEFAULT 0,
            error TEXT NOT NULL DEFAULT ''))",
        R"(INSERT INTO tick_requests_3(id, vid, requester, state, requested_ms, claimed_ms, claimed_token, done_ms,
            run_id, error_code, error)
            SELECT t.id, v.vid, t.requester, CASE t.state WHEN 'claimed' THEN 'pending' ELSE t.state END,
                   t.requested_ms, 0, 0, t.done_ms, CASE WHEN t.run_id = '' THEN NULL ELSE vigy_uuid(t.run_id) END,
                   CASE t.state WHEN 'failed' THEN 2 ELSE 0 END, t.error
            FROM tick_requests t JOIN vigies_3 v ON v.id = t.vigy_id ORDER BY t.id)",
        R"(CREATE TABLE vigy_changes (
            seq INTEGER PRIMARY KEY,
            vid INTEGER NOT NULL,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            type INTEGER NOT NULL CHECK (type IN (0, 1, 2)),
            at_ms INTEGER NOT NULL))",
        R"(CREATE TABLE store_meta_3 (key TEXT PRIMARY KEY, value INTEGER NOT NULL))",
        R"(INSERT INTO store_meta_3 SELECT 'change_seq', value FROM store_meta WHERE key = 'generation')",
        // Changes before the upgrade are not in the feed: the floor is where it starts.
        R"(INSERT INTO store_meta_3 SELECT 'changes_floor', value FROM store_meta WHERE key = 'generation')",
        R"(INSERT INTO store_meta_3 VALUES ('lease_epoch', 0))",
        // swap
        "DROP TABLE vigies",
        "DROP TABLE vigy_tombstones",
        "DROP TABLE vigy_revisions",
        "DROP TABLE runs",
        "DROP TABLE kv",
        "DROP TABLE conditions",
        "DROP TABLE events",
        "DROP TABLE scheduler_lease",
        "DROP TABLE tick_requests",
        "DROP TABLE store_meta",
        "ALTER TABLE vigies_3 RENAME TO vigies",
        "ALTER TABLE vigy_revisions_3 RENAME TO vigy_revisions",
        "ALTER TABLE runs_3 RENAME TO runs",
        "ALTER TABLE kv_3 RENAME TO kv",
        "ALTER TABLE conditions_3 RENAME TO conditions",
        "ALTER TABLE events_3 RENAME TO events",
        "ALTER TABLE scheduler_lease_3 RENAME TO scheduler_lease",
        "ALTER TABLE tick_requests_3 RENAME TO tick_requests",
        "ALTER TABLE store_meta_3 RENAME TO store_meta",
        // cursors never go back: the sequences continue above what schema 2 handed out
        fmt::format("UPDATE sqlite_sequence SET seq = {0} WHERE name = 'runs' AND seq < {0}", old_runs_seq),
        fmt::format("INSERT INTO sqlite_sequence(name, seq) SELECT 'runs', {0} WHERE {0} > 0 AND NOT EXISTS "
                    "(SELECT 1 FROM sqlite_sequence WHERE name = 'runs')",
                    old_runs_seq),
        fmt::format("UPDATE sqlite_sequence SET seq = {0} WHERE name = 'events' AND seq < {0}", old_events_seq),
        fmt::format("INSERT INTO sqlite_sequence(name, seq) SELECT 'events', {0} WHERE {0} > 0 AND NOT EXISTS "
                    "(SELECT 1 FROM sqlite_sequence WHERE name = 'events')",
                    old_events_seq),
        fmt::format("UPDATE sqlite_sequence SET seq = {0} WHERE name = 'tick_requests' AND seq < {0}",
                    old_requests_seq),
        fmt::format("INSERT INTO sqlite_sequence(name, seq) SELECT 'tick_requests', {0} WHERE {0} > 0 AND NOT EXISTS "
                    "(SELECT 1 FROM sqlite_sequence WHERE name = 'tick_requests')",
                    old_requests_seq),
        // indexes: one per purpose (run ids are time-ordered, so runs_by_id grows at its right edge)
        "CREATE UNIQUE INDEX runs_by_id ON runs(run_id)",
        "CREATE INDEX runs_by_vigy ON runs(vid, seq)",
        "CREATE INDEX events_by_vigy ON events(vid, last_ms)",
        "CREATE INDEX tick_requests_by_state ON tick_requests(state, id)",
        // readable views for `sqlite3 vigy.db`
        R"(CREATE VIEW vigies_view AS SELECT vid, id, name, kind, revision, interval_ms,
            CASE enabled WHEN 0 THEN 'no' ELSE 'yes' END AS enabled, labels_json AS labels, grants_json AS grants,
            fuel, wall_ms, memory_bytes, max_depth,
            strftime('%Y-%m-%dT%H:%M:%fZ', created_ms / 1000.0, 'unixepoch') AS created_at,
            strftime('%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0, 'unixepoch') AS updated_at,
            resource_version, CASE deleted WHEN 0 THEN 'no' ELSE 'yes' END AS deleted, config_json AS config
            FROM vigies)",
        R"(CREATE VIEW runs_view AS SELECT r.seq, v.name AS vigy, v.id AS vigy_id,
            lower(substr(hex(r.run_id), 1, 8) || '-' || substr(hex(r.run_id), 9, 4) || '-' ||
                  substr(hex(r.run_id), 13, 4) || '-' || substr(hex(r.run_id), 17, 4) || '-' ||
                  substr(hex(r.run_id), 21)) AS run_id,
            printf('%016x', r.revision) AS revision,
            strftime('%Y-%m-%dT%H:%M:%fZ', r.started_ms / 1000.0, 'unixepoch') AS started_at,
            strftime('%Y-%m-%dT%H:%M:%fZ', r.ended_ms / 1000.0, 'unixepoch') AS ended_at,
            r.duration_us, r.lateness_us,
            CASE r.result WHEN 0 THEN 'ok' WHEN 1 THEN 'failed' ELSE 'skipped' END AS result,
            CASE r.run_trigger WHEN 1 THEN 'forced' ELSE 'schedule' END AS run_trigger,
            r.tick_count, r.status, r.error,
            json_extract(r.body, '$.output') AS output, json_extract(r.body, '$.actions') AS actions,
            json_extract(r.body, '$.desired') AS desired, json_extract(r.body, '$.observed') AS observed,
            json_extract(r.body, '$.conditions') AS conditions, json_extract(r.body, '$.log') AS log,
            json_extract(r.body, '$.trace') AS trace, json_extract(r.body, '$.metrics') AS metrics,
            json_extract(r.body, '$.events') AS events, json_extract(r.body, '$.kv_writes') AS kv_writes,
            json_extract(r.body, '$.kv_deletes') AS kv_deletes
            FROM runs r LEFT JOIN vigies v ON v.vid = r.vid)",
        R"(CREATE VIEW kv_view AS SELECT v.name AS vigy, k.key, k.value_json AS value,
            strftime('%Y-%m-%dT%H:%M:%fZ', k.updated_ms / 1000.0, 'unixepoch') AS updated_at
            FROM kv k LEFT JOIN vigies v ON v.vid = k.vid)",
        R"(CREATE VIEW conditions_view AS SELECT v.name AS vigy, c.type, c.status, c.reason, c.message,
            strftime('%Y-%m-%dT%H:%M:%fZ', c.last_transition_ms / 1000.0, 'unixepoch') AS last_transition,
            strftime('%Y-%m-%dT%H:%M:%fZ', c.updated_ms / 1000.0, 'unixepoch') AS updated_at, c.run_seq
            FROM conditions c LEFT JOIN vigies v ON v.vid = c.vid)",
        R"(CREATE VIEW events_view AS SELECT e.id, v.name AS vigy, e.type, e.reason, e.message, e.count,
            strftime('%Y-%m-%dT%H:%M:%fZ', e.first_ms / 1000.0, 'unixepoch') AS first_seen,
            strftime('%Y-%m-%dT%H:%M:%fZ', e.last_ms / 1000.0, 'unixepoch') AS last_seen, e.run_seq
            FROM events e LEFT JOIN vigies v ON v.vid = e.vid)",
        R"(CREATE VIEW lease_view AS SELECT owner, token, pid, host, boot_id,
            strftime('%Y-%m-%dT%H:%M:%fZ', acquired_ms / 1000.0, 'unixepoch') AS acquired_at,
            strftime('%Y-%m-%dT%H:%M:%fZ', heartbeat_ms / 1000.0, 'unixepoch') AS heartbeat_at,
            strftime('%Y-%m-%dT%H:%M:%fZ', expires_ms / 1000.0, 'unixepoch') AS expires_at
            FROM scheduler_lease)",
        R"(CREATE VIEW tick_requests_view AS SELECT t.id, v.name AS vigy, t.requester, t.state,
            strftime('%Y-%m-%dT%H:%M:%fZ', t.requested_ms / 1000.0, 'unixepoch') AS requested_at,
            t.claimed_token, t.error FROM tick_requests t LEFT JOIN vigies v ON v.vid = t.vid)",
    };
    for (const std::string& s : steps) c.exec(s.c_str(), "upgrading the database to schema 3");
}

// ---- migration 4: schedules and lifecycle ----------------------------------------------

const std::vector<const char*> migration_4 = {
    R"(ALTER TABLE vigies ADD COLUMN schedule_json TEXT NOT NULL DEFAULT '')",
    R"(ALTER TABLE vigies ADD COLUMN state TEXT NOT NULL DEFAULT 'Enabled'
        CHECK (state IN ('Enabled', 'Disabled', 'Degraded', 'Completed')))",
    R"(ALTER TABLE vigies ADD COLUMN state_reason TEXT NOT NULL DEFAULT '')",
    R"(ALTER TABLE vigies ADD COLUMN state_ms INTEGER NOT NULL DEFAULT 0)",
    R"(UPDATE vigies SET state = 'Disabled', state_ms = updated_ms WHERE enabled = 0)",
    R"(ALTER TABLE runs ADD COLUMN trigger_kind TEXT)",
    R"(ALTER TABLE runs ADD COLUMN trigger_json TEXT)",
    R"(ALTER TABLE tick_requests ADD COLUMN trigger_json TEXT)",
    "DROP VIEW vigies_view",
    R"(CREATE VIEW vigies_view AS SELECT vid, id, name, kind, revision, interval_ms,
        CASE enabled WHEN 0 THEN 'no' ELSE 'yes' END AS enabled, state, state_reason,
        CASE schedule_json WHEN '' THEN json_object('kind', 'every', 'every_ms', interval_ms)
             ELSE schedule_json END AS schedule,
        labels_json AS labels, grants_json AS grants,
        fuel, wall_ms, memory_bytes, max_depth,
        strftime('%Y-%m-%dT%H:%M:%fZ', created_ms / 1000.0, 'unixepoch') AS created_at,
        strftime('%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0, 'unixepoch') AS updated_at,
        resource_version, CASE deleted WHEN 0 THEN 'no' ELSE 'yes' END AS deleted, config_json AS config
        FROM vigies)",
    "DROP VIEW runs_view",
    R"(CREATE VIEW runs_view AS SELECT r.seq, v.name AS vigy, v.id AS vigy_id,
        lower(substr(hex(r.run_id), 1, 8) || '-' || substr(hex(r.run_id), 9, 4) || '-' ||
              substr(hex(r.run_id), 13, 4) || '-' || substr(hex(r.run_id), 17, 4) || '-' ||
              substr(hex(r.run_id), 21)) AS run_id,
        printf('%016x', r.revision) AS revision,
        strftime('%Y-%m-%dT%H:%M:%fZ', r.started_ms / 1000.0, 'unixepoch') AS started_at,
        strftime('%Y-%m-%dT%H:%M:%fZ', r.ended_ms / 1000.0, 'unixepoch') AS ended_at,
        r.duration_us, r.lateness_us,
        CASE r.result WHEN 0 THEN 'ok' WHEN 1 THEN 'failed' ELSE 'skipped' END AS result,
        CASE r.run_trigger WHEN 1 THEN 'forced' ELSE 'schedule' END AS run_trigger,
        r.trigger_kind, r.trigger_json AS trigger,
        r.tick_count, r.status, r.error,
        json_extract(r.body, '$.output') AS output, json_extract(r.body, '$.actions') AS actions,
        json_extract(r.body, '$.desired') AS desired, json_extract(r.body, '$.observed') AS observed,
        json_extract(r.body, '$.conditions') AS conditions, json_extract(r.body, '$.log') AS log,
        json_extract(r.body, '$.trace') AS trace, json_extract(r.body, '$.metrics') AS metrics,
        json_extract(r.body, '$.events') AS events, json_extract(r.body, '$.kv_writes') AS kv_writes,
        json_extract(r.body, '$.kv_deletes') AS kv_deletes
        FROM runs r LEFT JOIN vigies v ON v.vid = r.vid)",
};

struct migration {
    std::vector<const char*> statements;
    std::function<void(connection&)> run;
};

const std::vector<migration>& migrations() {
    static const std::vector<migration> all = {
        {migration_1, nullptr},
        {migration_2, nullptr},
        {{}, migration_3},
        {migration_4, nullptr},
    };
    return all;
}

void refuse_newer(int version, const std::string& path) {
    if (version > schema_version_supported)
        vigy::fail(VIGY_FAILED_PRECONDITION,
                   fmt::format("database {} has schema version {}, newer than this vigy (supports up to {}); "
                               "upgrade vigy",
                               path, version, schema_version_supported));
}

}  // namespace

int current_version(connection& c) {
    if (scalar(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") == 0) return 0;
    return static_cast<int>(scalar(c, "SELECT max(version) FROM schema_version"));
}

void migrate(connection& c) {
    static_assert(schema_version_supported == 4, "append a migration when bumping the schema version");
    int version = current_version(c);
    refuse_newer(version, c.path());
    if (version == schema_version_supported) return;
    sqlite::immediate_tx tx(c);
    version = current_version(c);  // another process may have migrated meanwhile
    refuse_newer(version, c.path());
    if (version == schema_version_supported) return;
    if (version == 0)
        c.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)");
    for (int v = version + 1; v <= schema_version_supported; ++v) {
        const migration& m = migrations()[static_cast<std::size_t>(v - 1)];
        for (const char* stmt : m.statements) c.exec(stmt, fmt::format("applying schema migration {}", v));
        if (m.run) m.run(c);
        c.exec(fmt::format("INSERT INTO schema_version(version, applied_at) VALUES ({}, "
                           "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                           v)
                   .c_str());
    }
    tx.commit();
}

}  // namespace vigy::store::schema
