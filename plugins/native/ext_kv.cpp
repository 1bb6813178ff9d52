// ext_kv.cpp — the Kv extension (plugin vigy.kv): the vigy's persistent
// key/value store, saved by the host with a successful tick. Values keep their
// type (ints stay ints; lists and maps round-trip).
//   (vigy-get key [default]) -> the value, else default, else nil
//   (vigy-set key value)     -> nil
//   (vigy-incr key [delta])  -> the new int (absent counts as 0; delta default 1)
//   (vigy-has? key)          -> bool
//   (vigy-del key)           -> bool: whether the key existed
#include "ext_common.hpp"

#include <limits>

namespace vigy::ext {
namespace {

vigy_value get(const call_args& args, tick_ref t) {
    std::string_view key = key_arg(args, 0, "key");
    vigy_value out = vigy_nil();
    bool found = host_call(args, [&] { return t.kv_get(key, args.call()->arena, &out); });
    if (found) return out;
    return args.has(1) ? args.make().copy(args[1]) : vigy_nil();  // results live in the caller's arena
}

vigy_value set(const call_args& args, tick_ref t) {
    std::string_view key = key_arg(args, 0, "key");
    host_call(args, [&] { t.kv_set(key, args[1]); });
    return vigy_nil();
}

vigy_value incr(const call_args& args, tick_ref t) {
    std::string_view key = key_arg(args, 0, "key");
    int64_t delta = args.has(1) ? args.integer(1, "delta") : 1;
    vigy_value cur = vigy_nil();
    bool found = host_call(args, [&] { return t.kv_get(key, args.call()->arena, &cur); });
    int64_t base = 0;
    if (found) {
        if (cur.type != VIGY_INT)
            sdk::fail(VIGY_FAILED_PRECONDITION, std::string(args.name()) + ": value of key \"" + std::string(key) +
                                                    "\" is " + vigy_type_name(cur.type) + ", not an int");
        base = cur.as.i;
    }
    int64_t next;
    if (__builtin_add_overflow(base, delta, &next))
        sdk::fail(VIGY_OUT_OF_RANGE,
                  std::string(args.name()) + ": integer overflow incrementing key \"" + std::string(key) + "\"");
    vigy_value v = vigy_int(next);
    host_call(args, [&] { t.kv_set(key, v); });
    return v;
}

vigy_value has(const call_args& args, tick_ref t) {
    std::string_view key = key_arg(args, 0, "key");
    return vigy_bool(t.kv_has(key) ? 1 : 0);
}

vigy_value del(const call_args& args, tick_ref t) {
    std::string_view key = key_arg(args, 0, "key");
    bool existed = t.kv_has(key);
    host_call(args, [&] { t.kv_del(key); });
    return vigy_bool(existed ? 1 : 0);
}

constexpr vigy_intrinsic table[] = {
    sdk::intrinsic<get>("vigy-get", 1, 2, "(vigy-get key [default]) -> the stored value, else default, else nil"),
    sdk::intrinsic<set>("vigy-set", 2, 2, "(vigy-set key value) -> nil; persisted when the tick succeeds"),
    sdk::intrinsic<incr>("vigy-incr", 1, 2, "(vigy-incr key [delta]) -> the new int value (absent = 0, delta 1)"),
    sdk::intrinsic<has>("vigy-has?", 1, 1, "(vigy-has? key) -> whether the key is stored"),
    sdk::intrinsic<del>("vigy-del", 1, 1, "(vigy-del key) -> whether the key existed; deletes it"),
};

}  // namespace
}  // namespace vigy::ext

VIGY_EXTENSION_PLUGIN("vigy.kv", "standard extension: the vigy's persistent key/value store", "kv",
                      "vigy-get vigy-set vigy-incr vigy-has? vigy-del", ::vigy::ext::table)
