// tests/schedule/test_cron.cpp — cron parsing (every form and every error a
// user can cause) and next fire times in UTC, worked out by hand.
#include "vigy/host/cron.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

using vigy::host::cron_schedule;
using vigy::test::error_of;
using vigy::test::utc;
using vigy::test::when;

namespace {

using vigy::test::nexts;

std::vector<std::string> nexts(std::string_view expr, int64_t from_ms, int n) {
    return nexts(cron_schedule::parse(expr), from_ms, n);
}

std::string parse_error(std::string_view expr) {
    return error_of([&] { (void)cron_schedule::parse(expr); });
}

}  // namespace

TEST_CASE("cron fires strictly after the given instant on whole seconds", "[schedule][cron]") {
    const auto c = cron_schedule::parse("*/15 * * * *");
    // exactly on a slot: the next one, not the same
    CHECK(when(c.next(utc(2026, 1, 1, 10, 15))) == "2026-01-01T10:30:00.000Z");
    // one ms before a slot: that slot
    CHECK(when(c.next(utc(2026, 1, 1, 10, 15) - 1)) == "2026-01-01T10:15:00.000Z");
    // inside a second: never the same second again
    CHECK(when(c.next(utc(2026, 1, 1, 10, 14, 59) + 999)) == "2026-01-01T10:15:00.000Z");
    // before 1970 works too (negative epoch ms)
    CHECK(when(c.next(utc(1969, 12, 31, 23, 59, 30))) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("cron lists ranges and steps select the values cronie selects", "[schedule][cron]") {
    CHECK(nexts("5,10-12,40-50/5 9 * * *", utc(2026, 6, 1), 8) ==
          std::vector<std::string>{"2026-06-01T09:05:00.000Z", "2026-06-01T09:10:00.000Z", "2026-06-01T09:11:00.000Z",
                                   "2026-06-01T09:12:00.000Z", "2026-06-01T09:40:00.000Z", "2026-06-01T09:45:00.000Z",
                                   "2026-06-01T09:50:00.000Z", "2026-06-02T09:05:00.000Z"});
    // */S starts at the field's low end: hours 0, 7, 14, 21
    CHECK(nexts("0 */7 * * *", utc(2026, 6, 1, 1), 4) ==
          std::vector<std::string>{"2026-06-01T07:00:00.000Z", "2026-06-01T14:00:00.000Z", "2026-06-01T21:00:00.000Z",
                                   "2026-06-02T00:00:00.000Z"});
    // day-of-month */10 starts at 1: 1, 11, 21, 31
    CHECK(nexts("0 0 */10 * *", utc(2026, 1, 20), 4) ==
          std::vector<std::string>{"2026-01-21T00:00:00.000Z", "2026-01-31T00:00:00.000Z", "2026-02-01T00:00:00.000Z",
                                   "2026-02-11T00:00:00.000Z"});
    // blanks: tabs and runs of spaces separate fields
    CHECK(cron_schedule::parse("  */5 \t *  * * *  ").expression() == "*/5 * * * *");
}

TEST_CASE("cron month and weekday names are case-insensitive and 0 and 7 are both Sunday", "[schedule][cron]") {
    // 2026-03-01 is a Sunday.
    const auto sun0 = nexts("0 12 * * 0", utc(2026, 3, 1), 2);
    CHECK(sun0 == std::vector<std::string>{"2026-03-01T12:00:00.000Z", "2026-03-08T12:00:00.000Z"});
    CHECK(nexts("0 12 * * 7", utc(2026, 3, 1), 2) == sun0);
    CHECK(nexts("0 12 * * SUN", utc(2026, 3, 1), 2) == sun0);
    CHECK(nexts("0 12 * * Sun", utc(2026, 3, 1), 2) == sun0);
    // fri-sun and 5-0: a range ending in 0 ends on Sunday
    const std::vector<std::string> weekend{"2026-03-06T12:00:00.000Z", "2026-03-07T12:00:00.000Z",
                                           "2026-03-08T12:00:00.000Z", "2026-03-13T12:00:00.000Z"};
    CHECK(nexts("0 12 * * fri-sun", utc(2026, 3, 2), 4) == weekend);
    CHECK(nexts("0 12 * * 5-0", utc(2026, 3, 2), 4) == weekend);
    CHECK(nexts("0 12 * * 5-7", utc(2026, 3, 2), 4) == weekend);
    CHECK(nexts("0 0 1 JAN,jul *", utc(2026, 2, 1), 3) ==
          std::vector<std::string>{"2026-07-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z", "2027-07-01T00:00:00.000Z"});
    CHECK(nexts("0 0 1 mar-may/2 *", utc(2026, 1, 1), 2) ==
          std::vector<std::string>{"2026-03-01T00:00:00.000Z", "2026-05-01T00:00:00.000Z"});
}

TEST_CASE("cron day-of-month and day-of-week are OR-ed only when both are restricted", "[schedule][cron]") {
    // Vixie: '0 0 13 * fri' fires on every 13th AND every Friday.
    // March 2026: Fridays 6, 13, 20, 27; the 13th is one of them.
    CHECK(nexts("0 0 13 * fri", utc(2026, 3, 1), 5) ==
          std::vector<std::string>{"2026-03-06T00:00:00.000Z", "2026-03-13T00:00:00.000Z", "2026-03-20T00:00:00.000Z",
                                   "2026-03-27T00:00:00.000Z", "2026-04-03T00:00:00.000Z"});
    // Only one restricted: that one alone.
    CHECK(nexts("0 0 13 * *", utc(2026, 3, 1), 2) ==
          std::vector<std::string>{"2026-03-13T00:00:00.000Z", "2026-04-13T00:00:00.000Z"});
    // cronie's rule is textual: a field starting with '*' counts as unrestricted,
    // so '*/2' in day-of-month AND-s with the weekday: odd days that are Mondays
    // (March 2026: Mondays 2, 9, 16, 23, 30 -> 9 and 23).
    CHECK(nexts("0 0 */2 * mon", utc(2026, 3, 1), 3) ==
          std::vector<std::string>{"2026-03-09T00:00:00.000Z", "2026-03-23T00:00:00.000Z", "2026-04-13T00:00:00.000Z"});
    // ... while the same days spelled '1-31/2' are restricted: OR (odd days or Mondays).
    CHECK(nexts("0 0 1-31/2 * mon", utc(2026, 2, 28, 12), 4) ==
          std::vector<std::string>{"2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z", "2026-03-03T00:00:00.000Z",
                                   "2026-03-05T00:00:00.000Z"});
    // '*/2' in day-of-week with a restricted day-of-month: AND (the 1st when it is Sun/Tue/Thu/Sat).
    // 2026: Jan 1 Thu, Feb 1 Sun, Mar 1 Sun, Apr 1 Wed, May 1 Fri, Jun 1 Mon, Jul 1 Wed, Aug 1 Sat.
    CHECK(nexts("0 0 1 * */2", utc(2026, 1, 2), 3) ==
          std::vector<std::string>{"2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z", "2026-08-01T00:00:00.000Z"});
}

TEST_CASE("cron handles month lengths and leap years", "[schedule][cron]") {
    // the 31st skips short months
    CHECK(nexts("0 0 31 * *", utc(2026, 1, 31, 1), 3) ==
          std::vector<std::string>{"2026-03-31T00:00:00.000Z", "2026-05-31T00:00:00.000Z", "2026-07-31T00:00:00.000Z"});
    // Feb 29: 2028, 2032; 2100 is not a leap year, 2000 was
    CHECK(nexts("0 0 29 2 *", utc(2026, 1, 1), 2) ==
          std::vector<std::string>{"2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"});
    CHECK(nexts("0 0 29 feb *", utc(2096, 3, 1), 1) == std::vector<std::string>{"2104-02-29T00:00:00.000Z"});
    CHECK(nexts("0 0 29 feb *", utc(1999, 1, 1), 1) == std::vector<std::string>{"2000-02-29T00:00:00.000Z"});
    // Feb 29 that is a Sunday (AND with "*/7" = Sunday only): 2004, 2032, 2060, 2088, then 2128 (no Feb 29 in 2100)
    CHECK(nexts("0 0 29 2 */7", utc(2089, 1, 1), 1) == std::vector<std::string>{"2128-02-29T00:00:00.000Z"});
    // a listed day the month lacks does not push past the next month's first days
    // (croniter 1.3.5 answers 03-20 here: it steps 6 days from Feb 25 towards "31")
    CHECK(nexts("46 7 1,20,31 * *", utc(2027, 2, 25), 2) ==
          std::vector<std::string>{"2027-03-01T07:46:00.000Z", "2027-03-20T07:46:00.000Z"});
    // the last second of a year rolls into the next
    CHECK(nexts("* * * * * *", utc(2026, 12, 31, 23, 59, 58), 2) ==
          std::vector<std::string>{"2026-12-31T23:59:59.000Z", "2027-01-01T00:00:00.000Z"});
}

TEST_CASE("cron with a leading seconds field fires on those seconds", "[schedule][cron]") {
    const auto c = cron_schedule::parse("*/20 30 9 * * *");
    CHECK(c.has_seconds());
    CHECK(nexts(c, utc(2026, 6, 1, 9, 30, 20), 3) ==
          std::vector<std::string>{"2026-06-01T09:30:40.000Z", "2026-06-02T09:30:00.000Z", "2026-06-02T09:30:20.000Z"});
    CHECK(nexts("*/1 * * * * *", utc(2026, 6, 1) + 250, 2) ==
          std::vector<std::string>{"2026-06-01T00:00:01.000Z", "2026-06-01T00:00:02.000Z"});
    CHECK_FALSE(cron_schedule::parse("* * * * *").has_seconds());
}

TEST_CASE("cron macros mean what cronie makes of them", "[schedule][cron]") {
    const int64_t from = utc(2026, 3, 4, 5, 6, 7);  // a Wednesday
    CHECK(nexts("@yearly", from, 1) == std::vector<std::string>{"2027-01-01T00:00:00.000Z"});
    CHECK(nexts("@annually", from, 1) == std::vector<std::string>{"2027-01-01T00:00:00.000Z"});
    CHECK(nexts("@monthly", from, 1) == std::vector<std::string>{"2026-04-01T00:00:00.000Z"});
    CHECK(nexts("@weekly", from, 1) == std::vector<std::string>{"2026-03-08T00:00:00.000Z"});
    CHECK(nexts("@daily", from, 1) == std::vector<std::string>{"2026-03-05T00:00:00.000Z"});
    CHECK(nexts("@midnight", from, 1) == std::vector<std::string>{"2026-03-05T00:00:00.000Z"});
    CHECK(nexts("@hourly", from, 1) == std::vector<std::string>{"2026-03-04T06:00:00.000Z"});
    CHECK(nexts("@DAILY", from, 1) == std::vector<std::string>{"2026-03-05T00:00:00.000Z"});
    // DST class: only @hourly is a wildcard schedule (cronie sets HR_STAR for it alone)
    CHECK(cron_schedule::parse("@hourly").wildcard_time());
    CHECK_FALSE(cron_schedule::parse("@daily").wildcard_time());
    CHECK_FALSE(cron_schedule::parse("@weekly").wildcard_time());
    CHECK(cron_schedule::parse("*/5 2 * * *").wildcard_time());
    CHECK(cron_schedule::parse("0 */2 * * *").wildcard_time());
    CHECK_FALSE(cron_schedule::parse("0 1-23/2 * * *").wildcard_time());
    CHECK_FALSE(cron_schedule::parse("* 30 2 * * *").wildcard_time());  // seconds do not count
}

TEST_CASE("cron errors name the field and the value", "[schedule][cron]") {
    CHECK(parse_error("0 25 * * *") == "invalid-argument: field 2 (hour): 25 is out of range 0-23");
    CHECK(parse_error("60 * * * *") == "invalid-argument: field 1 (minute): 60 is out of range 0-59");
    CHECK(parse_error("61 * * * * *") == "invalid-argument: field 1 (second): 61 is out of range 0-59");
    CHECK(parse_error("0 0 32 * *") == "invalid-argument: field 3 (day-of-month): 32 is out of range 1-31");
    CHECK(parse_error("0 0 0 * *") == "invalid-argument: field 3 (day-of-month): 0 is out of range 1-31");
    CHECK(parse_error("0 0 * 13 *") == "invalid-argument: field 4 (month): 13 is out of range 1-12");
    CHECK(parse_error("0 0 * * 8") == "invalid-argument: field 5 (day-of-week): 8 is out of range 0-7");
    CHECK(parse_error("0 0 * foo *") ==
          "invalid-argument: field 4 (month): unknown month name \"foo\" (use jan feb mar apr may jun jul aug sep oct "
          "nov dec)");
    CHECK(parse_error("0 0 * * monday") ==
          "invalid-argument: field 5 (day-of-week): unknown day name \"monday\" (use sun mon tue wed thu fri sat)");
    CHECK(parse_error("0 abc * * *") == "invalid-argument: field 2 (hour): \"abc\" is not a number");
    CHECK(parse_error("0 0 * * * *  *") ==
          "invalid-argument: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading "
          "second, got 7 in \"0 0 * * * * *\"");
    CHECK(parse_error("* * * *") ==
          "invalid-argument: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading "
          "second, got 4 in \"* * * *\"");
    CHECK(parse_error("") ==
          "invalid-argument: empty cron expression: expected 5 fields (minute hour day-of-month month day-of-week)");
    CHECK(parse_error("5/10 * * * *") ==
          "invalid-argument: field 1 (minute): a step needs a range or *: \"5/10\" (write 5-59/10)");
    CHECK(parse_error("*/0 * * * *") == "invalid-argument: field 1 (minute): step 0 in \"*/0\" must be at least 1");
    CHECK(parse_error("*/x * * * *") ==
          "invalid-argument: field 1 (minute): step \"x\" in \"*/x\" is not a positive number");
    CHECK(parse_error("*/90 * * * *") ==
          "invalid-argument: field 1 (minute): step 90 in \"*/90\" is larger than the range 0-59 it steps through (it "
          "would select 0 only)");
    CHECK(parse_error("0 22-2 * * *") ==
          "invalid-argument: field 2 (hour): range 22-2 is reversed (the start 22 is after the end 2)");
    CHECK(parse_error("1,,2 * * * *") == "invalid-argument: field 1 (minute): empty item in the list \"1,,2\"");
    CHECK(parse_error("-5 * * * *") == "invalid-argument: field 1 (minute): \"-5\": negative numbers are not allowed");
    CHECK(parse_error("*5 * * * *") == "invalid-argument: field 1 (minute): unexpected \"5\" after * in \"*5\"");
    CHECK(parse_error("1-5x * * * *") == "invalid-argument: field 1 (minute): \"5x\" is not a number");
    CHECK(parse_error("0 0 30 feb *") ==
          "invalid-argument: field 3 (day-of-month): no day in \"30\" occurs in the months \"feb\", so it never fires");
    CHECK(parse_error("0 0 0 31 apr,jun *") ==
          "invalid-argument: field 4 (day-of-month): no day in \"31\" occurs in the months \"apr,jun\", so it never "
          "fires");
    CHECK(parse_error("@reboot") ==
          "invalid-argument: @reboot is not a schedule: a vigy starts ticking when serve starts (use --once for a "
          "program that runs once)");
    CHECK(
        parse_error("@often") ==
        "invalid-argument: unknown macro @often (known: @yearly @annually @monthly @weekly @daily @midnight @hourly)");
    CHECK(parse_error("@daily 5") == "invalid-argument: unexpected \"5\" after the macro @daily");
    // with the OR rule an impossible day-of-month is fine: the weekday still fires
    CHECK(parse_error("0 0 30 feb mon") == "no error");
}

TEST_CASE("cron gives fire times from the year 1 to 9999 only", "[schedule][cron]") {
    const auto c = cron_schedule::parse("0 0 1 1 *");
    CHECK(when(c.next(utc(9998, 6, 1))) == "9999-01-01T00:00:00.000Z");
    CHECK_FALSE(c.next(utc(9999, 1, 1)).has_value());
    CHECK_FALSE(c.next(INT64_MAX).has_value());
    CHECK(when(c.next(INT64_MIN)) == "0001-01-01T00:00:00.000Z");
    CHECK_FALSE(cron_schedule::parse("0 0 1 1 *", vigy::host::time_zone::locate("Asia/Tokyo")).next(INT64_MAX));
}

TEST_CASE("cron matches_local agrees with next", "[schedule][cron]") {
    const auto c = cron_schedule::parse("*/7 3-5 1,15 * wed");
    int64_t t = utc(2026, 1, 1);
    for (int i = 0; i < 50; ++i) {
        const auto n = c.next(t);
        REQUIRE(n);
        CHECK(c.matches_local(*n / 1000));
        // nothing in between matches
        for (int64_t m = t / 60'000 * 60 + 60; m < *n / 1000; m += 60) CHECK_FALSE(c.matches_local(m));
        t = *n;
    }
}
