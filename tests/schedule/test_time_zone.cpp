// tests/schedule/test_time_zone.cpp — zones from the system tz database: names,
// errors, offsets, and offsets after 2037 against Python's zoneinfo.
#include "vigy/host/time_zone.hpp"

#include "oracle.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

using vigy::host::time_zone;
using vigy::host::zone_segment;
using vigy::test::error_of;
using vigy::test::utc;

TEST_CASE("time zone utc is the default and needs no database", "[schedule][tz]") {
    const time_zone z;
    CHECK(z.is_utc());
    CHECK(z.name() == "UTC");
    CHECK(time_zone::locate("UTC").is_utc());
    CHECK(time_zone::locate("").is_utc());
    const zone_segment s = z.segment_at(utc(2026, 1, 1) / 1000);
    CHECK(s.offset_s == 0);
    CHECK(s.begin_s == zone_segment::unbounded_begin);
    CHECK(s.end_s == zone_segment::unbounded_end);
}

TEST_CASE("time zone unknown names are refused with a clear message", "[schedule][tz]") {
    CHECK(error_of([] { (void)time_zone::locate("Mars/Base"); }) ==
          "invalid-argument: unknown time zone \"Mars/Base\": not in the system tz database (/usr/share/zoneinfo); use "
          "an IANA name such as Europe/Berlin");
    // names are exact: no case folding, no paths
    CHECK(error_of([] { (void)time_zone::locate("europe/berlin"); }).rfind("invalid-argument: unknown time zone", 0) ==
          0);
    CHECK(error_of([] {
              (void)time_zone::locate("../../etc/passwd");
          }).rfind("invalid-argument: unknown time zone", 0) == 0);
}

TEST_CASE("time zone offsets and segments follow the tz database", "[schedule][tz]") {
    const auto ny = time_zone::locate("America/New_York");
    CHECK(ny.name() == "America/New_York");
    CHECK_FALSE(ny.is_utc());
    CHECK(ny.offset_at(utc(2026, 1, 15) / 1000) == -5 * 3600);
    CHECK(ny.offset_at(utc(2026, 7, 15) / 1000) == -4 * 3600);
    const auto s = ny.segment_at(utc(2026, 7, 15) / 1000);
    CHECK(s.begin_s == utc(2026, 3, 8, 7) / 1000);
    CHECK(s.end_s == utc(2026, 11, 1, 6) / 1000);
    CHECK(s.abbrev == "EDT");
    CHECK(time_zone::locate("Asia/Kolkata").offset_at(utc(2026, 1, 1) / 1000) == 5 * 3600 + 1800);
    // links resolve (US/Eastern is a link to America/New_York) and keep their name
    CHECK(time_zone::locate("US/Eastern").offset_at(utc(2026, 7, 15) / 1000) == -4 * 3600);
    CHECK(time_zone::locate("US/Eastern").name() == "US/Eastern");
    // one loaded zone per name: equal values
    CHECK(time_zone::locate("Europe/Berlin") == time_zone::locate("Europe/Berlin"));
}

TEST_CASE("time zone offsets from 2030 to 2060 agree with python zoneinfo", "[schedule][tz][oracle]") {
    // After 2037 Debian's files list no transitions; the POSIX footer takes over.
    const char* zones =
        "America/New_York Europe/Berlin Australia/Sydney America/Santiago Australia/Lord_Howe Europe/Dublin "
        "America/Sao_Paulo Pacific/Auckland Asia/Tehran Europe/London America/Havana Asia/Kolkata";
    const auto docs = vigy::test::run_oracle(std::string("offsets ") + zones);
    REQUIRE(docs.size() == 12);
    std::size_t compared = 0;
    for (const auto& d : docs) {
        const std::string name = (*d)["tz"].GetString();
        const auto z = time_zone::locate(name);
        const auto& at = (*d)["at_s"];
        const auto& off = (*d)["offset_s"];
        REQUIRE(at.Size() == off.Size());
        std::size_t wrong = 0;
        std::string first;
        for (rapidjson::SizeType i = 0; i < at.Size(); ++i) {
            const int32_t mine = z.offset_at(at[i].GetInt64());
            if (mine != off[i].GetInt()) {
                if (!wrong++)
                    first = "at " + vigy::test::when(at[i].GetInt64() * 1000) + ": zoneinfo " +
                            std::to_string(off[i].GetInt()) + " s, vigy " + std::to_string(mine) + " s";
            }
            ++compared;
        }
        INFO(name << ": " << wrong << " wrong offsets, first " << first);
        CHECK(wrong == 0);
    }
    CHECK(compared > 12 * 30000);
}
