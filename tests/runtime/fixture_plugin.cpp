// tests/runtime/fixture_plugin.cpp — the "fx" reconciler kind (see fixture_plugin.hpp).
#include "fixture_plugin.hpp"

#include "vigy/sdk.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace fx {
namespace {

using vigy::sdk::tick_ref;

struct counter {
    int64_t sleep_ms = 0;
    bool fail = false;
    int64_t fail_first = 0;
    int64_t ticks = 0;

    static std::unique_ptr<counter> create(const vigy_reconciler_spec& spec) {
        auto c = std::make_unique<counter>();
        const vigy_value& cfg = *spec.config;
        if (const vigy_value* v = vigy::sdk::map_get(cfg, "build_error"); v && vigy::sdk::is_stringish(*v))
            vigy::sdk::fail(VIGY_INVALID_ARGUMENT, std::string(vigy::sdk::view(v->as.str)));
        if (const vigy_value* v = vigy::sdk::map_get(cfg, "sleep_ms"); v && v->type == VIGY_INT) c->sleep_ms = v->as.i;
        if (const vigy_value* v = vigy::sdk::map_get(cfg, "fail"); v) c->fail = vigy::sdk::truthy(*v);
        if (const vigy_value* v = vigy::sdk::map_get(cfg, "fail_first"); v && v->type == VIGY_INT)
            c->fail_first = v->as.i;
        return c;
    }

    void tick(tick_ref t) {
        ++ticks;
        if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        if (fail || ticks <= fail_first)
            vigy::sdk::fail(VIGY_FAILED_PRECONDITION, "fixture failure " + std::to_string(ticks));
        vigy_arena_holder arena;
        vigy_value cur;
        int64_t n = 0;
        if (t.kv_get("count", arena.get(), &cur) && cur.type == VIGY_INT) n = cur.as.i;
        t.kv_set("count", vigy_int(n + 1));
        t.emit_action("noop");
        t.log(VIGY_LOG_INFO, "tick " + std::to_string(n + 1));
        t.set_condition("Ready", VIGY_CONDITION_TRUE, vigy::sdk::str("Counted"), vigy::sdk::absent());
        t.set_output(std::to_string(n + 1));
    }

    /// A tiny malloc-backed arena for kv_get (freed at scope exit).
    struct vigy_arena_holder {
        std::vector<std::unique_ptr<char[]>> blocks;
        vigy_arena a{};
        vigy_arena_holder() {
            a.struct_size = sizeof(vigy_arena);
            a.ctx = this;
            a.alloc = [](void* ctx, size_t n) -> void* {
                auto* self = static_cast<vigy_arena_holder*>(ctx);
                self->blocks.push_back(std::make_unique<char[]>(n + 16));
                return self->blocks.back().get();
            };
        }
        const vigy_arena* get() const { return &a; }
    };
};

const vigy_reconciler_kind kinds[] = {{sizeof(vigy_reconciler_kind), 0, "fx", "runtime test fixture"}};

const vigy_reconciler_factory factory = {
    sizeof(vigy_reconciler_factory), 1, kinds,
    &vigy::sdk::reconciler_adapter<counter>::create,
    &vigy::sdk::reconciler_adapter<counter>::tick,
    &vigy::sdk::reconciler_adapter<counter>::destroy,
};

const void* get_extension(const char* id) {
    return std::string_view(id) == VIGY_RECONCILER_FACTORY_ID ? &factory : nullptr;
}

const vigy_plugin_descriptor descriptor = {
    VIGY_PLUGIN_MAGIC, sizeof(vigy_plugin_descriptor), VIGY_ABI_VERSION, 0, "test.fixture", "0.1.0",
    "runtime test fixture", &vigy::sdk::remember_host, nullptr, &get_extension,
};

}  // namespace

const vigy_plugin_descriptor* entry(uint32_t host_abi_version) {
    return vigy::sdk::abi_compatible(host_abi_version) ? &descriptor : nullptr;
}

}  // namespace fx
