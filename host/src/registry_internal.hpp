// registry_internal.hpp — the registry's private types, shared by its source
// files (registry.cpp: loading and lifetime; registry_admit.cpp: admission;
// registry_intrinsics.cpp: installation and the grant check;
// registry_host_api.cpp: the vigy_host_api slots). Not a public header.
#ifndef VIGY_HOST_SRC_REGISTRY_INTERNAL_HPP
#define VIGY_HOST_SRC_REGISTRY_INTERNAL_HPP

#include "vigy/host/registry.hpp"

#include <memory>
#include <string>
#include <vector>

namespace vigy::host {

/// What host_data points at: the registry and the plugin it was given to.
struct registry::host_slot {
    const registry* owner = nullptr;
    std::string id;
};

struct registry::plugin_entry {
    std::shared_ptr<void> library;  // null for add_static()
    vigy_plugin_descriptor desc{};
    bool has_factory = false;
    vigy_reconciler_factory factory{};
    /// What install_intrinsics offers, in the plugin's order: the plugin's own
    /// structs (default capability) or guarded_intrinsic::installed.
    std::vector<const vigy_intrinsic*> installed;
    host_slot slot{};
    vigy_host_api api{};
};

/// An intrinsic of a capability outside the defaults: the registrar gets
/// `installed` (fn = registry::guarded_call, data = this), which checks the
/// calling tick's grants and then calls the plugin's fn with its own data.
struct registry::guarded_intrinsic {
    vigy_intrinsic installed{};
    vigy_intrinsic_fn fn = nullptr;  // the plugin's
    void* data = nullptr;            // the plugin's
    const registry* owner = nullptr;
    size_t capability = 0;  // entries_ index of the providing plugin
    std::string name;
    std::string capability_id;
};

/// Keeps a library mapped until the process exits (never dlclosed). Reachable
/// from a static, so leak checkers stay quiet. Thread-safe.
void pin_library(std::shared_ptr<void> library);

}  // namespace vigy::host

#endif  // VIGY_HOST_SRC_REGISTRY_INTERNAL_HPP
