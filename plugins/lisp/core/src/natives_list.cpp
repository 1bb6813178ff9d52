// tatara-lisp natives: lists (§5.4), equality (§2.5) and type predicates (§5.3).
// Lists are immutable windows onto buffers; cons onto a list that starts at its buffer's
// free front reuses the buffer, so building a list by repeated cons is amortised O(1).
#include <algorithm>
#include <cstring>

#include "internal.hpp"

namespace tatara {

namespace {

using args_t = std::span<const value>;

value nat_car(eval_ctx&, args_t a) {
    if (!a[0].is_listish()) raise_type("pair", a[0]);
    auto xs = a[0].items();
    if (xs.empty()) raise_native("car", "car of empty list");
    return xs[0];
}

value nat_cdr(eval_ctx& ctx, args_t a) {
    if (!a[0].is_listish()) raise_type("pair", a[0]);
    auto xs = a[0].items();
    if (xs.empty()) raise_native("cdr", "cdr of empty list");
    if (xs.size() == 1) return value::nil();
    const list_obj* l = a[0].as_list();
    auto* r = ctx.make<list_obj>();
    r->items = l->items + 1;
    r->size = l->size - 1;
    r->buf = nullptr;
    return value::object(type::list, r);
}

/// New list x . xs with free room in front of x for later conses.
value cons_copy(eval_ctx& ctx, value x, std::span<const value> xs) {
    size_t n = xs.size() + 1;
    size_t cap = std::max<size_t>(8, 2 * n);
    auto* buf = ctx.make<list_buf>();
    buf->data = ctx.mem().make_array<value>(cap);
    buf->cap = static_cast<uint32_t>(cap);
    buf->front = static_cast<uint32_t>(cap - n);
    buf->frozen = ctx.mem().permanent();
    value* dst = buf->data + buf->front;
    dst[0] = x;
    if (!xs.empty()) std::memcpy(static_cast<void*>(dst + 1), xs.data(), xs.size() * sizeof(value));
    auto* l = ctx.make<list_obj>();
    l->items = dst;
    l->size = static_cast<uint32_t>(n);
    l->buf = buf;
    return value::object(type::list, l);
}

value nat_cons(eval_ctx& ctx, args_t a) {
    value x = a[0], tail = a[1];
    if (tail.is_nil()) return cons_copy(ctx, x, {});
    if (!tail.is_list()) {
        value both[2] = {x, tail};
        return ctx.make_list(both);
    }
    const list_obj* l = tail.as_list();
    list_buf* b = l->buf;
    if (b && !b->frozen && b->front > 0 && l->items == b->data + b->front) {
        --b->front;
        b->data[b->front] = x;
        auto* r = ctx.make<list_obj>();
        r->items = b->data + b->front;
        r->size = l->size + 1;
        r->buf = b;
        return value::object(type::list, r);
    }
    return cons_copy(ctx, x, tail.items());
}

value nat_list(eval_ctx& ctx, args_t a) { return ctx.make_list(a); }

value nat_length(eval_ctx&, args_t a) {
    if (!a[0].is_listish()) raise_type("list", a[0]);
    return value::integer(static_cast<int64_t>(a[0].items().size()));
}

value nat_reverse(eval_ctx& ctx, args_t a) {
    if (a[0].is_nil()) return value::nil();
    auto xs = arg_list(a, 0);
    value out;
    value* d = ctx.new_list(xs.size(), out);
    for (size_t i = 0; i < xs.size(); ++i) d[i] = xs[xs.size() - 1 - i];
    return out;
}

value nat_append(eval_ctx& ctx, args_t a) {
    size_t total = 0;
    for (size_t i = 0; i < a.size(); ++i) total += arg_list(a, i).size();
    if (total == 0) return value::nil();
    value out;
    value* d = ctx.new_list(total, out);
    for (value v : a)
        for (value x : v.items()) *d++ = x;
    return out;
}

size_t count_arg(args_t a) {
    int64_t n = arg_int(a, 0);
    return n < 0 ? 0 : static_cast<size_t>(n);
}

value nat_take(eval_ctx& ctx, args_t a) {
    size_t n = count_arg(a);
    auto xs = arg_list(a, 1);
    return ctx.make_list(xs.subspan(0, std::min(n, xs.size())));
}

value nat_drop(eval_ctx& ctx, args_t a) {
    size_t n = count_arg(a);
    auto xs = arg_list(a, 1);
    return ctx.make_list(xs.subspan(std::min(n, xs.size())));
}

value nat_nth(eval_ctx&, args_t a) {
    int64_t i = arg_int(a, 0);
    auto xs = arg_list(a, 1);
    if (i < 0 || static_cast<size_t>(i) >= xs.size()) return value::nil();
    return xs[static_cast<size_t>(i)];
}

value nat_eq(eval_ctx&, args_t a) { return value::boolean(eq(a[0], a[1])); }
value nat_equal(eval_ctx& ctx, args_t a) {
    ctx.check_stack();
    return value::boolean(equal(a[0], a[1]));
}

template <bool (*P)(value)>
value pred(eval_ctx&, args_t a) {
    return value::boolean(P(a[0]));
}

bool p_null(value v) { return v.is_nil() || (v.is_list() && v.as_list()->size == 0); }
bool p_pair(value v) { return v.is_list() && v.as_list()->size > 0; }
bool p_list(value v) { return v.is_listish(); }
bool p_symbol(value v) { return v.is_symbol(); }
bool p_string(value v) { return v.is_string(); }
bool p_integer(value v) { return v.is_int(); }
bool p_number(value v) { return v.is_number(); }
bool p_boolean(value v) { return v.tag == type::boolean; }
bool p_procedure(value v) { return v.is_procedure(); }
bool p_foreign(value v) { return v.tag == type::foreign; }
bool p_keyword(value v) { return v.is_keyword(); }
bool p_atom(value v) { return !(v.is_listish() || v.is_procedure()); }

}  // namespace

void install_list_natives(native_registry& r) {
    r.add("car", 1, 1, nat_car);
    r.add("cdr", 1, 1, nat_cdr);
    r.add("cons", 2, 2, nat_cons);
    r.add("list", 0, -1, nat_list);
    r.add("length", 1, 1, nat_length);
    r.add("reverse", 1, 1, nat_reverse);
    r.add("append", 0, -1, nat_append);
    r.add("take", 2, 2, nat_take);
    r.add("drop", 2, 2, nat_drop);
    r.add("nth", 2, 2, nat_nth);
    r.add("eq?", 2, 2, nat_eq);
    r.add("equal?", 2, 2, nat_equal);
    r.add("null?", 1, 1, pred<p_null>);
    r.add("pair?", 1, 1, pred<p_pair>);
    r.add("list?", 1, 1, pred<p_list>);
    r.add("symbol?", 1, 1, pred<p_symbol>);
    r.add("string?", 1, 1, pred<p_string>);
    r.add("integer?", 1, 1, pred<p_integer>);
    r.add("number?", 1, 1, pred<p_number>);
    r.add("boolean?", 1, 1, pred<p_boolean>);
    r.add("procedure?", 1, 1, pred<p_procedure>);
    r.add("foreign?", 1, 1, pred<p_foreign>);
    r.add("keyword?", 1, 1, pred<p_keyword>);
    r.add("atom?", 1, 1, pred<p_atom>);
}

}  // namespace tatara
