/// vigy/host/tick_context.hpp — the per-tick context (the original's VigyHost).
///
/// A `tick_context` implements the sdk's `vigy_tick_api` (sdk/include/vigy/tick.h)
/// for one tick: tick metadata, the output buffers a program fills (actions,
/// desired, observed, conditions, log, trace, metrics, events, output text) and
/// the vigy's persistent kv, tracked for saving (dirty upserts + deleted keys).
/// The runtime builds one per tick, hands `tick()` to the reconciler, then reads
/// every buffer (typed accessors, or the `*_json()` texts) to persist them with the
/// run; `changes()` is what to save when the tick succeeded.
///
/// The kv is either owned (tick_params::kv, a copy) or borrowed (tick_params::kv_view:
/// the runtime's cached kv, read in place, never copied); writes always go to the
/// context's own overlay, so a failed tick leaves the borrowed kv untouched and a
/// successful one moves its changes in with apply_changes().
///
/// Tick clock: the runtime passes tick_count and previous_tick_ms (recovered from
/// the vigy's runs; nothing is written to kv for them). `tick_context::begin`
/// keeps the original vigy's bookkeeping for tools that want it: it reads
/// `__sys::tick_count` / `__sys::prev_tick_ms` from the kv and writes both back as
/// dirty (tick_count incremented, prev_tick_ms = this tick's start), so a program
/// that reads them sees the count and the previous start it saw there before.
///
/// Conditions follow Kubernetes: a condition has a `type` and a status "True",
/// "False" or "Unknown"; the latest per type wins within a tick, and
/// `last_transition_ms` is carried from the previous tick's condition of the same
/// type (passed in at construction) unless the status changed, in which case it is
/// this tick's start.
///
/// Valid data: every string a plugin hands in (keys, values nested in a vigy_value,
/// action kinds/results/messages, log lines, condition and event texts, the output)
/// must be valid UTF-8; a slot given anything else stores nothing and returns
/// INVALID_ARGUMENT naming the field and the byte offset (set_output, which has no
/// status, records the problem: `output_error()`), so every buffer is valid JSON.
///
/// JSON: every `*_json()` returns compact JSON text (the `append_*` forms append to a
/// caller's buffer, reusing its capacity); timestamps are RFC 3339 UTC strings with
/// milliseconds; optional fields are omitted when absent.
///
/// Grants and trigger: `set_grants` points the tick at its vigy's capability
/// set (capabilities.hpp; none = the defaults only), which the registry's
/// intrinsic trampoline checks; `set_trigger` records why the tick runs, which
/// the `info` slot reports as vigy_tick_info.trigger (ABI 1.1).
///
/// Threading: one tick_context is used by the thread running its tick; the only
/// cross-thread call is `cancel()`. Not copyable or movable (the C handle points
/// into it).
#ifndef VIGY_HOST_TICK_CONTEXT_HPP
#define VIGY_HOST_TICK_CONTEXT_HPP

#include "vigy/host/time.hpp"
#include "vigy/host/value.hpp"
#include "vigy/tick.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigy::host {

class capability_set;

/// The vigy's persistent kv: key -> value (sorted by key).
using kv_map = std::map<std::string, value, std::less<>>;

/// One recorded reconcile action: a kind, an optional payload, and the result and
/// message of carrying it out (actions are recorded, not executed, by the host).
struct action_record {
    std::string kind;                   ///< noop|defer|pull|push|create|update|delete|apply|restart|custom
    std::optional<value> payload;       ///< absent = omitted from JSON
    std::optional<std::string> result;  ///< ok|failed|skipped
    std::optional<std::string> message;
};

/// One condition (Kubernetes style).
struct condition_record {
    std::string type;
    std::string status;  ///< "True" | "False" | "Unknown"
    std::optional<std::string> reason;
    std::optional<std::string> message;
    int64_t last_transition_ms = 0;  ///< epoch ms
};

struct log_record {
    std::string level;  ///< trace|debug|info|warn|error
    std::string message;
};

struct event_record {
    std::string type;  ///< "Normal" | "Warning"
    std::string reason;
    std::string message;
};

/// What to save after a successful tick: every dirty key still present, and
/// every deleted key (a key set then deleted in the same tick ends deleted).
struct kv_changes {
    kv_map upserts;
    std::set<std::string, std::less<>> deleted;
};

/// tick_count / previous_tick_ms derived from the original's reserved kv keys.
struct tick_clock {
    int64_t tick_count = 1;         ///< `__sys::tick_count` + 1 (missing or non-int counts as 0)
    int64_t previous_tick_ms = -1;  ///< `__sys::prev_tick_ms`, -1 when absent (first tick)
};

/// The original's reserved kv keys (tick_context::begin only).
inline constexpr std::string_view kv_key_tick_count = "__sys::tick_count";
inline constexpr std::string_view kv_key_prev_tick_ms = "__sys::prev_tick_ms";

/// Reads the reserved keys of a loaded kv. Never throws.
tick_clock tick_clock_from_kv(const kv_map& kv) noexcept;

/// Everything a tick_context is built from.
struct tick_params {
    int64_t tick_start_ms = 0;      ///< epoch ms (UTC)
    int64_t previous_tick_ms = -1;  ///< epoch ms of the previous successful tick, -1 on the first
    int64_t tick_count = 1;         ///< 1 on the first tick
    std::string vigy_name;          ///< "" outside a registered vigy
    std::string vigy_id;
    kv_map kv;                                                       ///< owned kv (ignored when kv_view is set)
    const kv_map* kv_view = nullptr;                                 ///< borrowed kv: must outlive the context
    std::vector<condition_record> previous_conditions;               ///< owned (ignored when conditions_view is set)
    const std::vector<condition_record>* conditions_view = nullptr;  ///< borrowed previous conditions
    /// The vigy's capability grants (capabilities.hpp); nullptr = the defaults only.
    /// Borrowed: must outlive the context.
    const capability_set* grants = nullptr;
};

/// The valid action kinds / results, as the comma-separated lists error messages show.
inline constexpr std::string_view valid_action_kinds =
    "noop, defer, pull, push, create, update, delete, apply, restart, custom";
inline constexpr std::string_view valid_action_results = "ok, failed, skipped";

/// True when `kind` is one of valid_action_kinds.
bool is_valid_action_kind(std::string_view kind) noexcept;

/// The byte offset of the first invalid UTF-8 sequence in `s` (overlong forms,
/// surrogates and code points above U+10FFFF are invalid), or npos when valid.
std::size_t invalid_utf8_at(std::string_view s) noexcept;

/// The host side of one tick. See the file comment.
class tick_context {
public:
    explicit tick_context(tick_params params);
    tick_context(const tick_context&) = delete;
    tick_context& operator=(const tick_context&) = delete;

    /// Builds the context for a tick starting at `now_ms` from the loaded kv the way
    /// the original vigy does: tick_count/previous_tick_ms from tick_clock_from_kv(kv),
    /// then `__sys::tick_count = tick_count` and `__sys::prev_tick_ms = now_ms` written
    /// into the kv as dirty (the last step of setting up a tick).
    static tick_context begin(kv_map kv, int64_t now_ms, std::string vigy_name = {}, std::string vigy_id = {},
                              std::vector<condition_record> previous_conditions = {});

    /// The C handle to pass to a reconciler's tick(); valid for this object's life.
    vigy_tick* tick() noexcept { return &c_.tick; }
    /// The tick_context behind a handle made by tick() (no check).
    static tick_context* from(vigy_tick* t) noexcept;

    /// Asks the tick to stop early (the `cancelled` slot turns nonzero). Any thread.
    void cancel() noexcept { cancelled_.store(true, std::memory_order_relaxed); }

    // ---- mechanism (what the C slots call; also usable from C++). Each throws
    // std::invalid_argument on a bad kind/status/level or invalid UTF-8. ----

    /// Appends an action; kind/result validated (std::invalid_argument listing the valid ones).
    void emit_action(action_record a);
    void set_desired(std::string_view key, value v);
    void set_observed(std::string_view key, value v);
    /// status "True"|"False"|"Unknown".
    void set_condition(std::string_view type, std::string_view status, std::optional<std::string> reason,
                       std::optional<std::string> message);
    /// level trace|debug|info|warn|error.
    void log(std::string_view level, std::string_view message);
    void trace(std::string_view key, value v);
    void metric(std::string_view name, double v);
    /// type "Normal"|"Warning".
    void event(std::string_view type, std::string_view reason, std::string_view message);
    const value* kv_get(std::string_view key) const noexcept;
    void kv_set(std::string_view key, value v);
    bool kv_has(std::string_view key) const noexcept;
    /// Removes the key; marks it deleted when it existed. Absent key: no-op.
    void kv_del(std::string_view key);
    /// Sets the printed output. Invalid UTF-8 is not stored: output_error() says why.
    void set_output(std::string text);

    // ---- grants and trigger ----

    /// The capability set of the tick's vigy, borrowed: it must outlive the
    /// tick. nullptr (the default) means the default capabilities only.
    void set_grants(const capability_set* grants) noexcept {
        grants_ = grants;
        grant_memo_ = grant_memo{};
    }
    const capability_set* grants() const noexcept { return grants_; }

    /// Why this tick runs: a map {"kind", "source", "payload"} for a triggered
    /// tick, nullopt (the default) for a scheduled or forced one. The `info`
    /// slot hands it to plugins as vigy_tick_info.trigger until the tick ends.
    /// Throws std::bad_alloc only.
    void set_trigger(std::optional<value> trigger);
    const std::optional<value>& trigger() const noexcept { return trigger_; }

    /// The registry's per-tick memo of grants_ resolved to its capability
    /// indexes (registry_intrinsics.cpp); reset by set_grants. Not for other use.
    struct grant_memo {
        const void* owner = nullptr;  ///< the registry that resolved `bits`
        std::vector<uint64_t> bits;   ///< bit i set: the registry's capability i is granted
    };
    grant_memo& memo_of_grants() noexcept { return grant_memo_; }

    // ---- reading the tick out ----
    int64_t tick_start_ms() const noexcept { return tick_start_ms_; }
    int64_t previous_tick_ms() const noexcept { return previous_tick_ms_; }
    int64_t tick_count() const noexcept { return tick_count_; }
    const std::string& vigy_name() const noexcept { return vigy_name_; }
    const std::string& vigy_id() const noexcept { return vigy_id_; }

    const std::vector<action_record>& actions() const noexcept { return actions_; }
    const value& desired() const noexcept { return desired_; }    ///< a map
    const value& observed() const noexcept { return observed_; }  ///< a map
    /// Conditions set during this tick (latest per type, first-set order).
    const std::vector<condition_record>& conditions() const noexcept { return conditions_; }
    /// This tick's conditions plus every previous condition not set this tick
    /// (what to pass as previous conditions to the next tick).
    std::vector<condition_record> merged_conditions() const;
    const std::vector<log_record>& log_lines() const noexcept { return log_; }
    const value& traces() const noexcept { return trace_; }  ///< a map
    const std::vector<std::pair<std::string, double>>& metrics() const noexcept { return metrics_; }
    const std::vector<event_record>& events() const noexcept { return events_; }
    const std::string& output() const noexcept { return output_; }
    /// Why the output was refused ("" when it was not): invalid UTF-8 at a byte offset.
    const std::string& output_error() const noexcept { return output_error_; }
    /// Owned kv: the whole kv as it stands (loaded + this tick's changes). Borrowed
    /// kv: only this tick's writes (read the rest through kv_get).
    const kv_map& kv() const noexcept { return kv_; }
    kv_changes changes() const;
    /// Moves this tick's kv changes into `target` (the borrowed kv after a successful
    /// tick): upserts moved in, deletions erased. The context's kv is left empty.
    void apply_changes(kv_map& target);
    /// This tick's kv changes for the store, replacing the contents of `upserts`
    /// (key, value JSON) and `deletes` (keys), reusing their capacity.
    void kv_changes_for_store(std::vector<std::pair<std::string, std::string>>& upserts,
                              std::vector<std::string>& deletes) const;

    // JSON texts (compact) of each buffer.
    std::string actions_json() const;     ///< [{"kind":..,"payload"?,"result"?,"message"?}]
    std::string desired_json() const;     ///< {key: value}
    std::string observed_json() const;    ///< {key: value}
    std::string conditions_json() const;  ///< [{"type","status","reason"?,"message"?,"last_transition"}]
    std::string log_json() const;         ///< [{"level","message"}]
    std::string trace_json() const;       ///< {key: value}
    std::string metrics_json() const;     ///< {name: number|null}
    std::string events_json() const;      ///< [{"type","reason","message"}]
    std::string kv_changes_json() const;  ///< {"set":{key: value},"deleted":[key]}
    /// The same texts appended to `out` (which keeps its capacity across ticks).
    void append_actions_json(std::string& out) const;
    void append_desired_json(std::string& out) const;
    void append_observed_json(std::string& out) const;
    void append_conditions_json(std::string& out) const;
    void append_log_json(std::string& out) const;
    void append_trace_json(std::string& out) const;
    void append_metrics_json(std::string& out) const;
    void append_events_json(std::string& out) const;
    /// {key: value} of the kv written / [key] of the kv deleted this tick.
    void append_kv_writes_json(std::string& out) const;
    void append_kv_deletes_json(std::string& out) const;
    /// Everything in one object: {"tick":{"start","start_ms","previous_tick_ms","tick_count"},
    /// "actions","desired","observed","conditions","log","trace","metrics","events",
    /// "output","kv_changes"}.
    std::string to_json() const;

private:
    tick_context(tick_params params, bool write_clock);
    const std::vector<condition_record>& previous_conditions() const noexcept {
        return previous_view_ ? *previous_view_ : previous_conditions_;
    }

    struct c_handle {
        vigy_tick tick;  // first: a vigy_tick* is a c_handle*
        tick_context* self;
    };

    c_handle c_;
    std::atomic<bool> cancelled_{false};
    int64_t tick_start_ms_;
    int64_t previous_tick_ms_;
    int64_t tick_count_;
    std::string vigy_name_;
    std::string vigy_id_;
    std::vector<action_record> actions_;
    value desired_ = value::map();
    value observed_ = value::map();
    std::vector<condition_record> previous_conditions_;
    const std::vector<condition_record>* previous_view_ = nullptr;
    std::vector<condition_record> conditions_;
    std::vector<log_record> log_;
    value trace_ = value::map();
    std::vector<std::pair<std::string, double>> metrics_;
    std::vector<event_record> events_;
    std::string output_;
    std::string output_error_;
    kv_map kv_;                        // owned kv, or this tick's writes over kv_view_
    const kv_map* kv_view_ = nullptr;  // borrowed kv
    std::set<std::string, std::less<>> dirty_;
    std::set<std::string, std::less<>> deleted_;
    const capability_set* grants_ = nullptr;
    grant_memo grant_memo_;
    std::optional<value> trigger_;
    std::unique_ptr<arena> trigger_arena_;  // holds trigger_c_ (only when a trigger is set)
    vigy_value trigger_c_{};

    friend struct tick_slots;
};

/// The C vtable every tick_context hands out (static; lives forever).
const vigy_tick_api& tick_api() noexcept;

/// Parses what conditions_json() wrote (e.g. the previous run's conditions). Accepts
/// the pre-schema-3 shape too ("name" for the type, lowercase statuses). Throws
/// json_error on malformed input. `last_transition` may also be epoch ms.
std::vector<condition_record> conditions_from_json(std::string_view text);
/// JSON text of a condition list (same shape as tick_context::conditions_json).
std::string conditions_to_json(const std::vector<condition_record>& conditions);

}  // namespace vigy::host

#endif  // VIGY_HOST_TICK_CONTEXT_HPP
