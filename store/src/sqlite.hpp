// store/src/sqlite.hpp — the one seam for SQLite specifics: native
// connections and prepared statements (the writer's hot path, migrations), the
// connection settings (PRAGMAs) for native and SOCI sessions, and the mapping of SQLite
// result codes to vigy's canonical codes. Everything else in store/ speaks SOCI with
// portable SQL, so a PostgreSQL backend replaces this file and the hot-path applier.
#pragma once

#include "sqlite_errors.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace vigy::store::sqlite {

class statement;

/// Process-wide SQLite settings, applied once before the first connection: memory
/// statistics off (they take a global mutex on every allocation of every connection).
void configure_library() noexcept;

/// A native connection with the connection settings applied. Not thread-safe: one
/// owner at a time.
class connection {
public:
    connection(const std::string& path, int busy_timeout_ms);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    [[nodiscard]] sqlite3* get() const noexcept { return db_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    /// Runs one or more statements without results; throws status_error.
    void exec(const char* sql, std::string_view what = {});
    /// Prepares one statement; throws status_error.
    [[nodiscard]] statement prepare(std::string_view sql);

    [[nodiscard]] std::int64_t last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(db_); }
    [[nodiscard]] int changes() const noexcept { return sqlite3_changes(db_); }

private:
    sqlite3* db_ = nullptr;
    std::string path_;
};

/// A prepared statement. Text binds are SQLITE_STATIC: the bound data must stay alive
/// and unchanged until the next step()/reset().
class statement {
public:
    statement() = default;
    statement(sqlite3_stmt* st, const connection* conn) : st_(st), conn_(conn) {}
    statement(statement&& o) noexcept : st_(o.st_), conn_(o.conn_) { o.st_ = nullptr; }
    statement& operator=(statement&& o) noexcept;
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement() { sqlite3_finalize(st_); }

    statement& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(st_, i, v);
        return *this;
    }
    statement& bind(int i, std::string_view text) {
        sqlite3_bind_text(st_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
        return *this;
    }
    statement& bind_blob(int i, const void* data, int n) {
        sqlite3_bind_blob(st_, i, data, n, SQLITE_STATIC);
        return *this;
    }
    statement& bind_null(int i) {
        sqlite3_bind_null(st_, i);
        return *this;
    }

    /// Steps once: true with a row, false when done. On failure resets and throws
    /// status_error saying `what`.
    bool step(std::string_view what);
    /// Steps a statement without rows to completion, then resets it.
    void run(std::string_view what) {
        step(what);
        reset();
    }
    /// Resets (keeps the bindings; binds are overwritten by the next use).
    void reset() noexcept { sqlite3_reset(st_); }

    [[nodiscard]] std::int64_t int64(int col) const noexcept { return sqlite3_column_int64(st_, col); }
    [[nodiscard]] bool is_null(int col) const noexcept { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
    [[nodiscard]] std::string_view text(int col) const noexcept {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
        return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string_view();
    }
    [[nodiscard]] std::string_view blob(int col) const noexcept {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(st_, col));
        return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string_view();
    }
    [[nodiscard]] sqlite3_stmt* get() const noexcept { return st_; }

private:
    sqlite3_stmt* st_ = nullptr;
    const connection* conn_ = nullptr;
};

/// RAII `BEGIN IMMEDIATE` … `COMMIT` on a native connection; rolls back unless committed.
class immediate_tx {
public:
    explicit immediate_tx(connection& c);
    ~immediate_tx();
    immediate_tx(const immediate_tx&) = delete;
    immediate_tx& operator=(const immediate_tx&) = delete;
    void commit();

private:
    connection& c_;
    bool open_ = true;
};

}  // namespace vigy::store::sqlite
