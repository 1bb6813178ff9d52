// tests/store/test_postgres.cpp — choosing the backend from the database string, and
// what only PostgreSQL has: URLs with passwords, several stores (hosts) on one server
// database. [postgresql] cases need tests/support/with-postgres.sh (ctest
// store_postgresql runs them) and fail without it.
#include "common.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace vigy::store;
using namespace vigy_store_test;

namespace {

/// Runs `f` in a fresh directory as the working directory (a URL taken for a path
/// would create "<scheme>:" there).
template <class F>
void in_dir(const temp_dir& dir, F&& f) {
    const auto old = std::filesystem::current_path();
    std::filesystem::current_path(dir.path);
    try {
        f();
    } catch (...) {
        std::filesystem::current_path(old);
        throw;
    }
    std::filesystem::current_path(old);
}

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

/// `url` with `:password` after its user name.
std::string with_password(const std::string& url, const std::string& password) {
    const auto at = url.find('@');
    REQUIRE(at != std::string::npos);
    return url.substr(0, at) + ":" + password + url.substr(at);
}

void require_server() {
    INFO("VIGY_TEST_PG_URL is not set: run through tests/support/with-postgres.sh (ctest -R store_postgresql)");
    REQUIRE(on_postgres());
}

}  // namespace

TEST_CASE("an unknown URL scheme is refused naming it and creates nothing", "[store][url]") {
    temp_dir dir;
    in_dir(dir, [&] {
        CHECK(code_of([] { store s(opts("mysql://app:hunter2@db.example/vigy")); }) == VIGY_INVALID_ARGUMENT);
        const std::string m = message_of([] { store s(opts("mysql://app:hunter2@db.example/vigy")); });
        CHECK_THAT(m, Catch::Contains("\"mysql\"") && Catch::Contains("mysql://app:***@db.example/vigy"));
        CHECK_THAT(m, !Catch::Contains("hunter2"));
        CHECK(std::filesystem::is_empty(dir.path));  // no "mysql:" directory, no file
    });
}

TEST_CASE("an unreachable PostgreSQL URL is unavailable naming the redacted URL and creates nothing", "[store][url]") {
    temp_dir dir;
    in_dir(dir, [&] {
        for (const std::string url :
             {"postgresql://vigy:hunter2@127.0.0.1:1/vigy", "postgres://vigy:hunter2@127.0.0.1:1/vigy"}) {
            CAPTURE(url);
            CHECK(code_of([&] { store s(opts(url)); }) == VIGY_UNAVAILABLE);
            const std::string m = message_of([&] { store s(opts(url)); });
            CHECK_THAT(m, Catch::Contains(url.substr(0, url.find(':')) + "://vigy:***@127.0.0.1:1/vigy"));
            CHECK_THAT(m, Catch::Contains("server at 127.0.0.1:1") && Catch::Contains("retry later"));
            CHECK_THAT(m, !Catch::Contains("hunter2"));
        }
        CHECK(std::filesystem::is_empty(dir.path));
    });
}

TEST_CASE("a PostgreSQL store reports its URL without the password, schema 4 and integrity ok", "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    {
        store s(opts(with_password(url, "hunter2")));  // trust auth: any password is accepted
        CHECK(s.path() == with_password(url, "***"));
        CHECK(s.schema_version() == schema_version_supported);
        CHECK(s.integrity_check() == "ok");
    }
    {
        store s(opts(url + "?password=hunter2&application_name=vigy"));
        CHECK(s.path() == url + "?password=***&application_name=vigy");
    }
}

TEST_CASE("two stores on one PostgreSQL database see each other's writes and change_seq", "[postgresql]") {
    require_server();
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    const auto r = a.register_or_update(spec("shared")).vigy;
    CHECK(b.get_vigy("shared").resource_version == r.resource_version);
    CHECK(b.change_seq() == a.change_seq());
    b.set_enabled("shared", false);
    CHECK(a.change_seq() > r.resource_version);
    CHECK(a.get_vigy("shared").state == state_disabled);
    CHECK(code_of([&] { a.set_enabled("shared", true, r.resource_version); }) == VIGY_ABORTED);
    // a run committed by one store's writer is read by the other
    auto c = commit_for(b.get_vigy("shared"));
    c.kv_upserts = {{"k", "1"}};
    REQUIRE(a.writer().submit(c).get().ok);
    REQUIRE(b.recent_runs(r.id).size() == 1);
    CHECK(b.recent_runs(r.id).front().id == c.run.id);
    CHECK(b.kv_map_of(r.key).at("k") == "1");
    // one lease holder across stores
    lease_request la{"a", 1, "host-a", {"boot", 1000, now_unix_ms()}, 60000};
    lease_request lb{"b", 2, "host-b", {"boot", 1000, now_unix_ms()}, 60000};
    const auto token = a.acquire_lease(la);
    REQUIRE(token);
    CHECK_FALSE(b.acquire_lease(lb));
    CHECK(b.lease_row()->token == *token);
}

TEST_CASE("stores opening one new PostgreSQL database at once migrate it once", "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    std::vector<std::thread> ts;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i)
        ts.emplace_back([&] {
            try {
                store s(opts(url));
                if (s.schema_version() == schema_version_supported) ++ok;
            } catch (...) {
            }
        });
    for (auto& t : ts) t.join();
    CHECK(ok == 4);
    CHECK(raw_exec(url,
                   "DO $$BEGIN IF (SELECT count(*) FROM schema_version) <> 1 THEN RAISE EXCEPTION 'twice'; "
                   "END IF; END$$"));
}

TEST_CASE("a PostgreSQL URL libpq cannot parse or SOCI cannot pass on is refused naming the redacted URL",
          "[store][url]") {
    CHECK(code_of([] { store s(opts("postgresql://vigy:hunter2@127.0.0.1:1/vigy?no_such_option=1")); }) ==
          VIGY_INVALID_ARGUMENT);
    const std::string m = message_of([] { store s(opts("postgresql://vigy:hunter2@127.0.0.1:1/vigy?nope=1")); });
    CHECK_THAT(m, Catch::Contains("postgresql://vigy:***@127.0.0.1:1/vigy?nope=1") && Catch::Contains("nope"));
    CHECK_THAT(m, !Catch::Contains("hunter2"));
    // a password with a space (percent-encoded): SOCI 4.0 splits its connection string at whitespace
    const std::string w = message_of([] { store s(opts("postgresql://vigy:a%20b@127.0.0.1:1/vigy")); });
    CHECK_THAT(w, Catch::Contains("password contains whitespace") && Catch::Contains("PGPASSWORD"));
    CHECK(code_of([] { store s(opts("postgresql://vigy:a%20b@127.0.0.1:1/vigy")); }) == VIGY_INVALID_ARGUMENT);
}

TEST_CASE("a password with quotes and backslashes reaches the server intact", "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    // trust auth accepts any password; what this proves is that the connection string
    // survives SOCI's rewriting: a mangled one would fail to connect or name another database.
    store s(opts(with_password(url, "a%27b%5Cc%22d")));  // a'b\c"d
    CHECK(s.schema_version() == schema_version_supported);
    CHECK_THAT(s.path(), !Catch::Contains("%27"));
}

TEST_CASE("a missing PostgreSQL database is a failed precondition naming the server and the database", "[postgresql]") {
    require_server();
    const std::string url = pg_url_of("vigy_no_such_database");
    CHECK(code_of([&] { store s(opts(url)); }) == VIGY_FAILED_PRECONDITION);
    const std::string m = message_of([&] { store s(opts(url)); });
    CHECK_THAT(m, Catch::Contains("refused the connection") && Catch::Contains("vigy_no_such_database"));
}

TEST_CASE("a PostgreSQL database is migrated once, reopening applies nothing and a newer one is refused",
          "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    { store s(opts(url)); }
    { store s(opts(url)); }
    CHECK(raw_exec(url,
                   "DO $$BEGIN IF (SELECT count(*) FROM schema_version) <> 1 OR (SELECT max(version) FROM "
                   "schema_version) <> 4 THEN RAISE EXCEPTION 'migrated twice'; END IF; END$$"));
    REQUIRE(raw_exec(url, "INSERT INTO schema_version(version, applied_at) VALUES (99, 'future')"));
    CHECK(code_of([&] { store s(opts(url)); }) == VIGY_FAILED_PRECONDITION);
    CHECK_THAT(message_of([&] { store s(opts(url)); }),
               Catch::Contains("schema version 99, newer than this vigy") && Catch::Contains("upgrade vigy"));
}

TEST_CASE("a PostgreSQL write waiting beyond the lock timeout is unavailable and writes nothing", "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    auto o = opts(url);
    o.busy_timeout_ms = 200;
    store s(o);
    s.register_or_update(spec("held"));
    // another host holds the database-wide write lock in an open transaction
    PGconn* other = PQconnectdb(url.c_str());
    REQUIRE(PQstatus(other) == CONNECTION_OK);
    PQclear(PQexec(other, "BEGIN"));
    PGresult* r = PQexec(other, "SELECT pg_advisory_xact_lock(1986619257, 1)");
    REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(code_of([&] { s.set_enabled("held", false); }) == VIGY_UNAVAILABLE);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    PQclear(PQexec(other, "ROLLBACK"));
    PQfinish(other);
    CHECK(s.get_vigy("held").enabled);  // nothing was written
    s.set_enabled("held", false);       // and the lock is free again
    CHECK_FALSE(s.get_vigy("held").enabled);
}

TEST_CASE("a store whose PostgreSQL sessions were terminated reconnects and loses nothing", "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    store s(opts(url));
    const auto v = s.register_or_update(spec("survivor")).vigy;
    auto first = commit_for(v);
    first.kv_upserts = {{"n", "1"}};
    REQUIRE(s.writer().submit(first).get().ok);
    REQUIRE(s.change_seq() > 0);
    // every session of the store is cut, as by a server restart or a network failure
    const std::string name = url.substr(url.rfind('/') + 1);
    REQUIRE(raw_exec(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name +
                              "' AND pid <> pg_backend_pid()"));
    // the writer's batch meets the lost connection and its retry reconnects
    auto second = commit_for(s.get_vigy("survivor"));  // a read: repeated once on a new session
    second.kv_upserts = {{"n", "2"}};
    const auto r = s.writer().submit(second).get();
    INFO(r.error);
    CHECK(r.ok);
    // a synchronous write that meets the loss is unavailable (retry later); the next one reconnects
    const vigy_status code = code_of([&] { s.set_enabled("survivor", false); });
    CHECK((code == VIGY_OK || code == VIGY_UNAVAILABLE));
    if (code != VIGY_OK) s.set_enabled("survivor", false);
    CHECK_FALSE(s.get_vigy("survivor").enabled);
    CHECK(s.change_seq() > 0);
    CHECK(s.kv_map_of(v.key).at("n") == "2");
    CHECK(s.recent_runs(v.id).size() == 2);
    CHECK(s.integrity_check() == "ok");
}
