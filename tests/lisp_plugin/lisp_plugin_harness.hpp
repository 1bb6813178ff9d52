// A minimal host for the `lisp` plugin: dlopen through its one exported symbol, a host API
// with one test extension, a recording tick and a helper creating instances from a
// program. Shared by the plugin's test files.
#pragma once

#include "vigy/sdk.hpp"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace lisp_plugin_test {

// ---- a recording tick ---------------------------------------------------------------

struct fake_tick {
    vigy_tick base{sizeof(vigy_tick), 0, nullptr};
    std::string output;
    std::vector<std::string> logs;
    int64_t count = 1;
    int checkpoints = 0;    ///< calls of the `cancelled` slot (the evaluator's checkpoint)
    int cancel_after = -1;  ///< >= 0: `cancelled` turns nonzero after this many calls
};

inline fake_tick* self(vigy_tick* t) { return reinterpret_cast<fake_tick*>(t); }

inline const vigy_tick_api kTickApi = [] {
    vigy_tick_api api{};
    api.struct_size = sizeof api;
    api.info = [](vigy_tick* t, vigy_tick_info* out) {
        out->tick_start_ms = 1000;
        out->previous_tick_ms = -1;
        out->tick_count = self(t)->count;
    };
    api.log = [](vigy_tick* t, int32_t, vigy_str m, vigy_error*) -> vigy_status {
        self(t)->logs.emplace_back(vigy::sdk::view(m));
        return VIGY_OK;
    };
    api.set_output = [](vigy_tick* t, vigy_str s) { self(t)->output.assign(vigy::sdk::view(s)); };
    api.cancelled = [](vigy_tick* t) -> int32_t {
        fake_tick& f = *self(t);
        const bool stop = f.cancel_after >= 0 && f.checkpoints >= f.cancel_after;
        ++f.checkpoints;
        return stop ? 1 : 0;
    };
    return api;
}();

// ---- a test extension ------------------------------------------------------------------

inline vigy_value test_add(const vigy::sdk::call_args& a, vigy::sdk::tick_ref) {
    return vigy_int(a.integer(0, "a") + a.integer(1, "b"));
}
// Returns its argument wrapped: {:got ARG :count N} — exercises map/list/keyword conversion.
inline vigy_value test_wrap(const vigy::sdk::call_args& a, vigy::sdk::tick_ref t) {
    vigy::sdk::builder b = a.make();
    vigy_map_entry* es;
    vigy_value m = b.map(2, &es);
    es[0].key = b.keyword("got");
    es[0].value = b.copy(a[0]);
    es[1].key = b.keyword("count");
    es[1].value = vigy_int(t.info().tick_count);
    return m;
}
inline vigy_value test_log(const vigy::sdk::call_args& a, vigy::sdk::tick_ref t) {
    t.log(VIGY_LOG_INFO, a.string(0, "message"));
    return vigy_nil();
}

// Breaks the ABI's UTF-8 promise: returns (and fails with) bytes that are not UTF-8.
inline vigy_value test_bad_text(const vigy::sdk::call_args& a, vigy::sdk::tick_ref) {
    if (a.integer(0, "mode") == 0) return vigy_str_value(VIGY_STRING, "ok\xFF", 3);
    vigy::sdk::fail(VIGY_FAILED_PRECONDITION, "test-bad-text: broken \xC3 message");
}

inline const vigy_intrinsic kIntrinsics[] = {
    vigy::sdk::intrinsic<test_bad_text>("test-bad-text", 1, 1, "(test-bad-text mode)"),
    vigy::sdk::intrinsic<test_add>("test-add", 2, 2, "(test-add a b)"),
    vigy::sdk::intrinsic<test_wrap>("test-wrap", 1, 1, "(test-wrap x)"),
    vigy::sdk::intrinsic<test_log>("test-log", 1, 1, "(test-log msg)"),
};

inline vigy_status install(void*, const vigy_registrar* r, vigy_error* err) {
    for (const vigy_intrinsic& i : kIntrinsics)
        if (vigy_status s = r->add_intrinsic(r->ctx, &i, err); s != VIGY_OK) return s;
    return VIGY_OK;
}

inline const vigy_host_api kHost = [] {
    vigy_host_api h{};
    h.struct_size = sizeof h;
    h.abi_version = VIGY_ABI_VERSION;
    h.log = [](void*, int32_t, vigy_str) {};
    h.install_intrinsics = &install;
    return h;
}();

// ---- the plugin under test ---------------------------------------------------------------

struct lisp_plugin {
    const vigy_reconciler_factory* factory = nullptr;
    lisp_plugin() {
        void* h = dlopen(VIGY_LISP_PLUGIN, RTLD_NOW | RTLD_LOCAL);
        REQUIRE(h);
        auto entry = reinterpret_cast<vigy_plugin_entry_fn>(dlsym(h, VIGY_PLUGIN_ENTRY_SYMBOL));
        REQUIRE(entry);
        const vigy_plugin_descriptor* d = entry(VIGY_ABI_VERSION);
        REQUIRE(d);
        REQUIRE(d->magic == VIGY_PLUGIN_MAGIC);
        CHECK(std::string(d->id) == "vigy.lisp");
        vigy::sdk::error_buffer eb;
        REQUIRE(d->init(&kHost, eb.get()) == VIGY_OK);
        factory = static_cast<const vigy_reconciler_factory*>(d->get_extension(VIGY_RECONCILER_FACTORY_ID));
        REQUIRE(factory);
        CHECK(entry(0x00020000u) == nullptr);  // refuses another ABI major
    }
};

inline lisp_plugin& plugin() {
    static lisp_plugin p;
    return p;
}

struct outcome {
    vigy_status status;
    std::string message;
};

/// Creates a reconciler from a config {"program", "each", "limits": {"program_bytes"}}.
struct instance {
    vigy_reconciler* r = nullptr;
    outcome created;
    explicit instance(const std::string& program, vigy_limits lim = {sizeof(vigy_limits)}, bool each = false,
                      int64_t program_bytes = 0) {
        vigy_map_entry limit_es[1] = {{vigy_str_value(VIGY_STRING, "program_bytes", 13), vigy_int(program_bytes)}};
        vigy_value limits = vigy_nil();
        limits.type = VIGY_MAP;
        limits.as.map.entries = limit_es;
        limits.as.map.len = program_bytes ? 1 : 0;
        vigy_map_entry es[3] = {
            {vigy_str_value(VIGY_STRING, "program", 7), vigy_str_value(VIGY_STRING, program.data(), program.size())},
            {vigy_str_value(VIGY_STRING, "each", 4), vigy_bool(each)},
            {vigy_str_value(VIGY_STRING, "limits", 6), limits},
        };
        vigy_value cfg = vigy_nil();
        cfg.type = VIGY_MAP;
        cfg.as.map.entries = es;
        cfg.as.map.len = 3;
        vigy_reconciler_spec spec{sizeof spec, 0,    vigy::sdk::str("lisp"),       vigy::sdk::str(""),
                                  &cfg,        &lim, vigy::sdk::str("prog.tatara")};
        vigy::sdk::error_buffer eb;
        created.status = plugin().factory->create(&spec, &r, eb.get());
        created.message = eb.message();
    }
    instance(instance&& o) noexcept : r(o.r), created(std::move(o.created)) { o.r = nullptr; }
    instance(const instance&) = delete;
    ~instance() {
        if (r) plugin().factory->destroy(r);
    }
    outcome tick(fake_tick& t) {
        t.base.api = &kTickApi;
        vigy::sdk::error_buffer eb;
        vigy_status s = plugin().factory->tick(r, &t.base, eb.get());
        return {s, eb.message()};
    }
};

}  // namespace lisp_plugin_test
