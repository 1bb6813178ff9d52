/// vigy/store/labels.hpp — names, labels and label selectors, validated the way
/// Kubernetes validates them. Pure functions: no database, thread-safe, usable by the
/// CLI, the HTTP API and fuzzers alike.
///
/// Vigy names (Kubernetes object names, a DNS subdomain, RFC 1123):
///   1..253 characters of [a-z0-9.-], starting and ending with [a-z0-9].
///
/// Label keys: an optional prefix and a name, `[prefix/]name`:
///   name    1..63 characters of [A-Za-z0-9._-], starting and ending alphanumeric;
///   prefix  a DNS subdomain as above (<= 253), then '/'.
/// Label values: 0..63 characters of [A-Za-z0-9._-]; when not empty, starting and
///   ending alphanumeric. So a value never holds a ',', '=', '!', '(', ')', a space
///   or a control character, and every value can be selected.
///
/// Selector grammar (Kubernetes' label selector, `kubectl get -l`):
///
///   selector    := "" | requirement ( "," requirement )*
///   requirement := key                      the label exists
///                | "!" key                  the label does not exist
///                | key ( "=" | "==" ) value the label exists with this value
///                | key "!=" value           the label is absent or has another value
///                | key "in" "(" values ")"      exists with one of the values
///                | key "notin" "(" values ")"   absent, or none of the values
///   values      := value ( "," value )*     (at least one)
///
/// Whitespace around tokens is ignored; `in`/`notin` need whitespace (or a
/// parenthesis) after the key. Requirements are ANDed; the empty selector selects
/// everything. Empty terms (",,", a trailing ","), a malformed key or value, an
/// unknown operator are errors: status_error INVALID_ARGUMENT
///   `invalid label selector "team in (a": expected ")" at column 12`.
#ifndef VIGY_STORE_LABELS_HPP
#define VIGY_STORE_LABELS_HPP

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::store {

/// Labels: key -> value, sorted by key.
using label_map = std::map<std::string, std::string>;

/// Throws status_error INVALID_ARGUMENT `invalid vigy name "<n>": <reason>` unless
/// `name` is a DNS subdomain (see the file comment).
void validate_name(std::string_view name);

/// Throws status_error INVALID_ARGUMENT `invalid label key "<k>": <reason>`.
void validate_label_key(std::string_view key);

/// Throws status_error INVALID_ARGUMENT `invalid label value "<v>" of key "<k>": <reason>`.
void validate_label_value(std::string_view key, std::string_view value);

/// validate_label_key and validate_label_value for every entry.
void validate_labels(const label_map& labels);

/// One requirement of a selector.
struct selector_requirement {
    enum class op { exists, not_exists, equals, not_equals, in, not_in };
    std::string key;
    op operation = op::exists;
    std::vector<std::string> values;  ///< one for equals/not_equals, >= 1 for in/not_in, none otherwise

    friend bool operator==(const selector_requirement&, const selector_requirement&) = default;
};

/// A parsed selector: requirements ANDed (empty = everything).
struct label_selector {
    std::vector<selector_requirement> requirements;

    [[nodiscard]] bool empty() const noexcept { return requirements.empty(); }
    /// True when `labels` satisfies every requirement.
    [[nodiscard]] bool matches(const label_map& labels) const;
    /// The canonical text ("a=b,c!=d,e in (f,g),!h"); parses back to an equal selector.
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const label_selector&, const label_selector&) = default;
};

/// Parses `text` (grammar in the file comment). Throws status_error INVALID_ARGUMENT.
[[nodiscard]] label_selector parse_selector(std::string_view text);

}  // namespace vigy::store

#endif  // VIGY_STORE_LABELS_HPP
