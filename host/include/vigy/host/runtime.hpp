/// vigy/host/runtime.hpp — the embedding API: `vigy::Runtime` (= vigy::host::runtime).
///
/// A runtime opens one vigy database (SQLite through the store), loads the
/// reconciler and extension plugins (directories and/or in-process plugins),
/// and offers every operation the `vigy` CLI and an embedding application
/// need: register/update, enable, disable, delete, read (vigies, runs, kv,
/// conditions, events), force a tick, subscribe to committed runs, and serve
/// (schedule every enabled vigy: Asio timers, one strand per vigy, fixed rate
/// without drift, failure backoff, per-tick limits, group-committed runs).
///
/// One scheduler per database: `start()`/`serve()` takes the store's scheduler
/// lease; a second scheduler on the same database is refused with a message
/// naming the holder's pid. A runtime that does not serve never ticks on its
/// own: `tick_now` runs the tick on the serving process (in-process on the
/// vigy's strand, or through the store's tick-request queue when another
/// process serves) or, when nobody serves, under a briefly held lease. So a
/// forced tick never races the scheduler on the same vigy (no lost kv update).
///
/// Units: durations and intervals in milliseconds (int64), timestamps in
/// milliseconds since the Unix epoch (UTC), sizes in bytes.
///
/// Errors: every fallible method throws `vigy::host::runtime_error` whose
/// `code()` says what kind of failure it is (invalid argument, not found, a
/// scheduler already serving, ...) and whose what() is a lowercase diagnostic
/// without trailing period, fit to print after "error: ". A tick whose program
/// fails is NOT an error: it is a run with `result == run_result::failed`.
///
/// Threading: every public method is thread-safe and may be called from any
/// thread, including from a subscriber callback (except `stop`/`serve`/the
/// destructor, which must not be called from a runtime thread or a callback).
#ifndef VIGY_HOST_RUNTIME_HPP
#define VIGY_HOST_RUNTIME_HPP

#include "vigy/host/registry.hpp"
#include "vigy/plugin.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::host {

// ---- errors ------------------------------------------------------------------

/// What kind of failure a runtime_error is (canonical codes, as in status.h).
enum class errc {
    invalid_argument,     ///< bad name, interval < 100 ms, bad JSON, unknown kind, bad selector
    not_found,            ///< no vigy with that name or id
    already_exists,       ///< reserved (register of an existing name updates it)
    failed_precondition,  ///< e.g. another process is already serving this database
    unavailable,          ///< the database is busy/locked beyond the timeout; retry
    deadline_exceeded,    ///< tick_now waited too long for the serving process
    internal,             ///< a bug or an unexpected store failure
};

/// The exception every fallible runtime method throws.
class runtime_error : public std::runtime_error {
public:
    runtime_error(errc code, const std::string& what) : std::runtime_error(what), code_(code) {}
    errc code() const noexcept { return code_; }

private:
    errc code_;
};

/// "invalid-argument", "not-found", ... (stable strings).
const char* errc_name(errc code) noexcept;

// ---- data --------------------------------------------------------------------

/// Per-tick limits. 0 in a vigy's limits means "the runtime's default"
/// (runtime_options::default_limits), which defaults to the values below.
struct tick_limits {
    uint64_t fuel = 0;          ///< evaluation steps per tick
    uint64_t wall_ms = 0;       ///< wall-clock ms per tick
    uint64_t memory_bytes = 0;  ///< bytes allocated during one tick
    uint64_t max_depth = 0;     ///< non-tail recursion depth

    friend bool operator==(const tick_limits&, const tick_limits&) = default;
};

/// The runtime's safe defaults: 10,000,000 steps, 5000 ms, 64 MiB, depth 10,000.
tick_limits default_tick_limits() noexcept;

/// Labels: key -> value (sorted by key).
using label_map = std::map<std::string, std::string>;

/// What to register. Same `name` as an existing vigy = update it (a new
/// revision when kind/config changed; the id, kv and history are kept).
struct vigy_spec {
    std::string name;               ///< identity a user types: non-empty, <= 253 bytes, no control characters
    std::string kind = "lisp";      ///< a loaded reconciler kind ("lisp", "chain", "noop", ...)
    std::string config_json;        ///< JSON object or ""; lisp: {"program": text, "source_name": file}
    int64_t interval_ms = 1000;     ///< >= 100
    label_map labels;               ///< keys 1..253 chars of [A-Za-z0-9-_./]; replaces the labels wholesale
    std::optional<bool> enabled;    ///< nullopt: a new vigy is enabled, an existing one keeps its state
    tick_limits limits;             ///< 0 fields = runtime defaults
};

/// What register_or_update did.
enum class register_outcome {
    created,    ///< the name was new
    updated,    ///< something changed (revision, interval, labels, limits or enabled)
    unchanged,  ///< identical to what was stored; nothing written
};
/// "created" | "updated" | "unchanged".
const char* register_outcome_name(register_outcome o) noexcept;

/// A stored vigy.
struct vigy_info {
    std::string id;           ///< 16 lowercase hex digits derived from the name; stable across updates
    std::string name;
    std::string kind;
    std::string config_json;  ///< as registered ("" when none)
    std::string revision;     ///< content hash of kind + config (16 hex), changes with edits
    int64_t interval_ms = 1000;
    label_map labels;
    bool enabled = true;
    tick_limits limits;       ///< as registered (0 = default)
    int64_t created_ms = 0;
    int64_t updated_ms = 0;
};

/// Result of register_or_update: the stored vigy after the call (a vigy_info, so it
/// can be used as one) plus what the call did.
struct register_result : vigy_info {
    register_outcome outcome = register_outcome::created;
    std::string previous_revision;  ///< updated/unchanged: the revision before the call; "" when created
};

/// Outcome of a run (reference/vigy.md §1.6).
enum class run_result { ok, failed, skipped };
/// "ok" | "failed" | "skipped".
const char* run_result_name(run_result r) noexcept;

/// Why a run happened.
enum class run_trigger { schedule, forced };
/// "schedule" | "forced".
const char* run_trigger_name(run_trigger t) noexcept;

/// One tick of one vigy, as committed (subscribe) or read back (recent_runs,
/// runs_after). Buffers are compact JSON text exactly as stored.
struct run {
    std::string id;         ///< UUIDv7
    int64_t seq = 0;        ///< the store's commit cursor (monotonic per database); 0 if not persisted (evaluate)
    std::string vigy_id;
    std::string vigy_name;
    std::string revision;   ///< revision hash the tick ran
    run_trigger trigger = run_trigger::schedule;  ///< (*) see kv_writes_json
    int64_t started_ms = 0;
    int64_t ended_ms = 0;
    int64_t duration_us = 0;  ///< reconciler tick time (monotonic clock), µs (read back too; ms precision for runs
                              ///< recorded by a vigy before schema 2)
    run_result result = run_result::ok;
    std::string error;        ///< failed: the reason (e.g. "parse error at 3:7: ...", "fuel exhausted ...")
    int64_t tick_count = 0;   ///< (*) the tick_count the program saw (successful ticks so far + 1)
    std::string output;       ///< the reconciler's printed result (lisp: last form), may be ""
    std::string actions_json = "[]";     ///< [{"kind","payload"?,"result"?,"message"?}, ...]
    std::string desired_json = "{}";     ///< {key: value}
    std::string observed_json = "{}";    ///< {key: value}
    std::string conditions_json = "[]";  ///< conditions set this tick [{"type","status","reason"?,"message"?}]
    std::string log_json = "[]";         ///< [{"level","message"}]
    std::string trace_json = "{}";       ///< {key: value}
    std::string metrics_json = "{}";     ///< {name: number}
    std::string events_json = "[]";      ///< events emitted this tick [{"type","reason","message"}]
    /// kv committed with the run: {key: value} / [key]; always {} / [] when failed.
    /// (*) These and the fields marked (*) are kept with the run and read back as
    /// delivered; runs recorded by a vigy before schema 2 read back {} / [] / 0 / schedule.
    std::string kv_writes_json = "{}";
    std::string kv_deletes_json = "[]";
};
// A failed run keeps the diagnostic buffers (log, trace, metrics, output) and
// drops the effects (actions, desired, observed, conditions, events, kv).

/// One kv entry of a vigy.
struct kv_entry {
    std::string key;
    std::string value_json;
    int64_t updated_ms = 0;  ///< Unix ms the entry was last written (ended_at of that run)
};

/// A condition (Kubernetes semantics: latest per type; last_transition_ms
/// moves only when the status changes).
struct condition {
    std::string type;
    std::string status;  ///< "True" | "False" | "Unknown"
    std::string reason;
    std::string message;
    int64_t last_transition_ms = 0;
    int64_t updated_ms = 0;
};

/// A deduplicated event (type + reason + message), as in client-go's recorder.
struct event {
    std::string vigy_id;
    std::string type;  ///< "Normal" | "Warning"
    std::string reason;
    std::string message;
    int64_t count = 1;
    int64_t first_ms = 0;
    int64_t last_ms = 0;
};

/// Who holds the scheduler lease of the database.
struct scheduler_info {
    int64_t pid = 0;
    std::string hostname;
    int64_t acquired_ms = 0;
    int64_t expires_ms = 0;
    bool this_process = false;  ///< true when this runtime is the one serving
};

/// Serving statistics since start() (for `serve`'s status line and the bench).
struct runtime_stats {
    size_t scheduled = 0;        ///< vigies currently scheduled (enabled, on a timer)
    uint64_t ticks_ok = 0;
    uint64_t ticks_failed = 0;
    uint64_t ticks_forced = 0;   ///< of which forced (tick_now, tick requests)
    uint64_t runs_committed = 0;
    uint64_t commits = 0;        ///< store transactions (group commits)
    uint64_t skipped_slots = 0;  ///< schedule slots skipped because a tick overran
    double lateness_p50_ms = 0;  ///< scheduled fire -> tick start, over the last window
    double lateness_p99_ms = 0;
    double lateness_max_ms = 0;
};

/// An in-process plugin: its entry function (same contract as the exported
/// `vigy_plugin_entry` of a shared object; e.g. written with sdk.hpp). It is
/// called once with VIGY_ABI_VERSION and the descriptor added with
/// registry::add_static (origin "builtin:<name>").
struct static_plugin {
    std::string name;           ///< for listings and messages (e.g. "my-app")
    vigy_plugin_entry_fn entry = nullptr;
};

/// How to open a runtime.
struct runtime_options {
    /// Extra plugin directories (or single .so files), as --plugin-dir.
    std::vector<std::filesystem::path> plugin_dirs;
    /// true: registry::load_search_path(plugin_dirs) (built-in directory, then
    /// plugin_dirs, then $VIGY_PLUGIN_PATH). false: only plugin_dirs.
    bool default_plugin_dirs = true;
    /// In-process plugins (an application's own reconcilers/extensions), added
    /// BEFORE any file so their ids/kinds/intrinsics win on a clash.
    std::vector<static_plugin> static_plugins;
    /// Threads running timers/bookkeeping (>= 1).
    unsigned threads = 2;
    /// Threads running reconciler ticks (>= 1); 0 = max(4, 2 * hardware threads), at most 32.
    /// A tick that runs to its wall-clock limit occupies one of these.
    unsigned tick_threads = 0;
    /// Limits used where a vigy's own limit is 0. 0 fields here = default_tick_limits().
    tick_limits default_limits;
    /// Retention applied by the store's pruner while serving: keep at most
    /// this many runs per vigy (0 = no count limit) and runs younger than
    /// max_run_age_ms (0 = no age limit). Defaults: 1000 runs, 7 days.
    int64_t keep_runs = 1000;
    int64_t max_run_age_ms = 7LL * 24 * 3600 * 1000;
    /// How often a serving runtime checks the database for changes by other processes.
    int64_t poll_ms = 250;
};

/// RAII subscription: unsubscribes (and waits for a running callback) on
/// destruction or reset(). It may outlive its runtime (reset is then a no-op).
class subscription {
public:
    subscription() = default;
    subscription(subscription&&) noexcept;
    subscription& operator=(subscription&&) noexcept;
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription();
    /// Stops delivery now. Idempotent.
    void reset();
    explicit operator bool() const noexcept { return static_cast<bool>(cancel_); }

private:
    friend class runtime;
    explicit subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
    std::function<void()> cancel_;
};

// ---- the runtime -------------------------------------------------------------

/// The vigy runtime over one database. Not copyable; create with open().
class runtime {
public:
    /// Opens (creating if needed, with parent directories) the database at
    /// `db_path` and loads the plugins. Throws runtime_error: invalid_argument
    /// (bad options), failed_precondition (database from a newer vigy), or
    /// internal (cannot open/create the file: the message names it). Plugin
    /// load failures are not fatal: they are logged and listed by plugins().skipped().
    static std::unique_ptr<runtime> open(const std::filesystem::path& db_path, runtime_options options = {});

    /// $VIGY_DB if set, else ~/.local/share/vigy/vigy.db.
    static std::filesystem::path default_db_path();

    /// Stops serving if needed (as stop()), flushes the writer, closes the store.
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    const std::filesystem::path& db_path() const noexcept;

    // -- plugins ---------------------------------------------------------------
    /// The plugin registry (immutable once open() returned): plugins(),
    /// skipped(), kinds(), find_factory(). Lives as long as the runtime.
    const registry& plugins() const noexcept;
    /// Every reconciler kind loaded, sorted.
    std::vector<std::string> kinds() const;

    // -- vigies ----------------------------------------------------------------
    /// Validates and upserts by name. Validation: name syntax, interval_ms >=
    /// 100, config_json empty or a JSON object, kind loaded in this process
    /// (message lists the known kinds), labels syntax. A program that does not
    /// compile is NOT rejected here (its runs fail with the parse error); use
    /// check() to find out up front. If this runtime serves, the vigy is
    /// (re)scheduled at once (first tick right away when enabled or edited).
    /// Returns the stored vigy and the outcome (created / updated with the
    /// previous revision / unchanged, decided in the same transaction).
    register_result register_or_update(const vigy_spec& spec);

    /// Builds the reconciler for `spec` without registering it; returns the
    /// error message (e.g. "parse error at 3:7: ...") or nullopt when it builds.
    std::optional<std::string> check(const vigy_spec& spec) const;

    /// Enable/disable by name or id; not_found if absent. Returns the stored vigy.
    vigy_info enable(std::string_view name_or_id);
    vigy_info disable(std::string_view name_or_id);

    /// Deletes a vigy; with keep_history its runs/kv/events stay in the
    /// database (orphaned), otherwise they are deleted too. Returns false when
    /// there was no such vigy. An in-flight tick finishes; no later tick starts.
    bool remove(std::string_view name_or_id, bool keep_history = false);

    /// By name or id. get() throws not_found; find() returns nullopt.
    vigy_info get(std::string_view name_or_id) const;
    std::optional<vigy_info> find(std::string_view name_or_id) const;

    /// All vigies (by name) matching a label selector "k=v,k2=v2" (AND; "" =
    /// all). A clause without '=' or with an empty key: invalid_argument.
    std::vector<vigy_info> list(std::string_view selector = {}) const;

    // -- reads -----------------------------------------------------------------
    /// The newest `limit` runs of a vigy, newest first.
    std::vector<run> recent_runs(std::string_view name_or_id, size_t limit = 20) const;
    /// Committed runs with seq > after_seq in commit order (oldest first), at
    /// most `limit`; optionally of one vigy. This is `tail`'s cursor read: it
    /// sees every process's ticks.
    std::vector<run> runs_after(int64_t after_seq, size_t limit = 1000,
                                std::optional<std::string_view> name_or_id = std::nullopt) const;
    /// Runs that started at or after `since_ms`, oldest first (tail --since).
    std::vector<run> runs_since(int64_t since_ms, size_t limit = 1000,
                                std::optional<std::string_view> name_or_id = std::nullopt) const;
    /// The highest committed seq (0 for an empty database).
    int64_t last_seq() const;
    std::optional<run> find_run(std::string_view run_id) const;

    std::vector<kv_entry> kv(std::string_view name_or_id) const;
    std::vector<condition> conditions(std::string_view name_or_id) const;
    /// Newest first.
    std::vector<event> events(std::string_view name_or_id, size_t limit = 20) const;

    // -- ticking ---------------------------------------------------------------
    /// Runs one tick of the vigy now, regardless of its enabled flag, and
    /// returns the committed run (result ok or failed). Never races the
    /// scheduler on this vigy: when this runtime serves it runs on the vigy's
    /// strand; when another process serves it is queued to that process and
    /// awaited up to `wait_ms` (deadline_exceeded after); when nobody serves
    /// it runs here under a briefly held scheduler lease (unavailable if the
    /// lease cannot be had within wait_ms). not_found if there is no such vigy.
    run tick_now(std::string_view name_or_id, int64_t wait_ms = 5000);

    /// Evaluates `spec` once, outside any registered vigy, with empty kv and
    /// nothing persisted (`vigy eval`). Returns the run (seq 0; buffers filled;
    /// kv_writes_json shows what it would have written).
    run evaluate(const vigy_spec& spec) const;

    /// Calls `callback` with every run this process commits, after it is
    /// durable, in commit order. The callback runs on a runtime thread: keep it
    /// short; it may call read methods of the runtime. For runs of OTHER
    /// processes, poll runs_after() with a cursor.
    subscription subscribe(std::function<void(const run&)> callback);

    // -- serving ---------------------------------------------------------------
    /// Becomes the scheduler of this database: takes the scheduler lease
    /// (failed_precondition naming the holder's pid if another live process
    /// serves), schedules every enabled vigy (first tick at once), watches the
    /// database for other processes' changes and tick requests. Returns at once;
    /// ticks run on the runtime's threads. No-op if already serving.
    void start();
    /// Graceful stop: no new ticks, in-flight ticks finish, the writer is
    /// flushed, the lease released. Idempotent; blocks until done.
    void stop();
    /// start(), then block until stop() is called (from another thread or a
    /// signal handler's thread).
    void serve();
    /// True between start() and stop().
    bool serving() const noexcept;
    /// Names of the vigies currently scheduled (sorted).
    std::vector<std::string> scheduled() const;
    /// The current scheduler lease holder, if any (live lease).
    std::optional<scheduler_info> scheduler() const;
    runtime_stats stats() const;

    /// Implementation detail (public so that free helpers in the .cpp can name it).
    struct impl;

private:
    explicit runtime(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace vigy::host

namespace vigy {
/// The embedding API under its product name.
using Runtime = host::runtime;
using RuntimeOptions = host::runtime_options;
}  // namespace vigy

#endif  // VIGY_HOST_RUNTIME_HPP
