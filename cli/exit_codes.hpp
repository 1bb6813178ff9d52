/// cli/exit_codes.hpp — the `vigy` exit statuses: the one place canonical codes map
/// to them (api/src/problem.cpp is the one place they map to HTTP statuses).
///
///   0  ok
///   1  error (invalid argument, failed precondition, permission denied, internal, ...)
///   2  usage (the command line does not parse)
///   3  not found (no such vigy, run or plugin)
///   4  try again later (unavailable: a locked database, no scheduler answered;
///      deadline exceeded; aborted: a concurrent change won)
#ifndef VIGY_CLI_EXIT_CODES_HPP
#define VIGY_CLI_EXIT_CODES_HPP

#include "vigy/status.h"

namespace vigy::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_error = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_not_found = 3;
inline constexpr int exit_retry = 4;

/// The exit status for a failure with `code` (VIGY_OK -> 0).
constexpr int exit_code_for(vigy_status code) noexcept {
    switch (code) {
    case VIGY_OK: return exit_ok;
    case VIGY_NOT_FOUND: return exit_not_found;
    case VIGY_UNAVAILABLE:
    case VIGY_DEADLINE_EXCEEDED:
    case VIGY_ABORTED: return exit_retry;
    default: return exit_error;
    }
}

/// The --help footer line naming the global options and the exit statuses.
inline constexpr const char* global_options_help =
    "global options (before or after the command): --db PATH, --plugin-dir DIR,\n"
    "-o table|json, -v; colour only on a terminal and never with NO_COLOR.\n"
    "exit status: 0 ok, 1 error, 2 usage, 3 not found, 4 try again later\n"
    "(database locked, no scheduler answered, a deadline, a concurrent change).";

}  // namespace vigy::cli

#endif  // VIGY_CLI_EXIT_CODES_HPP
