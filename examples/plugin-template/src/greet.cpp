// greet.cpp — a vigy plugin with one host extension, "greet", holding one
// intrinsic: (greet-hello name) -> "hello, <name>!". A vigy program calls it like
// any function once the plugin is loaded (vigy --plugin-dir DIR ...).
//
// Only the installed sdk headers are used (vigy/sdk.hpp over the C ABI in
// vigy/plugin.h): the plugin loads in any vigy of the same ABI major.
#include <vigy/sdk.hpp>

#include <string>

namespace {

// An intrinsic: typed, checked access to the arguments (a wrong type or count is
// an INVALID_ARGUMENT the program sees), the result built in the caller's arena.
vigy_value greet_hello(const vigy::sdk::call_args& args, vigy::sdk::tick_ref) {
    return args.make().string("hello, " + std::string(args.string(0, "name")) + "!");
}

const vigy_intrinsic intrinsics[] = {
    vigy::sdk::intrinsic<greet_hello>("greet-hello", 1, 1, "(greet-hello name) -> string: a greeting for name"),
};
const vigy_host_extension extensions[] = {
    {sizeof(vigy_host_extension), 0, "greet", "greetings (the plugin template)", 1, intrinsics},
};
const vigy_host_extension_list extension_list = {sizeof(vigy_host_extension_list), 0, 1, extensions};

const void* get_extension(const char* id) {
    if (std::string_view(id) == VIGY_HOST_EXTENSION_ID) return &extension_list;
    return nullptr;
}

const vigy_plugin_descriptor descriptor = {
    VIGY_PLUGIN_MAGIC,
    sizeof(vigy_plugin_descriptor),
    VIGY_ABI_VERSION,
    0,
    "com.example.greet",
    "0.1.0",
    "the vigy plugin template: one extension with one intrinsic",
    &vigy::sdk::remember_host,
    nullptr,
    &get_extension,
};

}  // namespace

VIGY_DEFINE_PLUGIN(descriptor)
