// ext_harness.cpp — see ext_harness.hpp.
#include "ext_harness.hpp"

#ifdef VIGY_EXT_HAVE_REGISTRY
#include "vigy/host/registry.hpp"
#else
namespace vigy::host {
class registry {};  // built without the host library: plugins are loaded by dlopen
}  // namespace vigy::host
#endif

#include <dlfcn.h>

#include <cstring>
#include <stdexcept>

namespace vigy::test {

namespace {

#ifndef VIGY_EXT_HAVE_REGISTRY
void host_log(void*, int32_t, vigy_str) {}
const void* host_get_extension(void*, const char*) { return nullptr; }

const vigy_host_api* test_host_api() {
    static vigy_host_api api = [] {
        vigy_host_api a{};
        a.struct_size = sizeof a;
        a.abi_version = VIGY_ABI_VERSION;
        a.log = &host_log;
        a.get_extension = &host_get_extension;
        return a;
    }();
    return &api;
}
#endif

struct error_capture {
    std::string message;
    vigy_error err{sizeof(vigy_error), 0, this,
                   [](void* ctx, const char* m, size_t n) { static_cast<error_capture*>(ctx)->message.assign(m, n); }};
};

}  // namespace

harness::~harness() = default;
harness::harness(harness&&) noexcept = default;

harness::harness(const std::vector<std::string>& files) {
#ifdef VIGY_EXT_HAVE_REGISTRY
    registry_ = std::make_unique<host::registry>();
    for (const std::string& f : files) {
        std::string path = std::string(VIGY_EXT_PLUGIN_DIR) + "/" + f;
        if (!registry_->load_file(path))
            throw std::runtime_error("registry refused " + path + ": " +
                                     (registry_->skipped().empty() ? "already loaded"
                                                                   : registry_->skipped().back().message));
    }
    for (const host::loaded_plugin& p : registry_->plugins()) {
        plugin_ids_.push_back(p.id);
        for (const host::extension_info& e : p.extensions) pack_names_.push_back(e.name);
    }
    vigy_registrar reg{sizeof(vigy_registrar), 0, this,
                       [](void* ctx, const vigy_intrinsic* in, vigy_error*) -> vigy_status {
                           auto* self = static_cast<harness*>(ctx);
                           return self->intrinsics_.emplace(in->name, *in).second ? VIGY_OK : VIGY_ALREADY_EXISTS;
                       }};
    error_capture ec;
    if (registry_->install_intrinsics(reg, &ec.err) != VIGY_OK)
        throw std::runtime_error("install_intrinsics: " + ec.message);
#else
    for (const std::string& f : files) {
        std::string path = std::string(VIGY_EXT_PLUGIN_DIR) + "/" + f;
        void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // never closed: unload only at exit
        if (!lib) throw std::runtime_error("dlopen " + path + ": " + dlerror());
        auto entry = reinterpret_cast<vigy_plugin_entry_fn>(dlsym(lib, VIGY_PLUGIN_ENTRY_SYMBOL));
        if (!entry) throw std::runtime_error(path + ": no vigy_plugin_entry");
        const vigy_plugin_descriptor* d = entry(VIGY_ABI_VERSION);
        if (!d || d->magic != VIGY_PLUGIN_MAGIC) throw std::runtime_error(path + ": bad descriptor");
        error_capture ec;
        if (d->init && d->init(test_host_api(), &ec.err) != VIGY_OK)
            throw std::runtime_error(path + ": init failed: " + ec.message);
        plugin_ids_.push_back(d->id);
        auto* list = static_cast<const vigy_host_extension_list*>(d->get_extension(VIGY_HOST_EXTENSION_ID));
        if (!list) throw std::runtime_error(path + ": no host extension");
        for (size_t i = 0; i < list->count; ++i) {
            const vigy_host_extension& pack = list->extensions[i];
            pack_names_.push_back(pack.name);
            for (size_t j = 0; j < pack.intrinsic_count; ++j) {
                const vigy_intrinsic& in = pack.intrinsics[j];
                if (!intrinsics_.emplace(in.name, in).second)
                    throw std::runtime_error(std::string("duplicate intrinsic ") + in.name);
            }
        }
    }
#endif
}

harness harness::standard() {
    return harness({"vigy_ext_actions.so", "vigy_ext_state.so", "vigy_ext_kv.so", "vigy_ext_convergence.so",
                    "vigy_ext_scheduling.so", "vigy_ext_diagnostics.so"});
}

const vigy_intrinsic& harness::intrinsic(const std::string& name) const {
    auto it = intrinsics_.find(name);
    if (it == intrinsics_.end()) throw std::runtime_error("no intrinsic " + name);
    return it->second;
}

call_result harness::call(host::tick_context& tick, const std::string& name, const std::vector<value>& args) {
    const vigy_intrinsic& in = intrinsic(name);
    call_result r;
    auto argc = static_cast<int32_t>(args.size());
    if (argc < in.min_arity || (in.max_arity != VIGY_ARITY_VARIADIC && argc > in.max_arity)) {
        r.status = VIGY_INVALID_ARGUMENT;
        r.error = "arity";
        return r;
    }
    host::arena ar(1 << 20);
    std::vector<vigy_value> cargs;
    for (const value& a : args) cargs.push_back(a.to_vigy(ar.c()));
    error_capture ec;
    vigy_call call{};
    call.struct_size = sizeof call;
    call.argc = static_cast<uint32_t>(cargs.size());
    call.args = cargs.data();
    call.tick = tick.tick();
    call.arena = ar.get();
    call.error = &ec.err;
    call.data = in.data;
    vigy_value out = vigy_nil();
    r.status = in.fn(&call, &out);
    r.error = ec.message;
    if (r.ok()) r.result = value::from_vigy(out);
    return r;
}

host::tick_context make_tick(host::kv_map kv, int64_t now_ms) {
    return host::tick_context::begin(std::move(kv), now_ms, "test", "0123456789abcdef");
}

}  // namespace vigy::test
