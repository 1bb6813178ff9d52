// The vigy.native plugin: descriptor, entry point and the reconciler factory
// dispatching to the native kinds (noop.cpp, chain.cpp).
#include "native.hpp"

#include <string>

namespace vigy::native {
namespace {

const vigy_reconciler_kind kinds[] = {
    {sizeof(vigy_reconciler_kind), 0, "noop", "does nothing on each tick; any config is ignored"},
    {sizeof(vigy_reconciler_kind), 0, "chain",
     "runs child reconcilers in order on the same tick and stops at the first error; "
     "config {\"children\": [{\"kind\": \"noop\", \"config\": {...}}, ...]}"},
};

vigy_status create(const vigy_reconciler_spec* spec, vigy_reconciler** out, vigy_error* err) noexcept {
    return sdk::fence(err, [&] {
        std::string_view kind = sdk::view(spec->kind);
        std::unique_ptr<instance> inst;
        if (kind == "noop")
            inst = make_noop(*spec);
        else if (kind == "chain")
            inst = make_chain(*spec);
        else
            sdk::fail(VIGY_INVALID_ARGUMENT, "vigy.native does not provide kind \"" + std::string(kind) + "\"");
        *out = reinterpret_cast<vigy_reconciler*>(inst.release());
    });
}

vigy_status tick(vigy_reconciler* r, vigy_tick* t, vigy_error* err) noexcept {
    return sdk::fence(err, [&] { reinterpret_cast<instance*>(r)->tick(sdk::tick_ref(t)); });
}

void destroy(vigy_reconciler* r) noexcept { delete reinterpret_cast<instance*>(r); }

const vigy_reconciler_factory factory = {
    sizeof(vigy_reconciler_factory), sizeof kinds / sizeof kinds[0], kinds, &create, &tick, &destroy,
};

const void* get_extension(const char* id) noexcept {
    if (std::string_view(id) == VIGY_RECONCILER_FACTORY_ID) return &factory;
    return nullptr;
}

const vigy_plugin_descriptor descriptor = {
    VIGY_PLUGIN_MAGIC, sizeof(vigy_plugin_descriptor),       VIGY_ABI_VERSION,    0,       "vigy.native",
    "0.1.0",           "native reconcilers: noop and chain", &sdk::remember_host, nullptr, &get_extension,
};

}  // namespace
}  // namespace vigy::native

VIGY_DEFINE_PLUGIN(vigy::native::descriptor)
