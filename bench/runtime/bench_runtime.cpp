// bench/runtime/bench_runtime.cpp — the runtime under load, against the plain-SQLite
// ceiling in the same run: N vigies ticking every `interval` ms (the hello program, or
// noop) for S seconds after a warm-up, then plain SQLite inserting the same compact run
// rows (bench/common/sqlite_ceiling.hpp). For each N it prints a table row and one line
//
//   RESULT n=N requested_per_s=R persisted_per_s=P lateness_p99_ms=L cpu_us_per_tick=C
//          writer_us_per_run=W raw_sqlite_us_per_row=S rss_mib=M
//
//   vigy_runtime_bench [--vigies 100,1000,10000,50000] [--seconds 15] [--warmup 3]
//                      [--interval 100] [--kind lisp|noop] [--tick-threads 0] [--dir DIR]
//                      [--memory-only] [--skip-memory]
//
// CPU per tick and writer CPU per run are CPU time (load-independent, the stable numbers
// on a shared machine); persisted/s and lateness depend on the machine being idle. The
// memory columns are measured on idle vigies (after their first tick): the heap and the
// RSS the runtime holds per vigy beyond what it held before it served.
#include "../common/sqlite_ceiling.hpp"

#include "vigy/host/runtime.hpp"

#include <malloc.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

double process_cpu() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// VmRSS from /proc/self/status, in KiB.
double rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr);
    return 0;
}

double heap_bytes() { return static_cast<double>(mallinfo2().uordblks); }

/// CPU seconds per thread name (utime + stime from /proc/self/task/*/stat).
std::map<std::string, double> cpu_by_thread() {
    std::map<std::string, double> out;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    for (const auto& e : fs::directory_iterator("/proc/self/task")) {
        std::ifstream in(e.path() / "stat");
        std::string line;
        std::getline(in, line);
        const auto l = line.find('('), r = line.rfind(')');
        if (l == std::string::npos || r == std::string::npos) continue;
        const std::string name = line.substr(l + 1, r - l - 1);
        std::istringstream rest(line.substr(r + 2));
        std::string f;
        std::vector<std::string> fields;
        while (rest >> f) fields.push_back(f);
        if (fields.size() < 13) continue;
        out[name] += (std::stod(fields[11]) + std::stod(fields[12])) / tick;
    }
    return out;
}

const char* const hello_program =
    "(vigy-log \"info\" (string-append \"hello from tick \" (string (vigy-tick-count)) \" at \" (string (vigy-tick)) "
    "\" ms\"))\n"
    "(vigy-noop)";

/// {"program": text, "source_name": name} through RapidJSON.
std::string lisp_config(const std::string& program, const std::string& source_name) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("program");
    w.String(program.c_str(), static_cast<rapidjson::SizeType>(program.size()));
    w.Key("source_name");
    w.String(source_name.c_str(), static_cast<rapidjson::SizeType>(source_name.size()));
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

struct options {
    std::vector<long> vigies{100, 1000, 10000, 50000};
    int seconds = 15;
    int warmup = 3;
    int64_t interval_ms = 100;
    std::string kind = "lisp";
    unsigned tick_threads = 0;
    fs::path dir;
    bool memory_only = false;
    bool skip_memory = false;
};

int usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--vigies 100,1000,10000,50000] [--seconds 15] [--warmup 3] [--interval 100] "
                 "[--kind lisp|noop] [--tick-threads 0] [--dir DIR] [--memory-only] [--skip-memory]\n",
                 argv0);
    return 2;
}

struct memory_result {
    double heap_per_vigy = 0;  ///< bytes
    double rss_per_vigy = 0;   ///< bytes
};

/// Registers N vigies with a long interval, serves until each ticked once, and measures
/// what the runtime holds per idle vigy beyond what it held before serving.
memory_result measure_idle_memory(const fs::path& db, long n, const std::string& kind, const std::string& config) {
    fs::remove(db);
    vigy::RuntimeOptions ro;
    auto rt = vigy::Runtime::open(db, ro);
    vigy::host::vigy_spec spec;
    spec.kind = kind;
    spec.config_json = config;
    spec.interval_ms = 3'600'000;  // one tick, then idle
    for (long i = 0; i < n; ++i) {
        spec.name = "idle-" + std::to_string(i);
        rt->register_or_update(spec);
    }
    malloc_trim(0);
    const double heap0 = heap_bytes(), rss0 = rss_kib();
    rt->start();
    while (rt->stats().runs_committed < static_cast<uint64_t>(n))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // completions settle
    malloc_trim(0);
    const double heap1 = heap_bytes(), rss1 = rss_kib();
    rt->stop();
    return {(heap1 - heap0) / static_cast<double>(n), (rss1 - rss0) * 1024.0 / static_cast<double>(n)};
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--memory-only") {
            opt.memory_only = true;
            continue;
        }
        if (a == "--skip-memory") {
            opt.skip_memory = true;
            continue;
        }
        if (i + 1 >= argc) return usage(argv[0]);
        const std::string v = argv[++i];
        if (a == "--vigies") {
            opt.vigies.clear();
            std::stringstream ss(v);
            std::string item;
            while (std::getline(ss, item, ',')) opt.vigies.push_back(std::stol(item));
        } else if (a == "--seconds") {
            opt.seconds = std::stoi(v);
        } else if (a == "--warmup") {
            opt.warmup = std::stoi(v);
        } else if (a == "--interval") {
            opt.interval_ms = std::stoll(v);
        } else if (a == "--kind") {
            opt.kind = v;
        } else if (a == "--tick-threads") {
            opt.tick_threads = static_cast<unsigned>(std::stoul(v));
        } else if (a == "--dir") {
            opt.dir = v;
        } else {
            return usage(argv[0]);
        }
    }
    if (opt.dir.empty()) opt.dir = fs::temp_directory_path() / ("vigy-runtime-bench-" + std::to_string(::getpid()));
    fs::create_directories(opt.dir);
    const std::string hello_config = lisp_config(hello_program, "hello.tatara");

    std::printf(
        "| N | kind | requested/s | persisted/s | lateness p50 / p99 ms | CPU us/tick | writer us/run | "
        "plain SQLite us/row | W / S | CPU cores | RSS MiB | skipped | paused | heap B/idle vigy (noop / %s) | "
        "RSS B/idle vigy (noop / %s) |\n",
        opt.kind.c_str(), opt.kind.c_str());
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (long n : opt.vigies) {
        const fs::path db = opt.dir / ("runtime-" + std::to_string(n) + ".db");
        fs::remove(db);
        std::string kind = opt.kind;
        std::string config = kind == "lisp" ? hello_config : "{}";
        const memory_result mem_noop =
            opt.skip_memory ? memory_result{} : measure_idle_memory(opt.dir / "idle-noop.db", n, "noop", "{}");
        const memory_result mem_kind = kind == "noop" || opt.skip_memory
                                           ? mem_noop
                                           : measure_idle_memory(opt.dir / "idle-kind.db", n, kind, config);
        if (opt.memory_only) {
            std::printf("| %ld | %s | | | | | | | | | | | | %.0f / %.0f | %.0f / %.0f |\n", n, kind.c_str(),
                        mem_noop.heap_per_vigy, mem_kind.heap_per_vigy, mem_noop.rss_per_vigy, mem_kind.rss_per_vigy);
            std::fflush(stdout);
            continue;
        }

        vigy::RuntimeOptions ro;
        ro.tick_threads = opt.tick_threads;
        auto rt = vigy::Runtime::open(db, ro);
        const auto kinds = rt->kinds();
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
            std::fprintf(stderr, "kind %s not loaded\n", kind.c_str());
            return 1;
        }
        vigy::host::vigy_spec spec;
        spec.kind = kind;
        spec.interval_ms = opt.interval_ms;
        spec.config_json = config;
        const auto r0 = clock_type::now();
        for (long i = 0; i < n; ++i) {
            spec.name = "hello-" + std::to_string(i);
            rt->register_or_update(spec);
        }
        std::fprintf(stderr, "N=%ld: registered in %.1f s; warm-up %d s, then %d s measured...\n", n,
                     std::chrono::duration<double>(clock_type::now() - r0).count(), opt.warmup, opt.seconds);

        rt->start();
        std::this_thread::sleep_for(std::chrono::seconds(opt.warmup));
        const auto s0 = rt->stats();
        const double c0 = process_cpu();
        const auto t0 = clock_type::now();
        const auto threads0 = cpu_by_thread();
        std::this_thread::sleep_for(std::chrono::seconds(opt.seconds));
        const auto s1 = rt->stats();
        const double cpu = process_cpu() - c0;
        const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
        const auto threads1 = cpu_by_thread();
        double writer_cpu = 0;
        std::string per;
        for (const auto& [name, total] : threads1) {
            auto it = threads0.find(name);
            const double d = total - (it == threads0.end() ? 0.0 : it->second);
            if (name == "vigy-writer") writer_cpu = d;
            char buf[96];
            std::snprintf(buf, sizeof buf, " %s=%.2f", name.c_str(), d / secs);
            per += buf;
        }
        std::fprintf(stderr, "  cores busy per thread name:%s\n", per.c_str());
        std::fprintf(stderr, "  runs per store transaction: %.0f\n",
                     static_cast<double>(s1.runs_committed - s0.runs_committed) /
                         static_cast<double>(std::max<uint64_t>(1, s1.commits - s0.commits)));
        const double rss_mib = rss_kib() / 1024.0;
        rt->stop();
        const double runs = static_cast<double>(std::max<uint64_t>(1, s1.runs_committed - s0.runs_committed));
        const double requested = static_cast<double>(n) * 1000.0 / static_cast<double>(opt.interval_ms);
        const double persisted = runs / secs;
        const double cpu_us = cpu * 1e6 / runs;
        const double writer_us = writer_cpu * 1e6 / runs;
        if (s1.ticks_failed)
            std::fprintf(stderr, "  %llu failed ticks\n", static_cast<unsigned long long>(s1.ticks_failed));
        if (s1.runs_rejected)
            std::fprintf(stderr, "  %llu rejected runs\n", static_cast<unsigned long long>(s1.runs_rejected));
        rt.reset();

        const fs::path plain = opt.dir / ("plain-" + std::to_string(n) + ".db");
        fs::remove(plain);
        const long rows = std::max<long>(100000, static_cast<long>(std::min(runs, 1e6)));
        const auto keys = vigy_bench::make_vigies(plain.string(), n);
        const vigy_bench::ceiling_result pr = vigy_bench::plain_sqlite(plain.string(), keys, rows, 1000);

        std::printf(
            "| %ld | %s | %.0f | %.0f | %.2f / %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %llu | %llu | "
            "%.0f / %.0f | %.0f / %.0f |\n",
            n, kind.c_str(), requested, persisted, s1.lateness_p50_ms, s1.lateness_p99_ms, cpu_us, writer_us,
            pr.cpu_us_per_row, writer_us / pr.cpu_us_per_row, cpu / secs, rss_mib,
            static_cast<unsigned long long>(s1.skipped_slots - s0.skipped_slots),
            static_cast<unsigned long long>(s1.ticks_paused - s0.ticks_paused), mem_noop.heap_per_vigy,
            mem_kind.heap_per_vigy, mem_noop.rss_per_vigy, mem_kind.rss_per_vigy);
        std::printf(
            "RESULT n=%ld requested_per_s=%.0f persisted_per_s=%.0f lateness_p99_ms=%.2f cpu_us_per_tick=%.2f "
            "writer_us_per_run=%.2f raw_sqlite_us_per_row=%.2f rss_mib=%.0f\n",
            n, requested, persisted, s1.lateness_p99_ms, cpu_us, writer_us, pr.cpu_us_per_row, rss_mib);
        std::fflush(stdout);
        std::error_code ec;
        for (const auto& p : {db, plain})
            for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p.string() + suffix, ec);
    }
    std::error_code ec;
    fs::remove_all(opt.dir, ec);
    return 0;
}
