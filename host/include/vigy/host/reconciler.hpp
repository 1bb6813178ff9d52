/// vigy/host/reconciler.hpp — an owned reconciler instance (C++ RAII over a
/// plugin's vigy_reconciler_factory).
///
/// This is what the runtime holds per vigy revision: create once from
/// (kind, config JSON, limits, name), tick many times, destroy. Chains use the
/// same class through vigy_host_api.child_*.
///
/// Ownership: a reconciler owns its plugin instance and destroys it in its
/// destructor. It borrows the registry, which must outlive it.
///
/// Threading: construction and destruction may happen on any thread. tick()
/// must never run concurrently on the same reconciler (the runtime serialises a
/// vigy's ticks on its strand); different reconcilers may tick concurrently.
/// tick() must not run concurrently with destruction.
#ifndef VIGY_HOST_RECONCILER_HPP
#define VIGY_HOST_RECONCILER_HPP

#include "vigy/host/registry.hpp"
#include "vigy/plugin.h"

#include "vigy/sdk.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

namespace vigy::host {

/// A failure with a canonical status (VIGY_INVALID_ARGUMENT, ...) and a message
/// an operator can act on: the sdk's type, so sdk::fence maps it at the ABI.
using status_error = vigy::sdk::status_error;

/// The outcome of one tick.
struct tick_result {
    vigy_status status = VIGY_OK;
    std::string message;  ///< empty when ok; never empty otherwise (falls back to the status name)
    bool ok() const noexcept { return status == VIGY_OK; }
};

/// An instance of a reconciler kind. Movable, not copyable.
class reconciler {
public:
    /// Creates an instance of `kind` from `config_json` (empty = nil config).
    /// `limits` may be NULL (all zero: the reconciler's defaults); it is copied.
    /// `name` is the vigy's name, used in the plugin's messages.
    /// Throws status_error: INVALID_ARGUMENT for an unknown kind (the message
    /// lists the known kinds) or unparsable JSON ("config: invalid json at
    /// offset 7: ..."), else the factory's own status and message.
    reconciler(const registry& reg, std::string_view kind, std::string_view config_json,
               const vigy_limits* limits = nullptr, std::string_view name = {});

    /// Like the constructor, from an already-parsed config value (NULL = nil)
    /// instead of JSON text; the plugin still receives both forms. This is how
    /// a chain's children are created.
    static reconciler from_value(const registry& reg, std::string_view kind, const vigy_value* config,
                                 const vigy_limits* limits = nullptr, std::string_view name = {});

    reconciler(reconciler&& other) noexcept;
    reconciler& operator=(reconciler&& other) noexcept;
    reconciler(const reconciler&) = delete;
    reconciler& operator=(const reconciler&) = delete;
    /// Destroys the plugin instance.
    ~reconciler();

    /// Runs one tick against `tick` (borrowed for the call). Never throws: a
    /// failing status, or a C++ exception escaping the plugin (caught here when
    /// the plugin has unwind tables), becomes a non-ok result with a message.
    tick_result tick(vigy_tick* tick) noexcept;

    /// The kind this instance was created as.
    const std::string& kind() const noexcept { return kind_; }

private:
    reconciler() = default;
    void create(const registry& reg, std::string_view kind, std::string_view config_json, const vigy_value* config,
                const vigy_limits* limits, std::string_view name);

    const vigy_reconciler_factory* factory_ = nullptr;
    vigy_reconciler* instance_ = nullptr;
    std::string kind_;
};

}  // namespace vigy::host

#endif  // VIGY_HOST_RECONCILER_HPP
