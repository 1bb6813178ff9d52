// examples/embed/app_plugin.hpp — the application's own plugin, linked into the
// executable (no shared object): a host extension pack "app" whose intrinsics read
// the application's state, and a native reconciler kind "app.autoscaler" that uses
// the same state without any language runtime.
#pragma once

#include "vigy/plugin.h"

#include <atomic>
#include <cstdint>

namespace app {

/// The application's state the vigy reconciles: a queue and its worker count.
struct state {
    std::atomic<int64_t> queue_depth{0};
    std::atomic<int64_t> workers{1};
};

/// The process-wide state (the plugin's intrinsics read it).
state& app_state();

/// The plugin's entry: give it to runtime_options::static_plugins.
const vigy_plugin_descriptor* plugin_entry(uint32_t host_abi_version);

}  // namespace app
