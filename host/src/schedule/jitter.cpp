// host/src/schedule/jitter.cpp — --jitter values and the deterministic
// per-vigy offset inside the jitter window.
#include "vigy/host/schedule.hpp"

#include "vigy/sdk.hpp"

#include <algorithm>
#include <cctype>

namespace vigy::host {

namespace {
__extension__ typedef unsigned __int128 u128;  // GCC/Clang; __extension__ keeps -Wpedantic quiet
}  // namespace

int64_t jitter_spec::window_for(int64_t period_ms) const noexcept {
    if (percent > 0) return period_ms > 0 ? period_ms / 100 * percent + period_ms % 100 * percent / 100 : 0;
    return window_ms;
}

std::string jitter_spec::to_string() const {
    if (percent > 0) return std::to_string(percent) + "%";
    if (window_ms > 0) return format_duration_ms(window_ms);
    return {};
}

jitter_spec parse_jitter(std::string_view text) {
    jitter_spec j;
    const std::string shown = "--jitter " + std::string(text);
    auto all_digits = [](std::string_view s) {
        return !s.empty() && s.size() <= 12 &&
               std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    };
    if (!text.empty() && text.back() == '%') {
        const std::string_view n = text.substr(0, text.size() - 1);
        if (!all_digits(n)) sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": expected a whole percentage such as 10%");
        const int64_t p = std::stoll(std::string(n));
        if (p < 1 || p > 100) sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": must be between 1% and 100%");
        j.percent = static_cast<int32_t>(p);
        return j;
    }
    if (all_digits(text)) {
        j.window_ms = std::stoll(std::string(text));
    } else {
        if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front())))
            sdk::fail(VIGY_INVALID_ARGUMENT,
                      shown + ": expected a percentage (10%), a duration (30s) or milliseconds (500)");
        j.window_ms = parse_duration_ms(text, "--jitter");
    }
    if (j.window_ms == 0)
        sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": must be more than 0 (leave --jitter out for none)");
    return j;
}

uint64_t jitter_hash(std::string_view vigy_id) noexcept {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
    for (const char c : vigy_id) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    // splitmix64's finaliser: FNV alone leaves similar ids (…-001, …-002) close.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

int64_t jitter_offset_ms(std::string_view vigy_id, int64_t period_ms, const jitter_spec& j) noexcept {
    const int64_t window = j.window_for(period_ms);
    if (window <= 0) return 0;
    // (hash / 2^64) * window, exactly, without bias from a modulo.
    return static_cast<int64_t>((static_cast<u128>(jitter_hash(vigy_id)) * static_cast<uint64_t>(window)) >> 64);
}

}  // namespace vigy::host
