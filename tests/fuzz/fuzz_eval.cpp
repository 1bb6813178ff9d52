// libFuzzer target: compile and evaluate arbitrary programs under tight limits (fuel,
// memory, recursion depth, wall clock) — the compiler, the macro expander, the evaluator
// and the stdlib.
//
// Properties: never crashes, hangs or exceeds the limits; a failure is a diagnostic
// with a kind; everything a program can hand to a host (printed output, the printed
// result, diagnostics) is valid UTF-8.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tatara/tatara.hpp"

namespace {

void require_utf8(std::string_view text) {
    if (tatara::invalid_utf8_offset(text) != std::string_view::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view source(reinterpret_cast<const char*>(data), size);
    tatara::compile_limits cl;
    cl.max_source_bytes = 64 * 1024;
    cl.memory_bytes = 8u << 20;
    cl.fuel = 200'000;
    cl.wall_clock_ms = 500;
    tatara::compile_result c = tatara::compile(source, "fuzz.tatara", {}, cl);
    if (!c.prog) {
        if (!c.error || c.error->kind.empty()) std::abort();
        require_utf8(c.error->formatted());
        return 0;
    }
    static tatara::evaluator* ev = new tatara::evaluator;  // reused, like a tick thread's
    tatara::string_sink out;
    tatara::eval_options o;
    o.lim.fuel = 200'000;
    o.lim.memory_bytes = 8u << 20;
    o.lim.max_depth = 200;
    o.lim.wall_clock_ms = 500;
    o.out = &out;
    o.keep_each = true;
    tatara::eval_result r = ev->run(*c.prog, o);
    require_utf8(out.text());
    if (r.ok) {
        std::string printed;
        for (tatara::value v : r.each) {
            printed.clear();
            tatara::print_value(printed, v);
            require_utf8(printed);
        }
    } else {
        if (r.error.kind.empty()) std::abort();
        require_utf8(r.error.formatted());
    }
    return 0;
}
