// host/src/schedule/duration.cpp — "1h30m"-style durations for the schedule flags.
#include "vigy/host/schedule.hpp"

#include "vigy/sdk.hpp"

#include <cctype>
#include <charconv>
#include <limits>

namespace vigy::host {

namespace {

struct unit {
    const char* name;
    int64_t ms;
};
constexpr unit units[] = {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}};

}  // namespace

int64_t parse_duration_ms(std::string_view text, std::string_view what) {
    auto fail = [&]() {
        sdk::fail(VIGY_INVALID_ARGUMENT,
                  "invalid duration \"" + std::string(text) + "\" for " + std::string(what) +
                      ": expected a number and a unit (ms, s, m, h, d) such as 500ms, 10s or 1h30m");
    };
    if (text.empty()) fail();
    int64_t total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
        if (i == start) fail();
        int64_t n = 0;
        const auto [p, ec] = std::from_chars(text.data() + start, text.data() + i, n);
        if (ec != std::errc() || p != text.data() + i) fail();
        const std::size_t ustart = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        const std::string_view u = text.substr(ustart, i - ustart);
        int64_t mul = 0;
        for (const auto& k : units)
            if (u == k.name) mul = k.ms;
        if (mul == 0) fail();
        // keep far below INT64_MAX so that sums of times and durations cannot overflow
        constexpr int64_t cap = std::numeric_limits<int64_t>::max() / 4;
        if (n > cap / mul || total > cap - n * mul)
            sdk::fail(VIGY_INVALID_ARGUMENT,
                      "duration \"" + std::string(text) + "\" for " + std::string(what) + " is too long");
        total += n * mul;
    }
    return total;
}

std::string format_duration_ms(int64_t ms) {
    if (ms == 0) return "0s";
    std::string out = ms < 0 ? "-" : "";
    uint64_t left = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
    for (const auto& k : units) {
        const auto unit_ms = static_cast<uint64_t>(k.ms);
        if (left >= unit_ms) {
            out += std::to_string(left / unit_ms) + k.name;
            left %= unit_ms;
        }
    }
    return out;
}

}  // namespace vigy::host
