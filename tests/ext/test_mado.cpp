// test_mado.cpp — ext-mado against a private tmux server (tmux -S <tmp>/sock),
// loaded from build/lib/vigy/app-plugins like any application plugin, called
// from ticks granted its capability (io.pleme.mado).
#include "ext_harness.hpp"
#include "private_tmux.hpp"

#include "vigy/host/capabilities.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

extern char** environ;

using namespace vigy::test;
using vigy::host::tick_context;

namespace {

harness& h() {
    static harness instance({app_plugin("mado_tear.so")});
    return instance;
}

const vigy::host::capability_set& mado_granted() {
    static const vigy::host::capability_set grants({"io.pleme.mado"});
    return grants;
}

/// A tick of a vigy granted io.pleme.mado.
struct granted_tick {
    tick_context t = make_tick();
    granted_tick() { t.set_grants(&mado_granted()); }
};

/// stdout of a shell command (test-side plumbing only).
std::string shell(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
    return out;
}

std::vector<std::string> names(const value& sessions) {
    std::vector<std::string> out;
    for (const value& s : sessions.items()) out.push_back(s.find("name")->text());
    return out;
}

}  // namespace

TEST_CASE("mado plugin exposes its four intrinsics under its own id", "[ext][mado]") {
    CHECK(h().plugin_ids() == std::vector<std::string>{"io.pleme.mado"});
    CHECK(h().pack_names() == std::vector<std::string>{"mado"});
    for (const char* n : {"mado-tear-list-sessions", "mado-tear-attach", "mado-tear-create", "mado-tear-kill"})
        CHECK(h().has(n));
}

TEST_CASE("mado create/list/attach/kill against a private tmux server", "[ext][mado]") {
    private_tmux tmux;
    granted_tick g;
    tick_context& t = g.t;
    call_result r = h().call(t, "mado-tear-list-sessions");
    REQUIRE(r.ok());
    CHECK(r.result.items().empty());  // no server yet

    r = h().call(t, "mado-tear-create", {value::string("alpha")});
    REQUIRE(r.ok());
    CHECK(r.result == value::string("alpha"));
    REQUIRE(h().call(t, "mado-tear-create", {value::keyword("beta"), value::string("sleep 600")}).ok());

    r = h().call(t, "mado-tear-list-sessions");
    REQUIRE(r.ok());
    CHECK(names(r.result) == std::vector<std::string>{"alpha", "beta"});
    const value& first = r.result.items()[0];
    CHECK(first.find("windows")->as_int() == 1);
    CHECK(first.find("attached")->as_bool() == false);
    CHECK(first.find("created")->as_int() > 1'600'000'000);

    r = h().call(t, "mado-tear-create", {value::string("alpha")});
    CHECK(r.status == VIGY_ALREADY_EXISTS);
    CHECK(r.error == "mado-tear-create: session \"alpha\" already exists");

    r = h().call(t, "mado-tear-attach", {value::string("alpha")});
    REQUIRE(r.ok());
    CHECK(r.result.find("session")->text() == "alpha");
    CHECK(r.result.find("switched")->as_bool() == false);  // no client connected: nothing blocks
    CHECK(r.result.find("command")->text() == "tmux -S " + tmux.socket + " attach-session -t =alpha");

    REQUIRE(h().call(t, "mado-tear-kill", {value::string("alpha")}).result == value::boolean(true));
    r = h().call(t, "mado-tear-kill", {value::string("alpha")});
    CHECK(r.status == VIGY_NOT_FOUND);
    CHECK(r.error == "mado-tear-kill: no session \"alpha\"");
    r = h().call(t, "mado-tear-attach", {value::string("alpha")});
    CHECK(r.status == VIGY_NOT_FOUND);
    CHECK(r.error == "mado-tear-attach: no session \"alpha\"");
    CHECK(names(h().call(t, "mado-tear-list-sessions").result) == std::vector<std::string>{"beta"});
}

TEST_CASE("mado names are exact: a prefix does not match another session", "[ext][mado]") {
    private_tmux tmux;
    granted_tick g;
    tick_context& t = g.t;
    REQUIRE(h().call(t, "mado-tear-create", {value::string("alphabet")}).ok());
    CHECK(h().call(t, "mado-tear-kill", {value::string("alpha")}).status == VIGY_NOT_FOUND);
    REQUIRE(h().call(t, "mado-tear-create", {value::string("alpha")}).ok());
    CHECK(names(h().call(t, "mado-tear-list-sessions").result) == std::vector<std::string>{"alpha", "alphabet"});
}

TEST_CASE("mado argument errors and a missing tmux are clear intrinsic errors", "[ext][mado]") {
    private_tmux tmux;
    granted_tick g;
    tick_context& t = g.t;
    call_result r = h().call(t, "mado-tear-create", {value::string("")});
    CHECK(r.status == VIGY_INVALID_ARGUMENT);
    CHECK(r.error == "mado-tear-create: argument 1 (name) must not be empty");
    r = h().call(t, "mado-tear-create", {value::string("a:b")});
    CHECK(r.error == "mado-tear-create: argument 1 (name) must not contain ':' or '.', got \"a:b\"");
    r = h().call(t, "mado-tear-kill", {value::integer(3)});
    CHECK(r.error == "mado-tear-kill: argument 1 (name) must be a string, got int");
    r = h().call(t, "mado-tear-create", {value::string("x"), value::integer(3)});
    CHECK(r.error == "mado-tear-create: argument 2 (command) must be a string, got int");

    ::setenv("VIGY_MADO_TMUX", "/nonexistent/tmux", 1);
    r = h().call(t, "mado-tear-list-sessions");
    ::unsetenv("VIGY_MADO_TMUX");
    CHECK(r.status == VIGY_UNAVAILABLE);
    CHECK(r.error == "mado-tear-list-sessions: cannot run tmux (/nonexistent/tmux): No such file or directory");
}

TEST_CASE("mado attach switches a connected tmux client to the session", "[ext][mado]") {
    private_tmux tmux;
    granted_tick g;
    tick_context& t = g.t;
    REQUIRE(h().call(t, "mado-tear-create", {value::string("one")}).ok());
    REQUIRE(h().call(t, "mado-tear-create", {value::string("two")}).ok());
    // a real client on a pseudo-terminal (script(1)), attached to "one"; tmux
    // signals channel "attached" when it is (wait-for remembers an early signal)
    REQUIRE(::access("/usr/bin/script", X_OK) == 0);
    REQUIRE(std::system(("tmux -S '" + tmux.socket + "' set-hook -g client-attached 'wait-for -S attached'").c_str()) ==
            0);
    ::setenv("TERM", "xterm", 0);
    std::string attach = "tmux -S '" + tmux.socket + "' attach-session -t =one";
    std::vector<std::string> argv_s{"/usr/bin/script", "-qfc", attach, "/dev/null"};
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    REQUIRE(::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(std::system(("tmux -S '" + tmux.socket + "' wait-for attached").c_str()) == 0);
    const std::string clients = "tmux -S '" + tmux.socket + "' list-clients -F '#{client_session}' 2>/dev/null";
    REQUIRE(shell(clients) == "one\n");

    call_result r = h().call(t, "mado-tear-attach", {value::string("two")});
    REQUIRE(r.ok());
    CHECK(r.result.find("switched")->as_bool() == true);
    CHECK(shell(clients) == "two\n");
    CHECK(h().call(t, "mado-tear-list-sessions").result.items()[1].find("attached")->as_bool() == true);

    (void)std::system(("tmux -S '" + tmux.socket + "' kill-server >/dev/null 2>&1").c_str());
    // the client exits with the server, then script(1) reaps it and exits
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
}
