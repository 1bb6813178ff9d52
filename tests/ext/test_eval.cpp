// test_eval.cpp — `vigy eval` end to end, running the real binary with the real
// plugin loader: once and --ticks N, kv/tick metadata carried between ticks,
// failures, usage errors; with the test-only `ext-fixture` reconciler (always)
// and with the lisp reconciler on the examples ([lisp] cases).
#include "vigy/host/value.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

using vigy::host::value;

namespace {

struct run_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

/// Runs the vigy binary with `args` (no shell), capturing stdout/stderr.
run_result run_vigy(const std::vector<std::string>& args) {
    std::vector<std::string> argv_s{VIGY_EXT_VIGY_BIN};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2], err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    pid_t pid;
    int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(err[1]);
    REQUIRE(rc == 0);
    run_result r;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (::poll(fds, 2, -1) < 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[8192];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

const std::string fixture_dir = VIGY_EXT_FIXTURE_DIR;
const std::string examples = VIGY_EXT_EXAMPLES_DIR;

/// `vigy eval` with the fixture plugins and kind.
run_result fixture_eval(std::vector<std::string> args) {
    std::vector<std::string> all{"--plugin-dir", fixture_dir, "eval", "--kind", "ext-fixture"};
    all.insert(all.end(), args.begin(), args.end());
    return run_vigy(all);
}

const value& at(const value& v, const char* key) {
    const value* p = v.find(key);
    if (!p) FAIL("missing key " << key << " in " << v.to_json());
    return *p;
}

value parse(const run_result& r) {
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE_NOTHROW(value::from_json(r.out));
    return value::from_json(r.out);
}

}  // namespace

// ---- with the fixture reconciler ------------------------------------------------------------

TEST_CASE("eval once prints the tick output; a custom extension's intrinsic is callable", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "test-double 21"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "42\n");
    r = fixture_eval({"-e", "test-greet \"vigy\"", "-o", "json"});
    CHECK(r.exit_code == 0);
    value doc = parse(r);
    const value& tick = at(doc, "ticks").items().at(0);
    CHECK(at(tick, "output").text() == "\"hello, vigy\"");
    CHECK(at(at(at(tick, "kv_changes"), "set"), "greeted").text() == "hello, vigy");
}

TEST_CASE("eval --ticks carries kv, tick metadata and conditions from tick to tick", "[ext][eval]") {
    const std::string program =
        "vigy-incr \"n\"\nvigy-once \"init\"\nvigy-log \"info\" \"hi\"\nvigy-noop\nvigy-condition \"Ready\" \"true\"\n";
    run_result r = fixture_eval({"-e", program, "--ticks", "3", "--every", "500", "--start-ms", "1000", "-o", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    value doc = parse(r);
    const auto& ticks = at(doc, "ticks").items();
    REQUIRE(ticks.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        const value& t = ticks[i];
        CHECK(at(t, "result").text() == "ok");
        CHECK(at(at(t, "tick"), "tick_count").as_int() == static_cast<int64_t>(i + 1));
        CHECK(at(at(t, "tick"), "start_ms").as_int() == 1000 + 500 * static_cast<int64_t>(i));
        CHECK(at(t, "actions").to_json() == R"([{"kind":"noop","result":"ok"}])");
        CHECK(at(t, "log").to_json() == R"([{"level":"info","message":"hi"}])");
        CHECK(at(at(at(t, "kv_changes"), "set"), "n").as_int() == static_cast<int64_t>(i + 1));
        // Ready never changes status: last_transition stays at the first tick's start
        CHECK(at(at(t, "conditions").items().at(0), "last_transition").text() == "1970-01-01T00:00:01.000Z");
    }
    CHECK(at(at(ticks[0], "tick"), "previous_tick_ms").is_nil());
    CHECK(at(at(ticks[2], "tick"), "previous_tick_ms").as_int() == 1500);
    CHECK(at(at(ticks[0], "kv_changes"), "set").find("__once::init") != nullptr);
    CHECK(at(at(ticks[1], "kv_changes"), "set").find("__once::init") == nullptr);  // fired once
    const value& kv = at(doc, "kv");
    CHECK(at(kv, "n").as_int() == 3);
    CHECK(at(kv, "__sys::tick_count").as_int() == 3);
    CHECK(at(kv, "__sys::prev_tick_ms").as_int() == 2000);
}

TEST_CASE("eval --kv seeds typed kv values", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "vigy-incr \"n\"", "--kv", "n=41"});
    CHECK(r.out == "42\n");
    r = fixture_eval({"-e", "vigy-get \"m\"", "--kv", R"(m={"a":[1,2.5,"s"]})"});
    CHECK(r.out == "{\"a\" (1 2.500000 \"s\")}\n");
}

TEST_CASE("eval human output shows each tick's buffers and hides __sys keys", "[ext][eval]") {
    const std::string program = "vigy-noop\nvigy-set \"k\" 1\nvigy-log \"warn\" \"careful\"\nvigy-event \"Beat\" \"m\"\n"
                                "vigy-desired \"count\" 2\nvigy-metric \"m\" 1.5\n";
    run_result r = fixture_eval({"-e", program, "--ticks", "2"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("tick 1  ") != std::string::npos);
    CHECK(r.out.find("tick 2  ") != std::string::npos);
    CHECK(r.out.find("action     noop (ok)") != std::string::npos);
    CHECK(r.out.find("log        [warn] careful") != std::string::npos);
    CHECK(r.out.find("event      Normal Beat: m") != std::string::npos);
    CHECK(r.out.find("desired    count=2") != std::string::npos);
    CHECK(r.out.find("metrics    m=1.5") != std::string::npos);
    CHECK(r.out.find("kv         k=1") != std::string::npos);
    CHECK(r.out.find("__sys") == std::string::npos);
}

TEST_CASE("eval: a failed tick saves nothing and does not advance tick_count; exit 1", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "vigy-incr \"n\"\n!fail boom", "--ticks", "2", "-o", "json"});
    CHECK(r.exit_code == 1);
    value doc = parse(r);
    for (const value& t : at(doc, "ticks").items()) {
        CHECK(at(t, "result").text() == "failed");
        CHECK(at(t, "error").text() == "<expr>:2: boom");
        CHECK(at(at(t, "tick"), "tick_count").as_int() == 1);
    }
    CHECK(at(doc, "kv").find("n") == nullptr);
}

TEST_CASE("eval once: errors go to stderr with exit 1", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "vigy-noop\n!fail boom"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "error: <expr>:2: boom\n");
    r = fixture_eval({"-e", "vigy-incr \"n\" 1.5"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: <expr>:1: vigy-incr: argument 2 (delta) must be an int, got double\n");
    r = fixture_eval({"-e", "nope 1"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: <expr>:1: unknown intrinsic nope\n");
}

TEST_CASE("eval usage errors", "[ext][eval]") {
    run_result r = fixture_eval({"-e", "vigy-noop", "--kv", "novalue"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: --kv must be KEY=JSON, got \"novalue\"\n");
    r = fixture_eval({"-e", "vigy-noop", "--kv", "k={"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("error: --kv k: invalid json at offset 1") == 0);
    r = fixture_eval({});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: nothing to evaluate: give FILE or -e SRC\n");
    r = fixture_eval({"some.tatara", "-e", "vigy-noop"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: give either FILE or -e SRC, not both\n");
    r = fixture_eval({"/nonexistent/prog.tatara"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: cannot read /nonexistent/prog.tatara: No such file or directory\n");
    r = run_vigy({"eval", "--kind", "no-such-kind", "-e", "1"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("error: unknown reconciler kind \"no-such-kind\"") == 0);
}
