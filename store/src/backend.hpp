// store/src/backend.hpp — which database engine a store speaks to, chosen at run time
// from open_options::path: a `postgresql://` or `postgres://` URL (a libpq URI) is
// PostgreSQL, any other `scheme://` is refused, everything else is an SQLite file path.
// The dialect helpers here are the only places SQL text differs between the two.
#pragma once

#include <string>
#include <string_view>

namespace vigy::store {

enum class backend { sqlite, postgresql };

/// Where a store's data lives.
struct database {
    backend kind = backend::sqlite;
    std::string target;   ///< the file path or the URL exactly as given (what connects)
    std::string display;  ///< what messages and store::path() show: the path, or the URL without its password
};

/// Classifies `path`. Throws status_error INVALID_ARGUMENT `unsupported database URL
/// scheme "mysql" in ...` for a `scheme://` that is not PostgreSQL's (the URL redacted).
/// No file system access.
[[nodiscard]] database parse_database(const std::string& path);

/// `url` with the password of its userinfo and any `password=` parameter replaced by
/// `***` (postgresql://app:***@db/vigy?sslmode=require).
[[nodiscard]] std::string redact_url(std::string_view url);

namespace dialect {

/// SQL for lowercase hex text of a BYTEA/BLOB column.
[[nodiscard]] std::string hex_of(backend b, std::string_view column);

/// SQL literal of 16 raw bytes given as 32 hex digits (digits only: safe to splice).
[[nodiscard]] std::string bytes_literal(backend b, std::string_view hex32);

/// Opens a write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN and the
/// database-wide write lock, an advisory transaction lock, so writes from every host
/// are serialized as SQLite's are).
[[nodiscard]] const char* begin_write(backend b) noexcept;
/// The statement that takes the write lock after BEGIN ("" for SQLite).
[[nodiscard]] const char* write_lock(backend b) noexcept;
/// Opens a read transaction seeing one snapshot.
[[nodiscard]] const char* begin_read(backend b) noexcept;

}  // namespace dialect

}  // namespace vigy::store
