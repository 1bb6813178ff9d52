// tests/e2e/test_serve.cpp — the end-to-end proofs around `vigy serve`:
// runs persisted and tailed from another process, fixed-rate scheduling,
// no pile-up on overrun, limits isolating a runaway program, parse errors with
// line:column, changes from other processes picked up within 1 s, and one
// scheduler per database.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

using namespace e2e;

namespace {

std::string show(const result& r) {
    return "exit " + std::to_string(r.code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// started_at (epoch ms) of each run, oldest first.
std::vector<int64_t> starts(const std::vector<json_doc>& runs) {
    std::vector<int64_t> out;
    for (const auto& r : runs) out.push_back(rfc3339_ms(str(*r, "started_at")));
    return out;
}

}  // namespace

TEST_CASE("hello-vigy at 100 ms served for 3 s persists >= 25 runs that another process tails",
          "[e2e][timing][needs-lisp]") {
    fixture fx;
    const std::string hello = examples_dir() + "/hello-vigy.tatara";
    const std::string text = read_file(hello);
    INFO("examples/hello-vigy.tatara:\n" << text);
    REQUIRE_FALSE(text.empty());
    const result reg = fx.run({"register", hello, "--name", "hello", "--every", "100"});
    INFO(show(reg));
    REQUIRE(reg.code == 0);

    auto tail = fx.start({"tail", "-o", "json"});
    REQUIRE(tail->wait_for_err_text("tailing", 5000));  // it has read its starting cursor

    auto serve = start_serve(fx);
    const int64_t t0 = mono_ms();
    while (mono_ms() - t0 < 3000) serve->pump(50);
    stop_serve(*serve);

    auto doc = fx.inspect("hello");
    const auto runs = runs_oldest_first(*doc);
    INFO("runs persisted: " << runs.size());
    CHECK(runs.size() >= 25);
    for (const auto& r : runs) {
        CHECK(str(*r, "result") == "ok");
        REQUIRE(field(*r, "actions").Size() == 1);
        CHECK(str(field(*r, "actions")[0], "kind") == "noop");
        REQUIRE(field(*r, "log").Size() == 1);
        CHECK(field(field(*r, "log")[0], "message").GetStringLength() > 0);
    }

    // the other process saw every committed run, as JSON lines
    const bool saw_all = tail->wait_for(
        [&](const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')) >= runs.size(); },
        5000);
    tail->signal(SIGINT);
    const auto tail_code = tail->wait(5000);
    INFO("tail stderr: " << tail->err());
    CHECK(saw_all);
    REQUIRE(tail_code);
    CHECK(*tail_code == 0);
    const auto tailed = parse_json_lines(tail->out());
    CHECK(tailed.size() == runs.size());
    for (size_t i = 0; i < tailed.size() && i < runs.size(); ++i) CHECK(str(*tailed[i], "id") == str(*runs[i], "id"));
    for (const auto& t : tailed) CHECK(str(*t, "vigy_name") == "hello");
}

TEST_CASE("fixed rate: over 50 ticks the mean interval is within 5% of the setting", "[e2e][timing][needs-lisp]") {
    fixture fx;
    fx.register_program("metronome", programs::hello, 100);
    auto serve = start_serve(fx);
    // 50 intervals need 51 ticks: ~5.1 s
    const bool enough = eventually(
        [&] {
            serve->pump(0);
            auto doc = fx.inspect("metronome", 100);
            return field(*doc, "runs").Size() >= 52;
        },
        12'000);
    stop_serve(*serve);
    REQUIRE(enough);
    const auto runs = runs_oldest_first(*fx.inspect("metronome"));
    const auto t = starts(runs);
    REQUIRE(t.size() >= 51);
    // skip the very first tick (it fires at start, before the timer cadence settles)
    const size_t a = 1, b = 51;
    const double mean = static_cast<double>(t[b] - t[a]) / static_cast<double>(b - a);
    int64_t min_gap = INT64_MAX, max_gap = 0;
    for (size_t i = a + 1; i <= b; ++i) {
        min_gap = std::min(min_gap, t[i] - t[i - 1]);
        max_gap = std::max(max_gap, t[i] - t[i - 1]);
    }
    INFO("mean interval " << mean << " ms, min gap " << min_gap << ", max gap " << max_gap);
    CHECK(std::abs(mean - 100.0) <= 5.0);
}

TEST_CASE("a tick longer than the interval does not pile up ticks", "[e2e][timing][needs-lisp]") {
    fixture fx;
    // Calibrate a spin loop to take roughly 250-600 ms per tick on this machine.
    int64_t n = 200'000;
    int64_t took = 0;
    const std::string limits_args = "--fuel";
    for (int attempt = 0; attempt < 6; ++attempt) {
        const std::string prog =
            "(define (spin n) (if (> n 0) (spin (- n 1)) 0))\n(spin " + std::to_string(n) + ")\n(vigy-noop)\n";
        fx.register_program("slow", prog, 100, {"--disabled", "--fuel", "2000000000", "--wall-ms", "10000"});
        auto run = fx.run_json({"tick", "slow", "-o", "json"});
        REQUIRE(str(*run, "result") == "ok");
        took = rfc3339_ms(str(*run, "ended_at")) - rfc3339_ms(str(*run, "started_at"));
        if (took >= 250) break;
        n = took <= 10 ? n * 20 : n * 300 / took + 1;
    }
    INFO("spin of " << n << " takes " << took << " ms");
    REQUIRE(took >= 250);
    REQUIRE(fx.run({"delete", "slow"}).code == 0);

    const std::string prog =
        "(define (spin n) (if (> n 0) (spin (- n 1)) 0))\n(spin " + std::to_string(n) + ")\n(vigy-noop)\n";
    fx.register_program("slow", prog, 100, {"--fuel", "2000000000", "--wall-ms", "10000"});
    auto serve = start_serve(fx);
    const int64_t t0 = mono_ms();
    while (mono_ms() - t0 < 3000) serve->pump(50);
    stop_serve(*serve);
    const int64_t window = mono_ms() - t0 + 500;

    const auto runs = runs_oldest_first(*fx.inspect("slow"));
    REQUIRE(runs.size() >= 2);
    // never overlapping, never bursting to catch up
    for (size_t i = 1; i < runs.size(); ++i) {
        const int64_t prev_end = rfc3339_ms(str(*runs[i - 1], "ended_at"));
        const int64_t start = rfc3339_ms(str(*runs[i], "started_at"));
        INFO("run " << i);
        CHECK(start >= prev_end - 1);
        CHECK(start - rfc3339_ms(str(*runs[i - 1], "started_at")) >= 95);
    }
    CHECK(static_cast<int64_t>(runs.size()) <= window / took + 2);
}

TEST_CASE("a runaway program fails its own runs while another vigy keeps its schedule", "[e2e][timing][needs-lisp]") {
    fixture fx;
    fx.register_program("runaway", programs::runaway, 100, {"--wall-ms", "400"});
    fx.register_program("steady", programs::hello, 100);
    auto serve = start_serve(fx);
    const int64_t t0 = mono_ms();
    while (mono_ms() - t0 < 3000) serve->pump(50);
    stop_serve(*serve);

    const auto bad = runs_oldest_first(*fx.inspect("runaway"));
    REQUIRE_FALSE(bad.empty());
    for (const auto& r : bad) {
        CHECK(str(*r, "result") == "failed");
        const std::string err = str(*r, "error");
        INFO("error: " << err);
        CHECK((err.find("fuel") != std::string::npos || err.find("wall") != std::string::npos ||
               err.find("deadline") != std::string::npos || err.find("time") != std::string::npos));
        CHECK(field(*r, "actions").Size() == 0);
    }
    // backoff: a failing vigy is not retried every 100 ms
    CHECK(bad.size() <= 6);

    const auto good = runs_oldest_first(*fx.inspect("steady"));
    const auto t = starts(good);
    INFO("steady ran " << good.size() << " times");
    REQUIRE(good.size() >= 25);
    for (const auto& r : good) CHECK(str(*r, "result") == "ok");
    int64_t max_gap = 0;
    for (size_t i = 1; i < t.size(); ++i) max_gap = std::max(max_gap, t[i] - t[i - 1]);
    INFO("largest gap between steady's ticks: " << max_gap << " ms");
    CHECK(max_gap < 250);
}

TEST_CASE("a program with a parse error is a failed run whose error has line:column", "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("typo", "(vigy-log 'info \"ok so far\")\n(vigy-noop))\n", 100);
    auto serve = start_serve(fx);
    const bool ran = eventually(
        [&] {
            serve->pump(0);
            return field(*fx.inspect("typo"), "runs").Size() >= 1;
        },
        5000);
    stop_serve(*serve);
    REQUIRE(ran);
    const auto runs = runs_oldest_first(*fx.inspect("typo"));
    const std::string err = str(*runs[0], "error");
    INFO("error: " << err);
    CHECK(str(*runs[0], "result") == "failed");
    CHECK(std::regex_search(err, std::regex("2:1[0-9]")));  // the stray ')' on line 2
    CHECK(serve->out().find("typo") != std::string::npos);  // serve showed the failed run
}

TEST_CASE("register, disable and delete from another process take effect in serve within 1 s",
          "[e2e][timing][needs-lisp]") {
    fixture fx;
    fx.register_program("first", programs::hello, 100);
    auto serve = start_serve(fx);

    // register: its first run is committed within 1 s
    const int64_t t_reg = mono_ms();
    fx.register_program("late", programs::hello, 100);
    const bool ticked = eventually(
        [&] {
            serve->pump(0);
            return field(*fx.inspect("late", 5), "runs").Size() >= 1;
        },
        3000);
    const int64_t reg_latency = mono_ms() - t_reg;
    INFO("register -> first run: " << reg_latency << " ms");
    CHECK(ticked);
    CHECK(reg_latency <= 1000 + 300);  // + the inspect subprocess round trip

    // disable: no run starts more than 1 s after the disable returned
    REQUIRE(fx.run({"disable", "late"}).code == 0);
    const int64_t t_dis = now_wall_ms();
    e2e::sleep_ms(1600);
    serve->pump(0);
    auto after = runs_oldest_first(*fx.inspect("late"));
    REQUIRE_FALSE(after.empty());
    const int64_t last_start = rfc3339_ms(str(*after.back(), "started_at"));
    INFO("last run of the disabled vigy started " << (last_start - t_dis) << " ms after disable");
    CHECK(last_start <= t_dis + 1000);

    // delete: runs of "first" stop within 1 s; its history goes away
    REQUIRE(fx.run({"delete", "first", "--keep-history"}).code == 0);
    const int64_t t_del = now_wall_ms();
    e2e::sleep_ms(1600);
    stop_serve(*serve);
    // with --keep-history the runs stay readable through a re-registration
    fx.register_program("first", programs::hello, 100, {"--disabled"});
    auto kept = runs_oldest_first(*fx.inspect("first"));
    REQUIRE_FALSE(kept.empty());
    const int64_t last_first = rfc3339_ms(str(*kept.back(), "started_at"));
    INFO("last run of the deleted vigy started " << (last_first - t_del) << " ms after delete");
    CHECK(last_first <= t_del + 1000);

    // the serve output named what it picked up
    CHECK(serve->out().find("late") != std::string::npos);
}

TEST_CASE("a second serve on the same database is refused with exit 1", "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("x", programs::hello, 1000);
    auto first = start_serve(fx);
    const result second = fx.run({"serve"}, 10'000);
    INFO(show(second));
    CHECK(second.code == 1);
    CHECK(second.err.find(std::to_string(first->pid())) != std::string::npos);
    stop_serve(*first);
    // and once the first stopped, a new serve starts fine
    auto third = start_serve(fx);
    stop_serve(*third);
}

TEST_CASE("serve prints what it loaded and ticks, and SIGTERM flushes every printed run", "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("a", programs::hello, 100);
    fx.register_program("b", programs::hello, 100, {"--disabled"});
    auto serve = start_serve(fx);
    CHECK(serve->wait_for_text("lisp", 2000));  // the lisp plugin/kind is listed
    const auto run_lines = [](const std::string& s) {
        size_t n = 0;
        for (const auto& l : lines(s))
            if (l.find(" a ") != std::string::npos && l.find(" ok") != std::string::npos) ++n;
        return n;
    };
    const bool some = serve->wait_for([&](const std::string& s) { return run_lines(s) >= 8; }, 5000);
    CHECK(some);
    serve->signal(SIGTERM);
    const auto code = serve->wait(10'000);
    REQUIRE(code);
    CHECK(*code == 0);
    // every run serve printed is in the database
    const size_t printed = run_lines(serve->out());
    const auto runs = runs_oldest_first(*fx.inspect("a"));
    INFO("serve output:\n" << serve->out());
    CHECK(printed >= 5);
    CHECK(runs.size() >= printed);
    CHECK(field(*fx.inspect("b"), "runs").Size() == 0);  // disabled: never ticked
}
