// tatara-lisp printing: the reference's Display form (§2.3/§2.4), used by display, print,
// println, pr-str, string and program results. Strings print quoted and escaped.
#pragma once

#include <string>

#include "tatara/value.hpp"

namespace tatara {

/// Append the printed form of v to out. Thread-safe (pure). Very deep nesting is
/// printed as "..." past 10,000 levels instead of exhausting the native stack.
void print_value(std::string& out, value v);
/// The printed form of v ("42", "\"s\"", "(1 2)", "{:a 1, :b 2}", "#<closure (x)>").
std::string to_display_string(value v);
/// Float formatting: shortest round trip, never an exponent, never a trailing ".0".
void print_real(std::string& out, double d);
/// Rust-debug-style quoting of a string ("a\"b" -> "\"a\\\"b\"").
void print_quoted(std::string& out, std::string_view s);

}  // namespace tatara
