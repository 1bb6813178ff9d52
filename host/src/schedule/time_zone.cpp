// host/src/schedule/time_zone.cpp — IANA zones through Howard Hinnant's
// date/tz (OS tz database) plus the zone file's POSIX footer after the last
// listed transition (see time_zone.hpp).
#include "vigy/host/time_zone.hpp"

#include "vigy/sdk.hpp"

// ptz.h defines non-inline functions: include it in this one translation unit only.
#include <date/ptz.h>
#include <date/tz.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>

namespace vigy::host {

namespace {

constexpr const char* tz_dir = "/usr/share/zoneinfo";
// date's first and last segments run from year -32767 to 32767; anything
// outside years 1..9999 is "no bound" for the schedules.
constexpr int64_t first_bounded_s = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t last_bounded_s = 253402300799;   // 9999-12-31T23:59:59Z

const std::string utc_name = "UTC";

/// The POSIX TZ string at the end of a TZif v2+ file ("EST5EDT,M3.2.0,M11.1.0"),
/// or "" when the file has none or cannot be read.
std::string tzif_footer(const std::string& zone_name) {
    std::ifstream f(std::string(tz_dir) + "/" + zone_name, std::ios::binary);
    if (!f) return {};
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (bytes.size() < 6 || bytes.compare(0, 4, "TZif") != 0 || bytes[4] < '2' || bytes.back() != '\n') return {};
    const std::size_t start = bytes.rfind('\n', bytes.size() - 2);
    if (start == std::string::npos) return {};
    return bytes.substr(start + 1, bytes.size() - start - 2);
}

int64_t seconds_of(date::sys_seconds t) { return t.time_since_epoch().count(); }

}  // namespace

struct time_zone::data {
    std::string name;
    const date::time_zone* table = nullptr;
    /// From tail_begin_s on, the footer rule; before it, the listed transitions.
    std::optional<Posix::time_zone> tail;
    int64_t tail_begin_s = zone_segment::unbounded_end;
};

time_zone time_zone::locate(std::string_view name) {
    if (name.empty() || name == utc_name) return time_zone();
    static std::mutex mu;
    static std::map<std::string, std::shared_ptr<const data>, std::less<>> cache;
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(name); it != cache.end()) return time_zone(it->second);

    auto d = std::make_shared<data>();
    d->name = std::string(name);
    try {
        d->table = date::locate_zone(d->name);
    } catch (const std::exception& e) {
        const std::string what = e.what();
        if (what.find("not found") != std::string::npos)
            sdk::fail(VIGY_INVALID_ARGUMENT, "unknown time zone \"" + d->name + "\": not in the system tz database (" +
                                                 tz_dir + "); use an IANA name such as Europe/Berlin");
        sdk::fail(VIGY_INVALID_ARGUMENT,
                  "time zone \"" + d->name + "\": the system tz database cannot be read (" + what + ")");
    }
    // The open-ended last listed stretch: from its start the footer rule applies.
    const auto last = d->table->get_info(date::sys_days{date::year{5000} / 1 / 1});
    const std::string footer = tzif_footer(d->name);
    if (footer.find(',') != std::string::npos && seconds_of(last.end) > last_bounded_s) {
        try {
            d->tail.emplace(footer);
            d->tail_begin_s = seconds_of(last.begin);
        } catch (const std::exception&) {
            d->tail.reset();  // a footer the library cannot read: keep the last listed offset
        }
    }
    cache.emplace(d->name, d);
    return time_zone(std::move(d));
}

const std::string& time_zone::name() const noexcept { return data_ ? data_->name : utc_name; }

zone_segment time_zone::segment_at(int64_t epoch_s) const {
    zone_segment s;
    if (!data_) {
        s.begin_s = zone_segment::unbounded_begin;
        s.end_s = zone_segment::unbounded_end;
        s.abbrev = utc_name;
        return s;
    }
    const date::sys_seconds t{std::chrono::seconds{epoch_s}};
    const date::sys_info info =
        (data_->tail && epoch_s >= data_->tail_begin_s) ? data_->tail->get_info(t) : data_->table->get_info(t);
    s.begin_s = seconds_of(info.begin);
    s.end_s = seconds_of(info.end);
    if (data_->tail && epoch_s >= data_->tail_begin_s && s.begin_s < data_->tail_begin_s)
        s.begin_s = data_->tail_begin_s;
    if (s.begin_s < first_bounded_s) s.begin_s = zone_segment::unbounded_begin;
    if (s.end_s > last_bounded_s) s.end_s = zone_segment::unbounded_end;
    s.offset_s = static_cast<int32_t>(info.offset.count());
    s.abbrev = info.abbrev;
    return s;
}

int32_t time_zone::offset_at(int64_t epoch_s) const { return data_ ? segment_at(epoch_s).offset_s : 0; }

civil_time to_civil(int64_t epoch_ms, const time_zone& tz) {
    int64_t s = epoch_ms / 1000 - (epoch_ms % 1000 < 0 ? 1 : 0);
    const zone_segment seg = tz.segment_at(s);
    civil_time c;
    c.offset_s = seg.offset_s;
    c.abbrev = seg.abbrev;
    s += seg.offset_s;
    int64_t days = s / 86400;
    int64_t sod = s % 86400;
    if (sod < 0) sod += 86400, --days;
    const date::sys_days d{date::days{static_cast<int>(days)}};
    const date::year_month_day ymd{d};
    c.year = static_cast<int>(ymd.year());
    c.month = static_cast<unsigned>(ymd.month());
    c.day = static_cast<unsigned>(ymd.day());
    c.weekday = date::weekday{d}.c_encoding();
    c.hour = static_cast<unsigned>(sod / 3600);
    c.minute = static_cast<unsigned>(sod / 60 % 60);
    c.second = static_cast<unsigned>(sod % 60);
    return c;
}

std::string format_rfc3339_local(int64_t epoch_ms, const time_zone& tz) {
    const civil_time c = to_civil(epoch_ms, tz);
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u", c.year, c.month, c.day, c.hour, c.minute,
                          c.second);
    if (c.offset_s == 0 && tz.is_utc()) {
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "Z");
    } else {
        const int32_t a = c.offset_s < 0 ? -c.offset_s : c.offset_s;
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "%c%02d:%02d", c.offset_s < 0 ? '-' : '+',
                      a / 3600, a / 60 % 60);
    }
    return buf;
}

}  // namespace vigy::host
