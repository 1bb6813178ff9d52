// store/src/labels.cpp — name, label and selector validation (Kubernetes rules) and the
// selector parser. Pure functions.
#include "vigy/store/labels.hpp"

#include "vigy/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace vigy::store {

namespace {

/// `s` quoted and escaped (control characters and invalid UTF-8 shown as escapes), so a
/// message never carries a raw control character to an operator's terminal.
std::string quoted(std::string_view s) { return fmt::format("{:?}", s); }

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool label_char(char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; }

/// "" when `s` is a DNS subdomain, else why not.
std::string dns_subdomain_problem(std::string_view s) {
    if (s.empty()) return "must not be empty";
    if (s.size() > 253) return fmt::format("must be at most 253 characters, got {}", s.size());
    for (char c : s)
        if (!lower_alnum(c) && c != '-' && c != '.') return "only lowercase letters, digits, '-' and '.' are allowed";
    if (!lower_alnum(s.front()) || !lower_alnum(s.back())) return "must start and end with a lowercase letter or digit";
    return {};
}

/// "" when `s` is a label name / non-empty value (<= 63 of [A-Za-z0-9._-], alnum at both ends).
std::string label_name_problem(std::string_view s, const char* what) {
    if (s.size() > 63) return fmt::format("{} must be at most 63 characters, got {}", what, s.size());
    for (char c : s)
        if (!label_char(c)) return fmt::format("{} may contain only letters, digits, '-', '_' and '.'", what);
    if (!s.empty() && (!alnum(s.front()) || !alnum(s.back())))
        return fmt::format("{} must start and end with a letter or digit", what);
    return {};
}

std::string label_key_problem(std::string_view key) {
    if (key.empty()) return "must not be empty";
    const std::size_t slash = key.find('/');
    std::string_view name = key;
    if (slash != std::string_view::npos) {
        const std::string_view prefix = key.substr(0, slash);
        name = key.substr(slash + 1);
        if (std::string p = dns_subdomain_problem(prefix); !p.empty()) return "prefix " + p;
    }
    if (name.empty()) return "name must not be empty";
    return label_name_problem(name, "name");
}

}  // namespace

void validate_name(std::string_view name) {
    if (std::string p = dns_subdomain_problem(name); !p.empty())
        fail(VIGY_INVALID_ARGUMENT, fmt::format("invalid vigy name {}: {}", quoted(name.substr(0, 300)), p));
}

void validate_label_key(std::string_view key) {
    if (std::string p = label_key_problem(key); !p.empty())
        fail(VIGY_INVALID_ARGUMENT, fmt::format("invalid label key {}: {}", quoted(key.substr(0, 300)), p));
}

void validate_label_value(std::string_view key, std::string_view value) {
    if (std::string p = label_name_problem(value, "a value"); !p.empty())
        fail(VIGY_INVALID_ARGUMENT, fmt::format("invalid label value {} of key {}: {}", quoted(value.substr(0, 300)),
                                                quoted(key.substr(0, 300)), p));
}

void validate_labels(const label_map& labels) {
    for (const auto& [k, v] : labels) {
        validate_label_key(k);
        validate_label_value(k, v);
    }
}

// ---- selectors -----------------------------------------------------------------

bool label_selector::matches(const label_map& labels) const {
    using op = selector_requirement::op;
    for (const selector_requirement& r : requirements) {
        auto it = labels.find(r.key);
        const bool has = it != labels.end();
        const auto in_set = [&] {
            return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
        };
        bool ok = false;
        switch (r.operation) {
        case op::exists: ok = has; break;
        case op::not_exists: ok = !has; break;
        case op::equals: ok = has && it->second == r.values.front(); break;
        case op::not_equals: ok = !has || it->second != r.values.front(); break;
        case op::in: ok = in_set(); break;
        case op::not_in: ok = !in_set(); break;
        }
        if (!ok) return false;
    }
    return true;
}

std::string label_selector::to_string() const {
    using op = selector_requirement::op;
    std::string out;
    for (const selector_requirement& r : requirements) {
        if (!out.empty()) out += ',';
        switch (r.operation) {
        case op::exists: out += r.key; break;
        case op::not_exists: out += "!" + r.key; break;
        case op::equals: out += r.key + "=" + r.values.front(); break;
        case op::not_equals: out += r.key + "!=" + r.values.front(); break;
        case op::in:
        case op::not_in: {
            out += r.key + (r.operation == op::in ? " in (" : " notin (");
            for (std::size_t i = 0; i < r.values.size(); ++i) out += (i ? "," : "") + r.values[i];
            out += ')';
            break;
        }
        }
    }
    return out;
}

namespace {

/// A hand-written recursive-descent parser over the selector text.
class selector_parser {
public:
    explicit selector_parser(std::string_view text) : s_(text) {}

    label_selector parse() {
        label_selector sel;
        skip_space();
        if (pos_ == s_.size()) return sel;  // "" (or only spaces): everything
        for (;;) {
            sel.requirements.push_back(requirement());
            skip_space();
            if (pos_ == s_.size()) break;
            if (s_[pos_] != ',') error(fmt::format("expected \",\" or the end, got {}", quoted(s_.substr(pos_, 1))));
            ++pos_;
            skip_space();
            if (pos_ == s_.size() || s_[pos_] == ',') error("empty requirement");
        }
        return sel;
    }

private:
    using op = selector_requirement::op;

    [[noreturn]] void error(const std::string& why) const {
        fail(VIGY_INVALID_ARGUMENT,
             fmt::format("invalid label selector {}: {} at column {}", quoted(s_.substr(0, 300)), why, pos_ + 1));
    }

    void skip_space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
    }

    /// A run of characters that may appear in a key or value (the check comes later).
    std::string_view word() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() && (label_char(s_[pos_]) || s_[pos_] == '/')) ++pos_;
        return s_.substr(start, pos_ - start);
    }

    std::string key() {
        const std::size_t at = pos_;
        const std::string_view k = word();
        if (k.empty()) {
            if (pos_ == s_.size()) error("expected a label key");
            error(fmt::format("expected a label key, got {}", quoted(s_.substr(pos_, 1))));
        }
        if (std::string p = label_key_problem(k); !p.empty()) {
            pos_ = at;
            error(fmt::format("label key {} {}", quoted(k), p));
        }
        return std::string(k);
    }

    std::string value() {
        const std::size_t at = pos_;
        const std::string_view v = word();
        if (v.find('/') != std::string_view::npos || !label_name_problem(v, "a value").empty()) {
            pos_ = at;
            error(fmt::format("invalid label value {}", quoted(v)));
        }
        return std::string(v);
    }

    bool consume(std::string_view token) {
        if (s_.substr(pos_, token.size()) != token) return false;
        pos_ += token.size();
        return true;
    }

    selector_requirement requirement() {
        selector_requirement r;
        if (consume("!")) {
            skip_space();
            r.key = key();
            r.operation = op::not_exists;
            return r;
        }
        r.key = key();
        const std::size_t after_key = pos_;
        skip_space();
        if (pos_ == s_.size() || s_[pos_] == ',') {
            r.operation = op::exists;
            return r;
        }
        if (consume("==") || consume("=")) {
            r.operation = op::equals;
        } else if (consume("!=")) {
            r.operation = op::not_equals;
        } else {
            const bool spaced = pos_ > after_key;
            const bool notin = s_.substr(pos_, 5) == "notin";
            const bool in = !notin && s_.substr(pos_, 2) == "in";
            if (!spaced || (!in && !notin))
                error(fmt::format("expected an operator (=, ==, !=, in, notin) after key {}", quoted(r.key)));
            pos_ += notin ? 5 : 2;
            skip_space();
            if (!consume("(")) error("expected \"(\"");
            r.operation = notin ? op::not_in : op::in;
            for (;;) {
                skip_space();
                if (pos_ < s_.size() && s_[pos_] == ')') error("expected a value (an empty set selects nothing)");
                r.values.push_back(value());
                skip_space();
                if (consume(")")) break;
                if (!consume(",")) error("expected \",\" or \")\"");
            }
            return r;
        }
        skip_space();
        r.values.push_back(value());
        return r;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

}  // namespace

label_selector parse_selector(std::string_view text) { return selector_parser(text).parse(); }

}  // namespace vigy::store
