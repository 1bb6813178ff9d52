// A stdlib prelude file that fails to load is fatal: this executable links the core with
// the real prelude plus tests/lisp/broken-prelude/99-broken.tlisp, whose second form
// raises. The failure names the file, line and column, and no program compiles.
#include <catch2/catch.hpp>

#include "tatara/tatara.hpp"

TEST_CASE("a prelude file that raises leaves the stdlib unloaded with its location", "[stdlib]") {
    const tatara::diagnostic* e = tatara::stdlib_error();
    REQUIRE(e != nullptr);
    CHECK(e->kind == "stdlib");
    CHECK(e->source_name == "<stdlib>/99-broken.tlisp");
    CHECK(e->line == 3);
    CHECK(e->column == 3);
    CHECK(e->message == "type mismatch: expected pair, got int");
    CHECK(e->formatted() == "<stdlib>/99-broken.tlisp:3:3: type mismatch: expected pair, got int (in (car 5))");
}

TEST_CASE("no program compiles when the stdlib failed to load", "[stdlib]") {
    tatara::compile_result r = tatara::compile("(+ 1 2)", "prog.tatara");
    CHECK_FALSE(r.prog);
    REQUIRE(r.error);
    CHECK(r.error->kind == "stdlib");
    CHECK(r.error->message == "stdlib failed to load: type mismatch: expected pair, got int");
    CHECK(r.error->source_name == "<stdlib>/99-broken.tlisp");
}
