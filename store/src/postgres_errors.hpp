// store/src/postgres_errors.hpp — the PostgreSQL seam's error mapping (the counterpart
// of sqlite_errors.hpp), without libpq or SOCI backend headers.
#pragma once

#include "vigy/error.hpp"

#include <string>
#include <string_view>

namespace vigy::store::postgres {

/// The canonical code for a SQLSTATE: class 08 (connection), 57P01..57P03 (shutdown),
/// 40001 (serialization) and 40P01 (deadlock) -> UNAVAILABLE; 53xxx (insufficient
/// resources, 53200 out of memory, 53100 disk full) -> RESOURCE_EXHAUSTED; 23505 (unique
/// violation) -> ALREADY_EXISTS; other 23xxx -> INVALID_ARGUMENT; 42501 and 28xxx
/// (privileges, authentication) -> PERMISSION_DENIED; 3D000 (no such database) ->
/// FAILED_PRECONDITION; anything else INTERNAL. "" (no state: the connection is gone)
/// -> UNAVAILABLE.
[[nodiscard]] vigy_status code_for(std::string_view sqlstate) noexcept;

/// Throws status_error `database <display>: <msg> (SQLSTATE x) while <what>`;
/// UNAVAILABLE says nothing was written and to retry.
[[noreturn]] void fail(std::string_view sqlstate, std::string_view msg, const std::string& display,
                       std::string_view what);

/// Maps the exception in flight (SOCI, std) to status_error naming `display` (the
/// redacted URL) and `what`; a status_error passes through. Call from a catch block.
[[noreturn]] void rethrow(const std::string& display, std::string_view what);

}  // namespace vigy::store::postgres
