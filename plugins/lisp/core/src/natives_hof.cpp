// tatara-lisp higher-order natives (reference §5.11): apply, map, filter, folds, searches,
// grouping, sorting, iterate/repeatedly and promises. All procedures are called through
// eval_ctx::call, so fuel, depth and not-callable/arity errors behave like Lisp calls.
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "tatara/native.hpp"
#include "tatara/printer.hpp"

namespace tatara {
namespace {

using args_t = std::span<const value>;

value call1(eval_ctx& ctx, value f, value a) { return ctx.call(f, args_t(&a, 1)); }

value call2(eval_ctx& ctx, value f, value a, value b) {
    value two[2] = {a, b};
    return ctx.call(f, args_t(two, 2));
}

// (apply f a ... lst): the last argument is spread.
value nat_apply(eval_ctx& ctx, args_t args) {
    value last = args.back();
    if (!last.is_listish()) raise_type("list (last arg of apply)", last);
    std::vector<value> call_args(args.begin() + 1, args.end() - 1);
    for (value x : last.items()) call_args.push_back(x);
    return ctx.call(args[0], call_args);
}

// (map f xs ys ...) zips over the shortest list; always returns a list.
value nat_map(eval_ctx& ctx, args_t args) {
    value f = args[0];
    std::vector<std::span<const value>> lists;
    size_t n = std::numeric_limits<size_t>::max();
    for (size_t i = 1; i < args.size(); ++i) {
        lists.push_back(arg_list(args, i));
        n = std::min(n, lists.back().size());
    }
    list_builder out(ctx, n);
    std::vector<value> call_args(lists.size());
    for (size_t k = 0; k < n; ++k) {
        for (size_t j = 0; j < lists.size(); ++j) call_args[j] = lists[j][k];
        out.push(ctx.call(f, call_args));
    }
    return out.finish();
}

value filter_impl(eval_ctx& ctx, args_t args, bool keep) {
    value pred = args[0];
    auto xs = arg_list(args, 1);
    list_builder out(ctx);
    for (value x : xs)
        if (call1(ctx, pred, x).truthy() == keep) out.push(x);
    return out.finish();
}

value nat_filter(eval_ctx& ctx, args_t args) { return filter_impl(ctx, args, true); }
value nat_remove(eval_ctx& ctx, args_t args) { return filter_impl(ctx, args, false); }

value nat_for_each(eval_ctx& ctx, args_t args) {
    value f = args[0];
    for (value x : arg_list(args, 1)) call1(ctx, f, x);
    return value::nil();
}

value nat_foldl(eval_ctx& ctx, args_t args) {
    value f = args[0];
    value acc = args[1];
    for (value x : arg_list(args, 2)) acc = call2(ctx, f, acc, x);
    return acc;
}

value nat_foldr(eval_ctx& ctx, args_t args) {
    value f = args[0];
    value acc = args[1];
    auto xs = arg_list(args, 2);
    for (size_t i = xs.size(); i-- > 0;) acc = call2(ctx, f, xs[i], acc);
    return acc;
}

// (reduce f xs) seeds with the first element; (reduce f init xs) is foldl.
value nat_reduce(eval_ctx& ctx, args_t args) {
    if (args.size() == 3) return nat_foldl(ctx, args);
    value f = args[0];
    auto xs = arg_list(args, 1);
    if (xs.empty()) raise_native("reduce", "no init and empty list");
    value acc = xs[0];
    for (size_t i = 1; i < xs.size(); ++i) acc = call2(ctx, f, acc, xs[i]);
    return acc;
}

// (scan-left f init xs): init and every intermediate accumulator.
value nat_scan_left(eval_ctx& ctx, args_t args) {
    value f = args[0];
    value acc = args[1];
    auto xs = arg_list(args, 2);
    list_builder out(ctx, xs.size() + 1);
    out.push(acc);
    for (value x : xs) {
        acc = call2(ctx, f, acc, x);
        out.push(acc);
    }
    return out.finish();
}

value nat_find(eval_ctx& ctx, args_t args) {
    value pred = args[0];
    for (value x : arg_list(args, 1))
        if (call1(ctx, pred, x).truthy()) return x;
    return value::nil();
}

value nat_find_index(eval_ctx& ctx, args_t args) {
    value pred = args[0];
    int64_t i = 0;
    for (value x : arg_list(args, 1)) {
        if (call1(ctx, pred, x).truthy()) return value::integer(i);
        ++i;
    }
    return value::integer(-1);
}

// First truthy predicate result (not the element), else nil.
value nat_some(eval_ctx& ctx, args_t args) {
    value pred = args[0];
    for (value x : arg_list(args, 1)) {
        value r = call1(ctx, pred, x);
        if (r.truthy()) return r;
    }
    return value::nil();
}

value nat_any(eval_ctx& ctx, args_t args) {
    value pred = args[0];
    for (value x : arg_list(args, 1))
        if (call1(ctx, pred, x).truthy()) return value::boolean(true);
    return value::boolean(false);
}

value nat_every(eval_ctx& ctx, args_t args) {
    value pred = args[0];
    for (value x : arg_list(args, 1))
        if (!call1(ctx, pred, x).truthy()) return value::boolean(false);
    return value::boolean(true);
}

value nat_count_if(eval_ctx& ctx, args_t args) {
    value pred = args[0];
    int64_t n = 0;
    for (value x : arg_list(args, 1))
        if (call1(ctx, pred, x).truthy()) ++n;
    return value::integer(n);
}

// Index of the first element failing pred (xs.size() when all pass).
size_t prefix_end(eval_ctx& ctx, value pred, std::span<const value> xs) {
    size_t i = 0;
    while (i < xs.size() && call1(ctx, pred, xs[i]).truthy()) ++i;
    return i;
}

value nat_take_while(eval_ctx& ctx, args_t args) {
    auto xs = arg_list(args, 1);
    size_t end = prefix_end(ctx, args[0], xs);
    return ctx.make_list(xs.subspan(0, end));
}

value nat_drop_while(eval_ctx& ctx, args_t args) {
    auto xs = arg_list(args, 1);
    size_t end = prefix_end(ctx, args[0], xs);
    return ctx.make_list(xs.subspan(end));
}

// ((matching...) (non-matching...)).
value nat_partition(eval_ctx& ctx, args_t args) {
    value pred = args[0];
    list_builder yes(ctx);
    list_builder no(ctx);
    for (value x : arg_list(args, 1)) {
        if (call1(ctx, pred, x).truthy())
            yes.push(x);
        else
            no.push(x);
    }
    value parts[2] = {yes.finish(), no.finish()};
    return ctx.make_list(parts);
}

// group-by keys are strings: a string key as is, otherwise ":KIND text".
std::string group_key(value k) {
    std::string s;
    switch (k.tag) {
    case type::string: return std::string(k.text());
    case type::symbol: return ":sym " + std::string(k.text());
    case type::keyword: return ":kw " + std::string(k.text());
    case type::integer: return ":int " + std::to_string(k.as_int());
    case type::real:
        s = ":float ";
        print_real(s, k.as_real());
        return s;
    case type::boolean: return k.as_bool() ? ":bool true" : ":bool false";
    case type::nil: return ":nil";
    default:
        s = ":";
        print_value(s, k);
        return s;
    }
}

// ((KEY items...) ...) in first-seen key order.
value nat_group_by(eval_ctx& ctx, args_t args) {
    value f = args[0];
    auto xs = arg_list(args, 1);
    std::vector<std::string> keys;
    std::vector<std::vector<value>> groups;
    std::unordered_map<std::string, size_t> index;
    for (value x : xs) {
        std::string k = group_key(call1(ctx, f, x));
        auto [it, fresh] = index.try_emplace(k, keys.size());
        if (fresh) {
            keys.push_back(k);
            groups.emplace_back();
        }
        groups[it->second].push_back(x);
    }
    list_builder out(ctx, keys.size());
    for (size_t g = 0; g < keys.size(); ++g) {
        value pair[2] = {ctx.make_string(keys[g]), ctx.make_list(groups[g])};
        out.push(ctx.make_list(pair));
    }
    return out.finish();
}

// Stable insertion sort: adjacent items swap while (cmp left right) is an int > 0 or #t,
// so `compare` and `>` sort ascending and `<` descending (reference semantics).
value nat_sort_by(eval_ctx& ctx, args_t args) {
    value cmp = args[0];
    auto xs = arg_list(args, 1);
    std::vector<value> v(xs.begin(), xs.end());
    auto should_swap = [&](value left, value right) {
        value r = call2(ctx, cmp, left, right);
        if (r.is_int()) return r.as_int() > 0;
        if (r.tag == type::boolean) return r.as_bool();
        raise_type("int (or bool) from comparator", r);
    };
    for (size_t i = 1; i < v.size(); ++i) {
        for (size_t j = i; j > 0 && should_swap(v[j - 1], v[j]); --j) std::swap(v[j - 1], v[j]);
    }
    return ctx.make_list(v);
}

// Count argument of iterate/repeatedly: a non-negative int (type mismatch "integer" for a
// non-int, native-fn `hof` for a negative one, as in the reference).
size_t count_arg(value n) {
    if (!n.is_int()) raise_type("integer", n);
    if (n.as_int() < 0) raise_native("hof", "expected non-negative int");
    if (static_cast<uint64_t>(n.as_int()) > std::numeric_limits<uint32_t>::max())
        raise_native("hof", "count too large for a list");
    return static_cast<size_t>(n.as_int());
}

// (iterate f x n): (x (f x) (f (f x)) ...), n elements. Like the reference, f is applied
// after every element, the last included (n calls in all).
value nat_iterate(eval_ctx& ctx, args_t args) {
    value f = args[0];
    size_t n = count_arg(args[2]);
    list_builder out(ctx, std::min<size_t>(n, 1024));
    value x = args[1];
    for (size_t i = 0; i < n; ++i) {
        out.push(x);
        x = call1(ctx, f, x);
    }
    return out.finish();
}

// (repeatedly thunk n).
value nat_repeatedly(eval_ctx& ctx, args_t args) {
    value f = args[0];
    size_t n = count_arg(args[1]);
    list_builder out(ctx, std::min<size_t>(n, 1024));
    for (size_t i = 0; i < n; ++i) out.push(ctx.call(f, {}));
    return out.finish();
}

value nat_force(eval_ctx& ctx, args_t args) { return ctx.force(args[0]); }

value nat_promise_p(eval_ctx&, args_t args) { return value::boolean(args[0].tag == type::promise); }

}  // namespace

void install_hof_natives(native_registry& r) {
    r.add("apply", 2, -1, nat_apply);
    r.add("map", 2, -1, nat_map);
    r.add("filter", 2, 2, nat_filter);
    r.add("remove", 2, 2, nat_remove);
    r.add("for-each", 2, 2, nat_for_each);
    r.add("foldl", 3, 3, nat_foldl);
    r.add("foldr", 3, 3, nat_foldr);
    r.add("reduce", 2, 3, nat_reduce);
    r.add("scan-left", 3, 3, nat_scan_left);
    r.add("find", 2, 2, nat_find);
    r.add("find-index", 2, 2, nat_find_index);
    r.add("some", 2, 2, nat_some);
    r.add("any?", 2, 2, nat_any);
    r.add("every?", 2, 2, nat_every);
    r.add("count-if", 2, 2, nat_count_if);
    r.add("take-while", 2, 2, nat_take_while);
    r.add("drop-while", 2, 2, nat_drop_while);
    r.add("partition", 2, 2, nat_partition);
    r.add("group-by", 2, 2, nat_group_by);
    r.add("sort-by", 2, 2, nat_sort_by);
    r.add("iterate", 3, 3, nat_iterate);
    r.add("repeatedly", 2, 2, nat_repeatedly);
    r.add("force", 1, 1, nat_force);
    r.add("promise?", 1, 1, nat_promise_p);
}

}  // namespace tatara
