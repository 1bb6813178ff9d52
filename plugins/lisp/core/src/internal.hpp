// tatara-lisp core internals shared by reader, compiler, evaluator and embedder.
// Not installed; natives outside the core use only include/tatara/*.hpp.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tatara/tatara.hpp"

namespace tatara {

// ---- syntax (reader output) -------------------------------------------------------

enum class syn : uint8_t { integer, real, boolean, string, symbol, keyword, list, quote, quasiquote,
                           unquote, splice };

/// One source node. Lists use items; quote-likes use inner.
struct syntax {
  syn kind = syn::list;
  src_span span{};
  int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string text;  ///< string/symbol/keyword text (keyword without ':')
  std::vector<const syntax*> items;
  const syntax* inner = nullptr;

  bool is_symbol(std::string_view s) const { return kind == syn::symbol && text == s; }
};

/// Owns syntax nodes (stable addresses).
class syntax_pool {
 public:
  syntax* make(syn kind, src_span span) {
    nodes_.emplace_back();
    syntax* s = &nodes_.back();
    s->kind = kind;
    s->span = span;
    return s;
  }
  size_t size() const { return nodes_.size(); }

 private:
  std::deque<syntax> nodes_;
};

/// Reader failure: reference message and byte offset.
struct read_failure {
  std::string message;
  uint32_t offset = 0;
};

/// Read every form of src; returns false and fills err on a syntax error.
bool read_all(const source_text& src, syntax_pool& pool, std::vector<const syntax*>& out,
              read_failure& err);
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

struct node {
  src_span span{};
  virtual ~node() = default;
  virtual value eval(eval_state& st, frame* f) const = 0;
};

struct lambda_code {
  uint32_t nparams = 0;  ///< required params
  bool rest = false;     ///< has &rest (slot nparams)
  uint32_t nslots = 0;   ///< params + rest + all locals of nested let/define/catch scopes
  bool heap_frame = false;
  const node* body = nullptr;
  std::vector<std::string> param_names;  ///< required params then rest name
  std::vector<uint32_t> define_slots;    ///< slots starting unbound (internal defines)
};

/// Owns compiled nodes and lambda codes.
class code_pool {
 public:
  template <class T, class... A>
  T* make(A&&... a) {
    auto p = std::make_unique<T>(std::forward<A>(a)...);
    T* raw = p.get();
    nodes_.push_back(std::move(p));
    return raw;
  }
  lambda_code* make_lambda() {
    lambdas_.push_back(std::make_unique<lambda_code>());
    return lambdas_.back().get();
  }
  size_t size() const { return nodes_.size() + lambdas_.size(); }

 private:
  std::vector<std::unique_ptr<node>> nodes_;
  std::vector<std::unique_ptr<lambda_code>> lambdas_;
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
  std::string expansion_output;  ///< printed while macros expanded this form (replayed)
  src_span span{};
};

/// Names and macros a program compiles against (the stdlib's, extended by the program).
struct global_table {
  std::unordered_map<std::string, uint32_t> index;
  std::vector<std::string> names;
  uint32_t lookup_or_add(const std::string& name, std::vector<value>& initial) {
    auto it = index.find(name);
    if (it != index.end()) return it->second;
    uint32_t i = static_cast<uint32_t>(names.size());
    index.emplace(name, i);
    names.push_back(name);
    value u;
    u.tag = type::unbound_;
    initial.push_back(u);
    return i;
  }
};

}  // namespace tatara

namespace tatara {

/// Chunk of compiled code owned by an evaluation (runtime `eval`).
struct runtime_code {
  syntax_pool syn;
  code_pool code;
  std::deque<scope_snapshot> snapshots;
};

/// A compiled program (also used for the stdlib itself).
class program {
 public:
  program() : consts(true) {}
  std::unique_ptr<source_text> src;
  syntax_pool syn;
  code_pool code;
  heap consts;  ///< constants, macro closures, compile-time allocations
  global_table globals;
  std::vector<value> initial_globals;
  std::unordered_map<std::string, std::shared_ptr<const macro_def>> macros;
  std::deque<native_def> natives;  ///< intrinsics (and the stdlib's natives)
  std::vector<toplevel_form> forms;
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
  char* stack_floor = nullptr;  ///< native stack guard for the running thread
  stack_extension* ext = nullptr;  ///< where to continue when the thread stack runs low
  size_t ext_bytes = 0;            ///< size of that stack
  std::chrono::steady_clock::time_point deadline{};
  bool has_deadline = false;
  uint32_t wall_ms = 0;

  // tail calls
  value tail_proc{};
  std::vector<value> tail_args;

  uint64_t gensym = 0;
  size_t output_bytes = 0;
  std::unordered_map<std::string, value> dyn_globals;  ///< globals created by runtime eval
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
  /// Compile code for runtime `eval` inside the lexical scope snapshot (may be null).
  static const lambda_code* compile_eval(eval_state& st, const syntax* form,
                                         const scope_snapshot* snap, runtime_code& rt);
  /// Fully expand (or once) a form using the program's macros, running them in st.
  static const syntax* expand(eval_state& st, const program& prog, const syntax* form, bool once,
                              syntax_pool& pool, code_pool& code, std::deque<scope_snapshot>& snaps);

 private:
  program& prog_;
  eval_state& st_;
};

/// syntax -> data value (quote semantics) allocated in h.
value syntax_to_value(eval_ctx& ctx, const syntax* s);
/// data value -> syntax; raises native-fn `who` for non-code values.
const syntax* value_to_syntax(syntax_pool& pool, value v, std::string_view who, src_span span);

}  // namespace tatara
