// store/src/soci_session.cpp — SOCI sqlite3 sessions: opening, connection settings, and
// mapping SOCI's exceptions to vigy's codes (the SOCI half of the SQLite seam).
#include "sqlite_errors.hpp"

#include <fmt/format.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace vigy::store::sqlite {

void rethrow(const std::string& path, std::string_view what) {
    try {
        throw;
    } catch (const status_error&) {
        throw;
    } catch (const soci::sqlite3_soci_error& e) {
        fail(e.result(), e.what(), path, what);
    } catch (const std::bad_alloc&) {
        vigy::fail(VIGY_RESOURCE_EXHAUSTED, fmt::format("out of memory while {}", what));
    } catch (const std::exception& e) {
        const std::string msg = e.what();
        // SOCI reports some failures (e.g. at prepare) without a result code.
        if (msg.find("database is locked") != std::string::npos ||
            msg.find("database table is locked") != std::string::npos)
            fail(5 /* SQLITE_BUSY */, msg, path, what);
        vigy::fail(VIGY_INTERNAL, fmt::format("database {}: {} while {}", path, msg, what));
    }
}

void configure(soci::session& sql, int busy_timeout_ms, const std::string& path) {
    try {
        sql << fmt::format("PRAGMA busy_timeout={}", busy_timeout_ms);
        std::string mode;
        // journal_mode=WAL is persistent; setting it again is a cheap no-op once the file is WAL.
        sql << "PRAGMA journal_mode=WAL", soci::into(mode);
        sql << "PRAGMA synchronous=NORMAL";
    } catch (...) {
        rethrow(path, "configuring the connection");
    }
}

std::unique_ptr<soci::session> open_session(const std::string& path, int busy_timeout_ms) {
    std::unique_ptr<soci::session> sql;
    try {
        std::string conn = "db=";
        if (path.find_first_of(" \t\"'") != std::string::npos) {
            conn += '"';
            conn += path;
            conn += '"';
        } else {
            conn += path;
        }
        sql = std::make_unique<soci::session>(soci::sqlite3, conn);
    } catch (...) {
        rethrow(path, "opening");
    }
    configure(*sql, busy_timeout_ms, path);
    return sql;
}

}  // namespace vigy::store::sqlite
