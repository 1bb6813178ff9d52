// store/src/safety.cpp — the database's files: modes on creation (0700 directories,
// 0600 files, whatever the umask), warnings about files others can read or write,
// quick_check / integrity_check on a connection of its own, and the process-wide
// record of a corrupt database (see store.hpp, "database file safety").
#include "vigy/store/store.hpp"

#include "backend.hpp"
#include "postgres.hpp"
#include "sqlite.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vigy::store {

namespace fs = std::filesystem;

namespace {

std::mutex corruption_m;
std::optional<std::string> corruption;  // guarded by corruption_m

[[noreturn]] void fail_errno(int err, const std::string& what) {
    vigy::fail(err == EACCES || err == EPERM || err == EROFS ? VIGY_PERMISSION_DENIED : VIGY_FAILED_PRECONDITION,
               fmt::format("{}: {}", what, std::strerror(err)));
}

/// A warning when `p` exists and others may read or write it (a directory: write).
void warn_mode(const fs::path& p, bool directory, std::vector<std::string>& out) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return;
    const unsigned mode = st.st_mode & 07777;
    if (directory) {
        // A world-writable directory lets others replace the database (a sticky one such as /tmp does not).
        if ((mode & S_IWOTH) && !(mode & S_ISVTX))
            out.push_back(
                fmt::format("directory {} of the database is writable by others (mode {:04o}): they can "
                            "replace the database; chmod o-w {}",
                            p.string(), mode, p.string()));
        return;
    }
    if (mode & (S_IROTH | S_IWOTH))
        out.push_back(
            fmt::format("database file {} is {} by others (mode {:04o}); chmod 600 {}", p.string(),
                        (mode & S_IWOTH) ? ((mode & S_IROTH) ? "readable and writable" : "writable") : "readable", mode,
                        p.string()));
}

}  // namespace

std::vector<std::string> prepare_database_files(const std::string& path) {
    if (path.empty()) vigy::fail(VIGY_INVALID_ARGUMENT, "database path must not be empty");
    const fs::path file(path);
    const fs::path parent = file.parent_path();
    // Missing directories, innermost last.
    std::vector<fs::path> missing;
    for (fs::path d = parent; !d.empty(); d = d.parent_path()) {
        struct stat st {};
        if (::stat(d.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                vigy::fail(VIGY_FAILED_PRECONDITION, fmt::format("cannot create directory {} for database {}: {} is "
                                                                 "not a directory",
                                                                 parent.string(), path, d.string()));
            break;
        }
        missing.push_back(d);
        if (d == d.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0700) != 0) {
            if (errno == EEXIST) continue;  // created meanwhile by another process
            fail_errno(errno, fmt::format("cannot create directory {} for database {}", it->string(), path));
        }
        if (::chmod(it->c_str(), 0700) != 0)  // mkdir's mode is masked by the umask
            fail_errno(errno, fmt::format("cannot set mode 0700 on directory {}", it->string()));
    }
    std::vector<std::string> warnings;
    if (!parent.empty() && missing.empty()) warn_mode(parent, true, warnings);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        // A new, empty file: SQLite initialises it and gives -wal and -shm the same mode.
        const int rc = ::fchmod(fd, 0600);
        const int err = errno;
        ::close(fd);
        if (rc != 0) fail_errno(err, fmt::format("cannot set mode 0600 on database {}", path));
        return warnings;
    }
    if (errno != EEXIST && errno != ELOOP) fail_errno(errno, fmt::format("cannot create database {}", path));
    for (const char* suffix : {"", "-wal", "-shm"}) warn_mode(fs::path(path + suffix), false, warnings);
    return warnings;
}

namespace {

/// check_database for a PostgreSQL URL (see store.hpp).
check_report check_postgres(const database& db, bool full) {
    check_report r;
    r.path = db.display;
    r.full = full;
    const auto t0 = std::chrono::steady_clock::now();
    const auto sql = postgres::open_session(db, 5000);
    long long tables = 0;
    std::string result;
    try {
        *sql << "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = "
                "'schema_version'",
            soci::into(tables);
        if (tables != 0) result = postgres::integrity_check(*sql);
    } catch (...) {
        postgres::rethrow(db.display, "checking it");
    }
    if (tables == 0)
        vigy::fail(VIGY_NOT_FOUND,
                   fmt::format("database {} has no vigy schema (no vigy has opened it yet)", db.display));
    r.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    r.ok = result == "ok";
    if (!r.ok) r.problems.push_back(result);
    return r;
}

}  // namespace

check_report check_database(const std::string& path, bool full) {
    check_report r;
    r.path = path;
    r.full = full;
    if (const database where = parse_database(path); where.kind == backend::postgresql)
        return check_postgres(where, full);  // no file system access for a URL
    std::error_code ec;
    if (!fs::exists(path, ec)) vigy::fail(VIGY_NOT_FOUND, fmt::format("database {} does not exist", path));
    const auto t0 = std::chrono::steady_clock::now();
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        sqlite::fail(rc, msg, path, "opening it for a check");
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    rc = sqlite3_prepare_v2(db, full ? "PRAGMA integrity_check(100)" : "PRAGMA quick_check(100)", -1, &st, nullptr);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
            r.problems.emplace_back(text ? text : "");
        }
    }
    const int primary = rc & 0xff;
    const std::string err = sqlite3_errmsg(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
    r.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
        r.problems.push_back(err);  // the check itself could not read a page
    } else if (primary != SQLITE_DONE && primary != SQLITE_OK) {
        sqlite::fail(rc, err, path, full ? "running integrity_check" : "running quick_check");
    }
    r.ok = r.problems.size() == 1 && r.problems.front() == "ok";
    if (r.ok) r.problems.clear();
    return r;
}

std::optional<std::string> corruption_detected() {
    std::lock_guard lk(corruption_m);
    return corruption;
}

namespace sqlite {

void note_corruption(const std::string& message) noexcept {
    try {
        std::lock_guard lk(corruption_m);
        if (!corruption) corruption = message;
    } catch (...) {
    }
}

}  // namespace sqlite

}  // namespace vigy::store
