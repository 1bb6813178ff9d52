// store/src/sqlite.cpp — native SQLite connections, statements, settings and error mapping.
#include "sqlite.hpp"

#include <fmt/format.h>

namespace vigy::store::sqlite {

vigy_status code_for(int rc) noexcept {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return VIGY_UNAVAILABLE;
    case SQLITE_FULL: return VIGY_RESOURCE_EXHAUSTED;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH: return VIGY_PERMISSION_DENIED;
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB: return VIGY_FAILED_PRECONDITION;
    case SQLITE_CONSTRAINT: return VIGY_INVALID_ARGUMENT;
    default: return VIGY_INTERNAL;
    }
}

void fail(int rc, std::string_view msg, const std::string& path, std::string_view what) {
    const vigy_status code = code_for(rc);
    if (code == VIGY_UNAVAILABLE)
        vigy::fail(code, fmt::format("database {} is locked by another process (busy beyond the timeout) while {}; "
                                     "nothing was written, retry later",
                                     path, what));
    if ((rc & 0xff) == SQLITE_CORRUPT) {
        // A damaged page: say so plainly and remember it, so a server stops serving.
        const std::string m = fmt::format(
            "database {} is corrupt ({} while {}): stop using it, check it with `vigy db "
            "check --full` and restore it from a backup",
            path, msg, what);
        note_corruption(m);
        vigy::fail(code, m);
    }
    vigy::fail(code, fmt::format("database {}: {} while {}", path, msg, what));
}

void configure_library() noexcept {
    static const bool once = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // SQLITE_MISUSE when already initialized: harmless
        return true;
    }();
    (void)once;
}

// ---- connection --------------------------------------------------------------------

connection::connection(const std::string& path, int busy_timeout_ms) : path_(path) {
    configure_library();
    const int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        fail(rc, msg, path_, "opening");
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    try {
        exec("PRAGMA journal_mode=WAL", "configuring the connection");
        exec("PRAGMA synchronous=NORMAL", "configuring the connection");
    } catch (...) {
        // A constructor that throws runs no destructor: close the handle here (a file
        // that is not a database opens fine and fails only at its first statement).
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw;
    }
}

connection::~connection() { sqlite3_close_v2(db_); }

void connection::exec(const char* sql, std::string_view what) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        fail(rc, msg, path_,
             what.empty() ? fmt::format("executing \"{}\"", std::string_view(sql).substr(0, 60)) : std::string(what));
    }
}

statement connection::prepare(std::string_view sql) {
    sqlite3_stmt* st = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) fail(rc, sqlite3_errmsg(db_), path_, fmt::format("preparing \"{}\"", sql.substr(0, 60)));
    return statement(st, this);
}

// ---- statement -----------------------------------------------------------------------

statement& statement::operator=(statement&& o) noexcept {
    if (this != &o) {
        sqlite3_finalize(st_);
        st_ = o.st_;
        conn_ = o.conn_;
        o.st_ = nullptr;
    }
    return *this;
}

bool statement::step(std::string_view what) {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3* db = sqlite3_db_handle(st_);
    const std::string msg = sqlite3_errmsg(db);
    sqlite3_reset(st_);
    fail(rc, msg, conn_ ? conn_->path() : std::string(sqlite3_db_filename(db, "main")), what);
}

// ---- transactions ------------------------------------------------------------------

immediate_tx::immediate_tx(connection& c) : c_(c) { c_.exec("BEGIN IMMEDIATE", "beginning a write transaction"); }

immediate_tx::~immediate_tx() {
    if (open_) sqlite3_exec(c_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void immediate_tx::commit() {
    c_.exec("COMMIT", "committing");
    open_ = false;
}

}  // namespace vigy::store::sqlite
