// tests/schedule/test_jitter.cpp — --jitter values and the per-vigy offset:
// deterministic, inside the window, and spread evenly over it.
#include "vigy/host/schedule.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace vigy::host;
using vigy::test::error_of;

TEST_CASE("jitter parses percentages durations and milliseconds", "[schedule][jitter]") {
    CHECK(parse_jitter("10%") == jitter_spec{0, 10});
    CHECK(parse_jitter("100%") == jitter_spec{0, 100});
    CHECK(parse_jitter("30s") == jitter_spec{30'000, 0});
    CHECK(parse_jitter("1m30s") == jitter_spec{90'000, 0});
    CHECK(parse_jitter("500") == jitter_spec{500, 0});
    CHECK(parse_jitter("10%").to_string() == "10%");
    CHECK(parse_jitter("90s").to_string() == "1m30s");
    CHECK(error_of([] { parse_jitter("150%"); }) == "invalid-argument: --jitter 150%: must be between 1% and 100%");
    CHECK(error_of([] { parse_jitter("0%"); }) == "invalid-argument: --jitter 0%: must be between 1% and 100%");
    CHECK(error_of([] { parse_jitter("1.5%"); }) ==
          "invalid-argument: --jitter 1.5%: expected a whole percentage such as 10%");
    CHECK(error_of([] { parse_jitter("0"); }) ==
          "invalid-argument: --jitter 0: must be more than 0 (leave --jitter out for none)");
    CHECK(error_of([] { parse_jitter("soon"); }) ==
          "invalid-argument: --jitter soon: expected a percentage (10%), a duration (30s) or milliseconds (500)");
    CHECK(error_of([] { parse_jitter("5x"); }) ==
          "invalid-argument: invalid duration \"5x\" for --jitter: expected a number and a unit (ms, s, m, h, d) such "
          "as 500ms, 10s or 1h30m");
}

TEST_CASE("jitter offset is a pure function of the id inside the window", "[schedule][jitter]") {
    const jitter_spec pct{0, 10};
    const jitter_spec abs{30'000, 0};
    // same id, same offset (a restart keeps the phase); different ids differ
    CHECK(jitter_offset_ms("3f2a9c", 60'000, pct) == jitter_offset_ms("3f2a9c", 60'000, pct));
    CHECK(jitter_offset_ms("3f2a9c", 60'000, pct) != jitter_offset_ms("3f2a9d", 60'000, pct));
    // stable across builds and platforms: the hash is specified, not std::hash
    // (values from the formula in schedule.hpp, computed independently in Python)
    CHECK(jitter_hash("") == 0xf52a15e9a9b5e89bull);
    CHECK(jitter_hash("3f2a9c") == 0xf71f823f39057d22ull);
    for (int i = 0; i < 1000; ++i) {
        const std::string id = "vigy-" + std::to_string(i);
        const int64_t p = jitter_offset_ms(id, 60'000, pct);
        CHECK((p >= 0 && p < 6'000));
        const int64_t a = jitter_offset_ms(id, 1'000, abs);  // absolute: independent of the period
        CHECK((a >= 0 && a < 30'000));
    }
    CHECK(jitter_offset_ms("x", 60'000, jitter_spec{}) == 0);
    CHECK(jitter_offset_ms("x", 0, pct) == 0);
    CHECK(pct.window_for(60'000) == 6'000);
    CHECK(jitter_spec{0, 100}.window_for(86'400'000) == 86'400'000);
}

TEST_CASE("jitter spreads 1000 vigies evenly over the window", "[schedule][jitter]") {
    // 1,000 ids shaped like vigy ids (hex), and 1,000 sequential names: both
    // must fill 20 buckets of a 10 s window evenly. Chi-square with 19 degrees
    // of freedom: 43.8 is the 0.1% critical value; the fullest bucket of 50
    // expected stays under 80.
    for (const bool hex : {true, false}) {
        constexpr int n = 1000, buckets = 20;
        std::vector<int> load(buckets, 0);
        const jitter_spec j{10'000, 0};
        for (int i = 0; i < n; ++i) {
            char id[40];
            if (hex)
                std::snprintf(id, sizeof id, "%08x%08x", i * 2654435761u, i);
            else
                std::snprintf(id, sizeof id, "worker-%d", i);
            ++load[static_cast<std::size_t>(jitter_offset_ms(id, 0, j) * buckets / 10'000)];
        }
        double chi2 = 0;
        for (const int l : load) chi2 += (l - 50.0) * (l - 50.0) / 50.0;
        INFO((hex ? "hex ids" : "sequential names")
             << ": chi-square " << chi2 << ", fullest bucket " << *std::max_element(load.begin(), load.end()));
        CHECK(chi2 < 43.8);
        CHECK(*std::max_element(load.begin(), load.end()) < 80);
        CHECK(*std::min_element(load.begin(), load.end()) > 20);
    }
}
