// tests/runtime/test_runtime.cpp — vigy::Runtime: schedule timing, backoff, compile
// errors, kv continuity, multi-process coordination (a second runtime instance on the
// same database stands in for another process), forced ticks, clean stop.
#include "fixture_plugin.hpp"

#include "vigy/host/runtime.hpp"
#include "vigy/store/store.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using vigy::host::errc;
using vigy::host::run;
using vigy::host::run_result;
using vigy::host::run_trigger;
using vigy::host::register_outcome;
using vigy::host::runtime;
using vigy::host::runtime_error;
using vigy::host::runtime_options;
using vigy::host::vigy_spec;

namespace {

/// A fresh database path in its own temp directory, removed at scope exit.
struct temp_db {
    fs::path dir;
    fs::path path;
    temp_db() {
        std::random_device rd;
        dir = fs::temp_directory_path() / ("vigy-runtime-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        fs::create_directories(dir);
        path = dir / "vigy.db";
    }
    ~temp_db() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

runtime_options fixture_options() {
    runtime_options o;
    o.default_plugin_dirs = false;
    o.keep_runs = 0;  // keep every run: the tests count them against kv
    o.static_plugins.push_back({"fixture", &fx::entry});
    return o;
}

std::unique_ptr<runtime> open_rt(const fs::path& db, runtime_options o = fixture_options()) {
    return runtime::open(db, std::move(o));
}

vigy_spec fx_spec(const std::string& name, int64_t interval_ms, const std::string& config = "{}") {
    vigy_spec s;
    s.name = name;
    s.kind = "fx";
    s.config_json = config;
    s.interval_ms = interval_ms;
    return s;
}

/// Collects every run the runtime publishes.
struct collector {
    std::mutex m;
    std::condition_variable cv;
    std::vector<run> runs;
    vigy::host::subscription sub;

    explicit collector(runtime& rt) {
        sub = rt.subscribe([this](const run& r) {
            std::lock_guard lk(m);
            runs.push_back(r);
            cv.notify_all();
        });
    }
    std::vector<run> of(const std::string& name) {
        std::lock_guard lk(m);
        std::vector<run> out;
        for (const auto& r : runs)
            if (r.vigy_name == name) out.push_back(r);
        return out;
    }
    /// Waits until `name` has at least n runs or the timeout passes.
    bool wait_for(const std::string& name, size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock lk(m);
        return cv.wait_for(lk, timeout, [&] {
            return static_cast<size_t>(std::count_if(runs.begin(), runs.end(),
                                                     [&](const run& r) { return r.vigy_name == name; })) >= n;
        });
    }
};

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int64_t kv_count(runtime& rt, const std::string& name) {
    for (const auto& e : rt.kv(name))
        if (e.key == "count") return std::stoll(e.value_json);
    return 0;
}

size_t ok_runs(runtime& rt, const std::string& name) {
    size_t n = 0;
    for (const auto& r : rt.recent_runs(name, 1'000'000))
        if (r.result == run_result::ok) ++n;
    return n;
}

}  // namespace

TEST_CASE("first tick comes right away then fixed rate without drift", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    collector c(*rt);
    const int64_t t0 = now_ms();
    rt->start();
    rt->register_or_update(fx_spec("rate", 100));
    REQUIRE(c.wait_for("rate", 21, 5s));
    CHECK(rt->stats().scheduled == 1);
    CHECK(rt->scheduled() == std::vector<std::string>{"rate"});
    rt->stop();
    CHECK(rt->stats().scheduled == 0);
    auto runs = c.of("rate");
    REQUIRE(runs.size() >= 21);
    CHECK(runs[0].started_ms - t0 < 60);  // first tick immediately
    // 20 intervals: the mean is within 5% of 100 ms.
    const double mean = static_cast<double>(runs[20].started_ms - runs[0].started_ms) / 20.0;
    CHECK(mean >= 95.0);
    CHECK(mean <= 105.0);
    for (size_t i = 0; i < 21; ++i) {
        CHECK(runs[i].result == run_result::ok);
        CHECK(runs[i].tick_count == static_cast<int64_t>(i) + 1);
        CHECK(runs[i].seq > 0);
        CHECK(runs[i].actions_json.find("noop") != std::string::npos);
    }
    CHECK(kv_count(*rt, "rate") == static_cast<int64_t>(ok_runs(*rt, "rate")));
}

TEST_CASE("a tick slower than its interval never piles up ticks", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    collector c(*rt);
    rt->start();
    rt->register_or_update(fx_spec("slow", 100, R"({"sleep_ms": 250})"));
    std::this_thread::sleep_for(2000ms);
    rt->stop();
    auto runs = c.of("slow");
    REQUIRE(runs.size() >= 4);
    CHECK(runs.size() <= 8);  // 2 s / 250 ms at most, never the 20 slots of 100 ms
    for (size_t i = 1; i < runs.size(); ++i) {
        CHECK(runs[i].started_ms >= runs[i - 1].ended_ms);  // never two at once
        // missed slots are skipped: the next tick starts on the 100 ms grid after the overrun
        const int64_t gap = runs[i].started_ms - runs[i - 1].started_ms;
        CHECK(gap >= 280);
        CHECK(gap <= 420);
    }
    CHECK(rt->stats().skipped_slots >= 2 * (runs.size() - 1));
}

TEST_CASE("failed ticks back off 1 s then 2 s then 4 s and the backoff resets on success", "[runtime][slow]") {
    temp_db db;
    auto rt = open_rt(db.path);
    collector c(*rt);
    rt->start();
    rt->register_or_update(fx_spec("flaky", 100, R"({"fail_first": 3})"));
    REQUIRE(c.wait_for("flaky", 6, 10s));
    rt->stop();
    auto runs = c.of("flaky");
    REQUIRE(runs.size() >= 6);
    CHECK(runs[0].result == run_result::failed);
    CHECK(runs[0].error == "fixture failure 1");
    CHECK(runs[1].result == run_result::failed);
    CHECK(runs[2].result == run_result::failed);
    CHECK(runs[3].result == run_result::ok);
    CHECK(runs[4].result == run_result::ok);
    auto gap = [&](size_t i) { return runs[i].started_ms - runs[i - 1].ended_ms; };
    CHECK(gap(1) >= 950);
    CHECK(gap(1) <= 1200);
    CHECK(gap(2) >= 1950);
    CHECK(gap(2) <= 2200);
    CHECK(gap(3) >= 3950);
    CHECK(gap(3) <= 4200);
    CHECK(runs[4].started_ms - runs[3].started_ms <= 150);  // back to the 100 ms rate
    CHECK(runs[3].tick_count == 1);  // failed ticks do not advance tick_count
    CHECK(runs[0].kv_writes_json == "{}");
    CHECK(kv_count(*rt, "flaky") == static_cast<int64_t>(ok_runs(*rt, "flaky")));
}

TEST_CASE("a program that does not compile is a failed run and the runtime carries on", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    collector c(*rt);
    rt->start();
    auto spec = fx_spec("broken", 100, R"({"build_error": "parse error at 3:7: unbalanced parenthesis"})");
    CHECK(rt->check(spec) == std::optional<std::string>("parse error at 3:7: unbalanced parenthesis"));
    rt->register_or_update(spec);  // registering does not reject it
    rt->register_or_update(fx_spec("healthy", 100));
    REQUIRE(c.wait_for("healthy", 10, 5s));
    rt->stop();
    auto broken = c.of("broken");
    REQUIRE(broken.size() == 1);  // then backing off (1 s)
    CHECK(broken[0].result == run_result::failed);
    CHECK(broken[0].error == "parse error at 3:7: unbalanced parenthesis");
    auto stored = rt->recent_runs("broken");
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].error == "parse error at 3:7: unbalanced parenthesis");
    CHECK(rt->kv("broken").empty());
    for (const auto& r : c.of("healthy")) CHECK(r.result == run_result::ok);
}

TEST_CASE("kv is carried across ticks and across closing and reopening the runtime", "[runtime]") {
    temp_db db;
    {
        auto rt = open_rt(db.path);
        rt->register_or_update(fx_spec("keep", 1000));
        for (int i = 1; i <= 3; ++i) {
            run r = rt->tick_now("keep");  // nobody serves: ticks here under a short lease
            CHECK(r.result == run_result::ok);
            CHECK(r.tick_count == i);
            CHECK(r.output == std::to_string(i));
        }
        CHECK(kv_count(*rt, "keep") == 3);
    }
    {
        auto rt = open_rt(db.path);
        collector c(*rt);
        rt->start();
        REQUIRE(c.wait_for("keep", 1, 3s));
        rt->stop();
        auto runs = c.of("keep");
        CHECK(runs[0].tick_count == 4);
        CHECK(runs[0].output == "4");
        bool found = false;
        for (const auto& e : rt->kv("keep"))
            if (e.key == "__sys::tick_count") {
                found = true;
                CHECK(std::stoll(e.value_json) == 3 + static_cast<int64_t>(runs.size()));
            }
        CHECK(found);
        CHECK(kv_count(*rt, "keep") == static_cast<int64_t>(ok_runs(*rt, "keep")));
    }
}

TEST_CASE("runs read back carry trigger tick_count duration and kv changes and kv carries updated_ms", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    rt->register_or_update(fx_spec("fidelity", 1000));
    run live = rt->tick_now("fidelity");
    REQUIRE(live.result == run_result::ok);
    rt->tick_now("fidelity");
    auto back = rt->recent_runs("fidelity");
    REQUIRE(back.size() == 2);
    const run& r = back[1];  // newest first
    CHECK(r.id == live.id);
    CHECK(r.trigger == run_trigger::forced);
    CHECK(r.tick_count == 1);
    CHECK(back[0].tick_count == 2);
    CHECK(r.duration_us == live.duration_us);  // µs, not rounded to ms
    CHECK(r.kv_writes_json == live.kv_writes_json);
    CHECK(r.kv_writes_json.find("__sys::tick_count") != std::string::npos);
    CHECK(r.kv_deletes_json == live.kv_deletes_json);
    auto same = rt->runs_after(0, 1000, "fidelity");
    REQUIRE(same.size() == 2);
    CHECK(same[0].kv_writes_json == live.kv_writes_json);
    CHECK(same[0].tick_count == 1);
    auto kv = rt->kv("fidelity");
    REQUIRE_FALSE(kv.empty());
    for (const auto& e : kv) CHECK(e.updated_ms == back[0].ended_ms);

    collector c(*rt);
    rt->start();
    REQUIRE(c.wait_for("fidelity", 1, 3s));
    rt->stop();
    auto scheduled = rt->recent_runs("fidelity", 1);
    REQUIRE(scheduled.size() == 1);
    CHECK(scheduled[0].trigger == run_trigger::schedule);
    CHECK(scheduled[0].tick_count == 3);
}

TEST_CASE("changes made by another process are picked up within a second", "[runtime]") {
    temp_db db;
    auto server = open_rt(db.path);
    collector c(*server);
    server->start();
    auto other = open_rt(db.path);  // stands in for the CLI in another process

    auto t0 = std::chrono::steady_clock::now();
    other->register_or_update(fx_spec("remote", 100));
    REQUIRE(c.wait_for("remote", 1, 1s));
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);

    // an edit (new revision) is picked up: runs show the new revision
    auto v2 = other->register_or_update(fx_spec("remote", 100, R"({"sleep_ms": 1})"));
    std::this_thread::sleep_for(1000ms);
    CHECK(c.of("remote").back().revision == v2.revision);

    other->disable("remote");
    std::this_thread::sleep_for(1000ms);  // noticed within 1 s (at most one in-flight tick after)
    const size_t after_disable = c.of("remote").size();
    std::this_thread::sleep_for(500ms);
    CHECK(c.of("remote").size() == after_disable);
    CHECK(server->scheduled().empty());

    other->enable("remote");
    REQUIRE(c.wait_for("remote", after_disable + 1, 1s));

    other->remove("remote");
    std::this_thread::sleep_for(1000ms);
    const size_t after_delete = c.of("remote").size();
    std::this_thread::sleep_for(500ms);
    CHECK(c.of("remote").size() == after_delete);
    CHECK_FALSE(other->find("remote"));
    server->stop();
}

TEST_CASE("forced ticks from this and another process never lose a counter update", "[runtime]") {
    temp_db db;
    auto server = open_rt(db.path);
    server->register_or_update(fx_spec("hammer", 100));
    server->start();
    auto other = open_rt(db.path);

    std::atomic<bool> go{true};
    std::atomic<int> forced_ok{0};
    auto hammer = [&](runtime& rt) {
        while (go.load()) {
            run r = rt.tick_now("hammer");
            if (r.result == run_result::ok) forced_ok.fetch_add(1);
        }
    };
    std::thread a(hammer, std::ref(*other));   // through the tick-request queue
    std::thread b(hammer, std::ref(*server));  // on the vigy's strand
    std::this_thread::sleep_for(3000ms);
    go = false;
    a.join();
    b.join();
    server->stop();
    const auto ok = ok_runs(*server, "hammer");
    CHECK(forced_ok.load() > 10);
    CHECK(ok > static_cast<size_t>(forced_ok.load()));  // scheduled ticks happened too
    CHECK(kv_count(*server, "hammer") == static_cast<int64_t>(ok));
}

TEST_CASE("tick_now with no scheduler serialises concurrent ticks from several runtimes", "[runtime]") {
    temp_db db;
    auto a = open_rt(db.path);
    auto b = open_rt(db.path);
    a->register_or_update(fx_spec("cli", 1000));
    std::atomic<int> n{0};
    auto hammer = [&](runtime& rt) {
        for (int i = 0; i < 15; ++i)
            if (rt.tick_now("cli").result == run_result::ok) n.fetch_add(1);
    };
    std::thread t1(hammer, std::ref(*a)), t2(hammer, std::ref(*b));
    t1.join();
    t2.join();
    CHECK(n.load() == 30);
    CHECK(kv_count(*a, "cli") == 30);
}

TEST_CASE("a second scheduler on the same database is refused naming the holder", "[runtime]") {
    temp_db db;
    auto first = open_rt(db.path);
    first->start();
    auto second = open_rt(db.path);
    try {
        second->start();
        FAIL("second start() should have thrown");
    } catch (const runtime_error& e) {
        CHECK(e.code() == errc::failed_precondition);
        CHECK(std::string(e.what()).find("pid " + std::to_string(::getpid())) != std::string::npos);
    }
    auto holder = second->scheduler();
    REQUIRE(holder);
    CHECK(holder->pid == ::getpid());
    CHECK_FALSE(holder->this_process);
    CHECK(first->scheduler()->this_process);
    first->stop();
    CHECK_FALSE(second->scheduler());  // released on stop
    second->start();                   // now it can
    CHECK(second->serving());
    second->stop();
}

TEST_CASE("stop finishes in-flight ticks and flushes every run", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    collector c(*rt);
    for (int i = 0; i < 50; ++i) {
        std::string name = "v";  // not "v" + to_string(i): GCC 12 -Wrestrict false positive at -O3
        name += std::to_string(i);
        rt->register_or_update(fx_spec(name, 100));
    }
    rt->register_or_update(fx_spec("slowpoke", 100, R"({"sleep_ms": 400})"));
    rt->start();
    std::this_thread::sleep_for(1000ms);
    rt->stop();  // the slow tick in flight finishes and is persisted
    const auto st = rt->stats();
    std::this_thread::sleep_for(100ms);  // bus deliveries are asynchronous
    size_t stored = 0;
    for (const auto& v : rt->list()) {
        const auto runs = rt->recent_runs(v.name, 100000);
        stored += runs.size();
        CHECK(kv_count(*rt, v.name) == static_cast<int64_t>(ok_runs(*rt, v.name)));
    }
    CHECK(stored == st.runs_committed);
    {
        std::lock_guard lk(c.m);
        CHECK(c.runs.size() == stored);
    }
    CHECK(c.of("slowpoke").size() >= 2);
    CHECK(st.ticks_ok >= 50 * 9);
    CHECK_FALSE(rt->serving());
    CHECK_FALSE(rt->scheduler());
}

TEST_CASE("tick_count continues after the serving process is killed with SIGKILL", "[runtime][slow]") {
    temp_db db;
    {
        auto rt = open_rt(db.path);
        rt->register_or_update(fx_spec("survivor", 100));
    }
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        try {
            auto rt = open_rt(db.path);
            rt->start();
            std::this_thread::sleep_for(60s);
        } catch (...) {
        }
        std::_Exit(0);
    }
    std::this_thread::sleep_for(1500ms);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);

    auto rt = open_rt(db.path);
    const int64_t before = kv_count(*rt, "survivor");
    CHECK(before >= 5);
    CHECK(before == static_cast<int64_t>(ok_runs(*rt, "survivor")));  // no run without its kv, or vice versa
    collector c(*rt);
    const auto t0 = std::chrono::steady_clock::now();
    rt->start();  // same host, holder pid gone: takes the lease at once (no wait for expiry)
    const auto took = std::chrono::steady_clock::now() - t0;
    INFO("start after SIGKILL took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    CHECK(took < 1s);  // the dead holder's lease had ~3.5 s left
    REQUIRE(c.wait_for("survivor", 1, 8s));
    rt->stop();
    CHECK(c.of("survivor").front().tick_count == before + 1);
    CHECK(kv_count(*rt, "survivor") == static_cast<int64_t>(ok_runs(*rt, "survivor")));
}

TEST_CASE("a dead holder's lease on another host is not taken before it expires", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) std::_Exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);  // `child` is now a pid that is certainly not running here
    {
        vigy::store::open_options o;
        o.path = db.path.string();
        o.start_writer = false;
        vigy::store::store st(o);
        REQUIRE(st.acquire_lease("serve:elsewhere:1", child, "another-host.invalid", 60'000));
    }
    try {
        rt->start();
        FAIL("start() should have thrown");
    } catch (const runtime_error& e) {
        CHECK(e.code() == errc::failed_precondition);
        CHECK(std::string(e.what()).find("another-host.invalid") != std::string::npos);
    }
    CHECK_FALSE(rt->serving());
}

TEST_CASE("user errors are reported with their kind and a clear message", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    auto code_of = [](auto&& f) -> std::pair<errc, std::string> {
        try {
            f();
        } catch (const runtime_error& e) {
            return {e.code(), e.what()};
        }
        return {errc::internal, "no error"};
    };
    auto [c1, m1] = code_of([&] { rt->register_or_update(fx_spec("x", 50)); });
    CHECK(c1 == errc::invalid_argument);
    CHECK(m1 == "invalid tick interval 50 ms: must be >= 100");

    auto bad_kind = fx_spec("x", 100);
    bad_kind.kind = "nope";
    auto [c2, m2] = code_of([&] { rt->register_or_update(bad_kind); });
    CHECK(c2 == errc::invalid_argument);
    CHECK(m2 == "unknown reconciler kind \"nope\" (known: fx)");

    auto [c3, m3] = code_of([&] { rt->register_or_update(fx_spec("x", 100, "{oops")); });
    CHECK(c3 == errc::invalid_argument);
    CHECK(m3.rfind("config is not valid json", 0) == 0);

    auto [c3b, m3b] = code_of([&] { rt->register_or_update(fx_spec("x", 100, "[1]")); });
    CHECK(c3b == errc::invalid_argument);
    CHECK(m3b == "config must be a JSON object");

    auto [c4, m4] = code_of([&] { rt->register_or_update(fx_spec("", 100)); });
    CHECK(c4 == errc::invalid_argument);

    auto [c5, m5] = code_of([&] { rt->get("ghost"); });
    CHECK(c5 == errc::not_found);
    CHECK(m5.find("ghost") != std::string::npos);
    CHECK(code_of([&] { rt->tick_now("ghost"); }).first == errc::not_found);
    CHECK(code_of([&] { rt->enable("ghost"); }).first == errc::not_found);
    CHECK(code_of([&] { rt->disable("ghost"); }).first == errc::not_found);
    CHECK(code_of([&] { rt->kv("ghost"); }).first == errc::not_found);
    CHECK(code_of([&] { rt->recent_runs("ghost"); }).first == errc::not_found);
    CHECK_FALSE(rt->remove("ghost"));
    CHECK_FALSE(rt->find("ghost"));
    CHECK(code_of([&] { rt->list("novalue"); }).first == errc::invalid_argument);

    auto labels = fx_spec("x", 100);
    labels.labels["bad key!"] = "v";
    CHECK(code_of([&] { rt->register_or_update(labels); }).first == errc::invalid_argument);

    CHECK(code_of([&] { runtime::open(""); }).first == errc::invalid_argument);
    CHECK(code_of([&] { runtime::open(db.dir / "not-a-dir" / "x.db" / "y.db"); }).first != errc::not_found);
}

TEST_CASE("register and list by selector and enable/disable and delete keep their promises", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    auto s = fx_spec("a", 250);
    s.labels = {{"team", "infra"}, {"tier", "1"}};
    auto a = rt->register_or_update(s);
    CHECK(a.outcome == register_outcome::created);
    CHECK(a.previous_revision.empty());
    CHECK(a.enabled);
    CHECK(a.interval_ms == 250);
    CHECK(a.id.size() == 16);
    rt->register_or_update(fx_spec("b", 100));
    CHECK(rt->list().size() == 2);
    auto sel = rt->list("team=infra");
    REQUIRE(sel.size() == 1);
    CHECK(sel[0].name == "a");
    const auto again = rt->register_or_update(s);
    CHECK(again.outcome == register_outcome::unchanged);
    CHECK(again.previous_revision == a.revision);
    CHECK(std::string(vigy::host::register_outcome_name(again.outcome)) == "unchanged");
    CHECK_FALSE(rt->disable("a").enabled);
    // re-register without saying enabled keeps it disabled; the id survives an edit
    auto edited = rt->register_or_update(fx_spec("a", 300, R"({"sleep_ms": 0})"));
    CHECK_FALSE(edited.enabled);
    CHECK(edited.id == a.id);
    CHECK(edited.revision != a.revision);
    CHECK(edited.outcome == register_outcome::updated);
    CHECK(edited.previous_revision == a.revision);
    CHECK(rt->get(a.id).name == "a");  // by id too
    CHECK(rt->enable("a").enabled);
    rt->tick_now("a");
    CHECK(rt->recent_runs("a").size() == 1);
    CHECK(rt->conditions("a").at(0).status == "True");
    CHECK(rt->remove("a", /*keep_history=*/false));
    CHECK_FALSE(rt->find("a"));
    CHECK(rt->list().size() == 1);
}

TEST_CASE("evaluate runs a spec once without persisting anything", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    run r = rt->evaluate(fx_spec("scratch", 1000));
    CHECK(r.result == run_result::ok);
    CHECK(r.seq == 0);
    CHECK(r.output == "1");
    CHECK(r.kv_writes_json.find("\"count\":1") != std::string::npos);
    CHECK(rt->list().empty());
    CHECK(rt->last_seq() == 0);
    run bad = rt->evaluate(fx_spec("scratch", 1000, R"({"build_error": "parse error at 1:2: x"})"));
    CHECK(bad.result == run_result::failed);
    CHECK(bad.error == "parse error at 1:2: x");
}

TEST_CASE("tail's cursor sees runs of every process in commit order", "[runtime]") {
    temp_db db;
    auto a = open_rt(db.path);
    auto b = open_rt(db.path);
    a->register_or_update(fx_spec("t1", 1000));
    a->register_or_update(fx_spec("t2", 1000));
    const int64_t cursor = b->last_seq();
    a->tick_now("t1");
    b->tick_now("t2");
    a->tick_now("t1");
    auto seen = b->runs_after(cursor);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].vigy_name == "t1");
    CHECK(seen[1].vigy_name == "t2");
    CHECK(seen[2].vigy_name == "t1");
    CHECK(seen[0].seq < seen[1].seq);
    CHECK(seen[1].seq < seen[2].seq);
    CHECK(b->runs_after(cursor, 10, std::string_view("t2")).size() == 1);
    CHECK(b->runs_since(seen[0].started_ms).size() == 3);
    auto one = b->find_run(seen[1].id);
    REQUIRE(one);
    CHECK(one->vigy_name == "t2");
}

TEST_CASE("a subscription stops delivering once reset", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    rt->register_or_update(fx_spec("s", 1000));
    std::atomic<int> got{0};
    auto sub = rt->subscribe([&](const run&) { got.fetch_add(1); });
    rt->tick_now("s");
    for (int i = 0; i < 100 && got.load() == 0; ++i) std::this_thread::sleep_for(10ms);
    CHECK(got.load() == 1);
    sub.reset();
    rt->tick_now("s");
    std::this_thread::sleep_for(100ms);
    CHECK(got.load() == 1);
}

TEST_CASE("a subscription may outlive its runtime", "[runtime]") {
    temp_db db;
    vigy::host::subscription sub;
    {
        auto rt = open_rt(db.path);
        sub = rt->subscribe([](const run&) {});
        CHECK(static_cast<bool>(sub));
    }
    sub.reset();  // the runtime is gone: nothing to do, nothing to crash
    CHECK_FALSE(static_cast<bool>(sub));
}

TEST_CASE("an edit while a tick runs is picked up right after it without extra ticks", "[runtime]") {
    temp_db db;
    auto rt = open_rt(db.path);
    collector c(*rt);
    rt->start();
    rt->register_or_update(fx_spec("edited", 1000, R"({"sleep_ms": 300})"));
    std::this_thread::sleep_for(100ms);  // the first tick started at once and runs 300 ms
    auto v2 = rt->register_or_update(fx_spec("edited", 1000, R"({"sleep_ms": 10})"));
    REQUIRE(c.wait_for("edited", 2, 2s));
    std::this_thread::sleep_for(500ms);
    rt->stop();
    auto runs = c.of("edited");
    REQUIRE(runs.size() == 2);  // the first, then the edit's immediate tick; the next is 1 s later
    CHECK(runs[1].revision == v2.revision);
    CHECK(runs[1].started_ms - runs[0].ended_ms < 150);
}
