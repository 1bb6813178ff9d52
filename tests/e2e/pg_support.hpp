// tests/e2e/pg_support.hpp — a real PostgreSQL for e2e cases (tests/support/with-postgres.sh
// exports VIGY_TEST_PG_URL): the server's URL, one-value queries through libpq (not vigy),
// and a fixture whose VIGY_DB is a fresh database of its own.
#pragma once

#include "support.hpp"

#include <libpq-fe.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace e2e {

/// The server of this run (VIGY_TEST_PG_URL, postgresql://postgres@127.0.0.1:PORT/postgres).
inline std::string admin_url() {
    const char* u = std::getenv("VIGY_TEST_PG_URL");
    INFO("VIGY_TEST_PG_URL is not set: run through tests/support/with-postgres.sh (ctest -R e2e_postgresql)");
    REQUIRE(u != nullptr);
    return u;
}

/// The one value `sql` selects on `url` (through libpq, not vigy); throws on an error.
inline std::string query_one(const std::string& url, const std::string& sql) {
    PGconn* c = PQconnectdb(url.c_str());
    std::string out, err;
    if (PQstatus(c) != CONNECTION_OK) {
        err = PQerrorMessage(c);
    } else {
        PGresult* r = PQexec(c, sql.c_str());
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            out = PQgetvalue(r, 0, 0);
        else if (PQresultStatus(r) != PGRES_COMMAND_OK)
            err = PQerrorMessage(c);
        PQclear(r);
    }
    PQfinish(c);
    if (!err.empty()) throw std::runtime_error("postgres: " + err + " in " + sql);
    return out;
}

/// A fixture whose VIGY_DB is a fresh database on the run's server, named for the test
/// process, with a password in its URL (the server trusts any: what is proved is that it
/// is never shown). The database is dropped at scope exit.
struct pg_fixture : fixture {
    std::string name = "vigy_e2e_" + std::to_string(::getpid());
    std::string url;  ///< without the password (for libpq checks)
    std::string password = "e2e-sekrit-8d1f";
    pg_fixture() {
        const std::string admin = admin_url();
        query_one(admin, "CREATE DATABASE " + name);
        url = admin.substr(0, admin.rfind('/') + 1) + name;
        const auto at = url.find('@');
        db = url.substr(0, at) + ":" + password + url.substr(at);
        opts.env = {"VIGY_DB=" + db, "NO_COLOR", "CLICOLOR_FORCE"};
    }
    ~pg_fixture() {
        try {
            query_one(admin_url(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (...) {
        }
    }
    pg_fixture(const pg_fixture&) = delete;
    pg_fixture& operator=(const pg_fixture&) = delete;
};

/// count(*)-style `sql` on `url` as a number.
inline int64_t pg_count(const std::string& url, const std::string& sql) { return std::stoll(query_one(url, sql)); }

/// Every programs::counter vigy of `fx`'s database (`vigies` of them): tick_count over its
/// ok runs in commit order is 1..N (no gap, no repeat) and its kv n equals its ok runs.
inline void require_counters_consistent(const pg_fixture& fx, int64_t vigies) {
    CHECK(pg_count(fx.url, "SELECT count(*) FROM vigies WHERE deleted = 0") == vigies);
    // a gap or a repeat makes some ok run's tick_count differ from its position
    CHECK(pg_count(fx.url,
                   "SELECT count(*) FROM (SELECT tick_count, row_number() OVER (PARTITION BY vid ORDER BY seq) AS rn "
                   "FROM runs WHERE result = 0) x WHERE tick_count <> rn") == 0);
    CHECK(pg_count(fx.url,
                   "SELECT count(*) FROM (SELECT vid, tick_count FROM runs WHERE result = 0 GROUP BY vid, "
                   "tick_count HAVING count(*) > 1) d") == 0);
    // kv n equals the ok runs, for every counter (none missing)
    CHECK(pg_count(fx.url,
                   "SELECT count(*) FROM vigies v WHERE v.deleted = 0 AND coalesce((SELECT CAST(value_json AS "
                   "BIGINT) FROM kv WHERE kv.vid = v.vid AND kv.key = 'n'), -1) <> (SELECT count(*) FROM runs r "
                   "WHERE r.vid = v.vid AND r.result = 0)") == 0);
    CHECK(pg_count(fx.url,
                   "SELECT count(*) FROM vigies v WHERE v.deleted = 0 AND NOT EXISTS (SELECT 1 FROM runs r "
                   "WHERE r.vid = v.vid AND r.result = 0)") == 0);
}

}  // namespace e2e
