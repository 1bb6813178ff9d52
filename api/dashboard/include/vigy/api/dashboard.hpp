// vigy/api/dashboard.hpp — the web dashboard's static files, built into the binary.
//
// The dashboard is a client of /v1 and the watch streams only; these are its page,
// script, style sheet, icon and licences, embedded at build time from the committed
// bundle (api/dashboard/dist/, made by scripts/build-dashboard.sh). Nothing is fetched
// at run time and the C++ build needs no npm. The server mounts them at `/`.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace vigy::api {

/// One embedded file. Every view points into static storage (valid for the life of the
/// program); the body is not NUL-terminated as far as the view goes.
struct dashboard_file {
    std::string_view path;          ///< "/index.html", "/app.js", ... (always starting with '/')
    std::string_view content_type;  ///< e.g. "text/javascript; charset=utf-8"
    std::string_view etag;          ///< strong ETag, quoted: "\"<32 hex of the SHA-256>\""
    std::string_view body;          ///< the bytes
};

/// The file served at `path`, or nullptr when the dashboard has none there (answer 404).
/// `path` is the request target's path only (no query, not percent-decoded: the
/// dashboard's names need no escaping); "/" is "/index.html". Thread-safe, no allocation.
const dashboard_file* dashboard_asset(std::string_view path) noexcept;

/// Every embedded file, in a fixed order.
std::span<const dashboard_file> dashboard_assets() noexcept;

/// The Content-Security-Policy to send with every dashboard file: scripts, styles and
/// connections from the server's own origin only (no inline code, nothing external).
inline constexpr std::string_view dashboard_content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Cache-Control for every dashboard file: revalidate each time (the file names are
/// stable, so a new build must not be hidden by a cache; If-None-Match makes it cheap).
inline constexpr std::string_view dashboard_cache_control = "no-cache";

}  // namespace vigy::api
