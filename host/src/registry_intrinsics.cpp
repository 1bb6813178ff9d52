// Installing intrinsics into a language runtime, and the grant check in front
// of every intrinsic of a capability outside the defaults (capabilities.hpp).
//
// Hot path: a granted call costs one check of the tick handle, one bit test in
// a per-tick memo of the vigy's grants (resolved against this registry's
// capability indexes on the first guarded call of the tick), a copy of the
// vigy_call with the plugin's own data, and the indirect call.
#include "vigy/host/registry.hpp"

#include "registry_internal.hpp"

#include "vigy/host/capabilities.hpp"
#include "vigy/host/tick_context.hpp"

#include "vigy/sdk.hpp"

#include <cstring>
#include <new>

namespace vigy::host {

vigy_status registry::install_intrinsics(const vigy_registrar& registrar, vigy_error* err) const noexcept {
    if (!registrar.add_intrinsic) {
        vigy::sdk::set_error(err, "install_intrinsics: the registrar has no add_intrinsic");
        return VIGY_INVALID_ARGUMENT;
    }
    for (const auto& e : entries_) {
        for (const vigy_intrinsic* in : e->installed) {
            vigy_status s;
            try {
                s = registrar.add_intrinsic(registrar.ctx, in, err);
            } catch (...) {
                vigy::sdk::set_error(err,
                                     std::string("install_intrinsics: the registrar threw while adding ") + in->name);
                return VIGY_INTERNAL;
            }
            if (s != VIGY_OK) return s;
        }
    }
    return VIGY_OK;
}

namespace {

/// Resolves `grants` against the registry's capabilities (plugin ids by
/// entries_ index) into `memo`; false when out of memory (the call is then
/// refused). Runs once per tick, on its first guarded call.
[[gnu::noinline]] bool resolve_grants(tick_context::grant_memo& memo, const capability_set& grants,
                                      const std::vector<loaded_plugin>& plugins, const void* owner) noexcept {
    try {
        memo.bits.assign((plugins.size() + 63) / 64, 0);
        for (const std::string& id : grants.extra())
            for (size_t i = 0; i < plugins.size(); ++i)
                if (plugins[i].id == id) memo.bits[i / 64] |= uint64_t{1} << (i % 64);
        memo.owner = owner;
        return true;
    } catch (const std::bad_alloc&) {
        memo = tick_context::grant_memo{};
        return false;
    }
}

}  // namespace

inline bool registry::granted(vigy_tick* tick, size_t capability) const noexcept {
    // Only a host tick carries grants; anything else (a plugin's own handle)
    // holds the defaults, which never include a guarded capability.
    static const vigy_tick_api* const host_tick_api = &tick_api();
    if (!tick || tick->api != host_tick_api) return false;
    tick_context& ctx = *tick_context::from(tick);
    const capability_set* grants = ctx.grants();
    if (!grants) return false;
    tick_context::grant_memo& memo = ctx.memo_of_grants();
    if (memo.owner != this && !resolve_grants(memo, *grants, infos_, this)) return false;
    const size_t word = capability / 64;
    return word < memo.bits.size() && ((memo.bits[word] >> (capability % 64)) & 1u) != 0;
}

vigy_status registry::guarded_call(const vigy_call* call, vigy_value* result) {
    const auto& g = *static_cast<const guarded_intrinsic*>(call->data);
    if (!g.owner->granted(call->tick, g.capability)) {
        try {
            vigy::sdk::set_error(call->error, not_granted_message(g.name, g.capability_id));
        } catch (const std::bad_alloc&) {
        }
        return VIGY_PERMISSION_DENIED;
    }
    // The plugin gets the caller's vigy_call (up to this host's layout) with its own data.
    vigy_call forwarded;
    if (call->struct_size >= sizeof forwarded) {
        forwarded = *call;
        forwarded.struct_size = sizeof forwarded;
    } else {
        std::memset(&forwarded, 0, sizeof forwarded);
        std::memcpy(&forwarded, call, call->struct_size);
    }
    forwarded.data = g.data;
    return g.fn(&forwarded, result);
}

}  // namespace vigy::host
