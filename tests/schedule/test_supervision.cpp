// tests/schedule/test_supervision.cpp — lifecycle states and the
// restart-intensity rule (N failures within a window -> Degraded).
#include "vigy/host/supervision.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace vigy::host;
using vigy::test::error_of;

TEST_CASE("lifecycle states round-trip through their names", "[schedule][supervision]") {
    for (const auto s :
         {lifecycle_state::enabled, lifecycle_state::disabled, lifecycle_state::degraded, lifecycle_state::completed}) {
        CHECK(lifecycle_state_from_string(to_string(s)) == s);
    }
    CHECK(std::string(to_string(lifecycle_state::degraded)) == "Degraded");
    CHECK(lifecycle_state_from_string("completed") == lifecycle_state::completed);
    CHECK_FALSE(parse_lifecycle_state("Running"));
    CHECK(error_of([] { lifecycle_state_from_string("Running"); }) ==
          "invalid-argument: unknown lifecycle state \"Running\" (known: Enabled, Disabled, Degraded, Completed)");
    CHECK(is_scheduled(lifecycle_state::enabled));
    CHECK_FALSE(is_scheduled(lifecycle_state::degraded));
    CHECK_FALSE(is_scheduled(lifecycle_state::completed));
}

TEST_CASE("lifecycle transitions follow the table", "[schedule][supervision]") {
    using st = lifecycle_state;
    using ev = lifecycle_event;
    CHECK(transition(st::enabled, ev::degrade) == st::degraded);
    CHECK(transition(st::degraded, ev::enable) == st::enabled);
    CHECK(transition(st::degraded, ev::reset) == st::enabled);
    CHECK(transition(st::degraded, ev::cool_down_elapsed) == st::enabled);
    CHECK(transition(st::degraded, ev::disable) == st::disabled);
    CHECK(transition(st::enabled, ev::complete) == st::completed);
    CHECK(transition(st::completed, ev::enable) == st::completed);  // a one-shot does not re-run on enable
    CHECK(transition(st::completed, ev::reregister) == st::enabled);
    CHECK(transition(st::disabled, ev::reregister) == st::disabled);
    CHECK(transition(st::disabled, ev::enable) == st::enabled);
    CHECK(transition(st::disabled, ev::reset) == st::disabled);
    // events that do not apply
    CHECK_FALSE(transition(st::disabled, ev::degrade));
    CHECK_FALSE(transition(st::disabled, ev::complete));
    CHECK_FALSE(transition(st::enabled, ev::cool_down_elapsed));
    CHECK_FALSE(transition(st::completed, ev::degrade));
    CHECK(std::string(to_string(ev::cool_down_elapsed)) == "cool-down-elapsed");
}

TEST_CASE("supervision trips after N failures within the window", "[schedule][supervision]") {
    failure_window w(supervision_spec{3, 60'000, 0});
    CHECK_FALSE(w.record(0, false, "boom 1"));
    CHECK_FALSE(w.record(1'000, true));  // a success in between does not clear the window
    CHECK_FALSE(w.record(2'000, false, "boom 2"));
    CHECK(w.record(30'000, false, "boom 3"));  // third failure within 60 s: Degraded
    CHECK(w.tripped_at() == 30'000);
    CHECK(w.last_error() == "boom 3");
    CHECK_FALSE(w.record(31'000, false, "boom 4"));  // trips once
    CHECK(w.last_error() == "boom 4");
    CHECK_FALSE(w.cool_down_until());  // no cool-down: stays until enable/reset
    w.clear();
    CHECK(w.failures() == 0);
    CHECK_FALSE(w.tripped_at());
}

TEST_CASE("supervision forgets failures older than the window", "[schedule][supervision]") {
    failure_window w(supervision_spec{3, 60'000, 0});
    CHECK_FALSE(w.record(0, false, "a"));
    CHECK_FALSE(w.record(50'000, false, "b"));
    CHECK_FALSE(w.record(60'000, false, "c"));  // the first is 60 s old: out (the window is [t-60s, t))
    CHECK(w.failures() == 2);
    CHECK(w.record(70'000, false, "d"));  // b, c, d within 20 s
    // a vigy that fails now and then never trips
    failure_window slow(supervision_spec{});
    for (int i = 0; i < 100; ++i) CHECK_FALSE(slow.record(int64_t{i} * 20'000, false, "sometimes"));
}

TEST_CASE("supervision cool-down ends the degraded state after its time", "[schedule][supervision]") {
    failure_window w(supervision_spec{2, 10'000, 300'000});
    CHECK_FALSE(w.record(0, false, "x"));
    CHECK(w.record(1'000, false, "y"));
    CHECK(w.cool_down_until() == 301'000);
    CHECK_FALSE(w.cool_down_elapsed(300'999));
    CHECK(w.cool_down_elapsed(301'000));
}

TEST_CASE("supervision with max failures 0 never degrades and bad specs are refused", "[schedule][supervision]") {
    failure_window never(supervision_spec{0, 1'000, 0});
    for (int i = 0; i < 50; ++i) CHECK_FALSE(never.record(i, false, "x"));
    CHECK(error_of([] {
              supervision_spec{-1, 1000, 0}.validate();
          }) == "invalid-argument: --max-failures -1 must be >= 0 (0 = never degrade)");
    CHECK(error_of([] { supervision_spec{3, 0, 0}.validate(); }) == "invalid-argument: --within 0ms must be > 0");
    CHECK(error_of([] {
              supervision_spec{3, 1000, -5}.validate();
          }) == "invalid-argument: --cool-down -5ms must be >= 0 (0 = none)");
    CHECK(supervision_spec{}.max_failures == 5);
    CHECK(supervision_spec{}.within_ms == 60'000);
}
