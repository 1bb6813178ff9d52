/// vigy/host/time_zone.hpp — an IANA time zone from the system tz database
/// (/usr/share/zoneinfo, Debian's tzdata), or UTC, as the schedules need it:
/// the offset in force at an instant and the stretch of time it holds for.
///
/// Backed by Howard Hinnant's date/tz library (Debian libhowardhinnant-date-dev,
/// compiled with USE_OS_TZDB: it reads the OS database, never the network).
/// That library reads the transitions listed in a zone file and stops at the
/// last one (2037 in Debian's "fat" files); beyond it the zone file's POSIX TZ
/// footer ("EST5EDT,M3.2.0,M11.1.0") is evaluated with the same library's
/// Posix::time_zone, so daylight-saving changes continue after 2037. A footer
/// that library cannot read (TZif v3 extensions such as America/Nuuk's
/// "M3.5.0/-1") leaves the zone at its last listed offset after 2037.
///
/// Units: instants are int64 seconds since the Unix epoch (UTC); offsets are
/// seconds east of UTC (New York in winter: -18000).
/// Errors: locate() throws vigy::sdk::status_error(VIGY_INVALID_ARGUMENT) for
/// an unknown zone name or a missing tz database. Nothing else throws.
/// Threading: a time_zone is an immutable value; copies share the zone data;
/// every method may be called from any thread at once.
#ifndef VIGY_HOST_TIME_ZONE_HPP
#define VIGY_HOST_TIME_ZONE_HPP

#include "vigy/sdk.hpp"  // sdk::status_error, what the parsers here throw

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace vigy::host {

/// A stretch of time [begin_s, end_s) with one UTC offset.
struct zone_segment {
    int64_t begin_s = 0;   ///< first second of the stretch (epoch s); zone_segment::unbounded_begin when none
    int64_t end_s = 0;     ///< first second after it; zone_segment::unbounded_end when none
    int32_t offset_s = 0;  ///< seconds east of UTC in the stretch
    std::string abbrev;    ///< "EST", "CEST", "+0530", "UTC"

    static constexpr int64_t unbounded_begin = INT64_MIN / 4;
    static constexpr int64_t unbounded_end = INT64_MAX / 4;
};

class time_zone {
public:
    /// UTC (the default of every schedule); never touches the tz database.
    time_zone() noexcept = default;
    static time_zone utc() noexcept { return time_zone(); }

    /// The zone named `name` ("Europe/Berlin", "America/New_York", "UTC",
    /// "Etc/GMT+3"): an exact, case-sensitive IANA name from the system
    /// database. "UTC" and "" give utc(). Throws status_error
    /// INVALID_ARGUMENT: `unknown time zone "Mars/Base": not in the system tz
    /// database (/usr/share/zoneinfo); use an IANA name such as Europe/Berlin`.
    /// Repeated calls with one name share one loaded zone.
    static time_zone locate(std::string_view name);

    /// The IANA name, "UTC" for utc().
    const std::string& name() const noexcept;
    bool is_utc() const noexcept { return data_ == nullptr; }

    /// The stretch of constant offset that contains `epoch_s`.
    zone_segment segment_at(int64_t epoch_s) const;
    /// segment_at(epoch_s).offset_s.
    int32_t offset_at(int64_t epoch_s) const;

    friend bool operator==(const time_zone& a, const time_zone& b) noexcept { return a.name() == b.name(); }

    struct data;  ///< implementation (time_zone.cpp)

private:
    explicit time_zone(std::shared_ptr<const data> d) noexcept : data_(std::move(d)) {}
    std::shared_ptr<const data> data_;
};

/// An instant on a zone's wall clock (for display: `vigy schedule next`, inspect).
struct civil_time {
    int year = 1970;
    unsigned month = 1;    ///< 1..12
    unsigned day = 1;      ///< 1..31
    unsigned hour = 0;     ///< 0..23
    unsigned minute = 0;   ///< 0..59
    unsigned second = 0;   ///< 0..59
    unsigned weekday = 4;  ///< 0 = Sunday .. 6 = Saturday
    int32_t offset_s = 0;  ///< seconds east of UTC at that instant
    std::string abbrev;    ///< "EDT", "UTC"
};

/// `epoch_ms` (truncated to the second, towards the past) in zone `tz`.
civil_time to_civil(int64_t epoch_ms, const time_zone& tz);

/// "2026-03-08T03:00:00-04:00" ("...Z" in UTC): RFC 3339 on the zone's clock.
std::string format_rfc3339_local(int64_t epoch_ms, const time_zone& tz);

}  // namespace vigy::host

#endif  // VIGY_HOST_TIME_ZONE_HPP
