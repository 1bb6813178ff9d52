// host/src/time.cpp — the RFC 3339 codec (civil-date arithmetic after H. Hinnant's
// "chrono-compatible low-level date algorithms"; no libc time zone machinery).
#include "vigy/host/time.hpp"

namespace vigy::host {

namespace {

/// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) noexcept {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

unsigned days_in_month(int64_t y, unsigned m) noexcept {
    static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

void put(std::string& out, int64_t v, int width) {
    char buf[24];
    int n = 0;
    for (uint64_t u = static_cast<uint64_t>(v < 0 ? -v : v); n < width || u != 0; u /= 10)
        buf[n++] = static_cast<char>('0' + u % 10);
    if (v < 0) out += '-';
    while (n > 0) out += buf[--n];
}

}  // namespace

void append_rfc3339_ms(int64_t epoch_ms, std::string& out) {
    int64_t days = epoch_ms / 86'400'000;
    int64_t rem = epoch_ms % 86'400'000;
    if (rem < 0) {
        rem += 86'400'000;
        --days;
    }
    int64_t y = 0;
    unsigned m = 0, d = 0;
    civil_from_days(days, y, m, d);
    put(out, y, 4);
    out += '-';
    put(out, m, 2);
    out += '-';
    put(out, d, 2);
    out += 'T';
    put(out, rem / 3'600'000, 2);
    out += ':';
    put(out, rem / 60'000 % 60, 2);
    out += ':';
    put(out, rem / 1000 % 60, 2);
    out += '.';
    put(out, rem % 1000, 3);
    out += 'Z';
}

std::string format_rfc3339_ms(int64_t epoch_ms) {
    std::string out;
    out.reserve(24);
    append_rfc3339_ms(epoch_ms, out);
    return out;
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view s) noexcept {
    auto digits = [&](size_t pos, size_t n, int& out) {
        if (pos + n > s.size()) return false;
        int v = 0;
        for (size_t i = pos; i < pos + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            v = v * 10 + (s[i] - '0');
        }
        out = v;
        return true;
    };
    int year, mon, day, hour, min, sec;
    if (s.size() < 20 || !digits(0, 4, year) || s[4] != '-' || !digits(5, 2, mon) || s[7] != '-' ||
        !digits(8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, hour) || s[13] != ':' ||
        !digits(14, 2, min) || s[16] != ':' || !digits(17, 2, sec))
        return std::nullopt;
    if (mon < 1 || mon > 12 || day < 1 ||
        static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(mon)) || hour > 23 || min > 59 ||
        sec > 60)
        return std::nullopt;
    size_t pos = 19;
    int64_t ms = 0;
    if (s[pos] == '.') {
        ++pos;
        int n = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (n < 3) ms = ms * 10 + (s[pos] - '0');
            ++n;
            ++pos;
        }
        if (n == 0) return std::nullopt;
        for (int i = n; i < 3; ++i) ms *= 10;
    }
    int64_t offset_s = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(pos + 4, 2, om) || oh > 23 ||
            om > 59)
            return std::nullopt;
        offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    const int64_t secs = days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day)) * 86400 +
                         hour * 3600 + min * 60 + sec - offset_s;
    return secs * 1000 + ms;
}

}  // namespace vigy::host
