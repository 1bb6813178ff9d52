/// vigy/error.hpp — the one error type of vigy's C++ layers (store, host, cli, api).
///
/// `vigy::status_error` is the sdk's `vigy::sdk::status_error`: a canonical status
/// code (the `vigy_status` values of sdk/include/vigy/status.h, the abseil/gRPC set)
/// and a message an operator can act on (lowercase, no trailing period, naming the
/// value and the limit). The same type crosses every layer, so a code is never
/// collapsed on the way up: a plugin's RESOURCE_EXHAUSTED is still
/// RESOURCE_EXHAUSTED in the run, in the CLI's exit status and in the API's HTTP
/// status. Context ("database /x/vigy.db: ...") is added once, where it is known,
/// with `with_context`.
///
/// Retry meaning of the codes (status.h): UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED =
/// try again (ABORTED: redo the read-modify-write); FAILED_PRECONDITION = not until
/// the state changed; INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
/// PERMISSION_DENIED, UNIMPLEMENTED = do not retry; RESOURCE_EXHAUSTED = a limit;
/// INTERNAL = a bug or an unexpected failure.
///
/// The stable machine names are `vigy_status_name()`'s kebab-case strings
/// ("not-found", "resource-exhausted", ...). Each face maps codes once: the CLI to
/// exit codes (cli/exit_codes.hpp), the API to HTTP statuses.
#ifndef VIGY_ERROR_HPP
#define VIGY_ERROR_HPP

#include "vigy/sdk.hpp"

#include <string>
#include <string_view>

namespace vigy {

/// The one error type (see the file comment). Throw it with `vigy::fail`.
using status_error = sdk::status_error;

/// Throws status_error(code, message).
[[noreturn]] inline void fail(vigy_status code, const std::string& message) { throw status_error(code, message); }

/// The stable kebab-case name of a code ("invalid-argument", ...).
inline const char* status_name(vigy_status code) noexcept { return vigy_status_name(code); }

/// The code whose status_name() is `name`; VIGY_UNKNOWN when none is.
vigy_status status_from_name(std::string_view name) noexcept;

/// `e` with "<context>: " in front of its message, same code.
inline status_error with_context(const status_error& e, std::string_view context) {
    std::string m(context);
    m += ": ";
    m += e.what();
    return status_error(e.code(), m);
}

}  // namespace vigy

#endif  // VIGY_ERROR_HPP
