/// cli/format.hpp — small output helpers shared by the `vigy` subcommands:
/// ANSI styling that is a no-op without colour, aligned text tables, RFC 3339
/// timestamps with milliseconds, human ages and durations, and JSON printing.
///
/// Threading: plain functions over values; `table` is used by one thread.
#ifndef VIGY_CLI_FORMAT_HPP
#define VIGY_CLI_FORMAT_HPP

#include "vigy/host/runtime.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
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

/// A left-aligned text table with a header row; cells may contain ANSI
/// escapes (ignored when measuring). Columns are separated by 3 spaces and the
/// last column is not padded.
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

using sys_ms = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

/// Milliseconds since the Unix epoch, now.
int64_t now_ms();
/// "2026-11-21T06:01:02.345Z" (UTC, always 3 fraction digits).
std::string rfc3339_ms(int64_t epoch_ms);
/// Parses RFC 3339 ("YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)", 't'/' ' accepted
/// for 'T', 'z' for 'Z') into epoch ms; nullopt when malformed.
std::optional<int64_t> parse_rfc3339(std::string_view s);
/// Parses a duration such as "500ms", "10s", "5m", "2h", "1d", "1h30m" into
/// ms; nullopt when malformed or empty. A bare number is not accepted.
std::optional<int64_t> parse_duration_ms(std::string_view s);
/// A compact age: "850ms", "12s", "5m", "3h", "4d" (negative clamps to 0).
std::string human_age(int64_t ms);
/// An interval for tables: "100ms", "1s", "1.5s", "2m", "90s".
std::string human_interval(int64_t ms);

/// Re-indents compact JSON text with 2 spaces (RapidJSON's PrettyWriter);
/// returns the input unchanged when it does not parse.
std::string pretty_json(std::string_view compact);
/// `s` as a JSON string literal (quoted, escaped).
std::string json_quote(std::string_view s);

/// Truncates `s` to at most `max` display columns, ending with "…" when cut;
/// newlines become spaces (for one-line table cells and tail lines).
std::string one_line(std::string_view s, std::size_t max);

// ---- runtime objects as text -------------------------------------------------

class context;

/// What a command needs from the runtime.
enum class runtime_use {
    read,   ///< reads and simple writes (list, inspect, enable, ...): no plugins loaded
    plugins ///< register, tick, serve: built-in plugin dirs + --plugin-dir
};

/// Opens the database of `ctx` (--db / $VIGY_DB / default) as a runtime.
/// Throws command_error(1) with a message naming the database path.
std::unique_ptr<host::runtime> open_runtime(context& ctx, runtime_use use,
                                            host::runtime_options options = {});

/// `rt.find(name_or_id)` or command_error(1) `vigy "<x>" not found`.
host::vigy_info find_vigy_or_fail(const host::runtime& rt, std::string_view name_or_id);

/// Turns a runtime_error into a command_error(1) whose message names `what`
/// (e.g. the database path) when the runtime's message does not already.
[[noreturn]] void rethrow_as_command_error(const std::exception& e, const std::string& db_path);

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Writes already-serialised JSON text as a value; `fallback` when empty.
void write_raw_json(json_writer& w, std::string_view text, std::string_view fallback = "null");
/// {"id","name","kind","revision","tick_interval_ms","enabled","labels",
///  "limits":{"fuel","wall_ms","memory_bytes","max_depth"},"created_at","updated_at","config"}
void write_vigy(json_writer& w, const host::vigy_info& v);
/// {"id","seq","vigy_id","vigy_name","revision","trigger","started_at","ended_at",
///  "duration_ms","result","error"?,"tick_count"?,"output","actions","desired","observed",
///  "conditions","log","trace","metrics","events","kv_writes"?,"kv_deletes"?}
/// tick_count/kv_* are present only when known (live runs, forced ticks).
void write_run(json_writer& w, const host::run& r);
/// write_vigy as a compact JSON document.
std::string vigy_json(const host::vigy_info& v);
/// write_run as a compact JSON document.
std::string run_json(const host::run& r);

/// Prints a compact JSON document to `out`: pretty (2-space) unless `one_line`.
void print_json(std::ostream& out, const std::string& compact, bool one_line = false);

/// "no actions", "1 action: noop", "3 actions: pull, push, noop" from actions JSON.
std::string actions_summary(std::string_view actions_json);
/// Run duration for humans: "35us", "4.2ms", "12ms", "1.2s".
std::string human_duration_ms(int64_t started_ms, int64_t ended_ms, int64_t duration_us);
/// One line per run, as `tail` and `serve` print it:
/// "<started RFC 3339>  <name>  <result>  <duration>  <actions>[  error: <error>]".
std::string run_line(const host::run& r, const style& st, std::size_t name_width = 16);
/// "a=b, c=d" (or "" when empty).
std::string labels_text(const host::label_map& labels);
/// 67108864 -> "64MiB", 1000 -> "1000B" (exact multiples of 1024 only).
std::string human_bytes(uint64_t bytes);
/// "yes"/"no", coloured green/dim.
std::string yes_no(bool b, const style& st);

/// Footer line naming the global options (CLI11 does not list the parent's
/// options in a subcommand's --help).
inline constexpr const char* global_options_help =
    "global options (before or after the command): --db PATH, --plugin-dir DIR,\n"
    "-o table|json, -v; colour only on a terminal and never with NO_COLOR.\n"
    "exit status: 0 ok, 1 error, 2 usage.";

/// Blocks SIGINT and SIGTERM in the calling thread (and every thread it
/// starts later), so that `wait_for_stop_signal` can pick them up synchronously.
void block_stop_signals();
/// Waits up to `timeout_ms` for SIGINT/SIGTERM (blocked with block_stop_signals);
/// returns the signal number or 0 on timeout.
int wait_for_stop_signal(int timeout_ms);

}  // namespace vigy::cli

#endif  // VIGY_CLI_FORMAT_HPP
