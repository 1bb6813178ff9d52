// tests/runtime/test_time.cpp — host/src/time.cpp: the one RFC 3339 codec.
#include "vigy/host/time.hpp"

#include <catch2/catch.hpp>

using vigy::host::format_rfc3339_ms;
using vigy::host::parse_rfc3339_ms;

TEST_CASE("rfc 3339 formats epoch ms in UTC with three fraction digits", "[runtime][time]") {
    CHECK(format_rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_rfc3339_ms(1700000000123) == "2023-11-14T22:13:20.123Z");
    CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(format_rfc3339_ms(951782400000) == "2000-02-29T00:00:00.000Z");  // leap day
    CHECK(format_rfc3339_ms(253402300799999) == "9999-12-31T23:59:59.999Z");
    std::string out = "at ";
    vigy::host::append_rfc3339_ms(1700000000123, out);
    CHECK(out == "at 2023-11-14T22:13:20.123Z");
}

TEST_CASE("rfc 3339 parses offsets fractions and refuses what is not a date", "[runtime][time]") {
    CHECK(parse_rfc3339_ms("2023-11-14T22:13:20.123Z") == 1700000000123);
    CHECK(parse_rfc3339_ms("2023-11-14T22:13:20Z") == 1700000000000);
    CHECK(parse_rfc3339_ms("2023-11-14t22:13:20z") == 1700000000000);
    CHECK(parse_rfc3339_ms("2023-11-14 22:13:20Z") == 1700000000000);
    CHECK(parse_rfc3339_ms("2023-11-14T23:13:20.5+01:00") == 1700000000500);
    CHECK(parse_rfc3339_ms("2023-11-14T21:13:20.123456-01:00") == 1700000000123);
    CHECK(parse_rfc3339_ms("1969-12-31T23:59:59.999Z") == -1);
    for (const auto& v : {1700000000123LL, 0LL, -86400001LL, 4102444800000LL})
        CHECK(parse_rfc3339_ms(format_rfc3339_ms(v)) == v);
    for (const char* bad :
         {"2023-11-14 nope", "2023-11-14T22:13:20.123", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
          "2026-01-01T24:00:00Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+0100", "2026-01-01T00:00:00Zjunk", ""})
        CHECK_FALSE(parse_rfc3339_ms(bad).has_value());
    CHECK(parse_rfc3339_ms("2024-02-29T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339_ms("2023-02-29T00:00:00Z").has_value());
}
