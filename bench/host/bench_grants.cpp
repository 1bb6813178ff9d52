// bench_grants.cpp — what the grant check costs per intrinsic call.
//
// One in-process plugin (id bench.ext, not a default capability) provides a
// trivial intrinsic; the registry installs it behind its grant-checking
// trampoline. Measured side by side, in ns per call (best of 7 runs of N
// calls, one thread):
//   direct        the plugin's own function, called as a language runtime
//                 would call an intrinsic of a default capability
//   granted       through the trampoline, from a tick granted bench.ext
//   first-of-tick a fresh tick context per call: the trampoline resolves the
//                 vigy's grants once per tick (plus building the tick context)
//   fresh tick    the same fresh tick context with a direct call (the anchor
//                 for first-of-tick)
//   denied        through the trampoline from a tick without the grant
//                 (builds the PERMISSION_DENIED message)
// Usage: vigy_host_bench [N]   (default 20000000)
#include "vigy/host/capabilities.hpp"
#include "vigy/host/registry.hpp"
#include "vigy/host/tick_context.hpp"

#include "vigy/sdk.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

vigy_status bench_fn(const vigy_call* call, vigy_value* result) {
    *result = vigy_int(static_cast<int64_t>(call->argc) + 1);
    return VIGY_OK;
}

const vigy_intrinsic intrinsics[] = {
    {sizeof(vigy_intrinsic), 0, 0, 0, "bench-one", "(bench-one) -> 1", &bench_fn, nullptr},
};
const vigy_host_extension pack = {sizeof(vigy_host_extension), 0, "bench", "bench", 1, intrinsics};
const vigy_host_extension_list packs = {sizeof(vigy_host_extension_list), 0, 1, &pack};
const void* get_extension(const char* id) { return std::string_view(id) == VIGY_HOST_EXTENSION_ID ? &packs : nullptr; }
const vigy_plugin_descriptor descriptor = {
    VIGY_PLUGIN_MAGIC, sizeof(vigy_plugin_descriptor), VIGY_ABI_VERSION, 0, "bench.ext", "1", "bench", nullptr, nullptr,
    &get_extension};

struct captured {
    vigy_intrinsic in{};
};

vigy_status capture(void* ctx, const vigy_intrinsic* in, vigy_error*) {
    static_cast<captured*>(ctx)->in = *in;
    return VIGY_OK;
}

template <class F>
double best_ns_per_call(long n, F&& body) {
    double best = 1e300;
    for (int run = 0; run < 7; ++run) {
        auto t0 = std::chrono::steady_clock::now();
        body(n);
        auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n));
    }
    return best;
}

volatile int64_t sink;
/// Read through a volatile so the compiler cannot inline the direct call away.
vigy_intrinsic_fn volatile direct_fn = &bench_fn;

}  // namespace

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 20'000'000;
    vigy::host::registry reg;
    if (!reg.add_static(&descriptor, "builtin:bench")) return 1;
    captured guarded;
    vigy_registrar registrar{sizeof registrar, 0, &guarded, &capture};
    if (reg.install_intrinsics(registrar, nullptr) != VIGY_OK || guarded.in.fn == &bench_fn) {
        std::fprintf(stderr, "bench.ext was not installed behind the grant check\n");
        return 1;
    }

    const vigy::host::capability_set grants({"bench.ext"});
    vigy::sdk::error_buffer eb;
    auto call_with = [&](vigy_tick* tick, vigy_intrinsic_fn fn, void* data) {
        vigy_call call{sizeof call, 0, nullptr, tick, nullptr, eb.get(), data};
        vigy_value out = vigy_nil();
        vigy_status s = fn(&call, &out);
        return s == VIGY_OK ? out.as.i : -int64_t{s};
    };

    vigy::host::tick_context granted = vigy::host::tick_context::begin({}, 1000);
    granted.set_grants(&grants);
    if (call_with(granted.tick(), guarded.in.fn, guarded.in.data) != 1) return 2;
    vigy::host::tick_context refused = vigy::host::tick_context::begin({}, 1000);
    if (call_with(refused.tick(), guarded.in.fn, guarded.in.data) != -VIGY_PERMISSION_DENIED) return 3;

    double direct = best_ns_per_call(n, [&](long k) {
        int64_t acc = 0;
        for (long i = 0; i < k; ++i) acc += call_with(granted.tick(), direct_fn, nullptr);
        sink = acc;
    });
    double through = best_ns_per_call(n, [&](long k) {
        int64_t acc = 0;
        for (long i = 0; i < k; ++i) acc += call_with(granted.tick(), guarded.in.fn, guarded.in.data);
        sink = acc;
    });
    const long per_tick_n = std::max(1L, n / 100);
    double first = best_ns_per_call(per_tick_n, [&](long k) {
        int64_t acc = 0;
        for (long i = 0; i < k; ++i) {
            vigy::host::tick_context t = vigy::host::tick_context::begin({}, 1000);
            t.set_grants(&grants);
            acc += call_with(t.tick(), guarded.in.fn, guarded.in.data);
        }
        sink = acc;
    });
    double fresh = best_ns_per_call(per_tick_n, [&](long k) {
        int64_t acc = 0;
        for (long i = 0; i < k; ++i) {
            vigy::host::tick_context t = vigy::host::tick_context::begin({}, 1000);
            t.set_grants(&grants);
            acc += call_with(t.tick(), direct_fn, nullptr);
        }
        sink = acc;
    });
    double denied = best_ns_per_call(per_tick_n, [&](long k) {
        int64_t acc = 0;
        for (long i = 0; i < k; ++i) acc += call_with(refused.tick(), guarded.in.fn, guarded.in.data);
        sink = acc;
    });

    std::printf("intrinsic call, ns per call (best of 7, %ld calls; %ld for the per-tick rows)\n", n, per_tick_n);
    std::printf("  %-36s %8.2f\n", "direct (default capability)", direct);
    std::printf("  %-36s %8.2f   (+%.2f ns: the grant check)\n", "guarded, granted", through, through - direct);
    std::printf("  %-36s %8.2f\n", "fresh tick + direct call", fresh);
    std::printf("  %-36s %8.2f   (+%.2f ns: grants resolved once per tick)\n", "fresh tick + first guarded call", first,
                first - fresh);
    std::printf("  %-36s %8.2f   (builds the permission-denied message)\n", "guarded, denied", denied);
    return 0;
}
