// tests/schedule/test_cron_dst.cpp — cronie's three daylight-saving rules,
// by hand, in two northern zones (America/New_York, Europe/Berlin) and two
// southern ones (Australia/Sydney, America/Santiago). croniter is wrong across
// DST changes, so the expected instants are worked out in the comments.
//
// The changes used (from the tz database, checked against Python's zoneinfo):
//   New York  2026-03-08 07:00Z: 02:00 EST (-5) -> 03:00 EDT (-4)   gap 02:00-02:59
//             2026-11-01 06:00Z: 02:00 EDT (-4) -> 01:00 EST (-5)   01:00-01:59 twice
//   Berlin    2026-03-29 01:00Z: 02:00 CET (+1) -> 03:00 CEST (+2)  gap 02:00-02:59
//             2026-10-25 01:00Z: 03:00 CEST (+2) -> 02:00 CET (+1)  02:00-02:59 twice
//   Sydney    2026-04-04 16:00Z: 03:00 AEDT (+11) -> 02:00 AEST (+10) on Apr 5: 02:00-02:59 twice
//             2026-10-03 16:00Z: 02:00 AEST (+10) -> 03:00 AEDT (+11) on Oct 4: gap 02:00-02:59
//   Santiago  2026-04-05 03:00Z: Apr 4 24:00 (-3) -> 23:00 (-4): Apr 4 23:00-23:59 twice
//             2026-09-06 04:00Z: Sep 6 00:00 (-4) -> 01:00 (-3): gap 00:00-00:59
#include "vigy/host/cron.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

using vigy::host::cron_schedule;
using vigy::host::time_zone;
using vigy::test::utc;

namespace {

std::vector<std::string> nexts(std::string_view expr, const char* zone, int64_t from_ms, int n) {
    return vigy::test::nexts(cron_schedule::parse(expr, time_zone::locate(zone)), from_ms, n);
}

}  // namespace

TEST_CASE("dst fixed time skipped by a change fires once at the first instant after the gap", "[schedule][dst]") {
    // New York, 02:30 daily: Mar 7 02:30 EST = 07:30Z; Mar 8 02:30 does not exist ->
    // 03:00 EDT = 07:00Z (the change itself); Mar 9 02:30 EDT = 06:30Z.
    CHECK(nexts("30 2 * * *", "America/New_York", utc(2026, 3, 7), 3) ==
          std::vector<std::string>{"2026-03-07T07:30:00.000Z", "2026-03-08T07:00:00.000Z", "2026-03-09T06:30:00.000Z"});
    // Several fixed times in the gap (02:00 and 02:30) still fire once: 07:00Z; then Mar 9 02:00 EDT = 06:00Z.
    CHECK(nexts("0,30 2 * * *", "America/New_York", utc(2026, 3, 8, 6), 2) ==
          std::vector<std::string>{"2026-03-08T07:00:00.000Z", "2026-03-09T06:00:00.000Z"});
    // A fixed time right after the gap is not doubled: 02:30 (gap) and 03:00 share the
    // instant 07:00Z; 03:30 EDT = 07:30Z follows.
    CHECK(nexts("0,30 2,3 * * *", "America/New_York", utc(2026, 3, 8, 6), 3) ==
          std::vector<std::string>{"2026-03-08T07:00:00.000Z", "2026-03-08T07:30:00.000Z", "2026-03-09T06:00:00.000Z"});
    // With seconds: 02:30:15 -> the change at 07:00:00Z as well.
    CHECK(nexts("15 30 2 * * *", "America/New_York", utc(2026, 3, 8), 1) ==
          std::vector<std::string>{"2026-03-08T07:00:00.000Z"});
    // Berlin, 02:30: Mar 28 02:30 CET = 01:30Z; Mar 29 -> 03:00 CEST = 01:00Z; Mar 30 02:30 CEST = 00:30Z.
    CHECK(nexts("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28), 3) ==
          std::vector<std::string>{"2026-03-28T01:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"});
    // Sydney, 02:30: Oct 3 02:30 AEST = Oct 2 16:30Z; Oct 4 -> 03:00 AEDT = Oct 3 16:00Z;
    // Oct 5 02:30 AEDT = Oct 4 15:30Z.
    CHECK(nexts("30 2 * * *", "Australia/Sydney", utc(2026, 10, 2), 3) ==
          std::vector<std::string>{"2026-10-02T16:30:00.000Z", "2026-10-03T16:00:00.000Z", "2026-10-04T15:30:00.000Z"});
    // Santiago, midnight (@daily is a fixed time): Sep 5 00:00 -04 = 04:00Z; Sep 6 00:00 does
    // not exist -> 01:00 -03 = Sep 6 04:00Z; Sep 7 00:00 -03 = 03:00Z.
    CHECK(nexts("@daily", "America/Santiago", utc(2026, 9, 5), 3) ==
          std::vector<std::string>{"2026-09-05T04:00:00.000Z", "2026-09-06T04:00:00.000Z", "2026-09-07T03:00:00.000Z"});
}

TEST_CASE("dst fixed time repeated by a change fires once at its first occurrence", "[schedule][dst]") {
    // New York, 01:30: Oct 31 01:30 EDT = 05:30Z; Nov 1 01:30 EDT = 05:30Z (the first
    // one; 01:30 EST = 06:30Z does not fire); Nov 2 01:30 EST = 06:30Z.
    CHECK(nexts("30 1 * * *", "America/New_York", utc(2026, 10, 31), 3) ==
          std::vector<std::string>{"2026-10-31T05:30:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"});
    // Asked from inside the second pass (06:10Z = 01:10 EST), 01:30 EST is still skipped.
    CHECK(nexts("30 1 * * *", "America/New_York", utc(2026, 11, 1, 6, 10), 1) ==
          std::vector<std::string>{"2026-11-02T06:30:00.000Z"});
    // Berlin, 02:30: Oct 25 02:30 CEST = 00:30Z once (02:30 CET = 01:30Z skipped); Oct 26 02:30 CET = 01:30Z.
    CHECK(nexts("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12), 2) ==
          std::vector<std::string>{"2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"});
    // Sydney, 02:30: Apr 5 02:30 AEDT = Apr 4 15:30Z once (02:30 AEST = 16:30Z skipped);
    // Apr 6 02:30 AEST = Apr 5 16:30Z.
    CHECK(nexts("30 2 * * *", "Australia/Sydney", utc(2026, 4, 4), 2) ==
          std::vector<std::string>{"2026-04-04T15:30:00.000Z", "2026-04-05T16:30:00.000Z"});
    // Santiago, 23:30: Apr 4 23:30 -03 = Apr 5 02:30Z once (23:30 -04 = 03:30Z skipped);
    // Apr 5 23:30 -04 = Apr 6 03:30Z.
    CHECK(nexts("30 23 * * *", "America/Santiago", utc(2026, 4, 4, 12), 2) ==
          std::vector<std::string>{"2026-04-05T02:30:00.000Z", "2026-04-06T03:30:00.000Z"});
}

TEST_CASE("dst wildcard hour fires at every real instant that matches", "[schedule][dst]") {
    // New York hourly, spring: 01:00 EST = 06:00Z, then 03:00 EDT = 07:00Z (one real hour
    // later: 02:00 never shows), 04:00 EDT = 08:00Z.
    CHECK(nexts("0 * * * *", "America/New_York", utc(2026, 3, 8, 5, 30), 3) ==
          std::vector<std::string>{"2026-03-08T06:00:00.000Z", "2026-03-08T07:00:00.000Z", "2026-03-08T08:00:00.000Z"});
    // New York hourly, autumn: 01:00 EDT = 05:00Z, 01:00 EST = 06:00Z, 02:00 EST = 07:00Z:
    // every real hour once.
    CHECK(nexts("0 * * * *", "America/New_York", utc(2026, 11, 1, 4, 30), 3) ==
          std::vector<std::string>{"2026-11-01T05:00:00.000Z", "2026-11-01T06:00:00.000Z", "2026-11-01T07:00:00.000Z"});
    // A step in the hour field (*/2) is a wildcard too: 00:00 EDT = 04:00Z, 02:00 EST = 07:00Z,
    // 04:00 EST = 09:00Z (local 01:00 is odd: not selected in either pass).
    CHECK(nexts("0 */2 * * *", "America/New_York", utc(2026, 11, 1, 3), 3) ==
          std::vector<std::string>{"2026-11-01T04:00:00.000Z", "2026-11-01T07:00:00.000Z", "2026-11-01T09:00:00.000Z"});
    // cronie counts a '*' minute field as wildcard even with a fixed hour: every 30 min of
    // 01:xx in both passes: 05:00Z, 05:30Z (EDT), 06:00Z, 06:30Z (EST), then Nov 2 01:00 EST = 06:00Z.
    CHECK(nexts("*/30 1 * * *", "America/New_York", utc(2026, 11, 1), 5) ==
          std::vector<std::string>{"2026-11-01T05:00:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-01T06:00:00.000Z",
                                   "2026-11-01T06:30:00.000Z", "2026-11-02T06:00:00.000Z"});
    // ... and in the gap such a schedule has nothing to fire: 02:xx on Mar 8 never shows,
    // so the next is Mar 9 02:00 EDT = 06:00Z.
    CHECK(nexts("*/30 2 * * *", "America/New_York", utc(2026, 3, 8), 1) ==
          std::vector<std::string>{"2026-03-09T06:00:00.000Z"});
    // Berlin hourly, autumn: 02:00 CEST = 00:00Z, 02:00 CET = 01:00Z, 03:00 CET = 02:00Z.
    CHECK(nexts("0 * * * *", "Europe/Berlin", utc(2026, 10, 24, 23, 30), 3) ==
          std::vector<std::string>{"2026-10-25T00:00:00.000Z", "2026-10-25T01:00:00.000Z", "2026-10-25T02:00:00.000Z"});
    // Sydney hourly: Apr 5 02:00 AEDT = 15:00Z, 02:00 AEST = 16:00Z, 03:00 AEST = 17:00Z;
    // Oct 4 01:00 AEST = Oct 3 15:00Z, then 03:00 AEDT = 16:00Z.
    CHECK(nexts("0 * * * *", "Australia/Sydney", utc(2026, 4, 4, 14, 30), 3) ==
          std::vector<std::string>{"2026-04-04T15:00:00.000Z", "2026-04-04T16:00:00.000Z", "2026-04-04T17:00:00.000Z"});
    CHECK(nexts("0 * * * *", "Australia/Sydney", utc(2026, 10, 3, 14, 30), 2) ==
          std::vector<std::string>{"2026-10-03T15:00:00.000Z", "2026-10-03T16:00:00.000Z"});
    // 6-field, every 20 minutes, Santiago's repeated 23:xx: 23:20 -03 = 02:20Z, 23:40 -03 = 02:40Z,
    // 23:00 -04 = 03:00Z, 23:20 -04 = 03:20Z.
    CHECK(nexts("0 */20 * * * *", "America/Santiago", utc(2026, 4, 5, 2, 10), 4) ==
          std::vector<std::string>{"2026-04-05T02:20:00.000Z", "2026-04-05T02:40:00.000Z", "2026-04-05T03:00:00.000Z",
                                   "2026-04-05T03:20:00.000Z"});
}

TEST_CASE("dst rules continue after 2037 from the zone's rule", "[schedule][dst]") {
    // Debian's zone files list changes until 2037; later ones come from the file's
    // POSIX rule. New York 2040: the gap is on Mar 11 (second Sunday) at 07:00Z.
    CHECK(nexts("30 2 * * *", "America/New_York", utc(2040, 3, 10), 2) ==
          std::vector<std::string>{"2040-03-10T07:30:00.000Z", "2040-03-11T07:00:00.000Z"});
    // July 2040 noon is EDT (-4): 16:00Z.
    CHECK(nexts("0 12 * * *", "America/New_York", utc(2040, 7, 1), 1) ==
          std::vector<std::string>{"2040-07-01T16:00:00.000Z"});
    // Sydney 2045 (southern rule spanning the new year): Sep 30 02:30 AEST = Sep 29 16:30Z;
    // Oct 1 02:30 does not exist (change at Sep 30 16:00Z) -> 16:00Z.
    CHECK(nexts("30 2 * * *", "Australia/Sydney", utc(2045, 9, 29), 2) ==
          std::vector<std::string>{"2045-09-29T16:30:00.000Z", "2045-09-30T16:00:00.000Z"});
}
