// tests/e2e/test_database.cpp — database safety with the real binary: modes 0700/0600
// whatever the umask (the -wal and -shm files too), a warning for a database others
// can read, no database in the current directory by accident, XDG_DATA_HOME honoured
// by every command, `vigy db check`, and a corrupt page refused by serve at start and
// stopping a serve that meets it later.
#include "support.hpp"

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <sys/types.h>

using namespace e2e;
namespace fs = std::filesystem;

namespace {

std::string show(const result& r) {
    return "exit " + std::to_string(r.code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}
bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

unsigned mode_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0xffff;
    return st.st_mode & 07777;
}

/// Sets the umask the children inherit for its lifetime.
struct scoped_umask {
    explicit scoped_umask(mode_t m) : old(::umask(m)) {}
    ~scoped_umask() { ::umask(old); }
    mode_t old;
};

/// One value from the database file through SQLite directly.
int64_t sql_int(const std::string& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/// Overwrites the root page of table `table` in the file with garbage (the database
/// must be checkpointed: no -wal holding a newer copy of that page).
void corrupt_table_root(const std::string& db_path, const std::string& table) {
    const int64_t page_size = sql_int(db_path, "PRAGMA page_size");
    const int64_t root =
        sql_int(db_path, "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = '" + table + "'");
    REQUIRE(root > 1);
    std::fstream f(db_path, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f.good());
    f.seekp((root - 1) * page_size);
    const std::string junk(static_cast<size_t>(page_size), '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    f.close();
    REQUIRE(f.good());
}

void checkpoint(const std::string& db_path) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

}  // namespace

TEST_CASE("the database directory is 0700 and its files 0600 under umask 000, -wal and -shm included",
          "[e2e][needs-lisp][database]") {
    fixture fx;
    const std::string dir = fx.dir.file("state/deeper");
    const std::string db = dir + "/vigy.db";
    fx.opts.env.push_back("VIGY_DB=" + db);  // the later entry wins
    {
        scoped_umask open_all(0);
        fx.register_program("c", programs::counter, 100);
        auto serve = start_serve(fx);  // keeps -wal and -shm open
        REQUIRE(eventually(
            [&] {
                serve->pump(0);
                return fs::exists(db + "-wal") && fs::exists(db + "-shm");
            },
            5000));
        CHECK(mode_of(fx.dir.file("state")) == 0700);
        CHECK(mode_of(dir) == 0700);
        CHECK(mode_of(db) == 0600);
        CHECK(mode_of(db + "-wal") == 0600);
        CHECK(mode_of(db + "-shm") == 0600);
        stop_serve(*serve);
        CHECK(serve->err().find("by others") == std::string::npos);
    }
    CHECK(mode_of(db) == 0600);
}

TEST_CASE("an existing database others can read or write is warned about", "[e2e][database]") {
    fixture fx;
    create_empty_database(fx.db);
    REQUIRE(fx.run({"list"}).code == 0);
    REQUIRE(::chmod(fx.db.c_str(), 0644) == 0);
    result r = fx.run({"list"});
    INFO(show(r));
    CHECK(r.code == 0);
    CHECK(contains(r.err, fx.db));
    CHECK(contains(r.err, "readable by others"));
    CHECK(contains(r.err, "chmod 600"));
    REQUIRE(::chmod(fx.db.c_str(), 0666) == 0);
    r = fx.run({"list"});
    CHECK(contains(r.err, "readable and writable by others"));
    REQUIRE(::chmod(fx.db.c_str(), 0600) == 0);
    r = fx.run({"list"});
    CHECK_FALSE(contains(r.err, "by others"));
    CHECK(mode_of(fx.db) == 0600);  // never changed behind the operator's back
}

TEST_CASE("with no HOME, no XDG_DATA_HOME and no --db nothing is created in the current directory", "[e2e][database]") {
    fixture fx;
    spawn_options o = fx.opts;
    o.env = {"VIGY_DB", "HOME", "XDG_DATA_HOME", "NO_COLOR"};
    o.cwd = fx.dir.path().string();
    for (const std::vector<std::string>& cmd :
         {std::vector<std::string>{"list"}, {"serve", "--listen", "none"}, {"db", "check"}, {"inspect", "x"}}) {
        const result r = vigy(cmd, o);
        INFO(cmd.front() << ": " << show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, "HOME and XDG_DATA_HOME are unset"));
        CHECK(contains(r.err, "--db"));
    }
    CHECK_FALSE(fs::exists(fx.dir.file("vigy.db")));
    CHECK_FALSE(fs::exists(fx.dir.file("vigy")));
    // --db still works there
    o.env.push_back("HOME");
    create_empty_database(fx.dir.file("explicit.db"));
    CHECK(vigy({"--db", fx.dir.file("explicit.db"), "list"}, o).code == 0);
    CHECK(fs::exists(fx.dir.file("explicit.db")));
}

TEST_CASE("XDG_DATA_HOME is honoured by every command", "[e2e][needs-lisp][database]") {
    fixture fx;
    const std::string xdg = fx.dir.file("xdg");
    const std::string home = fx.dir.file("home");
    spawn_options o = fx.opts;
    o.env = {"VIGY_DB", "NO_COLOR", "XDG_DATA_HOME=" + xdg, "HOME=" + home};
    const std::string expected = xdg + "/vigy/vigy.db";
    const std::string prog = fx.program("c.tatara", programs::counter);
    for (const std::vector<std::string>& cmd :
         {std::vector<std::string>{"register", prog, "--name", "c", "--every", "100"},
          {"tick", "c"},
          {"list"},
          {"inspect", "c"},
          {"disable", "c"},
          {"enable", "c"},
          {"db", "check"}}) {
        const result r = vigy(cmd, o);
        INFO(cmd.front() << ": " << show(r));
        CHECK(r.code == 0);
    }
    CHECK(fs::exists(expected));
    CHECK_FALSE(fs::exists(home + "/.local/share/vigy/vigy.db"));
    CHECK(sql_int(expected, "SELECT count(*) FROM runs") == 1);
    auto serve = start_vigy({"serve", "--listen", "none"}, o);
    const bool up = serve->wait_for_text("serving " + expected, 10'000);
    INFO(serve->out() << serve->err());
    CHECK(up);
    stop_serve(*serve);
}

TEST_CASE("vigy db check reports a healthy database and finds a corrupt page", "[e2e][needs-lisp][database]") {
    fixture fx;
    fx.register_program("c", programs::counter, 100);
    REQUIRE(fx.run({"tick", "c"}).code == 0);

    result r = fx.run({"db", "check"});
    INFO(show(r));
    CHECK(r.code == 0);
    CHECK(contains(r.out, "quick_check ok"));
    auto doc = fx.run_json({"db", "check", "--full", "-o", "json"});
    CHECK(str(*doc, "check") == "integrity_check");
    CHECK((*doc)["ok"].GetBool());
    CHECK(field(*doc, "problems").Size() == 0);
    CHECK(num(*doc, "duration_ms") >= 0);

    checkpoint(fx.db);
    corrupt_table_root(fx.db, "runs");
    for (const char* full : {"", "--full"}) {
        std::vector<std::string> args{"db", "check", "-o", "json"};
        if (*full) args.emplace_back(full);
        r = fx.run(args);
        INFO(show(r));
        CHECK(r.code == 1);
        auto bad = parse_json(r.out);
        REQUIRE(bad != nullptr);
        CHECK_FALSE((*bad)["ok"].GetBool());
        CHECK(field(*bad, "problems").Size() >= 1);
        CHECK(contains(r.err, "damaged"));
    }
    r = fx.run({"db", "check", "--db", fx.dir.file("missing.db")});
    CHECK(r.code == 3);
    CHECK_FALSE(fs::exists(fx.dir.file("missing.db")));
}

TEST_CASE("serve refuses a database with a corrupt page at start", "[e2e][needs-lisp][database]") {
    fixture fx;
    fx.register_program("c", programs::counter, 100);
    REQUIRE(fx.run({"tick", "c"}).code == 0);
    checkpoint(fx.db);
    corrupt_table_root(fx.db, "kv");
    const result r = fx.run({"serve", "--listen", "none"});
    INFO(show(r));
    CHECK(r.code == 1);
    CHECK(contains(r.err, "failed quick_check"));
    CHECK(contains(r.err, fx.db));
    CHECK_FALSE(contains(r.out, "serving "));
}

TEST_CASE("serve stops with a clear message when it meets a corrupt page while serving",
          "[e2e][needs-lisp][database]") {
    fixture fx;
    fx.register_program("hello", programs::hello, 100);                // never touches kv after its first tick
    fx.register_program("c", programs::counter, 100, {"--disabled"});  // its kv is read only when it ticks
    REQUIRE(fx.run({"tick", "c"}).code == 0);
    checkpoint(fx.db);
    auto serve = start_serve(fx);
    const size_t lines0 = serve->out_lines().size();
    REQUIRE(eventually(
        [&] {
            serve->pump(0);
            return serve->out_lines().size() >= lines0 + 3;
        },
        5000));
    corrupt_table_root(fx.db, "kv");
    const result t = fx.run({"tick", "c"});  // serve loads c's kv from the damaged page
    INFO(show(t));
    const auto code = serve->wait(10'000);
    INFO("serve stdout: " << serve->out() << "\nserve stderr: " << serve->err());
    REQUIRE(code.has_value());
    CHECK(*code == 1);
    CHECK(contains(serve->err(), "is corrupt"));
    CHECK(contains(serve->err(), "stopped serving"));
    CHECK(contains(serve->err(), "vigy db check"));
}

TEST_CASE("read-only commands refuse a database file that does not exist and create nothing", "[e2e][database]") {
    fixture fx;
    const std::string missing = fx.dir.file("sub/none.db");  // its directory is missing too
    for (const std::vector<std::string>& cmd :
         {std::vector<std::string>{"list"}, {"inspect", "x"}, {"tail", "--since", "1m"}, {"db", "check"}}) {
        std::vector<std::string> args = {"--db", missing};
        args.insert(args.end(), cmd.begin(), cmd.end());
        const result r = fx.run(args);
        INFO(cmd.front() << ": " << show(r));
        CHECK(r.code == 3);  // not found
        CHECK(contains(r.err, "database " + missing + " does not exist"));
        CHECK_FALSE(fs::exists(missing));
        CHECK_FALSE(fs::exists(fx.dir.file("sub")));
    }
    // cluster status: an SQLite path has no cluster; refused before anything is opened
    const std::string plain = fx.dir.file("none.db");
    const result c = fx.run({"--db", plain, "cluster", "status"});
    INFO(show(c));
    CHECK(c.code == 1);
    CHECK(contains(c.err, "cluster mode needs a PostgreSQL database"));
    CHECK(contains(c.err, plain + " is an SQLite path"));
    CHECK(contains(c.err, "nothing was opened or created"));
    CHECK_FALSE(fs::exists(plain));
    CHECK_FALSE(fs::exists(plain + "-wal"));
    // an existing (empty) file is read as before: list shows no vigies
    create_empty_database(plain);
    const result l = fx.run({"--db", plain, "list", "-o", "json"});
    INFO(show(l));
    CHECK(l.code == 0);
    CHECK(contains(l.out, "[]"));
}
