/// vigy/host/supervision.hpp — a vigy's lifecycle state (one explicit type
/// used everywhere: store, runtime, CLI, API) and supervision in the
/// Erlang/OTP sense: a restart-intensity rule that marks a vigy Degraded when
/// it fails too often, instead of retrying forever.
///
/// Restart intensity (OTP supervisor flags intensity/period; systemd
/// StartLimitBurst/StartLimitIntervalSec): when a vigy's runs fail
/// `max_failures` times within `within_ms`, it becomes Degraded with the last
/// error and is not ticked until an operator enables or resets it, or until
/// the optional cool-down has passed. Successes in between do not clear the
/// window (as in OTP, it counts failures in a sliding window). The backoff
/// between failed attempts is the runtime's business and unchanged.
///
/// Units: times are int64 epoch milliseconds, durations int64 milliseconds.
/// Errors: lifecycle_state_from_string() and supervision_spec::validate()
/// throw vigy::sdk::status_error(VIGY_INVALID_ARGUMENT).
/// Threading: plain values; a failure_window is used by one thread at a time.
#ifndef VIGY_HOST_SUPERVISION_HPP
#define VIGY_HOST_SUPERVISION_HPP

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace vigy::host {

// ---- lifecycle ---------------------------------------------------------------

/// Where a vigy stands. Only `enabled` vigies are ticked by serve.
enum class lifecycle_state {
    enabled,    ///< ticked on its schedule (and its triggers)
    disabled,   ///< stopped by an operator (`vigy disable`)
    degraded,   ///< stopped by supervision after too many failures (condition Degraded=True)
    completed,  ///< a --once vigy that has run; its last run and result are kept
};

/// "Enabled" | "Disabled" | "Degraded" | "Completed" (the stored and shown form).
const char* to_string(lifecycle_state s) noexcept;
/// The inverse of to_string, case-insensitive; throws status_error
/// INVALID_ARGUMENT `unknown lifecycle state "x" (known: Enabled, Disabled, Degraded, Completed)`.
lifecycle_state lifecycle_state_from_string(std::string_view s);
/// The inverse of to_string, case-insensitive; nullopt when unknown.
std::optional<lifecycle_state> parse_lifecycle_state(std::string_view s) noexcept;

/// What moves a vigy between states.
enum class lifecycle_event {
    enable,             ///< `vigy enable`
    disable,            ///< `vigy disable`
    reset,              ///< `vigy reset`: clears supervision; a Degraded vigy is Enabled again
    degrade,            ///< supervision tripped (failure_window::record returned true)
    cool_down_elapsed,  ///< a Degraded vigy's cool-down has passed
    complete,           ///< a --once vigy finished its run (ok or failed)
    reregister,         ///< `vigy register` with a new revision or schedule (not --disabled)
};

/// "enable", "disable", ... (for logs and errors).
const char* to_string(lifecycle_event e) noexcept;

/// The state after `e` in state `s`, or nullopt when `e` does not apply in
/// `s` (the caller keeps `s`; e.g. `degrade` on a Disabled vigy, which does
/// not tick). The table (rows: from; "-" = does not apply):
///
///               enable     disable   reset      degrade   cool_down  complete   reregister
///   Enabled     Enabled    Disabled  Enabled    Degraded  -          Completed  Enabled
///   Disabled    Enabled    Disabled  Disabled   -         -          -          Disabled
///   Degraded    Enabled    Disabled  Enabled    Degraded  Enabled    -          Enabled
///   Completed   Completed  Disabled  Completed  -         -          Completed  Enabled
///
/// `enable` does not re-run a Completed one-shot (register it again, or
/// `vigy tick` it); `reregister` keeps an operator's Disabled.
std::optional<lifecycle_state> transition(lifecycle_state s, lifecycle_event e) noexcept;

/// True when serve ticks a vigy in state `s` (only Enabled).
constexpr bool is_scheduled(lifecycle_state s) noexcept { return s == lifecycle_state::enabled; }

// ---- restart intensity ----------------------------------------------------------

/// `--max-failures N --within DURATION [--cool-down DURATION]`.
struct supervision_spec {
    /// Defaults: 5 failures within 1 minute, no cool-down. The runtime retries
    /// a failed tick after 1 s, 2 s, 4 s, 8 s, ... (capped at 30 s), so a vigy
    /// that fails every attempt reaches 5 failures within ~15 s and trips;
    /// one that fails now and then (fewer than 5 a minute) keeps running.
    /// (OTP's default 1 restart in 5 s suits processes restarted at once, not
    /// ticks spaced by a backoff; systemd's default burst is 5 as well.)
    static constexpr int64_t default_max_failures = 5;
    static constexpr int64_t default_within_ms = 60'000;

    int64_t max_failures = default_max_failures;  ///< >= 1, or 0 = never degrade
    int64_t within_ms = default_within_ms;        ///< > 0
    int64_t cool_down_ms = 0;                     ///< 0 = none: stays Degraded until enable/reset

    /// Throws status_error INVALID_ARGUMENT naming the flag:
    /// "--max-failures -1 must be >= 0 (0 = never degrade)", "--within 0s must be > 0".
    void validate() const;
    bool is_default() const noexcept {
        return max_failures == default_max_failures && within_ms == default_within_ms && cool_down_ms == 0;
    }
    friend bool operator==(const supervision_spec&, const supervision_spec&) = default;
};

/// The sliding window of recent failures of one vigy: feed it every run's
/// result in order; it says when the vigy trips into Degraded. Keeps at most
/// max_failures timestamps. Rebuild it after a restart by feeding the stored
/// runs oldest first.
class failure_window {
public:
    explicit failure_window(supervision_spec spec = {}) : spec_(spec) {}

    /// Records one finished run at `at_ms` (its end time; non-decreasing).
    /// Returns true exactly when this failure makes max_failures failures
    /// within within_ms (the vigy becomes Degraded; `last_error()` says why).
    /// After tripping, further failures return false until clear().
    bool record(int64_t at_ms, bool ok, std::string_view error = {});

    /// Failures counted now (those within within_ms of the newest one).
    std::size_t failures() const noexcept { return times_.size(); }
    /// The error of the newest failure ("" when none).
    const std::string& last_error() const noexcept { return last_error_; }
    /// When it tripped, if it did since the last clear().
    std::optional<int64_t> tripped_at() const noexcept { return tripped_at_; }
    /// When a tripped window's cool-down ends (nullopt: not tripped, or no cool-down).
    std::optional<int64_t> cool_down_until() const noexcept;
    /// True when tripped, a cool-down is set and `now_ms` has reached its end.
    bool cool_down_elapsed(int64_t now_ms) const noexcept;
    /// Forgets every failure and the trip (enable, reset, cool-down elapsed, new revision).
    void clear() noexcept;

    const supervision_spec& spec() const noexcept { return spec_; }

private:
    supervision_spec spec_;
    std::deque<int64_t> times_;
    std::string last_error_;
    std::optional<int64_t> tripped_at_;
};

}  // namespace vigy::host

#endif  // VIGY_HOST_SUPERVISION_HPP
