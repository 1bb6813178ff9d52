// tests/schedule/test_catch_up.cpp — at most one catch-up tick for slots
// missed while nothing was serving, and only within the window.
#include "vigy/host/schedule.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace vigy::host;
using vigy::test::utc;
using vigy::test::when;

namespace {

schedule_spec cron_spec(const char* expr, int64_t window_ms) {
    schedule_flags f;
    f.cron = expr;
    f.catch_up = std::to_string(window_ms) + "ms";
    return parse_schedule_flags(f, 0);
}

}  // namespace

TEST_CASE("catch-up runs the most recent missed cron slot once within the window", "[schedule][catch-up]") {
    // daily at 09:00; the last run was the 09:00 slot of Jun 1; serve was down until Jun 4 09:30.
    const auto s = cron_spec("0 9 * * *", 3'600'000);  // 1 h window
    const int64_t last = utc(2026, 6, 1, 9);
    // Three slots were missed (Jun 2, 3, 4): one catch-up, for the latest (Jun 4 09:00, 30 min ago).
    CHECK(when(catch_up_slot(s, last, utc(2026, 6, 4, 9, 30), 0)) == "2026-06-04T09:00:00.000Z");
    // At 10:00 exactly the slot is 1 h old: still inside (the window is inclusive).
    CHECK(when(catch_up_slot(s, last, utc(2026, 6, 4, 10), 0)) == "2026-06-04T09:00:00.000Z");
    // One ms later it is outside: no catch-up, the next tick is the next slot.
    CHECK_FALSE(catch_up_slot(s, last, utc(2026, 6, 4, 10) + 1, 0));
    // Nothing missed: the last run was the latest slot.
    CHECK_FALSE(catch_up_slot(s, utc(2026, 6, 4, 9), utc(2026, 6, 4, 9, 30), 0));
    // Before the first slot after `since` nothing is due.
    CHECK_FALSE(catch_up_slot(s, last, utc(2026, 6, 2, 8), 0));
}

TEST_CASE("catch-up is off by default and never for once or triggered vigies", "[schedule][catch-up]") {
    schedule_flags f;
    f.cron = "0 9 * * *";
    const auto s = parse_schedule_flags(f, 0);
    CHECK(s.catch_up_ms == 0);
    CHECK_FALSE(catch_up_slot(s, utc(2026, 6, 1, 9), utc(2026, 6, 4, 9, 30), 0));
    schedule_flags once;
    once.once = true;
    once.catch_up = "1h";
    CHECK(vigy::test::error_of([&] { parse_schedule_flags(once, 0); }) ==
          "invalid-argument: --catch-up needs --every or --cron (only timer slots can be missed)");
}

TEST_CASE("catch-up of a fixed rate finds the latest slot of its phase", "[schedule][catch-up]") {
    schedule_flags f;
    f.every = "10m";
    f.catch_up = "15m";
    const auto s = parse_schedule_flags(f, 0);
    const int64_t anchor = utc(2026, 6, 1, 0, 3);  // slots at :03, :13, :23, ...
    // last slot run 00:13; down until 01:00: latest missed slot 00:53, 7 min ago
    CHECK(when(catch_up_slot(s, utc(2026, 6, 1, 0, 13), utc(2026, 6, 1, 1), anchor)) == "2026-06-01T00:53:00.000Z");
    // down only until 00:20: no slot missed
    CHECK_FALSE(catch_up_slot(s, utc(2026, 6, 1, 0, 13), utc(2026, 6, 1, 0, 20), anchor));
}

TEST_CASE("catch-up of a per-second cron over a long window takes few steps", "[schedule][catch-up]") {
    // A day of missed per-second slots: the latest one, found by bisection.
    const auto s = cron_spec("* * * * * *", 86'400'000);
    CHECK(when(catch_up_slot(s, utc(2026, 6, 1), utc(2026, 6, 2, 12) + 500, 0)) == "2026-06-02T12:00:00.000Z");
    // In a zone: 09:00 Berlin is 07:00Z in summer.
    schedule_flags f;
    f.cron = "0 9 * * *";
    f.tz = "Europe/Berlin";
    f.catch_up = "2h";
    const auto b = parse_schedule_flags(f, 0);
    CHECK(when(catch_up_slot(b, utc(2026, 6, 1, 7), utc(2026, 6, 3, 8), 0)) == "2026-06-03T07:00:00.000Z");
}
