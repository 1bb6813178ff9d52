// ext_convergence.cpp — the Convergence extension (plugin vigy.convergence):
// policy over reserved kv keys, kept like any kv (saved only with a successful
// tick).
//   (vigy-once key)           -> #t exactly once per key across (successful)
//                                ticks, then #f; sentinel kv `__once::<key>`
//   (vigy-mark-converged key) -> nil; sets kv `__converged::<key>` = #t
//   (vigy-converged? key)     -> whether `__converged::<key>` is set (truthy)
#include "ext_common.hpp"

namespace vigy::ext {
namespace {

std::string reserved(std::string_view prefix, std::string_view key) {
    std::string k(prefix);
    k += key;
    return k;
}

vigy_value once(const call_args& args, tick_ref t) {
    std::string k = reserved("__once::", key_arg(args, 0, "key"));
    if (t.kv_has(k)) return vigy_bool(0);
    host_call(args, [&] { t.kv_set(k, vigy_bool(1)); });
    return vigy_bool(1);
}

vigy_value mark_converged(const call_args& args, tick_ref t) {
    std::string k = reserved("__converged::", key_arg(args, 0, "key"));
    host_call(args, [&] { t.kv_set(k, vigy_bool(1)); });
    return vigy_nil();
}

vigy_value converged(const call_args& args, tick_ref t) {
    std::string k = reserved("__converged::", key_arg(args, 0, "key"));
    vigy_value v = vigy_nil();
    bool found = host_call(args, [&] { return t.kv_get(k, args.call()->arena, &v); });
    return vigy_bool(found && sdk::truthy(v) ? 1 : 0);
}

constexpr vigy_intrinsic table[] = {
    sdk::intrinsic<once>("vigy-once", 1, 1, "(vigy-once key) -> #t the first time for key (across ticks), else #f"),
    sdk::intrinsic<mark_converged>("vigy-mark-converged", 1, 1,
                                   "(vigy-mark-converged key) -> nil; records that key has converged"),
    sdk::intrinsic<converged>("vigy-converged?", 1, 1, "(vigy-converged? key) -> whether key was marked converged"),
};

}  // namespace
}  // namespace vigy::ext

VIGY_EXTENSION_PLUGIN("vigy.convergence", "standard extension: once-sentinels and convergence flags", "convergence",
                      "vigy-once vigy-mark-converged vigy-converged?", ::vigy::ext::table)
