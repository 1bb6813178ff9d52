/// vigy/host/runtime.hpp — the embedding API: `vigy::Runtime` (= vigy::host::runtime).
///
/// A runtime opens one vigy database (SQLite through the store), loads the
/// reconciler and extension plugins (directories and/or in-process plugins),
/// and offers every operation the `vigy` CLI, the HTTP API and an embedding
/// application need: register/update, enable, disable, delete (each optionally a
/// compare-and-set on a resource version), read (vigies, pages, the change feed,
/// runs, kv, conditions, events), force a tick, evaluate a program in memory,
/// subscribe to committed runs, and serve (schedule every enabled vigy: one
/// scheduler thread over a timer heap, a pool of tick threads, fixed rate
/// without drift, failure backoff, per-tick limits, group-committed runs).
///
/// One scheduler per database: `start()`/`serve()` takes the store's scheduler
/// lease; a second scheduler on the same database is refused with a message
/// naming the holder's pid. Every commit of a scheduler carries its lease's
/// fencing token, so a scheduler paused past its lease cannot apply a stale
/// tick once another took over (vigy/store/store.hpp). A runtime that does not
/// serve never ticks on its own: `tick_now` runs the tick on the serving process
/// (in-process on the vigy's slot, or through the store's tick-request queue when
/// another process serves) or, when nobody serves, under a briefly held lease. So
/// a forced tick never races the scheduler on the same vigy (no lost kv update).
///
/// One representation: the records here are the store's (vigy_info is
/// store::vigy_record, run is store::run_record, ...), built once.
///
/// Units: durations and intervals in milliseconds (int64) unless a name says
/// `_us` (microseconds); timestamps in milliseconds since the Unix epoch (UTC);
/// sizes in bytes.
///
/// Errors: every fallible method throws `vigy::status_error` (vigy/error.hpp) whose
/// code() is a canonical status: INVALID_ARGUMENT (bad name, interval < 100 ms,
/// bad JSON, unknown kind, bad selector), NOT_FOUND (no such vigy), ABORTED (a
/// resource version did not match; nothing written), FAILED_PRECONDITION
/// (another process serves this database; a database from a newer vigy),
/// UNAVAILABLE (the database is locked; no scheduler took a forced tick in time; no
/// live cluster host for a forced tick),
/// DEADLINE_EXCEEDED (a forced tick did not finish in time), RESOURCE_EXHAUSTED,
/// PERMISSION_DENIED, INTERNAL. Codes are never collapsed on the way up. what() is
/// a lowercase diagnostic without trailing period, fit to print after "error: ".
/// A tick whose program fails is NOT an error: it is a run with
/// `result == run_result::failed` and its `status` and `error`.
///
/// Threading: every public method is thread-safe and may be called from any
/// thread, including from a subscriber callback (except `stop`/`serve`/the
/// destructor, which must not be called from a runtime thread or a callback).
#ifndef VIGY_HOST_RUNTIME_HPP
#define VIGY_HOST_RUNTIME_HPP

#include "vigy/error.hpp"
#include "vigy/host/clock.hpp"
#include "vigy/host/registry.hpp"
#include "vigy/host/schedule.hpp"
#include "vigy/host/supervision.hpp"
#include "vigy/plugin.h"
#include "vigy/store/store.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::host {

// ---- errors ------------------------------------------------------------------

/// The one error type (vigy/error.hpp).
using vigy::status_error;

// ---- data (the store's records, one representation) --------------------------

/// Per-tick limits. 0 in a vigy's limits means "the runtime's default"
/// (runtime_options::default_limits), which defaults to default_tick_limits().
using tick_limits = store::limits;

/// The runtime's safe defaults: 10,000,000 steps, 5000 ms, 64 MiB, depth 10,000.
tick_limits default_tick_limits() noexcept;

/// Labels: key -> value (sorted by key), validated like Kubernetes labels
/// (vigy/store/labels.hpp).
using label_map = store::label_map;

/// A parsed label selector (vigy/store/labels.hpp: the full Kubernetes grammar).
using store::label_selector;
using store::parse_selector;

/// What to register. Same `name` as an existing vigy = update it (a new revision
/// when kind/config changed; the id, kv and history are kept). Fields (store.hpp):
/// name (a DNS subdomain), kind ("lisp" by default), config_json (a JSON object,
/// "" = {}; lisp: {"program": text, "source_name": file}), interval_ms (>= 100),
/// schedule_json (schedule_spec::to_json(), "" = every interval_ms; build it with
/// parse_schedule_flags), labels, enabled (nullopt: new = Enabled, existing keeps
/// its state, a Completed/Degraded one is Enabled again when its revision or
/// schedule changes), limits, allow (extra capability grants beyond the defaults).
using vigy_spec = store::vigy_spec;

/// The schedule of a stored vigy: its schedule_json parsed (schedule.hpp), or
/// `every interval_ms` when it has none (registered before schedules, or with
/// only --every). A stored text that no longer parses falls back to the same
/// (it was validated when registered). Never throws.
schedule_spec schedule_of(const store::vigy_record& v) noexcept;
/// The lifecycle state of a stored vigy (vigy_record::state; Enabled when unknown).
lifecycle_state state_of(const store::vigy_record& v) noexcept;

/// What register_or_update did.
using register_outcome = store::register_outcome;
/// "created" | "updated" | "unchanged".
const char* register_outcome_name(register_outcome o) noexcept;

/// A stored vigy (store::vigy_record): key, id, name, kind, config_json, revision,
/// interval_ms, schedule_json, labels, enabled (not Disabled), state (Enabled |
/// Disabled | Degraded | Completed, see supervision.hpp), state_reason, state_ms,
/// limits, allow, created_ms, updated_ms, and
/// resource_version (Kubernetes-style: compare for equality, use for
/// compare-and-set writes and the change feed).
using vigy_info = store::vigy_record;

/// Result of register_or_update: the stored vigy after the call (a vigy_info, so it
/// can be used as one) plus what the call did.
struct register_result : vigy_info {
    register_outcome outcome = register_outcome::created;
    std::string previous_revision;  ///< updated/unchanged: the revision before the call; "" when created
};

/// Outcome of a run: ok | failed | skipped.
using run_result = store::run_result;
/// "ok" | "failed" | "skipped".
const char* run_result_name(run_result r) noexcept;

/// Why a run happened: schedule | forced.
using run_trigger = store::run_trigger;
/// "schedule" | "forced".
const char* run_trigger_name(run_trigger t) noexcept;

/// One tick of one vigy, as committed (subscribe), returned (tick_now, evaluate)
/// or read back (recent_runs, runs_after): store::run_record, built once.
using run = store::run_record;

/// One kv entry; a current condition; a deduplicated event.
using kv_entry = store::kv_entry;
using condition = store::condition;
using event = store::event;

/// The vigy change feed (Kubernetes watch semantics).
using change_type = store::change_type;
using vigy_change = store::vigy_change;
using vigy_changes = store::vigy_changes;
/// A page of a listing with its continue token.
using vigy_page = store::vigy_page;

/// Who holds the scheduler lease of the database.
struct scheduler_info {
    int64_t pid = 0;
    std::string hostname;
    int64_t acquired_ms = 0;
    int64_t expires_ms = 0;     ///< wall clock of the holder
    int64_t token = 0;          ///< the holder's fencing token
    bool this_process = false;  ///< true when this runtime is the one serving
};

/// The cluster of hosts sharing a PostgreSQL database (runtime::cluster).
struct cluster_info {
    store::cluster_view view;
    std::map<std::string, size_t> vigies_by_owner;  ///< host owner -> vigies in the shards it holds (live or not)
    size_t vigies_unowned = 0;                      ///< vigies in free shards
};

/// Serving statistics since open (for `serve`'s status line, the bench and metrics).
struct runtime_stats {
    size_t scheduled = 0;       ///< vigies currently scheduled (enabled, on a timer)
    uint64_t ticks_ok = 0;      ///< committed ok runs
    uint64_t ticks_failed = 0;  ///< committed failed runs
    uint64_t ticks_forced = 0;  ///< of which forced (tick_now, tick requests)
    size_t forced_waiting = 0;  ///< forced ticks queued now behind a tick of the same vigy
    uint64_t runs_committed = 0;
    uint64_t runs_rejected = 0;       ///< runs the store refused (deleted vigy, locked database, stale token)
    uint64_t stale_commits = 0;       ///< of which refused for a stale fencing token
    uint64_t commits = 0;             ///< store transactions (group commits)
    uint64_t skipped_slots = 0;       ///< schedule slots skipped because a tick overran
    uint64_t ticks_paused = 0;        ///< scheduled ticks not started because the lease was not surely held
    uint64_t long_ticks = 0;          ///< ticks moved to the long lane (ran past tick_slice_ms) since start
    uint64_t long_tick_parks = 0;     ///< times a long tick was parked to wait for its turn
    unsigned long_ticks_running = 0;  ///< long ticks holding a turn now (<= max_long_ticks)
    unsigned long_ticks_parked = 0;   ///< long ticks parked now
    size_t writer_queued = 0;         ///< commits waiting for the writer now
    bool lease_held = false;          ///< this runtime holds the scheduler lease now
    int64_t lease_token = 0;          ///< its fencing token (0 when not held)
    bool cluster = false;             ///< serving in cluster mode (shard leases)
    size_t shards_held = 0;           ///< cluster mode: shards this host holds now
    uint64_t lease_takeovers = 0;     ///< cluster mode: shards taken from an expired holder since start
    uint64_t shards_lost = 0;         ///< cluster mode: shards lost (taken over, renew deadline) since start
    bool notify_active = false;       ///< a change listener is in use (serving on PostgreSQL; SQLite polls)
    bool notify_connected = false;    ///< its connection is up now (false: polling every poll_ms)
    uint64_t notifications = 0;       ///< change notifications received since open
    uint64_t notify_reconnects = 0;   ///< times its connection came back after a loss since open
    double lateness_p50_ms = 0;       ///< scheduled due -> tick start, over the last window
    double lateness_p99_ms = 0;
    double lateness_max_ms = 0;
};

/// An in-process plugin: its entry function (same contract as the exported
/// `vigy_plugin_entry` of a shared object; e.g. written with sdk.hpp). It is
/// called once with VIGY_ABI_VERSION and the descriptor added with
/// registry::add_static (origin "builtin:<name>").
struct static_plugin {
    std::string name;  ///< for listings and messages (e.g. "my-app")
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
    /// Threads running reconciler ticks (>= 1); 0 = max(4, 2 * hardware threads),
    /// at most 32. A tick that runs to its wall-clock limit occupies one of these.
    unsigned tick_threads = 0;
    /// Fair scheduling (docs/operations.md, "Fair scheduling"): a tick that runs longer
    /// than tick_slice_ms (ms, on `clock`) is moved off its tick thread to the long lane
    /// (a fresh thread takes its place, so tick_threads stay free for short ticks; the
    /// long tick's thread runs at nice +10 and exits when the tick ends). At most
    /// max_long_ticks long ticks run at once; the others wait parked (no CPU) and take
    /// turns of tick_slice_ms, round robin. Preemption needs the reconciler to poll the
    /// tick's `cancelled` slot (the lisp reconciler does, every 1024 steps); one that
    /// never does keeps its tick thread. Parked time counts against the tick's
    /// wall-clock limit. tick_slice_ms: 0 = off (a long tick holds a tick thread until
    /// it ends), at most 60000; default 10. max_long_ticks: 0 = max(1, hardware
    /// threads / 2), at most 1024.
    int64_t tick_slice_ms = 10;
    unsigned max_long_ticks = 0;
    /// Limits used where a vigy's own limit is 0. 0 fields here = default_tick_limits().
    tick_limits default_limits;
    /// Retention applied by the store's pruner while serving: keep at most this
    /// many runs per vigy (0 = no count limit) and runs younger than
    /// max_run_age_ms (0 = no age limit). Defaults: 1000 runs, 7 days.
    int64_t keep_runs = 1000;
    int64_t max_run_age_ms = 7LL * 24 * 3600 * 1000;
    /// How often a serving runtime checks the database for changes by other processes
    /// (vigy changes, tick requests), ms, 10 to 60000. On PostgreSQL a change listener
    /// (LISTEN/NOTIFY) wakes it at once instead, and this poll runs only while the
    /// listener's connection is down; while it is up a safety-net poll runs every
    /// max(poll_ms, 10 s). Tick requests are also looked for every 25 ms while polling.
    int64_t poll_ms = 250;
    /// Change notification where the database offers it (PostgreSQL LISTEN/NOTIFY; see
    /// poll_ms). false: poll only, e.g. behind a connection pooler in transaction mode
    /// (PgBouncer), where a LISTEN session does not keep its server connection.
    bool notify = true;
    /// The scheduler lease: held for lease_ttl_ms, renewed every lease_renew_ms (must
    /// be < lease_ttl_ms / 2). A serving runtime starts no scheduled tick unless it
    /// renewed the lease less than lease_ttl_ms ago (on CLOCK_BOOTTIME). Short values
    /// are for tests and operators who want a fast takeover after a crash or pause.
    int64_t lease_ttl_ms = 5000;
    int64_t lease_renew_ms = 1000;
    /// Cluster mode (`vigy serve --cluster`; PostgreSQL only, FAILED_PRECONDITION on
    /// SQLite or while a non-cluster serve holds the scheduler lease): instead of the
    /// scheduler lease, this host joins the hosts sharing the database and ticks only the
    /// vigies of the shards it leases (store.hpp, "cluster mode"; docs/cluster.md). Every
    /// retry period it renews its shards and takes its share; it starts no tick unless its
    /// last successful round began less than the renew deadline ago, and drops every shard
    /// when rounds fail past it. Defaults as controller-runtime's leader election:
    /// lease duration 15 s, renew deadline 10 s, retry period 2 s (renew deadline <
    /// lease duration, retry period < renew deadline).
    bool cluster = false;
    int64_t cluster_lease_ms = 15'000;
    int64_t cluster_renew_deadline_ms = 10'000;
    int64_t cluster_retry_ms = 2'000;
    /// The clocks ticks are scheduled and stamped by (nullptr = clock::system()).
    std::shared_ptr<host::clock> clock;
    /// false: an SQLite database file that does not exist is refused (NOT_FOUND, "database
    /// PATH does not exist") instead of created, and nothing is left behind: for
    /// read-only commands (list, inspect, tail, cluster status). See
    /// store::open_options::create_if_missing.
    bool create_if_missing = true;
};

/// What `evaluate` runs: `ticks` simulated ticks (>= 1), the first at `start_ms`
/// (-1 = now), then every `every_ms` (>= 0), over an initial kv of JSON texts.
struct evaluate_options {
    int64_t ticks = 1;
    int64_t every_ms = 1000;
    int64_t start_ms = -1;
    /// The payload of a simulated trigger (`vigy eval --trigger JSON`): every tick
    /// sees (vigy-trigger) = {"kind": "manual", "source": "eval", "payload": <it>};
    /// "" = scheduled ticks ((vigy-trigger) is nil). INVALID_ARGUMENT when not JSON.
    std::string trigger_json;
    std::map<std::string, std::string> kv_json;  ///< key -> JSON value text
};

/// One evaluated tick: the run (seq 0) and the previous successful tick's start.
struct evaluated_tick {
    run result;
    int64_t previous_tick_ms = -1;
};

/// What `evaluate` produced: each tick, the kv after the last successful tick
/// ({key: value} JSON) and the conditions then (JSON array).
struct evaluation {
    std::vector<evaluated_tick> ticks;
    std::string kv_json = "{}";
    std::string conditions_json = "[]";
};

/// `options.ticks` simulated ticks of `spec` in memory with the plugins of `reg`
/// (what runtime::evaluate does, without a database: `vigy eval`). Limits of 0 use
/// `defaults` (0 fields: default_tick_limits()). INVALID_ARGUMENT for bad options or
/// a kv value that is not JSON.
evaluation evaluate(const registry& reg, const vigy_spec& spec, const evaluate_options& options,
                    const tick_limits& defaults = {});

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
    /// `db_path` and loads the plugins. Throws status_error: INVALID_ARGUMENT (bad
    /// options), FAILED_PRECONDITION (database from a newer vigy), or the store's
    /// codes when it cannot open the file (the message names it). Plugin load
    /// failures are not fatal: they are logged and listed by plugins().skipped().
    static std::unique_ptr<runtime> open(const std::filesystem::path& db_path, runtime_options options = {});

    /// $VIGY_DB if set, else $XDG_DATA_HOME/vigy/vigy.db, else ~/.local/share/vigy/vigy.db.
    /// Throws status_error FAILED_PRECONDITION when none of VIGY_DB, XDG_DATA_HOME and
    /// HOME is set (never a database in the current directory by accident).
    static std::filesystem::path default_db_path();

    /// The default capability grants: the six standard extensions (vigy.actions,
    /// vigy.state, vigy.kv, vigy.convergence, vigy.scheduling, vigy.diagnostics); a
    /// vigy's `allow` list adds to them.
    static const std::vector<std::string>& default_grants();

    /// Stops serving if needed (as stop()), flushes the writer, closes the store.
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    const std::filesystem::path& db_path() const noexcept;

    // -- plugins ---------------------------------------------------------------
    /// The plugin registry (immutable once open() returned). Lives as long as the runtime.
    const registry& plugins() const noexcept;
    /// Every reconciler kind loaded, sorted.
    std::vector<std::string> kinds() const;

    // -- vigies ----------------------------------------------------------------
    //
    // Writes taking `expected_resource_version` are a compare-and-set in the store
    // transaction: ABORTED when the vigy's resource_version differs (NOT_FOUND when it
    // does not exist), and nothing is written.

    /// Validates and upserts by name. Validation: name (a DNS subdomain),
    /// interval_ms >= 100, config_json empty or a JSON object, kind loaded in this
    /// process (the message lists the known kinds), labels, grants. A program that
    /// does not compile is NOT rejected here (its runs fail with the parse error);
    /// use check() to find out up front. If this runtime serves, the vigy is
    /// (re)scheduled at once (first tick right away when enabled or edited).
    register_result register_or_update(const vigy_spec& spec,
                                       std::optional<int64_t> expected_resource_version = std::nullopt);

    /// Builds the reconciler for `spec` without registering it; returns the
    /// error message (e.g. "parse error at 3:7: ...") or nullopt when it builds.
    std::optional<std::string> check(const vigy_spec& spec) const;

    /// Enable/disable by name or id; NOT_FOUND if absent. Returns the stored vigy.
    vigy_info enable(std::string_view name_or_id, std::optional<int64_t> expected_resource_version = std::nullopt);
    vigy_info disable(std::string_view name_or_id, std::optional<int64_t> expected_resource_version = std::nullopt);

    /// `vigy reset`: clears supervision. A Degraded vigy is Enabled again (condition
    /// Degraded=False); an Enabled one forgets its counted failures; Disabled and
    /// Completed stay. NOT_FOUND. Returns the stored vigy.
    vigy_info reset(std::string_view name_or_id);

    /// Triggers a vigy explicitly (`vigy trigger NAME --payload JSON`): its next
    /// tick sees (vigy-trigger) = {"kind": "manual", "source": `source`, "payload":
    /// the payload (nil when "")}. Triggers coalesce: while a tick of the vigy runs,
    /// at most one trigger waits (the newest payload wins). When this runtime serves,
    /// it is queued on the vigy's slot; when another process serves, through the
    /// store's tick requests (it returns once queued); when nobody serves, the tick
    /// runs here (as tick_now) and its run is returned. Only an Enabled vigy is
    /// ticked by a trigger under serve (FAILED_PRECONDITION otherwise, naming the
    /// state). Beside `serve --cluster` hosts (see tick_now) it is queued to the host
    /// holding the vigy's shard and returns once queued; UNAVAILABLE when no cluster
    /// host is live. INVALID_ARGUMENT when the payload is not JSON; NOT_FOUND.
    std::optional<run> trigger(std::string_view name_or_id, std::string_view payload_json = {},
                               std::string_view source = "manual", int64_t wait_ms = 5000);

    /// Deletes a vigy; with keep_history its runs/kv/events stay in the database
    /// (and come back when the name is registered again), otherwise they are deleted
    /// too. Returns false when there was no such vigy (with an expected version given,
    /// that is NOT_FOUND). An in-flight tick finishes; no later tick starts.
    bool remove(std::string_view name_or_id, bool keep_history = false,
                std::optional<int64_t> expected_resource_version = std::nullopt);

    /// By name or id. get() throws NOT_FOUND; find() returns nullopt.
    vigy_info get(std::string_view name_or_id) const;
    std::optional<vigy_info> find(std::string_view name_or_id) const;

    /// All vigies (by name) matching a label selector (the full Kubernetes
    /// grammar, vigy/store/labels.hpp; "" = all). A malformed selector: INVALID_ARGUMENT.
    std::vector<vigy_info> list(std::string_view selector = {}) const;
    /// One page of list(): at most `limit` (0 = all) after `continue_token`
    /// (opaque, from the previous page; "" = the first page).
    vigy_page list_page(std::string_view selector, size_t limit, std::string_view continue_token = {}) const;

    /// The current change sequence (the newest resource version of any vigy).
    int64_t resource_version() const;
    /// resource_version() without waiting, for event-loop callers: nullopt at once
    /// when it would wait (another reader, a lock held by a writer) or fails; the
    /// caller then asks resource_version() from a thread that may block. Never throws.
    std::optional<int64_t> try_resource_version() const noexcept;
    /// The vigies changed after `resource_version` (see store::changes_since):
    /// ADDED/MODIFIED/DELETED with resource versions, or `gone` for a cursor older
    /// than the compaction floor.
    vigy_changes changes_since(int64_t resource_version) const;

    /// The capability grants of a vigy: default_grants() plus its `allow`, sorted.
    std::vector<std::string> effective_grants(const vigy_info& v) const;

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
    /// The lowest retained seq (0 when there is no run): a run cursor below
    /// oldest_seq() - 1 has lost runs to retention (the API answers 410 Gone).
    int64_t oldest_seq() const;
    std::optional<run> find_run(std::string_view run_id) const;

    std::vector<kv_entry> kv(std::string_view name_or_id) const;
    std::vector<condition> conditions(std::string_view name_or_id) const;
    /// Newest first.
    std::vector<event> events(std::string_view name_or_id, size_t limit = 20) const;

    // -- ticking ---------------------------------------------------------------
    /// Runs one tick of the vigy now, regardless of its enabled flag, and returns
    /// the committed run (result ok or failed). Never races the scheduler on this
    /// vigy: when this runtime serves it runs on the vigy's slot; when another
    /// process serves it is queued to that process: UNAVAILABLE when it does not
    /// take the tick within `wait_ms`, DEADLINE_EXCEEDED when the tick it took does
    /// not finish within its wall-clock limit plus 1 s; when nobody serves it runs
    /// here under a briefly held scheduler lease (UNAVAILABLE if the lease cannot
    /// be had within wait_ms). NOT_FOUND if there is no such vigy.
    /// Cluster mode (PostgreSQL, docs/cluster.md): on a database served by `serve
    /// --cluster` hosts (one live, or one gone less than an hour without leaving), from
    /// outside the cluster or on a host that does not hold the vigy's shard, it is
    /// queued to the host holding the shard, which claims and commits it under the
    /// shard's epoch (a request whose host lost the shard runs once, on the next
    /// holder); UNAVAILABLE at once, or while waiting, when no cluster host is live
    /// (naming the shard and its last holder), or when no host took it within
    /// `wait_ms`. Blocks the calling thread (it polls the store every 10 ms).
    run tick_now(std::string_view name_or_id, int64_t wait_ms = 5000);

    /// Evaluates `spec` once, outside any registered vigy, with empty kv and
    /// nothing persisted. Returns the run (seq 0; buffers filled; kv_writes_json
    /// shows what it would have written).
    run evaluate(const vigy_spec& spec) const;
    /// `options.ticks` simulated ticks of `spec` in memory (`vigy eval --ticks`):
    /// the kv and the tick clock carry from tick to tick as in the runtime, a
    /// failed tick saves nothing; time is simulated (no sleeping). INVALID_ARGUMENT
    /// for bad options or a kv value that is not JSON.
    evaluation evaluate(const vigy_spec& spec, const evaluate_options& options) const;

    /// Calls `callback` with every run this process commits, after it is
    /// durable, in commit order. The callback runs on the runtime's bus thread:
    /// keep it short; it may call read methods of the runtime. For runs of OTHER
    /// processes, poll runs_after() with a cursor.
    subscription subscribe(std::function<void(const run&)> callback);

    /// Calls `callback` when the database notifies a change made by any process, this
    /// one included: on PostgreSQL while this runtime serves (LISTEN/NOTIFY, delivered
    /// after the change committed). `topics` is a set of store::change_topic bits:
    /// topic_vigies (a vigy changed: read changes_since), topic_runs (runs were committed:
    /// read runs_after), topic_tick_requests. After the listener's connection came back
    /// it is called once with store::all_topics, since what was sent in the gap is lost.
    /// Never called on SQLite, nor while not serving or while the connection is down
    /// (stats().notify_connected): a caller keeps polling as its fallback and may poll
    /// less often while notify_connected. The callback runs on the runtime's notify
    /// thread: keep it short (wake a thread of yours); it may call read methods.
    subscription subscribe_changes(std::function<void(unsigned topics)> callback);

    // -- serving ---------------------------------------------------------------
    /// Becomes the scheduler of this database: takes the scheduler lease
    /// (FAILED_PRECONDITION naming the holder's pid if another live process serves),
    /// schedules every enabled vigy (first ticks spread over one interval), watches
    /// the database for other processes' changes and tick requests. Returns at
    /// once; ticks run on the runtime's threads. No-op if already serving.
    void start();
    /// Graceful stop: no new ticks, in-flight and queued forced ticks finish, the
    /// writer is flushed, the lease released. Idempotent; blocks until done.
    void stop();
    /// start(), then block until stop() is called (from another thread or a
    /// signal handler's thread).
    void serve();
    /// True between start() and stop().
    bool serving() const noexcept;
    /// Blocks until this serving runtime has applied every vigy change up to
    /// `resource_version` to its schedule (changes made by other processes arrive
    /// at once when notified, else within poll_ms), or `timeout` passed. Returns whether it had. False at once
    /// when not serving.
    bool wait_synced(int64_t resource_version, std::chrono::milliseconds timeout) const;
    /// Names of the vigies currently scheduled (sorted).
    std::vector<std::string> scheduled() const;
    /// The current scheduler lease holder, if any (live lease).
    std::optional<scheduler_info> scheduler() const;
    runtime_stats stats() const;
    /// Cluster mode's state as the database has it (hosts, shard leases) and how many
    /// vigies each host's shards hold. FAILED_PRECONDITION on SQLite; UNAVAILABLE when
    /// the server cannot be reached. Any thread; works whether or not this runtime serves.
    cluster_info cluster() const;

    /// Implementation detail (public so that the runtime's parts can name it).
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
