// tatara-lisp reader: tokens and atoms per reference §1, spans as byte ranges. Iterative
// (an explicit stack), so deeply nested input cannot exhaust the native stack.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "internal.hpp"
#include "tatara/printer.hpp"

namespace tatara {

namespace {

constexpr size_t k_max_nesting = 10000;

/// Length in bytes of a Unicode whitespace char at p (0 if none).
size_t whitespace_len(std::string_view t, size_t p) {
    unsigned char c = static_cast<unsigned char>(t[p]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return 1;
    if (c < 0x80) return 0;
    auto at = [&](size_t k) { return p + k < t.size() ? static_cast<unsigned char>(t[p + k]) : 0; };
    if (c == 0xC2 && (at(1) == 0x85 || at(1) == 0xA0)) return 2;
    if (c == 0xE1 && at(1) == 0x9A && at(2) == 0x80) return 3;
    if (c == 0xE2 && at(1) == 0x80 &&
        ((at(2) >= 0x80 && at(2) <= 0x8A) || at(2) == 0xA8 || at(2) == 0xA9 || at(2) == 0xAF))
        return 3;
    if (c == 0xE2 && at(1) == 0x81 && at(2) == 0x9F) return 3;
    if (c == 0xE3 && at(1) == 0x80 && at(2) == 0x80) return 3;
    return 0;
}

bool is_delim(char c) { return c == '(' || c == ')' || c == '\'' || c == '`' || c == ',' || c == '"' || c == ';'; }

bool parse_i64(std::string_view s, int64_t& out) {
    size_t i = 0;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i == s.size()) return false;
    uint64_t acc = 0;
    const uint64_t limit = neg ? (uint64_t(1) << 63) : uint64_t(INT64_MAX);
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        uint64_t d = static_cast<uint64_t>(s[i] - '0');
        if (acc > (limit - d) / 10) return false;
        acc = acc * 10 + d;
    }
    out = neg ? static_cast<int64_t>(0 - acc) : static_cast<int64_t>(acc);
    return true;
}

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
    return true;
}

/// Rust f64::from_str grammar.
bool parse_f64(std::string_view s, double& out) {
    size_t i = 0;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    std::string_view rest = s.substr(i);
    if (ieq(rest, "inf") || ieq(rest, "infinity")) {
        out = neg ? -__builtin_inf() : __builtin_inf();
        return true;
    }
    if (ieq(rest, "nan")) {
        out = __builtin_nan("");
        return true;
    }
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
    }
    if (digits == 0) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        size_t ed = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++ed;
        if (ed == 0) return false;
    }
    if (i != s.size()) return false;
    std::string tmp(s);
    out = std::strtod(tmp.c_str(), nullptr);
    return true;
}

/// A list or quote-like prefix still waiting for its end / datum.
struct open_item {
    syn kind;          ///< list, or the quote-like kind
    uint32_t start;    ///< byte offset of '(' or the prefix
    size_t first_kid;  ///< lists: index of the first element in the reader's kids stack
};

}  // namespace

size_t invalid_utf8_offset(std::string_view t) {
    size_t i = 0;
    const size_t n = t.size();
    auto byte = [&](size_t k) { return static_cast<unsigned char>(t[k]); };
    while (i < n) {
        unsigned char c = byte(i);
        if (c < 0x80) {
            ++i;
            continue;
        }
        // RFC 3629 table 3-7: the second byte's range depends on the first.
        size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;  // no overlongs
            else if (c == 0xED)
                hi = 0x9F;  // no surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;  // no overlongs
            else if (c == 0xF4)
                hi = 0x8F;  // nothing above U+10FFFF
        } else {
            return i;
        }
        if (i + len > n) return i;
        if (byte(i + 1) < lo || byte(i + 1) > hi) return i;
        for (size_t k = 2; k < len; ++k)
            if ((byte(i + k) & 0xC0) != 0x80) return i;
        i += len;
    }
    return std::string_view::npos;
}

void line_col(std::string_view text, uint32_t offset, uint32_t& line, uint32_t& col) {
    line = 1;
    col = 1;
    if (offset > text.size()) offset = static_cast<uint32_t>(text.size());
    for (uint32_t i = 0; i < offset; ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            ++line;
            col = 1;
        } else if ((c & 0xC0) != 0x80) {
            ++col;
        }
    }
}

bool read_all(const source_text& src, syntax_pool& pool, std::vector<const syntax*>& out, read_failure& err,
              bool borrow_text) {
    std::string_view t = src.text;
    std::vector<open_item> stack;
    std::vector<const syntax*> kids;  // elements of every open list, innermost last
    size_t p = 0;
    auto span = [&](size_t a, size_t b) { return src_span{&src, static_cast<uint32_t>(a), static_cast<uint32_t>(b)}; };
    auto fail = [&](std::string msg, size_t off) {
        err.message = std::move(msg);
        err.offset = static_cast<uint32_t>(off);
        return false;
    };
    if (t.size() > UINT32_MAX) return fail("source larger than 4 GiB", 0);
    if (size_t bad = invalid_utf8_offset(t); bad != std::string_view::npos) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(t[bad]));
        return fail(std::string("invalid UTF-8 (byte ") + hex + " at offset " + std::to_string(bad) + ")", bad);
    }
    auto text_node = [&](syn kind, size_t a, size_t b, std::string_view text) {
        return borrow_text ? pool.make_borrowed_text(kind, span(a, b), text) : pool.make_text(kind, span(a, b), text);
    };
    // Attach a finished datum to the innermost open list, wrapping pending prefixes.
    auto attach = [&](const syntax* d) {
        while (!stack.empty() && stack.back().kind != syn::list) {
            const open_item& q = stack.back();
            d = pool.make_wrapped(q.kind, src_span{&src, q.start, d->span.end}, d);
            stack.pop_back();
        }
        if (stack.empty())
            out.push_back(d);
        else
            kids.push_back(d);
    };
    std::string unescaped;
    while (p < t.size()) {
        char c = t[p];
        if (size_t w = whitespace_len(t, p)) {
            p += w;
            continue;
        }
        if (c == ';') {
            while (p < t.size() && t[p] != '\n') ++p;
            continue;
        }
        if (stack.size() > k_max_nesting) return fail("nesting too deep", p);
        if (c == '(') {
            stack.push_back({syn::list, static_cast<uint32_t>(p), kids.size()});
            ++p;
            continue;
        }
        if (c == ')') {
            if (stack.empty() || stack.back().kind != syn::list)
                return fail("unmatched closing paren at position 0", p);
            open_item l = stack.back();
            stack.pop_back();
            ++p;
            std::span<const syntax* const> items(kids.data() + l.first_kid, kids.size() - l.first_kid);
            const syntax* list = pool.make_list(span(l.start, p), items);
            kids.resize(l.first_kid);
            attach(list);
            continue;
        }
        if (c == '\'' || c == '`' || c == ',') {
            syn k = c == '\'' ? syn::quote : c == '`' ? syn::quasiquote : syn::unquote;
            size_t len = 1;
            if (c == ',' && p + 1 < t.size() && t[p + 1] == '@') {
                k = syn::splice;
                len = 2;
            }
            stack.push_back({k, static_cast<uint32_t>(p), 0});
            p += len;
            continue;
        }
        if (c == '"') {
            size_t start = p++;
            unescaped.clear();
            bool closed = false, escaped = false;
            while (p < t.size()) {
                char d = t[p++];
                if (d == '"') {
                    closed = true;
                    break;
                }
                if (d == '\\') {
                    escaped = true;
                    if (p >= t.size()) break;
                    char e = t[p++];
                    switch (e) {
                    case 'n': unescaped += '\n'; break;
                    case 't': unescaped += '\t'; break;
                    case 'r': unescaped += '\r'; break;
                    default: unescaped += e; break;
                    }
                } else {
                    unescaped += d;
                }
            }
            if (!closed) return fail("unterminated string literal at position " + std::to_string(start), start);
            attach(escaped ? pool.make_text(syn::string, span(start, p), unescaped)
                           : text_node(syn::string, start, p, t.substr(start + 1, p - start - 2)));
            continue;
        }
        // atom
        size_t start = p;
        while (p < t.size() && !is_delim(t[p]) && whitespace_len(t, p) == 0) ++p;
        std::string_view a = t.substr(start, p - start);
        syntax* n;
        int64_t iv;
        double dv;
        if (a == "#t" || a == "#f") {
            n = pool.make(syn::boolean, span(start, p));
            n->b = a == "#t";
        } else if (a[0] == ':') {
            n = text_node(syn::keyword, start, p, a.substr(1));
        } else if (parse_i64(a, iv)) {
            n = pool.make(syn::integer, span(start, p));
            n->u.i = iv;
        } else if (parse_f64(a, dv)) {
            n = pool.make(syn::real, span(start, p));
            n->u.d = dv;
        } else {
            n = text_node(syn::symbol, start, p, a);
        }
        attach(n);
    }
    if (!stack.empty()) {
        for (auto& o : stack)
            if (o.kind == syn::list) return fail("unmatched opening paren", o.start);
        return fail("unexpected end of input", t.size());
    }
    return true;
}

void print_syntax(std::string& out, const syntax* s) {
    check_native_stack();
    switch (s->kind) {
    case syn::integer: out += std::to_string(s->u.i); break;
    case syn::real: print_real(out, s->u.d); break;
    case syn::boolean: out += s->b ? "#t" : "#f"; break;
    case syn::string: print_quoted(out, s->text()); break;
    case syn::symbol: out += s->text(); break;
    case syn::keyword:
        out += ':';
        out += s->text();
        break;
    case syn::list: {
        out += '(';
        auto items = s->items();
        for (size_t i = 0; i < items.size(); ++i) {
            if (i) out += ' ';
            print_syntax(out, items[i]);
        }
        out += ')';
        break;
    }
    case syn::quote:
        out += '\'';
        print_syntax(out, s->inner());
        break;
    case syn::quasiquote:
        out += '`';
        print_syntax(out, s->inner());
        break;
    case syn::unquote:
        out += ',';
        print_syntax(out, s->inner());
        break;
    case syn::splice:
        out += ",@";
        print_syntax(out, s->inner());
        break;
    }
}

}  // namespace tatara
