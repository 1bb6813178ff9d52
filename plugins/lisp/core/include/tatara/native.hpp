// tatara-lisp native function registration.
//
// Natives are registered once per process into the shared stdlib (before any program is
// compiled) and are called directly by compiled code. The evaluator checks arity before
// the call, so a native may index args within [min_args, max_args] without checking.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "tatara/context.hpp"
#include "tatara/error.hpp"
#include "tatara/value.hpp"

namespace tatara {

/// A native procedure: receives the evaluation context and the evaluated arguments
/// (borrowed for the call). Returns a value or raises (throws lisp_error via raise_*).
using native_fn = value (*)(eval_ctx& ctx, std::span<const value> args);

/// A host intrinsic callback (installed per program, see tatara.hpp): user_data is the
/// pointer given at registration, ctx.host_ctx() the per-evaluation host pointer.
using host_fn = value (*)(void* user_data, std::span<const value> args, eval_ctx& ctx);

/// Descriptor of a native or intrinsic; the procedure value points at it.
struct native_def {
    std::string name;
    int min_args = 0;
    int max_args = -1;  ///< -1 = unbounded
    native_fn fn = nullptr;
    host_fn host = nullptr;  ///< set instead of fn for intrinsics
    void* user_data = nullptr;
};

/// Collects natives while the process-wide stdlib is being built.
class native_registry {
public:
    virtual ~native_registry() = default;
    /// Register (or replace) global `name`; max_args -1 = variadic.
    virtual void add(std::string_view name, int min_args, int max_args, native_fn fn) = 0;
};

// Groups of natives. Each is defined in plugins/lisp/core/src/natives_<group>.cpp and
// called once while the stdlib is built (core groups first, then these, then the Lisp
// prelude plugins/lisp/stdlib/*.tlisp in file-name order).
void install_hof_natives(native_registry& r);    ///< natives_hof.cpp (lisp-lib)
void install_map_natives(native_registry& r);    ///< natives_map.cpp (lisp-lib)
void install_chan_natives(native_registry& r);   ///< natives_chan.cpp (lisp-lib)
void install_types_natives(native_registry& r);  ///< natives_types.cpp (lisp-lib)

// ---- argument helpers ----------------------------------------------------------------

/// args[i] as int or raise type mismatch "expected int".
inline int64_t arg_int(std::span<const value> args, size_t i) {
    if (!args[i].is_int()) raise_type("int", args[i]);
    return args[i].as_int();
}
/// args[i] as string text or raise "expected string".
inline std::string_view arg_string(std::span<const value> args, size_t i) {
    if (!args[i].is_string()) raise_type("string", args[i]);
    return args[i].text();
}
/// args[i] as list elements (nil accepted) or raise "expected list".
inline std::span<const value> arg_list(std::span<const value> args, size_t i) {
    if (!args[i].is_listish()) raise_type("list", args[i]);
    return args[i].items();
}
/// args[i] must be a procedure or raise "expected procedure".
inline value arg_proc(std::span<const value> args, size_t i) {
    if (!args[i].is_procedure()) raise_type("procedure", args[i]);
    return args[i];
}

}  // namespace tatara
