// tatara-lisp embedder API: the process-wide stdlib, compile(), evaluator and diagnostics.
#include <pthread.h>
#include <algorithm>
#include <exception>
#include <mutex>
#include <string>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TATARA_SANITIZER_FRAMES 1  // instrumented frames are several times larger
#endif

#include "internal.hpp"

namespace tatara::detail {
struct embedded_file {
    std::string_view name;
    std::string_view text;
};
extern const embedded_file stdlib_files[];
extern const std::size_t stdlib_file_count;
}  // namespace tatara::detail

namespace tatara {

void install_core_natives(native_registry& r);  // natives_*.cpp of the core

namespace {

class program_registry final : public native_registry {
public:
    explicit program_registry(program& p) : p_(p) {}
    void add(std::string_view name, int min_args, int max_args, native_fn fn) override {
        native_def d;
        d.name = std::string(name);
        d.min_args = min_args;
        d.max_args = max_args;
        d.fn = fn;
        p_.natives.push_back(std::move(d));
        uint32_t slot = p_.globals.lookup_or_add(std::string(name), p_.initial_globals);
        p_.initial_globals[slot] = value::object(type::native, &p_.natives.back());
    }

private:
    program& p_;
};

void set_global(program& p, const std::string& name, value v) {
    uint32_t slot = p.globals.lookup_or_add(name, p.initial_globals);
    p.initial_globals[slot] = v;
}

diagnostic make_diag(const program& p, const source_text* src, const src_span& loc, const src_span& form,
                     std::string kind, std::string message) {
    diagnostic d;
    d.source_name = src ? src->name : p.src->name;
    d.kind = std::move(kind);
    d.message = std::move(message);
    const source_text* file = loc.file ? loc.file : src;
    if (file) {
        line_col(file->text, loc.start, d.line, d.column);
        d.source_name = file->name;
        const src_span& fs = form.file == file ? form : loc;
        if (fs.end > fs.start && fs.end <= file->text.size()) {
            d.form_text = file->text.substr(fs.start, fs.end - fs.start);
            if (d.form_text.size() > 160) {
                size_t cut = 157;  // never inside a UTF-8 sequence
                while (cut > 0 && (static_cast<unsigned char>(d.form_text[cut]) & 0xC0) == 0x80) --cut;
                d.form_text = d.form_text.substr(0, cut) + "...";
            }
        }
    }
    return d;
}

/// The stdlib: every native group plus the embedded prelude files, in file-name order.
/// A prelude file that fails to read or to evaluate stops the build: `error` says which
/// file, where and why, and the half-built program must not be used.
program* build_stdlib(std::optional<diagnostic>& error) {
    auto* p = new program();
    program_registry reg(*p);
    install_core_natives(reg);
    install_hof_natives(reg);
    install_map_natives(reg);
    install_chan_natives(reg);
    install_types_natives(reg);
    set_global(*p, "nil", value::nil());
    set_global(*p, "true", value::boolean(true));
    set_global(*p, "false", value::boolean(false));

    eval_state st;
    st.hp = &p->consts;
    st.bind_ctx();
    st.prog = p;
    st.out = nullptr;
    limits lim;
    lim.fuel = 0;
    lim.wall_clock_ms = 0;
    st.reset_limits(lim);
    compiler c(*p, st);
    for (size_t i = 0; i < detail::stdlib_file_count && !error; ++i) {
        const auto& f = detail::stdlib_files[i];
        p->extra_sources.push_back(source_text{"<stdlib>/" + std::string(f.name), std::string(f.text)});
        const source_text& src = p->extra_sources.back();
        std::vector<const syntax*> forms;
        read_failure err;
        if (!read_all(src, p->syn, forms, err, true)) {
            src_span at{&src, err.offset, err.offset};
            error = make_diag(*p, &src, at, at, "stdlib", "reader error: " + err.message);
            break;
        }
        for (const syntax* form : forms) {
            std::string out;
            const lambda_code* code = c.compile_toplevel(form, out);
            st.globals = p->initial_globals.data();
            try {
                run_toplevel(st, code);
            } catch (const lisp_error& e) {
                src_span loc = e.has_span() && e.span().file == &src ? e.span() : form->span;
                error = make_diag(*p, &src, loc, form->span, "stdlib", e.message());
            } catch (const limit_error& e) {
                error = make_diag(*p, &src, form->span, form->span, "stdlib", e.message());
            }
            if (error) break;
        }
    }
    for (auto& rt : st.runtime) p->compile_runtime.push_back(std::move(rt));
    return p;
}

struct stdlib_state {
    program* prog = nullptr;
    std::optional<diagnostic> error;
};

const stdlib_state& stdlib() {
    // Built once, on a thread with a default-sized stack whatever the caller's stack is.
    static const stdlib_state s = [] {
        stdlib_state built;
        // An explicit stack size: the default follows RLIMIT_STACK, which may be small.
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, size_t(16) << 20);
        pthread_t th;
        auto body = [](void* arg) -> void* {
            auto* b = static_cast<stdlib_state*>(arg);
            b->prog = build_stdlib(b->error);
            return nullptr;
        };
        if (pthread_create(&th, &attr, body, &built) == 0)
            pthread_join(th, nullptr);
        else
            built.prog = build_stdlib(built.error);  // no thread to be had: build here
        pthread_attr_destroy(&attr);
        return built;
    }();
    return s;
}

}  // namespace

const program& stdlib_program() { return *stdlib().prog; }

const diagnostic* stdlib_error() {
    const stdlib_state& s = stdlib();
    return s.error ? &*s.error : nullptr;
}

std::string diagnostic::formatted() const {
    std::string s = source_name;
    if (line) {
        s.append(":").append(std::to_string(line));
        s.append(":").append(std::to_string(column));
    }
    s.append(": ").append(message);
    if (!form_text.empty()) s.append(" (in ").append(form_text).append(")");
    return s;
}

namespace {

/// Rough bytes a program's own tables (outside its region) hold per global name.
constexpr size_t k_bytes_per_global = 96;

compile_result compile_failure(const program& p, src_span at, std::string kind, std::string message) {
    compile_result r;
    r.error = make_diag(p, p.src.get(), at, at, std::move(kind), std::move(message));
    return r;
}

const char* limit_kind_name(limit_kind k) {
    return k == limit_kind::fuel        ? "fuel"
           : k == limit_kind::memory    ? "memory"
           : k == limit_kind::cancelled ? "cancelled"
                                        : "wall-clock";
}

}  // namespace

compile_result compile(std::string_view source, std::string_view source_name, std::span<const intrinsic> intrinsics,
                       const compile_limits& lim) {
    if (const diagnostic* broken = stdlib_error()) {
        compile_result failed;
        failed.error = *broken;
        failed.error->message = "stdlib failed to load: " + broken->message;
        return failed;
    }
    if (lim.max_source_bytes && source.size() > lim.max_source_bytes) {
        compile_result r;
        r.error = diagnostic{};
        r.error->source_name = std::string(source_name);
        r.error->kind = "program-size";
        r.error->message = "program is " + std::to_string(source.size()) + " bytes, over the limit of " +
                           std::to_string(lim.max_source_bytes) + " bytes";
        return r;
    }
    const program& base = stdlib_program();
    auto p = std::make_shared<program>();
    p->base = &base;
    p->src = std::make_unique<source_text>(source_text{std::string(source_name), std::string(source)});
    p->globals.base = &base.globals;
    p->globals.next_slot = base.globals.next_slot;
    p->initial_globals = base.initial_globals;
    p->consts.set_limit(lim.memory_bytes);
    src_span whole{p->src.get(), 0, 0};
    try {
        // The compiled form is bounded by the memory limit: the region holds syntax, code and
        // constants; the program's own tables are accounted as they grow.
        p->consts.account(sizeof(program) + p->src->text.size() + p->src->name.size() +
                          p->initial_globals.size() * sizeof(value) + intrinsics.size() * k_bytes_per_global);
        for (const intrinsic& in : intrinsics) {
            native_def d;
            d.name = in.name;
            d.min_args = in.min_args;
            d.max_args = in.max_args;
            d.host = in.fn;
            d.user_data = in.user_data;
            p->natives.push_back(std::move(d));
            set_global(*p, in.name, value::object(type::native, &p->natives.back()));
        }
        std::vector<const syntax*> forms;
        read_failure err;
        if (!read_all(*p->src, p->syn, forms, err, true)) {
            src_span at{p->src.get(), err.offset, err.offset};
            return compile_failure(*p, at, "reader", "reader error: " + err.message);
        }
        eval_state st;
        st.hp = &p->consts;
        st.bind_ctx();
        st.prog = p.get();
        st.out = nullptr;
        limits expansion;  // compile-time macro expansion runs under these limits
        expansion.fuel = lim.fuel;
        expansion.memory_bytes = lim.memory_bytes;
        expansion.wall_clock_ms = lim.wall_clock_ms;
        st.reset_limits(expansion);
        compiler c(*p, st);
        auto* out = p->consts.make_array<toplevel_form>(forms.size());
        size_t globals_before = p->initial_globals.size();
        for (size_t i = 0; i < forms.size(); ++i) {
            const syntax* form = forms[i];
            whole = form->span;
            toplevel_form* tf = new (out + i) toplevel_form{};
            tf->span = form->span;
            std::string printed;
            tf->code = c.compile_toplevel(form, printed);
            tf->expansion_output = p->code.text(printed);
            p->forms = std::span<const toplevel_form>(out, i + 1);
            if (p->initial_globals.size() != globals_before) {
                p->consts.account((p->initial_globals.size() - globals_before) * k_bytes_per_global);
                globals_before = p->initial_globals.size();
            }
        }
        for (auto& rt : st.runtime) p->compile_runtime.push_back(std::move(rt));
    } catch (const limit_error& e) {
        std::string msg = e.message();
        if (e.kind() == limit_kind::memory) msg = "compiling the program: " + msg;
        return compile_failure(*p, whole, limit_kind_name(e.kind()), msg);
    } catch (const lisp_error& e) {  // e.g. the native stack exhausted by absurd nesting
        return compile_failure(*p, whole, std::string(error_tag(e.kind())), e.message());
    } catch (const std::bad_alloc&) {
        return compile_failure(*p, whole, "memory", "compiling the program: out of memory");
    }
    p->consts.set_limit(0);
    compile_result r;
    r.prog = std::move(p);
    return r;
}

size_t program_footprint(const program& p) { return p.consts.bytes_used(); }

// ---- evaluator ------------------------------------------------------------------------------

#if defined(TATARA_SANITIZER_FRAMES)
constexpr size_t k_stack_per_level = 8192;  // ASan/TSan frames are several times larger
#else
constexpr size_t k_stack_per_level = 2048;                 // measured 450-650 bytes for simple recursion
#endif
constexpr size_t k_stack_margin = 1u << 20;
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t k_max_private_stack = size_t(64) << 20;  // ASan aborts on larger fiber stacks
#else
constexpr size_t k_max_private_stack = size_t(256) << 20;  // beyond: native guard raises
#endif

struct evaluator_impl {
    heap hp{false};
    eval_state st;
    std::vector<value> globals;
    stack_extension* ext = new_stack_extension();

    ~evaluator_impl() { delete_stack_extension(ext); }
    void run_body(const program& p, const eval_options& o, eval_result& r);
};

void evaluator_impl::run_body(const program& p, const eval_options& o, eval_result& r) {
    st.reset_limits(o.lim);
    r.ok = true;
    size_t i = 0;
    try {
        for (; i < p.forms.size(); ++i) {
            const toplevel_form& f = p.forms[i];
            if (!f.expansion_output.empty()) st.ctx.write(f.expansion_output);
            value v = run_toplevel(st, f.code);
            r.result = v;
            if (o.keep_each) r.each.push_back(v);
        }
    } catch (const lisp_error& e) {
        r.ok = false;
        const src_span& top = p.forms[i].span;
        src_span loc = e.has_span() && e.span().file == p.src.get() ? e.span() : top;
        src_span form = e.has_form_span() && e.form_span().file == p.src.get() ? e.form_span() : loc;
        r.error = make_diag(p, p.src.get(), loc, form, std::string(error_tag(e.kind())), e.message());
        if (e.kind() == error_kind::user) r.thrown = e.thrown();
    } catch (const limit_error& e) {
        r.ok = false;
        const char* kind = limit_kind_name(e.kind());
        const src_span& top = p.forms[i].span;
        r.error = make_diag(p, p.src.get(), top, top, kind, e.message());
        r.result = value::nil();
        r.each.clear();
    }
}

evaluator::evaluator() : impl_(std::make_unique<evaluator_impl>()) {
    impl_->st.hp = &impl_->hp;
    impl_->st.bind_ctx();
}

evaluator::~evaluator() = default;

eval_ctx& evaluator::ctx() { return impl_->st.ctx; }
size_t evaluator::last_bytes_used() const { return impl_->hp.bytes_used(); }

void evaluator::release(size_t keep_bytes) {
    evaluator_impl& im = *impl_;
    if (im.hp.bytes_used() <= keep_bytes) return;
    im.st.runtime.clear();
    im.st.dyn_globals.clear();
    im.hp.reset();
}

eval_result evaluator::run(const program& p, const eval_options& o) {
    evaluator_impl& im = *impl_;
    eval_state& st = im.st;
    st.runtime.clear();
    st.dyn_globals.clear();
    im.hp.reset();
    im.hp.set_limit(o.lim.memory_bytes);
    st.hp = &im.hp;
    st.bind_ctx();
    st.prog = &p;
    st.out = o.out;
    st.capture = nullptr;
    st.host = o.host_ctx;
    st.checkpoint = o.checkpoint;
    st.checkpoint_arg = o.checkpoint_arg;
    st.gensym = 0;
    st.output_bytes = 0;
    im.globals.assign(p.initial_globals.begin(), p.initial_globals.end());
    st.globals = im.globals.data();

    // Recursion that outgrows this thread's stack continues on a private stack sized for
    // max_depth (allocated on first need, kept for later runs).
    size_t depth = o.lim.max_depth ? o.lim.max_depth : 10000;
    size_t need = o.lim.native_stack_bytes ? std::max(o.lim.native_stack_bytes, 4 * k_stack_margin)
                                           : depth * k_stack_per_level + 2 * k_stack_margin;
    st.ext = im.ext;
    st.ext_bytes = std::min(need, k_max_private_stack);
    eval_result r;
    im.run_body(p, o, r);
    return r;
}

text_result run_source(std::string_view source, std::string_view source_name, const limits& lim) {
    text_result t;
    compile_result c = compile(source, source_name);
    if (!c.prog) {
        t.error = *c.error;
        return t;
    }
    evaluator ev;
    string_sink sink;
    eval_options o;
    o.lim = lim;
    o.out = &sink;
    eval_result r = ev.run(*c.prog, o);
    t.output = sink.text();
    t.ok = r.ok;
    if (r.ok)
        t.value_text = to_display_string(r.result);
    else
        t.error = r.error;
    return t;
}

}  // namespace tatara
