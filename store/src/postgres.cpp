// store/src/postgres.cpp — the PostgreSQL backend: URL classification and redaction,
// SOCI postgresql sessions and error mapping, the schema and its migrations, write
// transactions under the database-wide write lock, the tick-commit applier and pruning.
//
// Writes are serialized database-wide, as SQLite serializes them: every write
// transaction takes one advisory transaction lock (pg_advisory_xact_lock) right after
// BEGIN, so read-modify-write sequences (compare-and-set on resource versions, the
// lease, change_seq) need no other isolation, run seqs are handed out in commit order
// (a cursor never skips a run committed later with a lower seq), and concurrent hosts
// opening one database migrate once. The wait for the lock is bounded by lock_timeout
// (open_options::busy_timeout_ms); beyond it the write fails UNAVAILABLE, nothing written.
#include "postgres.hpp"

#include "applier.hpp"

#include <fmt/format.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cctype>
#include <vector>

namespace vigy::store {

// ---- URLs ----------------------------------------------------------------------------

std::string redact_url(std::string_view url) {
    std::string out(url);
    const auto scheme_end = out.find("://");
    if (scheme_end == std::string::npos) return out;
    const std::size_t auth = scheme_end + 3;
    const std::size_t auth_end = std::min(out.find_first_of("/?#", auth), out.size());
    const std::size_t at = out.rfind('@', auth_end == out.size() ? std::string::npos : auth_end);
    if (at != std::string::npos && at >= auth && at < auth_end) {
        const std::size_t colon = out.find(':', auth);
        if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
    // password=... among the query parameters
    const std::size_t q = out.find('?');
    if (q != std::string::npos) {
        std::size_t p = q + 1;
        while (p < out.size()) {
            std::size_t end = out.find('&', p);
            if (end == std::string::npos) end = out.size();
            if (out.compare(p, 9, "password=") == 0) {
                out.replace(p + 9, end - p - 9, "***");
                end = p + 12;
            }
            p = end + 1;
        }
    }
    return out;
}

std::string display_path(const std::string& path) {
    return path.find("://") == std::string::npos ? path : redact_url(path);
}

database parse_database(const std::string& path) {
    database db;
    db.target = path;
    db.display = path;
    const auto sep = path.find("://");
    if (sep == std::string::npos || sep == 0) return db;
    const std::string_view scheme = std::string_view(path).substr(0, sep);
    bool is_scheme = std::isalpha(static_cast<unsigned char>(scheme[0])) != 0;
    for (char c : scheme)
        is_scheme = is_scheme && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.');
    if (!is_scheme) return db;  // a path that happens to contain "://"
    std::string lower;
    for (char c : scheme) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    db.display = redact_url(path);
    if (lower != "postgresql" && lower != "postgres")
        vigy::fail(VIGY_INVALID_ARGUMENT,
                   fmt::format("unsupported database URL scheme \"{}\" in {}: expected a file path or a "
                               "postgresql:// URL",
                               scheme, db.display));
    db.kind = backend::postgresql;
    return db;
}

namespace dialect {

std::string hex_of(backend b, std::string_view column) {
    return b == backend::postgresql ? fmt::format("encode({}, 'hex')", column) : fmt::format("hex({})", column);
}

std::string bytes_literal(backend b, std::string_view hex32) {
    return b == backend::postgresql ? fmt::format("decode('{}', 'hex')", hex32) : fmt::format("X'{}'", hex32);
}

const char* begin_write(backend b) noexcept { return b == backend::postgresql ? "BEGIN" : "BEGIN IMMEDIATE"; }

const char* write_lock(backend b) noexcept {
    // 1986619257 = 'vigy'; (.., 1) is the write lock of one database
    return b == backend::postgresql ? "SELECT 1 FROM pg_advisory_xact_lock(1986619257, 1)" : "";
}

const char* begin_read(backend b) noexcept {
    return b == backend::postgresql ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN";
}

}  // namespace dialect

namespace postgres {

// ---- errors --------------------------------------------------------------------------

vigy_status code_for(std::string_view s) noexcept {
    if (s.size() != 5) return VIGY_UNAVAILABLE;
    const std::string_view cls = s.substr(0, 2);
    if (cls == "08" || s == "57P01" || s == "57P02" || s == "57P03" || s == "40001" || s == "40P01" || s == "55P03")
        return VIGY_UNAVAILABLE;
    if (cls == "53") return VIGY_RESOURCE_EXHAUSTED;
    if (s == "23505") return VIGY_ALREADY_EXISTS;
    if (cls == "23") return VIGY_INVALID_ARGUMENT;
    if (s == "42501" || cls == "28") return VIGY_PERMISSION_DENIED;
    if (s == "3D000") return VIGY_FAILED_PRECONDITION;
    return VIGY_INTERNAL;
}

namespace {

std::string clean_state(std::string s) {
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) return {};
    return s;
}

std::string trim(std::string_view m) {
    while (!m.empty() && std::isspace(static_cast<unsigned char>(m.back()))) m.remove_suffix(1);
    std::string out(m);
    for (char& c : out)
        if (c == '\n') c = ' ';
    return out;
}

}  // namespace

void fail(std::string_view sqlstate, std::string_view msg, const std::string& display, std::string_view what) {
    const vigy_status code = code_for(sqlstate);
    const std::string state = sqlstate.empty() ? std::string() : fmt::format(" (SQLSTATE {})", sqlstate);
    if (code == VIGY_UNAVAILABLE)
        vigy::fail(code, fmt::format("database {} is unavailable while {}: {}{}; nothing was written, retry later",
                                     display, what, trim(msg), state));
    vigy::fail(code, fmt::format("database {}: {}{} while {}", display, trim(msg), state, what));
}

void rethrow(const std::string& display, std::string_view what) {
    try {
        throw;
    } catch (const status_error&) {
        throw;
    } catch (const soci::postgresql_soci_error& e) {
        fail(clean_state(e.sqlstate()), e.what(), display, what);
    } catch (const std::bad_alloc&) {
        vigy::fail(VIGY_RESOURCE_EXHAUSTED, fmt::format("out of memory while {}", what));
    } catch (const soci::soci_error& e) {
        // SOCI reports connection failures (and a lost connection) without a SQLSTATE.
        if (e.get_error_category() == soci::soci_error::connection_error) fail("", e.what(), display, what);
        vigy::fail(VIGY_INTERNAL, fmt::format("database {}: {} while {}", display, trim(e.what()), what));
    } catch (const std::exception& e) {
        vigy::fail(VIGY_INTERNAL, fmt::format("database {}: {} while {}", display, trim(e.what()), what));
    }
}

// ---- sessions ------------------------------------------------------------------------

/// Translates a libpq URI into keyword=value form. SOCI 4.0's postgresql backend splits
/// its connection string into keyword=value pairs and rebuilds it, so a URI reaches
/// PQconnectdb as "postgresql://...=" (a database named "vigy=") and never connects.
/// libpq's own parser (PQconninfoParse) reads the URI; the values are written back
/// with libpq's backslash escapes, which SOCI passes through untouched. SOCI cannot carry
/// whitespace in a value (it splits there): refused, as is a URI libpq rejects.
conninfo to_keywords(const database& db) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(db.target.c_str(), &err);
    if (opts == nullptr) {
        std::string why = err != nullptr ? trim(err) : "out of memory";
        if (err != nullptr) PQfreemem(err);
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("database {}: not a valid PostgreSQL URL: {}", db.display, why));
    }
    conninfo out;
    std::string host, port;
    bool has_connect_timeout = false;
    std::string bad;
    out.keepalives = false;
    for (const PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
        if (o->val == nullptr) continue;
        const std::string_view key = o->keyword, val = o->val;
        if (key == "host" || key == "hostaddr") host = host.empty() ? std::string(val) : host;
        if (key == "port") port = val;
        if (key == "connect_timeout") has_connect_timeout = true;
        if (key.substr(0, 10) == "keepalives") out.keepalives = true;
        std::string escaped;
        for (char c : val) {
            if (std::isspace(static_cast<unsigned char>(c))) bad = key;
            if (c == '\\' || c == '\'' || c == '"') escaped += '\\';
            escaped += c;
        }
        if (!out.keywords.empty()) out.keywords += ' ';
        out.keywords += fmt::format("{}={}", key, escaped);
    }
    PQconninfoFree(opts);
    if (!bad.empty())
        vigy::fail(VIGY_INVALID_ARGUMENT,
                   fmt::format("database {}: the URL's {} contains whitespace, which SOCI's PostgreSQL backend cannot "
                               "pass on (use the PGPASSWORD environment variable or ~/.pgpass for such a password)",
                               db.display, bad));
    // libpq waits for an unresponsive host without limit by default.
    if (!has_connect_timeout) out.keywords += " connect_timeout=10";
    out.server = fmt::format("{}:{}", host.empty() ? "localhost" : host, port.empty() ? "5432" : port);
    return out;
}

namespace {

/// Maps a failed connect (SOCI 4.0: a plain soci_error with libpq's message and no
/// SQLSTATE). libpq's ping tells an unreachable server (retry later) from one that is up
/// and refused this session (authentication, no such database: fix the URL).
[[noreturn]] void connect_failed(const soci::soci_error& e, const conninfo& ci, const database& db) {
    std::string msg = trim(e.what());
    const std::string prefix = "Cannot establish connection to the database. ";
    if (msg.compare(0, prefix.size(), prefix) == 0) msg.erase(0, prefix.size());
    const PGPing ping = PQping(ci.keywords.c_str());
    if (ping == PQPING_NO_RESPONSE || ping == PQPING_REJECT)
        vigy::fail(VIGY_UNAVAILABLE,
                   fmt::format("database {} is unavailable: cannot connect to the PostgreSQL server at {}: {}; "
                               "nothing was written, retry later",
                               db.display, ci.server, msg));
    vigy::fail(
        VIGY_FAILED_PRECONDITION,
        fmt::format("database {}: the PostgreSQL server at {} refused the connection: {}", db.display, ci.server, msg));
}

void configure(soci::session& sql, const database& db, int lock_timeout_ms) {
    try {
        // NOTICEs (e.g. "relation already exists, skipping") would go to stderr.
        sql << "SET client_min_messages = warning";
        sql << fmt::format("SET lock_timeout = {}", std::max(lock_timeout_ms, 1));
        // A client that stops inside a transaction (SIGSTOP, a VM freeze, a cut network)
        // would hold the database-wide write lock and stall every other host's writes,
        // shard lease renewals included: the server ends such a session after 2 s idle in
        // its transaction (rolled back; the client reconnects on its next use). vigy's
        // own transactions never wait on their client between statements for that long.
        sql << "SET idle_in_transaction_session_timeout = 2000";
    } catch (...) {
        rethrow(db.display, "configuring the connection");
    }
}

}  // namespace

std::unique_ptr<soci::session> open_session(const database& db, int lock_timeout_ms) {
    const conninfo ci = to_keywords(db);
    std::unique_ptr<soci::session> sql;
    try {
        sql = std::make_unique<soci::session>(soci::postgresql, ci.keywords);
    } catch (const soci::postgresql_soci_error&) {
        rethrow(db.display, "connecting");
    } catch (const soci::soci_error& e) {
        connect_failed(e, ci, db);
    } catch (...) {
        rethrow(db.display, "connecting");
    }
    configure(*sql, db, lock_timeout_ms);
    return sql;
}

bool connection_lost(soci::session& sql) noexcept {
    // Every session here was opened by open_session on SOCI's postgresql backend.
    auto* be = static_cast<soci::postgresql_session_backend*>(sql.get_backend());
    if (be == nullptr || be->conn_ == nullptr || PQstatus(be->conn_) == CONNECTION_BAD) return true;
    // A statement that failed writing to a closed socket leaves the status OK until libpq
    // reads the end of the stream: read what is there (non-blocking) to find out.
    return PQconsumeInput(be->conn_) == 0 || PQstatus(be->conn_) == CONNECTION_BAD;
}

bool revive(soci::session& sql, const database& db, int lock_timeout_ms) {
    if (!connection_lost(sql)) return false;
    try {
        sql.reconnect();  // the keyword string it was opened with
    } catch (const soci::postgresql_soci_error&) {
        rethrow(db.display, "reconnecting");
    } catch (const soci::soci_error& e) {
        connect_failed(e, to_keywords(db), db);
    } catch (...) {
        rethrow(db.display, "reconnecting");
    }
    configure(sql, db, lock_timeout_ms);
    return true;
}

// ---- transactions --------------------------------------------------------------------

write_tx::write_tx(soci::session& sql, const std::string& display) : sql_(sql), display_(display) {
    try {
        sql_ << "BEGIN";
        int one = 0;
        sql_ << dialect::write_lock(backend::postgresql), soci::into(one);
    } catch (...) {
        try {
            sql_ << "ROLLBACK";
        } catch (...) {
        }
        rethrow(display_, "beginning a write transaction");
    }
}

write_tx::~write_tx() {
    if (open_) {
        try {
            sql_ << "ROLLBACK";
        } catch (...) {
        }
    }
}

void write_tx::commit() {
    try {
        sql_ << "COMMIT";
        open_ = false;
    } catch (...) {
        rethrow(display_, "committing");
    }
}

// ---- schema --------------------------------------------------------------------------
//
// The same logical schema as SQLite's version 4 (store/src/schema.cpp has the column
// meanings). Text that is compared or ordered (names, kv keys, condition types) is
// COLLATE "C": byte order, as SQLite's and std::string's. Events deduplicate on a hash
// of the message (a btree entry holds at most ~2.7 kB). Migration N of this list is
// not schema version N: entry 1 creates version 4 directly; append {5, ...} next.

namespace {

struct pg_migration {
    int version;
    std::vector<const char*> statements;
};

const std::vector<pg_migration>& migrations() {
    static const std::vector<pg_migration> all = {
        {4,
         {
             R"(CREATE TABLE store_meta (key TEXT COLLATE "C" PRIMARY KEY, value BIGINT NOT NULL))",
             R"(INSERT INTO store_meta(key, value) VALUES ('change_seq', 0), ('changes_floor', 0),
                ('lease_epoch', 0))",
             R"(CREATE TABLE vigies (
                vid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                name TEXT COLLATE "C" NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                config_json TEXT NOT NULL,
                revision TEXT NOT NULL,
                interval_ms BIGINT NOT NULL CHECK (interval_ms >= 100),
                enabled INTEGER NOT NULL,
                labels_json TEXT NOT NULL,
                grants_json TEXT NOT NULL,
                fuel BIGINT NOT NULL,
                wall_ms BIGINT NOT NULL,
                memory_bytes BIGINT NOT NULL,
                max_depth BIGINT NOT NULL,
                created_ms BIGINT NOT NULL,
                updated_ms BIGINT NOT NULL,
                resource_version BIGINT NOT NULL,
                deleted INTEGER NOT NULL,
                schedule_json TEXT NOT NULL DEFAULT '',
                state TEXT NOT NULL DEFAULT 'Enabled' CHECK (state IN ('Enabled', 'Disabled', 'Degraded', 'Completed')),
                state_reason TEXT NOT NULL DEFAULT '',
                state_ms BIGINT NOT NULL DEFAULT 0))",
             R"(CREATE TABLE vigy_changes (
                seq BIGINT PRIMARY KEY,
                vid BIGINT NOT NULL,
                id TEXT NOT NULL,
                name TEXT NOT NULL,
                type INTEGER NOT NULL CHECK (type IN (0, 1, 2)),
                at_ms BIGINT NOT NULL))",
             R"(CREATE TABLE vigy_revisions (
                vid BIGINT NOT NULL,
                revision TEXT NOT NULL,
                kind TEXT NOT NULL,
                config_json TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                PRIMARY KEY (vid, revision)))",
             R"(CREATE TABLE runs (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                vid BIGINT NOT NULL,
                run_id BYTEA NOT NULL,
                revision BIGINT NOT NULL,
                started_ms BIGINT NOT NULL,
                ended_ms BIGINT NOT NULL,
                duration_us BIGINT NOT NULL,
                lateness_us BIGINT NOT NULL,
                result INTEGER NOT NULL CHECK (result IN (0, 1, 2)),
                run_trigger INTEGER NOT NULL CHECK (run_trigger IN (0, 1)),
                tick_count BIGINT NOT NULL,
                status INTEGER NOT NULL,
                error TEXT,
                body TEXT,
                trigger_kind TEXT,
                trigger_json TEXT))",
             R"(CREATE TABLE kv (
                vid BIGINT NOT NULL,
                key TEXT COLLATE "C" NOT NULL,
                value_json TEXT NOT NULL,
                updated_ms BIGINT NOT NULL,
                PRIMARY KEY (vid, key)))",
             R"(CREATE TABLE tick_marks (
                vid BIGINT PRIMARY KEY,
                tick_count BIGINT NOT NULL,
                prev_tick_ms BIGINT NOT NULL))",
             R"(CREATE TABLE conditions (
                vid BIGINT NOT NULL,
                type TEXT COLLATE "C" NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('True', 'False', 'Unknown')),
                reason TEXT NOT NULL,
                message TEXT NOT NULL,
                last_transition_ms BIGINT NOT NULL,
                updated_ms BIGINT NOT NULL,
                run_seq BIGINT NOT NULL,
                PRIMARY KEY (vid, type)))",
             R"(CREATE TABLE events (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                vid BIGINT NOT NULL,
                type TEXT NOT NULL CHECK (type IN ('Normal', 'Warning')),
                reason TEXT NOT NULL,
                message TEXT NOT NULL,
                count BIGINT NOT NULL,
                first_ms BIGINT NOT NULL,
                last_ms BIGINT NOT NULL,
                run_seq BIGINT NOT NULL))",
             "CREATE UNIQUE INDEX events_dedup ON events(vid, type, md5(reason), md5(message))",
             R"(CREATE TABLE scheduler_lease (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                owner TEXT NOT NULL,
                token BIGINT NOT NULL,
                pid BIGINT NOT NULL,
                host TEXT NOT NULL,
                boot_id TEXT NOT NULL,
                acquired_ms BIGINT NOT NULL,
                heartbeat_ms BIGINT NOT NULL,
                expires_ms BIGINT NOT NULL,
                expires_boot_ms BIGINT NOT NULL))",
             R"(CREATE TABLE tick_requests (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                vid BIGINT NOT NULL,
                requester TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'done', 'failed')),
                requested_ms BIGINT NOT NULL,
                claimed_ms BIGINT NOT NULL DEFAULT 0,
                claimed_token BIGINT NOT NULL DEFAULT 0,
                done_ms BIGINT NOT NULL DEFAULT 0,
                run_id BYTEA,
                error_code INTEGER NOT NULL DEFAULT 0,
                error TEXT NOT NULL DEFAULT '',
                trigger_json TEXT))",
             "CREATE UNIQUE INDEX runs_by_id ON runs(run_id)",
             "CREATE INDEX runs_by_vigy ON runs(vid, seq)",
             "CREATE INDEX events_by_vigy ON events(vid, last_ms)",
             "CREATE INDEX tick_requests_by_state ON tick_requests(state, id)",
             // readable views for psql
             R"(CREATE VIEW runs_view AS SELECT r.seq, v.name AS vigy, v.id AS vigy_id,
                CAST(encode(r.run_id, 'hex') AS uuid) AS run_id, lpad(to_hex(r.revision), 16, '0') AS revision,
                to_timestamp(r.started_ms / 1000.0) AS started_at, to_timestamp(r.ended_ms / 1000.0) AS ended_at,
                r.duration_us, r.lateness_us,
                CASE r.result WHEN 0 THEN 'ok' WHEN 1 THEN 'failed' ELSE 'skipped' END AS result,
                CASE r.run_trigger WHEN 1 THEN 'forced' ELSE 'schedule' END AS run_trigger,
                r.trigger_kind, r.trigger_json AS trigger, r.tick_count, r.status, r.error, r.body
                FROM runs r LEFT JOIN vigies v ON v.vid = r.vid)",
             R"(CREATE VIEW vigies_view AS SELECT vid, id, name, kind, revision, interval_ms, state, state_reason,
                schedule_json AS schedule, labels_json AS labels, grants_json AS grants,
                to_timestamp(created_ms / 1000.0) AS created_at, to_timestamp(updated_ms / 1000.0) AS updated_at,
                resource_version, deleted <> 0 AS deleted, config_json AS config FROM vigies)",
         }},
    };
    return all;
}

}  // namespace

void migrate(soci::session& sql, const std::string& display) {
    static_assert(schema_version_supported == 4, "append a PostgreSQL migration when bumping the schema version");
    write_tx tx(sql, display);  // the write lock: concurrent openers migrate once
    int version = 0;
    try {
        sql << "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)";
        soci::indicator ind = soci::i_null;
        sql << "SELECT max(version) FROM schema_version", soci::into(version, ind);
        if (ind != soci::i_ok) version = 0;
    } catch (...) {
        rethrow(display, "reading the schema version");
    }
    if (version > schema_version_supported)
        vigy::fail(VIGY_FAILED_PRECONDITION,
                   fmt::format("database {} has schema version {}, newer than this vigy (supports up to {}); "
                               "upgrade vigy",
                               display, version, schema_version_supported));
    bool created = false;
    for (const pg_migration& m : migrations()) {
        if (m.version <= version) continue;
        created = true;
        const std::string what = fmt::format("applying schema migration {}", m.version);
        try {
            for (const char* stmt : m.statements) sql << stmt;
            sql << fmt::format(
                "INSERT INTO schema_version(version, applied_at) VALUES ({}, "
                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
                m.version);
        } catch (...) {
            rethrow(display, what);
        }
    }
    // Cluster mode's tables (store.hpp, "cluster mode"): PostgreSQL only, created where
    // missing so a schema 4 database from before cluster mode gains them; no version
    // bump, as SQLite never has them. Cheap when they exist (checked in the catalog).
    try {
        int have = 0;
        sql << "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND "
               "tablename IN ('shard_leases', 'cluster_hosts')",
            soci::into(have);
        if (have != 2 || created) {
            sql << R"(CREATE TABLE IF NOT EXISTS cluster_hosts (
                owner TEXT COLLATE "C" PRIMARY KEY,
                host TEXT NOT NULL,
                pid BIGINT NOT NULL,
                joined_ms BIGINT NOT NULL,
                heartbeat_ms BIGINT NOT NULL,
                expires_ms BIGINT NOT NULL))";
            sql << R"(CREATE TABLE IF NOT EXISTS shard_leases (
                shard INTEGER PRIMARY KEY CHECK (shard >= 0),
                owner TEXT COLLATE "C",
                host TEXT NOT NULL DEFAULT '',
                pid BIGINT NOT NULL DEFAULT 0,
                epoch BIGINT NOT NULL DEFAULT 0,
                acquired_ms BIGINT NOT NULL DEFAULT 0,
                renewed_ms BIGINT NOT NULL DEFAULT 0,
                expires_ms BIGINT NOT NULL DEFAULT 0,
                takeovers BIGINT NOT NULL DEFAULT 0))";
            sql << "CREATE INDEX IF NOT EXISTS shard_leases_by_owner ON shard_leases(owner)";
            sql << "INSERT INTO store_meta(key, value) VALUES ('shard_count', 64) ON CONFLICT (key) DO NOTHING";
            sql << "INSERT INTO shard_leases(shard) SELECT g FROM generate_series(0, (SELECT value FROM store_meta "
                   "WHERE key = 'shard_count') - 1) g ON CONFLICT (shard) DO NOTHING";
        }
    } catch (...) {
        rethrow(display, "creating the cluster tables");
    }
    tx.commit();
}

// ---- the applier ---------------------------------------------------------------------

struct applier::statements {
    // bound by reference: set before each execute
    long long vid = 0, revision = 0, started = 0, ended = 0, duration = 0, lateness = 0, result = 0, trigger = 0,
              tick_count = 0, status = 0, seq = 0;
    std::string run_hex, error, body, trigger_kind, trigger_json;
    soci::indicator error_ind = soci::i_null, body_ind = soci::i_null, tk_ind = soci::i_null, tj_ind = soci::i_null;
    std::string key, value;
    std::string ctype, cstatus, creason, cmessage;
    std::string etype, ereason, emessage;
    long long now = 0, request = 0;
    long long change_seq = 0, token = 0, deleted = 0;

    soci::statement change_seq_st, lease_st, exists_st, run_insert, kv_upsert, kv_delete, cond_upsert, event_upsert,
        request_done;

    explicit statements(soci::session& sql)
        // Every batch reads change_seq first, in its transaction: the same statement
        // notifies the batch's runs (delivered at commit, once per transaction, not per
        // run; dropped with a rolled-back batch), so notification costs no round trip.
        : change_seq_st((sql.prepare << fmt::format("SELECT coalesce((SELECT value FROM store_meta WHERE key = "
                                                    "'change_seq'), -1) FROM pg_notify('{}', '')",
                                                    channel_runs),
                         soci::into(change_seq))),
          lease_st((sql.prepare << "SELECT token FROM scheduler_lease WHERE id = 1", soci::into(token))),
          exists_st((sql.prepare << "SELECT deleted FROM vigies WHERE vid = :v", soci::into(deleted), soci::use(vid))),
          run_insert((sql.prepare << "INSERT INTO runs(vid, run_id, revision, started_ms, ended_ms, duration_us, "
                                     "lateness_us, result, run_trigger, tick_count, status, error, body, "
                                     "trigger_kind, trigger_json) VALUES (:v, decode(:id, 'hex'), :rev, :s, :e, "
                                     ":d, :l, :r, :t, :tc, :st, :err, :b, :tk, :tj) RETURNING seq",
                      soci::into(seq), soci::use(vid), soci::use(run_hex), soci::use(revision), soci::use(started),
                      soci::use(ended), soci::use(duration), soci::use(lateness), soci::use(result), soci::use(trigger),
                      soci::use(tick_count), soci::use(status), soci::use(error, error_ind), soci::use(body, body_ind),
                      soci::use(trigger_kind, tk_ind), soci::use(trigger_json, tj_ind))),
          kv_upsert((sql.prepare << "INSERT INTO kv(vid, key, value_json, updated_ms) VALUES (:v, :k, :j, :u) "
                                    "ON CONFLICT(vid, key) DO UPDATE SET value_json = excluded.value_json, "
                                    "updated_ms = excluded.updated_ms",
                     soci::use(vid), soci::use(key), soci::use(value), soci::use(ended))),
          kv_delete((sql.prepare << "DELETE FROM kv WHERE vid = :v AND key = :k", soci::use(vid), soci::use(key))),
          cond_upsert((sql.prepare << "INSERT INTO conditions(vid, type, status, reason, message, "
                                      "last_transition_ms, updated_ms, run_seq) VALUES (:v, :t, :s, :r, :m, :lt, "
                                      ":u, :q) ON CONFLICT(vid, type) DO UPDATE SET "
                                      "last_transition_ms = CASE WHEN conditions.status = excluded.status "
                                      "THEN conditions.last_transition_ms ELSE excluded.last_transition_ms END, "
                                      "status = excluded.status, reason = excluded.reason, message = "
                                      "excluded.message, updated_ms = excluded.updated_ms, run_seq = excluded.run_seq",
                       soci::use(vid), soci::use(ctype), soci::use(cstatus), soci::use(creason), soci::use(cmessage),
                       soci::use(started), soci::use(ended), soci::use(seq))),
          event_upsert((sql.prepare << "INSERT INTO events(vid, type, reason, message, count, first_ms, last_ms, "
                                       "run_seq) VALUES (:v, :t, :r, :m, 1, :f, :l, :q) "
                                       "ON CONFLICT(vid, type, md5(reason), md5(message)) DO UPDATE SET "
                                       "count = events.count + 1, last_ms = excluded.last_ms, "
                                       "run_seq = excluded.run_seq",
                        soci::use(vid), soci::use(etype), soci::use(ereason), soci::use(emessage), soci::use(ended),
                        soci::use(ended), soci::use(seq))),
          request_done((sql.prepare << "UPDATE tick_requests SET state = 'done', done_ms = :n, run_id = decode(:id, "
                                       "'hex') WHERE id = :i",
                        soci::use(now), soci::use(run_hex), soci::use(request))) {}
};

applier::applier(soci::session& sql, const std::string& display) : sql_(sql), display_(display) {
    try {
        st_ = std::make_unique<statements>(sql);
    } catch (...) {
        rethrow(display_, "preparing the commit statements");
    }
}

applier::~applier() = default;

void applier::begin_batch() {
    try {
        st_->change_seq = -1;
        if (!st_->change_seq_st.execute(true)) st_->change_seq = -1;
        if (st_->change_seq != known_at_change_seq_) {
            known_.clear();  // some vigy changed (maybe deleted): check existence again
            known_at_change_seq_ = st_->change_seq;
        }
        batch_token_.reset();
        if (st_->lease_st.execute(true)) batch_token_ = st_->token;
        shards_loaded_ = false;
    } catch (...) {
        rethrow(display_, "reading the change sequence and the scheduler lease");
    }
}

namespace {

void to_hex(const codec::uuid& u, std::string& out) {
    static constexpr char hex[] = "0123456789abcdef";
    out.clear();
    for (unsigned char b : u) {
        out += hex[b >> 4];
        out += hex[b & 0xf];
    }
}

void set_text(std::string& dst, soci::indicator& ind, const std::string& src) {
    dst = src;
    ind = src.empty() ? soci::i_null : soci::i_ok;
}

}  // namespace

void applier::write(tick_commit& c) {
    statements& s = *st_;
    run_record& r = c.run;
    if (r.id.empty()) new_run_id(r.started_ms, r.id);
    if (!codec::parse_uuid(r.id, uuid_))
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("run id {:?} is not a UUID", r.id));
    std::int64_t revision = 0;
    if (!codec::parse_hex64(r.revision, revision)) revision = 0;
    const bool failed = r.result == run_result::failed;
    s.body.clear();
    codec::append_body(r, !failed, s.body);
    s.body_ind = s.body.empty() ? soci::i_null : soci::i_ok;
    to_hex(uuid_, s.run_hex);
    s.vid = c.vigy_key;
    s.revision = revision;
    s.started = r.started_ms;
    s.ended = r.ended_ms;
    s.duration = r.duration_us;
    s.lateness = r.lateness_us;
    s.result = static_cast<long long>(r.result);
    s.trigger = static_cast<long long>(r.trigger);
    s.tick_count = r.tick_count;
    s.status = static_cast<long long>(failed && r.status == VIGY_OK ? VIGY_UNKNOWN : r.status);
    set_text(s.error, s.error_ind, r.error);
    set_text(s.trigger_kind, s.tk_ind, r.trigger_kind);
    set_text(s.trigger_json, s.tj_ind, r.trigger_json);
    auto run = [&](soci::statement& st, std::string_view what) {
        try {
            st.execute(true);
        } catch (...) {
            rethrow(display_, what);
        }
    };
    run(s.run_insert, "inserting the run");
    if (!failed) {
        for (const auto& [key, value] : c.kv_upserts) {
            s.key = key;
            s.value = value;
            run(s.kv_upsert, "writing kv");
        }
        for (const auto& key : c.kv_deletes) {
            s.key = key;
            run(s.kv_delete, "deleting kv");
        }
    }
    for (const condition_update& cu : c.conditions) {
        s.ctype = cu.type;
        s.cstatus = cu.status;
        s.creason = cu.reason;
        s.cmessage = cu.message;
        run(s.cond_upsert, "writing a condition");
    }
    for (const event_update& e : c.events) {
        s.etype = e.type;
        s.ereason = e.reason;
        s.emessage = e.message;
        run(s.event_upsert, "recording an event");
    }
    if (c.tick_request_id) {
        s.now = now_unix_ms();
        s.request = *c.tick_request_id;
        run(s.request_done, "completing the tick request");
    }
}

commit_result applier::apply(tick_commit& c, bool careful) {
    commit_result out;
    const run_record& r = c.run;
    if (c.fence && (!batch_token_ || *batch_token_ != *c.fence)) {
        out.stale = true;
        out.code = VIGY_ABORTED;
        out.error = fmt::format(
            "run of vigy {} not recorded: its scheduler no longer holds the lease (token {}, the "
            "lease now has {})",
            r.vigy_id, *c.fence, batch_token_ ? std::to_string(*batch_token_) : "none");
        return out;
    }
    if (c.shard) {
        // Cluster fencing: the shard must still be held under this epoch. The batch runs
        // under the write lock every shard lease change takes, and the rows are locked
        // FOR SHARE, so a takeover and this commit serialize.
        if (!shards_loaded_) {
            try {
                shard_epochs_.clear();
                long long shard = 0, epoch = 0;
                soci::statement st = (sql_.prepare << "SELECT shard, epoch FROM shard_leases WHERE owner IS NOT "
                                                      "NULL ORDER BY shard FOR SHARE",
                                      soci::into(shard), soci::into(epoch));
                st.execute();
                while (st.fetch()) shard_epochs_[static_cast<int>(shard)] = epoch;
            } catch (...) {
                rethrow(display_, "reading the shard leases");
            }
            shards_loaded_ = true;
        }
        const auto it = shard_epochs_.find(c.shard->shard);
        if (it == shard_epochs_.end() || it->second != c.shard->epoch) {
            out.stale = true;
            out.code = VIGY_ABORTED;
            out.error = fmt::format(
                "run of vigy {} not recorded: this host no longer holds shard {} (epoch {}; the shard is now {})",
                r.vigy_id, c.shard->shard, c.shard->epoch,
                it == shard_epochs_.end() ? std::string("free") : fmt::format("at epoch {}", it->second));
            return out;
        }
    }
    if (known_.find(c.vigy_key) == known_.end()) {
        bool alive = false;
        try {
            st_->vid = c.vigy_key;
            if (st_->exists_st.execute(true)) alive = st_->deleted == 0;
        } catch (...) {
            rethrow(display_, "checking the vigy");
        }
        if (!alive) {
            out.code = VIGY_NOT_FOUND;
            out.error = fmt::format("vigy {} not found (deleted?); its run was not recorded", r.vigy_id);
            return out;
        }
        known_.insert(c.vigy_key);
    }
    auto exec = [&](const char* q, std::string_view what) {
        try {
            sql_ << q;
        } catch (...) {
            rethrow(display_, what);
        }
    };
    if (careful) exec("SAVEPOINT tick", "opening a savepoint");
    try {
        write(c);
        if (careful) exec("RELEASE SAVEPOINT tick", "releasing a savepoint");
        out.ok = true;
        out.seq = st_->seq;
        return out;
    } catch (const status_error& e) {
        if (e.code() == VIGY_UNAVAILABLE) throw;
        if (!careful) throw detail::needs_savepoints{};  // the transaction is aborted: redo carefully
        exec("ROLLBACK TO SAVEPOINT tick", "rolling back a savepoint");
        exec("RELEASE SAVEPOINT tick", "releasing a savepoint");
        out.code = e.code();
        out.error = fmt::format("run {} of vigy {} not recorded: {}", c.run.id, c.run.vigy_id, e.what());
        return out;
    }
}

// ---- retention -----------------------------------------------------------------------

std::int64_t prune_step(soci::session& sql, const retention_policy& policy, std::int64_t& cursor,
                        const std::string& display) {
    std::string_view what = "pruning runs";
    try {
        std::int64_t budget = policy.prune_chunk > 0 ? policy.prune_chunk : 500;
        std::int64_t deleted = 0;
        const std::int64_t now = now_unix_ms();
        // Deletes and returns how many rows went.
        auto count_deleted = [&](const std::string& del) {
            long long n = 0;
            sql << fmt::format("WITH d AS ({} RETURNING 1) SELECT count(*) FROM d", del), soci::into(n);
            return static_cast<std::int64_t>(n);
        };
        auto keep_marks = [&](const std::string& runs_subquery) {
            what = "keeping the tick clock";
            sql << fmt::format(
                "INSERT INTO tick_marks(vid, tick_count, prev_tick_ms) "
                "SELECT vid, max(tick_count), max(started_ms) FROM runs WHERE seq IN ({}) AND result = 0 "
                "GROUP BY vid HAVING max(tick_count) > 0 "
                "ON CONFLICT(vid) DO UPDATE SET tick_count = GREATEST(tick_marks.tick_count, excluded.tick_count), "
                "prev_tick_ms = GREATEST(tick_marks.prev_tick_ms, excluded.prev_tick_ms)",
                runs_subquery);
        };
        what = "dropping finished tick requests";
        sql << fmt::format("DELETE FROM tick_requests WHERE state IN ('done', 'failed') AND done_ms < {}",
                           now - 3'600'000);
        if (policy.keep_changes_age.count() > 0) {
            what = "compacting the change feed";
            const std::int64_t cutoff = now - policy.keep_changes_age.count();
            sql << fmt::format(
                "UPDATE store_meta SET value = GREATEST(value, (SELECT coalesce(max(seq), 0) FROM vigy_changes "
                "WHERE at_ms < {})) WHERE key = 'changes_floor'",
                cutoff);
            sql << fmt::format("DELETE FROM vigy_changes WHERE at_ms < {}", cutoff);
        }
        if (policy.max_age.count() > 0) {
            const std::int64_t cutoff = now - policy.max_age.count();
            const std::string old = fmt::format(
                "SELECT seq FROM (SELECT seq, started_ms FROM runs ORDER BY seq LIMIT {}) o WHERE started_ms < {}",
                budget, cutoff);
            keep_marks(old);
            what = "pruning old runs";
            const std::int64_t n = count_deleted(fmt::format("DELETE FROM runs WHERE seq IN ({})", old));
            deleted += n;
            budget -= n;
        }
        if (policy.keep_runs > 0 || policy.keep_events > 0) {
            for (int visited = 0; budget > 0 && visited < 256; ++visited) {
                what = "choosing the next vigy to prune";
                long long vid = 0, after = cursor;
                sql << "SELECT vid FROM vigies WHERE vid > :c ORDER BY vid LIMIT 1", soci::into(vid), soci::use(after);
                if (!sql.got_data() || vid == 0) {
                    cursor = 0;
                    break;
                }
                if (policy.keep_events > 0) {
                    what = "pruning events";
                    sql << fmt::format(
                        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE vid = {} ORDER BY last_ms DESC, "
                        "id DESC OFFSET {})",
                        vid, policy.keep_events);
                }
                if (policy.keep_runs > 0) {
                    what = "finding runs to prune";
                    long long t = 0, keep = policy.keep_runs;
                    sql << "SELECT seq FROM runs WHERE vid = :v ORDER BY seq DESC LIMIT 1 OFFSET :k", soci::into(t),
                        soci::use(vid), soci::use(keep);
                    if (!sql.got_data()) t = 0;
                    if (t > 0) {
                        const std::string old = fmt::format(
                            "SELECT seq FROM runs WHERE vid = {} AND seq <= {} ORDER BY seq LIMIT {}", vid, t, budget);
                        keep_marks(old);
                        what = "pruning runs";
                        const std::int64_t n = count_deleted(fmt::format("DELETE FROM runs WHERE seq IN ({})", old));
                        deleted += n;
                        budget -= n;
                        if (budget <= 0) break;  // more may remain for this vigy: keep the cursor on it
                    }
                }
                cursor = vid;
            }
        }
        return deleted;
    } catch (...) {
        rethrow(display, what);
    }
}

std::string integrity_check(soci::session& sql) {
    long long meta = 0, orphans = 0;
    sql << "SELECT (SELECT count(*) FROM store_meta WHERE key IN ('change_seq', 'changes_floor', 'lease_epoch')), "
           "(SELECT count(*) FROM (SELECT 1 FROM runs r WHERE NOT EXISTS (SELECT 1 FROM vigies v WHERE v.vid = "
           "r.vid) LIMIT 100) o)",
        soci::into(meta), soci::into(orphans);
    if (meta == 3 && orphans == 0) return "ok";
    std::string out;
    if (meta != 3) out = fmt::format("store_meta has {} of its 3 counters", meta);
    if (orphans != 0)
        out += fmt::format("{}{}{} runs belong to no vigy", out.empty() ? "" : "; ", orphans >= 100 ? "at least " : "",
                           orphans);
    return out;
}

}  // namespace postgres

}  // namespace vigy::store
