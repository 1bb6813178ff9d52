// vigy/store/store.hpp — persistence for vigy: vigies, runs, kv, conditions, events,
// scheduler coordination, on one SQLite database (WAL) through SOCI.
//
// The store speaks plain C++ types; every tick buffer and kv value is JSON TEXT (the
// host converts its values to JSON before handing them over). Nothing here depends on
// host/ or sdk/ types.
//
// Threading: a `store` is thread-safe. Synchronous writes (register, enable, delete,
// lease, tick requests, commit_now) are serialized on one dedicated write session;
// reads use a small pool of read sessions; tick commits go through the `writer`, which
// owns its own session and one thread that group-commits queued commits.
//
// Timestamps are RFC 3339 UTC strings with milliseconds, always 24 characters:
// "2026-05-21T12:00:00.123Z" (fixed width, so they sort lexicographically).
//
// Errors: every function may throw `vigy::store::error` (see `error_code`). A locked
// database (busy beyond the busy timeout) is `error_code::busy` with a message naming
// the database path; nothing is partially written in that case.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigy::store {

// ---------------------------------------------------------------------------------
// errors

/// What went wrong, coarse enough for a caller to decide what to do.
enum class error_code {
    not_found,         ///< the named vigy / run / request does not exist
    invalid_argument,  ///< the caller passed something malformed (message says what)
    busy,              ///< the database stayed locked beyond the busy timeout; retry later
    newer_schema,      ///< the database was written by a newer vigy; refuse to touch it
    io,                ///< anything else from SQLite or the filesystem
};

/// The one exception type the store throws. Messages are lowercase, no trailing period,
/// e.g. `vigy "foo" not found`.
class error : public std::runtime_error {
public:
    error(error_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
    /// The category of the failure.
    [[nodiscard]] error_code code() const noexcept { return code_; }

private:
    error_code code_;
};

/// Lowercase name of an error code ("not_found", "busy", ...).
[[nodiscard]] const char* to_string(error_code code) noexcept;

// ---------------------------------------------------------------------------------
// helpers (pure, thread-safe)

/// The schema version this build writes and understands (databases up to it open).
inline constexpr int schema_version_supported = 2;

/// Minimum and default tick interval, ms.
inline constexpr std::int64_t min_interval_ms = 100;
inline constexpr std::int64_t default_interval_ms = 1000;

/// Stable vigy id for a name: the first 16 lowercase hex digits of SHA-256(name).
[[nodiscard]] std::string vigy_id_for(std::string_view name);

/// Content hash of a reconciler spec: first 16 lowercase hex digits of
/// SHA-256(kind ‖ 0x00 ‖ config_json), over the exact bytes given.
[[nodiscard]] std::string revision_for(std::string_view kind, std::string_view config_json);

/// A new run id: UUID version 7 (RFC 9562) as 36-char lowercase hyphenated text.
/// 48-bit Unix ms timestamp + 74 random bits from a per-thread std::mt19937_64 seeded from
/// std::random_device (Debian 12 ships no UUIDv7 library). Thread-safe.
[[nodiscard]] std::string new_run_id();

/// Format a time point as RFC 3339 UTC with milliseconds ("...T12:00:00.123Z").
[[nodiscard]] std::string format_timestamp(std::chrono::system_clock::time_point tp);

/// `format_timestamp(std::chrono::system_clock::now())`.
[[nodiscard]] std::string now_timestamp();

/// Parse a timestamp in exactly the format `format_timestamp` writes.
/// Throws error(invalid_argument) otherwise.
[[nodiscard]] std::chrono::system_clock::time_point parse_timestamp(std::string_view text);

/// Milliseconds since the Unix epoch, from the system clock.
[[nodiscard]] std::int64_t now_unix_ms();

/// Label map: sorted by key.
using label_map = std::map<std::string, std::string>;

/// Validate a label key: 1..253 chars of [A-Za-z0-9-_./].
/// Throws error(invalid_argument) `invalid label key "<k>": <reason>`.
void validate_label_key(std::string_view key);

/// Parsed label selector: comma-separated `k=v` clauses, AND semantics. Pieces are
/// trimmed, empty pieces skipped (so "" selects everything), each piece split at its first
/// `=`; `k=` matches an existing empty value.
/// Throws error(invalid_argument) `invalid label selector "<s>": expected key=value`
/// for any clause without `=` or with an empty key (checked up front, not lazily).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> parse_selector(std::string_view selector);

/// True when `labels` satisfies every clause of `parse_selector(selector)`.
[[nodiscard]] bool matches_selector(const label_map& labels, std::string_view selector);

// ---------------------------------------------------------------------------------
// vigies

/// Per-tick limits; 0 means "the runtime's default".
struct limits {
    std::int64_t fuel = 0;          ///< evaluation steps per tick
    std::int64_t wall_ms = 0;       ///< wall-clock ms per tick
    std::int64_t memory_bytes = 0;  ///< bytes per tick
    std::int64_t max_depth = 0;     ///< recursion depth
    friend bool operator==(const limits&, const limits&) = default;
};

/// What a caller registers. `name` is the identity users type.
struct vigy_spec {
    std::string name;                       ///< non-empty, <= 253 bytes, no control characters
    std::string kind;                       ///< reconciler kind ("lisp", "chain", "noop", ...), non-empty
    std::string config_json = "{}";         ///< reconciler config, must be valid JSON
    std::int64_t interval_ms = default_interval_ms;  ///< >= 100
    std::optional<bool> enabled;            ///< nullopt: new vigies enabled, existing keep theirs
    label_map labels;                       ///< replaces the labels wholesale; keys validated
    struct limits limits;                   ///< each >= 0
};

/// A registered vigy as stored.
struct vigy_record {
    std::string id;            ///< vigy_id_for(name), 16 lowercase hex
    std::string name;
    std::string kind;
    std::string config_json;
    std::string revision;      ///< revision_for(kind, config_json)
    std::int64_t interval_ms = default_interval_ms;
    bool enabled = true;
    label_map labels;
    struct limits limits;
    std::string created_at;    ///< RFC 3339 ms; kept across updates
    std::string updated_at;    ///< RFC 3339 ms; bumped by every change
    std::int64_t generation = 0;  ///< store generation of this row's last change
};

/// Outcome of register_or_update.
enum class register_outcome {
    created,    ///< the name was new
    updated,    ///< the name existed and something changed (revision, interval, labels, limits, enabled)
    unchanged,  ///< identical to what was stored; nothing written, generation not bumped
};

/// Lowercase name: "created", "updated", "unchanged".
[[nodiscard]] const char* to_string(register_outcome outcome) noexcept;

/// Result of register_or_update.
struct register_result {
    register_outcome outcome = register_outcome::unchanged;
    bool revision_changed = false;  ///< true when created, or updated with a new kind/config
    std::string previous_revision;  ///< updated/unchanged: the revision stored before the call; "" when created
    vigy_record vigy;               ///< the stored row after the call
};

/// Changes to the vigies table after a generation (for a scheduler polling other processes).
/// Apply `deleted_ids` first, then `upserted`: a vigy deleted and re-created in the window
/// appears in both.
struct vigy_changes {
    std::int64_t generation = 0;           ///< current generation; pass it next time
    std::vector<vigy_record> upserted;     ///< created or changed (incl. enable/disable)
    std::vector<std::string> deleted_ids;  ///< ids deleted (history may remain)
};

// ---------------------------------------------------------------------------------
// runs, conditions, events, kv

/// Result of a run.
enum class run_result { ok, failed, skipped };

/// "ok" | "failed" | "skipped".
[[nodiscard]] const char* to_string(run_result r) noexcept;
/// Inverse of to_string; throws error(invalid_argument) for anything else.
[[nodiscard]] run_result parse_run_result(std::string_view text);

/// One recorded tick. Every buffer is JSON text (validated on submit, stored verbatim).
struct run_record {
    std::string id;            ///< UUIDv7; empty on submit = the store assigns new_run_id()
    std::int64_t seq = 0;      ///< assigned at commit; strictly increasing in commit order (tail cursor)
    std::string vigy_id;
    std::string revision;      ///< revision of the spec that ran
    std::string started_at;    ///< RFC 3339 ms (format_timestamp)
    std::string ended_at;      ///< RFC 3339 ms
    run_result result = run_result::ok;
    std::string error;         ///< empty unless failed
    std::int64_t duration_ms = 0;  ///< >= 0
    std::int64_t duration_us = 0;  ///< >= 0, µs; 0 on submit = duration_ms * 1000 (runs from schema 1 read back so)
    std::string trigger = "schedule";  ///< why it ran: "schedule" | "forced" (schema 1 runs read back "schedule")
    std::int64_t tick_count = 0;   ///< >= 0, the tick_count the reconciler saw (0: unknown, e.g. schema 1 runs)
    std::string kv_writes_json = "{}";   ///< kv written with the run, {key: value} (informational; kv_upserts apply)
    std::string kv_deletes_json = "[]";  ///< kv deleted with the run, [key] (informational; kv_deletes apply)
    std::string actions_json = "[]";
    std::string desired_json = "{}";
    std::string observed_json = "{}";
    std::string conditions_json = "[]";
    std::string log_json = "[]";
    std::string trace_json = "[]";
    std::string metrics_json = "[]";
    std::string events_json = "[]";
    std::string output_json = "null";
};

/// One kv entry of a vigy.
struct kv_record {
    std::string key;
    std::string value_json;
    std::string updated_at;  ///< RFC 3339 ms: ended_at of the run that last wrote it
};

/// A condition as set during a tick. `status` is "true" | "false" | "unknown"
/// (case-insensitive on input, stored lowercase).
struct condition_update {
    std::string name;     ///< non-empty
    std::string status;
    std::string reason;   ///< may be empty
    std::string message;  ///< may be empty
};

/// Current condition of a vigy (latest per name wins).
struct condition_record {
    std::string vigy_id;
    std::string name;
    std::string status;           ///< "true" | "false" | "unknown"
    std::string reason;
    std::string message;
    std::string last_transition;  ///< moves only when `status` changes
    std::string updated_at;       ///< last time it was set
    std::string run_id;           ///< run that last set it
};

/// An event emitted during a tick. `type` is "Normal" | "Warning" (case-insensitive on
/// input, stored capitalized).
struct event_update {
    std::string type;
    std::string reason;   ///< non-empty
    std::string message;
};

/// A deduplicated event: same vigy + type + reason + message bumps `count` and `last_seen`.
struct event_record {
    std::int64_t id = 0;
    std::string vigy_id;
    std::string type;
    std::string reason;
    std::string message;
    std::int64_t count = 1;
    std::string first_seen;
    std::string last_seen;
    std::string run_id;  ///< run that emitted it last
};

/// Everything one tick writes; committed atomically (all or nothing).
/// For a run with result `failed`, kv_upserts and kv_deletes are ignored (a failed run
/// carries no kv); conditions and events are applied as given.
struct tick_commit {
    run_record run;
    std::vector<std::pair<std::string, std::string>> kv_upserts;  ///< key -> JSON text, in order
    std::vector<std::string> kv_deletes;                          ///< applied after upserts
    std::vector<condition_update> conditions;
    std::vector<event_update> events;
    std::optional<std::int64_t> tick_request_id;  ///< if set, that request is marked done with this run
};

/// Outcome of one tick commit.
struct commit_result {
    bool ok = false;
    std::string run_id;
    std::int64_t seq = 0;            ///< the run's seq when ok
    error_code code = error_code::io;  ///< when !ok
    std::string error;                 ///< when !ok, e.g. `vigy 3f2a... not found (deleted?)`
};

// ---------------------------------------------------------------------------------
// scheduler coordination

/// The scheduler lease: at most one live holder per database.
struct lease_info {
    std::string owner;              ///< opaque token of the holder (e.g. "host:pid:random")
    std::int64_t pid = 0;
    std::string host;
    std::int64_t acquired_ms = 0;   ///< Unix ms
    std::int64_t heartbeat_ms = 0;  ///< Unix ms of the last acquire/renew
    std::int64_t expires_ms = 0;    ///< Unix ms; after it anyone may take the lease
};

/// A forced-tick request (`vigy tick NAME` while a scheduler runs).
struct tick_request {
    std::int64_t id = 0;
    std::string vigy_id;
    std::string requester;
    std::string state;        ///< "pending" | "claimed" | "done" | "failed"
    std::int64_t requested_ms = 0;
    std::int64_t claimed_ms = 0;
    std::int64_t done_ms = 0;
    std::string run_id;       ///< set when done (or failed with a run)
    std::string error;        ///< set when failed
};

// ---------------------------------------------------------------------------------
// options

/// Retention. A run is pruned when it is outside the newest `keep_runs` of its vigy, OR
/// older than `max_age` (judged in commit order: the oldest runs by seq go first). 0
/// disables that rule. Defaults: keep 1000 runs per vigy and 7 days. Each vigy also keeps
/// its `keep_events` most recently seen events (default 1000). Housekeeping on the same
/// pass: finished tick requests are dropped after 1 hour, deletion tombstones (what
/// changes_since reports) after 7 days. Pruning happens in the background on the writer
/// thread, between batches, in chunks of about `prune_chunk` rows (scaled up to keep pace
/// with the insert rate), at most every `prune_interval`.
struct retention_policy {
    std::int64_t keep_runs = 1000;
    std::chrono::milliseconds max_age = std::chrono::hours(24 * 7);
    std::int64_t keep_events = 1000;
    std::int64_t prune_chunk = 500;
    std::chrono::milliseconds prune_interval = std::chrono::seconds(1);
};

/// Writer tuning.
struct writer_options {
    std::size_t max_batch = 1024;     ///< max tick commits per BEGIN IMMEDIATE ... COMMIT
    std::size_t max_queued = 65536;   ///< submit() blocks while this many are queued (backpressure)
    bool background_prune = true;     ///< prune per `retention` between batches
    std::int64_t cache_kib = 65536;   ///< SQLite page cache of the writer session, KiB (64 MiB; used as needed)
};

/// How to open a store.
struct open_options {
    std::string path;                        ///< file path, or ":memory:" (a private temp file deleted on close)
    int busy_timeout_ms = 5000;              ///< SQLite busy_timeout on every session
    std::size_t read_sessions = 2;           ///< size of the read session pool (>= 1)
    retention_policy retention;
    writer_options writer;
    bool start_writer = true;                ///< false: no writer thread (CLI one-shot use)
};

// ---------------------------------------------------------------------------------
// the writer

/// Writer statistics (monotonic counters since open).
struct writer_stats {
    std::uint64_t submitted = 0;
    std::uint64_t committed = 0;     ///< tick commits durable (ok)
    std::uint64_t failed = 0;        ///< tick commits rejected
    std::uint64_t transactions = 0;  ///< BEGIN IMMEDIATE ... COMMIT count
    std::uint64_t pruned_runs = 0;
    std::uint64_t busy_us = 0;       ///< wall µs the writer thread spent inside commit transactions
    std::uint64_t cpu_us = 0;        ///< CPU µs the writer thread spent inside commit transactions
    std::size_t queued = 0;          ///< currently waiting
};

/// Completion callback: called once per submitted commit on the writer thread, after the
/// transaction containing it committed (or failed). Must be quick and must not throw
/// (exceptions are swallowed) and must not call flush()/stop() of this writer. It may
/// submit() again (from the writer thread, submit never blocks on a full queue).
using commit_callback = std::function<void(const commit_result&)>;

/// The single writer: one thread owning one write session that group-commits queued
/// tick commits, up to `max_batch` per transaction (it takes whatever is queued, so batches
/// grow with load and a lone commit is not delayed). One bad commit fails alone and leaves
/// nothing partial; the others in the batch commit: a commit for a deleted vigy is
/// rejected before it writes anything, and if a commit fails part-way the transaction is
/// rolled back and the batch redone with a SAVEPOINT per commit. A database locked by
/// another process is retried (3 BEGIN IMMEDIATE attempts, each waiting busy_timeout)
/// before the batch's commits complete with error_code::busy, nothing written.
/// Obtained from store::writer(); thread-safe. The thread is named "vigy-writer".
class writer {
public:
    virtual ~writer() = default;

    /// Queue a commit; `done` is called when it is durable or failed.
    /// Validates JSON buffers, timestamps, condition statuses and event types first:
    /// throws error(invalid_argument) without queueing. Blocks while the queue is full.
    /// Throws error(io) `writer stopped` after stop().
    virtual void submit(tick_commit commit, commit_callback done) = 0;

    /// Queue a commit; the future becomes ready when it is durable or failed.
    [[nodiscard]] virtual std::future<commit_result> submit(tick_commit commit) = 0;

    /// Block until every commit submitted before this call has completed.
    virtual void flush() = 0;

    /// Drain the queue (every queued commit completes), then stop the thread.
    /// Idempotent; called by ~store.
    virtual void stop() = 0;

    /// Counters so far.
    [[nodiscard]] virtual writer_stats stats() const = 0;
};

// ---------------------------------------------------------------------------------
// the store

/// An open vigy database. Construction opens (creating parent directories), sets the
/// PRAGMAs (journal_mode=WAL, busy_timeout, synchronous=NORMAL, foreign_keys=ON) and
/// applies pending migrations in one transaction. Throws error(newer_schema)
/// `database schema version 7 is newer than this vigy (supports up to 2); upgrade vigy`,
/// error(busy) naming the path if locked, error(io) if it cannot be opened.
class store {
public:
    /// Open (see class comment).
    explicit store(open_options options);
    /// Stops the writer (draining its queue) and closes every session.
    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    /// The database path as opened (the temp file for ":memory:").
    [[nodiscard]] const std::string& path() const noexcept;

    /// Schema version recorded in the database.
    [[nodiscard]] int schema_version();

    // ---- vigies (synchronous writes on the write session) ----

    /// Create the vigy `spec.name`, or update it when it exists (id and created_at kept;
    /// a new kind/config yields a new revision). Every change bumps the generation.
    /// Throws error(invalid_argument) for a bad spec (`invalid tick interval 50 ms: must
    /// be >= 100`, `invalid label key ...`, `config is not valid json: ...`, ...).
    register_result register_or_update(const vigy_spec& spec);

    /// Find by exact name first, then by id. nullopt when neither matches.
    [[nodiscard]] std::optional<vigy_record> find_vigy(std::string_view name_or_id);

    /// Like find_vigy; throws error(not_found) `vigy "<x>" not found`.
    [[nodiscard]] vigy_record get_vigy(std::string_view name_or_id);

    /// All vigies ordered by name, filtered by a label selector (see parse_selector).
    /// Throws error(invalid_argument) for a malformed selector.
    [[nodiscard]] std::vector<vigy_record> list_vigies(std::string_view selector = {});

    /// Enable or disable. Returns the record after the call; no-op (no generation bump)
    /// when already in that state. Throws error(not_found).
    vigy_record set_enabled(std::string_view name_or_id, bool enabled);

    /// Delete a vigy. Unless `keep_history`, also deletes its runs, kv, conditions,
    /// events, revisions and pending tick requests, in the same transaction.
    /// Throws error(not_found).
    void delete_vigy(std::string_view name_or_id, bool keep_history = false);

    /// Stored spec of a past revision: (kind, config_json); nullopt if unknown.
    [[nodiscard]] std::optional<std::pair<std::string, std::string>> get_revision(std::string_view vigy_id,
                                                                                  std::string_view revision);

    // ---- change detection (cheap; safe to poll every few hundred ms) ----

    /// Current generation: bumped in the same transaction as every change to the vigies
    /// table (by any process).
    [[nodiscard]] std::int64_t vigies_generation();

    /// Vigies changed and ids deleted after `since_generation`.
    [[nodiscard]] vigy_changes changes_since(std::int64_t since_generation);

    // ---- ticks ----

    /// The background writer. Throws error(io) `writer not started` when opened with
    /// start_writer = false.
    [[nodiscard]] class writer& writer();

    /// Commit one tick synchronously on the write session (CLI one-shot ticks).
    /// Returns the result (never throws for a rejected commit except invalid_argument on
    /// validation and busy when the database stays locked).
    commit_result commit_now(tick_commit commit);

    // ---- reads (read sessions) ----

    /// Runs of a vigy, newest first (by seq), at most `limit`.
    [[nodiscard]] std::vector<run_record> recent_runs(std::string_view vigy_id, std::size_t limit = 20);

    /// Runs with seq > after_seq in ascending seq order, at most `limit`; only `vigy_id`'s when
    /// non-empty. The tail cursor: pass the last seq seen.
    [[nodiscard]] std::vector<run_record> runs_after(std::int64_t after_seq, std::string_view vigy_id = {},
                                                     std::size_t limit = 1000);

    /// One run by id; nullopt if absent (or pruned).
    [[nodiscard]] std::optional<run_record> get_run(std::string_view run_id);

    /// Highest committed seq (0 when no run yet). `vigy tail` starts here.
    [[nodiscard]] std::int64_t last_seq();

    /// Number of stored runs of a vigy (all vigies when empty).
    [[nodiscard]] std::int64_t count_runs(std::string_view vigy_id = {});

    /// The kv map of a vigy: key -> JSON text.
    [[nodiscard]] std::map<std::string, std::string> kv(std::string_view vigy_id);

    /// The kv of a vigy with when each entry was last written, ordered by key.
    [[nodiscard]] std::vector<kv_record> kv_entries(std::string_view vigy_id);

    /// Current conditions of a vigy, ordered by name.
    [[nodiscard]] std::vector<condition_record> conditions(std::string_view vigy_id);

    /// Recent events of a vigy (all when empty), newest last_seen first, at most `limit`.
    [[nodiscard]] std::vector<event_record> events(std::string_view vigy_id = {}, std::size_t limit = 50);

    // ---- scheduler lease (synchronous; "now" is the system clock in Unix ms) ----

    /// Take the lease if free, expired, or already ours (then it is renewed).
    /// Returns true when `owner` holds it afterwards for `ttl_ms`.
    bool acquire_lease(std::string_view owner, std::int64_t pid, std::string_view host, std::int64_t ttl_ms);

    /// Take the lease from a holder known to be gone (its process no longer exists): replace
    /// it with `owner` for `ttl_ms` only when the current holder is still `dead_owner`
    /// (expired or not). A compare-and-swap: false when the lease moved on meanwhile (or is
    /// free: use acquire_lease then). The caller decides that `dead_owner` is dead.
    /// Throws error(invalid_argument) for an empty owner / dead_owner or ttl_ms <= 0.
    bool take_over_lease(std::string_view dead_owner, std::string_view owner, std::int64_t pid,
                         std::string_view host, std::int64_t ttl_ms);

    /// Extend our lease; false when we no longer hold it (expired and taken, or released).
    bool renew_lease(std::string_view owner, std::int64_t ttl_ms);

    /// Release if we hold it (no-op otherwise).
    void release_lease(std::string_view owner);

    /// Current unexpired holder, or nullopt.
    [[nodiscard]] std::optional<lease_info> lease_holder();

    // ---- forced-tick requests ----

    /// Queue a forced tick of `vigy_id` for the scheduler. Returns the request id.
    /// Throws error(not_found) if the vigy does not exist.
    std::int64_t enqueue_tick_request(std::string_view vigy_id, std::string_view requester);

    /// Claim up to `limit` pending requests (oldest first), marking them claimed. Cheap to
    /// poll: takes the write lock only when something is pending.
    std::vector<tick_request> claim_tick_requests(std::size_t limit = 64);

    /// Mark a request done (with the run it produced) or failed (with `error`).
    /// (A tick_commit with tick_request_id does this atomically with the run.)
    void complete_tick_request(std::int64_t request_id, std::string_view run_id, std::string_view error = {});

    /// A request by id; nullopt if unknown.
    [[nodiscard]] std::optional<tick_request> get_tick_request(std::int64_t request_id);

    // ---- maintenance ----

    /// Prune by `policy` now (synchronously, all chunks). Returns runs deleted.
    std::int64_t prune(const retention_policy& policy);

    /// `PRAGMA integrity_check` result: "ok" when healthy.
    [[nodiscard]] std::string integrity_check();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace vigy::store
