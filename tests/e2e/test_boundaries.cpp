// tests/e2e/test_boundaries.cpp — valid data at the CLI's edge (issue 8 item 6, with
// the real binary): a program that is not UTF-8 is refused naming line:column and never
// stored, label values with control characters or ',' are refused (nothing reaches
// `list`), and selectors reject empty terms and handle != and notin.
#include "support.hpp"

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

using namespace e2e;

namespace {

std::string show(const result& r) {
    return "exit " + std::to_string(r.code) + "\nstderr: " + r.err + "\nstdout: " + r.out;
}
bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::vector<std::string> names_of(const fixture& fx, const std::string& selector) {
    const result r = fx.run({"list", "-l", selector, "-o", "json"});
    INFO("selector " << selector << ": " << show(r));
    REQUIRE(r.code == 0);
    auto d = parse_json(r.out);
    REQUIRE(d != nullptr);
    const json& items = d->IsArray() ? static_cast<const json&>(*d) : field(*d, "vigies");
    std::vector<std::string> out;
    for (const auto& v : items.GetArray()) out.push_back(str(v, "name"));
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("a program that is not UTF-8 is refused with its line and column by register and eval",
          "[e2e][needs-lisp][boundaries]") {
    fixture fx;
    const std::string file = fx.program("bad.tatara", "(vigy-log 'info \"ok\")\n(display \"caf\xC3\x28\")\n");
    result r = fx.run({"register", file, "--name", "bad"});
    INFO(show(r));
    CHECK(r.code == 1);
    CHECK(contains(r.err, "UTF-8"));
    CHECK(contains(r.err, "2:"));
    r = fx.run({"list", "-o", "json"});
    CHECK_FALSE(contains(r.out, "\"bad\""));  // nothing was stored
    r = fx.run({"eval", file});
    INFO(show(r));
    CHECK(r.code == 1);
    CHECK(contains(r.err, "UTF-8"));
}

TEST_CASE("label values with control characters or commas are refused and never printed",
          "[e2e][needs-lisp][boundaries]") {
    fixture fx;
    const std::string file = fx.program("p.tatara", programs::hello);
    for (const std::string& bad : {std::string("team=\x1b[2J"), std::string("team=a,b"), std::string("team=a\nb"),
                                   std::string("team=") + std::string(64, 'v')}) {
        const result r = fx.run({"register", file, "--name", "x", "--label", bad});
        INFO(show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, "invalid label value"));
        CHECK_FALSE(contains(r.err, "\x1b["));  // the message escapes what it quotes
    }
    const result l = fx.run({"list"});
    CHECK_FALSE(contains(l.out, "\x1b"));
    CHECK_FALSE(contains(l.out, " x "));
}

TEST_CASE("selectors reject empty terms and handle != and notin", "[e2e][needs-lisp][boundaries]") {
    fixture fx;
    fx.register_program("a", programs::hello, 1000, {"--label", "team=infra"});
    fx.register_program("b", programs::hello, 1000, {"--label", "team=web"});
    fx.register_program("c", programs::hello, 1000);
    CHECK(names_of(fx, "team!=infra") == std::vector<std::string>{"b", "c"});
    CHECK(names_of(fx, "team notin (infra)") == std::vector<std::string>{"b", "c"});
    CHECK(names_of(fx, "team") == std::vector<std::string>{"a", "b"});
    CHECK(names_of(fx, "!team") == std::vector<std::string>{"c"});
    for (const char* bad : {",,", "team=infra,", "=x"}) {
        const result r = fx.run({"list", "-l", bad});
        INFO(bad << ": " << show(r));
        CHECK(r.code != 0);
        CHECK(contains(r.err, "selector"));
    }
}

TEST_CASE("vigy serve refuses mado-tear-create to a vigy without the grant: the shell command never runs",
          "[e2e][needs-lisp][boundaries][grants]") {
    fixture fx;
    const std::string plugins = VIGY_E2E_APP_PLUGIN_DIR;
    const std::string marker = fx.dir.file("pwned");
    // tmux is pointed at a private socket in the temp dir: nothing reaches the user's tmux
    fx.opts.env.push_back("TMUX_TMPDIR=" + fx.dir.path().string());
    fx.opts.env.push_back("TMUX");
    const std::string file = fx.program("pwn.tatara", "(mado-tear-create \"x\" \"sh -c 'touch " + marker + "'\")\n");
    result r = fx.run({"--plugin-dir", plugins, "register", file, "--name", "pwn", "--every", "100"});
    INFO(show(r));
    REQUIRE(r.code == 0);
    auto serve = start_serve(fx, {"--plugin-dir", plugins});
    REQUIRE(serve->out().find("io.pleme.mado") != std::string::npos);  // the plugin is loaded
    REQUIRE(eventually(
        [&] {
            serve->pump(0);
            return runs_oldest_first(*fx.inspect("pwn", 10)).size() >= 3;
        },
        10'000));
    stop_serve(*serve);
    for (const auto& run : runs_oldest_first(*fx.inspect("pwn", 10))) {
        CHECK(str(*run, "result") == "failed");
        CHECK(contains(str(*run, "error"), "capability io.pleme.mado is not granted to this vigy"));
        CHECK(contains(str(*run, "error"), "--allow io.pleme.mado"));
    }
    CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("inspect -o json stays valid UTF-8 JSON over text stored before validation",
          "[e2e][needs-lisp][boundaries]") {
    fixture fx;
    fx.register_program("f", "(car 5)\n", 1000, {"--disabled"});
    REQUIRE(fx.run({"tick", "f"}).code == 0);
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(fx.db.c_str(), &db) == SQLITE_OK);
        // what an older vigy could store: a run error with a byte that is not UTF-8
        REQUIRE(sqlite3_exec(db, "UPDATE runs SET error = CAST(X'6F6BFF2161' AS TEXT)", nullptr, nullptr, nullptr) ==
                SQLITE_OK);
        sqlite3_close(db);
    }
    const result r = fx.run({"inspect", "f", "-o", "json"});
    INFO(show(r));
    REQUIRE(r.code == 0);
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(r.out.c_str(), r.out.size());
    REQUIRE_FALSE(d.HasParseError());
    const auto runs = runs_oldest_first(d);
    REQUIRE(runs.size() == 1);
    CHECK(str(*runs[0], "error") == "ok\xEF\xBF\xBD!a");
}
