// examples/embed/app_plugin.cpp — the "app" extension pack and "app.autoscaler" kind.
//
// Intrinsics (callable from lisp programs):
//   (app-queue-depth)    -> int, the current queue depth
//   (app-workers)        -> int, the current worker count
//   (app-scale-to n)     -> nil, sets the worker count and records an `update` action
// The native kind ticks the same rule in C++: one worker per 10 queued items (1..16).
#include "app_plugin.hpp"

#include "vigy/sdk.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

namespace app {

state& app_state() {
    static state s;
    return s;
}

namespace {

using vigy::sdk::call_args;
using vigy::sdk::tick_ref;

int64_t wanted_workers(int64_t depth) { return std::clamp<int64_t>((depth + 9) / 10, 1, 16); }

void scale_to(tick_ref t, int64_t n) {
    const int64_t before = app_state().workers.exchange(n);
    if (before == n) return;
    t.emit_action("update", nullptr, vigy::sdk::str("ok"),
                  vigy::sdk::str("workers " + std::to_string(before) + " -> " + std::to_string(n)));
}

vigy_value queue_depth(const call_args&, tick_ref) { return vigy_int(app_state().queue_depth.load()); }
vigy_value workers(const call_args&, tick_ref) { return vigy_int(app_state().workers.load()); }
vigy_value scale(const call_args& args, tick_ref t) {
    const int64_t n = args.integer(0, "n");
    if (n < 1) vigy::sdk::fail(VIGY_INVALID_ARGUMENT, "app-scale-to: argument 1 (n) must be >= 1");
    scale_to(t, n);
    return vigy_nil();
}

const vigy_intrinsic intrinsics[] = {
    vigy::sdk::intrinsic<&queue_depth>("app-queue-depth", 0, 0, "(app-queue-depth) -> the app's queue depth"),
    vigy::sdk::intrinsic<&workers>("app-workers", 0, 0, "(app-workers) -> the app's worker count"),
    vigy::sdk::intrinsic<&scale>("app-scale-to", 1, 1, "(app-scale-to n) -> nil; sets the worker count"),
};

const vigy_host_extension packs[] = {
    {sizeof(vigy_host_extension), 0, "app", "the embedding application's queue and workers", 3, intrinsics},
};
const vigy_host_extension_list pack_list = {sizeof(vigy_host_extension_list), 0, 1, packs};

/// The same rule as a native reconciler (no language runtime needed).
struct autoscaler {
    static std::unique_ptr<autoscaler> create(const vigy_reconciler_spec&) { return std::make_unique<autoscaler>(); }
    void tick(tick_ref t) {
        const int64_t depth = app_state().queue_depth.load();
        const int64_t want = wanted_workers(depth);
        vigy_value d = vigy_int(depth);
        vigy_value w = vigy_int(want);
        t.set_observed("queue_depth", d);
        t.set_desired("workers", w);
        scale_to(t, want);
        t.log(VIGY_LOG_INFO, "queue " + std::to_string(depth) + ", workers " + std::to_string(want));
        t.set_condition("Scaled", VIGY_CONDITION_TRUE, vigy::sdk::str("WorkersMatchQueue"), vigy::sdk::absent());
    }
};

const vigy_reconciler_kind kinds[] = {
    {sizeof(vigy_reconciler_kind), 0, "app.autoscaler", "one worker per 10 queued items (config: {})"},
};
const vigy_reconciler_factory factory = {
    sizeof(vigy_reconciler_factory),
    1,
    kinds,
    &vigy::sdk::reconciler_adapter<autoscaler>::create,
    &vigy::sdk::reconciler_adapter<autoscaler>::tick,
    &vigy::sdk::reconciler_adapter<autoscaler>::destroy,
};

const void* get_extension(const char* id) {
    const std::string_view s(id);
    if (s == VIGY_HOST_EXTENSION_ID) return &pack_list;
    if (s == VIGY_RECONCILER_FACTORY_ID) return &factory;
    return nullptr;
}

const vigy_plugin_descriptor descriptor = {
    VIGY_PLUGIN_MAGIC,
    sizeof(vigy_plugin_descriptor),
    VIGY_ABI_VERSION,
    0,
    "com.example.app",
    "0.1.0",
    "the embedding example's own intrinsics and autoscaler kind",
    &vigy::sdk::remember_host,
    nullptr,
    &get_extension,
};

}  // namespace

const vigy_plugin_descriptor* plugin_entry(uint32_t host_abi_version) {
    return vigy::sdk::abi_compatible(host_abi_version) ? &descriptor : nullptr;
}

}  // namespace app
