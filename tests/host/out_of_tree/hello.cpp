// A minimal application plugin: reconciler kind `hello` and an intrinsic pack
// `hello` with `hello-greet`, written only against the installed sdk.
#include <vigy/sdk.hpp>

#include <string>

namespace {

struct hello {
    std::string who = "world";
    static std::unique_ptr<hello> create(const vigy_reconciler_spec& spec) {
        auto h = std::make_unique<hello>();
        if (const vigy_value* w = vigy::sdk::map_get(*spec.config, "who"); w && vigy::sdk::is_stringish(*w))
            h->who = std::string(vigy::sdk::view(w->as.str));
        return h;
    }
    void tick(vigy::sdk::tick_ref t) {
        t.emit_action("custom", nullptr, vigy::sdk::absent(), vigy::sdk::str("hello " + who));
    }
};

vigy_value greet(const vigy::sdk::call_args& args, vigy::sdk::tick_ref) {
    return args.make().string("hello " + std::string(args.string(0, "name")));
}

const vigy_reconciler_kind kinds[] = {{sizeof(vigy_reconciler_kind), 0, "hello", "emits \"hello <who>\""}};
const vigy_reconciler_factory factory = {
    sizeof(vigy_reconciler_factory),
    1,
    kinds,
    &vigy::sdk::reconciler_adapter<hello>::create,
    &vigy::sdk::reconciler_adapter<hello>::tick,
    &vigy::sdk::reconciler_adapter<hello>::destroy,
};
const vigy_intrinsic intrinsics[] = {vigy::sdk::intrinsic<greet>("hello-greet", 1, 1, "(hello-greet name) -> string")};
const vigy_host_extension packs[] = {{sizeof(vigy_host_extension), 0, "hello", "greetings", 1, intrinsics}};
const vigy_host_extension_list pack_list = {sizeof(vigy_host_extension_list), 0, 1, packs};

const void* get_extension(const char* id) {
    std::string_view s(id);
    if (s == VIGY_RECONCILER_FACTORY_ID) return &factory;
    if (s == VIGY_HOST_EXTENSION_ID) return &pack_list;
    return nullptr;
}

const vigy_plugin_descriptor descriptor = {
    VIGY_PLUGIN_MAGIC,
    sizeof(vigy_plugin_descriptor),
    VIGY_ABI_VERSION,
    0,
    "com.example.hello",
    "1.0.0",
    "an application's own plugin, built out of tree",
    &vigy::sdk::remember_host,
    nullptr,
    &get_extension,
};

}  // namespace

VIGY_DEFINE_PLUGIN(descriptor)
