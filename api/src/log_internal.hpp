// api/src/log_internal.hpp — the API's diagnostics go to the host logger (not installed).
#ifndef VIGY_API_SRC_LOG_INTERNAL_HPP
#define VIGY_API_SRC_LOG_INTERNAL_HPP

#include <string>

namespace vigy::api {

/// Logs a warning through vigy::host::logger(). Never throws.
void log_warning(const std::string& message) noexcept;

}  // namespace vigy::api

#endif  // VIGY_API_SRC_LOG_INTERNAL_HPP
