/// ext_common.hpp — shared plumbing of the six standard extension plugins
/// (vigy.actions, vigy.state, vigy.kv, vigy.convergence, vigy.scheduling,
/// vigy.diagnostics): the descriptor boilerplate and small argument helpers.
/// sdk headers only; each plugin is its own shared object.
#ifndef VIGY_PLUGINS_NATIVE_EXT_COMMON_HPP
#define VIGY_PLUGINS_NATIVE_EXT_COMMON_HPP

#include "vigy/sdk.hpp"

#include <cstring>
#include <string>
#include <string_view>

namespace vigy::ext {

using sdk::call_args;
using sdk::tick_ref;

/// Runs a host call, prefixing a failure's message with the intrinsic name.
template <class F>
auto host_call(const call_args& args, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const sdk::status_error& e) {
        sdk::fail(e.code(), std::string(args.name()) + ": " + e.what());
    }
}

/// Fails with INVALID_ARGUMENT: "<intrinsic>: argument <i+1> (<what>) <problem>".
[[noreturn]] inline void bad_argument(const call_args& args, size_t i, const char* what, const std::string& problem) {
    sdk::fail(VIGY_INVALID_ARGUMENT,
              std::string(args.name()) + ": argument " + std::to_string(i + 1) + " (" + what + ") " + problem);
}

/// A string argument that must not be empty (kv keys, names).
inline std::string_view key_arg(const call_args& args, size_t i, const char* what) {
    std::string_view s = args.string(i, what);
    if (s.empty()) bad_argument(args, i, what, "must not be empty");
    return s;
}

/// ASCII lowercase copy.
inline std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

/// The plugin's single host-extension capability.
inline const void* find_capability(const char* id, const char* want, const void* what) noexcept {
    return (id && std::strcmp(id, want) == 0) ? what : nullptr;
}

}  // namespace vigy::ext

/// Defines a plugin `ID` exposing one extension pack `PACK` made of the
/// constexpr vigy_intrinsic array `TABLE`, and its vigy_plugin_entry.
#define VIGY_EXTENSION_PLUGIN(ID, DESCRIPTION, PACK, PACK_DOC, TABLE)                                 \
    namespace {                                                                                       \
    constexpr vigy_host_extension ext_pack_{sizeof(vigy_host_extension),        0,    PACK, PACK_DOC, \
                                            sizeof(TABLE) / sizeof((TABLE)[0]), TABLE};               \
    constexpr vigy_host_extension_list ext_list_{sizeof(vigy_host_extension_list), 0, 1, &ext_pack_}; \
    const void* ext_get_extension_(const char* id) noexcept {                                         \
        return ::vigy::ext::find_capability(id, VIGY_HOST_EXTENSION_ID, &ext_list_);                  \
    }                                                                                                 \
    constexpr vigy_plugin_descriptor ext_descriptor_{VIGY_PLUGIN_MAGIC,                               \
                                                     sizeof(vigy_plugin_descriptor),                  \
                                                     VIGY_ABI_VERSION,                                \
                                                     0,                                               \
                                                     ID,                                              \
                                                     "0.1.0",                                         \
                                                     DESCRIPTION,                                     \
                                                     &::vigy::sdk::remember_host,                     \
                                                     nullptr,                                         \
                                                     &ext_get_extension_};                            \
    }                                                                                                 \
    VIGY_DEFINE_PLUGIN(ext_descriptor_)

#endif  // VIGY_PLUGINS_NATIVE_EXT_COMMON_HPP
