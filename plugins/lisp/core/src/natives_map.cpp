// tatara-lisp hash-map natives (reference §5.12). Maps are immutable and iterate in
// insertion order (project deviation 4): setting an existing key keeps its position,
// removing a key keeps the order of the rest, merge appends keys new to the result.
#include <string>
#include <vector>

#include "tatara/native.hpp"

namespace tatara {
namespace {

using args_t = std::span<const value>;

const map_obj* arg_map(args_t args, size_t i) {
    if (!args[i].is_map()) raise_type("map", args[i]);
    return args[i].as_map();
}

// Keys must be hashable even for lookups (the reference converts every key).
value arg_key(args_t args, size_t i) {
    if (!is_hashable(args[i]))
        raise_native("hash-map", "non-hashable key kind: " + std::string(type_error_name(args[i].tag)));
    return args[i];
}

value nat_hash_map(eval_ctx& ctx, args_t args) { return ctx.make_map(args); }

value nat_hash_map_p(eval_ctx&, args_t args) { return value::boolean(args[0].is_map()); }

value nat_count(eval_ctx&, args_t args) { return value::integer(static_cast<int64_t>(arg_map(args, 0)->size)); }

value nat_empty_p(eval_ctx&, args_t args) { return value::boolean(arg_map(args, 0)->size == 0); }

value nat_has_p(eval_ctx&, args_t args) {
    const map_obj* m = arg_map(args, 0);
    return value::boolean(map_find(m, arg_key(args, 1)) != nullptr);
}

value nat_get(eval_ctx&, args_t args) {
    const map_obj* m = arg_map(args, 0);
    const value* v = map_find(m, arg_key(args, 1));
    return v ? *v : value::nil();
}

value nat_get_or(eval_ctx&, args_t args) {
    const map_obj* m = arg_map(args, 0);
    const value* v = map_find(m, arg_key(args, 1));
    return v ? *v : args[2];
}

value nat_set(eval_ctx& ctx, args_t args) {
    arg_map(args, 0);
    return ctx.map_set(args[0], arg_key(args, 1), args[2]);
}

value nat_remove(eval_ctx& ctx, args_t args) {
    arg_map(args, 0);
    return ctx.map_remove(args[0], arg_key(args, 1));
}

// Lists of keys / values / (k v) entries in insertion order; empty lists for {}.
value nat_keys(eval_ctx& ctx, args_t args) {
    const map_obj* m = arg_map(args, 0);
    value out;
    value* items = ctx.new_list(m->size, out);
    for (uint32_t i = 0; i < m->size; ++i) items[i] = m->entries[2 * i];
    return out;
}

value nat_values(eval_ctx& ctx, args_t args) {
    const map_obj* m = arg_map(args, 0);
    value out;
    value* items = ctx.new_list(m->size, out);
    for (uint32_t i = 0; i < m->size; ++i) items[i] = m->entries[2 * i + 1];
    return out;
}

value nat_entries(eval_ctx& ctx, args_t args) {
    const map_obj* m = arg_map(args, 0);
    value out;
    value* items = ctx.new_list(m->size, out);
    for (uint32_t i = 0; i < m->size; ++i) items[i] = ctx.make_list(std::span(m->entries + 2 * i, 2));
    return out;
}

// Later maps win; a key keeps the position of its first appearance.
value nat_merge(eval_ctx& ctx, args_t args) {
    std::vector<value> kvs;
    for (size_t i = 0; i < args.size(); ++i) {
        const map_obj* m = arg_map(args, i);
        kvs.insert(kvs.end(), m->entries, m->entries + 2 * m->size);
    }
    return ctx.make_map(kvs);
}

// (hash-map-update m k f) sets k to (f current-or-nil).
value nat_update(eval_ctx& ctx, args_t args) {
    const map_obj* m = arg_map(args, 0);
    value k = arg_key(args, 1);
    const value* cur = map_find(m, k);
    value current = cur ? *cur : value::nil();
    value updated = ctx.call(args[2], std::span<const value>(&current, 1));
    return ctx.map_set(args[0], k, updated);
}

}  // namespace

void install_map_natives(native_registry& r) {
    r.add("hash-map", 0, -1, nat_hash_map);
    r.add("hash-map?", 1, 1, nat_hash_map_p);
    r.add("hash-map-count", 1, 1, nat_count);
    r.add("hash-map-empty?", 1, 1, nat_empty_p);
    r.add("hash-map-has?", 2, 2, nat_has_p);
    r.add("hash-map-get", 2, 2, nat_get);
    r.add("hash-map-get-or", 3, 3, nat_get_or);
    r.add("hash-map-set", 3, 3, nat_set);
    r.add("hash-map-remove", 2, 2, nat_remove);
    r.add("hash-map-keys", 1, 1, nat_keys);
    r.add("hash-map-values", 1, 1, nat_values);
    r.add("hash-map-entries", 1, 1, nat_entries);
    r.add("hash-map-merge", 1, -1, nat_merge);
    r.add("hash-map-update", 3, 3, nat_update);
}

}  // namespace tatara
