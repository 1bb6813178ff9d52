// tatara-lisp evaluator: procedure application with tail-call trampolining, limits
// (fuel, depth, wall clock, native stack), runtime eval/macroexpand and the eval_ctx API.
#include <pthread.h>

#include <cstring>
#include <string>

#include "internal.hpp"
#include "nodes.hpp"

namespace tatara {

// ---- native stack guard --------------------------------------------------------------

namespace {

thread_local char* tl_stack_floor = nullptr;

char* compute_stack_floor() {
    pthread_attr_t attr;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    if (!addr || size == 0) {
        // unknown stack: assume 1 MiB below the current frame
        return static_cast<char*>(__builtin_frame_address(0)) - (1u << 20);
    }
#if defined(__SANITIZE_ADDRESS__)
    size_t margin = 1u << 20;
#else
    size_t margin = 256u << 10;
#endif
    if (margin > size / 4) margin = size / 4;
    return static_cast<char*>(addr) + margin;
}

}  // namespace

[[noreturn]] void raise_stack_overflow(const std::string& why) {
    std::string m = "stack overflow: " + why;
    throw lisp_error(error_kind::stack_overflow, m, m);
}

namespace {

struct depth_guard {
    eval_state& st;
    ~depth_guard() { --st.depth; }
};

}  // namespace

char* exchange_native_stack_floor(char* floor) {
    char* old = tl_stack_floor;
    tl_stack_floor = floor;
    return old;
}

char* native_stack_floor() {
    if (!tl_stack_floor) tl_stack_floor = compute_stack_floor();
    return tl_stack_floor;
}

void check_native_stack() {
    if (!tl_stack_floor) tl_stack_floor = compute_stack_floor();
    if (static_cast<char*>(__builtin_frame_address(0)) < tl_stack_floor) raise_stack_overflow("native stack exhausted");
}

// ---- limits ----------------------------------------------------------------------------

void eval_state::reset_limits(const limits& lim) {
    steps = 0;
    fuel_limit = lim.fuel;
    next_check = 1024;
    if (fuel_limit && next_check > fuel_limit) next_check = fuel_limit;
    depth = 0;
    max_depth = lim.max_depth ? lim.max_depth : 10000;
    stack_floor = native_stack_floor();
    wall_ms = lim.wall_clock_ms;
    has_deadline = lim.wall_clock_ms != 0;
    if (has_deadline) deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(lim.wall_clock_ms);
}

void eval_state::slow_check() {
    if (checkpoint && checkpoint(checkpoint_arg) != 0)
        throw limit_error(limit_kind::cancelled, "cancelled by the host");
    if (fuel_limit && steps >= fuel_limit)
        throw limit_error(limit_kind::fuel, "fuel exhausted after " + std::to_string(fuel_limit) + " steps");
    if (has_deadline && std::chrono::steady_clock::now() >= deadline)
        throw limit_error(limit_kind::wall_clock, "wall-clock limit exceeded after " + std::to_string(wall_ms) + " ms");
    next_check = steps + 1024;
    if (fuel_limit && next_check > fuel_limit) next_check = fuel_limit;
}

// ---- errors raised by nodes ----------------------------------------------------------------

void raise_unbound_at(std::string_view name, const src_span& sp) {
    std::string n(name);
    lisp_error e(error_kind::unbound_symbol, "unbound symbol: " + n, "unbound symbol `" + n + "`");
    e.set_span(sp);
    throw e;
}

void raise_not_callable(value v) {
    std::string t(type_error_name(v.tag));
    throw lisp_error(error_kind::not_callable, "not callable: value of type " + t,
                     "value of type " + t + " is not callable");
}

value caught_error_value(eval_state& st, const lisp_error& e) {
    if (e.kind() == error_kind::user) return e.thrown();
    return st.ctx.make_error(error_tag(e.kind()), e.catch_message());
}

// ---- application ---------------------------------------------------------------------------

namespace {

inline void init_frame(eval_state& st, frame* fr, const lambda_code* code, const value* argv, size_t n) {
    value* sl = fr->slots;
    uint32_t np = code->nparams;
    for (uint32_t i = 0; i < np; ++i) sl[i] = argv[i];
    uint32_t k = np;
    if (code->rest) {
        sl[k++] = st.ctx.make_list(std::span<const value>(argv + np, n - np));
    }
    for (; k < code->nslots; ++k) sl[k] = value::nil();
    for (uint32_t d : code->define_slots) sl[d].tag = type::unbound_;
}

inline frame* heap_frame(eval_state& st, const lambda_code* code, frame* parent) {
    auto* fr = static_cast<frame*>(st.hp->alloc(sizeof(frame) + code->nslots * sizeof(value)));
    fr->slots = reinterpret_cast<value*>(fr + 1);
    fr->parent = parent;
    return fr;
}

}  // namespace

value apply_closure(eval_state& st, const closure_obj* c, const value* argv, size_t n) {
    if (static_cast<char*>(__builtin_frame_address(0)) < st.stack_floor) {
        if (st.ext && st.ext_bytes) return apply_on_extension(st, c, argv, n);
        raise_stack_overflow("native stack exhausted");
    }
    if (st.depth >= st.max_depth) raise_stack_overflow("recursion depth exceeded " + std::to_string(st.max_depth));
    ++st.depth;
    depth_guard guard{st};
    value* stack_slots = nullptr;
    uint32_t stack_cap = 0;
    for (;;) {
        st.tick();
        const lambda_code* code = c->code;
        if (n < code->nparams || (!code->rest && n != code->nparams))
            raise_arity("<closure>", static_cast<int>(code->nparams), code->rest ? -1 : static_cast<int>(code->nparams),
                        n);
        frame local;
        frame* fr;
        if (code->heap_frame) {
            fr = heap_frame(st, code, c->env);
        } else {
            if (code->nslots > stack_cap) {
                stack_slots = static_cast<value*>(alloca(code->nslots * sizeof(value)));
                stack_cap = code->nslots;
            }
            local.slots = stack_slots;
            local.parent = c->env;
            fr = &local;
        }
        init_frame(st, fr, code, argv, n);
        value r = code->body->eval(st, fr);
        if (r.tag != type::tail_) return r;
        c = st.tail_proc.as_closure();
        argv = st.tail_args.data();
        n = st.tail_args.size();
    }
}

value apply_proc(eval_state& st, value proc, const value* args, size_t n, const src_span* call) {
    try {
        if (proc.tag == type::native) return call_native_inline(st, proc.as_native(), args, n);
        if (proc.tag == type::closure) return apply_closure(st, proc.as_closure(), args, n);
        raise_not_callable(proc);
    } catch (lisp_error& e) {
        if (call && !e.has_span()) e.set_span(*call);
        throw;
    }
}

value run_toplevel(eval_state& st, const lambda_code* code) {
    frame local;
    frame* fr;
    if (code->heap_frame) {
        fr = heap_frame(st, code, nullptr);
    } else {
        local.slots = static_cast<value*>(alloca((code->nslots ? code->nslots : 1) * sizeof(value)));
        local.parent = nullptr;
        fr = &local;
    }
    init_frame(st, fr, code, nullptr, 0);
    return code->body->eval(st, fr);
}

// ---- runtime eval / macroexpand ----------------------------------------------------------

value eval_runtime(eval_state& st, frame* f, value form, const scope_snapshot* snap, const src_span& sp) {
    // Syntax and code compiled at run time live in the evaluation's region (counted
    // against its memory limit); only the scope snapshots are kept on the side.
    st.runtime.push_back(std::make_unique<runtime_code>());
    runtime_code& r = *st.runtime.back();
    syntax_pool syn(*st.hp);
    const syntax* s = value_to_syntax(syn, form, "eval", sp);
    const lambda_code* code = compiler::compile_eval(st, s, snap, r);
    frame* fr = heap_frame(st, code, f);
    init_frame(st, fr, code, nullptr, 0);
    return code->body->eval(st, fr);
}

value macroexpand_runtime(eval_state& st, value form, bool once, const src_span& sp) {
    st.runtime.push_back(std::make_unique<runtime_code>());
    runtime_code& r = *st.runtime.back();
    syntax_pool syn(*st.hp);
    code_pool code(*st.hp);
    const syntax* s = value_to_syntax(syn, form, once ? "macroexpand-1" : "macroexpand", sp);
    const syntax* e = compiler::expand(st, *st.prog, s, once, syn, code, r.snapshots);
    return syntax_to_value(st.ctx, e);
}

// ---- eval_ctx --------------------------------------------------------------------------------

namespace {
value make_text(heap& h, type t, std::string_view s) {
    auto* o = static_cast<str_obj*>(h.alloc(sizeof(str_obj) + s.size()));
    char* d = reinterpret_cast<char*>(o + 1);
    if (!s.empty()) std::memcpy(d, s.data(), s.size());
    o->data = d;
    o->size = s.size();
    return value::object(t, o);
}
}  // namespace

value eval_ctx::make_string(std::string_view s) { return make_text(*heap_, type::string, s); }
value eval_ctx::make_symbol(std::string_view s) { return make_text(*heap_, type::symbol, s); }
value eval_ctx::make_keyword(std::string_view s) { return make_text(*heap_, type::keyword, s); }

value eval_ctx::make_list(std::span<const value> items) {
    value out;
    value* xs = new_list(items.size(), out);
    if (!items.empty()) std::memcpy(static_cast<void*>(xs), items.data(), items.size() * sizeof(value));
    return out;
}

value* eval_ctx::new_list(size_t n, value& out) {
    auto* l = static_cast<list_obj*>(heap_->alloc(sizeof(list_obj) + n * sizeof(value)));
    auto* xs = reinterpret_cast<value*>(l + 1);  // elements follow the header
    l->items = xs;
    l->size = static_cast<uint32_t>(n);
    l->buf = nullptr;
    out = value::object(type::list, l);
    return xs;
}

value eval_ctx::make_error(std::string_view tag, std::string_view message, value data) {
    auto* e = heap_->make<error_obj>();
    e->tag = make_keyword(tag);
    e->message = make_string(message);
    e->data = data;
    return value::object(type::error, e);
}

value eval_ctx::make_foreign(const foreign_kind* kind, void* payload) {
    auto* f = heap_->make<foreign_obj>();
    f->kind = kind;
    f->payload = payload;
    return value::object(type::foreign, f);
}

value eval_ctx::call(value proc, std::span<const value> args) {
    return apply_proc(*st_, proc, args.data(), args.size(), nullptr);
}

value eval_ctx::force(value v) {
    if (v.tag != type::promise) return v;
    promise_obj* p = v.as_promise();
    if (p->forced) return p->result;
    value r = apply_proc(*st_, p->thunk, nullptr, 0, nullptr);
    if (!p->forced) {
        p->result = r;
        p->forced = true;
    }
    return p->result;
}

void eval_ctx::write(std::string_view text) {
    // Output is buffered by sinks, so it counts against the memory limit too.
    st_->output_bytes += text.size();
    size_t limit = heap_->limit();
    if (limit && st_->output_bytes > limit)
        throw limit_error(limit_kind::memory,
                          "memory limit exceeded: more than " + std::to_string(limit) + " bytes of output");
    if (st_->capture)
        st_->capture->append(text);
    else if (st_->out)
        st_->out->write(text);
}

void* eval_ctx::host_ctx() const { return st_->host; }
void eval_ctx::check_stack() { check_native_stack(); }
uint64_t eval_ctx::next_gensym() { return st_->gensym++; }

// ---- list_builder --------------------------------------------------------------------------

list_builder::list_builder(eval_ctx& ctx, size_t reserve)
    : ctx_(ctx), data_(ctx.mem().make_array<value>(reserve ? reserve : 1)), cap_(reserve ? reserve : 1) {}

void list_builder::grow() {
    size_t nc = cap_ * 2;
    value* nd = ctx_.mem().make_array<value>(nc);
    std::memcpy(static_cast<void*>(nd), data_, size_ * sizeof(value));
    data_ = nd;
    cap_ = nc;
}

value list_builder::finish() {
    auto* l = ctx_.make<list_obj>();
    l->items = data_;
    l->size = static_cast<uint32_t>(size_);
    l->buf = nullptr;
    return value::object(type::list, l);
}

}  // namespace tatara
