// tatara-lisp errors: kind tags, message texts and the raise helpers.
#include "tatara/error.hpp"

#include <string>

#include "tatara/printer.hpp"

namespace tatara {

std::string_view error_tag(error_kind k) {
    switch (k) {
    case error_kind::unbound_symbol: return "unbound-symbol";
    case error_kind::arity_mismatch: return "arity-mismatch";
    case error_kind::type_mismatch: return "type-mismatch";
    case error_kind::division_by_zero: return "division-by-zero";
    case error_kind::not_callable: return "not-callable";
    case error_kind::bad_special_form: return "bad-special-form";
    case error_kind::native_fn: return "native-fn";
    case error_kind::reader: return "reader";
    case error_kind::user: return "user";
    case error_kind::integer_overflow: return "integer-overflow";
    case error_kind::stack_overflow: return "stack-overflow";
    }
    return "user";
}

std::string lisp_error::message() const {
    if (kind_ == error_kind::user) return "user error: " + to_display_string(thrown_);
    return message_;
}

std::string lisp_error::describe() const {
    std::string s = message();
    if (has_span_ && span_.file)
        s += " at " + std::to_string(span_.start) + ".." + std::to_string(span_.end);
    else
        s += " at <synthetic>";
    return s;
}

void raise_type(std::string_view expected, value got) {
    std::string m = "type mismatch: expected ";
    m += expected;
    m += ", got ";
    m += type_error_name(got.tag);
    throw lisp_error(error_kind::type_mismatch, m, m);
}

void raise_native(std::string_view fn, std::string_view reason) {
    std::string m = "in native fn " + std::string(fn) + ": " + std::string(reason);
    std::string c = "in native `" + std::string(fn) + "`: " + std::string(reason);
    throw lisp_error(error_kind::native_fn, std::move(m), std::move(c));
}

namespace {
std::string arity_text(int min_args, int max_args) {
    if (max_args < 0) return min_args == 0 ? "Any" : "AtLeast(" + std::to_string(min_args) + ")";
    if (min_args == max_args) return "Exact(" + std::to_string(min_args) + ")";
    return "Range(" + std::to_string(min_args) + ", " + std::to_string(max_args) + ")";
}
}  // namespace

void raise_arity(std::string_view fn, int min_args, int max_args, size_t got) {
    std::string a = arity_text(min_args, max_args);
    std::string m = "arity mismatch in " + std::string(fn) + ": expected " + a + ", got " + std::to_string(got);
    std::string c = "`" + std::string(fn) + "` expected " + a + ", got " + std::to_string(got);
    throw lisp_error(error_kind::arity_mismatch, std::move(m), std::move(c));
}

void raise_division_by_zero() {
    throw lisp_error(error_kind::division_by_zero, "division by zero", "division by zero");
}

void raise_overflow(std::string_view op) {
    std::string m = "integer overflow in " + std::string(op);
    throw lisp_error(error_kind::integer_overflow, m, m);
}

void raise_unbound(std::string_view name) {
    throw lisp_error(error_kind::unbound_symbol, "unbound symbol: " + std::string(name),
                     "unbound symbol `" + std::string(name) + "`");
}

void raise_bad_form(std::string_view form, std::string_view reason) {
    throw lisp_error(error_kind::bad_special_form,
                     "bad special form `" + std::string(form) + "`: " + std::string(reason),
                     "bad `" + std::string(form) + "`: " + std::string(reason));
}

void raise_reader(std::string_view msg) {
    throw lisp_error(error_kind::reader, "reader error: " + std::string(msg), "reader: " + std::string(msg));
}

void raise_user(value v) { throw lisp_error(v); }

}  // namespace tatara
