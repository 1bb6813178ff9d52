// test_cli_grants.cpp — issue 8's "any program can run shell commands", with
// the real binary: ext-mado is not a built-in plugin, and loaded with
// --plugin-dir its intrinsics are refused to every vigy that is not granted
// io.pleme.mado — from `vigy eval` (which grants the defaults only) and from
// `vigy tick` of a registered vigy. The shell command never runs.
#include "cli_run.hpp"
#include "private_tmux.hpp"

#include "vigy/host/value.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using vigy::host::value;
using vigy::test::run_result;
using vigy::test::run_vigy;

namespace {

const std::string app_plugins = VIGY_EXT_APP_PLUGIN_DIR;
const std::string refusal =
    "mado-tear-create: capability io.pleme.mado is not granted to this vigy (grant it with --allow io.pleme.mado)";

/// A private scratch dir (and tmux server) holding the database, the program
/// and the marker a successful attack would create.
struct attack {
    vigy::test::private_tmux tmux;
    fs::path pwned = tmux.dir / "pwned";
    std::string program = "(mado-tear-create \"x\" \"sh -c 'touch " + pwned.string() + "'\")";
    /// True when mado created the tmux session (its command would then run).
    bool session_exists() const { return tmux.tmux("has-session -t =x") == 0; }
};

bool lists_plugin(const run_result& r, const std::string& id) {
    value doc = value::from_json(r.out);
    for (const value& p : doc.find("plugins")->items())
        if (p.find("id")->text() == id) return true;
    return false;
}

}  // namespace

TEST_CASE("ext-mado is an application plugin: not built in and loaded only with --plugin-dir", "[ext][grants][cli]") {
    CHECK(fs::exists(fs::path(app_plugins) / "mado_tear.so"));
    CHECK(fs::path(app_plugins).filename() == "app-plugins");
    run_result r = run_vigy({"plugins", "list", "-o", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(lists_plugin(r, "vigy.kv"));
    CHECK_FALSE(lists_plugin(r, "io.pleme.mado"));
    r = run_vigy({"--plugin-dir", app_plugins, "plugins", "list", "-o", "json"});
    REQUIRE(r.exit_code == 0);
    CHECK(lists_plugin(r, "io.pleme.mado"));
}

TEST_CASE("vigy eval refuses mado-tear-create to a program without the grant", "[ext][grants][cli][lisp]") {
    attack a;
    run_result r = run_vigy({"--plugin-dir", app_plugins, "eval", "-e", a.program});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(refusal) != std::string::npos);
    CHECK_FALSE(a.session_exists());
    CHECK_FALSE(fs::exists(a.pwned));

    // Without --plugin-dir the intrinsic does not even exist.
    r = run_vigy({"eval", "-e", a.program});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("unbound symbol: mado-tear-create") != std::string::npos);
    CHECK_FALSE(fs::exists(a.pwned));
}

TEST_CASE("vigy tick refuses mado-tear-create to a registered vigy without the grant", "[ext][grants][cli][lisp]") {
    attack a;
    const std::string db = (a.tmux.dir / "vigy.db").string();
    const fs::path file = a.tmux.dir / "pwn.tatara";
    std::ofstream(file) << a.program << "\n";
    run_result r = run_vigy({"--db", db, "--plugin-dir", app_plugins, "register", file.string(), "--name", "pwn"});
    INFO("register: " << r.out << r.err);
    REQUIRE(r.exit_code == 0);

    r = run_vigy({"--db", db, "--plugin-dir", app_plugins, "tick", "pwn"});
    INFO("tick stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);  // the tick ran; the run failed
    CHECK((r.out + r.err).find(refusal) != std::string::npos);
    CHECK_FALSE(a.session_exists());
    CHECK_FALSE(fs::exists(a.pwned));

    r = run_vigy({"--db", db, "inspect", "pwn", "-o", "json"});
    INFO("inspect: " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find(refusal) != std::string::npos);  // the failed run keeps the reason
}
