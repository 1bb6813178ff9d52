// tatara-lisp printer: the reference's Display form (§2.3, §2.4).
#include "tatara/printer.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "internal.hpp"

namespace tatara {

namespace {

constexpr int k_max_print_depth = 10000;

void hex_escape(std::string& out, uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\u{%x}", cp);
    out += buf;
}

bool needs_unicode_escape(uint32_t cp) {
    if (cp < 0x20 || cp == 0x7f) return true;
    if (cp >= 0x80 && cp <= 0xa0) return true;
    if (cp == 0xad) return true;
    if (cp >= 0x300 && cp <= 0x36f) return true;  // combining marks (grapheme extend)
    if (cp >= 0x483 && cp <= 0x489) return true;
    if (cp >= 0x591 && cp <= 0x5bd) return true;
    if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200f)) return true;
    if (cp >= 0x2028 && cp <= 0x202f) return true;
    if (cp >= 0x205f && cp <= 0x2064) return true;
    if (cp >= 0x20d0 && cp <= 0x20f0) return true;
    if (cp == 0x3000 || cp == 0xfeff) return true;
    if (cp >= 0xfe00 && cp <= 0xfe0f) return true;
    if (cp >= 0xfe20 && cp <= 0xfe2f) return true;
    if (cp >= 0xfff0 && cp <= 0xfffb) return true;
    if (cp >= 0xd800 && cp <= 0xdfff) return true;
    if (cp >= 0xe0000 && cp <= 0xe0fff) return true;
    return false;
}

void print_rec(std::string& out, value v, int depth);

void print_list_items(std::string& out, std::span<const value> xs, int depth) {
    for (size_t i = 0; i < xs.size(); ++i) {
        if (i) out += ' ';
        print_rec(out, xs[i], depth + 1);
    }
}

void print_rec(std::string& out, value v, int depth) {
    if (depth > k_max_print_depth ||
        (depth > 64 && static_cast<char*>(__builtin_frame_address(0)) < native_stack_floor())) {
        out += "...";
        return;
    }
    switch (v.tag) {
    case type::nil: out += "()"; break;
    case type::boolean: out += v.as_bool() ? "#t" : "#f"; break;
    case type::integer: {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
        out.append(buf, r.ptr);
        break;
    }
    case type::real: print_real(out, v.as_real()); break;
    case type::string: print_quoted(out, v.text()); break;
    case type::symbol: out += v.text(); break;
    case type::keyword:
        out += ':';
        out += v.text();
        break;
    case type::list:
        out += '(';
        print_list_items(out, v.items(), depth);
        out += ')';
        break;
    case type::map: {
        const map_obj* m = v.as_map();
        out += '{';
        for (uint32_t i = 0; i < m->size; ++i) {
            if (i) out += ", ";
            print_rec(out, m->entries[2 * i], depth + 1);
            out += ' ';
            print_rec(out, m->entries[2 * i + 1], depth + 1);
        }
        out += '}';
        break;
    }
    case type::closure: {
        const lambda_code* c = v.as_closure()->code;
        if (c->param_names.empty()) {
            out += "#<closure>";
            break;
        }
        out += "#<closure (";
        for (uint32_t i = 0; i < c->nparams; ++i) {
            if (i) out += ' ';
            out += c->param_names[i];
        }
        if (c->rest) {
            if (c->nparams) out += ' ';
            out += ". ";
            out += c->param_names.back();
        }
        out += ")>";
        break;
    }
    case type::native:
        out += "#<native ";
        out += v.as_native()->name;
        out += '>';
        break;
    case type::promise: {
        const promise_obj* p = v.as_promise();
        if (!p->forced) {
            out += "#<promise pending>";
        } else {
            out += "#<promise ";
            print_rec(out, p->result, depth + 1);
            out += '>';
        }
        break;
    }
    case type::error: {
        const error_obj* e = v.as_error();
        out += "#<error ";
        print_rec(out, e->tag, depth + 1);
        out += ' ';
        print_rec(out, e->message, depth + 1);
        auto data = e->data.items();
        if (!data.empty()) {
            out += " {";
            print_list_items(out, data, depth);
            out += '}';
        }
        out += '>';
        break;
    }
    case type::sexp:
        out += '\'';
        print_syntax(out, v.as_sexp()->form);
        break;
    case type::foreign: out += "#<foreign>"; break;
    default: out += "#<internal>"; break;
    }
}

}  // namespace

void print_quoted(std::string& out, std::string_view s) {
    out += '"';
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        uint32_t cp = c;
        size_t len = 1;
        if (c >= 0xC0) {
            len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (i + len > s.size())
                len = 1;
            else {
                cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
                for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
            }
        }
        switch (cp) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case 0: out += "\\0"; break;
        default:
            if (needs_unicode_escape(cp))
                hex_escape(out, cp);
            else
                out.append(s.data() + i, len);
        }
        i += len;
    }
    out += '"';
}

void print_real(std::string& out, double d) {
    if (std::isnan(d)) {
        out += "NaN";
        return;
    }
    if (std::isinf(d)) {
        out += d < 0 ? "-inf" : "inf";
        return;
    }
    if (d == 0) {
        out += std::signbit(d) ? "-0" : "0";
        return;
    }
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
    if (s[0] == '-') {
        out += '-';
        s.remove_prefix(1);
    }
    size_t epos = s.find('e');
    std::string digits;
    for (char c : s.substr(0, epos))
        if (c != '.') digits += c;
    int exp = static_cast<int>(std::strtol(std::string(s.substr(epos + 1)).c_str(), nullptr, 10));
    int n = static_cast<int>(digits.size());
    int point = exp + 1;  // digits before the decimal point
    if (point <= 0) {
        out += "0.";
        out.append(static_cast<size_t>(-point), '0');
        out += digits;
    } else if (point >= n) {
        out += digits;
        out.append(static_cast<size_t>(point - n), '0');
    } else {
        out.append(digits, 0, static_cast<size_t>(point));
        out += '.';
        out.append(digits, static_cast<size_t>(point), std::string::npos);
    }
}

void print_value(std::string& out, value v) { print_rec(out, v, 0); }

std::string to_display_string(value v) {
    std::string s;
    print_value(s, v);
    return s;
}

}  // namespace tatara
