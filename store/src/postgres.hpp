// store/src/postgres.hpp — the one seam for PostgreSQL specifics (the counterpart of
// sqlite.hpp + soci_session.cpp + schema.cpp + the applier): SOCI postgresql sessions,
// the schema and its migrations, write transactions under the database-wide write lock,
// the statements that apply tick commits, and retention pruning. libpq and SOCI's
// backend header stay inside postgres.cpp (and notify.cpp, the LISTEN connection).
#pragma once

#include "backend.hpp"
#include "codec.hpp"
#include "postgres_errors.hpp"
#include "vigy/store/notify.hpp"
#include "vigy/store/store.hpp"

#include <soci/soci.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

namespace vigy::store::postgres {

/// What a session connects with: libpq's keyword form of the URL, and the server it
/// names for messages.
struct conninfo {
    std::string keywords;     ///< "host=127.0.0.1 port=5432 dbname=vigy ..." (may hold the password)
    std::string server;       ///< "127.0.0.1:5432" (no secrets)
    bool keepalives = false;  ///< the URL sets a keepalives* parameter itself
};

/// Translates `db.target` (a libpq URI) into keyword=value form with libpq's parser
/// (PQconninfoParse), adding connect_timeout=10 unless given. INVALID_ARGUMENT for a
/// URL libpq rejects or one whose values hold whitespace (the message shows db.display).
[[nodiscard]] conninfo to_keywords(const database& db);

/// Opens a SOCI postgresql session on `db.target` (a libpq URI); `lock_timeout_ms` bounds
/// waits for locks (the write lock), as busy_timeout does for SQLite. Throws status_error
/// (UNAVAILABLE when the server cannot be reached) naming `db.display`.
std::unique_ptr<soci::session> open_session(const database& db, int lock_timeout_ms);

/// True when `sql`'s connection is gone (the server closed it, restarted, or the
/// network failed). libpq learns it from a failed statement, so the statement that meets
/// a lost connection fails (UNAVAILABLE) and the next use can revive the session. Cost:
/// one non-blocking read of what the server sent (PQconsumeInput); call it between
/// statements only.
[[nodiscard]] bool connection_lost(soci::session& sql) noexcept;

/// When connection_lost(sql), reconnects it with the parameters it was opened with and
/// configures it as open_session does; returns whether it did. Statements prepared on
/// the old connection must be destroyed first. Throws status_error as open_session does
/// (UNAVAILABLE while the server is unreachable).
bool revive(soci::session& sql, const database& db, int lock_timeout_ms);

/// Applies the PostgreSQL migrations up to schema_version_supported in one transaction
/// under the write lock (concurrent openers migrate once); refuses a newer database.
void migrate(soci::session& sql, const std::string& display);

/// RAII write transaction: BEGIN and the write lock; rolls back unless committed.
/// Failures throw status_error naming `display`.
class write_tx {
public:
    write_tx(soci::session& sql, const std::string& display);
    ~write_tx();
    write_tx(const write_tx&) = delete;
    write_tx& operator=(const write_tx&) = delete;
    void commit();

private:
    soci::session& sql_;
    const std::string& display_;
    bool open_ = true;
};

/// Applies tick commits on one session (the writer's, or the store's synchronous
/// one); the same contract as detail::applier (store/src/applier.hpp).
class applier {
public:
    applier(soci::session& sql, const std::string& display);
    ~applier();
    applier(const applier&) = delete;
    applier& operator=(const applier&) = delete;

    void begin_batch();
    commit_result apply(tick_commit& commit, bool careful);

private:
    struct statements;
    void write(tick_commit& c);

    soci::session& sql_;
    const std::string& display_;
    std::unique_ptr<statements> st_;
    std::int64_t known_at_change_seq_ = -1;
    std::unordered_set<std::int64_t> known_;
    std::optional<std::int64_t> batch_token_;
    bool shards_loaded_ = false;                // shard_epochs_ read in this batch
    std::map<int, std::int64_t> shard_epochs_;  // held shards -> epoch, as of this batch
    codec::uuid uuid_{};
};

/// store::listen on PostgreSQL (notify.cpp): a listener connected (or, when it could
/// not connect, reporting `lost` on its first wait).
std::unique_ptr<change_listener> listen(const database& db, const listen_options& options);

/// detail::prune_step on PostgreSQL: inside a write transaction on `sql`.
std::int64_t prune_step(soci::session& sql, const retention_policy& policy, std::int64_t& cursor,
                        const std::string& display);

/// A cheap consistency check (see store::integrity_check): "ok", or what is wrong.
[[nodiscard]] std::string integrity_check(soci::session& sql);

}  // namespace vigy::store::postgres
