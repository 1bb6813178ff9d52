// tests/e2e/test_cli_basics.cpp — the `vigy` commands one at a time against a
// private database: output shapes (-o json parses for every command), exit
// codes (0 ok, 1 error, 2 usage), error messages, colour rules.
#include "support.hpp"

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <regex>

using namespace e2e;

namespace {

std::string show(const result& r) {
    return "exit " + std::to_string(r.code) + "\nstderr: " + r.err + "\nstdout: " + r.out;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("every command has --help that exits 0 and names its arguments", "[e2e]") {
    fixture fx;
    const std::vector<std::pair<std::string, std::string>> cmds{
        {"register", "--every"}, {"list", "--selector"}, {"inspect", "NAME"},      {"tick", "NAME"},
        {"tail", "--since"},     {"enable", "NAME"},     {"disable", "NAME"},      {"delete", "--keep-history"},
        {"serve", "--threads"},  {"mcp", "--read-only"}, {"trigger", "--payload"}, {"reset", "NAME"},
        {"db", "check"}};
    for (const auto& [cmd, needle] : cmds) {
        const result r = fx.run({cmd, "--help"});
        INFO(cmd << ": " << show(r));
        CHECK(r.code == 0);
        CHECK(contains(r.out, needle));
    }
}

TEST_CASE("usage errors exit 2 with a message on stderr", "[e2e]") {
    fixture fx;
    SECTION("unknown flag") {
        const result r = fx.run({"list", "--bogus"});
        INFO(show(r));
        CHECK(r.code == 2);
        CHECK(contains(r.err, "--bogus"));
    }
    SECTION("unknown subcommand") {
        const result r = fx.run({"frobnicate"});
        INFO(show(r));
        CHECK(r.code == 2);
    }
    SECTION("register without --name") {
        const result r = fx.run({"register", fx.program("p.tatara", programs::hello)});
        INFO(show(r));
        CHECK(r.code == 2);
        CHECK(contains(r.err, "--name"));
    }
    SECTION("a non-number interval") {
        const result r =
            fx.run({"register", fx.program("p.tatara", programs::hello), "--name", "x", "--every", "soon"});
        INFO(show(r));
        CHECK(r.code == 2);
    }
    SECTION("inspect without a name") {
        const result r = fx.run({"inspect"});
        INFO(show(r));
        CHECK(r.code == 2);
    }
    SECTION("an unknown output format") {
        const result r = fx.run({"list", "-o", "yaml"});
        INFO(show(r));
        CHECK(r.code == 2);
    }
    SECTION("a malformed --since") {
        const result r = fx.run({"tail", "--since", "yesterday-ish"});
        INFO(show(r));
        CHECK(r.code == 2);
        CHECK(contains(r.err, "--since"));
    }
}

TEST_CASE("an unknown vigy is exit 3 (not found) with a message naming it", "[e2e]") {
    fixture fx;
    create_empty_database(fx.db);
    for (const std::string cmd : {"inspect", "tick", "enable", "disable", "delete"}) {
        const result r = fx.run({cmd, "no-such-vigy"});
        INFO(cmd << ": " << show(r));
        CHECK(r.code == 3);
        CHECK(contains(r.err, "no-such-vigy"));
        CHECK(contains(r.err, "not found"));
        CHECK(r.out.empty());
    }
    const result r = fx.run({"tail", "--id", "no-such-vigy"});
    INFO(show(r));
    CHECK(r.code == 3);
    CHECK(contains(r.err, "not found"));
}

TEST_CASE("register validates its input and says what is wrong", "[e2e][needs-lisp]") {
    fixture fx;
    const std::string file = fx.program("p.tatara", programs::hello);
    SECTION("interval below 100 ms") {
        const result r = fx.run({"register", file, "--name", "x", "--every", "50"});
        INFO(show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, "50"));
        CHECK(contains(r.err, "100"));
    }
    SECTION("a bad label key") {
        const result r = fx.run({"register", file, "--name", "x", "--label", "bad key=v"});
        INFO(show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, "bad key"));
    }
    SECTION("a label without =") {
        const result r = fx.run({"register", file, "--name", "x", "--label", "novalue"});
        INFO(show(r));
        CHECK(r.code == 2);  // a malformed flag value is a usage error
        CHECK(contains(r.err, "novalue"));
    }
    SECTION("an unreadable file") {
        const std::string missing = fx.dir.file("missing.tatara");
        const result r = fx.run({"register", missing, "--name", "x"});
        INFO(show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, missing));
    }
    SECTION("malformed --config JSON") {
        const result r = fx.run({"register", "--name", "x", "--kind", "lisp", "--config", "{\"program\": "});
        INFO(show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, "--config"));
    }
    SECTION("an unknown kind") {
        const result r = fx.run({"register", "--name", "x", "--kind", "no-such-kind", "--config", "{}"});
        INFO(show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, "no-such-kind"));
    }
    SECTION("neither FILE nor --config") {
        const result r = fx.run({"register", "--name", "x"});
        INFO(show(r));
        CHECK(r.code == 2);
    }
    // nothing was registered by any of the failures (the database may not even exist:
    // then list refuses it, exit 3)
    if (std::filesystem::exists(fx.db)) {
        auto list = fx.run_json({"list", "-o", "json"});
        CHECK(field(*list, "vigies").Size() == 0);
    } else {
        CHECK(fx.run({"list", "-o", "json"}).code == 3);
    }
}

TEST_CASE("register creates, updates to a new revision, and reports unchanged", "[e2e][needs-lisp]") {
    fixture fx;
    const std::string file = fx.program("p.tatara", programs::hello);

    auto created =
        fx.run_json({"register", file, "--name", "hello", "--every", "250", "--label", "team=core", "-o", "json"});
    CHECK(str(*created, "outcome") == "created");
    const json& v = field(*created, "vigy");
    CHECK(str(v, "name") == "hello");
    CHECK(str(v, "kind") == "lisp");
    CHECK(num(v, "tick_interval_ms") == 250);
    CHECK(field(v, "enabled").GetBool());
    CHECK(str(field(v, "labels"), "team") == "core");
    CHECK(rfc3339_ms(str(v, "created_at")) > 0);
    const std::string id = str(v, "id");
    const std::string rev1 = str(v, "revision");

    auto same =
        fx.run_json({"register", file, "--name", "hello", "--every", "250", "--label", "team=core", "-o", "json"});
    CHECK(str(*same, "outcome") == "unchanged");
    CHECK(str(field(*same, "vigy"), "revision") == rev1);

    fx.program("p.tatara", std::string(programs::hello) + "(vigy-noop)\n");
    auto updated =
        fx.run_json({"register", file, "--name", "hello", "--every", "250", "--label", "team=core", "-o", "json"});
    CHECK(str(*updated, "outcome") == "updated");
    CHECK(str(field(*updated, "vigy"), "id") == id);
    CHECK(str(field(*updated, "vigy"), "revision") != rev1);

    // human output names the outcome and the revision
    fx.program("p.tatara", programs::hello);
    const result human = fx.run({"register", file, "--name", "hello", "--every", "300"});
    INFO(show(human));
    CHECK(human.code == 0);
    CHECK(contains(human.out, "updated"));
    CHECK(contains(human.out, "revision"));

    const result again = fx.run({"register", file, "--name", "hello", "--every", "300", "--label", "team=core"});
    CHECK(contains(again.out, "unchanged"));
}

TEST_CASE("list shows every vigy, filters by selector, and prints json", "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("a", programs::hello, 1000, {"--label", "env=prod", "--label", "team=core"});
    fx.register_program("b", programs::hello, 500, {"--label", "env=dev", "--disabled"});

    const result human = fx.run({"list"});
    INFO(show(human));
    REQUIRE(human.code == 0);
    for (const char* col : {"NAME", "ID", "KIND", "EVERY", "ENABLED", "LAST RUN", "LABELS"})
        CHECK(contains(human.out, col));
    CHECK(contains(human.out, "env=prod"));
    CHECK(lines(human.out).size() == 3);
    CHECK(human.out.find('\x1b') == std::string::npos);  // not a terminal: no colour

    auto all = fx.run_json({"list", "-o", "json"});
    REQUIRE(field(*all, "vigies").Size() == 2);
    CHECK(str(field(*all, "vigies")[0], "name") == "a");
    CHECK(str(field(*all, "vigies")[1], "name") == "b");
    CHECK_FALSE(field(field(*all, "vigies")[1], "enabled").GetBool());

    auto prod = fx.run_json({"list", "--selector", "env=prod,team=core", "-o", "json"});
    REQUIRE(field(*prod, "vigies").Size() == 1);
    CHECK(str(field(*prod, "vigies")[0], "name") == "a");

    auto none = fx.run_json({"list", "--selector", "env=staging", "-o", "json"});
    CHECK(field(*none, "vigies").Size() == 0);

    auto has_env = fx.run_json({"list", "--selector", "env", "-o", "json"});  // Kubernetes: the key exists
    CHECK(field(*has_env, "vigies").Size() == 2);

    const result bad = fx.run({"list", "--selector", "env in (prod"});
    INFO(show(bad));
    CHECK(bad.code == 1);
    CHECK(contains(bad.err, "env in (prod"));
}

TEST_CASE("tick runs one forced tick and prints the run, and a failing program still exits 0", "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("hello", programs::hello, 1000, {"--disabled"});
    auto run = fx.run_json({"tick", "hello", "-o", "json"});
    CHECK(str(*run, "result") == "ok");
    CHECK(str(*run, "vigy_name") == "hello");
    CHECK(str(*run, "trigger") == "forced");
    REQUIRE(field(*run, "actions").Size() == 1);
    CHECK(str(field(*run, "actions")[0], "kind") == "noop");
    REQUIRE(field(*run, "log").Size() == 1);
    CHECK(contains(str(field(*run, "log")[0], "message"), "hello from vigy"));

    const result human = fx.run({"tick", "hello"});
    INFO(show(human));
    CHECK(human.code == 0);
    CHECK(contains(human.out, "ok"));
    CHECK(contains(human.out, "noop"));

    fx.register_program("broken", "(vigy-log 'info \"a\")\n(vigy-noop\n", 1000, {"--disabled"});
    const result failed = fx.run({"tick", "broken", "-o", "json"});
    INFO(show(failed));
    CHECK(failed.code == 0);
    auto f = parse_json(failed.out);
    REQUIRE(f);
    CHECK(str(*f, "result") == "failed");
    CHECK(std::regex_search(str(*f, "error"), std::regex("[0-9]+:[0-9]+")));

    // both ticks were persisted
    auto doc = fx.inspect("hello");
    CHECK(field(*doc, "runs").Size() == 2);
}

TEST_CASE("inspect shows the vigy, its runs with actions, conditions, kv and events", "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("state",
                        "(vigy-set \"greeting\" \"hi\")\n"
                        "(vigy-condition \"Ready\" 'true \"AllGood\" \"fine\")\n"
                        "(vigy-event \"Heartbeat\" \"alive\")\n"
                        "(vigy-pull 42)\n",
                        1000, {"--disabled", "--fuel", "2000000", "--wall-ms", "2000"});
    fx.run({"tick", "state"});
    fx.run({"tick", "state"});
    auto doc = fx.inspect("state");
    const json& v = field(*doc, "vigy");
    CHECK(str(v, "name") == "state");
    CHECK(num(field(v, "limits"), "fuel") == 2000000);
    CHECK(num(field(v, "limits"), "wall_ms") == 2000);
    REQUIRE(field(*doc, "runs").Size() == 2);
    const json& r0 = field(*doc, "runs")[0];
    CHECK(str(r0, "result") == "ok");
    REQUIRE(field(r0, "actions").Size() == 1);
    CHECK(str(field(r0, "actions")[0], "kind") == "pull");
    CHECK(num(field(r0, "actions")[0], "payload") == 42);
    CHECK(str(field(*doc, "kv"), "greeting") == "hi");
    REQUIRE(field(*doc, "conditions").Size() >= 1);
    bool ready = false;
    for (const auto& c : field(*doc, "conditions").GetArray())
        if (str(c, "type") == "Ready") {
            ready = true;
            CHECK(str(c, "status") == "True");
            CHECK(str(c, "reason") == "AllGood");
            CHECK(rfc3339_ms(str(c, "last_transition")) > 0);
        }
    CHECK(ready);
    REQUIRE(field(*doc, "events").Size() >= 1);
    CHECK(str(field(*doc, "events")[0], "reason") == "Heartbeat");
    CHECK(num(field(*doc, "events")[0], "count") == 2);

    const result human = fx.run({"inspect", "state"});
    INFO(show(human));
    CHECK(human.code == 0);
    for (const char* s : {"state", "Ready", "greeting", "Heartbeat", "pull"}) CHECK(contains(human.out, s));
}

TEST_CASE("enable, disable and delete change the vigy and print json", "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("x", programs::hello, 1000);
    auto d = fx.run_json({"disable", "x", "-o", "json"});
    CHECK_FALSE(field(field(*d, "vigy"), "enabled").GetBool());
    CHECK(str(*d, "outcome") == "disabled");
    auto d2 = fx.run_json({"disable", "x", "-o", "json"});
    CHECK(str(*d2, "outcome") == "unchanged");
    auto e = fx.run_json({"enable", "x", "-o", "json"});
    CHECK(field(field(*e, "vigy"), "enabled").GetBool());

    const result human = fx.run({"disable", "x"});
    CHECK(human.code == 0);
    CHECK(contains(human.out, "disabled"));

    auto del = fx.run_json({"delete", "x", "-o", "json"});
    CHECK(str(*del, "outcome") == "deleted");
    const result gone = fx.run({"inspect", "x"});
    CHECK(gone.code == 3);
}

TEST_CASE("delete removes history unless --keep-history", "[e2e][needs-lisp]") {
    fixture fx;
    const std::string file = fx.program("p.tatara", programs::counter);
    auto reg = [&] { REQUIRE(fx.run({"register", file, "--name", "c", "--disabled"}).code == 0); };
    reg();
    fx.run_json({"tick", "c", "-o", "json"});

    REQUIRE(fx.run({"delete", "c", "--keep-history"}).code == 0);
    reg();
    auto kept = fx.inspect("c");
    CHECK(field(*kept, "runs").Size() == 1);
    CHECK(num(field(*kept, "kv"), "n") == 1);

    REQUIRE(fx.run({"delete", "c"}).code == 0);
    reg();
    auto fresh = fx.inspect("c");
    CHECK(field(*fresh, "runs").Size() == 0);
    CHECK_FALSE(has(field(*fresh, "kv"), "n"));
}

TEST_CASE("json output (-o json) parses for every command", "[e2e][needs-lisp]") {
    fixture fx;
    const std::string file = fx.program("p.tatara", programs::hello);
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"register", file, "--name", "j", "--every", "100", "-o", "json"},
                                               {"list", "-o", "json"},
                                               {"tick", "j", "-o", "json"},
                                               {"inspect", "j", "-o", "json"},
                                               {"disable", "j", "-o", "json"},
                                               {"enable", "j", "-o", "json"},
                                               {"plugins", "list", "-o", "json"}}) {
        const result r = fx.run(args);
        INFO(args[0] << ": " << show(r));
        CHECK(r.code == 0);
        CHECK(parse_json(r.out) != nullptr);
    }

    // tail --since prints history as JSON lines, then follows until SIGINT
    auto tail = fx.start({"tail", "--since", "1h", "-o", "json"});
    REQUIRE(tail->wait_for([](const std::string& s) { return s.find('\n') != std::string::npos; }, 5000));
    tail->signal(SIGINT);
    const auto code = tail->wait(5000);
    REQUIRE(code);
    CHECK(*code == 0);
    const auto tail_lines = parse_json_lines(tail->out());
    REQUIRE(tail_lines.size() == 1);
    CHECK(str(*tail_lines[0], "vigy_name") == "j");

    // serve -o json: every line a JSON object
    auto serve = fx.start({"serve", "-o", "json"});
    REQUIRE(serve->wait_for([](const std::string& s) { return std::count(s.begin(), s.end(), '\n') >= 4; }, 8000));
    stop_serve(*serve);
    const auto serve_lines = parse_json_lines(serve->out());
    CHECK(serve_lines.size() >= 4);
    CHECK(str(*serve_lines.front(), "event") == "serving");

    auto del = fx.run_json({"delete", "j", "-o", "json"});
    CHECK(str(*del, "outcome") == "deleted");
}

TEST_CASE("colour only on a terminal, and never with NO_COLOR", "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("c", programs::hello, 1000);

    spawn_options tty = fx.opts;
    tty.stdout_tty = true;
    tty.env.push_back("TERM=xterm");
    const result coloured = vigy({"list"}, tty);
    INFO(show(coloured));
    CHECK(coloured.code == 0);
    CHECK(contains(coloured.out, "\x1b["));

    spawn_options no_colour = tty;
    no_colour.env.push_back("NO_COLOR=1");
    const result plain = vigy({"list"}, no_colour);
    INFO(show(plain));
    CHECK(plain.code == 0);
    CHECK(contains(plain.out, "c"));
    CHECK_FALSE(contains(plain.out, "\x1b["));

    const result piped = fx.run({"list"});
    CHECK_FALSE(contains(piped.out, "\x1b["));
}

TEST_CASE("a database that is not a database, or cannot be created, is a clear error", "[e2e]") {
    fixture fx;
    SECTION("garbage file") {
        const std::string junk = fx.dir.write("junk.db", std::string(8192, 'x'));
        const result r = fx.run({"--db", junk, "list"});
        INFO(show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, junk));
    }
    SECTION("parent is a regular file") {
        const std::string file = fx.dir.write("plainfile", "x");
        const std::string db = file + "/sub/vigy.db";
        const result r = fx.run({"--db", db, "serve", "--listen", "none"});  // serve creates a missing database
        INFO(show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, "plainfile"));
    }
    SECTION("VIGY_DB is honoured and --db wins over it") {
        const std::string other = fx.dir.file("other.db");
        create_empty_database(other);
        CHECK(fx.run({"--db", other, "list"}).code == 0);
        const result r = fx.run({"list"});  // VIGY_DB names a file that does not exist
        INFO(show(r));
        CHECK(r.code == 3);
        CHECK(contains(r.err, fx.db));
        CHECK_FALSE(std::filesystem::exists(fx.db));
    }
}

TEST_CASE("a locked database is a clear error, not a hang", "[e2e][needs-lisp]") {
    fixture fx;
    create_empty_database(fx.db);
    REQUIRE(fx.run({"list"}).code == 0);  // adds the schema
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(fx.db.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);

    const int64_t t0 = mono_ms();
    const result r = fx.run({"register", fx.program("p.tatara", programs::hello), "--name", "x"}, 20'000);
    const int64_t took = mono_ms() - t0;
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);

    INFO(show(r) << "\ntook " << took << " ms");
    CHECK_FALSE(r.timed_out);
    CHECK(r.code == 4);  // unavailable: try again later
    CHECK((contains(r.err, "locked") || contains(r.err, "busy")));
    CHECK(took < 15'000);
}

TEST_CASE("register with another kind takes --config, or FILE as the JSON config", "[e2e]") {
    fixture fx;
    auto noop = fx.run_json({"register", "--name", "idle", "--kind", "noop", "--config", "{}", "-o", "json"});
    CHECK(str(*noop, "outcome") == "created");
    CHECK(str(field(*noop, "vigy"), "kind") == "noop");

    const std::string chain_cfg =
        fx.dir.write("chain.json",
                     "{\"children\": [{\"kind\": \"lisp\", \"config\": {\"program\": \"(vigy-pull 1)\"}},"
                     " {\"kind\": \"lisp\", \"config\": {\"program\": \"(vigy-push 2)\"}}]}");
    auto chain = fx.run_json({"register", chain_cfg, "--name", "pair", "--kind", "chain", "--disabled", "-o", "json"});
    CHECK(str(field(*chain, "vigy"), "kind") == "chain");
    CHECK(field(field(*chain, "vigy"), "config").HasMember("children"));

    auto run = fx.run_json({"tick", "pair", "-o", "json"});
    INFO("error: " << (has(*run, "error") ? str(*run, "error") : ""));
    CHECK(str(*run, "result") == "ok");
    REQUIRE(field(*run, "actions").Size() == 2);
    CHECK(str(field(*run, "actions")[0], "kind") == "pull");
    CHECK(str(field(*run, "actions")[1], "kind") == "push");

    const std::string bad = fx.dir.write("bad.json", "{\"children\": [");
    const result r = fx.run({"register", bad, "--name", "broken", "--kind", "chain"});
    INFO(show(r));
    CHECK(r.code == 1);
    CHECK(contains(r.err, bad));
    CHECK(contains(r.err, "json"));
}

TEST_CASE("tail --id follows one vigy, --since accepts RFC 3339, lines name vigy, result and actions",
          "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("one", programs::hello, 1000, {"--disabled"});
    fx.register_program("two", "(vigy-pull 7)\n", 1000, {"--disabled"});
    const int64_t before = now_wall_ms() - 2000;
    fx.run_json({"tick", "one", "-o", "json"});
    fx.run_json({"tick", "two", "-o", "json"});
    fx.run_json({"tick", "one", "-o", "json"});

    char since[64];
    const std::time_t secs = static_cast<std::time_t>(before / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);

    auto only_one = fx.start({"tail", "--id", "one", "--since", since, "-o", "json"});
    REQUIRE(only_one->wait_for_err_text("tailing", 5000));
    // a run committed while tailing shows up too
    fx.run_json({"tick", "one", "-o", "json"});
    fx.run_json({"tick", "two", "-o", "json"});
    CHECK(only_one->wait_for([](const std::string& s) { return std::count(s.begin(), s.end(), '\n') >= 3; }, 5000));
    e2e::sleep_ms(400);  // would a run of "two" sneak in?
    only_one->signal(SIGTERM);
    REQUIRE(only_one->wait(5000) == std::optional<int>(0));
    const auto runs = parse_json_lines(only_one->out());
    CHECK(runs.size() == 3);
    for (const auto& r : runs) CHECK(str(*r, "vigy_name") == "one");

    auto human = fx.start({"tail", "--since", "1h"});
    REQUIRE(human->wait_for([](const std::string& s) { return std::count(s.begin(), s.end(), '\n') >= 5; }, 5000));
    human->signal(SIGINT);
    REQUIRE(human->wait(5000) == std::optional<int>(0));
    const auto ls = human->out_lines();
    REQUIRE(ls.size() == 5);
    CHECK(contains(ls[0], "one"));
    CHECK(contains(ls[0], "ok"));
    CHECK(contains(ls[0], "1 action: noop"));
    CHECK(contains(ls[1], "two"));
    CHECK(contains(ls[1], "1 action: pull"));
    CHECK(rfc3339_ms(ls[0].substr(0, ls[0].find(' '))) >= before);
}
