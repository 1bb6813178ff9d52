// Smoke tests: the interpreter evaluates simple programs end to end.
#include <catch2/catch.hpp>

#include "tatara/tatara.hpp"

TEST_CASE("arithmetic program prints its value", "[lisp]") {
    auto r = tatara::run_source("(+ 1 2)");
    REQUIRE(r.ok);
    CHECK(r.value_text == "3");
}
