// tests/e2e/test_postgres.cpp — the real binary on a real PostgreSQL 15: `vigy serve
// --db postgresql://…` ticks a counter whose runs and kv land in the server's tables,
// survive kill -9 and a restart with the count continuing, and the password in the URL
// never shows in any output. [postgresql] cases need tests/support/with-postgres.sh
// (ctest e2e_postgresql runs them) and fail without it.
#include "pg_support.hpp"
#include "support.hpp"

#include <libpq-fe.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <unistd.h>

using namespace e2e;

TEST_CASE("vigy serve on PostgreSQL persists a counter's runs and kv through kill -9 and a restart",
          "[e2e][postgresql][needs-lisp]") {
    pg_fixture fx;
    fx.register_program("counter", programs::counter, 100);
    std::string all_output;

    auto serve = start_serve(fx);
    CHECK(serve->out().find("postgresql://postgres:***@") != std::string::npos);
    REQUIRE(eventually(
        [&] {
            serve->pump(0);
            return read_counter(fx, "counter", 5000).ok >= 10;
        },
        10'000));
    {
        // one scheduler per database, across processes: a second serve is refused
        const result second = fx.run({"serve", "--listen", "none"});
        all_output += second.out + second.err;
        INFO("second serve exited " << second.code << "\nstderr: " << second.err);
        CHECK(second.code != 0);
        CHECK(second.err.find("another scheduler is serving postgresql://postgres:***@") != std::string::npos);
    }
    serve->kill_hard();  // SIGKILL: nothing flushed on the way out
    all_output += serve->out() + serve->err();
    const counter_history before = read_counter(fx, "counter", 5000);
    require_counter_consistent(before);
    // what vigy shows is what the server holds
    CHECK(query_one(fx.url, "SELECT count(*) FROM runs") == std::to_string(before.runs));
    CHECK(query_one(fx.url, "SELECT value_json FROM kv") == std::to_string(before.kv_n));

    // the killed serve's lease expires, then a new serve takes over and the count goes on
    const int64_t t0 = mono_ms();
    std::unique_ptr<process> again;
    while (!again) {
        auto p = fx.start({"-v", "serve", "--listen", "none"});  // -v: the runtime's info log lines name the URL too
        if (p->wait_for_text("serving ", 5000)) {
            again = std::move(p);
            break;
        }
        p->wait(2000);
        all_output += p->out() + p->err();
        INFO("serve refused: " << p->err());
        REQUIRE(mono_ms() - t0 < 20'000);
        sleep_ms(250);
    }
    REQUIRE(eventually(
        [&] {
            again->pump(0);
            return read_counter(fx, "counter", 5000).ok >= before.ok + 10;
        },
        10'000));
    stop_serve(*again);
    all_output += again->out() + again->err();

    const counter_history after = read_counter(fx, "counter", 5000);
    require_counter_consistent(after);
    REQUIRE(after.n.size() > before.n.size());
    CHECK(after.n[before.n.size()] == static_cast<int64_t>(before.ok) + 1);
    for (const auto& id : before.ids) CHECK(after.ids.count(id) == 1);

    const result check = fx.run({"db", "check"});
    all_output += check.out + check.err;
    INFO(check.out << check.err);
    CHECK(check.code == 0);
    CHECK(query_one(fx.url, "SELECT max(version) FROM schema_version") == "4");
    CHECK(all_output.find(fx.password) == std::string::npos);
}

TEST_CASE("vigy on an unreachable PostgreSQL exits 4 naming the server without the password", "[e2e][url]") {
    fixture fx;
    fx.opts.env = {"VIGY_DB=postgresql://vigy:e2e-sekrit-8d1f@127.0.0.1:1/vigy", "NO_COLOR", "CLICOLOR_FORCE"};
    fx.opts.cwd = fx.dir.path().string();  // where a URL taken for a path would create "postgresql:"
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"list"}, std::vector<std::string>{"serve", "--listen", "none"}}) {
        const result r = fx.run(args);
        INFO("vigy " << args.front() << " exited " << r.code << "\nstderr: " << r.err << "\nstdout: " << r.out);
        CHECK(r.code == 4);  // try again later
        CHECK(r.err.find("127.0.0.1:1") != std::string::npos);
        CHECK(r.err.find("postgresql://vigy:***@127.0.0.1:1/vigy") != std::string::npos);
        CHECK((r.out + r.err).find("e2e-sekrit-8d1f") == std::string::npos);
    }
    CHECK(std::filesystem::is_empty(fx.dir.path()));  // no "postgresql:" directory
}
