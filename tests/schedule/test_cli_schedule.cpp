// tests/schedule/test_cli_schedule.cpp — `vigy schedule next` as users run it:
// the real binary, its text and JSON output, and its exit codes.
#include "proc.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

using e2e::result;

namespace {

result vigy(const std::vector<std::string>& args) {
    e2e::spawn_options o;
    o.env = {"NO_COLOR=1", "TZ=Pacific/Chatham"};  // the process's own zone must not matter
    return e2e::vigy(args, o);
}

}  // namespace

TEST_CASE("schedule next prints fire times in the zone and in UTC", "[schedule][cli]") {
    const result r = vigy({"schedule", "next", "30 2 * * *", "--tz", "America/New_York", "--from",
                           "2026-03-07T00:00:00Z", "--count", "3"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    // 02:30 on Mar 8 does not exist in New York: it fires at 03:00 EDT, the first instant after the gap.
    CHECK(r.out.find("  Original form: 30 2 * * *\n") != std::string::npos);
    CHECK(r.out.find("      Time zone: America/New_York\n") != std::string::npos);
    CHECK(r.out.find("    Next elapse: Sat 2026-03-07 02:30:00 EST\n       (in UTC): Sat 2026-03-07 07:30:00 UTC\n") !=
          std::string::npos);
    CHECK(r.out.find("       Iter. #2: Sun 2026-03-08 03:00:00 EDT\n       (in UTC): Sun 2026-03-08 07:00:00 UTC\n") !=
          std::string::npos);
    CHECK(r.out.find("       Iter. #3: Mon 2026-03-09 02:30:00 EDT\n") != std::string::npos);
    CHECK(r.out.find("From now: ") != std::string::npos);
}

TEST_CASE("schedule next -o json gives instants local times and offsets", "[schedule][cli]") {
    const result r = vigy({"-o", "json", "schedule", "next", "*/20", "*", "*", "*", "*", "*", "--from",
                           "2026-06-01T00:00:10Z", "-n", "2"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["schedule"].GetString()) == "*/20 * * * * *");  // unquoted words joined
    CHECK(std::string(d["kind"].GetString()) == "cron");
    CHECK(std::string(d["dst_rule"].GetString()) == "wildcard");
    REQUIRE(d["next"].Size() == 2);
    CHECK(std::string(d["next"][0]["at"].GetString()) == "2026-06-01T00:00:20.000Z");
    CHECK(std::string(d["next"][1]["at"].GetString()) == "2026-06-01T00:00:40.000Z");
    CHECK(d["next"][1]["epoch_ms"].GetInt64() == 1780272040000);

    const result k = vigy({"schedule", "next", "0 9 * * *", "--tz", "Asia/Kolkata", "--from", "2026-06-01T00:00:00Z",
                           "-n", "1", "-o", "json"});
    REQUIRE(k.code == 0);
    d.Parse(k.out.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["next"][0]["local"].GetString()) == "2026-06-01T09:00:00+05:30");
    CHECK(std::string(d["next"][0]["at"].GetString()) == "2026-06-01T03:30:00.000Z");
}

TEST_CASE("schedule next accepts macros and fixed rates", "[schedule][cli]") {
    const result m = vigy({"schedule", "next", "@weekly", "--from", "2026-03-04T05:06:07Z", "-n", "1"});
    REQUIRE(m.code == 0);
    CHECK(m.out.find("Next elapse: Sun 2026-03-08 00:00:00 UTC") != std::string::npos);
    const result e = vigy({"schedule", "next", "every", "90s", "--from", "2026-03-04T05:06:07Z", "-n", "2"});
    INFO(e.err);
    REQUIRE(e.code == 0);
    CHECK(e.out.find("Next elapse: Wed 2026-03-04 05:07:37 UTC") != std::string::npos);
    CHECK(e.out.find("Iter. #2: Wed 2026-03-04 05:09:07 UTC") != std::string::npos);
    const result never = vigy({"schedule", "next", "@yearly", "--from", "9999-06-01T00:00:00Z"});
    REQUIRE(never.code == 0);
    CHECK(never.out.find("Next elapse: never") != std::string::npos);
}

TEST_CASE("schedule next refuses bad expressions with exit 1 and bad usage with exit 2", "[schedule][cli]") {
    const result hour = vigy({"schedule", "next", "0 25 * * *"});
    CHECK(hour.code == 1);
    CHECK(hour.err == "error: invalid schedule \"0 25 * * *\": field 2 (hour): 25 is out of range 0-23\n");
    CHECK(hour.out.empty());
    const result zone = vigy({"schedule", "next", "* * * * *", "--tz", "Mars/Base"});
    CHECK(zone.code == 1);
    CHECK(zone.err.find("unknown time zone \"Mars/Base\"") != std::string::npos);
    const result reboot = vigy({"schedule", "next", "@reboot"});
    CHECK(reboot.code == 1);
    CHECK(reboot.err.find("@reboot is not a schedule") != std::string::npos);
    const result slow = vigy({"schedule", "next", "every", "50ms"});
    CHECK(slow.code == 1);
    CHECK(slow.err.find("must be >= 100") != std::string::npos);

    const result missing = vigy({"schedule", "next"});
    CHECK(missing.code == 2);
    CHECK(missing.err.find("a schedule is required") != std::string::npos);
    const result count = vigy({"schedule", "next", "* * * * *", "--count", "0"});
    CHECK(count.code == 2);
    const result from = vigy({"schedule", "next", "* * * * *", "--from", "yesterday"});
    CHECK(from.code == 2);
    CHECK(from.err.find("--from yesterday: expected an RFC 3339 time") != std::string::npos);
    const result bare = vigy({"schedule"});
    CHECK(bare.code == 2);
}
