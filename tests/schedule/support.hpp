// tests/schedule/support.hpp — helpers for the schedule tests: instants from
// calendar fields, readable times in failure messages, and errors as text.
#pragma once

#include "failure.hpp"  // tests/host/support: failure(f) -> "<status>: <message>"
#include "vigy/host/cron.hpp"
#include "vigy/host/tick_context.hpp"  // format_rfc3339_ms

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigy::test {

/// Epoch ms of a UTC calendar time.
inline int64_t utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
}

/// "2026-03-08T07:00:00.000Z", or "none".
inline std::string when(std::optional<int64_t> ms) { return ms ? vigy::host::format_rfc3339_ms(*ms) : "none"; }

inline std::vector<std::string> whens(const std::vector<int64_t>& v) {
    std::vector<std::string> out;
    for (auto ms : v) out.push_back(when(ms));
    return out;
}

/// Runs `f`, expecting a status_error; returns "<status>: <message>", or "no error".
template <class F>
std::string error_of(F&& f) {
    return failure(std::forward<F>(f));
}

/// The next `n` fire times of `c` after `from_ms`, as RFC 3339 text ("none" ends the list).
inline std::vector<std::string> nexts(const vigy::host::cron_schedule& c, int64_t from_ms, int n) {
    std::vector<std::string> out;
    int64_t t = from_ms;
    for (int i = 0; i < n; ++i) {
        const auto x = c.next(t);
        out.push_back(when(x));
        if (!x) break;
        t = *x;
    }
    return out;
}

}  // namespace vigy::test
