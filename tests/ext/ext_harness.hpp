// ext_harness.hpp — loads extension plugins (.so) through the host's real
// plugin registry (host/registry.hpp), collects their intrinsics through a
// vigy_registrar like a language runtime (so intrinsics of a non-default
// capability come through the host's grant check), and calls them against a
// real tick_context and arena, checking arity first.
#ifndef VIGY_TESTS_EXT_HARNESS_HPP
#define VIGY_TESTS_EXT_HARNESS_HPP

#include "vigy/host/registry.hpp"
#include "vigy/host/tick_context.hpp"
#include "vigy/host/value.hpp"
#include "vigy/plugin.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vigy::test {

using host::value;

/// A built-in plugin file: <build>/lib/vigy/plugins/<file>.
std::filesystem::path builtin_plugin(const std::string& file);
/// An application plugin file: <build>/lib/vigy/app-plugins/<file>.
std::filesystem::path app_plugin(const std::string& file);
/// A test fixture plugin file: tests/ext's fixture-plugins/<file>.
std::filesystem::path fixture_plugin(const std::string& file);

/// The outcome of one intrinsic call.
struct call_result {
    vigy_status status = VIGY_OK;
    value result;
    std::string error;
    bool ok() const { return status == VIGY_OK; }
};

/// Every intrinsic of the plugins loaded so far, by name.
class harness {
public:
    /// Loads each plugin file through a fresh registry; throws on a refusal.
    explicit harness(const std::vector<std::filesystem::path>& files);
    ~harness();
    harness(harness&&) noexcept;
    /// Loads all six standard extensions.
    static harness standard();

    bool has(const std::string& name) const { return intrinsics_.count(name) != 0; }
    const vigy_intrinsic& intrinsic(const std::string& name) const;
    /// Plugin ids and pack names loaded, in order.
    const std::vector<std::string>& plugin_ids() const { return plugin_ids_; }
    const std::vector<std::string>& pack_names() const { return pack_names_; }
    const host::registry& registry() const { return *registry_; }

    /// Calls `name` with `args` against `tick` (arity checked first: an arity
    /// mismatch returns INVALID_ARGUMENT "arity").
    call_result call(host::tick_context& tick, const std::string& name, const std::vector<value>& args = {});

private:
    std::unique_ptr<host::registry> registry_;
    std::map<std::string, vigy_intrinsic> intrinsics_;
    std::vector<std::string> plugin_ids_;
    std::vector<std::string> pack_names_;
};

/// A fresh tick: start `now_ms`, kv hydrated from `kv` with the __sys bookkeeping.
host::tick_context make_tick(host::kv_map kv = {}, int64_t now_ms = 1'700'000'000'000);

/// Runs `n` ticks `every_ms` apart, calling `body(tick, i)` each tick and
/// carrying kv (the saved changes) between them like the runtime.
template <class F>
host::kv_map run_ticks(int n, F&& body, host::kv_map kv = {}, int64_t start_ms = 1'700'000'000'000,
                       int64_t every_ms = 1000) {
    for (int i = 0; i < n; ++i) {
        host::tick_context t = make_tick(kv, start_ms + i * every_ms);
        body(t, i);
        host::kv_changes ch = t.changes();
        for (auto& [k, v] : ch.upserts) kv[k] = v;
        for (const std::string& k : ch.deleted) kv.erase(k);
    }
    return kv;
}

}  // namespace vigy::test

#endif
