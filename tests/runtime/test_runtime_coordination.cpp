// tests/runtime/test_runtime_coordination.cpp — host/src/runtime_coordination.cpp: several
// runtimes (standing in for processes) on one database: other processes' changes picked
// up within a second, forced ticks never racing the scheduler, one scheduler at a time,
// the lease's fencing token rejecting a paused scheduler's commits, tick_now's UNAVAILABLE
// and DEADLINE_EXCEEDED, kill -9 of a serving process.
#include "support.hpp"

#include "vigy/store/store.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include <signal.h>
#include <sys/wait.h>

using namespace rt_test;
using vigy::host::manual_clock;

namespace {

vigy::store::open_options raw_options(const fs::path& db) {
    vigy::store::open_options o;
    o.path = db.string();
    o.start_writer = false;
    return o;
}

std::string this_host() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

vigy::store::lease_clock boot_now() {
    vigy::store::lease_clock c;
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::getline(in, c.boot_id);
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    c.boot_ms = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
    c.wall_ms = vigy::store::now_unix_ms();
    return c;
}

}  // namespace

TEST_CASE("changes made by another process are picked up within a second", "[runtime][coordination]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto server = open_rt(db.path, fixture_options(clock));
    collector c(*server);
    server->start();
    auto other = open_rt(db.path);  // stands in for the CLI in another process

    auto t0 = std::chrono::steady_clock::now();
    other->register_or_update(fx_spec("remote", 100));
    other->register_or_update(fx_spec("control", 100));
    REQUIRE(c.wait_for("remote", 1, 1s));
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);

    // an edit (new revision) is picked up: the next run shows the new revision
    const auto v2 = other->register_or_update(fx_spec("remote", 100, R"({"print": "v2"})"));
    REQUIRE(server->wait_synced(v2.resource_version, 1s));
    REQUIRE(c.wait_for("remote", 2));  // the edit ticks at once
    CHECK(c.of("remote").back().revision == v2.revision);

    const auto off = other->disable("remote");
    REQUIRE(server->wait_synced(off.resource_version, 1s));
    CHECK(server->scheduled() == std::vector<std::string>{"control"});
    const size_t after_disable = c.count("remote");
    const size_t control = c.count("control");
    for (int i = 1; i <= 3; ++i) {  // the control vigy ticks; the disabled one does not
        clock->advance(100ms);
        REQUIRE(c.wait_for("control", control + static_cast<size_t>(i)));
    }
    CHECK(c.count("remote") == after_disable);

    const auto on = other->enable("remote");
    REQUIRE(server->wait_synced(on.resource_version, 1s));
    REQUIRE(c.wait_for("remote", after_disable + 1));

    other->remove("remote");
    REQUIRE(server->wait_synced(other->resource_version(), 1s));
    const size_t after_delete = c.count("remote");
    const size_t control2 = c.count("control");
    clock->advance(100ms);
    REQUIRE(c.wait_for("control", control2 + 1));
    CHECK(c.count("remote") == after_delete);
    CHECK_FALSE(other->find("remote"));
    server->stop();
    CHECK_FALSE(server->wait_synced(0, 10ms));  // not serving
}

TEST_CASE("forced ticks from this and another process never lose a counter update", "[runtime][coordination]") {
    temp_db db;
    auto server = open_rt(db.path);
    server->register_or_update(fx_spec("hammer", 100));
    server->start();
    auto other = open_rt(db.path);
    std::atomic<int> forced_ok{0};
    auto hammer = [&](runtime& rt) {
        for (int i = 0; i < 25; ++i) {
            run r = rt.tick_now("hammer");
            if (r.result == run_result::ok) forced_ok.fetch_add(1);
        }
    };
    std::thread a(hammer, std::ref(*other));   // through the tick-request queue
    std::thread b(hammer, std::ref(*server));  // on the vigy's slot
    a.join();
    b.join();
    server->stop();
    const auto ok = ok_runs(*server, "hammer");
    CHECK(forced_ok.load() == 50);
    CHECK(ok >= 50);
    CHECK(kv_count(*server, "hammer") == static_cast<int64_t>(ok));
    std::vector<int64_t> counts;
    for (const auto& r : server->runs_after(0, 100000, std::string_view("hammer")))
        if (r.result == run_result::ok) counts.push_back(r.tick_count);
    for (size_t i = 0; i < counts.size(); ++i) CHECK(counts[i] == static_cast<int64_t>(i) + 1);  // gap-free
}

TEST_CASE("tick_now with no scheduler serialises concurrent ticks from several runtimes", "[runtime][coordination]") {
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

TEST_CASE("a second scheduler on the same database is refused naming the holder", "[runtime][coordination]") {
    temp_db db;
    auto first = open_rt(db.path);
    first->start();
    auto second = open_rt(db.path);
    const auto [code, msg] = code_of([&] { second->start(); });
    CHECK(code == VIGY_FAILED_PRECONDITION);
    CHECK(msg.find("pid " + std::to_string(::getpid())) != std::string::npos);
    auto holder = second->scheduler();
    REQUIRE(holder);
    CHECK(holder->pid == ::getpid());
    CHECK(holder->token > 0);
    CHECK_FALSE(holder->this_process);
    CHECK(first->scheduler()->this_process);
    CHECK(first->stats().lease_held);
    first->stop();
    CHECK_FALSE(second->scheduler());  // released on stop
    second->start();
    CHECK(second->serving());
    CHECK(second->scheduler()->token > holder->token);  // a new holder, a new token
    second->stop();
}

TEST_CASE("stop finishes in-flight ticks and flushes every run", "[runtime][coordination]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_rt(db.path, fixture_options(clock));
    collector c(*rt);
    for (int i = 0; i < 50; ++i) {
        std::string name = "v";
        name += std::to_string(i);
        rt->register_or_update(fx_spec(name, 100));
    }
    fx::gate().close();
    rt->register_or_update(fx_spec("slowpoke", 100, R"({"gate": true})"));
    rt->start();
    fx::gate().wait_waiting(1);  // the slow tick is in flight
    std::thread stopper([&] { rt->stop(); });
    fx::gate().open();
    stopper.join();
    const auto st = rt->stats();
    size_t stored = 0;
    for (const auto& v : rt->list()) {
        stored += rt->recent_runs(v.name, 100000).size();
        CHECK(kv_count(*rt, v.name) == static_cast<int64_t>(ok_runs(*rt, v.name)));
    }
    CHECK(stored == st.runs_committed);
    CHECK(c.count("slowpoke") == 1);  // the in-flight tick was persisted
    REQUIRE(eventually([&] {
        std::lock_guard lk(c.m);
        return c.runs.size() == stored;  // every committed run was published
    }));
    CHECK_FALSE(rt->serving());
    CHECK_FALSE(rt->scheduler());
}

TEST_CASE("a scheduler whose lease was taken over cannot commit and stops ticking",
          "[runtime][coordination][fencing]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto o = fixture_options(clock);
    o.lease_ttl_ms = 2000;
    o.lease_renew_ms = 100;
    auto rt = open_rt(db.path, o);
    collector c(*rt);
    fx::gate().close();
    rt->register_or_update(fx_spec("fenced", 100, R"({"gate": true})"));
    rt->start();
    fx::gate().wait_waiting(1);  // a tick is in flight under token t1
    const int64_t t1 = rt->stats().lease_token;
    REQUIRE(t1 > 0);
    {
        // another scheduler takes the lease over (as if this one had been paused past it)
        vigy::store::store other(raw_options(db.path));
        const auto row = other.lease_row();
        REQUIRE(row);
        const auto t2 = other.take_over_lease(row->owner, {"serve:other:1:x", 1, "other.invalid", boot_now(), 60'000});
        REQUIRE(t2);
        CHECK(*t2 > t1);
    }
    fx::gate().open();
    REQUIRE(eventually([&] { return rt->stats().stale_commits >= 1; }));
    CHECK(rt->stats().runs_committed == 0);  // nothing applied
    CHECK(rt->recent_runs("fenced").empty());
    CHECK(kv_count(*rt, "fenced") == 0);
    REQUIRE(eventually([&] { return !rt->stats().lease_held; }));  // it noticed
    // no further tick starts: time passes, nothing is committed or even run
    const auto paused = rt->stats().ticks_paused;
    for (int i = 0; i < 3; ++i) clock->advance(1000ms);
    REQUIRE(eventually([&] { return rt->stats().ticks_paused > paused; }));
    CHECK(rt->stats().runs_committed == 0);
    // a forced tick here is refused as unavailable; it would not race the holder
    auto [code, msg] = code_of([&] { rt->tick_now("fenced", 200); });
    CHECK(code == VIGY_UNAVAILABLE);
    rt->stop();
}

TEST_CASE("tick_now is unavailable when the serving process does not take the tick in time",
          "[runtime][coordination]") {
    temp_db db;
    auto rt = open_rt(db.path);
    rt->register_or_update(fx_spec("waiting", 1000));
    vigy::store::store held(raw_options(db.path));
    // a live scheduler (this very pid, so it is not "dead") that never answers
    REQUIRE(held.acquire_lease({"serve:" + this_host() + ":1:never", ::getpid(), this_host(), boot_now(), 60'000}));
    const auto t0 = std::chrono::steady_clock::now();
    auto [code, msg] = code_of([&] { rt->tick_now("waiting", 300); });
    CHECK(code == VIGY_UNAVAILABLE);
    INFO(msg);
    CHECK(msg.find("did not take the tick of waiting within 300 ms") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
    CHECK(rt->recent_runs("waiting").empty());
}

TEST_CASE("tick_now is deadline exceeded when the tick taken does not finish in time", "[runtime][coordination]") {
    temp_db db;
    auto rt = open_rt(db.path);
    auto spec = fx_spec("stuck", 1000);
    spec.limits.wall_ms = 200;
    rt->register_or_update(spec);
    vigy::store::store held(raw_options(db.path));
    const auto token =
        held.acquire_lease({"serve:" + this_host() + ":1:stuck", ::getpid(), this_host(), boot_now(), 60'000});
    REQUIRE(token);
    std::atomic<bool> done{false};
    std::thread claimer([&] {  // the "scheduler" takes the request and never finishes it
        eventually([&] { return done.load() || !held.claim_tick_requests(*token).empty(); });
    });
    auto [code, msg] = code_of([&] { rt->tick_now("stuck", 5000); });
    done = true;
    claimer.join();
    CHECK(code == VIGY_DEADLINE_EXCEEDED);
    CHECK(msg.find("did not finish within 1200 ms") != std::string::npos);
}

TEST_CASE("tick_count continues after the serving process is killed with SIGKILL", "[runtime][coordination]") {
    temp_db db;
    {
        auto rt = open_rt(db.path);
        rt->register_or_update(fx_spec("survivor", 100));
    }
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(ready[0]);
        try {
            auto rt = open_rt(db.path);
            rt->start();
            ::pause();  // until killed
        } catch (...) {
        }
        std::_Exit(0);
    }
    ::close(ready[1]);
    {
        vigy::store::store watch(raw_options(db.path));
        REQUIRE(eventually([&] { return watch.count_runs() >= 5; }));
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(ready[0]);

    auto rt = open_rt(db.path);
    const int64_t before = kv_count(*rt, "survivor");
    CHECK(before >= 5);
    CHECK(before == static_cast<int64_t>(ok_runs(*rt, "survivor")));  // no run without its kv, or vice versa
    collector c(*rt);
    const auto t0 = std::chrono::steady_clock::now();
    rt->start();  // same host, holder pid gone: takes the lease at once (no wait for expiry)
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    REQUIRE(c.wait_for("survivor", 1, 8s));
    rt->stop();
    CHECK(c.of("survivor").front().tick_count == before + 1);
    CHECK(kv_count(*rt, "survivor") == static_cast<int64_t>(ok_runs(*rt, "survivor")));
}

TEST_CASE("a dead holder's lease on another host is not taken before it expires", "[runtime][coordination]") {
    temp_db db;
    auto rt = open_rt(db.path);
    {
        vigy::store::store st(raw_options(db.path));
        vigy::store::lease_clock other_boot{"another-boot", 0, vigy::store::now_unix_ms()};
        REQUIRE(st.acquire_lease({"serve:elsewhere:1", 1, "another-host.invalid", other_boot, 60'000}));
    }
    auto [code, msg] = code_of([&] { rt->start(); });
    CHECK(code == VIGY_FAILED_PRECONDITION);
    CHECK(msg.find("another-host.invalid") != std::string::npos);
    CHECK_FALSE(rt->serving());
}

TEST_CASE("a scheduler with a wall clock 10 s ahead cannot take a live lease", "[runtime][coordination][fencing]") {
    temp_db db;
    auto first = open_rt(db.path);
    first->start();
    auto skewed_options = fixture_options();
    skewed_options.clock = vigy::host::clock::system(10'000);
    auto skewed = open_rt(db.path, skewed_options);
    auto [code, msg] = code_of([&] { skewed->start(); });
    CHECK(code == VIGY_FAILED_PRECONDITION);
    CHECK(first->stats().lease_held);
    first->stop();
}

TEST_CASE("a forced tick queued before the lease was lost does not run", "[runtime][coordination][fencing]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto o = fixture_options(clock);
    o.lease_ttl_ms = 5000;
    o.lease_renew_ms = 1000;  // the loss is noticed by the stale commit, not by a renewal
    auto rt = open_rt(db.path, o);
    fx::gate().close();
    rt->register_or_update(fx_spec("fenced", 100, R"({"gate": true})"));
    rt->start();
    fx::gate().wait_waiting(1);  // a scheduled tick is in flight under token t1
    // a forced tick queues behind it on the same slot
    auto forced = std::async(std::launch::async, [&] { return code_of([&] { rt->tick_now("fenced", 5000); }); });
    REQUIRE(rt_test::eventually([&] { return rt->stats().forced_waiting == 1; }));
    REQUIRE(forced.wait_for(0ms) != std::future_status::ready);
    {
        vigy::store::store other(raw_options(db.path));
        const auto row = other.lease_row();
        REQUIRE(row);
        REQUIRE(other.take_over_lease(row->owner, {"serve:other:1:x", 1, "other.invalid", boot_now(), 60'000}));
    }
    fx::gate().open();
    REQUIRE(forced.wait_for(10s) == std::future_status::ready);
    const auto [code, msg] = forced.get();
    INFO(msg);
    CHECK(code == VIGY_UNAVAILABLE);
    CHECK((msg.find("did not run") != std::string::npos || msg.find("lost the lease") != std::string::npos));
    CHECK(rt->stats().forced_waiting == 0);
    CHECK(rt->stats().stale_commits == 1);  // only the tick in flight reached the writer
    CHECK(rt->stats().ticks_forced == 0);
    CHECK(rt->recent_runs("fenced").empty());
    rt->stop();
}
