/// vigy/host/log.hpp — the host's logger and the routing of plugin log lines.
///
/// The host logs through one spdlog logger named "vigy" writing to stderr.
/// Plugins never bring their own logger: their `vigy_host_api.log` calls land
/// here, prefixed with the plugin id. This header does not pull in spdlog;
/// include <spdlog/spdlog.h> to use logger() directly.
#ifndef VIGY_HOST_LOG_HPP
#define VIGY_HOST_LOG_HPP

#include <cstdint>
#include <memory>
#include <string_view>

namespace spdlog {
class logger;
}

namespace vigy::host {

/// The process-wide host logger ("vigy", stderr, coloured only when stderr is a
/// terminal and NO_COLOR is unset). Created on first use; never null.
/// Thread-safe. Default level: warn.
std::shared_ptr<spdlog::logger> logger();

/// Sets the logger level from a CLI verbosity count: 0 = warn, 1 = info,
/// 2 = debug, 3 or more = trace. Negative = error only. Thread-safe.
void set_verbosity(int verbosity);

/// Logs `message` at `level` (VIGY_LOG_*; anything else logs as warn) as
/// "[<source>] <message>". `source` is usually a plugin id. Thread-safe; never
/// throws.
void log_from(std::string_view source, int32_t level, std::string_view message) noexcept;

}  // namespace vigy::host

#endif  // VIGY_HOST_LOG_HPP
