/// vigy/store/store.hpp — persistence for vigy: vigies, runs, kv, conditions, events,
/// the change feed and scheduler coordination, on one SQLite database (WAL).
///
/// One representation across host and store: the records here ARE the host's
/// (vigy::host::run is store::run_record, vigy_info is vigy_record, ...). Times are
/// int64 milliseconds since the Unix epoch (UTC) and durations int64 microseconds;
/// nothing here formats or parses RFC 3339 (the faces do, at their edge). Tick buffers
/// and kv values are compact JSON text produced by the host; the store stores them
/// as given and does not re-validate them.
///
/// Threading: a `store` is thread-safe. Synchronous writes (register, enable, delete,
/// lease, tick requests, commit_now) are serialized on one write session; reads use a
/// small pool of read sessions; tick commits go through the `writer`, which owns its
/// own connection and one thread that group-commits queued commits.
///
/// Errors: every function may throw `vigy::status_error` (vigy/error.hpp) with a
/// canonical code: INVALID_ARGUMENT (a bad spec, selector, cursor), NOT_FOUND (no such
/// vigy), ABORTED (a compare-and-set on a resource version failed; nothing written),
/// UNAVAILABLE (the database stayed locked beyond the busy timeout; nothing written;
/// the message names the path), FAILED_PRECONDITION (a database from a newer vigy, a
/// file that is not a database), PERMISSION_DENIED (the file or directory cannot be
/// written), RESOURCE_EXHAUSTED (disk full), INTERNAL (anything else SQLite reports).
///
/// Scheduler lease and fencing. At most one scheduler commits ticks for a database:
/// the holder of the lease (table scheduler_lease). Every acquisition by a new owner
/// takes a new fencing token (strictly increasing, never reused); a commit carrying a
/// token (tick_commit::fence) is applied only if, inside the same write transaction,
/// the lease still carries that token — otherwise it is rejected as stale and
/// counted (writer_stats::stale), so a scheduler that was paused (SIGSTOP, a VM
/// freeze) past its lease cannot apply anything once another took over.
///
/// Lease expiry is judged without comparing two processes' wall clocks. The holder
/// records its boot id (/proc/sys/kernel/random/boot_id) and its expiry on the
/// system-wide monotonic clock CLOCK_BOOTTIME, which every process of one boot shares
/// and which no clock step, NTP slew or skewed `date` moves. A contender on the same
/// boot compares CLOCK_BOOTTIME values; a holder recorded with the same host name but
/// another boot id ran before a reboot and is gone; only a holder on another host
/// falls back to the recorded wall-clock expiry. SQLite databases are used from one
/// host (SQLite over a network filesystem is not supported); for several hosts
/// sharing one database (PostgreSQL, phase 2) the same protocol is kept but "now" is
/// the database's own clock (`now()` in the acquiring statement, never a client's),
/// and the token check stays in the commit transaction.
#ifndef VIGY_STORE_STORE_HPP
#define VIGY_STORE_STORE_HPP

#include "vigy/error.hpp"
#include "vigy/store/labels.hpp"
#include "vigy/store/notify.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigy::store {

// ---------------------------------------------------------------------------------
// helpers (pure, thread-safe)

/// The schema version this build writes (databases at 1..4 open; 1..3 are
/// migrated with their data, in one transaction, on open).
inline constexpr int schema_version_supported = 4;

/// A vigy's lifecycle state as stored (vigy/host/supervision.hpp names the
/// machine): "Enabled" | "Disabled" | "Degraded" | "Completed".
inline constexpr const char* state_enabled = "Enabled";
inline constexpr const char* state_disabled = "Disabled";
inline constexpr const char* state_degraded = "Degraded";
inline constexpr const char* state_completed = "Completed";

/// Minimum and default tick interval, ms.
inline constexpr std::int64_t min_interval_ms = 100;
inline constexpr std::int64_t default_interval_ms = 1000;

/// Stable vigy id for a name: the first 16 lowercase hex digits of SHA-256(name).
[[nodiscard]] std::string vigy_id_for(std::string_view name);

/// Content hash of a reconciler spec: first 16 lowercase hex digits of
/// SHA-256(kind ‖ 0x00 ‖ config_json), over the exact bytes given.
[[nodiscard]] std::string revision_for(std::string_view kind, std::string_view config_json);

/// A new run id, UUID version 7 (RFC 9562) as 36-char lowercase hyphenated text, with
/// `unix_ms` as its timestamp: 48-bit ms + 74 random bits from a per-thread
/// std::mt19937_64 seeded from std::random_device. Thread-safe. Stored as 16 bytes.
[[nodiscard]] std::string new_run_id(std::int64_t unix_ms);
/// Writes a new run id into `out` (36 chars; reuses its capacity). Thread-safe.
void new_run_id(std::int64_t unix_ms, std::string& out);

/// Milliseconds since the Unix epoch, from the system clock.
[[nodiscard]] std::int64_t now_unix_ms();

// ---------------------------------------------------------------------------------
// vigies

/// Per-tick limits; 0 means "the runtime's default". Each must fit in int64.
struct limits {
    std::uint64_t fuel = 0;          ///< evaluation steps per tick
    std::uint64_t wall_ms = 0;       ///< wall-clock ms per tick
    std::uint64_t memory_bytes = 0;  ///< bytes allocated during one tick
    std::uint64_t max_depth = 0;     ///< non-tail recursion depth
    friend bool operator==(const limits&, const limits&) = default;
};

/// What a caller registers. `name` is the identity users type.
struct vigy_spec {
    std::string name;                                ///< a DNS subdomain (labels.hpp: validate_name)
    std::string kind = "lisp";                       ///< reconciler kind ("lisp", "chain", "noop", ...), non-empty
    std::string config_json = "{}";                  ///< reconciler config: a JSON object ("" = {})
    std::int64_t interval_ms = default_interval_ms;  ///< >= min_interval_ms
    /// The schedule as the host's compact JSON (vigy/host/schedule.hpp
    /// schedule_spec::to_json); "" = fixed rate every interval_ms. The store keeps
    /// the text as given (the host validates it); at most 64 KiB.
    std::string schedule_json;
    label_map labels;  ///< replaces the labels wholesale; validated (labels.hpp)
    /// nullopt: new vigies Enabled, existing keep their state — except that a
    /// Completed or Degraded vigy whose revision or schedule changes is Enabled
    /// again (re-registering re-arms a one-shot). true: Enabled; false: Disabled.
    std::optional<bool> enabled;
    struct limits limits;  ///< 0 fields = the runtime's defaults
    /// Extra capability grants beyond the defaults (capability ids: the providing
    /// plugin's id, e.g. "io.pleme.mado"); sorted and deduplicated when stored. Each
    /// 1..253 characters of [A-Za-z0-9._-].
    std::vector<std::string> allow;
};

/// A registered vigy as stored.
struct vigy_record {
    std::int64_t key = 0;  ///< the database's surrogate key (stable while the row exists)
    std::string id;        ///< vigy_id_for(name), 16 lowercase hex; stable across updates
    std::string name;
    std::string kind;
    std::string config_json;  ///< a JSON object
    std::string revision;     ///< revision_for(kind, config_json): changes with edits
    std::int64_t interval_ms = default_interval_ms;
    std::string schedule_json;  ///< as registered ("" = every interval_ms)
    label_map labels;
    /// Not disabled by an operator: state != "Disabled" (serve ticks only state "Enabled").
    bool enabled = true;
    std::string state = state_enabled;  ///< Enabled | Disabled | Degraded | Completed
    std::string state_reason;           ///< why it is in that state ("" for Enabled/Disabled by hand)
    std::int64_t state_ms = 0;       ///< when it entered the state (epoch ms; 0 = since registration before schema 4)
    struct limits limits;            ///< as registered (0 = the runtime's default)
    std::vector<std::string> allow;  ///< extra grants as registered (sorted)
    std::int64_t created_ms = 0;     ///< kept across updates
    std::int64_t updated_ms = 0;     ///< bumped by every change
    /// The change_seq of this vigy's last change (Kubernetes resourceVersion: opaque to
    /// clients, compared for equality; strictly increases with every change).
    std::int64_t resource_version = 0;
};

/// Outcome of register_or_update.
enum class register_outcome {
    created,    ///< the name was new
    updated,    ///< something changed (revision, interval, labels, limits, grants, enabled)
    unchanged,  ///< identical to what was stored; nothing written
};
/// "created" | "updated" | "unchanged".
[[nodiscard]] const char* to_string(register_outcome outcome) noexcept;

/// Result of register_or_update.
struct register_result {
    register_outcome outcome = register_outcome::unchanged;
    bool revision_changed = false;  ///< created, or updated with a new kind/config
    std::string previous_revision;  ///< updated/unchanged: the revision before the call; "" when created
    vigy_record vigy;               ///< the stored row after the call
};

/// The kind of a change in the vigy change feed (Kubernetes watch event types).
enum class change_type { added, modified, deleted };
/// "ADDED" | "MODIFIED" | "DELETED".
[[nodiscard]] const char* to_string(change_type type) noexcept;

/// One entry of the change feed: the vigy's state after its last change in the window.
struct vigy_change {
    change_type type = change_type::modified;
    std::int64_t resource_version = 0;  ///< the change_seq of that last change
    /// ADDED/MODIFIED: the current record. DELETED: key, id and name only.
    vigy_record vigy;
};

/// Changes after a resource version, oldest first (see changes_since).
struct vigy_changes {
    std::int64_t resource_version = 0;  ///< the current change_seq: pass it next time
    /// True when the cursor is older than the compaction floor: the changes after it
    /// are no longer all known; list again (the API answers 410 Gone).
    bool gone = false;
    std::vector<vigy_change> changes;
};

/// A page of list_vigies.
struct vigy_page {
    std::vector<vigy_record> items;
    /// Opaque cursor for the next page; "" when this is the last.
    std::string continue_token;
    std::int64_t resource_version = 0;  ///< the change_seq when the page was read
};

// ---------------------------------------------------------------------------------
// runs, conditions, events, kv

/// Outcome of a run.
enum class run_result : std::uint8_t { ok = 0, failed = 1, skipped = 2 };
/// "ok" | "failed" | "skipped".
[[nodiscard]] const char* to_string(run_result r) noexcept;

/// Why a run happened.
enum class run_trigger : std::uint8_t { schedule = 0, forced = 1 };
/// "schedule" | "forced".
[[nodiscard]] const char* to_string(run_trigger t) noexcept;

/// One tick of one vigy: built once by the runtime, committed, published and read
/// back as this same type. Buffers are compact JSON text; a buffer left at its default
/// costs nothing in the database (only filled buffers are stored, in one column).
struct run_record {
    std::string id;        ///< UUIDv7 text; "" on submit = the store assigns one
    std::int64_t seq = 0;  ///< the commit cursor (strictly increasing per database); 0 = not persisted
    std::string vigy_id;
    std::string vigy_name;  ///< filled on read (and by the runtime); not stored with the run
    std::string revision;   ///< revision of the spec that ran
    run_trigger trigger = run_trigger::schedule;
    /// What triggered a run besides its timer: "" (a scheduled or forced tick),
    /// "event" | "condition" | "manual" (a triggered tick) or "catch-up" (the one
    /// tick for a slot missed while nobody served). Runs before schema 4 read "".
    std::string trigger_kind;
    /// The tick's (vigy-trigger) map as JSON ({"kind","source","payload"}); "" when none.
    std::string trigger_json;
    std::int64_t started_ms = 0;   ///< wall clock, epoch ms
    std::int64_t ended_ms = 0;     ///< wall clock, epoch ms
    std::int64_t duration_us = 0;  ///< the reconciler's tick time (monotonic clock), µs
    /// Scheduled ticks: how late the tick started after its due time (monotonic), µs.
    /// 0 for forced ticks.
    std::int64_t lateness_us = 0;
    run_result result = run_result::ok;
    /// failed: the canonical code of the failure (a plugin's RESOURCE_EXHAUSTED stays
    /// that); VIGY_OK otherwise. Runs failed before schema 3 read back VIGY_UNKNOWN.
    vigy_status status = VIGY_OK;
    std::string error;  ///< failed: the reason ("parse error at 3:7: ...", "fuel exhausted ...")
    /// The tick_count the program saw: successful ticks before it + 1. Runs recorded
    /// before schema 2 read back 0 (unknown).
    std::int64_t tick_count = 0;
    /// What the program printed (lisp: the printed last value); kept with failed runs
    /// too (what it printed before failing). "" when nothing.
    std::string output;
    std::string actions_json = "[]";     ///< [{"kind","payload"?,"result"?,"message"?}]
    std::string desired_json = "{}";     ///< {key: value}
    std::string observed_json = "{}";    ///< {key: value}
    std::string conditions_json = "[]";  ///< [{"type","status","reason"?,"message"?,"last_transition"}]
    std::string log_json = "[]";         ///< [{"level","message"}]
    std::string trace_json = "{}";       ///< {key: value}
    std::string metrics_json = "{}";     ///< {name: number}
    std::string events_json = "[]";      ///< [{"type","reason","message"}]
    /// kv committed with the run, {key: value} / [key]; always {} / [] when failed.
    std::string kv_writes_json = "{}";
    std::string kv_deletes_json = "[]";
};
// A failed run keeps the diagnostic buffers (log, trace, metrics, output) and drops
// the effects (actions, desired, observed, conditions, events, kv): the runtime
// leaves those at their defaults.

/// One kv entry of a vigy.
struct kv_entry {
    std::string key;
    std::string value_json;
    std::int64_t updated_ms = 0;  ///< ended_ms of the run that last wrote it
};

/// A condition as set during a tick.
struct condition_update {
    std::string type;     ///< non-empty
    std::string status;   ///< "True" | "False" | "Unknown"
    std::string reason;   ///< may be empty
    std::string message;  ///< may be empty
};

/// A current condition of a vigy (Kubernetes semantics: latest per type;
/// last_transition_ms moves only when the status changes).
struct condition {
    std::string type;
    std::string status;  ///< "True" | "False" | "Unknown"
    std::string reason;
    std::string message;
    std::int64_t last_transition_ms = 0;
    std::int64_t updated_ms = 0;  ///< when it was last set
    std::int64_t run_seq = 0;     ///< seq of the run that last set it
};

/// An event emitted during a tick. `type` is "Normal" | "Warning".
struct event_update {
    std::string type;
    std::string reason;  ///< non-empty
    std::string message;
};

/// A deduplicated event (client-go's recorder): the same vigy + type + reason +
/// message bumps `count` and `last_ms`.
struct event {
    std::int64_t id = 0;
    std::string vigy_id;
    std::string type;  ///< "Normal" | "Warning"
    std::string reason;
    std::string message;
    std::int64_t count = 1;
    std::int64_t first_ms = 0;
    std::int64_t last_ms = 0;
    std::int64_t run_seq = 0;  ///< seq of the run that emitted it last
};

/// Where a vigy's tick clock stands (recovered from its runs; no bookkeeping writes).
struct tick_clock {
    std::int64_t tick_count = 0;         ///< successful ticks so far (the next tick sees + 1)
    std::int64_t previous_tick_ms = -1;  ///< start of the last successful tick, -1 when none
};

/// A cluster host's hold on one shard (see "cluster" below).
struct shard_fence {
    int shard = 0;
    std::int64_t epoch = 0;  ///< > 0; increases on every acquisition of the shard
};

/// Everything one tick writes; committed atomically (all or nothing). For a run with
/// result `failed`, kv_upserts and kv_deletes are ignored (a failed run carries no kv);
/// conditions and events are applied as given.
struct tick_commit {
    std::int64_t vigy_key = 0;                                    ///< vigy_record::key of the vigy that ticked
    run_record run;                                               ///< run.vigy_id must be that vigy's id
    std::vector<std::pair<std::string, std::string>> kv_upserts;  ///< key -> JSON text, in order
    std::vector<std::string> kv_deletes;                          ///< applied after upserts
    std::vector<condition_update> conditions;
    std::vector<event_update> events;
    std::optional<std::int64_t> tick_request_id;  ///< marked done with this run, atomically
    /// The lease token this commit depends on (see the file comment); nullopt for a
    /// commit outside any scheduler (tools, tests).
    std::optional<std::int64_t> fence;
    /// Cluster mode (PostgreSQL): the shard lease this commit depends on. Applied only
    /// if, inside the commit transaction, shard `shard_fence->shard` is still held
    /// (owner set) under epoch `shard_fence->epoch`; otherwise rejected as stale.
    std::optional<shard_fence> shard;
};

/// Outcome of one tick commit.
struct commit_result {
    bool ok = false;
    bool stale = false;          ///< rejected: the fence token no longer holds the lease
    std::int64_t seq = 0;        ///< the run's seq when ok
    vigy_status code = VIGY_OK;  ///< when !ok: NOT_FOUND (vigy deleted), ABORTED (stale), UNAVAILABLE, ...
    std::string error;           ///< when !ok
};

// ---------------------------------------------------------------------------------
// scheduler coordination

/// "Now" as a process sees it, for lease decisions (see the file comment).
struct lease_clock {
    std::string boot_id;       ///< /proc/sys/kernel/random/boot_id ("" when unknown)
    std::int64_t boot_ms = 0;  ///< CLOCK_BOOTTIME, ms
    std::int64_t wall_ms = 0;  ///< CLOCK_REALTIME, epoch ms
};

/// Who asks for the lease.
struct lease_request {
    std::string owner;  ///< opaque, unique per holder ("serve:host:pid:random")
    std::int64_t pid = 0;
    std::string host;
    lease_clock now;
    std::int64_t ttl_ms = 0;  ///< > 0
};

/// The scheduler lease row.
struct lease_info {
    std::string owner;
    std::int64_t token = 0;  ///< fencing token of this holder
    std::int64_t pid = 0;
    std::string host;
    std::string boot_id;
    std::int64_t acquired_ms = 0;      ///< wall, epoch ms
    std::int64_t heartbeat_ms = 0;     ///< wall, epoch ms of the last acquire/renew
    std::int64_t expires_ms = 0;       ///< wall, epoch ms (only for holders on another host)
    std::int64_t expires_boot_ms = 0;  ///< CLOCK_BOOTTIME of the holder's boot
};

/// True when `lease` is still live as seen from `host` at `now` (see the file comment).
[[nodiscard]] bool lease_live(const lease_info& lease, std::string_view host, const lease_clock& now) noexcept;

// ---------------------------------------------------------------------------------
// cluster mode (PostgreSQL only; docs/cluster.md)
//
// Several `vigy serve --cluster` hosts share one PostgreSQL database. The vigies are
// partitioned into a fixed number of shards (store_meta 'shard_count', 64; a vigy's
// shard is vigy_record::key % shard_count). Each shard is leased to at most one host
// (table shard_leases) with an epoch that increases on every acquisition; expiry is
// judged by the database's clock (now()), never a host's. Hosts heartbeat in table
// cluster_hosts. A commit carries its shard and epoch (tick_commit::shard) and the
// applier checks them in the commit transaction, under the same database-wide write
// lock every lease change takes, so a host that lost a shard cannot apply a late commit.
// On SQLite every cluster function throws FAILED_PRECONDITION (one serve per file).

/// Who takes part in a cluster round.
struct cluster_request {
    std::string owner;  ///< unique per host process ("serve:host:pid:random"); not empty
    std::string host;
    std::int64_t pid = 0;
    std::int64_t lease_ms = 15'000;  ///< shard and heartbeat lease duration, ms, > 0
};

/// The outcome of one round: what `owner` holds afterwards.
struct cluster_round {
    std::vector<shard_fence> held;      ///< every shard held afterwards (by shard)
    std::vector<shard_fence> acquired;  ///< of which acquired in this round
    std::vector<shard_fence> released;  ///< released in this round (above this host's share)
    int takeovers = 0;                  ///< acquisitions from a holder whose lease had expired
    int shard_count = 0;
    int live_hosts = 0;  ///< hosts whose heartbeat has not expired (this one included)
    int share = 0;       ///< ceil(shard_count / live_hosts): the most this host keeps
};

/// A cluster host as the database has it.
struct cluster_host {
    std::string owner, host;
    std::int64_t pid = 0;
    std::int64_t joined_ms = 0, heartbeat_ms = 0, expires_ms = 0;  ///< database clock, epoch ms
    bool live = false;                                             ///< expires_ms > the database's now
    int shards = 0;                                                ///< shards it holds
};

/// A shard lease row.
struct shard_lease {
    int shard = 0;
    std::string owner, host;  ///< "" when free
    std::int64_t pid = 0, epoch = 0;
    std::int64_t renewed_ms = 0, expires_ms = 0;  ///< database clock, epoch ms
    std::int64_t takeovers = 0;                   ///< acquisitions from an expired holder so far
    bool live = false;                            ///< held and not expired
};

struct cluster_view {
    int shard_count = 0;
    std::int64_t now_ms = 0;  ///< the database's clock
    std::vector<cluster_host> hosts;
    std::vector<shard_lease> shards;
};

/// The shard of vigy `key` among `shard_count` shards.
[[nodiscard]] inline int shard_of(std::int64_t key, int shard_count) noexcept {
    return shard_count > 0 ? static_cast<int>(((key % shard_count) + shard_count) % shard_count) : 0;
}

/// A forced-tick request (`vigy tick NAME` while a scheduler runs elsewhere).
struct tick_request {
    std::int64_t id = 0;
    std::string vigy_id;
    std::int64_t vigy_key = 0;
    std::string requester;
    std::string state;  ///< "pending" | "claimed" | "done" | "failed"
    std::int64_t requested_ms = 0;
    std::int64_t claimed_ms = 0;
    /// Who claimed it: the scheduler lease token (> 0) of the scheduler that claimed it,
    /// or, in cluster mode, minus the epoch (< 0) of the vigy's shard it was claimed under
    /// (claim_cluster_tick_requests); 0 while pending.
    std::int64_t claimed_token = 0;
    std::int64_t done_ms = 0;
    std::string run_id;          ///< set when done
    vigy_status code = VIGY_OK;  ///< failed: why, as a canonical code
    std::string error;           ///< set when failed
    /// A trigger (`vigy trigger NAME --payload JSON`): the tick's (vigy-trigger) map
    /// as JSON; "" for a plain forced tick (`vigy tick`).
    std::string trigger_json;
};

// ---------------------------------------------------------------------------------
// options

/// Retention. A run is pruned when it is outside the newest `keep_runs` of its vigy, OR
/// older than `max_age` (judged in commit order: the oldest runs by seq go first). 0
/// disables that rule. Defaults: keep 1000 runs per vigy and 7 days. Each vigy also
/// keeps its `keep_events` most recently seen events (default 1000). On the same pass:
/// finished tick requests go after 1 hour, change-feed entries after `keep_changes_age`
/// (the compaction floor moves up; older cursors are "gone"). Pruning runs in the
/// background on the writer thread, between batches, in chunks of about `prune_chunk`
/// rows (scaled up to keep pace with the insert rate), at most every `prune_interval`.
/// Pruning never loses a vigy's tick_count: before a vigy's last runs go, its clock is
/// kept in a one-row-per-vigy mark.
struct retention_policy {
    std::int64_t keep_runs = 1000;
    std::chrono::milliseconds max_age = std::chrono::hours(24 * 7);
    std::int64_t keep_events = 1000;
    std::chrono::milliseconds keep_changes_age = std::chrono::hours(24 * 7);
    std::int64_t prune_chunk = 500;
    std::chrono::milliseconds prune_interval = std::chrono::seconds(1);
};

/// Writer tuning.
struct writer_options {
    std::size_t max_batch = 1024;    ///< max tick commits per BEGIN IMMEDIATE ... COMMIT
    std::size_t max_queued = 65536;  ///< submit() blocks while this many are queued (backpressure)
    bool background_prune = true;    ///< prune per `retention` between batches
    std::int64_t cache_kib = 65536;  ///< SQLite page cache of the writer connection, KiB (64 MiB; used as needed)
};

/// Severity of a store diagnostic.
enum class log_level { warning, error };

/// Where the store's own diagnostics go (a retried locked batch, a failed prune or
/// checkpoint): called on the thread that noticed, must not throw. nullptr = stderr
/// ("warning: ..."). The runtime routes them to its logger.
using log_fn = std::function<void(log_level, const std::string&)>;

/// How to open a store.
struct open_options {
    /// An SQLite file path, ":memory:" (a private temp file deleted on close), or a
    /// PostgreSQL URL `postgresql://user[:password]@host[:port]/dbname[?param=value...]`
    /// (also `postgres://`; libpq's URI syntax and parameters; no file is touched). Any
    /// other `scheme://` is refused (INVALID_ARGUMENT).
    std::string path;
    /// ms a write waits for the database's write lock: SQLite's busy_timeout on every
    /// connection, PostgreSQL's lock_timeout on every session.
    int busy_timeout_ms = 5000;
    std::size_t read_sessions = 2;  ///< size of the read session pool (>= 1)
    retention_policy retention;
    writer_options writer;
    bool start_writer = true;  ///< false: no writer thread (CLI one-shot use)
    /// SQLite: false refuses a missing database file with NOT_FOUND ("database PATH does
    /// not exist") before anything is created (no file, no directory): for read-only
    /// uses. Ignored for ":memory:" and PostgreSQL (a server database is never created).
    bool create_if_missing = true;
    log_fn log;  ///< diagnostics (see log_fn)
};

// ---------------------------------------------------------------------------------
// database file safety (pure functions of the file system; thread-safe)

/// Prepares the files of a database at `path` before SQLite opens it: creates each
/// missing directory above it with mode 0700 and a missing database file with mode 0600,
/// whatever the umask (SQLite gives -wal and -shm the database file's mode). Existing
/// directories and files are left as they are; returns one warning per existing file
/// (the database, -wal, -shm) or directory readable or writable by others (text naming
/// the file, its mode and `chmod` to fix it). Throws status_error PERMISSION_DENIED or
/// FAILED_PRECONDITION naming the path when a directory or the file cannot be created.
/// The store's constructor calls it (its warnings go to open_options::log).
std::vector<std::string> prepare_database_files(const std::string& path);

/// `path` as messages show it: a PostgreSQL URL with the password of its user info and
/// any `password=` parameter replaced by `***`; a file path unchanged. No I/O, no throw
/// (a string that is not a URL comes back as it is).
[[nodiscard]] std::string display_path(const std::string& path);

/// What check_database found.
struct check_report {
    std::string path;                   ///< as display_path shows it
    bool full = false;                  ///< integrity_check (true) or quick_check (false)
    bool ok = false;                    ///< SQLite answered "ok"
    std::vector<std::string> problems;  ///< SQLite's lines when !ok (at most 100)
    std::int64_t duration_ms = 0;       ///< wall time of the check
};

/// Runs `PRAGMA quick_check` (full: `PRAGMA integrity_check`) on the database file at
/// `path` through a read-only connection of its own (no migration, no writer, so a
/// damaged file can be checked). Cost: reads every page (quick_check skips the index
/// cross-checks); see docs/operations.md for measured times. Throws status_error
/// NOT_FOUND when the file does not exist, FAILED_PRECONDITION when it is not a
/// database; a locked database is waited for (busy timeout 5 s).
///
/// A PostgreSQL URL: the server keeps its own pages' checksums, so the check is of
/// vigy's data on a session of its own (no migration): the store's counters are present
/// and no run belongs to a missing vigy (`full` changes nothing). Throws status_error
/// UNAVAILABLE when the server cannot be reached, FAILED_PRECONDITION when it refuses
/// the session or the database has no vigy schema yet.
[[nodiscard]] check_report check_database(const std::string& path, bool full);

/// The first SQLITE_CORRUPT (or SQLITE_NOTADB on an open database) any store of this
/// process met, as a message naming the database, what was being done and what to do;
/// nullopt while none was seen. Once set it stays set: a server polls it and stops
/// serving instead of carrying on with a damaged database. Thread-safe.
[[nodiscard]] std::optional<std::string> corruption_detected();

// ---------------------------------------------------------------------------------
// the writer

/// Writer statistics (monotonic counters since open, except `queued`).
struct writer_stats {
    std::uint64_t submitted = 0;
    std::uint64_t committed = 0;     ///< tick commits durable (ok)
    std::uint64_t failed = 0;        ///< tick commits rejected (incl. stale)
    std::uint64_t stale = 0;         ///< of which rejected for a stale fence token
    std::uint64_t transactions = 0;  ///< BEGIN IMMEDIATE ... COMMIT count
    std::uint64_t busy_retries = 0;  ///< batches retried because the database stayed locked
    std::uint64_t pruned_runs = 0;
    std::uint64_t busy_us = 0;  ///< wall µs the writer thread spent inside commit transactions
    std::uint64_t cpu_us = 0;   ///< CPU µs the writer thread spent inside commit transactions
    std::size_t queued = 0;     ///< waiting now
};

/// Receives completed commits of the writer: called on the writer thread once per
/// batch (per sink) with the commits it submitted and their results, in submit order,
/// after the transaction committed (or failed). It must be quick, must not throw
/// (exceptions are swallowed) and must not call flush()/stop(); it may submit() again.
/// The commits are the caller's again from this call on.
class commit_sink {
public:
    virtual void on_committed(std::span<tick_commit* const> commits, std::span<const commit_result> results) = 0;

protected:
    ~commit_sink() = default;
};

/// The single writer: one thread owning one connection that group-commits queued tick
/// commits, up to `max_batch` per transaction (it takes whatever is queued, so batches
/// grow with load and a lone commit is not delayed). One bad commit fails alone: a
/// commit for a deleted vigy or with a stale fence token is rejected before it writes
/// anything, and if a commit fails part-way the transaction is rolled back and the
/// batch redone with a SAVEPOINT per commit. A database locked by another process is
/// retried (3 BEGIN IMMEDIATE attempts, each waiting busy_timeout) before the batch's
/// commits complete with UNAVAILABLE, nothing written. Thread-safe; the thread is
/// named "vigy-writer".
class writer {
public:
    virtual ~writer() = default;

    /// Queues `commit` (borrowed: it must stay alive and untouched until `sink` is
    /// called with it). No allocation per call. Blocks while the queue is full (not on
    /// the writer thread). Throws status_error UNAVAILABLE `writer stopped` after stop().
    virtual void submit(tick_commit* commit, commit_sink* sink) = 0;

    /// Queues a copy of `commit`; the future becomes ready when it is durable or failed.
    [[nodiscard]] virtual std::future<commit_result> submit(tick_commit commit) = 0;

    /// Blocks until every commit submitted before this call has completed.
    virtual void flush() = 0;

    /// Drains the queue (every queued commit completes), then stops the thread.
    /// Idempotent; called by ~store.
    virtual void stop() = 0;

    /// Counters so far.
    [[nodiscard]] virtual writer_stats stats() const = 0;
};

// ---------------------------------------------------------------------------------
// the store

/// An open vigy database. Construction opens (creating parent directories), sets the
/// connection settings (WAL, busy_timeout, synchronous=NORMAL) and applies pending
/// migrations in one transaction. Throws status_error FAILED_PRECONDITION
/// `database schema version 7 is newer than this vigy (supports up to 4); upgrade vigy`,
/// UNAVAILABLE naming the path if locked, PERMISSION_DENIED / FAILED_PRECONDITION /
/// INTERNAL if it cannot be opened.
class store {
public:
    explicit store(open_options options);
    /// Stops the writer (draining its queue) and closes every connection.
    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    /// The database path as opened (the temp file for ":memory:"; a PostgreSQL URL as
    /// display_path shows it, without its password).
    [[nodiscard]] const std::string& path() const noexcept;

    /// Schema version recorded in the database.
    [[nodiscard]] int schema_version();

    // ---- vigies (synchronous writes) ----
    //
    // The writes taking `expected_resource_version` are a compare-and-set: when it is
    // given and the vigy's resource_version differs, they throw ABORTED `vigy "x" was
    // changed (resource version 12, expected 9); nothing was written`; when the vigy does
    // not exist, NOT_FOUND (Kubernetes answers 404 for a precondition on a missing object). Every change bumps
    // change_seq and appends to the change feed in the same transaction.

    /// Creates the vigy `spec.name`, or updates it when it exists (id and created_at
    /// kept; a new kind/config yields a new revision). A name deleted with its history
    /// kept comes back with that history. Validates the spec: INVALID_ARGUMENT
    /// (`invalid tick interval 50 ms: must be >= 100`, `invalid label key ...`, ...).
    register_result register_or_update(const vigy_spec& spec,
                                       std::optional<std::int64_t> expected_resource_version = std::nullopt);

    /// By exact name first, then by id. nullopt when neither matches.
    [[nodiscard]] std::optional<vigy_record> find_vigy(std::string_view name_or_id);

    /// Like find_vigy; throws NOT_FOUND `vigy "<x>" not found`.
    [[nodiscard]] vigy_record get_vigy(std::string_view name_or_id);

    /// All vigies ordered by name matching `selector`.
    [[nodiscard]] std::vector<vigy_record> list_vigies(const label_selector& selector = {});

    /// A page of vigies ordered by name matching `selector`: at most `limit` (0 = all)
    /// after the cursor `continue_token` ("" = from the start). INVALID_ARGUMENT for a
    /// malformed token.
    [[nodiscard]] vigy_page list_page(const label_selector& selector, std::size_t limit,
                                      std::string_view continue_token = {});

    /// Enables or disables. Returns the record after the call; no change (and no
    /// resource version bump) when already in that state. NOT_FOUND, ABORTED.
    /// enable: Disabled or Degraded -> Enabled (a Completed one-shot stays Completed);
    /// disable: -> Disabled. Leaving Degraded sets the condition Degraded=False.
    vigy_record set_enabled(std::string_view name_or_id, bool enabled,
                            std::optional<std::int64_t> expected_resource_version = std::nullopt);

    /// Moves a vigy to lifecycle `state` with `reason` (supervision, a finished
    /// one-shot, `vigy reset`), in one transaction with a resource version bump.
    /// When `only_from` is given and the current state is not one of them, nothing
    /// is written and the record is returned as it is (a vigy an operator disabled
    /// during its last run stays Disabled). `condition` (if given) is set on the
    /// vigy as a tick would (run_seq 0). NOT_FOUND. Always bumps the version when it
    /// writes, even to the same state (a reset clears the supervision window).
    vigy_record set_state(std::string_view name_or_id, std::string_view state, std::string_view reason,
                          const std::vector<std::string>& only_from = {},
                          const std::optional<condition_update>& condition = std::nullopt);

    /// Deletes a vigy and returns what it was. Unless `keep_history`, also deletes its
    /// runs, kv, conditions, events and revisions; with it, they stay (and come back
    /// when the name is registered again). Pending tick requests fail. NOT_FOUND, ABORTED.
    vigy_record delete_vigy(std::string_view name_or_id, bool keep_history = false,
                            std::optional<std::int64_t> expected_resource_version = std::nullopt);

    /// Stored spec of a past revision: (kind, config_json); nullopt if unknown.
    [[nodiscard]] std::optional<std::pair<std::string, std::string>> get_revision(std::string_view vigy_id,
                                                                                  std::string_view revision);

    // ---- the change feed (cheap; safe to poll every few hundred ms) ----

    /// The database-wide change counter: bumped in the same transaction as every
    /// change to a vigy, by any process. A vigy's resource_version is its value then.
    [[nodiscard]] std::int64_t change_seq();
    /// change_seq() for a caller that must not wait (an event loop): nullopt, at once,
    /// when another thread is reading it, when SQLite would have to wait for a lock
    /// (busy), on any error, or before the first change_seq() opened its connection.
    /// Never throws. Any thread.
    [[nodiscard]] std::optional<std::int64_t> try_change_seq() noexcept;

    /// The vigies changed after `resource_version`, one entry per vigy (its last
    /// change), in change order; `gone` when the cursor is older than the compaction
    /// floor. A vigy deleted and re-created in the window appears as DELETED and ADDED.
    [[nodiscard]] vigy_changes changes_since(std::int64_t resource_version);

    /// Change notification (vigy/store/notify.hpp): a new listener on its own connection,
    /// LISTENing on every topic when it returns (a change committed after that is
    /// notified), owned by the caller. nullptr where the engine offers none (SQLite: poll
    /// change_seq(), runs_after(), claim_tick_requests()). Never throws for an
    /// unreachable server: the listener then reports `lost` on its first wait and keeps
    /// trying. Blocks up to listen_options::connect_timeout_ms. Any thread.
    [[nodiscard]] std::unique_ptr<change_listener> listen(const listen_options& options = {});

    // ---- ticks ----

    /// The background writer. Throws FAILED_PRECONDITION `writer not started` when
    /// opened with start_writer = false.
    [[nodiscard]] class writer& writer();

    /// Commits one tick synchronously (CLI one-shot ticks). Returns the result (a
    /// rejected commit is a result, not a throw; UNAVAILABLE throws when the database
    /// stays locked). Assigns commit.run.id when empty.
    commit_result commit_now(tick_commit& commit);

    // ---- reads ----

    /// Runs of a vigy (by id), newest first (by seq), at most `limit`.
    [[nodiscard]] std::vector<run_record> recent_runs(std::string_view vigy_id, std::size_t limit = 20);

    /// Runs with seq > after_seq in ascending seq order, at most `limit`; only
    /// `vigy_id`'s when non-empty. The tail / watch cursor: pass the last seq seen.
    [[nodiscard]] std::vector<run_record> runs_after(std::int64_t after_seq, std::string_view vigy_id = {},
                                                     std::size_t limit = 1000);

    /// The seq after which runs_after finds the runs started at or after `since_ms`
    /// (runs commit in about start order; a few runs started up to a minute before may
    /// follow it, callers filter).
    [[nodiscard]] std::int64_t seq_before_started(std::int64_t since_ms);

    /// One run by id; nullopt if absent (or pruned). INVALID_ARGUMENT for a malformed id.
    [[nodiscard]] std::optional<run_record> get_run(std::string_view run_id);

    /// Highest committed seq (0 when no run yet).
    [[nodiscard]] std::int64_t last_seq();

    /// Lowest retained seq (0 when no run): a run cursor below oldest_seq() - 1 has
    /// lost runs to retention ("gone").
    [[nodiscard]] std::int64_t oldest_seq();

    /// Number of stored runs of a vigy (all vigies when empty).
    [[nodiscard]] std::int64_t count_runs(std::string_view vigy_id = {});

    /// A vigy's tick clock, from its newest successful run (or the retention mark).
    [[nodiscard]] tick_clock tick_clock_of(std::int64_t vigy_key);

    /// The kv of a vigy (by id) ordered by key.
    [[nodiscard]] std::vector<kv_entry> kv(std::string_view vigy_id);

    /// The kv of a vigy by key: key -> JSON text (what the runtime hydrates).
    [[nodiscard]] std::map<std::string, std::string> kv_map_of(std::int64_t vigy_key);

    /// Current conditions of a vigy (by id), ordered by type.
    [[nodiscard]] std::vector<condition> conditions(std::string_view vigy_id);

    /// Recent events of a vigy (all when empty), newest last_ms first, at most `limit`.
    [[nodiscard]] std::vector<event> events(std::string_view vigy_id = {}, std::size_t limit = 50);

    // ---- scheduler lease (synchronous) ----

    /// Takes the lease if free, no longer live (lease_live), or already `owner`'s
    /// (then renewed, same token). Returns the token held afterwards, or nullopt when
    /// another live holder has it. A new owner gets a new token, and tick requests
    /// claimed under older tokens go back to pending (their scheduler is gone).
    std::optional<std::int64_t> acquire_lease(const lease_request& request);

    /// Takes the lease from a holder known to be gone (its process no longer exists),
    /// live or not: a compare-and-swap on `dead_owner`. Returns the new token, or
    /// nullopt when the lease moved on meanwhile (or is free: use acquire_lease).
    std::optional<std::int64_t> take_over_lease(std::string_view dead_owner, const lease_request& request);

    /// Extends our lease; false when `request.owner` no longer holds `token`.
    bool renew_lease(const lease_request& request, std::int64_t token);

    /// Releases if we hold it with `token` (no-op otherwise).
    void release_lease(std::string_view owner, std::int64_t token);

    /// The lease row, live or not; nullopt when free.
    [[nodiscard]] std::optional<lease_info> lease_row();

    // ---- cluster (PostgreSQL; synchronous; one write transaction each) ----

    /// One round for `request.owner`: heartbeat; renew every shard it holds (even one
    /// that expired, while nobody took it); release the highest-numbered shards above its
    /// share; acquire free or expired shards (free first, lowest first) up to its share,
    /// each under epoch + 1, putting the tick requests claimed under an earlier epoch of
    /// an acquired shard back to pending (claim_cluster_tick_requests). Throws INVALID_ARGUMENT for an empty owner or
    /// lease_ms <= 0, FAILED_PRECONDITION on SQLite, UNAVAILABLE when the server is unreachable (then nothing changed).
    cluster_round cluster_heartbeat(const cluster_request& request);

    /// Releases every shard `owner` holds and removes its host row (a clean leave).
    void cluster_leave(std::string_view owner);

    /// Hosts (live ones first, then by owner) and all shard leases (by shard).
    [[nodiscard]] cluster_view cluster_status();

    // ---- forced-tick requests ----

    /// Queues a forced tick of the vigy `vigy_id` for the scheduler. Returns the request
    /// id. NOT_FOUND if the vigy does not exist.
    /// `trigger_json` (a (vigy-trigger) map as JSON, or "") makes it a trigger.
    std::int64_t enqueue_tick_request(std::string_view vigy_id, std::string_view requester,
                                      std::string_view trigger_json = {});

    /// Marks a claimed request done with run `run_id` (a trigger coalesced into
    /// the run of a later one). No-op unless it is claimed, and, when `claimed_token` is
    /// not 0, claimed under that token; a cluster claim (`claimed_token` < 0) only while
    /// its shard is still held under that epoch, checked in one transaction under the
    /// write lock every shard lease change takes. INVALID_ARGUMENT when `run_id` is not
    /// a UUID.
    void complete_tick_request(std::int64_t request_id, std::string_view run_id, std::int64_t claimed_token = 0);

    /// Claims up to `limit` pending requests (oldest first) for the holder of `token`
    /// (the scheduler lease). Cheap to poll: takes the write lock only when something is
    /// pending.
    std::vector<tick_request> claim_tick_requests(std::int64_t token, std::size_t limit = 64);

    /// Cluster mode (PostgreSQL): claims up to `limit` pending requests (oldest first) for
    /// vigies whose shard cluster host `owner` holds under the epoch `held` names for it,
    /// as checked in the claiming transaction (under the write lock every shard lease
    /// change takes): a shard taken over, released, or held under another epoch than
    /// given is skipped. Each is claimed with claimed_token = -epoch. A claim whose shard
    /// is acquired again later (a takeover, or a release then an acquisition) goes back
    /// to pending in the acquiring transaction (cluster_heartbeat), so its new holder runs
    /// it; the old holder can neither complete nor fail it (its commit is fenced by the
    /// shard's epoch). Cheap to poll: takes the write lock only when a request of a held
    /// shard is pending. FAILED_PRECONDITION on SQLite; INVALID_ARGUMENT for an empty owner.
    std::vector<tick_request> claim_cluster_tick_requests(std::string_view owner, const std::vector<shard_fence>& held,
                                                          std::size_t limit = 64);

    /// Marks a request failed with `code` and `error` (a done request is marked by its
    /// commit) — only while it is pending or claimed, and, when `claimed_token` is not 0,
    /// only while it is claimed under that token (a scheduler that lost its lease cannot
    /// fail a request its successor took over); a cluster claim (`claimed_token` < 0)
    /// only while its shard is still held under that epoch (checked as in
    /// complete_tick_request), so a host that lost the shard leaves it to the new holder.
    void fail_tick_request(std::int64_t request_id, vigy_status code, std::string_view error,
                           std::int64_t claimed_token = 0);

    /// Fails the request with UNAVAILABLE and `error` (a requester giving up) only while
    /// it is still pending, or (PostgreSQL) claimed by a cluster host whose shard is no
    /// longer held under the claim's epoch (that host can no longer commit it). Returns
    /// false when it was claimed by a holder that still can (or finished) meanwhile.
    bool cancel_tick_request(std::int64_t request_id, std::string_view error);

    /// A request by id; nullopt if unknown.
    [[nodiscard]] std::optional<tick_request> get_tick_request(std::int64_t request_id);

    // ---- maintenance ----

    /// Prunes by `policy` now (synchronously, all chunks). Returns runs deleted.
    std::int64_t prune(const retention_policy& policy);

    /// `PRAGMA integrity_check` result: "ok" when healthy.
    [[nodiscard]] std::string integrity_check();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace vigy::store

#endif  // VIGY_STORE_STORE_HPP
