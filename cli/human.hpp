/// cli/human.hpp — times, durations, sizes and runs as text for people: RFC 3339 at
/// the edge (through the host's one codec), ages, intervals, duration parsing, one-line
/// summaries of a run's buffers.
///
/// Threading: plain functions over values.
#ifndef VIGY_CLI_HUMAN_HPP
#define VIGY_CLI_HUMAN_HPP

#include "style.hpp"

#include "vigy/host/runtime.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigy::cli {

/// Milliseconds since the Unix epoch, now.
int64_t now_ms();
/// "2026-11-21T06:01:02.345Z" (UTC, always 3 fraction digits).
std::string rfc3339_ms(int64_t epoch_ms);
/// RFC 3339 text -> epoch ms; nullopt when malformed.
std::optional<int64_t> parse_rfc3339(std::string_view s);
/// A duration such as "500ms", "10s", "5m", "2h", "1d", "1h30m" -> ms; nullopt when
/// malformed or empty. A bare number is not accepted.
std::optional<int64_t> parse_duration_ms(std::string_view s);
/// A compact age: "850ms", "12s", "5m", "3h", "4d" (negative clamps to 0).
std::string human_age(int64_t ms);
/// An interval for tables: "100ms", "1s", "1.5s", "2m", "90s".
std::string human_interval(int64_t ms);
/// A run's duration: "35us", "4.2ms", "12ms", "1.2s".
std::string human_duration_us(int64_t duration_us);
/// 67108864 -> "64MiB", 1000 -> "1000B" (exact multiples of 1024 only).
std::string human_bytes(uint64_t bytes);
/// "a=b, c=d" (or "" when empty).
std::string labels_text(const host::label_map& labels);

/// "no actions", "1 action: noop", "3 actions: pull, push x2" from actions JSON.
std::string actions_summary(std::string_view actions_json);
/// "key=value, ..." of a JSON object text ("" when empty or not an object).
std::string object_summary(std::string_view json_object);
/// One line per run, as `tail` and `serve` print it:
/// "<started RFC 3339>  <name>  <result>  <duration>  <actions>[  error: <error>]".
std::string run_line(const host::run& r, const style& st, std::size_t name_width = 16);
/// The error of a failed run, prefixed with its code when the code says something
/// the message may not (a limit, a missing grant, try again):
/// "resource-exhausted: memory limit reached ...".
std::string run_error_text(const host::run& r);

}  // namespace vigy::cli

#endif  // VIGY_CLI_HUMAN_HPP
