// tests/schedule/test_cron_oracle.cpp — vigy's cron against an independent
// implementation: Debian's python3-croniter computes the next fire times of a
// generated corpus (seeded, so every run checks the same 300 expressions) in
// UTC and in zones without daylight saving; every time must be identical.
// VIGY_CRON_ORACLE_SEED / VIGY_CRON_ORACLE_COUNT explore other corpora.
#include "vigy/host/cron.hpp"

#include "oracle.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using vigy::host::cron_schedule;
using vigy::host::time_zone;
using vigy::test::when;

TEST_CASE("cron agrees with croniter on a generated corpus", "[schedule][oracle]") {
    const char* seed_env = std::getenv("VIGY_CRON_ORACLE_SEED");
    const char* count_env = std::getenv("VIGY_CRON_ORACLE_COUNT");
    const std::string seed = seed_env ? seed_env : "20261121";
    const int corpus = count_env ? static_cast<int>(std::strtol(count_env, nullptr, 10)) : 300;
    REQUIRE(corpus >= 200);
    const auto docs = vigy::test::run_oracle("cron " + seed + " " + std::to_string(corpus));
    REQUIRE(docs.size() == static_cast<std::size_t>(corpus));

    int compared = 0, six_fields = 0, zoned = 0;
    std::vector<std::string> mismatches;
    for (const auto& d : docs) {
        const std::string expr = (*d)["expr"].GetString();
        const std::string tz = (*d)["tz"].GetString();
        const int64_t from = (*d)["from_ms"].GetInt64();
        const auto& expected = (*d)["next_ms"];
        cron_schedule c = cron_schedule::parse(expr, time_zone::locate(tz));
        six_fields += c.has_seconds();
        zoned += !c.zone().is_utc();
        int64_t t = from;
        for (const auto& e : expected.GetArray()) {
            const auto got = c.next(t);
            ++compared;
            if (!got || *got != e.GetInt64()) {
                mismatches.push_back("\"" + expr + "\" in " + tz + " after " + when(t) + ": croniter " +
                                     when(e.GetInt64()) + ", vigy " + when(got));
                break;
            }
            t = *got;
        }
    }
    INFO("compared " << compared << " fire times of " << docs.size() << " expressions (" << six_fields
                     << " with seconds, " << zoned << " in a zone other than UTC)");
    for (std::size_t i = 0; i < mismatches.size() && i < 20; ++i) UNSCOPED_INFO(mismatches[i]);
    CHECK(mismatches.empty());
    // the corpus really covers what it claims
    CHECK(six_fields >= 40);
    CHECK(zoned >= 100);
    CHECK(compared >= corpus * 8);
}
