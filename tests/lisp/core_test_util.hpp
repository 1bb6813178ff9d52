// Helpers for the tatara-lisp core tests: run a program, get "output + printed value" or
// the error kind, the way the conformance cases are phrased.
#pragma once

#include <string>

#include "tatara/tatara.hpp"

namespace lisp_test {

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

struct outcome {
    bool ok = false;
    std::string text;     ///< output followed by the printed last value (when ok)
    std::string kind;     ///< error kind/tag when !ok
    std::string message;  ///< diagnostic message when !ok
    std::string formatted;
};

inline outcome run(const std::string& src, const tatara::limits& lim = test_limits()) {
    tatara::text_result r = tatara::run_source(src, "prog.tatara", lim);
    outcome o;
    o.ok = r.ok;
    o.text = r.output + (r.ok ? r.value_text : "");
    o.kind = r.error.kind;
    o.message = r.error.message;
    o.formatted = r.error.formatted();
    return o;
}

/// Printed value (plus output) of a program that must succeed; "<error KIND: MSG>" otherwise.
inline std::string ev(const std::string& src) {
    outcome o = run(src);
    return o.ok ? o.text : "<error " + o.kind + ": " + o.message + ">";
}

/// Error kind of a program that must fail ("" when it succeeded).
inline std::string err(const std::string& src) {
    outcome o = run(src);
    return o.ok ? "" : o.kind;
}

}  // namespace lisp_test
