// ext_scheduling.cpp — the Scheduling extension (plugin vigy.scheduling): tick
// metadata and time-based gates.
//   (vigy-tick)             -> this tick's start, epoch ms
//   (vigy-tick-count)       -> 1 on the first tick (successful ticks so far + 1)
//   (vigy-since-last-tick)  -> ms since the previous successful tick's start; -1 on the first
//   (vigy-rate-limited? key window-ms)
//       -> #t while the gate is CLOSED: less than window-ms since it last opened;
//          otherwise the gate opens: records this tick's start under kv
//          `__ratelimit::<key>` and returns #f (so heavy work runs at most once
//          per window: `(if (vigy-rate-limited? "sync" 2000) (vigy-defer ...) (work))`)
//   (vigy-backoff-ms attempt) -> min(1000 * 2^attempt, 30000)
//   (vigy-trigger)          -> why this tick runs: {"kind" "source" "payload"} for a
//                              triggered tick, nil for a scheduled or forced one
//                              (and from a host older than ABI 1.1)
#include "ext_common.hpp"

namespace vigy::ext {
namespace {

vigy_value tick(const call_args&, tick_ref t) { return vigy_int(t.info().tick_start_ms); }

vigy_value tick_count(const call_args&, tick_ref t) { return vigy_int(t.info().tick_count); }

vigy_value since_last_tick(const call_args&, tick_ref t) {
    vigy_tick_info i = t.info();
    return vigy_int(i.previous_tick_ms < 0 ? -1 : i.tick_start_ms - i.previous_tick_ms);
}

vigy_value rate_limited(const call_args& args, tick_ref t) {
    std::string k = "__ratelimit::" + std::string(key_arg(args, 0, "key"));
    int64_t window = args.integer(1, "window-ms");
    if (window < 0) bad_argument(args, 1, "window-ms", "must be >= 0, got " + std::to_string(window));
    int64_t now = t.info().tick_start_ms;
    vigy_value last = vigy_nil();
    bool found = host_call(args, [&] { return t.kv_get(k, args.call()->arena, &last); });
    if (found && last.type == VIGY_INT && now - last.as.i < window && now >= last.as.i) return vigy_bool(1);
    host_call(args, [&] { t.kv_set(k, vigy_int(now)); });
    return vigy_bool(0);
}

vigy_value backoff_ms(const call_args& args, tick_ref) {
    int64_t attempt = args.integer(0, "attempt");
    if (attempt < 0) bad_argument(args, 0, "attempt", "must be >= 0, got " + std::to_string(attempt));
    constexpr int64_t cap = 30000;
    int64_t ms = attempt >= 5 ? cap : 1000 * (int64_t{1} << attempt);
    return vigy_int(ms < cap ? ms : cap);
}

vigy_value trigger(const call_args& args, tick_ref t) {
    vigy_tick_info i = t.info();
    return i.trigger ? args.make().copy(*i.trigger) : vigy_nil();
}

constexpr vigy_intrinsic table[] = {
    sdk::intrinsic<tick>("vigy-tick", 0, 0, "(vigy-tick) -> this tick's start in epoch ms"),
    sdk::intrinsic<tick_count>("vigy-tick-count", 0, 0, "(vigy-tick-count) -> 1 on the first tick"),
    sdk::intrinsic<since_last_tick>("vigy-since-last-tick", 0, 0,
                                    "(vigy-since-last-tick) -> ms since the previous tick started; -1 on the first"),
    sdk::intrinsic<rate_limited>("vigy-rate-limited?", 2, 2,
                                 "(vigy-rate-limited? key window-ms) -> #t while closed, else opens it and returns #f"),
    sdk::intrinsic<backoff_ms>("vigy-backoff-ms", 1, 1, "(vigy-backoff-ms attempt) -> min(1000*2^attempt, 30000)"),
    sdk::intrinsic<trigger>(
        "vigy-trigger", 0, 0,
        "(vigy-trigger) -> {kind source payload} of a triggered tick; nil when scheduled or forced"),
};

}  // namespace
}  // namespace vigy::ext

VIGY_EXTENSION_PLUGIN("vigy.scheduling", "standard extension: tick metadata, rate limits and backoff", "scheduling",
                      "vigy-tick vigy-tick-count vigy-since-last-tick vigy-rate-limited? vigy-backoff-ms vigy-trigger",
                      ::vigy::ext::table)
