// vigy_lisp_bench: tatara-lisp vs Lua 5.4 on the same algorithms, timed in one run.
// Usage: vigy_lisp_bench [lua-binary]   (default "lua5.4"; scripts in bench/lisp/*.lua)
// Times are thread CPU time (Lua: os.clock), best of 5; the probe is per evaluation.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "tatara/tatara.hpp"

namespace {

double cpu_now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

tatara::program_ptr must_compile(const std::string& src) {
    auto c = tatara::compile(src, "bench.tatara");
    if (!c.prog) {
        std::fprintf(stderr, "compile failed: %s\n", c.error->formatted().c_str());
        std::exit(1);
    }
    return c.prog;
}

tatara::eval_options unlimited() {
    tatara::eval_options o;
    o.lim.fuel = 0;
    o.lim.wall_clock_ms = 0;
    o.lim.memory_bytes = size_t(1) << 30;
    return o;
}

/// Best-of-5 seconds for one evaluation of src; checks the printed result.
double time_program(const std::string& src, const std::string& expect) {
    auto prog = must_compile(src);
    tatara::evaluator ev;
    auto opts = unlimited();
    double best = 1e30;
    for (int i = 0; i < 5; ++i) {
        double t0 = cpu_now();
        auto r = ev.run(*prog, opts);
        double dt = cpu_now() - t0;
        std::string got = r.ok ? tatara::to_display_string(r.result) : r.error.formatted();
        if (got != expect) {
            std::fprintf(stderr, "unexpected result %s (want %s)\n", got.c_str(), expect.c_str());
            std::exit(1);
        }
        if (dt < best) best = dt;
    }
    return best;
}

/// Best-of-5 seconds per evaluation of a warm compiled program (fresh frame each time).
double time_probe(const std::string& src, int n) {
    auto prog = must_compile(src);
    tatara::evaluator ev;
    auto opts = unlimited();
    double best = 1e30;
    for (int round = 0; round < 5; ++round) {
        double t0 = cpu_now();
        for (int i = 0; i < n; ++i) {
            auto r = ev.run(*prog, opts);
            if (!r.ok || r.result.as_int() != 2) {
                std::fprintf(stderr, "probe failed: %s\n", r.error.formatted().c_str());
                std::exit(1);
            }
        }
        double dt = (cpu_now() - t0) / n;
        if (dt < best) best = dt;
    }
    return best;
}

std::map<std::string, double> run_lua(const std::string& lua, const char* script) {
    std::map<std::string, double> out;
    std::string cmd = lua + " " + VIGY_LISP_BENCH_DIR + "/" + script;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char line[256];
    while (std::fgets(line, sizeof line, p)) {  // "NAME SECONDS"
        char* sp = std::strchr(line, ' ');
        if (!sp) continue;
        char* end = nullptr;
        const double secs = std::strtod(sp + 1, &end);
        if (end != sp + 1) out[std::string(line, sp)] = secs;
    }
    pclose(p);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string lua = argc > 1 ? argv[1] : "lua5.4";
    const std::string fib = "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))";
    const std::string pipeline =
        "(define xs (range 100000))"
        "(define ys (map (lambda (x) (* x 3)) xs))"
        "(define zs (filter (lambda (v) (= (modulo v 2) 0)) ys))"
        "(foldl + 0 zs)";
    const std::string probe =
        "(define state (hash-map :count 1 :name \"probe\"))"
        "(define (step s) (hash-map-set s :count (+ 1 (hash-map-get s :count))))"
        "(hash-map-get (step state) :count)";

    struct row {
        std::string name;
        double tatara;
        std::string lua_key;
        double scale;
        const char* unit;
    };
    std::vector<row> rows = {
        {"fib(25)", time_program(fib + "(fib 25)", "75025"), "fib25", 1e3, "ms"},
        {"fib(30)", time_program(fib + "(fib 30)", "832040"), "fib30", 1e3, "ms"},
        {"list pipeline 100k", time_program(pipeline, "7499850000"), "pipeline", 1e3, "ms"},
        {"3-form probe / eval", time_probe(probe, 200000), "probe", 1e6, "us"},
    };
    auto lua_times = run_lua(lua, "fib.lua");
    for (auto& [k, v] : run_lua(lua, "pipeline.lua")) lua_times[k] = v;
    for (auto& [k, v] : run_lua(lua, "probe.lua")) lua_times[k] = v;

    std::printf("%-22s %14s %14s %8s\n", "workload", "tatara-lisp", "lua5.4", "ratio");
    for (const row& r : rows) {
        auto it = lua_times.find(r.lua_key);
        double l = it == lua_times.end() ? 0 : it->second;
        std::printf("%-22s %11.3f %s %11.3f %s %8.2f\n", r.name.c_str(), r.tatara * r.scale, r.unit, l * r.scale,
                    r.unit, l > 0 ? r.tatara / l : 0.0);
    }
    return 0;
}
