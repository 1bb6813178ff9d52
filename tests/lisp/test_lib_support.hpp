// Helpers shared by the tests/lisp/test_lib_*.cpp suites (stdlib prelude and the native
// groups owned by lisp-lib): run a whole program in a fresh evaluation and compare its
// output (everything printed + the printed last value) or its error kind.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tatara/tatara.hpp"

namespace lisp_lib_test {

/// The default limits, with a wall clock that holds in sanitizer builds on a loaded
/// machine (instrumented Debug code runs 10-20x slower; these tests are about results,
/// not time, and tests of the wall-clock limit set their own).
inline tatara::limits test_limits() {
    tatara::limits lim;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    lim.wall_clock_ms = 300'000;
#endif
    return lim;
}

/// A program and what it must produce: stdout + printed last value.
struct out_case {
    const char* program;
    const char* expected;
};

/// A program and the catch tag of the error it must fail with.
struct err_case {
    const char* program;
    const char* kind;
};

inline std::string describe(const tatara::text_result& r) {
    if (r.ok) return "ok: " + r.output + r.value_text;
    return "error [" + r.error.kind + "] " + r.error.formatted() + " (output: " + r.output + ")";
}

/// Runs src and returns output + printed value; fails the test if evaluation fails.
inline std::string run_ok(const std::string& src) {
    tatara::text_result r = tatara::run_source(src, "<test>", test_limits());
    INFO("program: " << src);
    INFO(describe(r));
    REQUIRE(r.ok);
    return r.output + r.value_text;
}

/// Runs src, requires it to fail, and returns the error kind (catch tag).
inline std::string run_err(const std::string& src) {
    tatara::text_result r = tatara::run_source(src, "<test>", test_limits());
    INFO("program: " << src);
    INFO(describe(r));
    REQUIRE_FALSE(r.ok);
    return r.error.kind;
}

inline void check_outputs(const std::vector<out_case>& cases) {
    for (const auto& c : cases) {
        tatara::text_result r = tatara::run_source(c.program, "<test>", test_limits());
        INFO("program: " << c.program);
        INFO(describe(r));
        CHECK(r.ok);
        CHECK(r.output + r.value_text == c.expected);
    }
}

inline void check_errors(const std::vector<err_case>& cases) {
    for (const auto& c : cases) {
        tatara::text_result r = tatara::run_source(c.program, "<test>", test_limits());
        INFO("program: " << c.program);
        INFO(describe(r));
        CHECK_FALSE(r.ok);
        CHECK(r.error.kind == c.kind);
    }
}

}  // namespace lisp_lib_test
