/// vigy/host/time.hpp — the one RFC 3339 codec, used only at the edges (CLI, API).
///
/// Inside the host and the store, times are int64 milliseconds since the Unix epoch
/// (UTC) and durations int64 microseconds. Text appears only where a human or a JSON
/// client reads it: "2026-11-21T05:55:34.123Z" (UTC, always three fraction digits, so
/// texts sort like the times they denote).
///
/// Threading: pure functions.
#ifndef VIGY_HOST_TIME_HPP
#define VIGY_HOST_TIME_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigy::host {

/// Epoch ms -> "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 characters for years 0000..9999).
std::string format_rfc3339_ms(int64_t epoch_ms);

/// Appends format_rfc3339_ms(epoch_ms) to `out`.
void append_rfc3339_ms(int64_t epoch_ms, std::string& out);

/// RFC 3339 date-time -> epoch ms: "YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|±HH:MM)";
/// the fraction may have any number of digits (truncated to ms); leap second 60
/// accepted. nullopt when malformed or not a calendar date (2026-02-30).
std::optional<int64_t> parse_rfc3339_ms(std::string_view text) noexcept;

}  // namespace vigy::host

#endif  // VIGY_HOST_TIME_HPP
