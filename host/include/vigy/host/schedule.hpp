/// vigy/host/schedule.hpp — what a vigy's schedule is, as data: the kind
/// (every | cron | once | trigger), its parameters, jitter, catch-up and
/// supervision; parsing from the CLI's flags, validation, a compact JSON form
/// for the store, and a one-line summary for `list`/`inspect`. Pure code: the
/// runtime's scheduler uses it, nothing here touches a clock or a thread.
///
///   every    `--every 10s` (or a bare number of ms): fixed rate, first tick at once
///   cron     `--cron "EXPR" [--tz ZONE]` (see cron.hpp)
///   once     `--once [--at TIME]`: runs once (at TIME, or as soon as served), then Completed
///   trigger  `--on TRIGGER` only: ticks when triggered (see trigger below)
/// `--on` may also be given with `--every` or `--cron` (a controller that
/// reacts to changes and also resyncs on a timer); the kind is then the timer's.
///
/// Units: times are int64 epoch milliseconds (UTC), durations int64 ms.
/// Errors: every parse/validate function throws
/// vigy::sdk::status_error(VIGY_INVALID_ARGUMENT) with a message naming the
/// flag or field and the bad value ("--jitter 150%: must be at most 100%").
/// Threading: plain immutable values after construction; any thread.
#ifndef VIGY_HOST_SCHEDULE_HPP
#define VIGY_HOST_SCHEDULE_HPP

#include "vigy/host/cron.hpp"
#include "vigy/host/supervision.hpp"
#include "vigy/host/time_zone.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::host {

// ---- durations -----------------------------------------------------------------

/// "500ms", "10s", "5m", "2h", "1d", "1h30m" (units ms s m h d, each number a
/// non-negative integer; at least one number-unit pair; no blanks) -> ms.
/// Throws status_error INVALID_ARGUMENT: `invalid duration "5x" for --within:
/// expected a number and a unit (ms, s, m, h, d) such as 500ms, 10s or 1h30m`,
/// where `what` names the flag or field ("--within").
int64_t parse_duration_ms(std::string_view text, std::string_view what);
/// The shortest exact form: 90000 -> "1m30s", 1500 -> "1s500ms", 0 -> "0s".
std::string format_duration_ms(int64_t ms);

// ---- jitter ----------------------------------------------------------------------

/// `--jitter 10%` (a share of the interval between two fire times) or
/// `--jitter 30s` / `--jitter 500` (an absolute window; a bare number is ms).
struct jitter_spec {
    int64_t window_ms = 0;  ///< absolute window; used when percent == 0
    int32_t percent = 0;    ///< 1..100, or 0 for an absolute window (or none)

    bool none() const noexcept { return window_ms == 0 && percent == 0; }
    /// The window for a slot whose gap to the following slot is `period_ms`.
    int64_t window_for(int64_t period_ms) const noexcept;
    /// "10%", "30s", "" when none.
    std::string to_string() const;
    friend bool operator==(const jitter_spec&, const jitter_spec&) = default;
};

/// Parses a --jitter value. Throws status_error INVALID_ARGUMENT
/// ("--jitter 150%: must be between 1% and 100%").
jitter_spec parse_jitter(std::string_view text);

/// The fraction of a jitter window a vigy is offset by: a fixed function of
/// its id (FNV-1a 64 + a splitmix64 finaliser; stable across builds and
/// platforms), uniform over [0, 2^64).
uint64_t jitter_hash(std::string_view vigy_id) noexcept;

/// The deterministic delay in [0, window) added to a slot of vigy `vigy_id`,
/// where the window comes from `j` and the slot's period (`--every` interval,
/// or for cron the gap to the following fire time). Same id, same phase
/// across restarts; 0 when there is no jitter or the window is 0.
int64_t jitter_offset_ms(std::string_view vigy_id, int64_t period_ms, const jitter_spec& j) noexcept;

// ---- triggers ----------------------------------------------------------------------

enum class trigger_kind {
    event,      ///< another vigy emitted an event with a reason
    condition,  ///< a condition of another vigy changed status
    manual,     ///< `vigy trigger NAME [--payload JSON]` (or the API)
};
/// "event" | "condition" | "manual" (as in the tick's (vigy-trigger) map).
const char* to_string(trigger_kind k) noexcept;

/// One `--on` source.
///   event:VIGY/Reason      Reason: a CamelCase event reason, or * for any reason
///   condition:VIGY/Type    Type: a condition type ("Ready", "example.com/Ready"), or * for any
///   manual                 only explicit triggers (every vigy accepts those; this
///                          makes a vigy that ticks on nothing else)
/// VIGY is the other vigy's name: no '/', no blanks or control characters. Whether
/// it exists is checked by the runtime at register time.
struct trigger_spec {
    trigger_kind kind = trigger_kind::manual;
    std::string vigy;    ///< the source vigy's name ("" for manual)
    std::string detail;  ///< the reason (event) or condition type (condition); "*" = any

    /// "event:db/Changed", "condition:db/Ready", "manual".
    std::string to_string() const;
    /// True when `detail` is "*" or equals `value`.
    bool matches_detail(std::string_view value) const noexcept { return detail == "*" || detail == value; }
    friend bool operator==(const trigger_spec&, const trigger_spec&) = default;
};

/// Parses one --on value. Throws status_error INVALID_ARGUMENT
/// ("--on event:db: expected event:VIGY/Reason").
trigger_spec parse_trigger(std::string_view text);

// ---- the schedule spec ----------------------------------------------------------------

enum class schedule_kind { every, cron, once, trigger };
/// "every" | "cron" | "once" | "trigger".
const char* to_string(schedule_kind k) noexcept;

/// The smallest --every interval (as the runtime's fixed-rate scheduler).
inline constexpr int64_t min_every_ms = 100;
/// The default when no schedule flag is given: every 1 s (as before schedules existed).
inline constexpr int64_t default_every_ms = 1000;

/// The schedule flags as the CLI (or an API body) received them, unparsed.
/// Empty optionals were not given.
struct schedule_flags {
    std::optional<std::string> every;         ///< --every: "10s", "1500" (ms)
    std::optional<std::string> cron;          ///< --cron EXPR
    std::optional<std::string> tz;            ///< --tz ZONE (cron only)
    bool once = false;                        ///< --once
    std::optional<std::string> at;            ///< --at TIME (once only): RFC 3339 or +DURATION
    std::vector<std::string> on;              ///< --on TRIGGER, repeatable
    std::optional<std::string> jitter;        ///< --jitter PCT% | DURATION | MS
    std::optional<std::string> catch_up;      ///< --catch-up WINDOW (every/cron)
    std::optional<std::string> max_failures;  ///< --max-failures N
    std::optional<std::string> within;        ///< --within DURATION
    std::optional<std::string> cool_down;     ///< --cool-down DURATION
};

/// A vigy's complete schedule. Build it with parse_schedule_flags() or
/// schedule_from_json(); both validate. A default-constructed spec is
/// `every 1s`.
struct schedule_spec {
    schedule_kind kind = schedule_kind::every;
    int64_t every_ms = default_every_ms;  ///< every: the interval (>= min_every_ms)
    std::optional<cron_schedule> cron;    ///< cron: the parsed expression and its zone
    std::optional<int64_t> at_ms;         ///< once: when; nullopt = as soon as served
    std::vector<trigger_spec> triggers;   ///< trigger (>= 1), or extra sources of every/cron
    jitter_spec jitter;                   ///< every/cron only
    int64_t catch_up_ms = 0;              ///< every/cron: missed-slot window, 0 = none
    supervision_spec supervision;

    /// The first slot strictly after `after_ms`, before jitter. `anchor_ms` is
    /// the fixed-rate phase of `every` (its first tick; slots are anchor +
    /// k * every_ms). once: at_ms (or anchor_ms when absent) if after
    /// `after_ms`; trigger: nullopt.
    std::optional<int64_t> next_slot(int64_t after_ms, int64_t anchor_ms) const;

    /// The period used for a percent jitter of the slot at `slot_ms`: every_ms,
    /// or for cron the gap to the following fire time; 0 for once/trigger.
    int64_t period_at(int64_t slot_ms) const;

    /// Checks the cross-field rules (also done by the parsers). Throws
    /// status_error INVALID_ARGUMENT.
    void validate() const;

    /// {"kind":"cron","cron":"*/5 * * * *","tz":"Europe/Berlin","on":["event:db/Changed"],
    ///  "jitter":"10%","catch_up_ms":3600000,"max_failures":5,"within_ms":60000,"cool_down_ms":0}
    /// Members at their default are left out ({"kind":"every","every_ms":1000} is
    /// the default spec). Stable: the store keeps this text.
    std::string to_json() const;
    /// "every 10s", "cron 30 2 * * * (America/New_York)", "once at 2026-12-01T09:00:00Z",
    /// "once", "on event:db/Changed", then ", on …", ", jitter 10%", ", catch-up 1h",
    /// ", degrade after 3 failures in 10m" when not the defaults.
    std::string summary() const;

    friend bool operator==(const schedule_spec& a, const schedule_spec& b);
};

/// Builds and validates a spec from flags. `now_ms` resolves `--at +5m` and
/// refuses an `--at` in the past. Throws status_error INVALID_ARGUMENT, e.g.
/// "--once and --every are mutually exclusive: give one schedule",
/// "--tz needs --cron", "--cron "* * *": expected 5 fields ...".
schedule_spec parse_schedule_flags(const schedule_flags& flags, int64_t now_ms);

/// Parses to_json() text (strict: unknown members, wrong types and invalid
/// values are errors naming the member). An `at_ms` in the past is accepted.
schedule_spec schedule_from_json(std::string_view json);

// ---- missed slots ---------------------------------------------------------------------

/// Whether a catch-up tick is due when serve starts (or a vigy is resumed) at
/// `now_ms`, like systemd's Persistent= and a Kubernetes CronJob's
/// startingDeadlineSeconds: the most recent slot S with since_ms < S <= now_ms
/// and now_ms - S <= spec.catch_up_ms, or nullopt. At most one tick, never a
/// burst, however many slots were missed. `since_ms` is the scheduled time of
/// the last slot that ran (or the time the vigy was registered or enabled, if
/// none ran: a new vigy has missed nothing). `anchor_ms` as in next_slot.
/// nullopt for once/trigger kinds and when catch_up_ms is 0.
std::optional<int64_t> catch_up_slot(const schedule_spec& spec, int64_t since_ms, int64_t now_ms, int64_t anchor_ms);

}  // namespace vigy::host

#endif  // VIGY_HOST_SCHEDULE_HPP
