// tatara-lisp compiler: macro expansion (reference §4) and syntax -> node compilation
// with lexical addressing (reference §3). Locals of let/let*/letrec/catch/internal define
// are flattened into the enclosing function's frame; a function whose body creates
// closures (lambda, delay, eval) gets heap frames, all others use the native stack.
#include <cstring>
#include <string>
#include <unordered_map>

#include "internal.hpp"
#include "nodes.hpp"

namespace tatara {

// ---- data <-> syntax --------------------------------------------------------------------

namespace {

value quote_list(eval_ctx& ctx, std::string_view head, value x) {
    value items[2] = {ctx.make_symbol(head), x};
    return ctx.make_list(items);
}

value to_value(eval_ctx& ctx, const syntax* s, bool qq_mode, int depth) {
    if (depth > 64) check_native_stack();
    switch (s->kind) {
    case syn::integer: return value::integer(s->u.i);
    case syn::real: return value::real(s->u.d);
    case syn::boolean: return value::boolean(s->b);
    case syn::string: return ctx.make_string(s->text());
    case syn::symbol: return ctx.make_symbol(s->text());
    case syn::keyword: return ctx.make_keyword(s->text());
    case syn::list: {
        if (s->items().empty()) return qq_mode ? value::nil() : ctx.make_list({});
        value out;
        value* xs = ctx.new_list(s->items().size(), out);
        for (size_t i = 0; i < s->items().size(); ++i) xs[i] = to_value(ctx, s->items()[i], qq_mode, depth + 1);
        return out;
    }
    case syn::quote:
    case syn::quasiquote:
        if (qq_mode) {
            auto* o = ctx.make<sexp_obj>();
            o->form = s;
            return value::object(type::sexp, o);
        }
        return quote_list(ctx, s->kind == syn::quote ? "quote" : "quasiquote",
                          to_value(ctx, s->inner(), false, depth + 1));
    case syn::unquote: return quote_list(ctx, "unquote", to_value(ctx, s->inner(), qq_mode, depth + 1));
    case syn::splice: return quote_list(ctx, "unquote-splice", to_value(ctx, s->inner(), qq_mode, depth + 1));
    }
    return value::nil();
}

}  // namespace

value syntax_to_value(eval_ctx& ctx, const syntax* s) { return to_value(ctx, s, false, 0); }

const syntax* value_to_syntax(syntax_pool& pool, value v, std::string_view who, src_span span) {
    check_native_stack();
    syntax* s;
    switch (v.tag) {
    case type::nil: return pool.make(syn::list, span);
    case type::boolean:
        s = pool.make(syn::boolean, span);
        s->b = v.as_bool();
        return s;
    case type::integer:
        s = pool.make(syn::integer, span);
        s->u.i = v.as_int();
        return s;
    case type::real:
        s = pool.make(syn::real, span);
        s->u.d = v.as_real();
        return s;
    case type::string: return pool.make_text(syn::string, span, v.text());
    case type::symbol: return pool.make_text(syn::symbol, span, v.text());
    case type::keyword: return pool.make_text(syn::keyword, span, v.text());
    case type::sexp: return v.as_sexp()->form;
    case type::list: {
        auto xs = v.items();
        if (xs.size() == 2 && xs[0].is_symbol()) {
            std::string_view h = xs[0].text();
            syn k = syn::list;
            if (h == "quote")
                k = syn::quote;
            else if (h == "quasiquote")
                k = syn::quasiquote;
            else if (h == "unquote")
                k = syn::unquote;
            else if (h == "unquote-splice")
                k = syn::splice;
            if (k != syn::list) return pool.make_wrapped(k, span, value_to_syntax(pool, xs[1], who, span));
        }
        std::vector<const syntax*> items;
        items.reserve(xs.size());
        for (value x : xs) items.push_back(value_to_syntax(pool, x, who, span));
        return pool.make_list(span, items);
    }
    default: {
        std::string what(type_error_name(v.tag));
        if (who.starts_with("macro "))
            raise_native(who, "macro body returned a " + what + " — macros must return code");
        raise_native(who, "cannot convert a " + what + " to code");
    }
    }
}

// ---- macro expansion --------------------------------------------------------------------

namespace {

constexpr uint64_t k_max_expansions = 100000;

struct expander {
    eval_state& st;
    const program& prog;
    syntax_pool& pool;
    code_pool& code;
    std::deque<scope_snapshot>& snaps;
    uint64_t count = 0;
    /// Macro procedures compiled during this expansion (the macro table cannot change
    /// while one form expands, so reuse is exact).
    std::unordered_map<const macro_def*, value> procs;

    value macro_proc(const macro_def& m);

    const macro_def* macro_for(const syntax* s) const {
        if (s->kind != syn::list || s->items().empty() || s->items()[0]->kind != syn::symbol) return nullptr;
        return prog.find_macro(s->items()[0]->text());
    }

    const syntax* invoke(const macro_def& m, const syntax* call) {
        if (++count > k_max_expansions) raise_native("macro " + m.name, "expansion limit exceeded");
        size_t nargs = call->items().size() - 1;
        std::string who = "macro " + m.name;
        if (nargs < m.nrequired) raise_native(who, "missing required arg: " + m.param_names[nargs]);
        size_t take = m.rest ? nargs : m.nrequired;
        std::vector<value> args(take);
        for (size_t i = 0; i < take; ++i) args[i] = syntax_to_value(st.ctx, call->items()[i + 1]);
        value r = apply_proc(st, macro_proc(m), args.data(), args.size(), nullptr);
        return value_to_syntax(pool, r, who, call->span);
    }

    /// Walk a quasiquote template: only unquote/splice parts are expanded.
    const syntax* walk_qq(const syntax* s) {
        check_native_stack();
        if (s->kind == syn::unquote || s->kind == syn::splice) {
            const syntax* in = walk(s->inner());
            if (in == s->inner()) return s;
            return pool.make_wrapped(s->kind, s->span, in);
        }
        if (s->kind != syn::list) return s;
        return map_items(s, [&](const syntax* x) { return walk_qq(x); });
    }

    template <class F>
    const syntax* map_items(const syntax* s, F f) {
        auto items = s->items();
        std::vector<const syntax*> copy;
        for (size_t i = 0; i < items.size(); ++i) {
            const syntax* x = f(items[i]);
            if (x != items[i] && copy.empty()) copy.assign(items.begin(), items.end());
            if (!copy.empty()) copy[i] = x;
        }
        return copy.empty() ? s : pool.make_list(s->span, copy);
    }

    const syntax* walk(const syntax* s) {
        check_native_stack();
        for (;;) {
            const macro_def* m = macro_for(s);
            if (!m) break;
            s = invoke(*m, s);
        }
        switch (s->kind) {
        case syn::list: return map_items(s, [&](const syntax* x) { return walk(x); });
        case syn::quasiquote: {
            const syntax* in = walk_qq(s->inner());
            if (in == s->inner()) return s;
            return pool.make_wrapped(syn::quasiquote, s->span, in);
        }
        case syn::unquote:
        case syn::splice: {
            const syntax* in = walk(s->inner());
            if (in == s->inner()) return s;
            return pool.make_wrapped(s->kind, s->span, in);
        }
        default: return s;
        }
    }
};

}  // namespace

const syntax* compiler::expand(eval_state& st, const program& prog, const syntax* form, bool once, syntax_pool& pool,
                               code_pool& code, std::deque<scope_snapshot>& snaps) {
    expander ex{st, prog, pool, code, snaps};
    if (once) {
        const macro_def* m = ex.macro_for(form);
        return m ? ex.invoke(*m, form) : form;
    }
    return ex.walk(form);
}

// ---- compilation ------------------------------------------------------------------------

namespace {

struct fn_ctx {
    fn_ctx* parent = nullptr;
    lambda_code* code = nullptr;  ///< null for snapshot layers (runtime eval)
    uint32_t nslots = 0;
    std::vector<uint32_t> define_slots;  ///< becomes code->define_slots when finished
};

struct var {
    std::string name;
    uint32_t slot;
    bool define_slot;  ///< declared by an internal define: may be read before it is set
};

struct scope {
    scope* parent = nullptr;
    fn_ctx* fn = nullptr;
    std::vector<var> vars;
    bool global_level = false;  ///< defines here bind globals
};

struct resolved {
    bool local = false;
    uint32_t depth = 0, slot = 0;
    bool checked = false;
};

class compile_error : public std::exception {
public:
    compile_error(std::string form, std::string reason, src_span sp)
        : form_(std::move(form)), reason_(std::move(reason)), span_(sp) {}
    std::string form_, reason_;
    src_span span_;
};

struct compiler_impl {
    const program& prog;
    program* mutable_prog;  ///< null when compiling for runtime eval (no new globals)
    eval_state& st;
    syntax_pool& pool;
    code_pool& code;
    std::deque<scope_snapshot>& snaps;

    template <class T>
    T* mk(const src_span& sp) {
        T* n = code.make<T>();
        n->span = sp;
        return n;
    }

    [[noreturn]] void bad(std::string_view form, const std::string& reason, const syntax* s) {
        throw compile_error(std::string(form), reason, s->span);
    }

    const node* raise_from(const compile_error& e) {
        auto* n = mk<raise_node>(e.span_);
        n->kind = error_kind::bad_special_form;
        n->message = code.text("bad special form `" + e.form_ + "`: " + e.reason_);
        n->catch_message = code.text("bad `" + e.form_ + "`: " + e.reason_);
        return n;
    }

    /// Finishes a function's code: its slot count and the slots internal defines start unbound.
    void finish(lambda_code* c, const fn_ctx& fn) {
        c->nslots = fn.nslots;
        c->define_slots = code.array(fn.define_slots);
    }

    value constant(const syntax* s) { return syntax_to_value(st.ctx, s); }

    const node* const_node_of(value v, const src_span& sp) {
        auto* n = mk<const_node>(sp);
        n->v = v;
        return n;
    }

    // -- scopes --
    static uint32_t new_slot(fn_ctx* fn) { return fn->nslots++; }

    /// Innermost binding of name, ignoring the first `skip` matches.
    resolved resolve(std::string_view name, scope* sc, int skip = 0) {
        uint32_t depth = 0;
        fn_ctx* fn = sc ? sc->fn : nullptr;
        for (scope* s = sc; s; s = s->parent) {
            if (s->fn != fn) {
                ++depth;
                fn = s->fn;
            }
            for (auto it = s->vars.rbegin(); it != s->vars.rend(); ++it)
                if (it->name == name && skip-- == 0) return {true, depth, it->slot, it->define_slot};
        }
        return {};
    }

    // Globals: slot in the program's table, or -1 for runtime-eval names not in it.
    int64_t global_slot(std::string_view name) {
        if (mutable_prog) return mutable_prog->globals.lookup_or_add(name, mutable_prog->initial_globals);
        return prog.globals.find(name);
    }

    const node* ref(const syntax* s, scope* sc) { return ref_named(s->text(), s->span, sc, 0); }

    /// Reference to name (a view of syntax text, which lives as long as the code). A
    /// variable an internal define has not bound yet falls back to the next outer binding,
    /// as the reference's dynamic lookup would find it.
    const node* ref_named(std::string_view name, const src_span& sp, scope* sc, int skip) {
        resolved r = resolve(name, sc, skip);
        if (r.local) {
            if (!r.checked && r.depth == 0) {
                auto* n = mk<local0_ref>(sp);
                n->slot = r.slot;
                return n;
            }
            if (!r.checked && r.depth == 1) {
                auto* n = mk<local1_ref>(sp);
                n->slot = r.slot;
                return n;
            }
            auto* n = mk<local_ref>(sp);
            n->depth = r.depth;
            n->slot = r.slot;
            n->checked = r.checked;
            n->name = name;
            if (r.checked) n->fallback = ref_named(name, sp, sc, skip + 1);
            return n;
        }
        int64_t g = global_slot(name);
        if (g < 0) {
            auto* n = mk<dyn_global_ref>(sp);
            n->name = name;
            return n;
        }
        auto* n = mk<global_ref>(sp);
        n->slot = static_cast<uint32_t>(g);
        n->name = name;
        return n;
    }

    /// Declare the names internal defines in `body` will bind in scope sc.
    void prescan(std::span<const syntax* const> body, size_t from, scope* sc) {
        for (size_t i = from; i < body.size(); ++i) prescan_form(body[i], sc);
    }
    void prescan_form(const syntax* s, scope* sc) {
        if (s->kind != syn::list || s->items().empty() || s->items()[0]->kind != syn::symbol) return;
        std::string_view h = s->items()[0]->text();
        if (h == "define" && s->items().size() >= 2) {
            const syntax* t = s->items()[1];
            const syntax* nm = t->kind == syn::list && !t->items().empty() ? t->items()[0] : t;
            if (nm->kind == syn::symbol) declare_define(nm->text(), sc);
        } else if (h == "begin" || h == "when" || h == "unless" || h == "if" || h == "and" || h == "or") {
            prescan(s->items(), 1, sc);
        } else if (h == "cond") {
            for (size_t i = 1; i < s->items().size(); ++i)
                if (s->items()[i]->kind == syn::list) prescan(s->items()[i]->items(), 0, sc);
        } else if (h == "try") {
            for (size_t i = 1; i + 1 < s->items().size(); ++i) prescan_form(s->items()[i], sc);
        }
    }
    uint32_t declare_define(std::string_view name, scope* sc) {
        for (auto& v : sc->vars)
            if (v.name == name) return v.slot;
        uint32_t slot = new_slot(sc->fn);
        sc->vars.push_back({std::string(name), slot, true});
        if (sc->fn->code) sc->fn->define_slots.push_back(slot);
        return slot;
    }

    // -- forms --
    const node* compile(const syntax* s, scope* sc, bool tail) {
        check_native_stack();
        try {
            return compile_inner(s, sc, tail);
        } catch (const compile_error& e) {
            return raise_from(e);
        }
    }

    const node* body_seq(std::span<const syntax* const> xs, size_t from, scope* sc, bool tail, const src_span& sp) {
        if (xs.size() == from + 1) return compile(xs[from], sc, tail);
        auto* n = mk<seq_node>(sp);
        std::vector<const node*> items;
        for (size_t i = from; i < xs.size(); ++i) items.push_back(compile(xs[i], sc, tail && i + 1 == xs.size()));
        n->items = code.array(items);
        return n;
    }

    const node* compile_inner(const syntax* s, scope* sc, bool tail);

    template <size_t N>
    const node* global_call(const syntax* s, scope* sc, bool tail, uint32_t slot) {
        auto* n = mk<call_global_node<N>>(s->span);
        n->slot = slot;
        n->name = s->items()[0]->text();
        n->head_span = s->items()[0]->span;
        for (size_t i = 0; i < N; ++i) n->args[i] = compile(s->items()[i + 1], sc, false);
        n->tail = tail;
        return n;
    }

    bool has_unquote(const syntax* s) {
        check_native_stack();
        if (s->kind == syn::unquote || s->kind == syn::splice) return true;
        if (s->kind == syn::list)
            for (auto* x : s->items())
                if (has_unquote(x)) return true;
        return false;
    }

    const node* quasi(const syntax* t, scope* sc) {
        check_native_stack();
        if (t->kind == syn::unquote || t->kind == syn::splice) return compile(t->inner(), sc, false);
        if (t->kind != syn::list || !has_unquote(t)) return const_node_of(to_value(st.ctx, t, true, 0), t->span);
        auto* n = mk<qq_list_node>(t->span);
        std::vector<qq_list_node::part> parts;
        for (auto* x : t->items()) {
            if (x->kind == syn::unquote)
                parts.push_back({compile(x->inner(), sc, false), false});
            else if (x->kind == syn::splice)
                parts.push_back({compile(x->inner(), sc, false), true});
            else
                parts.push_back({quasi(x, sc), false});
        }
        n->parts = code.array(parts);
        return n;
    }

    static std::string count_text(size_t n) { return std::to_string(n); }

    // -- special forms: one compile function each, dispatched through k_special_forms --
    // Each receives the whole form s = (HEAD args...), its scope and whether it is in tail
    // position; syntax errors throw compile_error (compiled into code that raises).

    static size_t argc_of(const syntax* s) { return s->items().size() - 1; }

    void want_args(const syntax* s, size_t n) {
        if (argc_of(s) != n)
            bad(s->items()[0]->text(), "expected " + std::to_string(n) + " arg, got " + count_text(argc_of(s)), s);
    }

    const node* sf_quote(const syntax* s, scope*, bool) {
        want_args(s, 1);
        return const_node_of(constant(s->items()[1]), s->span);
    }

    const node* sf_quasiquote(const syntax* s, scope* sc, bool) {
        want_args(s, 1);
        return quasi(s->items()[1], sc);
    }

    const node* sf_if(const syntax* s, scope* sc, bool tail) {
        const auto& xs = s->items();
        size_t argc = argc_of(s);
        if (argc < 2 || argc > 3) bad("if", "expected 2 or 3 args, got " + count_text(argc), s);
        auto* n = mk<if_node>(s->span);
        n->c = compile(xs[1], sc, false);
        n->t = compile(xs[2], sc, tail);
        n->e = argc == 3 ? compile(xs[3], sc, tail) : nullptr;
        return n;
    }

    const node* sf_when_unless(const syntax* s, scope* sc, bool tail) {
        std::string_view h = s->items()[0]->text();
        if (argc_of(s) < 1) bad(h, "expected a test", s);
        auto* n = mk<when_node>(s->span);
        n->unless = h == "unless";
        n->c = compile(s->items()[1], sc, false);
        n->body = argc_of(s) == 1 ? const_node_of(value::nil(), s->span) : body_seq(s->items(), 2, sc, tail, s->span);
        return n;
    }

    const node* sf_cond(const syntax* s, scope* sc, bool tail) {
        const auto& xs = s->items();
        auto* n = mk<cond_node>(s->span);
        std::vector<cond_node::clause> clauses;
        for (size_t i = 1; i < xs.size(); ++i) {
            const syntax* c = xs[i];
            if (c->kind != syn::list || c->items().empty()) bad("cond", "each clause must be a non-empty list", c);
            cond_node::clause cl{};
            cl.test = c->items()[0]->is_symbol("else") ? nullptr : compile(c->items()[0], sc, false);
            cl.body = c->items().size() > 1 ? body_seq(c->items(), 1, sc, tail, c->span) : nullptr;
            clauses.push_back(cl);
            if (!cl.test) break;
        }
        n->clauses = code.array(clauses);
        return n;
    }

    const node* sf_begin(const syntax* s, scope* sc, bool tail) {
        if (argc_of(s) == 0) return const_node_of(value::nil(), s->span);
        return body_seq(s->items(), 1, sc, tail, s->span);
    }

    const node* sf_and_or(const syntax* s, scope* sc, bool tail) {
        const auto& xs = s->items();
        std::vector<const node*> items;
        for (size_t i = 1; i < xs.size(); ++i) items.push_back(compile(xs[i], sc, tail && i + 1 == xs.size()));
        if (xs[0]->text() == "and") {
            auto* n = mk<and_node>(s->span);
            n->items = code.array(items);
            return n;
        }
        auto* n = mk<or_node>(s->span);
        n->items = code.array(items);
        return n;
    }

    const node* sf_not(const syntax* s, scope* sc, bool) {
        want_args(s, 1);
        auto* n = mk<not_node>(s->span);
        n->x = compile(s->items()[1], sc, false);
        return n;
    }

    const node* sf_let(const syntax* s, scope* sc, bool tail) { return let_form(s, sc, tail); }

    const node* sf_lambda(const syntax* s, scope* sc, bool) {
        if (argc_of(s) < 2) bad("lambda", "expected (lambda (params...) body...)", s);
        return lambda(s->items()[1], s->items(), 2, sc, s, "lambda");
    }

    const node* sf_define(const syntax* s, scope* sc, bool) { return define_form(s, sc); }

    const node* sf_set(const syntax* s, scope* sc, bool) {
        const auto& xs = s->items();
        if (argc_of(s) != 2 || xs[1]->kind != syn::symbol) bad("set!", "expected (set! name expr)", s);
        return assign(xs[1], compile(xs[2], sc, false), sc, false, s->span);
    }

    const node* sf_try(const syntax* s, scope* sc, bool) { return try_form(s, sc); }

    const node* sf_delay(const syntax* s, scope* sc, bool) {
        want_args(s, 1);
        const lambda_code* c = lambda_code_for({}, false, s->items(), 1, sc, s);
        auto* n = mk<delay_node>(s->span);
        n->code = c;
        return n;
    }

    const node* sf_eval(const syntax* s, scope* sc, bool) {
        want_args(s, 1);
        if (sc->fn->code) sc->fn->code->heap_frame = true;
        auto* n = mk<eval_node>(s->span);
        n->expr = compile(s->items()[1], sc, false);
        n->snap = snapshot(sc);
        return n;
    }

    const node* sf_macroexpand(const syntax* s, scope* sc, bool) {
        want_args(s, 1);
        auto* n = mk<macroexpand_node>(s->span);
        n->expr = compile(s->items()[1], sc, false);
        n->once = s->items()[0]->text() == "macroexpand-1";
        return n;
    }

    const node* sf_require(const syntax* s, scope*, bool) { bad("require", "only allowed at top level", s); }
    const node* sf_provide(const syntax* s, scope*, bool) { bad("provide", "only allowed while loading a module", s); }

    const scope_snapshot* snapshot(scope* sc) {
        snaps.emplace_back();
        scope_snapshot& snap = snaps.back();
        snap.global_level = sc->global_level;
        fn_ctx* fn = nullptr;
        for (scope* s = sc; s; s = s->parent) {
            if (snap.layers.empty() || s->fn != fn) {
                snap.layers.emplace_back();
                fn = s->fn;
            }
            auto& layer = snap.layers.back();
            for (auto it = s->vars.rbegin(); it != s->vars.rend(); ++it) layer.emplace_back(it->name, it->slot);
        }
        return &snap;
    }

    const node* let_form(const syntax* s, scope* sc, bool tail) {
        std::string_view h = s->items()[0]->text();
        const auto& xs = s->items();
        if (xs.size() < 2 || xs[1]->kind != syn::list) bad(h, "expected a binding list", s);
        if (xs.size() < 3) bad(h, "expected at least one body form", s);
        const auto& binds = xs[1]->items();
        for (auto* b : binds)
            if (b->kind != syn::list || b->items().size() != 2 || b->items()[0]->kind != syn::symbol)
                bad(h, "each binding must be (name expr)", s);
        scope ns{sc, sc->fn, {}, false};
        auto* n = mk<let_node>(s->span);
        std::vector<std::pair<uint32_t, const node*>> inits;
        if (h == "let") {
            n->parallel = true;
            for (auto* b : binds) inits.emplace_back(0, compile(b->items()[1], sc, false));
            for (size_t i = 0; i < binds.size(); ++i) {
                uint32_t slot = new_slot(sc->fn);
                inits[i].first = slot;
                ns.vars.push_back({std::string(binds[i]->items()[0]->text()), slot, false});
            }
        } else if (h == "let*") {
            for (auto* b : binds) {
                const node* init = compile(b->items()[1], &ns, false);
                uint32_t slot = new_slot(sc->fn);
                ns.vars.push_back({std::string(b->items()[0]->text()), slot, false});
                inits.emplace_back(slot, init);
            }
        } else {
            n->letrec = true;
            for (auto* b : binds) ns.vars.push_back({std::string(b->items()[0]->text()), new_slot(sc->fn), false});
            for (size_t i = 0; i < binds.size(); ++i) {
                // The slot is read before compiling: a define inside the init adds to ns.vars.
                const uint32_t slot = ns.vars[i].slot;
                inits.emplace_back(slot, compile(binds[i]->items()[1], &ns, false));
            }
        }
        n->inits = code.array(inits);
        prescan(xs, 2, &ns);
        n->body = body_seq(xs, 2, &ns, tail, s->span);
        return n;
    }

    struct params {
        std::vector<std::string_view> names;  ///< views of syntax text
        bool rest = false;
    };

    params parse_params(const syntax* p, const syntax* form, std::string_view who) {
        if (p->kind != syn::list) bad(who, "expected a parameter list", form);
        params out;
        auto items = p->items();
        for (size_t i = 0; i < items.size(); ++i) {
            const syntax* x = items[i];
            if (x->kind != syn::symbol) bad(who, "parameters must be symbols", form);
            if (x->text() == "&rest") {
                if (i + 2 != items.size() || items[i + 1]->kind != syn::symbol)
                    bad(who, "&rest must be followed by exactly one name", form);
                out.names.push_back(items[i + 1]->text());
                out.rest = true;
                break;
            }
            out.names.push_back(x->text());
        }
        return out;
    }

    const lambda_code* lambda_code_for(const std::vector<std::string_view>& names, bool rest,
                                       std::span<const syntax* const> body, size_t from, scope* sc,
                                       const syntax* form) {
        if (sc->fn->code) sc->fn->code->heap_frame = true;
        lambda_code* c = code.make_lambda();
        fn_ctx fn{sc->fn, c, 0, {}};
        scope root{sc, &fn, {}, false};
        for (auto& nm : names) {
            uint32_t slot = new_slot(&fn);
            root.vars.push_back({std::string(nm), slot, false});
        }
        c->nparams = static_cast<uint32_t>(names.size() - (rest ? 1 : 0));
        c->rest = rest;
        c->param_names = code.array(names);
        prescan(body, from, &root);
        c->body = body_seq(body, from, &root, true, form->span);
        finish(c, fn);
        return c;
    }

    const node* lambda(const syntax* p, std::span<const syntax* const> body, size_t from, scope* sc, const syntax* form,
                       std::string_view who) {
        params ps = parse_params(p, form, who);
        if (body.size() <= from) bad(who, "expected at least one body form", form);
        auto* n = mk<lambda_node>(form->span);
        n->code = lambda_code_for(ps.names, ps.rest, body, from, sc, form);
        return n;
    }

    const node* define_form(const syntax* s, scope* sc) {
        const auto& xs = s->items();
        if (xs.size() < 3) bad("define", "expected (define name expr) or (define (name params...) body...)", s);
        const syntax* target = xs[1];
        const syntax* name;
        const node* val;
        if (target->kind == syn::symbol) {
            if (xs.size() != 3) bad("define", "expected (define name expr)", s);
            name = target;
            // declare first so a recursive reference inside a local lambda resolves here
            if (!sc->global_level) declare_define(name->text(), sc);
            val = compile(xs[2], sc, false);
        } else if (target->kind == syn::list && !target->items().empty() && target->items()[0]->kind == syn::symbol) {
            name = target->items()[0];
            if (!sc->global_level) declare_define(name->text(), sc);
            const syntax* plist = pool.make_list(target->span, target->items().subspan(1));
            val = lambda(plist, xs, 2, sc, s, "define");
        } else {
            bad("define", "expected a name", s);
        }
        if (sc->global_level) {
            int64_t g = global_slot(name->text());
            if (g < 0) {
                auto* n = mk<dyn_global_def>(s->span);
                n->name = name->text();
                n->val = val;
                return n;
            }
            auto* n = mk<global_def>(s->span);
            n->slot = static_cast<uint32_t>(g);
            n->val = val;
            return n;
        }
        uint32_t slot = declare_define(name->text(), sc);
        auto* n = mk<local_set>(s->span);
        n->depth = 0;
        n->slot = slot;
        n->val = val;
        return n;
    }

    const node* assign(const syntax* name, const node* val, scope* sc, bool, const src_span& sp) {
        resolved r = resolve(name->text(), sc);
        if (r.local) {
            auto* n = mk<local_set>(sp);
            n->depth = r.depth;
            n->slot = r.slot;
            n->checked = r.checked;
            n->name = name->text();
            n->name_span = name->span;
            n->val = val;
            return n;
        }
        int64_t g = global_slot(name->text());
        if (g < 0) {
            auto* n = mk<dyn_global_def>(sp);
            n->name = name->text();
            n->val = val;
            n->is_set = true;
            n->name_span = name->span;
            return n;
        }
        auto* n = mk<global_set>(sp);
        n->slot = static_cast<uint32_t>(g);
        n->name = name->text();
        n->name_span = name->span;
        n->val = val;
        return n;
    }

    const node* try_form(const syntax* s, scope* sc) {
        const auto& xs = s->items();
        if (xs.size() < 3) bad("try", "expected (try body... (catch (e) handler...))", s);
        const syntax* c = xs.back();
        if (c->kind != syn::list || c->items().size() < 2 || !c->items()[0]->is_symbol("catch") ||
            c->items()[1]->kind != syn::list || c->items()[1]->items().size() != 1 ||
            c->items()[1]->items()[0]->kind != syn::symbol)
            bad("try", "the last form must be (catch (e) handler...)", s);
        if (c->items().size() < 3) bad("try", "catch needs at least one handler form", s);
        auto* n = mk<try_node>(s->span);
        n->body = body_seq(xs.subspan(1, xs.size() - 2), 0, sc, false, s->span);
        scope hs{sc, sc->fn, {}, false};
        n->slot = new_slot(sc->fn);
        hs.vars.push_back({std::string(c->items()[1]->items()[0]->text()), n->slot, false});
        prescan(c->items(), 2, &hs);
        n->handler = body_seq(c->items(), 2, &hs, false, c->span);
        return n;
    }
};

}  // namespace

// ---- the special-form table --------------------------------------------------------------

namespace {

using special_fn = const node* (compiler_impl::*)(const syntax* s, scope* sc, bool tail);

struct special_form {
    std::string_view name;
    special_fn compile;
};

/// Every special form (reference §3.2): a list whose head is one of these names compiles
/// through its function instead of as a call (even where the name is a local variable).
constexpr special_form k_special_forms[] = {
    {"quote", &compiler_impl::sf_quote},
    {"quasiquote", &compiler_impl::sf_quasiquote},
    {"if", &compiler_impl::sf_if},
    {"cond", &compiler_impl::sf_cond},
    {"when", &compiler_impl::sf_when_unless},
    {"unless", &compiler_impl::sf_when_unless},
    {"let", &compiler_impl::sf_let},
    {"let*", &compiler_impl::sf_let},
    {"letrec", &compiler_impl::sf_let},
    {"lambda", &compiler_impl::sf_lambda},
    {"define", &compiler_impl::sf_define},
    {"set!", &compiler_impl::sf_set},
    {"begin", &compiler_impl::sf_begin},
    {"and", &compiler_impl::sf_and_or},
    {"or", &compiler_impl::sf_and_or},
    {"not", &compiler_impl::sf_not},
    {"try", &compiler_impl::sf_try},
    {"macroexpand-1", &compiler_impl::sf_macroexpand},
    {"macroexpand", &compiler_impl::sf_macroexpand},
    {"delay", &compiler_impl::sf_delay},
    {"eval", &compiler_impl::sf_eval},
    {"provide", &compiler_impl::sf_provide},
    {"require", &compiler_impl::sf_require},
};

/// The compile function of special form `name`, or nullptr.
special_fn find_special(std::string_view name) {
    static const std::unordered_map<std::string_view, special_fn> by_name = [] {
        std::unordered_map<std::string_view, special_fn> m;
        for (const special_form& f : k_special_forms) m.emplace(f.name, f.compile);
        return m;
    }();
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
}

const node* compiler_impl::compile_inner(const syntax* s, scope* sc, bool tail) {
    switch (s->kind) {
    case syn::integer:
    case syn::real:
    case syn::boolean:
    case syn::string:
    case syn::keyword: return const_node_of(constant(s), s->span);
    case syn::symbol: return ref(s, sc);
    case syn::quote: return const_node_of(constant(s->inner()), s->span);
    case syn::quasiquote: return quasi(s->inner(), sc);
    case syn::unquote:
    case syn::splice: bad("unquote", "unquote outside quasiquote", s);
    case syn::list: break;
    }
    if (s->items().empty()) return const_node_of(value::nil(), s->span);
    const syntax* head = s->items()[0];
    if (head->kind == syn::symbol)
        if (special_fn sf = find_special(head->text())) return (this->*sf)(s, sc, tail);
    size_t argc = s->items().size() - 1;
    if (head->kind == syn::symbol && argc <= 4 && !resolve(head->text(), sc).local) {
        int64_t g = global_slot(head->text());
        if (g >= 0) {
            switch (argc) {
            case 0: return global_call<0>(s, sc, tail, static_cast<uint32_t>(g));
            case 1: return global_call<1>(s, sc, tail, static_cast<uint32_t>(g));
            case 2: return global_call<2>(s, sc, tail, static_cast<uint32_t>(g));
            case 3: return global_call<3>(s, sc, tail, static_cast<uint32_t>(g));
            default: return global_call<4>(s, sc, tail, static_cast<uint32_t>(g));
            }
        }
    }
    auto* n = mk<call_node>(s->span);
    n->fn = compile(head, sc, false);
    std::vector<const node*> args;
    for (size_t i = 1; i < s->items().size(); ++i) args.push_back(compile(s->items()[i], sc, false));
    n->args = code.array(args);
    n->tail = tail;
    return n;
}

}  // namespace

value expander::macro_proc(const macro_def& m) {
    auto cached = procs.find(&m);
    if (cached != procs.end()) return cached->second;
    const syntax* body = walk(m.body);
    const syntax* kw = pool.make_borrowed_text(syn::symbol, m.body->span, "lambda");
    const syntax* parts[3] = {kw, m.params, body};
    const syntax* lam = pool.make_list(m.body->span, parts);
    compiler_impl ci{prog, nullptr, st, pool, code, snaps};
    fn_ctx top{nullptr, nullptr, 0, {}};
    scope root{nullptr, &top, {}, true};
    const node* n = ci.compile(lam, &root, false);
    value proc = n->eval(st, nullptr);
    procs.emplace(&m, proc);
    return proc;
}

// ---- top level --------------------------------------------------------------------------

compiler::compiler(program& prog, eval_state& ct) : prog_(prog), st_(ct) {}

namespace {

bool head_is(const syntax* s, std::string_view h) {
    return s->kind == syn::list && !s->items().empty() && s->items()[0]->is_symbol(h);
}

lambda_code* wrap_node(code_pool& code, const node* body, uint32_t nslots, bool heap_frame) {
    lambda_code* c = code.make_lambda();
    c->body = body;
    c->nslots = nslots;
    c->heap_frame = heap_frame;
    return c;
}

}  // namespace

const lambda_code* compiler::compile_toplevel(const syntax* form, std::string& expansion_output) {
    program& prog = prog_;
    eval_state& st = st_;
    compiler_impl ci{prog, &prog, st, prog.syn, prog.code, prog.snapshots};
    auto raise_code = [&](const lisp_error& e) -> const lambda_code* {
        auto* n = prog.code.make<raise_node>();
        n->span = e.has_span() ? e.span() : form->span;
        n->kind = e.kind();
        n->message = prog.code.text(e.message());
        n->catch_message = prog.code.text(e.catch_message());
        if (e.kind() == error_kind::user) {
            auto* u = prog.code.make<user_raise_node>();
            u->span = n->span;
            u->tag = "user";
            u->message = n->message;
            return wrap_node(prog.code, u, 0, false);
        }
        return wrap_node(prog.code, n, 0, false);
    };
    auto refresh = [&] { st.globals = prog.initial_globals.data(); };

    if (head_is(form, "defmacro") || head_is(form, "defpoint-template") || head_is(form, "defcheck")) {
        const auto& xs = form->items();
        auto reader_err = [&](const std::string& m) {
            lisp_error e(error_kind::reader, "reader error: compile error in defmacro: " + m,
                         "reader: compile error in defmacro: " + m);
            e.set_span(form->span);
            return raise_code(e);
        };
        if (xs.size() < 4) return reader_err("(defmacro name (params) body) required");
        if (xs[1]->kind != syn::symbol) return reader_err("expected name symbol");
        if (xs[2]->kind != syn::list) return reader_err("expected param list");
        auto def = std::make_shared<macro_def>();
        def->name = std::string(xs[1]->text());
        for (size_t i = 0; i < xs[2]->items().size(); ++i) {
            const syntax* p = xs[2]->items()[i];
            if (p->kind != syn::symbol) return reader_err("expected param list");
            if (p->text() == "&rest") {
                if (i + 2 != xs[2]->items().size() || xs[2]->items()[i + 1]->kind != syn::symbol)
                    return reader_err("expected param list");
                def->param_names.emplace_back(xs[2]->items()[i + 1]->text());
                def->rest = true;
                break;
            }
            def->param_names.emplace_back(p->text());
        }
        def->nrequired = static_cast<uint32_t>(def->param_names.size() - (def->rest ? 1 : 0));
        def->params = xs[2];
        def->body = xs[3];  // only the first body form is kept
        prog.macros[def->name] = def;
        return wrap_node(prog.code, ci.const_node_of(value::nil(), form->span), 0, false);
    }

    if (head_is(form, "require")) {
        const auto& xs = form->items();
        std::string_view path = xs.size() >= 2 && xs[1]->kind == syn::string ? xs[1]->text() : "";
        if (xs.size() < 2 || xs[1]->kind != syn::string) {
            auto* n = ci.raise_from(compile_error("require", "expected a module path string", form->span));
            return wrap_node(prog.code, n, 0, false);
        }
        // The embedder has no module loader: every require fails like the reference default.
        struct module_missing final : node {
            std::string_view path;
            value eval(eval_state& st, frame*) const override {
                lisp_error e(st.ctx.make_error("module-not-found", "module not found: " + std::string(path)));
                e.set_span(span);
                throw e;
            }
        };
        auto* n = prog.code.make<module_missing>();
        n->span = form->span;
        n->path = path;
        return wrap_node(prog.code, n, 0, false);
    }

    const syntax* expanded = form;
    try {
        st.capture = &expansion_output;
        refresh();
        expanded = compiler::expand(st, prog, form, false, prog.syn, prog.code, prog.snapshots);
        st.capture = nullptr;
    } catch (const lisp_error& e) {
        st.capture = nullptr;
        return raise_code(e);
    } catch (const limit_error& e) {
        st.capture = nullptr;
        if (e.kind() == limit_kind::memory) throw;  // the compiled form itself does not fit
        lisp_error le(error_kind::native_fn, "in native fn macro: " + e.message(), "in native `macro`: " + e.message());
        le.set_span(form->span);
        return raise_code(le);
    }
    lambda_code* top = prog.code.make_lambda();
    fn_ctx fn{nullptr, top, 0, {}};
    scope root{nullptr, &fn, {}, true};
    try {
        top->body = ci.compile(expanded, &root, false);
    } catch (const lisp_error& e) {  // e.g. native stack exhausted by absurd nesting
        return raise_code(e);
    }
    ci.finish(top, fn);
    return top;
}

const lambda_code* compiler::compile_eval(eval_state& st, const syntax* form, const scope_snapshot* snap,
                                          runtime_code& rt) {
    const program& prog = *st.prog;
    syntax_pool syn(*st.hp);
    code_pool code_in_run(*st.hp);
    compiler_impl ci{prog, nullptr, st, syn, code_in_run, rt.snapshots};
    const syntax* expanded = compiler::expand(st, prog, form, false, syn, code_in_run, rt.snapshots);
    // Rebuild the lexical layers of the eval site as parent functions of the new code.
    std::deque<fn_ctx> fns;
    std::deque<scope> scopes;
    scope* parent = nullptr;
    bool at_top = !snap || snap->global_level;
    if (snap) {
        for (auto it = snap->layers.rbegin(); it != snap->layers.rend(); ++it) {
            fns.push_back(fn_ctx{fns.empty() ? nullptr : &fns.back(), nullptr, 0, {}});
            scopes.push_back(scope{parent, &fns.back(), {}, false});
            for (auto v = it->rbegin(); v != it->rend(); ++v)
                scopes.back().vars.push_back({v->first, v->second, false});
            parent = &scopes.back();
        }
    }
    lambda_code* code = code_in_run.make_lambda();
    fn_ctx fn{fns.empty() ? nullptr : &fns.back(), code, 0, {}};
    scope root{parent, &fn, {}, at_top};
    code->heap_frame = true;
    code->body = ci.compile(expanded, &root, false);
    ci.finish(code, fn);
    return code;
}

}  // namespace tatara
