// tests/runtime/fixture_plugin.cpp — the "fx" reconciler kind (see fixture_plugin.hpp).
#include "fixture_plugin.hpp"

#include "vigy/host/capabilities.hpp"
#include "vigy/host/tick_context.hpp"
#include "vigy/sdk.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace fx {

namespace {

std::mutex clock_m;
std::shared_ptr<vigy::host::manual_clock> test_clock;

using vigy::sdk::tick_ref;

vigy_status status_named(std::string_view name) {
    for (vigy_status s = VIGY_OK; s <= VIGY_UNAVAILABLE; ++s)
        if (name == vigy_status_name(s)) return s;
    return VIGY_FAILED_PRECONDITION;
}

struct counter {
    int64_t sleep_ms = 0;
    bool use_gate = false;
    bool fail = false;
    int64_t fail_first = 0;
    vigy_status fail_status = VIGY_FAILED_PRECONDITION;
    std::string print;
    std::string bad_utf8;
    bool echo_grants = false;
    int64_t ticks = 0;

    static std::unique_ptr<counter> create(const vigy_reconciler_spec& spec) {
        auto c = std::make_unique<counter>();
        const vigy_value& cfg = *spec.config;
        auto str = [&](const char* k) -> std::string {
            const vigy_value* v = vigy::sdk::map_get(cfg, k);
            return v && vigy::sdk::is_stringish(*v) ? std::string(vigy::sdk::view(v->as.str)) : std::string();
        };
        if (const std::string e = str("build_error"); !e.empty()) vigy::sdk::fail(VIGY_INVALID_ARGUMENT, e);
        if (const vigy_value* v = vigy::sdk::map_get(cfg, "sleep_ms"); v && v->type == VIGY_INT) c->sleep_ms = v->as.i;
        if (const vigy_value* v = vigy::sdk::map_get(cfg, "gate"); v) c->use_gate = vigy::sdk::truthy(*v);
        if (const vigy_value* v = vigy::sdk::map_get(cfg, "fail"); v) c->fail = vigy::sdk::truthy(*v);
        if (const vigy_value* v = vigy::sdk::map_get(cfg, "fail_first"); v && v->type == VIGY_INT)
            c->fail_first = v->as.i;
        if (const vigy_value* v = vigy::sdk::map_get(cfg, "echo_grants"); v) c->echo_grants = vigy::sdk::truthy(*v);
        if (const std::string s = str("fail_status"); !s.empty()) c->fail_status = status_named(s);
        c->print = str("print");
        c->bad_utf8 = str("bad_utf8");
        return c;
    }

    void tick(tick_ref t) {
        ++ticks;
        if (!print.empty()) t.set_output(print);
        if (use_gate) gate().pass();
        if (sleep_ms > 0) {
            std::lock_guard lk(clock_m);
            if (test_clock) test_clock->advance(std::chrono::milliseconds(sleep_ms));
        }
        if (fail || ticks <= fail_first) vigy::sdk::fail(fail_status, "fixture failure " + std::to_string(ticks));
        static const std::string invalid = "bad \xff\xfe byte";
        if (bad_utf8 == "log") t.log(VIGY_LOG_INFO, invalid);
        if (bad_utf8 == "kv") t.kv_set(invalid, vigy_int(1));
        if (bad_utf8 == "output") t.set_output(invalid);
        vigy_arena_holder arena;
        vigy_value cur;
        int64_t n = 0;
        if (t.kv_get("count", arena.get(), &cur) && cur.type == VIGY_INT) n = cur.as.i;
        t.kv_set("count", vigy_int(n + 1));
        t.emit_action("noop");
        t.log(VIGY_LOG_INFO, "tick " + std::to_string(n + 1));
        t.set_condition("Ready", VIGY_CONDITION_TRUE, vigy::sdk::str("Counted"), vigy::sdk::absent());
        if (echo_grants) {
            // an in-process test plugin may look at the host's side of the tick
            const auto* g = vigy::host::tick_context::from(t.get())->grants();
            std::string out = g ? std::string() : std::string("defaults");
            if (g)
                for (const auto& s : g->extra()) out += (out.empty() ? "" : ",") + s;
            t.set_output(out);
        } else if (bad_utf8 != "output") {
            t.set_output(std::to_string(n + 1));
        }
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
    sizeof(vigy_reconciler_factory),
    1,
    kinds,
    &vigy::sdk::reconciler_adapter<counter>::create,
    &vigy::sdk::reconciler_adapter<counter>::tick,
    &vigy::sdk::reconciler_adapter<counter>::destroy,
};

const void* get_extension(const char* id) {
    return std::string_view(id) == VIGY_RECONCILER_FACTORY_ID ? &factory : nullptr;
}

const vigy_plugin_descriptor descriptor = {
    VIGY_PLUGIN_MAGIC, sizeof(vigy_plugin_descriptor), VIGY_ABI_VERSION,          0,       "test.fixture",
    "0.1.0",           "runtime test fixture",         &vigy::sdk::remember_host, nullptr, &get_extension,
};

}  // namespace

const vigy_plugin_descriptor* entry(uint32_t host_abi_version) {
    return vigy::sdk::abi_compatible(host_abi_version) ? &descriptor : nullptr;
}

void use_clock(std::shared_ptr<vigy::host::manual_clock> clock) {
    std::lock_guard lk(clock_m);
    test_clock = std::move(clock);
}

void gate_t::pass() {
    std::unique_lock lk(m_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return open_; });
    --waiting_;
}
void gate_t::open() {
    std::lock_guard lk(m_);
    open_ = true;
    cv_.notify_all();
}
void gate_t::close() {
    std::lock_guard lk(m_);
    open_ = false;
}
void gate_t::wait_waiting(int n) {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return waiting_ >= n; });
}

gate_t& gate() {
    static gate_t g;
    return g;
}

}  // namespace fx
