// tatara-lisp core internals shared by reader, compiler, evaluator and embedder.
// Not installed; natives outside the core use only include/tatara/*.hpp.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "tatara/tatara.hpp"

namespace tatara {

// ---- syntax (reader output) -------------------------------------------------------

enum class syn : uint8_t { integer, real, boolean, string, symbol, keyword, list, quote, quasiquote, unquote, splice };

/// One source node, 32 bytes, allocated in a region (see syntax_pool). Lists have items(),
/// quote-likes inner(), strings/symbols/keywords text() (keyword without ':'). Immutable
/// once built; lives as long as the region it was made in.
struct syntax {
    syn kind = syn::list;
    bool b = false;      ///< boolean value
    uint32_t count = 0;  ///< items of a list, bytes of a text
    src_span span{};
    union {
        int64_t i;
        double d;
        const char* chars;
        const syntax* const* elems;
        const syntax* in;
    } u{.i = 0};

    std::string_view text() const { return {u.chars, count}; }
    /// Elements of a list (empty for every other kind).
    std::span<const syntax* const> items() const {
        if (kind != syn::list) return {};
        return {u.elems, count};
    }
    const syntax* inner() const { return u.in; }
    bool is_symbol(std::string_view s) const { return kind == syn::symbol && text() == s; }
};
static_assert(sizeof(syntax) == 32);

/// Makes syntax nodes in a region (the program's, or an evaluation's for runtime eval and
/// read-string): nodes are never freed one by one and count against the region's limit.
class syntax_pool {
public:
    explicit syntax_pool(heap& h) : h_(&h) {}
    syntax* make(syn kind, src_span span) {
        ++count_;
        auto* s = new (h_->alloc(sizeof(syntax))) syntax();
        s->kind = kind;
        s->span = span;
        return s;
    }
    /// A string/symbol/keyword node whose text is copied into the region.
    syntax* make_text(syn kind, src_span span, std::string_view text) {
        syntax* s = make(kind, span);
        set_text(s, copy_text(text));
        return s;
    }
    /// A string/symbol/keyword node borrowing `text` (which must outlive the region's use).
    syntax* make_borrowed_text(syn kind, src_span span, std::string_view text) {
        syntax* s = make(kind, span);
        set_text(s, text);
        return s;
    }
    /// A list node holding a copy of items.
    syntax* make_list(src_span span, std::span<const syntax* const> items) {
        syntax* s = make(syn::list, span);
        if (!items.empty()) {
            // an array of pointers: sizeof a pointer is meant
            // NOLINTNEXTLINE(bugprone-sizeof-expression)
            auto** xs = static_cast<const syntax**>(h_->alloc(items.size() * sizeof(const syntax*)));
            std::copy(items.begin(), items.end(), xs);
            s->u.elems = xs;
        }
        s->count = static_cast<uint32_t>(items.size());
        return s;
    }
    /// A quote/quasiquote/unquote/splice node around inner.
    syntax* make_wrapped(syn kind, src_span span, const syntax* inner) {
        syntax* s = make(kind, span);
        s->u.in = inner;
        return s;
    }
    std::string_view copy_text(std::string_view text) {
        if (text.empty()) return {};
        char* d = static_cast<char*>(h_->alloc(text.size()));
        std::memcpy(d, text.data(), text.size());
        return {d, text.size()};
    }
    static void set_text(syntax* s, std::string_view text) {
        s->u.chars = text.data();
        s->count = static_cast<uint32_t>(text.size());
    }
    /// Nodes made so far.
    size_t size() const { return count_; }
    heap& mem() { return *h_; }

private:
    heap* h_;
    size_t count_ = 0;
};

/// Reader failure: reference message and byte offset.
struct read_failure {
    std::string message;
    uint32_t offset = 0;
};

/// Read every form of src; returns false and fills err on a syntax error (invalid UTF-8
/// included). With borrow_text, symbol/keyword/string nodes point into src.text where they
/// can (src must then outlive the nodes); otherwise text is copied into the pool.
bool read_all(const source_text& src, syntax_pool& pool, std::vector<const syntax*>& out, read_failure& err,
              bool borrow_text);
/// 1-based line and character column of a byte offset.
void line_col(std::string_view text, uint32_t offset, uint32_t& line, uint32_t& col);

/// Print a syntax node the way the reference prints a quoted source form.
void print_syntax(std::string& out, const syntax* s);

// ---- runtime structures --------------------------------------------------------------

struct eval_state;
struct frame {
    frame* parent;
    value* slots;
};

/// A compiled expression. Nodes live in a region (code_pool) and are never destroyed, so
/// every node type must be trivially destructible (text as string_view, arrays as span,
/// both pointing into the same region).
struct node {
    src_span span{};
    virtual value eval(eval_state& st, frame* f) const = 0;

protected:
    ~node() = default;
};

struct lambda_code {
    uint32_t nparams = 0;  ///< required params
    bool rest = false;     ///< has &rest (slot nparams)
    uint32_t nslots = 0;   ///< params + rest + all locals of nested let/define/catch scopes
    bool heap_frame = false;
    const node* body = nullptr;
    std::span<const std::string_view> param_names;  ///< required params then rest name
    std::span<const uint32_t> define_slots;         ///< slots starting unbound (internal defines)
};

/// Makes compiled nodes and lambda codes in a region (the program's, or the evaluation's
/// for runtime eval), with the text and arrays they point to.
class code_pool {
public:
    explicit code_pool(heap& h) : h_(&h) {}
    template <class T>
    T* make() {
        static_assert(std::is_trivially_destructible_v<T>, "nodes are never destroyed");
        ++count_;
        return new (h_->alloc(sizeof(T))) T();
    }
    lambda_code* make_lambda() { return make<lambda_code>(); }
    /// A copy of text in the region.
    std::string_view text(std::string_view s) {
        if (s.empty()) return {};
        char* d = static_cast<char*>(h_->alloc(s.size()));
        std::memcpy(d, s.data(), s.size());
        return {d, s.size()};
    }
    /// A copy of items in the region.
    template <class T>
    std::span<const T> array(const std::vector<T>& items) {
        static_assert(std::is_trivially_destructible_v<T>);
        if (items.empty()) return {};
        T* d = static_cast<T*>(h_->alloc(items.size() * sizeof(T)));
        std::uninitialized_copy(items.begin(), items.end(), d);
        return {d, items.size()};
    }
    /// Nodes and lambda codes made so far.
    size_t size() const { return count_; }
    heap& mem() { return *h_; }

private:
    heap* h_;
    size_t count_ = 0;
};

/// A macro: its parameter list and (first) body form, compiled afresh at each expansion
/// with the macros known then (as the reference expands macro bodies per invocation).
struct macro_def {
    std::string name;
    const syntax* params = nullptr;  ///< owned by the defining program
    const syntax* body = nullptr;
    uint32_t nrequired = 0;
    bool rest = false;
    std::vector<std::string> param_names;
};

/// Lexical variables visible at an `eval` site: innermost function layer first.
struct scope_snapshot {
    bool global_level = false;  ///< defines at the eval site bind globals
    std::vector<std::vector<std::pair<std::string, uint32_t>>> layers;
};

struct toplevel_form {
    const lambda_code* code = nullptr;
    std::string_view expansion_output;  ///< printed while macros expanded this form (replayed)
    src_span span{};
};

/// Hash for unordered maps keyed by std::string that are looked up with string_view.
struct text_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

/// Global names a program compiles against: the stdlib's (shared, `base`) extended by the
/// program's own. Slots of base names are the base's; new names follow them.
struct global_table {
    const global_table* base = nullptr;
    std::unordered_map<std::string, uint32_t, text_hash, std::equal_to<>> index;  ///< own names
    uint32_t next_slot = 0;                                                       ///< slots in use (base's included)

    /// Slot of name, or -1.
    int64_t find(std::string_view name) const {
        auto it = index.find(name);
        if (it != index.end()) return it->second;
        return base ? base->find(name) : -1;
    }
    uint32_t lookup_or_add(std::string_view name, std::vector<value>& initial) {
        if (int64_t slot = find(name); slot >= 0) return static_cast<uint32_t>(slot);
        uint32_t i = next_slot++;
        index.emplace(std::string(name), i);
        value u;
        u.tag = type::unbound_;
        initial.push_back(u);
        return i;
    }
};

}  // namespace tatara

namespace tatara {

/// Lexical snapshots of runtime `eval` sites compiled by an evaluation (their syntax and
/// code live in the evaluation's region).
struct runtime_code {
    std::deque<scope_snapshot> snapshots;
};

/// A compiled program (also used for the stdlib itself).
class program {
public:
    program() : consts(true), syn(consts), code(consts) {}
    std::unique_ptr<source_text> src;
    /// The program's region: syntax, compiled code, constants, macro closures and every
    /// compile-time allocation. Its limit bounds the compiled form.
    heap consts;
    syntax_pool syn;
    code_pool code;
    global_table globals;
    std::vector<value> initial_globals;
    /// Macros the program defined (shadowing base_macros, the stdlib's).
    std::unordered_map<std::string, std::shared_ptr<const macro_def>, text_hash, std::equal_to<>> macros;
    const program* base = nullptr;  ///< the stdlib (nullptr for the stdlib itself)
    /// The macro `name` as this program sees it, or nullptr.
    const macro_def* find_macro(std::string_view name) const {
        auto it = macros.find(name);
        if (it != macros.end()) return it->second.get();
        return base ? base->find_macro(name) : nullptr;
    }
    std::deque<native_def> natives;        ///< intrinsics (and the stdlib's natives)
    std::span<const toplevel_form> forms;  ///< in the region
    std::deque<scope_snapshot> snapshots;
    std::deque<source_text> extra_sources;
    std::vector<std::unique_ptr<runtime_code>> compile_runtime;
};

/// Process-wide stdlib (natives + prelude), built once, immutable afterwards.
const program& stdlib_program();

/// A private native stack an evaluation continues on when the thread's own stack runs
/// low (one extension per evaluation; see stack.cpp).
struct stack_extension;

/// Per-evaluation interpreter state.
struct eval_state {
    eval_ctx ctx;
    heap* hp = nullptr;
    value* globals = nullptr;
    const program* prog = nullptr;
    output_sink* out = nullptr;
    std::string* capture = nullptr;  ///< compile-time output capture (macro expansion)
    void* host = nullptr;

    // limits
    uint64_t steps = 0;
    uint64_t next_check = 0;
    uint64_t fuel_limit = 0;  ///< 0 = unlimited
    uint32_t depth = 0;
    uint32_t max_depth = 10000;
    char* stack_floor = nullptr;     ///< native stack guard for the running thread
    stack_extension* ext = nullptr;  ///< where to continue when the thread stack runs low
    size_t ext_bytes = 0;            ///< size of that stack
    std::chrono::steady_clock::time_point deadline{};
    bool has_deadline = false;
    uint32_t wall_ms = 0;
    int (*checkpoint)(void*) = nullptr;  ///< eval_options::checkpoint (runs only)
    void* checkpoint_arg = nullptr;

    // tail calls
    value tail_proc{};
    std::vector<value> tail_args;

    uint64_t gensym = 0;
    size_t output_bytes = 0;
    std::unordered_map<std::string, value, text_hash, std::equal_to<>>
        dyn_globals;  ///< globals created by runtime eval
    std::vector<std::unique_ptr<runtime_code>> runtime;

    eval_state() {
        ctx.heap_ = nullptr;
        tail_args.reserve(16);
    }
    void bind_ctx() {
        ctx.heap_ = hp;
        ctx.st_ = this;
    }
    void slow_check();
    void tick() {
        if (++steps >= next_check) slow_check();
    }
    /// Reset counters for a new run on the calling thread.
    void reset_limits(const limits& lim);
};

// ---- core native groups (natives_<group>.cpp) ---------------------------------------------
void install_arith_natives(native_registry& r);   ///< arithmetic, comparison, bits
void install_list_natives(native_registry& r);    ///< lists, equality, predicates
void install_string_natives(native_registry& r);  ///< strings/symbols/keywords, I/O, reader
void install_misc_natives(native_registry& r);    ///< gensym, structured errors

// ---- evaluator entry points ------------------------------------------------------------

/// Native stack guard: raise :stack-overflow when the thread's stack is nearly used up.
void check_native_stack();
/// Lowest safe native stack address of the calling thread.
char* native_stack_floor();
/// Replace the calling thread's stack floor (when switching to another stack); returns
/// the previous value (nullptr = not computed yet).
char* exchange_native_stack_floor(char* floor);
[[noreturn]] void raise_stack_overflow(const std::string& why);
/// Continue apply_closure on the evaluation's stack extension (thread stack ran low).
value apply_on_extension(eval_state& st, const closure_obj* c, const value* argv, size_t n);
/// Owns and releases a stack extension.
stack_extension* new_stack_extension();
void delete_stack_extension(stack_extension* x);
/// Apply a procedure (non-tail). Counts fuel/depth.
value apply_proc(eval_state& st, value proc, const value* args, size_t n, const src_span* call);
/// Run a 0-parameter top-level code block.
value run_toplevel(eval_state& st, const lambda_code* code);

// ---- compiler ------------------------------------------------------------------------

/// Compiles syntax for one program. When `rt` is set, compiled code is owned by the
/// runtime chunk (runtime eval) instead of the program.
class compiler {
public:
    compiler(program& prog, eval_state& ct_state);
    /// Expand and compile one top-level form into a 0-parameter lambda code. Syntax and
    /// macro errors become code that raises when run. Output printed during expansion is
    /// appended to expansion_output.
    const lambda_code* compile_toplevel(const syntax* form, std::string& expansion_output);
    /// Compile code for runtime `eval` inside the lexical scope snapshot (may be null); the
    /// code lives in the evaluation's region, snapshots in rt.
    static const lambda_code* compile_eval(eval_state& st, const syntax* form, const scope_snapshot* snap,
                                           runtime_code& rt);
    /// Fully expand (or once) a form using the program's macros, running them in st.
    static const syntax* expand(eval_state& st, const program& prog, const syntax* form, bool once, syntax_pool& pool,
                                code_pool& code, std::deque<scope_snapshot>& snaps);

private:
    program& prog_;
    eval_state& st_;
};

/// syntax -> data value (quote semantics) allocated in h.
value syntax_to_value(eval_ctx& ctx, const syntax* s);
/// data value -> syntax; raises native-fn `who` for non-code values.
const syntax* value_to_syntax(syntax_pool& pool, value v, std::string_view who, src_span span);

}  // namespace tatara
