// tests/runtime/test_runtime_scheduler.cpp — host/src/runtime_scheduler.cpp: the
// schedule policy as pure functions, and the schedule as a serving runtime keeps it,
// driven by a manual clock (exact times, no sleeping): first tick at once, fixed rate
// without drift, overruns skip slots and never pile up, backoff 1 s / 2 s / 4 s and its
// reset, per-run lateness, edits landing mid-tick, first ticks spread at start.
#include "support.hpp"

#include "../../host/src/runtime_scheduler.hpp"

#include <catch2/catch.hpp>

using namespace rt_test;
using vigy::host::manual_clock;
namespace detail = vigy::host::detail;

TEST_CASE("the schedule policy keeps a fixed grid skips missed slots and backs off exponentially",
          "[runtime][scheduler]") {
    const detail::time_point t0{std::chrono::seconds(100)};
    const auto iv = 100ms;
    auto f = detail::next_after_success(t0, t0 + 30ms, iv);
    CHECK(f.at == t0 + 100ms);
    CHECK(f.skipped == 0);
    f = detail::next_after_success(t0, t0 + 120ms, iv);  // late, but within a quarter interval of the next slot
    CHECK(f.at == t0 + 100ms);
    CHECK(f.skipped == 0);
    f = detail::next_after_success(t0, t0 + 250ms, iv);  // overran: 100 and 200 are gone
    CHECK(f.at == t0 + 300ms);
    CHECK(f.skipped == 2);
    CHECK(detail::backoff_after(1) == 1000ms);
    CHECK(detail::backoff_after(2) == 2000ms);
    CHECK(detail::backoff_after(3) == 4000ms);
    CHECK(detail::backoff_after(5) == 16000ms);
    CHECK(detail::backoff_after(6) == 30000ms);
    CHECK(detail::backoff_after(60) == 30000ms);
    CHECK(detail::backoff_after(0) == 1000ms);
}

TEST_CASE("first tick comes right away then fixed rate without drift", "[runtime][scheduler]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_rt(db.path, fixture_options(clock));
    collector c(*rt);
    rt->start();
    const int64_t t0 = clock->wall_ms();
    rt->register_or_update(fx_spec("rate", 100));
    REQUIRE(c.wait_for("rate", 1));
    for (int i = 1; i <= 20; ++i) {
        clock->advance(100ms);
        REQUIRE(c.wait_for("rate", static_cast<size_t>(i) + 1));
    }
    CHECK(rt->stats().scheduled == 1);
    CHECK(rt->scheduled() == std::vector<std::string>{"rate"});
    rt->stop();
    CHECK(rt->stats().scheduled == 0);
    const auto runs = c.of("rate");
    REQUIRE(runs.size() == 21);
    for (size_t i = 0; i < runs.size(); ++i) {
        CHECK(runs[i].started_ms == t0 + 100 * static_cast<int64_t>(i));  // on the grid, exactly
        CHECK(runs[i].result == run_result::ok);
        CHECK(runs[i].trigger == run_trigger::schedule);
        CHECK(runs[i].tick_count == static_cast<int64_t>(i) + 1);
        CHECK(runs[i].lateness_us == 0);
        CHECK(runs[i].seq > 0);
    }
    CHECK(kv_count(*rt, "rate") == 21);
    CHECK(ok_runs(*rt, "rate") == 21);
}

TEST_CASE("a tick slower than its interval skips the missed slots and never overlaps the next",
          "[runtime][scheduler]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_rt(db.path, fixture_options(clock));
    collector c(*rt);
    rt->start();
    const int64_t t0 = clock->wall_ms();
    rt->register_or_update(fx_spec("slow", 100, R"({"sleep_ms": 250})"));  // each tick takes 250 ms of the clock
    REQUIRE(c.wait_for("slow", 1));
    for (int i = 1; i < 6; ++i) {
        clock->advance(50ms);  // to the next slot on the grid: 300, 600, ...
        REQUIRE(c.wait_for("slow", static_cast<size_t>(i) + 1));
    }
    rt->stop();
    const auto runs = c.of("slow");
    REQUIRE(runs.size() == 6);
    for (size_t i = 0; i < runs.size(); ++i) {
        CHECK(runs[i].started_ms == t0 + 300 * static_cast<int64_t>(i));
        CHECK(runs[i].ended_ms == runs[i].started_ms + 250);
        CHECK(runs[i].duration_us == 250'000);
        if (i > 0) CHECK(runs[i].started_ms >= runs[i - 1].ended_ms);  // never two at once
    }
    // the two slots during each tick (the last one's counted when it settles before stop)
    CHECK(rt->stats().skipped_slots >= 2 * 5);
    CHECK(rt->stats().skipped_slots <= 2 * 6);
}

TEST_CASE("failed ticks back off 1 s then 2 s then 4 s and the backoff resets on success", "[runtime][scheduler]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_rt(db.path, fixture_options(clock));
    collector c(*rt);
    rt->start();
    rt->register_or_update(fx_spec("flaky", 100, R"({"fail_first": 3})"));
    REQUIRE(c.wait_for("flaky", 1));
    const int64_t steps[] = {1000, 2000, 4000, 100, 100};
    for (int i = 0; i < 5; ++i) {
        clock->advance(std::chrono::milliseconds(steps[i] - 1));
        CHECK(c.count("flaky") == static_cast<size_t>(i) + 1);  // not a millisecond early...
        clock->advance(1ms);
        REQUIRE(c.wait_for("flaky", static_cast<size_t>(i) + 2));  // ...and right on time
    }
    rt->stop();
    const auto runs = c.of("flaky");
    REQUIRE(runs.size() == 6);
    CHECK(runs[0].result == run_result::failed);
    CHECK(runs[0].error == "fixture failure 1");
    CHECK(runs[0].status == VIGY_FAILED_PRECONDITION);
    CHECK(runs[1].result == run_result::failed);
    CHECK(runs[2].result == run_result::failed);
    CHECK(runs[3].result == run_result::ok);
    CHECK(runs[4].result == run_result::ok);
    for (int i = 1; i < 6; ++i)
        CHECK(runs[static_cast<size_t>(i)].started_ms - runs[static_cast<size_t>(i) - 1].ended_ms == steps[i - 1]);
    CHECK(runs[3].tick_count == 1);  // failed ticks do not advance tick_count
    CHECK(runs[0].kv_writes_json == "{}");
    CHECK(kv_count(*rt, "flaky") == 3);
}

TEST_CASE("a tick that starts late records how late", "[runtime][scheduler]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_rt(db.path, fixture_options(clock));
    collector c(*rt);
    rt->start();
    rt->register_or_update(fx_spec("late", 100));
    REQUIRE(c.wait_for("late", 1));
    clock->advance(140ms);  // due at 100, the scheduler sees it at 140
    REQUIRE(c.wait_for("late", 2));
    rt->stop();
    const auto runs = c.of("late");
    CHECK(runs[0].lateness_us == 0);
    CHECK(runs[1].lateness_us == 40'000);
    CHECK(rt->recent_runs("late", 1).at(0).lateness_us == 40'000);  // stored with the run
    CHECK(rt->stats().lateness_max_ms == Approx(40.0));
}

TEST_CASE("an edit while a tick runs is picked up right after it without extra ticks", "[runtime][scheduler]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    auto rt = open_rt(db.path, fixture_options(clock));
    collector c(*rt);
    rt->start();
    fx::gate().close();
    rt->register_or_update(fx_spec("edited", 1000, R"({"gate": true})"));
    rt->register_or_update(fx_spec("control", 100));
    fx::gate().wait_waiting(1);  // the first tick of "edited" is in flight
    auto v2 = rt->register_or_update(fx_spec("edited", 1000, R"({"gate": true, "print": "v2"})"));
    fx::gate().open();
    REQUIRE(c.wait_for("edited", 2));
    // the next tick of "edited" is 1 s after the edit's tick: none in the next 900 ms
    REQUIRE(c.wait_for("control", 1));
    for (int i = 1; i <= 9; ++i) {
        clock->advance(100ms);
        REQUIRE(c.wait_for("control", static_cast<size_t>(i) + 1));
    }
    CHECK(c.count("edited") == 2);
    clock->advance(100ms);
    REQUIRE(c.wait_for("edited", 3));
    rt->stop();
    const auto runs = c.of("edited");
    CHECK(runs[1].revision == v2.revision);
    CHECK(runs[1].started_ms == runs[0].ended_ms);  // right after it
    CHECK(runs[2].started_ms == runs[1].started_ms + 1000);
}

TEST_CASE("the first ticks of a database's vigies are spread over one interval at start", "[runtime][scheduler]") {
    temp_db db;
    auto clock = std::make_shared<manual_clock>();
    {
        auto setup = open_rt(db.path, fixture_options(clock));
        for (int i = 0; i < 10; ++i) setup->register_or_update(fx_spec("s" + std::to_string(i), 100));
    }
    auto rt = open_rt(db.path, fixture_options(clock));
    collector c(*rt);
    const int64_t t0 = clock->wall_ms();
    rt->start();
    for (int i = 0; i < 10; ++i) {
        REQUIRE(c.wait_for("s" + std::to_string(i), 1));
        clock->advance(10ms);
    }
    rt->stop();
    std::vector<int64_t> starts;
    for (int i = 0; i < 10; ++i) starts.push_back(c.of("s" + std::to_string(i)).at(0).started_ms - t0);
    CHECK(starts == std::vector<int64_t>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90});
}
