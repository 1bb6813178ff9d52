// tatara-lisp compiled code: one node class per construct (closure compilation).
// Locals are (depth, slot) addressed, globals are slots in the evaluation's global array.
#pragma once

#include <alloca.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "internal.hpp"

namespace tatara {

[[noreturn]] void raise_unbound_at(std::string_view name, const src_span& sp);
[[noreturn]] void raise_not_callable(value v);
value apply_closure(eval_state& st, const closure_obj* c, const value* argv, size_t n);
value eval_runtime(eval_state& st, frame* f, value code, const scope_snapshot* snap, const src_span& sp);
value macroexpand_runtime(eval_state& st, value form, bool once, const src_span& sp);
value caught_error_value(eval_state& st, const lisp_error& e);

inline frame* up(frame* f, uint32_t depth) {
    while (depth--) f = f->parent;
    return f;
}

inline value nil_value() { return value::nil(); }

struct const_node final : node {
    value v;
    value eval(eval_state&, frame*) const override { return v; }
};

struct global_ref final : node {
    uint32_t slot = 0;
    std::string_view name;
    value eval(eval_state& st, frame*) const override {
        value v = st.globals[slot];
        if (v.tag == type::unbound_) raise_unbound_at(name, span);
        return v;
    }
};

struct dyn_global_ref final : node {
    std::string_view name;
    value eval(eval_state& st, frame*) const override {
        auto it = st.dyn_globals.find(name);
        if (it == st.dyn_globals.end()) raise_unbound_at(name, span);
        return it->second;
    }
};

struct local0_ref final : node {
    uint32_t slot = 0;
    value eval(eval_state&, frame* f) const override { return f->slots[slot]; }
};

struct local1_ref final : node {
    uint32_t slot = 0;
    value eval(eval_state&, frame* f) const override { return f->parent->slots[slot]; }
};

struct local_ref final : node {
    uint32_t depth = 0, slot = 0;
    bool checked = false;
    std::string_view name;
    const node* fallback = nullptr;  ///< outer binding while an internal define is pending
    value eval(eval_state& st, frame* f) const override {
        value v = up(f, depth)->slots[slot];
        if (checked && v.tag == type::unbound_) {
            if (fallback) return fallback->eval(st, f);
            raise_unbound_at(name, span);
        }
        return v;
    }
};

struct global_def final : node {
    uint32_t slot = 0;
    const node* val = nullptr;
    value eval(eval_state& st, frame* f) const override {
        st.globals[slot] = val->eval(st, f);
        return nil_value();
    }
};

struct global_set final : node {
    uint32_t slot = 0;
    std::string_view name;
    const node* val = nullptr;
    src_span name_span{};
    value eval(eval_state& st, frame* f) const override {
        value v = val->eval(st, f);
        if (st.globals[slot].tag == type::unbound_) raise_unbound_at(name, name_span);
        st.globals[slot] = v;
        return nil_value();
    }
};

struct dyn_global_def final : node {
    std::string_view name;
    const node* val = nullptr;
    bool is_set = false;
    src_span name_span{};
    value eval(eval_state& st, frame* f) const override {
        value v = val->eval(st, f);
        if (is_set && !st.dyn_globals.count(name)) raise_unbound_at(name, name_span);
        auto it = st.dyn_globals.find(name);
        if (it == st.dyn_globals.end())
            st.dyn_globals.emplace(std::string(name), v);
        else
            it->second = v;
        return nil_value();
    }
};

struct local_set final : node {
    uint32_t depth = 0, slot = 0;
    bool checked = false;  ///< set! of a define-slot that may still be unbound
    std::string_view name;
    const node* val = nullptr;
    src_span name_span{};
    value eval(eval_state& st, frame* f) const override {
        value v = val->eval(st, f);
        value& dst = up(f, depth)->slots[slot];
        if (checked && dst.tag == type::unbound_) raise_unbound_at(name, name_span);
        dst = v;
        return nil_value();
    }
};

struct if_node final : node {
    const node *c = nullptr, *t = nullptr, *e = nullptr;
    value eval(eval_state& st, frame* f) const override {
        if (c->eval(st, f).truthy()) return t->eval(st, f);
        return e ? e->eval(st, f) : nil_value();
    }
};

struct seq_node final : node {
    std::span<const node* const> items;
    value eval(eval_state& st, frame* f) const override {
        size_t n = items.size();
        if (n == 0) return nil_value();
        for (size_t i = 0; i + 1 < n; ++i) items[i]->eval(st, f);
        return items[n - 1]->eval(st, f);
    }
};

struct and_node final : node {
    std::span<const node* const> items;
    value eval(eval_state& st, frame* f) const override {
        value v = value::boolean(true);
        for (const node* n : items) {
            v = n->eval(st, f);
            if (!v.truthy()) return v;
        }
        return v;
    }
};

struct or_node final : node {
    std::span<const node* const> items;
    value eval(eval_state& st, frame* f) const override {
        value v = value::boolean(false);
        for (const node* n : items) {
            v = n->eval(st, f);
            if (v.truthy()) return v;
        }
        return v;
    }
};

struct not_node final : node {
    const node* x = nullptr;
    value eval(eval_state& st, frame* f) const override { return value::boolean(!x->eval(st, f).truthy()); }
};

struct when_node final : node {
    const node* c = nullptr;
    const node* body = nullptr;
    bool unless = false;
    value eval(eval_state& st, frame* f) const override {
        if (c->eval(st, f).truthy() != unless) return body->eval(st, f);
        return nil_value();
    }
};

struct cond_node final : node {
    struct clause {
        const node* test;  ///< nullptr = else
        const node* body;  ///< nullptr = gives nil
    };
    std::span<const clause> clauses;
    value eval(eval_state& st, frame* f) const override {
        for (const clause& c : clauses) {
            if (!c.test || c.test->eval(st, f).truthy()) return c.body ? c.body->eval(st, f) : nil_value();
        }
        return nil_value();
    }
};

/// let / let* / letrec: slots live in the enclosing function's frame (depth 0).
struct let_node final : node {
    std::span<const std::pair<uint32_t, const node*>> inits;
    bool parallel = false;
    bool letrec = false;
    const node* body = nullptr;
    value eval(eval_state& st, frame* f) const override {
        size_t n = inits.size();
        if (parallel && n > 1) {
            value* tmp = static_cast<value*>(alloca(n * sizeof(value)));
            for (size_t i = 0; i < n; ++i) tmp[i] = inits[i].second->eval(st, f);
            for (size_t i = 0; i < n; ++i) f->slots[inits[i].first] = tmp[i];
        } else {
            if (letrec)
                for (auto& b : inits) f->slots[b.first] = nil_value();
            for (auto& b : inits) f->slots[b.first] = b.second->eval(st, f);
        }
        return body->eval(st, f);
    }
};

struct lambda_node final : node {
    const lambda_code* code = nullptr;
    value eval(eval_state& st, frame* f) const override {
        auto* c = st.hp->make<closure_obj>();
        c->code = code;
        c->env = f;
        return value::object(type::closure, c);
    }
};

struct delay_node final : node {
    const lambda_code* code = nullptr;
    value eval(eval_state& st, frame* f) const override {
        auto* c = st.hp->make<closure_obj>();
        c->code = code;
        c->env = f;
        auto* p = st.hp->make<promise_obj>();
        p->thunk = value::object(type::closure, c);
        p->forced = false;
        return value::object(type::promise, p);
    }
};

inline value call_native_inline(eval_state& st, const native_def* d, const value* argv, size_t n) {
    if (n < static_cast<size_t>(d->min_args) || (d->max_args >= 0 && n > static_cast<size_t>(d->max_args)))
        raise_arity(d->name, d->min_args, d->max_args, n);
    st.tick();
    std::span<const value> args(argv, n);
    return d->fn ? d->fn(st.ctx, args) : d->host(d->user_data, args, st.ctx);
}

/// Shared tail of every call node: dispatch on the evaluated head.
inline value dispatch_call(eval_state& st, value p, const value* argv, size_t n, bool tail) {
    if (p.tag == type::native) return call_native_inline(st, p.as_native(), argv, n);
    if (p.tag == type::closure) {
        if (tail) {
            st.tail_proc = p;
            st.tail_args.assign(argv, argv + n);
            value m;
            m.tag = type::tail_;
            return m;
        }
        return apply_closure(st, p.as_closure(), argv, n);
    }
    raise_not_callable(p);
}

inline void annotate(lisp_error& e, const src_span& sp) {
    if (!e.has_span()) e.set_span(sp);
    if (!e.has_form_span()) e.set_form_span(sp);
}

/// General call: any head expression, any number of arguments.
struct call_node final : node {
    const node* fn = nullptr;
    std::span<const node* const> args;
    bool tail = false;

    value eval(eval_state& st, frame* f) const override {
        try {
            value p = fn->eval(st, f);
            size_t n = args.size();
            auto* argv = static_cast<value*>(alloca((n ? n : 1) * sizeof(value)));
            for (size_t i = 0; i < n; ++i) argv[i] = args[i]->eval(st, f);
            return dispatch_call(st, p, argv, n, tail);
        } catch (lisp_error& e) {
            annotate(e, span);
            throw;
        }
    }
};

/// Call with a global head and N (0..4) arguments: the common case, no head dispatch.
template <size_t N>
struct call_global_node final : node {
    uint32_t slot = 0;
    std::string_view name;
    src_span head_span{};
    const node* args[N ? N : 1] = {};
    bool tail = false;

    value eval(eval_state& st, frame* f) const override {
        try {
            value p = st.globals[slot];
            if (p.tag == type::unbound_) raise_unbound_at(name, head_span);
            value argv[N ? N : 1];
            for (size_t i = 0; i < N; ++i) argv[i] = args[i]->eval(st, f);
            return dispatch_call(st, p, argv, N, tail);
        } catch (lisp_error& e) {
            annotate(e, span);
            throw;
        }
    }
};

struct try_node final : node {
    const node* body = nullptr;
    uint32_t slot = 0;
    const node* handler = nullptr;
    value eval(eval_state& st, frame* f) const override {
        uint32_t depth = st.depth;
        try {
            return body->eval(st, f);
        } catch (lisp_error& e) {
            st.depth = depth;
            f->slots[slot] = caught_error_value(st, e);
        }
        return handler->eval(st, f);
    }
};

/// Quasiquoted list: parts are evaluated (splices must give lists); empty result = nil.
struct qq_list_node final : node {
    struct part {
        const node* n;
        bool splice;
    };
    std::span<const part> parts;
    value eval(eval_state& st, frame* f) const override {
        list_builder b(st.ctx, parts.size());
        for (const part& p : parts) {
            value v = p.n->eval(st, f);
            if (!p.splice) {
                b.push(v);
                continue;
            }
            if (!v.is_listish()) {
                try {
                    raise_type("list", v);
                } catch (lisp_error& e) {
                    e.set_span(p.n->span);
                    throw;
                }
            }
            for (value x : v.items()) b.push(x);
        }
        return b.finish_or_nil();
    }
};

/// Raises a stored error (syntax/macro errors found at compile time).
struct raise_node final : node {
    error_kind kind = error_kind::bad_special_form;
    std::string_view message, catch_message;
    value eval(eval_state&, frame*) const override {
        lisp_error e(kind, std::string(message), std::string(catch_message));
        e.set_span(span);
        throw e;
    }
};

struct user_raise_node final : node {
    std::string_view tag, message;
    value eval(eval_state& st, frame*) const override {
        lisp_error e(st.ctx.make_error(tag, message));
        e.set_span(span);
        throw e;
    }
};

struct eval_node final : node {
    const node* expr = nullptr;
    const scope_snapshot* snap = nullptr;
    value eval(eval_state& st, frame* f) const override { return eval_runtime(st, f, expr->eval(st, f), snap, span); }
};

struct macroexpand_node final : node {
    const node* expr = nullptr;
    bool once = false;
    value eval(eval_state& st, frame* f) const override {
        return macroexpand_runtime(st, expr->eval(st, f), once, span);
    }
};

}  // namespace tatara
