// The host logger: one spdlog logger on stderr, and plugin log routing.
#include "vigy/host/log.hpp"

#include "vigy/tick.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>
#include <cstdlib>
#include <mutex>

namespace vigy::host {

std::shared_ptr<spdlog::logger> logger() {
    static std::shared_ptr<spdlog::logger> instance = [] {
        const bool color = ::isatty(STDERR_FILENO) && std::getenv("NO_COLOR") == nullptr;
        auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(color ? spdlog::color_mode::automatic
                                                                                : spdlog::color_mode::never);
        auto l = std::make_shared<spdlog::logger>("vigy", std::move(sink));
        l->set_pattern("%^%l%$: %v");
        l->set_level(spdlog::level::warn);
        return l;
    }();
    return instance;
}

void set_verbosity(int verbosity) {
    spdlog::level::level_enum level = spdlog::level::warn;
    if (verbosity < 0)
        level = spdlog::level::err;
    else if (verbosity == 1)
        level = spdlog::level::info;
    else if (verbosity == 2)
        level = spdlog::level::debug;
    else if (verbosity >= 3)
        level = spdlog::level::trace;
    logger()->set_level(level);
}

void log_from(std::string_view source, int32_t level, std::string_view message) noexcept {
    try {
        spdlog::level::level_enum l;
        switch (level) {
        case VIGY_LOG_TRACE: l = spdlog::level::trace; break;
        case VIGY_LOG_DEBUG: l = spdlog::level::debug; break;
        case VIGY_LOG_INFO: l = spdlog::level::info; break;
        case VIGY_LOG_ERROR: l = spdlog::level::err; break;
        default: l = spdlog::level::warn; break;
        }
        logger()->log(l, "[{}] {}", source, message);
    } catch (...) {
        // logging must never take the host down
    }
}

}  // namespace vigy::host
