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

}  // namespace e2e
