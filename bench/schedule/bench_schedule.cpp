// bench/schedule/bench_schedule.cpp — what a scheduler with 100,000 cron vigies
// pays per fire-time computation: every vigy asks next() after its previous
// fire time, round after round, in UTC and in zones with daylight saving.
// Anchors in the same run: the fixed-rate slot (pure arithmetic, the floor),
// one zone lookup (time_zone::segment_at, the floor of a zoned next()), and
// croniter's get_next (with --croniter; Python, the oracle of the tests).
#include "vigy/host/schedule.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace vigy::host;
using clock_type = std::chrono::steady_clock;

namespace {

const char* expressions[] = {
    "*/5 * * * *",       "0 * * * *",       "30 2 * * *",   "0 9 * * mon-fri",
    "*/15 9-17 * * 1-5", "0 0 1 * *",       "0 0 13 * fri", "0 0 29 2 *",
    "*/10 * * * * *",    "0 30 4 1,15 * *", "@daily",       "5,35 */2 * jan-jun,dec sat,sun",
};
const char* zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"};

double ns_since(clock_type::time_point t0, std::size_t ops) {
    return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() / static_cast<double>(ops);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t vigies = 100'000;
    int rounds = 10;
    bool croniter = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--vigies") && i + 1 < argc)
            vigies = std::strtoull(argv[++i], nullptr, 10);
        else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
        else if (!std::strcmp(argv[i], "--croniter"))
            croniter = true;
        else {
            std::fprintf(stderr, "usage: %s [--vigies N] [--rounds R] [--croniter]\n", argv[0]);
            return 2;
        }
    }
    constexpr std::size_t n_expr = sizeof expressions / sizeof *expressions;
    const int64_t start = 1'795'000'000'000;  // 2026-11-18

    std::printf("vigy_schedule_bench: %zu vigies, %d rounds, %zu expressions; sizeof(cron_schedule) = %zu bytes\n",
                vigies, rounds, n_expr, sizeof(cron_schedule));
    for (const char* zone : zones) {
        const time_zone tz = time_zone::locate(zone);
        auto t0 = clock_type::now();
        std::vector<cron_schedule> crons;
        crons.reserve(vigies);
        for (std::size_t i = 0; i < vigies; ++i) crons.push_back(cron_schedule::parse(expressions[i % n_expr], tz));
        const double parse_ns = ns_since(t0, vigies);

        std::vector<int64_t> at(vigies, start);
        t0 = clock_type::now();
        uint64_t sink = 0;
        for (int r = 0; r < rounds; ++r)
            for (std::size_t i = 0; i < vigies; ++i) {
                const auto n = crons[i].next(at[i]);
                at[i] = *n;
                sink += static_cast<uint64_t>(*n);
            }
        const double next_ns = ns_since(t0, vigies * static_cast<std::size_t>(rounds));

        // anchor: one zone lookup per vigy and round
        t0 = clock_type::now();
        for (int r = 0; r < rounds; ++r)
            for (std::size_t i = 0; i < vigies; ++i)
                sink += static_cast<uint64_t>(tz.segment_at(at[i] / 1000 + r).offset_s);
        const double seg_ns = ns_since(t0, vigies * static_cast<std::size_t>(rounds));
        std::printf("  %-18s parse %7.0f ns   next %7.0f ns   (anchor: one zone lookup %5.0f ns)   [%llu]\n", zone,
                    parse_ns, next_ns, seg_ns, static_cast<unsigned long long>(sink % 10));
    }

    // anchor: the fixed-rate slot, as --every computes it
    schedule_spec every;
    every.every_ms = 10'000;
    std::vector<int64_t> at(vigies, start);
    auto t0 = clock_type::now();
    uint64_t sink = 0;
    for (int r = 0; r < rounds; ++r)
        for (std::size_t i = 0; i < vigies; ++i) {
            at[i] = *every.next_slot(at[i], start + static_cast<int64_t>(i));
            sink += static_cast<uint64_t>(at[i]);
        }
    std::printf("  anchor: --every next_slot %5.1f ns   [%llu]\n",
                ns_since(t0, vigies * static_cast<std::size_t>(rounds)), static_cast<unsigned long long>(sink % 10));

    if (croniter) {
        // croniter over the same expressions (UTC), 2,000 get_next calls in one process.
        std::string script = "import time\nfrom croniter import croniter\nimport datetime\nex=[";
        for (const char* e : expressions) {
            std::string x = e;  // croniter wants a seconds field last
            if (std::count(x.begin(), x.end(), ' ') == 5)
                x = x.substr(x.find(' ') + 1) + " " + x.substr(0, x.find(' '));
            script += "'" + x + "',";
        }
        script +=
            "]\nt=datetime.datetime(2026,11,18,tzinfo=datetime.timezone.utc)\nits=[croniter(e,t) for e in ex]\n"
            "n=2000\nt0=time.perf_counter()\nfor i in range(n): its[i%len(its)].get_next(float)\n"
            "print('  anchor: croniter 1.3.5 get_next %.0f ns' % ((time.perf_counter()-t0)/n*1e9))\n";
        const std::string cmd = "/usr/bin/python3 -c \"" + script + "\"";
        std::fflush(stdout);
        if (std::system(cmd.c_str()) != 0)
            std::fprintf(stderr, "croniter anchor failed (apt-get install python3-croniter)\n");
    }
    return 0;
}
