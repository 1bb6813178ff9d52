// store/src/db.hpp — private SQLite/SOCI plumbing shared by the store and the writer:
// opening sessions with our PRAGMAs, native exec, BEGIN IMMEDIATE guards, error mapping,
// and the statement set that applies one tick commit.
#pragma once

#include "vigy/store/store.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <memory>
#include <string>

namespace vigy::store::detail {

/// Open a SOCI sqlite3 session on `path` with busy_timeout, WAL, synchronous=NORMAL and
/// foreign_keys=ON. Throws vigy::store::error.
std::unique_ptr<soci::session> open_session(const std::string& path, int busy_timeout_ms);

/// The native connection of a SOCI sqlite3 session.
sqlite_api::sqlite3* native(soci::session& sql);

/// sqlite3_changes() of the session's connection (rows touched by the last statement).
int api_changes(soci::session& sql);

/// sqlite3_exec on the session's connection; throws vigy::store::error (busy mapped).
void exec(soci::session& sql, const std::string& path, const char* sql_text);

/// Map any exception from SOCI/SQLite to vigy::store::error, naming `path`; `what` says
/// what was being done ("registering vigy \"x\"").
[[noreturn]] void rethrow(const std::string& path, const std::string& what);

/// True when `code` (a SQLite primary result code) means "locked by someone else".
bool is_busy_code(int code) noexcept;

/// RAII `BEGIN IMMEDIATE` … `COMMIT`; rolls back if not committed.
class immediate_tx {
public:
    immediate_tx(soci::session& sql, const std::string& path);
    ~immediate_tx();
    immediate_tx(const immediate_tx&) = delete;
    immediate_tx& operator=(const immediate_tx&) = delete;
    void commit();

private:
    soci::session& sql_;
    const std::string& path_;
    bool open_ = true;
};

/// Apply migrations up to schema_version_supported (no-op when current); refuse newer.
void migrate(soci::session& sql, const std::string& path);

/// Validate a commit before it is queued (JSON buffers, timestamps, statuses, types).
/// Normalizes condition statuses and event types in place; assigns a run id if empty.
void validate_commit(tick_commit& commit);

/// Thrown by commit_applier::apply on the fast path when a commit failed part-way.
struct needs_savepoints {};

/// Prepared statements that apply tick commits on one session (writer or sync session).
class commit_applier {
public:
    explicit commit_applier(soci::session& sql);
    ~commit_applier();
    commit_applier(const commit_applier&) = delete;
    commit_applier& operator=(const commit_applier&) = delete;

    /// Call after each BEGIN: forgets which vigies were seen to exist (valid only while
    /// this transaction holds the write lock).
    void begin_batch();

    /// Apply one validated commit inside the caller's transaction. A commit for a missing
    /// vigy is rejected before anything is written. `careful`: wrap it in a SAVEPOINT, so a
    /// failure part-way leaves nothing of it and the result says why. Not careful (fast
    /// path, ~12% cheaper): a failure part-way throws needs_savepoints and the caller must
    /// roll the transaction back and redo the batch carefully. Busy always throws.
    commit_result apply(const tick_commit& commit, const std::string& path, bool careful);

private:
    void write(const tick_commit& commit, const std::string& path);

    struct statements;
    soci::session& sql_;
    std::unique_ptr<statements> st_;
    long long last_seq_ = 0;
};

/// Throw error(invalid_argument) `<what> is not valid json: ...` unless `text` is one JSON value.
void validate_json(const std::string& text, const char* what);

/// Start the writer thread on its own session.
std::unique_ptr<writer> start_writer(const std::string& path, const open_options& options);

/// Delete up to `chunk` runs that violate `policy`. Returns rows deleted (0 = nothing left).
/// Must run inside a write transaction. `cursor` is the round-robin vigy id for the count rule.
std::int64_t prune_step(soci::session& sql, const retention_policy& policy, std::string& cursor);

}  // namespace vigy::store::detail
