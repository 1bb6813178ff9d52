// tatara-lisp errors: catchable evaluation errors (reference §8) and uncatchable limit
// errors. Both are C++ exceptions; natives raise them with the helpers below and must be
// exception-safe (RAII only). The evaluator attaches the source span of the innermost
// call form to an error that has none.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "tatara/value.hpp"

namespace tatara {

/// Error kinds; each has a catch tag (the keyword `try` gives to error-tag).
enum class error_kind : uint8_t {
    unbound_symbol,    ///< :unbound-symbol
    arity_mismatch,    ///< :arity-mismatch
    type_mismatch,     ///< :type-mismatch
    division_by_zero,  ///< :division-by-zero
    not_callable,      ///< :not-callable
    bad_special_form,  ///< :bad-special-form
    native_fn,         ///< :native-fn
    reader,            ///< :reader
    user,              ///< thrown value (throw/the/assert); catch binds the value itself
    integer_overflow,  ///< :integer-overflow (project deviation 2)
    stack_overflow,    ///< :stack-overflow (project deviation 3)
};

/// Catch tag without ':' (e.g. "type-mismatch"; "user" for user errors).
std::string_view error_tag(error_kind k);

/// Source file a span points into (program text or the stdlib prelude).
struct source_text {
    std::string name;  ///< e.g. "prog.tatara" or "<stdlib>/core.tlisp"
    std::string text;
};

/// Half-open byte range into a source_text; file == nullptr means <synthetic>.
struct src_span {
    const source_text* file = nullptr;
    uint32_t start = 0;
    uint32_t end = 0;
};

/// A catchable evaluation error. `message` is the reference's Display text without the
/// " at S..E" suffix (e.g. "type mismatch: expected number, got string"); `catch_message`
/// is what error-message returns after catching. For user errors `thrown` is the value
/// and both texts are computed lazily (see describe()).
class lisp_error : public std::exception {
public:
    lisp_error(error_kind kind, std::string message, std::string catch_message)
        : kind_(kind), message_(std::move(message)), catch_message_(std::move(catch_message)) {}
    /// A user error carrying any value (what `throw` raises).
    explicit lisp_error(value thrown) : kind_(error_kind::user), thrown_(thrown) {}

    const char* what() const noexcept override { return message_.c_str(); }
    error_kind kind() const { return kind_; }
    /// Display text without span ("user error: <printed value>" for user errors).
    std::string message() const;
    /// Message bound by catch (error-message of the caught object).
    const std::string& catch_message() const { return catch_message_; }
    /// Thrown value of a user error (nil otherwise).
    value thrown() const { return thrown_; }
    const src_span& span() const { return span_; }
    bool has_span() const { return has_span_; }
    void set_span(const src_span& s) {
        span_ = s;
        has_span_ = true;
    }
    /// Span of the innermost call form the error passed through (for "(in FORM)" text).
    const src_span& form_span() const { return form_span_; }
    bool has_form_span() const { return has_form_span_; }
    void set_form_span(const src_span& s) {
        form_span_ = s;
        has_form_span_ = true;
    }
    /// Display text with the reference's suffix: "... at S..E" or "... at <synthetic>".
    std::string describe() const;

private:
    error_kind kind_;
    std::string message_;
    std::string catch_message_;
    value thrown_{};
    src_span span_{};
    bool has_span_ = false;
    src_span form_span_{};
    bool has_form_span_ = false;
};

/// Which evaluation limit ran out.
enum class limit_kind : uint8_t { fuel, memory, wall_clock, cancelled };

/// Uncatchable: a limit was exhausted; `try` does not see it and the evaluation fails.
/// message() names the limit and its value, e.g. "fuel exhausted after 10000000 steps".
class limit_error : public std::exception {
public:
    limit_error(limit_kind kind, std::string message) : kind_(kind), message_(std::move(message)) {}
    const char* what() const noexcept override { return message_.c_str(); }
    limit_kind kind() const { return kind_; }
    const std::string& message() const { return message_; }

private:
    limit_kind kind_;
    std::string message_;
};

// ---- raising helpers (all [[noreturn]], all throw lisp_error) ------------------------

/// "type mismatch: expected EXPECTED, got <type of got>".
[[noreturn]] void raise_type(std::string_view expected, value got);
/// "in native fn FN: REASON" (catch: "in native `FN`: REASON").
[[noreturn]] void raise_native(std::string_view fn, std::string_view reason);
/// Arity error for FN with min/max (max < 0 = unbounded) and the actual count.
[[noreturn]] void raise_arity(std::string_view fn, int min_args, int max_args, size_t got);
[[noreturn]] void raise_division_by_zero();
/// "integer overflow in OP".
[[noreturn]] void raise_overflow(std::string_view op);
[[noreturn]] void raise_unbound(std::string_view name);
/// "bad special form `FORM`: REASON" (catch: "bad `FORM`: REASON").
[[noreturn]] void raise_bad_form(std::string_view form, std::string_view reason);
/// "reader error: MSG" (catch: "reader: MSG").
[[noreturn]] void raise_reader(std::string_view msg);
/// User error carrying v (what `throw` does).
[[noreturn]] void raise_user(value v);

}  // namespace tatara
