// test_value.cpp — the host value tree: JSON mapping, ABI round trips, arena limits.
#include "vigy/host/value.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using vigy::host::arena;
using vigy::host::json_error;
using vigy::host::value;

namespace {
value sample() {
    value m = value::map();
    m.set("n", value::integer(-42));
    m.set("d", value::real(2.5));
    m.set("s", value::string("hé \"q\""));
    m.set("b", value::boolean(false));
    m.set("nil", value());
    m.set("l", value::list({value::integer(1), value::list({value::string("x")}), value::map()}));
    return m;
}
}  // namespace

TEST_CASE("value json follows the value.h mapping", "[ext][value]") {
    CHECK(value::keyword("ready").to_json() == "\":ready\"");
    CHECK(value::symbol("sym").to_json() == "\"sym\"");
    CHECK(value::real(std::nan("")).to_json() == "null");
    CHECK(value::real(std::numeric_limits<double>::infinity()).to_json() == "null");
    CHECK(value::integer(7).to_json() == "7");
    CHECK(value::real(7.0).to_json() == "7.0");
    CHECK(value().to_json() == "null");
    value m = value::map();
    m.set(value::keyword("k"), value::integer(1));
    m.set(value::integer(3), value::integer(2));
    m.set(value(), value::integer(3));
    CHECK(m.to_json() == R"({":k":1,"3":2,"null":3})");
}

TEST_CASE("value json round-trips types: ints stay ints doubles stay doubles order kept", "[ext][value]") {
    value v = sample();
    value back = value::from_json(v.to_json());
    CHECK(back == v);
    CHECK(back.find("n")->is_int());
    CHECK(back.find("d")->is_double());
    CHECK(back.entries()[0].key.text() == "n");
    CHECK(back.entries()[5].key.text() == "l");
    // a JSON integer beyond int64 reads as a double
    CHECK(value::from_json("18446744073709551615").is_double());
    CHECK(value::from_json("-9223372036854775808").as_int() == std::numeric_limits<int64_t>::min());
}

TEST_CASE("value from_json rejects malformed text naming the offset", "[ext][value]") {
    CHECK_THROWS_WITH(value::from_json("{\"a\":"), Catch::Contains("invalid json at offset 5"));
    CHECK_THROWS_WITH(value::from_json("1 2"), Catch::Contains("offset 2"));
    CHECK_THROWS_AS(value::from_json(""), json_error);
}

TEST_CASE("value converts to vigy_value in an arena and back", "[ext][value]") {
    arena a;
    value v = sample();
    v.set(value::keyword("kw"), value::symbol("s"));
    vigy_value c = v.to_vigy(a.c());
    REQUIRE(c.type == VIGY_MAP);
    CHECK(c.as.map.len == 7);
    CHECK(c.as.map.entries[6].key.type == VIGY_KEYWORD);
    CHECK(std::string(c.as.map.entries[2].value.as.str.ptr) == "hé \"q\"");  // NUL-terminated
    CHECK(value::from_vigy(c) == v);
    vigy_value unknown = vigy_nil();
    unknown.type = 99;
    CHECK(value::from_vigy(unknown).is_nil());
}

TEST_CASE("arena refuses past its byte limit and reset frees", "[ext][value]") {
    arena a(64);
    CHECK(a.allocate(40) != nullptr);
    CHECK(a.used_bytes() == 48);
    CHECK(a.allocate(32) == nullptr);
    CHECK(a.allocate(16) != nullptr);
    a.reset();
    CHECK(a.used_bytes() == 0);
    void* p = a.allocate(64);
    CHECK(p != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(p) % 16 == 0);
    arena tiny(16);
    CHECK_THROWS_AS(sample().to_vigy(tiny.c()), vigy::host::arena_exhausted);
    arena unlimited;
    CHECK(unlimited.allocate(1 << 20) != nullptr);  // bigger than a block
    CHECK(unlimited.c().alloc(unlimited.c().ctx, 8) != nullptr);
}

TEST_CASE("value map set replaces in place and find matches string-like keys", "[ext][value]") {
    value m = value::map();
    m.set("a", value::integer(1));
    m.set("b", value::integer(2));
    m.set("a", value::integer(3));
    REQUIRE(m.entries().size() == 2);
    CHECK(m.entries()[0].val.as_int() == 3);
    m.set(value::keyword("k"), value::integer(4));
    CHECK(m.find("k")->as_int() == 4);
    CHECK(m.find("zz") == nullptr);
    CHECK(value::integer(1).find("a") == nullptr);
    CHECK_THROWS_AS(value::integer(1).text(), std::logic_error);
}

TEST_CASE("large maps convert in linear time and duplicate keys keep the last value", "[ext][value]") {
    std::string json = "{";
    for (int i = 0; i < 50000; ++i) json += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    json += "}";
    value big = value::from_json(json);
    REQUIRE(big.entries().size() == 50000);
    arena a;
    CHECK(value::from_vigy(big.to_vigy(a.c())) == big);
    value dup = value::from_json(R"({"a":1,"b":2,"a":3})");
    CHECK(dup.to_json() == R"({"a":3,"b":2})");
    // a keyword key and a string key of the same name stay distinct through the ABI
    value m = value::map();
    m.set(value::keyword("a"), value::integer(1));
    m.set(value::string("a"), value::integer(2));
    arena b;
    CHECK(value::from_vigy(m.to_vigy(b.c())).entries().size() == 2);
}
