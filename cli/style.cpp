// cli/style.cpp — ANSI styling, display widths, tables, one-line cells.
#include "style.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace vigy::cli {

std::string style::wrap(const char* code, std::string_view s) const {
    if (!colour || s.empty()) return std::string(s);
    std::string out;
    out.reserve(s.size() + 10);
    out += "\x1b[";
    out += code;
    out += 'm';
    out += s;
    out += "\x1b[0m";
    return out;
}

std::string style::result(std::string_view r) const {
    if (r == "ok") return green(r);
    if (r == "failed") return red(r);
    return yellow(r);
}

std::size_t display_width(std::string_view s) {
    std::size_t w = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') {
            i += 2;
            while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
            continue;
        }
        if ((c & 0xC0) != 0x80) ++w;  // count lead bytes only
    }
    return w;
}

void table::print(std::ostream& out, const style& st) const {
    const std::size_t n = headers_.size();
    std::vector<std::size_t> width(n, 0);
    for (std::size_t c = 0; c < n; ++c) width[c] = display_width(headers_[c]);
    for (const auto& row : rows_)
        for (std::size_t c = 0; c < n && c < row.size(); ++c) width[c] = std::max(width[c], display_width(row[c]));

    auto emit = [&](const std::vector<std::string>& row, bool header) {
        std::string line;
        for (std::size_t c = 0; c < n; ++c) {
            const std::string cell = c < row.size() ? row[c] : std::string();
            line += header ? st.bold(cell) : cell;
            if (c + 1 < n) line.append(width[c] - display_width(cell) + 3, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out << line << '\n';
    };
    emit(headers_, true);
    for (const auto& row : rows_) emit(row, false);
}

namespace {
void escape_control(std::string& out, unsigned char c) {
    char esc[8];
    std::snprintf(esc, sizeof esc, "\\x%02x", c);
    out += esc;
}
}  // namespace

std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            escape_control(out, c);
        else
            out += ch;
    }
    return out;
}

std::string one_line(std::string_view s, std::size_t max) {
    std::string out;
    std::size_t w = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        const bool lead = (c & 0xC0) != 0x80;
        if (lead) {
            if (w + 1 > max) {
                // drop the last code point to make room for the ellipsis
                while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
                if (!out.empty()) out.pop_back();
                out += "\u2026";
                return out;
            }
            ++w;
        }
        if (c == '\n' || c == '\r' || c == '\t')
            out += ' ';
        else if (c < 0x20 || c == 0x7f)
            escape_control(out, c);
        else
            out += s[i];
    }
    return out;
}

std::string yes_no(bool b, const style& st) { return b ? st.green("yes") : st.dim("no"); }

}  // namespace vigy::cli
