// host/src/schedule/cron.cpp — cron expression parser (cronie's grammar plus a
// leading seconds field) and the next-fire-time search on the local wall clock
// with cronie's daylight-saving rules (see cron.hpp and docs/schedules.md).
#include "vigy/host/cron.hpp"

#include "vigy/sdk.hpp"

#include <date/date.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <vector>

namespace vigy::host {

namespace {

[[noreturn]] void bad(const std::string& message) { sdk::fail(VIGY_INVALID_ARGUMENT, message); }

enum field_id { f_second, f_minute, f_hour, f_dom, f_month, f_dow };

struct field_def {
    const char* name;
    int low;
    int high;
    const std::array<const char*, 12>* names;  ///< value low+i is names[i]; nullptr: numbers only
    int name_count;
};

constexpr std::array<const char*, 12> month_names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 12> dow_names = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr field_def fields[] = {
    {"second", 0, 59, nullptr, 0},       {"minute", 0, 59, nullptr, 0},      {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0}, {"month", 1, 12, &month_names, 12}, {"day-of-week", 0, 7, &dow_names, 7},
};

/// What one field parsed to: the bits of the values (bit v for value v) and
/// whether its text starts with '*' (cronie's *_STAR flags).
struct parsed_field {
    uint64_t bits = 0;
    bool star = false;
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string name_list(const field_def& f) {
    std::string out;
    for (int i = 0; i < f.name_count; ++i) {
        if (i) out += ' ';
        out += (*f.names)[static_cast<std::size_t>(i)];
    }
    return out;
}

class field_parser {
public:
    field_parser(const field_def& def, int position)
        : def_(def), prefix_("field " + std::to_string(position) + " (" + def.name + "): ") {}

    parsed_field parse(std::string_view text) const {
        parsed_field out;
        out.star = !text.empty() && text.front() == '*';
        std::size_t start = 0;
        while (true) {
            const std::size_t comma = text.find(',', start);
            const std::string_view item =
                text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
            if (item.empty()) fail("empty item in the list \"" + std::string(text) + "\"");
            out.bits |= parse_item(item);
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
        return out;
    }

    [[noreturn]] void fail(const std::string& what) const { bad(prefix_ + what); }

private:
    uint64_t parse_item(std::string_view item) const {
        int lo = def_.low;
        int hi = def_.high;
        std::string_view rest;
        bool range = false;
        if (item.front() == '*') {
            rest = item.substr(1);
            range = true;
            if (!rest.empty() && rest.front() != '/')
                fail("unexpected \"" + std::string(rest) + "\" after * in \"" + std::string(item) + "\"");
        } else {
            std::size_t i = 0;
            lo = value(item, i);
            hi = lo;
            if (i < item.size() && item[i] == '-') {
                ++i;
                hi = value(item, i);
                range = true;
                if (def_.low == 0 && def_.high == 7 && hi == 0 && lo > 0) hi = 7;  // fri-sun, 5-0: ends on Sunday
                if (lo > hi)
                    fail("range " + std::string(item.substr(0, i)) + " is reversed (the start " + std::to_string(lo) +
                         " is after the end " + std::to_string(hi) + ")");
            }
            rest = item.substr(i);
        }
        int step = 1;
        if (!rest.empty()) {
            if (rest.front() != '/') fail("unexpected \"" + std::string(rest) + "\" in \"" + std::string(item) + "\"");
            if (!range)
                fail("a step needs a range or *: \"" + std::string(item) + "\" (write " + std::to_string(lo) + "-" +
                     std::to_string(def_.high) + std::string(rest) + ")");
            const std::string_view digits = rest.substr(1);
            if (digits.empty() || digits.size() > 4 || !std::all_of(digits.begin(), digits.end(), [](char c) {
                    return std::isdigit(static_cast<unsigned char>(c));
                }))
                fail("step \"" + std::string(digits) + "\" in \"" + std::string(item) + "\" is not a positive number");
            step = std::stoi(std::string(digits));
            if (step == 0) fail("step 0 in \"" + std::string(item) + "\" must be at least 1");
            if (step > 1 && step > hi - lo)
                fail("step " + std::to_string(step) + " in \"" + std::string(item) + "\" is larger than the range " +
                     std::to_string(lo) + "-" + std::to_string(hi) + " it steps through (it would select " +
                     std::to_string(lo) + " only)");
        }
        uint64_t bits = 0;
        for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
        return bits;
    }

    /// A number or a name at item[i...], advancing i; checked against the field's range.
    int value(std::string_view item, std::size_t& i) const {
        const std::size_t start = i;
        while (i < item.size() && std::isalnum(static_cast<unsigned char>(item[i]))) ++i;
        const std::string_view tok = item.substr(start, i - start);
        if (tok.empty()) {
            if (i < item.size() && item[i] == '-' && start == 0)
                fail("\"" + std::string(item) + "\": negative numbers are not allowed");
            fail("expected a number in \"" + std::string(item) + "\"");
        }
        if (std::all_of(tok.begin(), tok.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
            if (tok.size() > 6 || std::stoi(std::string(tok)) < def_.low || std::stoi(std::string(tok)) > def_.high)
                fail(std::string(tok) + " is out of range " + std::to_string(def_.low) + "-" +
                     std::to_string(def_.high));
            return std::stoi(std::string(tok));
        }
        if (def_.names) {
            const std::string l = lower(tok);
            for (int k = 0; k < def_.name_count; ++k)
                if (l == (*def_.names)[static_cast<std::size_t>(k)]) return def_.low + k;
            fail("unknown " + std::string(def_.low == 1 ? "month" : "day") + " name \"" + std::string(tok) +
                 "\" (use " + name_list(def_) + ")");
        }
        fail("\"" + std::string(tok) + "\" is not a number");
    }

    const field_def& def_;
    std::string prefix_;
};

std::vector<std::string_view> split_blanks(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

constexpr unsigned days_in_month(int y, unsigned m) noexcept {
    constexpr unsigned d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return d[m - 1];
}

constexpr int64_t floor_div(int64_t a, int64_t b) noexcept { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

inline int next_bit(uint64_t mask, int from) noexcept {
    if (from >= 64) return -1;
    const uint64_t x = mask & (~uint64_t{0} << from);
    return x ? std::countr_zero(x) : -1;
}

int64_t days_from_civil(int y, unsigned m, unsigned d) noexcept {
    return date::sys_days{date::year{y} / date::month{m} / date::day{d}}.time_since_epoch().count();
}

/// 10000-01-01T00:00:00 as local seconds: no fire time at or after it.
constexpr int64_t end_of_time_local = 253402300800;
/// 0001-01-01T00:00:00: searches start no earlier.
constexpr int64_t start_of_time = -62135596800;

}  // namespace

cron_schedule cron_schedule::parse(std::string_view expression, time_zone tz) {
    const std::vector<std::string_view> parts = split_blanks(expression);
    if (parts.empty()) bad("empty cron expression: expected 5 fields (minute hour day-of-month month day-of-week)");

    cron_schedule c;
    c.tz_ = std::move(tz);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i) c.expr_ += ' ';
        c.expr_ += parts[i];
    }

    std::array<parsed_field, 6> f;
    const bool macro = parts.front().front() == '@';
    if (macro) {
        if (parts.size() != 1)
            bad("unexpected \"" + std::string(parts[1]) + "\" after the macro " + std::string(parts[0]));
        const std::string m = lower(parts[0]);
        auto all = [](field_id id) {
            return parsed_field{((uint64_t{2} << fields[id].high) - 1) & ~((uint64_t{1} << fields[id].low) - 1), false};
        };
        auto one = [](int v) { return parsed_field{uint64_t{1} << v, false}; };
        // cronie's entry.c: the bits and the *_STAR flags each macro sets.
        f[f_second] = one(0);
        f[f_minute] = one(0);
        f[f_hour] = one(0);
        f[f_dom] = all(f_dom);
        f[f_month] = all(f_month);
        f[f_dow] = all(f_dow);
        if (m == "@yearly" || m == "@annually") {
            f[f_dom] = one(1), f[f_month] = one(1), c.flags_ |= dow_star;
        } else if (m == "@monthly") {
            f[f_dom] = one(1), c.flags_ |= dow_star;
        } else if (m == "@weekly") {
            f[f_dow] = one(0), c.flags_ |= dom_star;
        } else if (m == "@daily" || m == "@midnight") {
            // no flag: day-of-month and day-of-week are full, so OR and AND agree
        } else if (m == "@hourly") {
            f[f_hour] = all(f_hour), c.flags_ |= hour_star;
        } else if (m == "@reboot") {
            bad("@reboot is not a schedule: a vigy starts ticking when serve starts (use --once for a program that "
                "runs once)");
        } else {
            bad("unknown macro " + std::string(parts[0]) +
                " (known: @yearly @annually @monthly @weekly @daily @midnight @hourly)");
        }
    } else {
        if (parts.size() != 5 && parts.size() != 6)
            bad("expected 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading second, got " +
                std::to_string(parts.size()) + " in \"" + c.expr_ + "\"");
        const bool with_seconds = parts.size() == 6;
        if (with_seconds) c.flags_ |= seconds_field;
        const int first = with_seconds ? f_second : f_minute;
        f[f_second] = parsed_field{1, false};
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const int id = first + static_cast<int>(i);
            f[static_cast<std::size_t>(id)] = field_parser(fields[id], static_cast<int>(i) + 1).parse(parts[i]);
        }
        if (f[f_minute].star) c.flags_ |= minute_star;
        if (f[f_hour].star) c.flags_ |= hour_star;
        if (f[f_dom].star) c.flags_ |= dom_star;
        if (f[f_dow].star) c.flags_ |= dow_star;
    }

    c.seconds_ = f[f_second].bits;
    c.minutes_ = f[f_minute].bits;
    c.hours_ = static_cast<uint32_t>(f[f_hour].bits);
    c.dom_ = static_cast<uint32_t>(f[f_dom].bits >> 1);
    c.months_ = static_cast<uint16_t>(f[f_month].bits >> 1);
    uint64_t dow = f[f_dow].bits;
    if (dow & (uint64_t{1} << 7)) dow |= 1;  // 7 is Sunday too
    dow &= 0x7f;
    for (unsigned w = 0; w < 7; ++w) {
        uint32_t days = 0;
        for (unsigned i = 0; i < 31; ++i)
            if (dow & (uint64_t{1} << ((w + i) % 7))) days |= uint32_t{1} << i;
        c.dow_days_[w] = days;
    }

    // Refuse what can never fire: with the OR rule every month has a matching
    // weekday; otherwise some selected day must exist in some selected month
    // (any such date falls on every weekday within a 400-year cycle).
    const bool either_star = c.flags_ & (dom_star | dow_star);
    if (either_star) {
        bool possible = false;
        for (unsigned m = 1; m <= 12 && !possible; ++m)
            if ((c.months_ >> (m - 1)) & 1) possible = (c.dom_ & ((uint32_t{1} << days_in_month(2000, m)) - 1)) != 0;
        if (!possible) {
            const int pos = c.has_seconds() ? 4 : 3;
            bad("field " + std::to_string(pos) + " (day-of-month): no day in \"" +
                std::string(parts[static_cast<std::size_t>(pos - 1)]) + "\" occurs in the months \"" +
                std::string(parts[static_cast<std::size_t>(pos)]) + "\", so it never fires");
        }
    }
    return c;
}

uint32_t cron_schedule::day_mask(int y, unsigned m) const noexcept {
    const int64_t first = days_from_civil(y, m, 1);
    const auto wd = static_cast<unsigned>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
    const uint32_t valid = (uint32_t{1} << days_in_month(y, m)) - 1;
    const uint32_t by_dow = dow_days_[wd];
    const uint32_t mask = (flags_ & (dom_star | dow_star)) ? (dom_ & by_dow) : (dom_ | by_dow);
    return mask & valid;
}

bool cron_schedule::matches_local(int64_t local_s) const noexcept {
    const int64_t days = floor_div(local_s, 86400);
    const int64_t sod = local_s - days * 86400;
    const date::year_month_day ymd{date::sys_days{date::days{static_cast<int>(days)}}};
    const int y = static_cast<int>(ymd.year());
    const unsigned m = static_cast<unsigned>(ymd.month());
    const unsigned d = static_cast<unsigned>(ymd.day());
    return ((months_ >> (m - 1)) & 1) && ((day_mask(y, m) >> (d - 1)) & 1) && ((hours_ >> (sod / 3600)) & 1) &&
           ((minutes_ >> (sod / 60 % 60)) & 1) && ((seconds_ >> (sod % 60)) & 1);
}

std::optional<int64_t> cron_schedule::next_local(int64_t from_local_s, int64_t limit_local_s) const noexcept {
    if (from_local_s >= limit_local_s) return std::nullopt;
    const int64_t days0 = floor_div(from_local_s, 86400);
    const int64_t sod = from_local_s - days0 * 86400;
    const date::year_month_day ymd{date::sys_days{date::days{static_cast<int>(days0)}}};
    int y = static_cast<int>(ymd.year());
    unsigned m = static_cast<unsigned>(ymd.month());
    int d = static_cast<int>(static_cast<unsigned>(ymd.day()));
    int h = static_cast<int>(sod / 3600);
    int mi = static_cast<int>(sod / 60 % 60);
    int s = static_cast<int>(sod % 60);
    const int64_t limit_days = floor_div(limit_local_s - 1, 86400);

    while (true) {
        const int mm = next_bit(months_, static_cast<int>(m) - 1);
        if (mm < 0) {
            ++y, m = 1, d = 1, h = mi = s = 0;
            if (days_from_civil(y, 1, 1) > limit_days) return std::nullopt;
            continue;
        }
        if (static_cast<unsigned>(mm) + 1 != m) m = static_cast<unsigned>(mm) + 1, d = 1, h = mi = s = 0;
        const int dd = next_bit(day_mask(y, m), d - 1);
        if (dd < 0) {
            if (m == 12)
                ++y, m = 1;
            else
                ++m;
            d = 1, h = mi = s = 0;
            if (days_from_civil(y, m, 1) > limit_days) return std::nullopt;
            continue;
        }
        if (dd + 1 != d) d = dd + 1, h = mi = s = 0;
        const int64_t day = days_from_civil(y, m, static_cast<unsigned>(d));
        if (day > limit_days) return std::nullopt;
        const int hh = next_bit(hours_, h);
        if (hh < 0) {
            ++d, h = mi = s = 0;
            continue;
        }
        if (hh != h) h = hh, mi = s = 0;
        const int mn = next_bit(minutes_, mi);
        if (mn < 0) {
            ++h, mi = s = 0;
            continue;
        }
        if (mn != mi) mi = mn, s = 0;
        const int ss = next_bit(seconds_, s);
        if (ss < 0) {
            ++mi, s = 0;
            continue;
        }
        const int64_t local = day * 86400 + h * 3600 + mi * 60 + ss;
        if (local >= limit_local_s) return std::nullopt;
        return local;
    }
}

std::optional<int64_t> cron_schedule::next(int64_t after_ms) const {
    int64_t t = floor_div(after_ms, 1000) + 1;                    // first whole second strictly after
    if (t >= end_of_time_local + 2 * 86400) return std::nullopt;  // (beyond any zone's offset)
    t = std::max(t, start_of_time);
    if (tz_.is_utc()) {
        const auto l = next_local(t, end_of_time_local);
        if (!l) return std::nullopt;
        return *l * 1000;
    }
    // Walk the zone's stretches of constant offset; local time is monotonic
    // inside each one. 2,000 stretches cover centuries of DST changes.
    for (int guard = 0; guard < 2000; ++guard) {
        const zone_segment seg = tz_.segment_at(t);
        const int64_t off = seg.offset_s;
        int64_t lo = t + off;
        const int64_t hi =
            seg.end_s == zone_segment::unbounded_end ? end_of_time_local : std::min(end_of_time_local, seg.end_s + off);
        if (!wildcard_time() && seg.begin_s != zone_segment::unbounded_begin) {
            const int32_t prev = tz_.offset_at(seg.begin_s - 1);
            if (prev < off) {
                // Clocks jumped forward: local [begin+prev, begin+off) never showed.
                // A fixed time in it fires once, at the first instant after the gap.
                if (t == seg.begin_s && next_local(seg.begin_s + prev, seg.begin_s + off)) return seg.begin_s * 1000;
            } else if (prev > off) {
                // Clocks went back: local [begin+off, begin+prev) is shown a second
                // time; a fixed time fired at its first occurrence already.
                lo = std::max(lo, seg.begin_s + prev);
            }
        }
        if (lo < hi)
            if (const auto l = next_local(lo, hi)) return (*l - off) * 1000;
        if (seg.end_s == zone_segment::unbounded_end || hi >= end_of_time_local) return std::nullopt;
        t = seg.end_s;
    }
    return std::nullopt;
}

}  // namespace vigy::host
