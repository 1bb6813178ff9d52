// ext_harness.cpp — see ext_harness.hpp.
#include "ext_harness.hpp"

#include <stdexcept>

namespace vigy::test {

namespace {

struct error_capture {
    std::string message;
    vigy_error err{sizeof(vigy_error), 0, this,
                   [](void* ctx, const char* m, size_t n) { static_cast<error_capture*>(ctx)->message.assign(m, n); }};
};

}  // namespace

std::filesystem::path builtin_plugin(const std::string& file) {
    return std::filesystem::path(VIGY_EXT_PLUGIN_DIR) / file;
}
std::filesystem::path app_plugin(const std::string& file) {
    return std::filesystem::path(VIGY_EXT_APP_PLUGIN_DIR) / file;
}
std::filesystem::path fixture_plugin(const std::string& file) {
    return std::filesystem::path(VIGY_EXT_FIXTURE_DIR) / file;
}

harness::~harness() = default;
harness::harness(harness&&) noexcept = default;

harness::harness(const std::vector<std::filesystem::path>& files) : registry_(std::make_unique<host::registry>()) {
    for (const std::filesystem::path& path : files) {
        if (!registry_->load_file(path))
            throw std::runtime_error(
                "registry refused " + path.string() + ": " +
                (registry_->skipped().empty() ? "already loaded" : registry_->skipped().back().message));
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
}

harness harness::standard() {
    return harness({builtin_plugin("vigy_ext_actions.so"), builtin_plugin("vigy_ext_state.so"),
                    builtin_plugin("vigy_ext_kv.so"), builtin_plugin("vigy_ext_convergence.so"),
                    builtin_plugin("vigy_ext_scheduling.so"), builtin_plugin("vigy_ext_diagnostics.so")});
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
