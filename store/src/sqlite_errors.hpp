// store/src/sqlite_errors.hpp — the SQLite seam's error mapping and SOCI sessions,
// without <sqlite3.h> (SOCI's sqlite3 header wraps it in its own namespace, so a
// translation unit sees one or the other).
#pragma once

#include "vigy/error.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace soci {
class session;
}

namespace vigy::store::sqlite {

/// The canonical code for a SQLite result code: BUSY/LOCKED -> UNAVAILABLE, FULL ->
/// RESOURCE_EXHAUSTED, PERM/READONLY/AUTH -> PERMISSION_DENIED, CANTOPEN/NOTADB ->
/// FAILED_PRECONDITION, CONSTRAINT -> INVALID_ARGUMENT, anything else INTERNAL.
[[nodiscard]] vigy_status code_for(int rc) noexcept;

/// Throws status_error for `rc`: a busy database says it is locked by another process
/// and that nothing was written; everything else `database <path>: <msg> while <what>`.
[[noreturn]] void fail(int rc, std::string_view msg, const std::string& path, std::string_view what);

/// Records the first corruption of this process (see store::corruption_detected).
void note_corruption(const std::string& message) noexcept;

/// Maps the exception in flight (SOCI, SQLite, std) to status_error naming `path` and
/// `what`; a status_error passes through unchanged. Call from a catch block.
[[noreturn]] void rethrow(const std::string& path, std::string_view what);

/// Applies the connection settings to a SOCI sqlite3 session: busy_timeout, WAL,
/// synchronous=NORMAL.
void configure(soci::session& sql, int busy_timeout_ms, const std::string& path);

/// Opens a SOCI sqlite3 session on `path` with configure() applied.
std::unique_ptr<soci::session> open_session(const std::string& path, int busy_timeout_ms);

}  // namespace vigy::store::sqlite
