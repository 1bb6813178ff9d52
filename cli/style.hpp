/// cli/style.hpp — terminal text: ANSI styling that is a no-op without colour, display
/// widths of UTF-8 text with escapes, aligned tables, one-line cells.
///
/// Threading: plain functions over values; a `table` is used by one thread.
#ifndef VIGY_CLI_STYLE_HPP
#define VIGY_CLI_STYLE_HPP

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::cli {

/// ANSI styling. With `colour == false` every function returns its input.
struct style {
    bool colour = false;

    std::string bold(std::string_view s) const { return wrap("1", s); }
    std::string dim(std::string_view s) const { return wrap("2", s); }
    std::string red(std::string_view s) const { return wrap("31", s); }
    std::string green(std::string_view s) const { return wrap("32", s); }
    std::string yellow(std::string_view s) const { return wrap("33", s); }
    std::string cyan(std::string_view s) const { return wrap("36", s); }
    /// green for "ok", red for "failed", yellow for anything else.
    std::string result(std::string_view r) const;

private:
    std::string wrap(const char* code, std::string_view s) const;
};

/// Display width of `s`: UTF-8 code points, not counting ANSI escape sequences.
std::size_t display_width(std::string_view s);

/// A left-aligned text table with a header row; cells may contain ANSI escapes
/// (ignored when measuring). Columns are separated by 3 spaces and the last column
/// is not padded.
class table {
public:
    explicit table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    /// Appends a row; missing cells print empty, extra cells are ignored.
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const noexcept { return rows_.empty(); }
    /// Writes the header (bold when `st.colour`) and the rows, '\n' after each.
    void print(std::ostream& out, const style& st) const;

private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

/// Truncates `s` to at most `max` display columns, ending with "…" when cut;
/// newlines and tabs become spaces and other control characters are shown as
/// "\xNN" (one-line table cells and tail lines never move the cursor).
std::string one_line(std::string_view s, std::size_t max);

/// `s` with every control character but newline and tab shown as "\xNN" (text from
/// programs printed to a terminal cannot clear the screen or move the cursor).
std::string printable(std::string_view s);

/// "yes"/"no", coloured green/dim.
std::string yes_no(bool b, const style& st);

}  // namespace vigy::cli

#endif  // VIGY_CLI_STYLE_HPP
