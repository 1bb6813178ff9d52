/// vigy/host/cron.hpp — cron expressions: parse once into a compact immutable
/// object, then ask for the next fire time after any instant.
///
/// Syntax (as cronie's crontab(5), plus an optional leading seconds field):
///   [second] minute hour day-of-month month day-of-week
///   second 0-59, minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or
///   jan-dec, day-of-week 0-7 or sun-sat (0 and 7 are both Sunday). Names are
///   three letters, any case. A field is a comma list of `*`, `N`, `N-M`,
///   `*/S` or `N-M/S` (S >= 1). In day-of-week a range ending in 0 ends on
///   Sunday (`fri-sun`, `5-0`). Macros: @yearly @annually @monthly @weekly
///   @daily @midnight @hourly. Refused: @reboot (not a schedule: a vigy starts
///   ticking when serve starts), `N/S` without a range (cronie refuses it too:
///   write `N-59/S`), reversed ranges, out-of-range values, and day-of-month /
///   month combinations that never occur (`0 0 30 feb *`).
///
/// Day rule (Vixie cron, cronie): when both day-of-month and day-of-week are
/// restricted, a day matches if EITHER matches; when either field starts with
/// `*` (including `*/2`), a day must match both. A field counts as
/// unrestricted exactly when its text starts with `*`, as in cronie's
/// DOM_STAR/DOW_STAR flags — so `*/2` in day-of-month is "unrestricted" for
/// this rule although it selects odd days.
///
/// Time zones and daylight saving (cronie's rules, see docs/schedules.md):
/// times are matched on the zone's local wall clock. A schedule is
/// "wildcard" when its minute or hour field starts with `*` (cronie's
/// MIN_STAR/HR_STAR; @hourly counts), otherwise "fixed time".
///   - wildcard: fires at every real instant whose local time matches; local
///     times skipped by a change do not fire, repeated ones fire twice (the
///     schedule keeps its real-time rhythm: neither skipped nor doubled);
///   - fixed time: a matching local time skipped by a change fires once, at
///     the first instant after the gap; a repeated one fires once, at its
///     first occurrence.
///
/// Units: instants are int64 milliseconds since the Unix epoch (UTC); fire
/// times are whole seconds.
/// Errors: parse() throws vigy::sdk::status_error(VIGY_INVALID_ARGUMENT) whose
/// message names the field: "field 2 (hour): 25 is out of range 0-23".
/// Threading: immutable after parse; next() may run on any thread at once.
#ifndef VIGY_HOST_CRON_HPP
#define VIGY_HOST_CRON_HPP

#include "vigy/host/time_zone.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigy::host {

class cron_schedule {
public:
    /// Parses `expression` (5 or 6 fields or a macro; blanks around and
    /// between fields are ignored) for zone `tz`. Throws status_error
    /// INVALID_ARGUMENT naming the field and the value.
    static cron_schedule parse(std::string_view expression, time_zone tz = time_zone::utc());

    /// The first fire time strictly after `after_ms` (epoch ms), or nullopt
    /// when there is none before the year 10000.
    std::optional<int64_t> next(int64_t after_ms) const;

    /// The expression as given, with blanks trimmed and runs of blanks between
    /// fields collapsed to one space ("*/5  * * * *" -> "*/5 * * * *").
    const std::string& expression() const noexcept { return expr_; }
    const time_zone& zone() const noexcept { return tz_; }
    /// True with a leading seconds field (6 fields).
    bool has_seconds() const noexcept { return flags_ & seconds_field; }
    /// True when the minute or hour field starts with `*` (or @hourly): the
    /// DST class "wildcard" above; false means "fixed time".
    bool wildcard_time() const noexcept { return flags_ & (minute_star | hour_star); }

    /// True when `local` (seconds since 1970-01-01T00:00 on the zone's wall
    /// clock) matches every field, ignoring daylight saving.
    bool matches_local(int64_t local_s) const noexcept;

private:
    enum : uint8_t {
        seconds_field = 1,
        minute_star = 2,
        hour_star = 4,
        dom_star = 8,
        dow_star = 16,
    };
    /// The smallest local time >= from_local_s that matches, if it is before `limit_local_s`.
    std::optional<int64_t> next_local(int64_t from_local_s, int64_t limit_local_s) const noexcept;
    /// Days 1..31 of (y, m) that match the day rule, as bits 0..30.
    uint32_t day_mask(int y, unsigned m) const noexcept;

    uint64_t seconds_ = 0;       ///< bit s: second s
    uint64_t minutes_ = 0;       ///< bit m: minute m
    uint32_t hours_ = 0;         ///< bit h: hour h
    uint32_t dom_ = 0;           ///< bit d-1: day of month d
    uint32_t dow_days_[7] = {};  ///< [weekday of the 1st] -> bits d-1 of the days whose weekday is in the field
    uint16_t months_ = 0;        ///< bit m-1: month m
    uint8_t flags_ = 0;
    time_zone tz_;
    std::string expr_;
};

}  // namespace vigy::host

#endif  // VIGY_HOST_CRON_HPP
