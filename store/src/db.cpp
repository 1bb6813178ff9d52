// store/src/db.cpp — sessions, PRAGMAs, error mapping, migrations, commit validation,
// the statements that apply a tick commit, and retention pruning.
#include "db.hpp"

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <filesystem>
#include <set>

namespace vigy::store::detail {

namespace api = sqlite_api;

// ---------------------------------------------------------------------------------
// sessions and errors

bool is_busy_code(int code) noexcept {
    const int primary = code & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

namespace {

[[noreturn]] void throw_sqlite(const std::string& path, int rc, const std::string& msg, const std::string& what) {
    if (is_busy_code(rc))
        throw error(error_code::busy,
                    fmt::format("database {} is locked by another process (busy beyond the timeout) while {}; "
                                "nothing was written, retry later",
                                path, what));
    throw error(error_code::io, fmt::format("database {}: {} while {}", path, msg, what));
}

}  // namespace

[[noreturn]] void rethrow(const std::string& path, const std::string& what) {
    try {
        throw;
    } catch (const error&) {
        throw;
    } catch (const soci::sqlite3_soci_error& e) {
        throw_sqlite(path, e.result(), e.what(), what);
    } catch (const std::exception& e) {
        std::string msg = e.what();
        // SOCI reports some failures (e.g. at prepare) without a result code.
        if (msg.find("database is locked") != std::string::npos || msg.find("database table is locked") != std::string::npos)
            throw_sqlite(path, SQLITE_BUSY, msg, what);
        throw error(error_code::io, fmt::format("database {}: {} while {}", path, msg, what));
    }
}

api::sqlite3* native(soci::session& sql) {
    return static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
}

int api_changes(soci::session& sql) { return api::sqlite3_changes(native(sql)); }

void exec(soci::session& sql, const std::string& path, const char* sql_text) {
    api::sqlite3* db = native(sql);
    char* err = nullptr;
    const int rc = api::sqlite3_exec(db, sql_text, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err != nullptr ? err : api::sqlite3_errstr(rc);
        api::sqlite3_free(err);
        msg += fmt::format(" (code {})", api::sqlite3_extended_errcode(db));
        throw_sqlite(path, rc, msg, fmt::format("executing \"{}\"", std::string_view(sql_text).substr(0, 60)));
    }
}

std::unique_ptr<soci::session> open_session(const std::string& path, int busy_timeout_ms) {
    std::unique_ptr<soci::session> sql;
    try {
        std::string conn = "db=";
        if (path.find_first_of(" \t\"'") != std::string::npos) {
            conn += '"';
            conn += path;
            conn += '"';
        } else {
            conn += path;
        }
        sql = std::make_unique<soci::session>(soci::sqlite3, conn);
    } catch (...) {
        rethrow(path, "opening");
    }
    api::sqlite3_busy_timeout(native(*sql), busy_timeout_ms);
    // journal_mode=WAL is persistent; setting it again is a cheap no-op once the file is WAL.
    exec(*sql, path, "PRAGMA journal_mode=WAL");
    exec(*sql, path, "PRAGMA synchronous=NORMAL");
    exec(*sql, path, "PRAGMA foreign_keys=ON");
    return sql;
}

immediate_tx::immediate_tx(soci::session& sql, const std::string& path) : sql_(sql), path_(path) {
    exec(sql_, path_, "BEGIN IMMEDIATE");
}

immediate_tx::~immediate_tx() {
    if (open_) {
        api::sqlite3_exec(native(sql_), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void immediate_tx::commit() {
    exec(sql_, path_, "COMMIT");
    open_ = false;
}

// ---------------------------------------------------------------------------------
// migrations

namespace {

// Migration N is migrations[N-1]; append only, never edit a released one.
const std::vector<std::vector<const char*>> migrations = {
    // 1: initial schema
    {
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
    },
    // 2: runs keep what the live run had (µs duration, trigger, tick_count, kv written/deleted)
    {
        R"(ALTER TABLE runs ADD COLUMN duration_us BIGINT NOT NULL DEFAULT 0)",
        R"(UPDATE runs SET duration_us = duration_ms * 1000)",
        R"(ALTER TABLE runs ADD COLUMN run_trigger TEXT NOT NULL DEFAULT 'schedule'
            CHECK (run_trigger IN ('schedule', 'forced')))",
        R"(ALTER TABLE runs ADD COLUMN tick_count BIGINT NOT NULL DEFAULT 0)",
        R"(ALTER TABLE runs ADD COLUMN kv_writes_json TEXT NOT NULL DEFAULT '{}')",
        R"(ALTER TABLE runs ADD COLUMN kv_deletes_json TEXT NOT NULL DEFAULT '[]')",
    },
};

static_assert(schema_version_supported == 2, "append a migration when bumping the schema version");

long long current_version(soci::session& sql) {
    long long has_table = 0;
    sql << "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        soci::into(has_table);
    if (has_table == 0) return 0;
    long long version = 0;
    soci::indicator ind = soci::i_ok;
    sql << "SELECT max(version) FROM schema_version", soci::into(version, ind);
    return ind == soci::i_ok ? version : 0;
}

void refuse_newer(long long version) {
    if (version > schema_version_supported)
        throw error(error_code::newer_schema,
                    fmt::format("database schema version {} is newer than this vigy (supports up to {}); upgrade vigy",
                                version, schema_version_supported));
}

}  // namespace

void migrate(soci::session& sql, const std::string& path) {
    try {
        long long version = current_version(sql);
        refuse_newer(version);
        if (version == schema_version_supported) return;
        immediate_tx tx(sql, path);
        version = current_version(sql);  // another process may have migrated meanwhile
        refuse_newer(version);
        if (version == 0)
            exec(sql, path, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)");
        for (long long v = version + 1; v <= schema_version_supported; ++v) {
            for (const char* stmt : migrations[static_cast<std::size_t>(v - 1)]) exec(sql, path, stmt);
            const std::string now = now_timestamp();
            sql << "INSERT INTO schema_version(version, applied_at) VALUES (:v, :t)", soci::use(v), soci::use(now);
        }
        tx.commit();
    } catch (...) {
        rethrow(path, "applying migrations");
    }
}

// ---------------------------------------------------------------------------------
// validation

namespace {

void check_json(const std::string& text, const char* what) {
    rapidjson::Reader reader;
    rapidjson::BaseReaderHandler<> handler;
    rapidjson::StringStream ss(text.c_str());
    const rapidjson::ParseResult ok = reader.Parse<rapidjson::kParseFullPrecisionFlag>(ss, handler);
    if (!ok || text.find('\0') != std::string::npos)
        throw error(error_code::invalid_argument,
                    fmt::format("{} is not valid json: {} at offset {}", what,
                                ok ? "embedded nul" : rapidjson::GetParseError_En(ok.Code()), ok.Offset()));
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

}  // namespace

void validate_json(const std::string& text, const char* what) { check_json(text, what); }

void validate_commit(tick_commit& c) {
    run_record& r = c.run;
    if (r.vigy_id.empty()) throw error(error_code::invalid_argument, "run has no vigy id");
    if (r.id.empty()) r.id = new_run_id();
    if (r.id.size() != 36) throw error(error_code::invalid_argument, fmt::format("invalid run id \"{}\": must be a uuid", r.id));
    (void)parse_timestamp(r.started_at);
    (void)parse_timestamp(r.ended_at);
    if (r.duration_ms < 0) throw error(error_code::invalid_argument, "run duration_ms must be >= 0");
    if (r.duration_us < 0) throw error(error_code::invalid_argument, "run duration_us must be >= 0");
    if (r.duration_us == 0) r.duration_us = r.duration_ms * 1000;
    if (r.tick_count < 0) throw error(error_code::invalid_argument, "run tick_count must be >= 0");
    if (r.trigger != "schedule" && r.trigger != "forced")
        throw error(error_code::invalid_argument,
                    fmt::format("invalid run trigger \"{}\": expected schedule or forced", r.trigger));
    check_json(r.actions_json, "actions");
    check_json(r.desired_json, "desired");
    check_json(r.observed_json, "observed");
    check_json(r.conditions_json, "conditions");
    check_json(r.log_json, "log");
    check_json(r.trace_json, "trace");
    check_json(r.metrics_json, "metrics");
    check_json(r.events_json, "events");
    check_json(r.output_json, "output");
    check_json(r.kv_writes_json, "kv writes");
    check_json(r.kv_deletes_json, "kv deletes");
    for (const auto& [key, value] : c.kv_upserts) {
        if (key.empty()) throw error(error_code::invalid_argument, "kv key must not be empty");
        check_json(value, "kv value");
    }
    for (auto& cond : c.conditions) {
        if (cond.name.empty()) throw error(error_code::invalid_argument, "condition name must not be empty");
        cond.status = lower(cond.status);
        if (cond.status != "true" && cond.status != "false" && cond.status != "unknown")
            throw error(error_code::invalid_argument,
                        fmt::format("invalid condition status \"{}\": expected true, false or unknown", cond.status));
    }
    for (auto& ev : c.events) {
        const std::string t = lower(ev.type);
        if (t == "normal")
            ev.type = "Normal";
        else if (t == "warning")
            ev.type = "Warning";
        else
            throw error(error_code::invalid_argument,
                        fmt::format("invalid event type \"{}\": expected Normal or Warning", ev.type));
        if (ev.reason.empty()) throw error(error_code::invalid_argument, "event reason must not be empty");
    }
}

// ---------------------------------------------------------------------------------
// applying a tick commit

struct commit_applier::statements {
    // bound variables (SOCI binds by reference)
    std::string vigy_id, key, value, ts, name, status, reason, message, type, run_id;
    std::string revision, started_at, ended_at, result, error_text;
    std::string actions, desired, observed, conditions, log, trace, metrics, events, output;
    long long count = 0, duration = 0, request_id = 0, now_ms = 0;

    soci::statement exists, kv_delete, cond_upsert, event_upsert, request_done;

    // Native, prepared once: sqlite3_exec would re-parse these for every commit.
    api::sqlite3_stmt* savepoint = nullptr;
    api::sqlite3_stmt* release = nullptr;
    api::sqlite3_stmt* rollback_to = nullptr;
    // The two statements every tick runs, bound natively (SQLITE_STATIC, no copies):
    // SOCI's per-bind conversions cost ~15% of the writer's CPU on these.
    api::sqlite3_stmt* kv_upsert = nullptr;
    api::sqlite3_stmt* run_insert = nullptr;

    // Vigies known to exist in the current write transaction (nobody can delete them
    // while we hold the write lock).
    std::set<std::string, std::less<>> known;

    ~statements() {
        api::sqlite3_finalize(savepoint);
        api::sqlite3_finalize(release);
        api::sqlite3_finalize(rollback_to);
        api::sqlite3_finalize(kv_upsert);
        api::sqlite3_finalize(run_insert);
    }

    explicit statements(soci::session& sql)
        : exists((sql.prepare << "SELECT count(*) FROM vigies WHERE id = :v", soci::into(count), soci::use(vigy_id))),
          kv_delete((sql.prepare << "DELETE FROM kv WHERE vigy_id = :v AND key = :k", soci::use(vigy_id),
                     soci::use(key))),
          cond_upsert((sql.prepare << "INSERT INTO conditions(vigy_id, name, status, reason, message, "
                                      "last_transition, updated_at, run_id) VALUES (:v, :n, :s, :r, :m, :t, :t2, :id) "
                                      "ON CONFLICT(vigy_id, name) DO UPDATE SET "
                                      "last_transition = CASE WHEN conditions.status = excluded.status "
                                      "THEN conditions.last_transition ELSE excluded.last_transition END, "
                                      "status = excluded.status, reason = excluded.reason, "
                                      "message = excluded.message, updated_at = excluded.updated_at, "
                                      "run_id = excluded.run_id",
                       soci::use(vigy_id), soci::use(name), soci::use(status), soci::use(reason), soci::use(message),
                       soci::use(ts), soci::use(ts), soci::use(run_id))),
          event_upsert((sql.prepare << "INSERT INTO events(vigy_id, type, reason, message, count, first_seen, "
                                       "last_seen, run_id) VALUES (:v, :ty, :r, :m, 1, :t, :t2, :id) "
                                       "ON CONFLICT(vigy_id, type, reason, message) DO UPDATE SET "
                                       "count = events.count + 1, last_seen = excluded.last_seen, "
                                       "run_id = excluded.run_id",
                        soci::use(vigy_id), soci::use(type), soci::use(reason), soci::use(message), soci::use(ts),
                        soci::use(ts), soci::use(run_id))),
          request_done((sql.prepare << "UPDATE tick_requests SET state = 'done', done_ms = :now, run_id = :id, "
                                       "error = :err WHERE id = :rid",
                        soci::use(now_ms), soci::use(run_id), soci::use(error_text), soci::use(request_id))) {
        api::sqlite3* db = native(sql);
        if (api::sqlite3_prepare_v2(db, "SAVEPOINT tick", -1, &savepoint, nullptr) != SQLITE_OK ||
            api::sqlite3_prepare_v2(db, "RELEASE tick", -1, &release, nullptr) != SQLITE_OK ||
            api::sqlite3_prepare_v2(db, "ROLLBACK TO tick", -1, &rollback_to, nullptr) != SQLITE_OK ||
            api::sqlite3_prepare_v2(db,
                                    "INSERT INTO kv(vigy_id, key, value_json, updated_at) VALUES (?, ?, ?, ?) "
                                    "ON CONFLICT(vigy_id, key) DO UPDATE SET value_json = excluded.value_json, "
                                    "updated_at = excluded.updated_at",
                                    -1, &kv_upsert, nullptr) != SQLITE_OK ||
            api::sqlite3_prepare_v2(db,
                                    "INSERT INTO runs(id, vigy_id, revision, started_at, ended_at, result, error, "
                                    "duration_ms, actions_json, desired_json, observed_json, conditions_json, "
                                    "log_json, trace_json, metrics_json, events_json, output_json, duration_us, "
                                    "run_trigger, tick_count, kv_writes_json, kv_deletes_json) VALUES "
                                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                    -1, &run_insert, nullptr) != SQLITE_OK)
            throw error(error_code::io, fmt::format("preparing the writer's statements: {}", api::sqlite3_errmsg(db)));
    }

    /// Step a native DML statement whose parameters are bound; always resets and clears.
    void step_dml(api::sqlite3_stmt* st, const std::string& path, const char* what) {
        const int rc = api::sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            std::string msg = api::sqlite3_errmsg(api::sqlite3_db_handle(st));
            api::sqlite3_reset(st);
            api::sqlite3_clear_bindings(st);
            throw_sqlite(path, rc, msg, what);
        }
        api::sqlite3_reset(st);
        api::sqlite3_clear_bindings(st);
    }

    /// Step a native control statement once; throws like exec() on failure.
    void step(api::sqlite3_stmt* st, soci::session& sql, const std::string& path, const char* what) {
        const int rc = api::sqlite3_step(st);
        api::sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            (void)sql;
            throw_sqlite(path, rc, api::sqlite3_errstr(rc), what);
        }
    }
};

namespace {
void bind(api::sqlite3_stmt* st, int index, const std::string& text) {
    api::sqlite3_bind_text(st, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}
}  // namespace

void commit_applier::begin_batch() { st_->known.clear(); }

commit_applier::commit_applier(soci::session& sql) : sql_(sql), st_(std::make_unique<statements>(sql)) {}
commit_applier::~commit_applier() = default;

void commit_applier::write(const tick_commit& c, const std::string& path) {
    statements& s = *st_;
    const run_record& r = c.run;
    s.vigy_id = r.vigy_id;
    s.ts = r.ended_at;
    s.run_id = r.id;
    if (r.result != run_result::failed) {
        for (const auto& [key, value] : c.kv_upserts) {
            bind(s.kv_upsert, 1, r.vigy_id);
            bind(s.kv_upsert, 2, key);
            bind(s.kv_upsert, 3, value);
            bind(s.kv_upsert, 4, r.ended_at);
            s.step_dml(s.kv_upsert, path, "writing kv");
        }
        for (const auto& key : c.kv_deletes) {
            s.key = key;
            s.kv_delete.execute(true);
        }
    }
    for (const auto& cond : c.conditions) {
        s.name = cond.name;
        s.status = cond.status;
        s.reason = cond.reason;
        s.message = cond.message;
        s.cond_upsert.execute(true);
    }
    for (const auto& ev : c.events) {
        s.type = ev.type;
        s.reason = ev.reason;
        s.message = ev.message;
        s.event_upsert.execute(true);
    }
    // The run goes last: if anything above failed, no run row claims its writes happened.
    const char* result = to_string(r.result);
    api::sqlite3_stmt* ins = s.run_insert;
    bind(ins, 1, r.id);
    bind(ins, 2, r.vigy_id);
    bind(ins, 3, r.revision);
    bind(ins, 4, r.started_at);
    bind(ins, 5, r.ended_at);
    api::sqlite3_bind_text(ins, 6, result, -1, SQLITE_STATIC);
    bind(ins, 7, r.error);
    api::sqlite3_bind_int64(ins, 8, r.duration_ms);
    bind(ins, 9, r.actions_json);
    bind(ins, 10, r.desired_json);
    bind(ins, 11, r.observed_json);
    bind(ins, 12, r.conditions_json);
    bind(ins, 13, r.log_json);
    bind(ins, 14, r.trace_json);
    bind(ins, 15, r.metrics_json);
    bind(ins, 16, r.events_json);
    bind(ins, 17, r.output_json);
    api::sqlite3_bind_int64(ins, 18, r.duration_us);
    bind(ins, 19, r.trigger);
    api::sqlite3_bind_int64(ins, 20, r.tick_count);
    // A failed run carries no kv (kv_upserts/kv_deletes are ignored for it).
    if (r.result == run_result::failed) {
        api::sqlite3_bind_text(ins, 21, "{}", -1, SQLITE_STATIC);
        api::sqlite3_bind_text(ins, 22, "[]", -1, SQLITE_STATIC);
    } else {
        bind(ins, 21, r.kv_writes_json);
        bind(ins, 22, r.kv_deletes_json);
    }
    s.step_dml(ins, path, "inserting the run");
    last_seq_ = api::sqlite3_last_insert_rowid(native(sql_));
    if (c.tick_request_id) {
        s.request_id = *c.tick_request_id;
        s.now_ms = now_unix_ms();
        s.request_done.execute(true);
    }
}

commit_result commit_applier::apply(const tick_commit& c, const std::string& path, bool careful) {
    commit_result out;
    out.run_id = c.run.id;
    statements& s = *st_;
    const run_record& r = c.run;
    // Existence first: a rejected commit then has written nothing, savepoint or not.
    if (s.known.find(r.vigy_id) == s.known.end()) {
        try {
            s.vigy_id = r.vigy_id;
            s.count = 0;
            s.exists.execute(true);
            // A single-row SELECT is left un-reset by SOCI: it would pin this connection's read
            // snapshot past COMMIT, and the next BEGIN IMMEDIATE fails with SQLITE_BUSY_SNAPSHOT
            // as soon as another connection writes. Reset it now.
            api::sqlite3_reset(static_cast<soci::sqlite3_statement_backend*>(s.exists.get_backend())->stmt_);
        } catch (...) {
            rethrow(path, fmt::format("committing run {} of vigy {}", r.id, r.vigy_id));
        }
        if (s.count == 0) {
            out.code = error_code::not_found;
            out.error = fmt::format("vigy {} not found (deleted?); run {} not recorded", r.vigy_id, r.id);
            return out;
        }
        s.known.insert(r.vigy_id);
    }
    if (careful) s.step(s.savepoint, sql_, path, "opening a savepoint");
    try {
        write(c, path);
        if (careful) s.step(s.release, sql_, path, "releasing a savepoint");
        out.ok = true;
        out.seq = last_seq_;
        return out;
    } catch (...) {
        error_code code = error_code::io;
        std::string msg;
        try {
            rethrow(path, fmt::format("committing run {} of vigy {}", r.id, r.vigy_id));
        } catch (const error& e) {
            code = e.code();
            msg = e.what();
        }
        // Busy inside an open transaction: the transaction itself is in trouble.
        if (code == error_code::busy) throw;
        // Fast path: part of this commit may be written; only the whole transaction can be
        // taken back. The caller rolls back and redoes the batch carefully.
        if (!careful) throw needs_savepoints{};
        api::sqlite3_step(s.rollback_to);
        api::sqlite3_reset(s.rollback_to);
        api::sqlite3_step(s.release);
        api::sqlite3_reset(s.release);
        out.ok = false;
        out.code = code;
        out.error = fmt::format("run {} of vigy {} not recorded: {}", r.id, r.vigy_id, msg);
        return out;
    }
}

// ---------------------------------------------------------------------------------
// retention

std::int64_t prune_step(soci::session& sql, const retention_policy& policy, std::string& cursor) {
    std::int64_t budget = policy.prune_chunk > 0 ? policy.prune_chunk : 500;
    std::int64_t deleted = 0;
    api::sqlite3* db = native(sql);
    {
        // Housekeeping: finished tick requests after 1 h, tombstones after 7 days.
        const long long cutoff_ms = now_unix_ms() - 3600LL * 1000;
        sql << "DELETE FROM tick_requests WHERE state IN ('done', 'failed') AND done_ms < :c", soci::use(cutoff_ms);
        const std::string tomb_cutoff = format_timestamp(std::chrono::system_clock::now() - std::chrono::hours(24 * 7));
        sql << "DELETE FROM vigy_tombstones WHERE deleted_at < :c", soci::use(tomb_cutoff);
    }
    if (policy.max_age.count() > 0) {
        // Age is judged in commit (seq) order: look only at the oldest `budget` rows, so the
        // step costs O(budget) even when nothing is old enough.
        const std::string cutoff = format_timestamp(std::chrono::system_clock::now() - policy.max_age);
        long long n = budget;
        sql << "DELETE FROM runs WHERE seq IN (SELECT seq FROM (SELECT seq, started_at FROM runs ORDER BY seq "
               "LIMIT :n) WHERE started_at < :cutoff)",
            soci::use(n), soci::use(cutoff);
        deleted += api::sqlite3_changes(db);
        budget -= api::sqlite3_changes(db);
    }
    if (policy.keep_runs > 0 || policy.keep_events > 0) {
        const long long keep = policy.keep_runs;
        for (int visited = 0; budget > 0 && visited < 256; ++visited) {
            std::string next;
            soci::indicator ind = soci::i_null;
            sql << "SELECT vigy_id FROM runs WHERE vigy_id > :c ORDER BY vigy_id LIMIT 1", soci::into(next, ind),
                soci::use(cursor);
            if (!sql.got_data() || ind != soci::i_ok) {
                cursor.clear();  // wrapped around; continue next step
                break;
            }
            if (policy.keep_events > 0) {
                long long keep_ev = policy.keep_events;
                sql << "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE vigy_id = :v ORDER BY last_seen "
                       "DESC, id DESC LIMIT -1 OFFSET :k)",
                    soci::use(next), soci::use(keep_ev);
            }
            if (keep <= 0) {
                cursor = next;
                continue;
            }
            long long threshold = 0;
            soci::indicator tind = soci::i_null;
            sql << "SELECT seq FROM runs WHERE vigy_id = :v ORDER BY seq DESC LIMIT 1 OFFSET :k",
                soci::into(threshold, tind), soci::use(next), soci::use(keep);
            if (sql.got_data() && tind == soci::i_ok) {
                long long n = budget;
                sql << "DELETE FROM runs WHERE seq IN (SELECT seq FROM runs WHERE vigy_id = :v AND seq <= :t "
                       "ORDER BY seq LIMIT :n)",
                    soci::use(next), soci::use(threshold), soci::use(n);
                const int changed = api::sqlite3_changes(db);
                deleted += changed;
                budget -= changed;
                if (budget <= 0) break;  // more may remain for this vigy: keep the cursor on it
            }
            cursor = next;
        }
    }
    return deleted;
}

}  // namespace vigy::store::detail
