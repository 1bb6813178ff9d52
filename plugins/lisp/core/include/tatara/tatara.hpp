// tatara-lisp embedder API: compile a program once, evaluate it many times.
//
// compile() parses, macro-expands and compiles a whole program into an immutable
// `program` that any number of threads may evaluate concurrently. Each evaluation runs
// in a fresh global frame layered over the process-wide stdlib, under per-evaluation
// limits, and releases its memory when the evaluator is reused or destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tatara/context.hpp"
#include "tatara/error.hpp"
#include "tatara/native.hpp"
#include "tatara/printer.hpp"
#include "tatara/value.hpp"

namespace tatara {

/// Per-evaluation limits. 0 means "unlimited" for fuel, memory_bytes and wall_clock_ms
/// (the reference's meaning). vigy's own limits (vigy_limits, the CLI, a vigy's config)
/// use 0 for "the default"; the lisp plugin resolves them before they get here.
struct limits {
    uint64_t fuel = 100'000'000;       ///< evaluation steps (procedure calls)
    uint32_t max_depth = 10'000;       ///< nested non-tail calls; beyond -> :stack-overflow
    size_t memory_bytes = 256u << 20;  ///< bytes allocated by the evaluation
    uint32_t wall_clock_ms = 10'000;   ///< milliseconds of wall-clock time
    /// Bytes of native stack for the evaluation; 0 = enough for max_depth (capped at
    /// 256 MiB). When the calling thread's stack is smaller, the evaluator runs the
    /// program on a private stack of this size. Exhausting it raises :stack-overflow.
    size_t native_stack_bytes = 0;
};

/// Where display/print/println write. Called on the evaluating thread.
class output_sink {
public:
    virtual ~output_sink() = default;
    virtual void write(std::string_view text) = 0;
};
/// Sink appending to a std::string (not thread-safe; one per evaluation).
class string_sink : public output_sink {
public:
    void write(std::string_view text) override { text_.append(text); }
    const std::string& text() const { return text_; }
    void clear() { text_.clear(); }

private:
    std::string text_;
};

/// A host intrinsic installed into a program at compile time; resolved like a native
/// global `name`. The callback may raise with raise_* (e.g. raise_native(name, reason)).
struct intrinsic {
    std::string name;
    int min_args = 0;
    int max_args = -1;  ///< -1 = variadic
    host_fn fn = nullptr;
    void* user_data = nullptr;  ///< borrowed; must outlive the program
};

/// A located diagnostic. formatted(): "<source>:<line>:<col>: <message> (in <form>)".
struct diagnostic {
    std::string source_name;
    uint32_t line = 0;      ///< 1-based; 0 when unknown
    uint32_t column = 0;    ///< 1-based, in characters
    std::string kind;       ///< catch tag ("unbound-symbol", "user", "reader", ...) or the
                            ///< limit ("fuel", "memory", "wall-clock")
    std::string message;    ///< e.g. "unbound symbol: foo"
    std::string form_text;  ///< source text of the offending form (may be empty)
    std::string formatted() const;
};

class program;
/// Compiled program: immutable and thread-safe to evaluate concurrently.
using program_ptr = std::shared_ptr<const program>;

struct compile_result {
    program_ptr prog;                 ///< null on error
    std::optional<diagnostic> error;  ///< reader errors (kind "reader") with line:column
};

/// Offset of the first byte of `text` that does not begin a well-formed UTF-8 sequence
/// (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF), or
/// std::string_view::npos when all of it is valid UTF-8.
size_t invalid_utf8_offset(std::string_view text);

/// Limits of one compilation. The compiled form (syntax, code, constants and whatever macro
/// expansion allocates) lives in the program's own region, bounded by memory_bytes, so a
/// huge program fails to compile instead of inflating the process.
struct compile_limits {
    size_t max_source_bytes = 1u << 20;  ///< larger sources are refused (kind "program-size"); 0 = no cap
    size_t memory_bytes = 64u << 20;     ///< bytes of the compiled form (kind "memory"); 0 = unlimited
    uint64_t fuel = 10'000'000;          ///< steps of compile-time macro expansion; 0 = unlimited
    uint32_t wall_clock_ms = 5000;       ///< wall clock of compile-time macro expansion; 0 = unlimited
};

/// Compile source (UTF-8). Fails on reader errors (kind "reader", with line:column, invalid
/// UTF-8 included), a source over lim.max_source_bytes ("program-size") or a compiled form
/// over lim.memory_bytes ("memory"); syntax and macro errors of a form are raised when that
/// form is evaluated (as in the reference). Thread-safe. Builds the shared stdlib on first
/// use; a stdlib that failed to load fails every compile (kind "stdlib").
compile_result compile(std::string_view source, std::string_view source_name,
                       std::span<const intrinsic> intrinsics = {}, const compile_limits& lim = {});

/// Bytes a compiled program holds (its region plus the accounted size of its tables), the
/// figure compile_limits::memory_bytes bounds.
size_t program_footprint(const program& p);

/// Why the process-wide stdlib (natives + the embedded prelude files) could not be built,
/// or nullptr when it loaded. Builds it on first use; thread-safe. A prelude file that
/// fails to read or evaluate is fatal for the language: the diagnostic names the file,
/// line and column (kind "stdlib") and every compile() fails with it.
const diagnostic* stdlib_error();

struct eval_options {
    limits lim;
    void* host_ctx = nullptr;    ///< returned by eval_ctx::host_ctx() during this run
    output_sink* out = nullptr;  ///< nullptr = printed text is discarded (never the process stdout)
    bool keep_each = false;      ///< also collect every top-level form's value
    /// Called on the evaluating thread about every 1024 evaluation steps, before the
    /// fuel and wall-clock checks (nullptr = none). It may block (a host parks a long
    /// run there while other work uses the CPU: fair scheduling); a nonzero return
    /// stops the run with a "cancelled" diagnostic. Time spent in it counts against
    /// wall_clock_ms.
    int (*checkpoint)(void* arg) = nullptr;
    void* checkpoint_arg = nullptr;
};

/// Outcome of one evaluation. Values live until the evaluator's next run/destruction.
struct eval_result {
    bool ok = false;
    value result;             ///< last top-level value (nil for an empty program)
    std::vector<value> each;  ///< every top-level value when keep_each
    diagnostic error;         ///< when !ok
    value thrown;             ///< uncaught user error's value (kind "user")
};

/// Runs programs. Reuse one evaluator per thread: memory is recycled between runs.
/// Not thread-safe itself; a program may be run by many evaluators at once.
class evaluator {
public:
    evaluator();
    ~evaluator();
    evaluator(const evaluator&) = delete;
    evaluator& operator=(const evaluator&) = delete;

    /// Evaluate p in a fresh global frame. Releases the previous run's values first.
    eval_result run(const program& p, const eval_options& opts = {});
    /// Context of the current/last run (to build values for host conversions).
    eval_ctx& ctx();
    /// Bytes the last run allocated from its region.
    size_t last_bytes_used() const;
    /// Frees what the last run allocated if it is more than keep_bytes (its values and
    /// result become invalid), so a thread that ran one large evaluation does not hold
    /// that memory until its next run. The region's first block is kept for reuse.
    void release(size_t keep_bytes = 0);

private:
    std::unique_ptr<struct evaluator_impl> impl_;
};

/// Convenience: compile and run, returning printed output + printed last value.
struct text_result {
    bool ok = false;
    std::string output;      ///< everything written to the sink
    std::string value_text;  ///< printed last value (when ok)
    diagnostic error;
};
text_result run_source(std::string_view source, std::string_view source_name = "<input>", const limits& lim = {});

}  // namespace tatara
