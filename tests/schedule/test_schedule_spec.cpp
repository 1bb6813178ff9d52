// tests/schedule/test_schedule_spec.cpp — the schedule spec: durations, flags
// -> spec with every refusal a user can cause, JSON round trips for the store,
// the one-line summary and next_slot.
#include "vigy/host/schedule.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace vigy::host;
using vigy::test::error_of;
using vigy::test::utc;
using vigy::test::when;

namespace {

const int64_t now = utc(2026, 11, 21, 12);

std::string flags_error(const schedule_flags& f) {
    return error_of([&] { (void)parse_schedule_flags(f, now); });
}

}  // namespace

TEST_CASE("durations parse with units and print in their shortest form", "[schedule][spec]") {
    CHECK(parse_duration_ms("500ms", "--x") == 500);
    CHECK(parse_duration_ms("10s", "--x") == 10'000);
    CHECK(parse_duration_ms("5m", "--x") == 300'000);
    CHECK(parse_duration_ms("1h30m", "--x") == 5'400'000);
    CHECK(parse_duration_ms("2d", "--x") == 172'800'000);
    CHECK(parse_duration_ms("0s", "--x") == 0);
    CHECK(format_duration_ms(5'400'000) == "1h30m");
    CHECK(format_duration_ms(1'500) == "1s500ms");
    CHECK(format_duration_ms(172'800'000) == "2d");
    CHECK(format_duration_ms(0) == "0s");
    CHECK(format_duration_ms(-90'000) == "-1m30s");
    const std::string expected =
        "invalid-argument: invalid duration \"%\" for --within: expected a number and a unit (ms, s, m, h, d) such as "
        "500ms, 10s or 1h30m";
    for (const char* bad : {"", "10", "5x", "m", "1h 30m", "-5s", "1.5h"}) {
        std::string e = expected;
        e.replace(e.find('%'), 1, bad);
        CHECK(error_of([&] { parse_duration_ms(bad, "--within"); }) == e);
    }
    CHECK(error_of([] { parse_duration_ms("99999999999999999d", "--within"); }) ==
          "invalid-argument: duration \"99999999999999999d\" for --within is too long");
}

TEST_CASE("schedule flags give every 1s by default and each kind on its own", "[schedule][spec]") {
    const auto d = parse_schedule_flags({}, now);
    CHECK(d.kind == schedule_kind::every);
    CHECK(d.every_ms == 1000);
    CHECK(d == schedule_spec{});

    schedule_flags every;
    every.every = "1500";
    CHECK(parse_schedule_flags(every, now).every_ms == 1500);
    every.every = "10s";
    CHECK(parse_schedule_flags(every, now).every_ms == 10'000);

    schedule_flags cron;
    cron.cron = "*/5 * * * *";
    cron.tz = "Europe/Berlin";
    const auto c = parse_schedule_flags(cron, now);
    CHECK(c.kind == schedule_kind::cron);
    REQUIRE(c.cron);
    CHECK(c.cron->zone().name() == "Europe/Berlin");

    schedule_flags once;
    once.once = true;
    CHECK(parse_schedule_flags(once, now).kind == schedule_kind::once);
    CHECK_FALSE(parse_schedule_flags(once, now).at_ms);
    once.at = "+5m";
    CHECK(parse_schedule_flags(once, now).at_ms == now + 300'000);
    once.at = "2026-12-01T09:00:00+01:00";
    CHECK(when(parse_schedule_flags(once, now).at_ms) == "2026-12-01T08:00:00.000Z");

    schedule_flags trig;
    trig.on = {"event:db/Changed", "condition:db/example.com/Ready", "manual"};
    const auto t = parse_schedule_flags(trig, now);
    CHECK(t.kind == schedule_kind::trigger);
    REQUIRE(t.triggers.size() == 3);
    CHECK(t.triggers[0] == trigger_spec{trigger_kind::event, "db", "Changed"});
    CHECK(t.triggers[1] == trigger_spec{trigger_kind::condition, "db", "example.com/Ready"});
    CHECK(t.triggers[2] == trigger_spec{trigger_kind::manual, "", ""});

    // a controller: react to events and resync every 10 minutes
    schedule_flags both;
    both.every = "10m";
    both.on = {"event:db/*"};
    const auto b = parse_schedule_flags(both, now);
    CHECK(b.kind == schedule_kind::every);
    CHECK(b.triggers.size() == 1);
    CHECK(b.triggers[0].matches_detail("Anything"));
}

TEST_CASE("schedule flags refuse contradictions and bad values with the flag named", "[schedule][spec]") {
    schedule_flags f;
    f.once = true;
    f.every = "10s";
    CHECK(flags_error(f) == "invalid-argument: --every and --once are mutually exclusive: give one schedule");
    f = {};
    f.cron = "* * * * *";
    f.every = "1s";
    CHECK(flags_error(f) == "invalid-argument: --every and --cron are mutually exclusive: give one schedule");
    f = {};
    f.tz = "Europe/Berlin";
    CHECK(flags_error(f) == "invalid-argument: --tz needs --cron (it is the zone the cron expression is read in)");
    f = {};
    f.at = "+5m";
    CHECK(flags_error(f) == "invalid-argument: --at needs --once");
    f = {};
    f.cron = "0 25 * * *";
    CHECK(flags_error(f) == "invalid-argument: --cron \"0 25 * * *\": field 2 (hour): 25 is out of range 0-23");
    f.cron = "* * * * *";
    f.tz = "Mars/Base";
    CHECK(flags_error(f) ==
          "invalid-argument: unknown time zone \"Mars/Base\": not in the system tz database (/usr/share/zoneinfo); use "
          "an IANA name such as Europe/Berlin");
    f = {};
    f.every = "50";
    CHECK(flags_error(f) == "invalid-argument: invalid tick interval 50 ms (--every): must be >= 100");
    f.every = "fast";
    CHECK(flags_error(f) ==
          "invalid-argument: invalid duration \"fast\" for --every: expected a number and a unit (ms, s, m, h, d) such "
          "as 500ms, 10s or 1h30m");
    f = {};
    f.once = true;
    f.at = "2020-01-01T00:00:00Z";
    CHECK(flags_error(f) == "invalid-argument: --at 2020-01-01T00:00:00Z is in the past (now is 2026-11-21T12:00:00Z)");
    f.at = "tomorrow";
    CHECK(flags_error(f) ==
          "invalid-argument: --at tomorrow: expected an RFC 3339 time such as 2026-12-01T09:00:00Z or +01:00, or "
          "+DURATION such as +5m");
    f.on = {"event:db/Changed"};
    f.at.reset();
    CHECK(flags_error(f) ==
          "invalid-argument: --on cannot be combined with --once (a one-shot runs once; give --on alone for a "
          "triggered vigy)");
    f = {};
    f.on = {"event:db"};
    CHECK(flags_error(f) == "invalid-argument: --on event:db: expected event:VIGY/Reason");
    f.on = {"webhook:x"};
    CHECK(flags_error(f) ==
          "invalid-argument: --on webhook:x: unknown trigger kind \"webhook\" (expected event:VIGY/Reason, "
          "condition:VIGY/Type or manual)");
    f.on = {"event:/Changed"};
    CHECK(flags_error(f) ==
          "invalid-argument: --on event:/Changed: the vigy name before '/' is empty (expected event:VIGY/Reason)");
    f.on = {"condition:db/"};
    CHECK(flags_error(f) ==
          "invalid-argument: --on condition:db/: the condition type after '/' is empty (use * for any)");
    f.on = {"event:db/A/B"};
    CHECK(flags_error(f) == "invalid-argument: --on event:db/A/B: an event reason cannot contain '/'");
    f.on = {"event:my db/Changed"};
    CHECK(flags_error(f) ==
          "invalid-argument: --on event:my db/Changed: invalid vigy name \"my db\" (at most 253 bytes, no blanks or "
          "control characters)");
    f.on = {"event:db/Changed", "event:db/Changed"};
    CHECK(flags_error(f) == "invalid-argument: --on event:db/Changed is given twice");
    f.on = {"nothing"};
    CHECK(flags_error(f) ==
          "invalid-argument: --on nothing: expected event:VIGY/Reason, condition:VIGY/Type or manual");
    f = {};
    f.on = {"manual"};
    f.jitter = "10%";
    CHECK(flags_error(f) == "invalid-argument: --jitter needs --every or --cron (it spreads timer ticks)");
    f = {};
    f.every = "1s";
    f.jitter = "2s";
    CHECK(flags_error(f) ==
          "invalid-argument: --jitter 2s must be less than the interval 1s (--every), or use a percentage such as 10%");
    f = {};
    f.max_failures = "many";
    CHECK(flags_error(f) == "invalid-argument: invalid --max-failures \"many\": expected a whole number >= 0");
    f = {};
    f.within = "0s";
    CHECK(flags_error(f) == "invalid-argument: --within 0s must be more than 0");
}

TEST_CASE("schedule json round-trips every kind and leaves defaults out", "[schedule][spec]") {
    CHECK(schedule_spec{}.to_json() == R"({"kind":"every","every_ms":1000})");
    std::vector<schedule_flags> cases(6);
    cases[0].every = "10s";
    cases[0].jitter = "10%";
    cases[0].catch_up = "1h";
    cases[1].cron = "30  2 * * *";
    cases[1].tz = "America/New_York";
    cases[1].on = {"event:db/Changed"};
    cases[1].max_failures = "3";
    cases[1].within = "10m";
    cases[1].cool_down = "1h";
    cases[2].once = true;
    cases[2].at = "+1h";
    cases[3].once = true;
    cases[4].on = {"condition:db/Ready", "manual"};
    cases[4].max_failures = "0";
    cases[5].cron = "*/1 * * * * *";
    cases[5].jitter = "250ms";
    for (const auto& f : cases) {
        const auto s = parse_schedule_flags(f, now);
        const std::string j = s.to_json();
        INFO(j);
        const auto back = schedule_from_json(j);
        CHECK(back == s);
        CHECK(back.to_json() == j);
    }
    CHECK(
        parse_schedule_flags(cases[1], now).to_json() ==
        R"({"kind":"cron","cron":"30 2 * * *","tz":"America/New_York","on":["event:db/Changed"],"max_failures":3,"within_ms":600000,"cool_down_ms":3600000})");
    CHECK(parse_schedule_flags(cases[0], now).to_json() ==
          R"({"kind":"every","every_ms":10000,"jitter":"10%","catch_up_ms":3600000})");
    // a stored one-shot whose time has passed still loads
    CHECK(schedule_from_json(R"({"kind":"once","at_ms":0})").at_ms == 0);
}

TEST_CASE("schedule json is read strictly", "[schedule][spec]") {
    auto err = [](const char* j) { return error_of([&] { (void)schedule_from_json(j); }); };
    CHECK(err("{") == "invalid-argument: schedule json is not valid at offset 1: Missing a name for object member.");
    CHECK(err("[]") == "invalid-argument: schedule json must be an object");
    CHECK(err(R"({"every_ms":1000})") == "invalid-argument: schedule json: \"kind\" is missing");
    CHECK(err(R"({"kind":"hourly"})") ==
          "invalid-argument: schedule json: unknown kind \"hourly\" (known: every, cron, once, trigger)");
    CHECK(err(R"({"kind":"every","every_ms":"1s"})") ==
          "invalid-argument: schedule json: \"every_ms\" must be an integer");
    CHECK(err(R"({"kind":"every","color":"red"})") ==
          "invalid-argument: schedule json: \"color\" is not a schedule member");
    CHECK(err(R"({"kind":"cron"})") == "invalid-argument: a cron schedule needs an expression (--cron)");
    CHECK(err(R"({"kind":"cron","cron":"61 * * * *"})") ==
          "invalid-argument: field 1 (minute): 61 is out of range 0-59");
    CHECK(err(R"({"kind":"trigger"})") == "invalid-argument: a triggered vigy needs at least one --on");
    CHECK(err(R"({"kind":"cron","every_ms":5,"cron":"* * * * *"})") ==
          "invalid-argument: schedule json: \"every_ms\" belongs to kind every only");
    CHECK(err(R"({"kind":"every","tz":"UTC"})") == "invalid-argument: schedule json: \"tz\" needs \"cron\"");
}

TEST_CASE("schedule summary is one line for list and inspect", "[schedule][spec]") {
    schedule_flags f;
    CHECK(parse_schedule_flags(f, now).summary() == "every 1s");
    f.every = "90s";
    f.jitter = "10%";
    f.catch_up = "1h";
    CHECK(parse_schedule_flags(f, now).summary() == "every 1m30s, jitter 10%, catch-up 1h");
    f = {};
    f.cron = "30 2 * * *";
    f.tz = "America/New_York";
    f.on = {"event:db/Changed"};
    f.max_failures = "3";
    f.within = "10m";
    f.cool_down = "1h";
    CHECK(parse_schedule_flags(f, now).summary() ==
          "cron 30 2 * * * (America/New_York), on event:db/Changed, degraded after 3 failures in 10m, cool-down 1h");
    f = {};
    f.once = true;
    CHECK(parse_schedule_flags(f, now).summary() == "once");
    f.at = "2026-12-01T09:00:00Z";
    CHECK(parse_schedule_flags(f, now).summary() == "once at 2026-12-01T09:00:00Z");
    f = {};
    f.on = {"condition:db/Ready", "manual"};
    f.max_failures = "0";
    CHECK(parse_schedule_flags(f, now).summary() == "on condition:db/Ready, manual, never degraded");
}

TEST_CASE("schedule next_slot keeps the fixed-rate phase and ends a one-shot", "[schedule][spec]") {
    schedule_flags f;
    f.every = "10s";
    const auto e = parse_schedule_flags(f, now);
    CHECK(e.next_slot(now - 1, now) == now);  // first tick at once
    CHECK(e.next_slot(now, now) == now + 10'000);
    CHECK(e.next_slot(now + 25'000, now) == now + 30'000);
    CHECK(e.period_at(now) == 10'000);
    f = {};
    f.once = true;
    f.at = "+1m";
    const auto o = parse_schedule_flags(f, now);
    CHECK(o.next_slot(now, now) == now + 60'000);
    CHECK_FALSE(o.next_slot(now + 60'000, now));
    f = {};
    f.cron = "0 * * * *";
    const auto c = parse_schedule_flags(f, now);
    CHECK(c.next_slot(now, 0) == now + 3'600'000);
    CHECK(c.period_at(now) == 3'600'000);
    f = {};
    f.on = {"manual"};
    CHECK_FALSE(parse_schedule_flags(f, now).next_slot(now, now));
}
