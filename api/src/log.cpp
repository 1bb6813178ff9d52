// api/src/log.cpp — the API's warnings, through the host's logger.
#include "log_internal.hpp"

#include "vigy/host/log.hpp"

#include <spdlog/spdlog.h>

namespace vigy::api {

void log_warning(const std::string& message) noexcept {
    try {
        host::logger()->warn("[api] {}", message);
    } catch (...) {  // logging must never take a server thread down
    }
}

}  // namespace vigy::api
