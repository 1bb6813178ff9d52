// The vigy_host_api slots each plugin (and the host itself) is given: logging
// through the host, install_intrinsics, and child reconcilers for composing
// reconcilers such as the chain.
#include "vigy/host/registry.hpp"

#include "registry_internal.hpp"

#include "vigy/host/log.hpp"
#include "vigy/host/reconciler.hpp"

#include "vigy/sdk.hpp"

#include <cstring>

namespace vigy::host {

void registry::install_slots(vigy_host_api& api, host_slot* slot) {
    std::memset(&api, 0, sizeof api);
    api.struct_size = sizeof(vigy_host_api);
    api.abi_version = VIGY_ABI_VERSION;
    api.host_data = slot;
    api.log = [](void* host_data, int32_t level, vigy_str message) {
        auto* s = static_cast<host_slot*>(host_data);
        log_from(s->id, level, message.len ? std::string_view(message.ptr, message.len) : std::string_view());
    };
    api.get_extension = [](void*, const char*) -> const void* { return nullptr; };
    api.install_intrinsics = [](void* host_data, const vigy_registrar* registrar, vigy_error* err) -> vigy_status {
        if (!registrar) {
            vigy::sdk::set_error(err, "install_intrinsics: registrar is NULL");
            return VIGY_INVALID_ARGUMENT;
        }
        return static_cast<host_slot*>(host_data)->owner->install_intrinsics(*registrar, err);
    };
    api.child_create = [](void* host_data, const vigy_reconciler_spec* spec, vigy_child** out,
                          vigy_error* err) -> vigy_status {
        if (!spec || !out) {
            vigy::sdk::set_error(err, "child_create: spec and out must not be NULL");
            return VIGY_INVALID_ARGUMENT;
        }
        *out = nullptr;
        return vigy::sdk::fence(err, [&] {
            const registry& reg = *static_cast<host_slot*>(host_data)->owner;
            std::string_view kind = spec->kind.len ? std::string_view(spec->kind.ptr, spec->kind.len) : "";
            std::string_view name = spec->name.len ? std::string_view(spec->name.ptr, spec->name.len) : "";
            std::unique_ptr<reconciler> r;
            if (spec->config_json.len)
                r = std::make_unique<reconciler>(
                    reg, kind, std::string_view(spec->config_json.ptr, spec->config_json.len), spec->limits, name);
            else
                r = std::make_unique<reconciler>(reconciler::from_value(reg, kind, spec->config, spec->limits, name));
            *out = reinterpret_cast<vigy_child*>(r.release());
        });
    };
    api.child_tick = [](void*, vigy_child* child, vigy_tick* tick, vigy_error* err) -> vigy_status {
        if (!child || !tick) {
            vigy::sdk::set_error(err, "child_tick: child and tick must not be NULL");
            return VIGY_INVALID_ARGUMENT;
        }
        tick_result r = reinterpret_cast<reconciler*>(child)->tick(tick);
        if (!r.ok()) vigy::sdk::set_error(err, r.message);
        return r.status;
    };
    api.child_destroy = [](void*, vigy_child* child) { delete reinterpret_cast<reconciler*>(child); };
}

}  // namespace vigy::host
