// tests/e2e/test_schedules.cpp — issue 13's proofs under the real `vigy serve`:
// a 6-field cron ticking once per second aligned to the second, a --once vigy
// that runs exactly once and stays Completed across a restart, event triggers
// with their payload read by (vigy-trigger), coalesced triggers, jitter spreading
// 1,000 vigies' first ticks, one catch-up tick within the window (none outside),
// supervision (Degraded after N failures, `vigy enable` resumes), and bad
// schedules refused at register time with nothing stored.
//
// Absence ("never ticks again") is proven against a witness vigy ticking every
// 100 ms in the same serve: once the witness has ticked K more times, the vigy
// under test had that long to (wrongly) tick. No blind sleeps.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

using namespace e2e;

namespace {

std::string show(const result& r) {
    return "exit " + std::to_string(r.code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Runs of a vigy, oldest first.
std::vector<json_doc> runs_of(const fixture& fx, const std::string& name) {
    return runs_oldest_first(*fx.inspect(name));
}

std::string state_of(const fixture& fx, const std::string& name) {
    auto doc = fx.inspect(name, 1);
    return str(field(*doc, "vigy"), "state");
}

std::string trigger_kind(const json& run) { return has(run, "trigger_kind") ? str(run, "trigger_kind") : ""; }

/// Waits (pumping serve's output) until `pred` holds.
bool wait_serving(process& serve, const std::function<bool()>& pred, int timeout_ms) {
    return eventually(
        [&] {
            serve.pump(0);
            return pred();
        },
        timeout_ms);
}

/// One SQL statement on the database file (the tests' setup shortcut and checks).
int64_t sql_scalar(const std::string& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    int64_t out = -1;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
            const int rc = sqlite3_step(st);
            if (rc == SQLITE_ROW)
                out = sqlite3_column_int64(st, 0);
            else if (rc == SQLITE_DONE)
                out = 0;
        }
        if (out < 0) INFO("sql error: " << sqlite3_errmsg(db));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
}

const char* witness_program = "(vigy-noop)\n";

}  // namespace

TEST_CASE("a 6-field cron */1 * * * * * vigy ticks once per second aligned to the second",
          "[e2e][timing][needs-lisp][schedule]") {
    fixture fx;
    const result reg =
        fx.run({"register", fx.program("c.tatara", programs::hello), "--name", "sec", "--cron", "*/1 * * * * *"});
    INFO(show(reg));
    REQUIRE(reg.code == 0);
    CHECK(contains(reg.out, "cron */1 * * * * *"));
    auto serve = start_serve(fx);
    const bool enough = wait_serving(
        *serve, [&] { return field(*fx.inspect("sec", 10), "runs").Size() >= 6; }, 15'000);
    stop_serve(*serve);
    REQUIRE(enough);
    const auto runs = runs_of(fx, "sec");
    std::vector<int64_t> seconds;
    for (const auto& r : runs) {
        const int64_t t = rfc3339_ms(str(*r, "started_at"));
        INFO("run started at " << str(*r, "started_at"));
        CHECK(t % 1000 < 300);  // aligned: it starts just after the second it is due at
        CHECK(trigger_kind(*r).empty());
        seconds.push_back(t / 1000);
    }
    // once per second: never two runs in one second, and consecutive runs 1 s apart
    // (a loaded machine may skip a slot now and then, never double one)
    const std::set<int64_t> distinct(seconds.begin(), seconds.end());
    CHECK(distinct.size() == seconds.size());
    int one_apart = 0;
    for (size_t i = 1; i < seconds.size(); ++i) {
        CHECK(seconds[i] - seconds[i - 1] >= 1);
        CHECK(seconds[i] - seconds[i - 1] <= 2);
        one_apart += seconds[i] - seconds[i - 1] == 1;
    }
    CHECK(one_apart >= static_cast<int>(seconds.size()) - 2);
    auto doc = fx.inspect("sec", 1);
    CHECK(str(field(*doc, "vigy"), "state") == "Enabled");
    CHECK(str(field(field(*doc, "vigy"), "schedule"), "cron") == "*/1 * * * * *");
}

TEST_CASE("a --once vigy runs exactly once and shows Completed after a restart", "[e2e][needs-lisp][schedule]") {
    fixture fx;
    fx.register_program("witness", witness_program, 100);
    const result reg = fx.run({"register", fx.program("once.tatara", programs::counter), "--name", "job", "--once"});
    INFO(show(reg));
    REQUIRE(reg.code == 0);
    {
        auto serve = start_serve(fx);
        REQUIRE(wait_serving(
            *serve, [&] { return state_of(fx, "job") == "Completed"; }, 10'000));
        // it had time to tick again: the witness ticked 10 more times
        const auto w0 = field(*fx.inspect("witness", 1000), "runs").Size();
        REQUIRE(wait_serving(
            *serve, [&] { return field(*fx.inspect("witness", 1000), "runs").Size() >= w0 + 10; }, 10'000));
        stop_serve(*serve);
    }
    CHECK(runs_of(fx, "job").size() == 1);
    {
        auto serve = start_serve(fx);
        const auto w0 = field(*fx.inspect("witness", 1000), "runs").Size();
        REQUIRE(wait_serving(
            *serve, [&] { return field(*fx.inspect("witness", 1000), "runs").Size() >= w0 + 10; }, 10'000));
        stop_serve(*serve);
    }
    auto doc = fx.inspect("job");
    CHECK(field(*doc, "runs").Size() == 1);  // its last run and result are kept
    CHECK(str(field(*doc, "runs")[0], "result") == "ok");
    CHECK(str(field(*doc, "vigy"), "state") == "Completed");
    CHECK(contains(str(field(*doc, "vigy"), "state_reason"), "ran once"));
    const result list = fx.run({"list"});
    CHECK(contains(list.out, "Completed"));
    // `vigy tick` still runs it by hand
    const result tick = fx.run({"tick", "job"});
    INFO(show(tick));
    CHECK(tick.code == 0);
    CHECK(runs_of(fx, "job").size() == 2);
}

TEST_CASE("an event trigger fires the dependent vigy once per matching event, payload read by (vigy-trigger)",
          "[e2e][needs-lisp][schedule]") {
    fixture fx;
    // src emits Changed (the payload: its tick count) and Other every tick
    fx.register_program("src",
                        "(vigy-event \"Changed\" (string-append \"n=\" (string (vigy-tick-count))))\n"
                        "(vigy-event \"Other\" \"ignored\")\n",
                        300);
    const result reg = fx.run({"register",
                               fx.program("dep.tatara",
                                          "(define t (vigy-trigger))\n"
                                          "(string-append (get t \"kind\") \" \" (get t \"source\") \" \"\n"
                                          "  (get (get t \"payload\") \"reason\") \" \"\n"
                                          "  (get (get t \"payload\") \"message\"))\n"),
                               "--name", "dep", "--on", "event:src/Changed"});
    INFO(show(reg));
    REQUIRE(reg.code == 0);
    auto serve = start_serve(fx);
    REQUIRE(wait_serving(
        *serve, [&] { return field(*fx.inspect("dep", 100), "runs").Size() >= 5; }, 15'000));
    stop_serve(*serve);
    const auto src_runs = runs_of(fx, "src");
    const auto dep_runs = runs_of(fx, "dep");
    INFO("src runs " << src_runs.size() << ", dep runs " << dep_runs.size());
    // one dep run per src event (the last event may come as serve stops)
    CHECK(dep_runs.size() <= src_runs.size());
    CHECK(dep_runs.size() + 1 >= src_runs.size());
    std::set<std::string> outputs;
    for (const auto& r : dep_runs) {
        CHECK(str(*r, "result") == "ok");
        CHECK(trigger_kind(*r) == "event");
        const std::string out = str(*r, "output");
        INFO(out);
        CHECK(contains(out, "event src Changed n="));
        outputs.insert(out);
    }
    CHECK(outputs.size() == dep_runs.size());  // each event once: n=1, n=2, ...
    CHECK(outputs.count("\"event src Changed n=1\"") == 1);
}

TEST_CASE("triggers coalesce: while a tick runs at most one trigger waits", "[e2e][needs-lisp][schedule]") {
    fixture fx;
    // a slow tick (~0.3-1 s of spinning) that prints its payload
    const std::string slow =
        "(define (spin n) (if (> n 0) (spin (- n 1)) 0))\n(spin 600000)\n"
        "(get (vigy-trigger) \"payload\")\n";
    const result reg = fx.run(
        {"register", fx.program("slow.tatara", slow), "--name", "slow", "--on", "manual", "--fuel", "100000000"});
    INFO(show(reg));
    REQUIRE(reg.code == 0);
    auto serve = start_serve(fx);
    std::vector<std::unique_ptr<process>> triggers;
    for (int i = 1; i <= 6; ++i) triggers.push_back(fx.start({"trigger", "slow", "--payload", std::to_string(i)}));
    for (auto& t : triggers) {
        const auto code = t->wait(15'000);
        INFO("trigger stderr: " << t->err());
        REQUIRE(code);
        CHECK(*code == 0);
    }
    const std::string done_sql = "SELECT count(*) FROM tick_requests WHERE state = 'done'";
    REQUIRE(wait_serving(
        *serve, [&] { return sql_scalar(fx.db, done_sql) == 6; }, 20'000));
    stop_serve(*serve);
    const auto runs = runs_of(fx, "slow");
    INFO("runs: " << runs.size());
    CHECK_FALSE(runs.empty());
    CHECK(runs.size() < 6);  // coalesced
    // every request was answered by one of those runs
    CHECK(sql_scalar(fx.db, "SELECT count(DISTINCT run_id) FROM tick_requests") == static_cast<int64_t>(runs.size()));
    for (const auto& r : runs) {
        CHECK(str(*r, "result") == "ok");
        CHECK(trigger_kind(*r) == "manual");
    }
}

TEST_CASE("jitter spreads 1,000 vigies' first ticks over the window", "[e2e][needs-lisp][schedule]") {
    fixture fx;
    const result reg =
        fx.run({"register", "--name", "j0", "--kind", "noop", "--config", "{}", "--every", "10s", "--jitter", "100%"});
    INFO(show(reg));
    REQUIRE(reg.code == 0);
    // 999 more like it, with their own names and ids (SQL: 999 `vigy register` calls are slow)
    REQUIRE(sql_scalar(fx.db,
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999) "
                       "INSERT INTO vigies(id, name, kind, config_json, revision, interval_ms, enabled, labels_json, "
                       "grants_json, fuel, wall_ms, memory_bytes, max_depth, created_ms, updated_ms, resource_version, "
                       "deleted, schedule_json, state, state_reason, state_ms) "
                       "SELECT printf('%016x', 1000003 * i + 7), 'j' || i, kind, config_json, revision, interval_ms, "
                       "enabled, labels_json, grants_json, fuel, wall_ms, memory_bytes, max_depth, created_ms, "
                       "updated_ms, resource_version, deleted, schedule_json, state, state_reason, state_ms "
                       "FROM vigies, n WHERE name = 'j0'") == 0);
    REQUIRE(sql_scalar(fx.db, "SELECT count(*) FROM vigies") == 1000);
    auto serve = start_serve(fx);
    const std::string firsts = "SELECT count(DISTINCT vid) FROM runs";
    REQUIRE(wait_serving(
        *serve, [&] { return sql_scalar(fx.db, firsts) == 1000; }, 30'000));
    stop_serve(*serve);
    // the first tick of each, relative to the earliest one (serve's start-up time, longer
    // under the sanitizers, does not count), in 10 buckets of 1 s
    const int64_t t0 = sql_scalar(fx.db, "SELECT min(started_ms) FROM runs");
    std::map<int64_t, int> buckets;
    for (int b = 0; b < 10; ++b) {
        const int64_t n =
            sql_scalar(fx.db,
                       "SELECT count(*) FROM (SELECT min(started_ms) AS s FROM runs GROUP BY vid) "
                       "WHERE s >= " +
                           std::to_string(t0 + b * 1000) + " AND s < " + std::to_string(t0 + (b + 1) * 1000));
        buckets[b] = static_cast<int>(n);
    }
    std::string hist;
    for (auto [b, n] : buckets) hist += std::to_string(n) + " ";
    INFO("first ticks per second of the 10 s window: " << hist);
    int total = 0;
    for (auto [b, n] : buckets) {
        total += n;
        CHECK(n >= 40);  // expected 100 each (uniform); nowhere near all at once
        CHECK(n <= 200);
    }
    CHECK(total >= 950);  // (start-up takes a moment: a few land just after the window)
}

TEST_CASE("a catch-up tick runs once after a restart within the window, and not outside it",
          "[e2e][timing][needs-lisp][schedule]") {
    fixture fx;
    const std::string prog = fx.program("c.tatara", "(vigy-noop)\n");
    for (const auto& [name, cron, window] :
         std::vector<std::tuple<std::string, std::string, std::string>>{{"every-second", "* * * * * *", "30s"},
                                                                        {"within", "*/5 * * * * *", "4s"},
                                                                        {"outside", "*/5 * * * * *", "1s"}}) {
        const result r = fx.run({"register", prog, "--name", name, "--cron", cron, "--catch-up", window});
        INFO(show(r));
        REQUIRE(r.code == 0);
    }
    int64_t s1 = 0;
    {
        auto serve = start_serve(fx);
        REQUIRE(wait_serving(
            *serve, [&] { return field(*fx.inspect("outside", 10), "runs").Size() >= 1; }, 10'000));
        stop_serve(*serve);
        s1 = rfc3339_ms(str(*runs_of(fx, "outside").at(0), "started_at")) / 5000 * 5000;
    }
    const size_t before_every = runs_of(fx, "every-second").size();
    // Down over the next slot S2 = S1 + 5 s; back 1.5 s after it: S2 is 1.5 s old,
    // within 4 s, outside 1 s (and S3 = S1 + 10 s is still ahead).
    const int64_t back_at = s1 + 5000 + 1500;
    REQUIRE(wall_ms() < back_at);
    while (wall_ms() < back_at) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a clock condition
    auto serve = start_serve(fx);
    const int64_t restarted = wall_ms();
    REQUIRE(restarted < s1 + 9000);
    const int64_t s3 = s1 + 10000;
    REQUIRE(wait_serving(
        *serve,
        [&] {
            const auto r = runs_of(fx, "outside");
            return !r.empty() && rfc3339_ms(str(*r.back(), "started_at")) >= s3;
        },
        15'000));
    stop_serve(*serve);
    // The catch-up ticks of the restart. (The first serve may give one too: a slot
    // between registration and that start counts as missed, as the spec says.)
    auto catch_ups = [&](const std::string& name) {
        std::vector<int64_t> at;
        for (const auto& r : runs_of(fx, name))
            if (trigger_kind(*r) == "catch-up" && rfc3339_ms(str(*r, "started_at")) >= back_at)
                at.push_back(rfc3339_ms(str(*r, "started_at")));
        return at;
    };
    const auto within = catch_ups("within");
    REQUIRE(within.size() == 1);
    CHECK(within[0] >= restarted - 1000);
    CHECK(within[0] < s3);
    CHECK(catch_ups("outside").empty());
    // the per-second one missed several slots: still one catch-up, never a burst
    CHECK(catch_ups("every-second").size() == 1);
    CHECK(runs_of(fx, "every-second").size() > before_every);
    // outside: S1, then S3 — nothing for the missed S2
    const auto outside = runs_of(fx, "outside");
    for (const auto& r : outside) {
        const int64_t t = rfc3339_ms(str(*r, "started_at"));
        CHECK((t < s1 + 5000 || t >= s3));
    }
}

TEST_CASE("a vigy failing N times in the window becomes Degraded, stops ticking, and vigy enable resumes it",
          "[e2e][needs-lisp][schedule]") {
    fixture fx;
    fx.register_program("witness", witness_program, 100);
    fx.register_program("bad", "(car 5)\n", 100, {"--max-failures", "3", "--within", "1m"});
    auto serve = start_serve(fx);
    REQUIRE(wait_serving(
        *serve, [&] { return state_of(fx, "bad") == "Degraded"; }, 20'000));
    auto doc = fx.inspect("bad");
    CHECK(field(*doc, "runs").Size() == 3);
    bool condition = false;
    for (const auto& c : field(*doc, "conditions").GetArray())
        if (str(c, "type") == "Degraded") {
            condition = true;
            CHECK(str(c, "status") == "True");
            CHECK(contains(str(c, "message"), "expected pair"));
        }
    CHECK(condition);
    bool warning = false;
    for (const auto& e : field(*doc, "events").GetArray())
        if (str(e, "reason") == "Degraded") warning = str(e, "type") == "Warning";
    CHECK(warning);
    CHECK(contains(str(field(*doc, "vigy"), "state_reason"), "failed 3 times"));
    // stopped: the backoff would have retried after 4 s; the witness ticks 60 times meanwhile
    const auto w0 = field(*fx.inspect("witness", 1000), "runs").Size();
    REQUIRE(wait_serving(
        *serve, [&] { return field(*fx.inspect("witness", 1000), "runs").Size() >= w0 + 60; }, 20'000));
    CHECK(field(*fx.inspect("bad"), "runs").Size() == 3);
    // vigy enable (while serve runs) resumes it
    const result en = fx.run({"enable", "bad"});
    INFO(show(en));
    CHECK(en.code == 0);
    CHECK(contains(en.out, "was Degraded"));
    REQUIRE(wait_serving(
        *serve, [&] { return field(*fx.inspect("bad"), "runs").Size() >= 4; }, 10'000));
    stop_serve(*serve);
    doc = fx.inspect("bad");
    for (const auto& c : field(*doc, "conditions").GetArray())
        if (str(c, "type") == "Degraded") CHECK(str(c, "status") == "False");
}

TEST_CASE("bad schedules are refused at register time with a clear message, exit 1, nothing stored",
          "[e2e][needs-lisp][schedule]") {
    fixture fx;
    const std::string file = fx.program("p.tatara", programs::hello);
    struct bad_case {
        std::vector<std::string> flags;
        std::string says;
    };
    const std::vector<bad_case> cases = {
        {{"--cron", "0 25 * * *"}, "field 2 (hour): 25 is out of range 0-23"},
        {{"--cron", "0 * * * *", "--tz", "Mars/Olympus"}, "Mars/Olympus"},
        {{"--on", "event:nobody/Changed"}, "no vigy named \"nobody\""},
        {{"--once", "--every", "10s"}, "mutually exclusive"},
        {{"--jitter", "150%"}, "--jitter"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args{"register", file, "--name", "x"};
        args.insert(args.end(), c.flags.begin(), c.flags.end());
        const result r = fx.run(args);
        INFO(show(r));
        CHECK(r.code == 1);
        CHECK(contains(r.err, c.says));
    }
    auto list = fx.run_json({"list", "-o", "json"});
    CHECK(field(*list, "vigies").Size() == 0);
}

TEST_CASE("vigy trigger with nobody serving runs the tick here, vigy eval --trigger simulates one, vigy reset answers",
          "[e2e][needs-lisp][schedule]") {
    fixture fx;
    const std::string prog = "(define t (vigy-trigger))\n(if t (get (get t \"payload\") \"v\") :scheduled)\n";
    const result reg = fx.run({"register", fx.program("t.tatara", prog), "--name", "t", "--on", "manual"});
    REQUIRE(reg.code == 0);
    auto out = fx.run_json({"trigger", "t", "--payload", R"({"v": 42})", "-o", "json"});
    CHECK(str(*out, "outcome") == "ran");
    CHECK(str(field(*out, "run"), "output") == "42");
    CHECK(str(field(*out, "run"), "trigger_kind") == "manual");
    const result bad = fx.run({"trigger", "t", "--payload", "{nope"});
    CHECK(bad.code == 1);
    CHECK(contains(bad.err, "--payload"));
    const result missing = fx.run({"trigger", "nobody"});
    CHECK(missing.code != 0);

    const result ev = fx.run({"eval", fx.program("e.tatara", prog), "--trigger", R"({"v": "hi"})"});
    INFO(show(ev));
    CHECK(ev.code == 0);
    CHECK(contains(ev.out, "hi"));
    const result plain = fx.run({"eval", fx.program("e2.tatara", prog)});
    CHECK(contains(plain.out, "scheduled"));

    const result rs = fx.run({"reset", "t"});
    INFO(show(rs));
    CHECK(rs.code == 0);
    CHECK(contains(rs.out, "Enabled"));
    auto insp = fx.inspect("t");
    CHECK(str(field(field(*insp, "vigy"), "schedule"), "kind") == "trigger");
    CHECK(str(field(*insp, "vigy"), "schedule_summary") == "on manual");
}
