// The `lisp` reconciler plugin: tatara-lisp programs as vigy reconcilers.
//
// create() compiles the program ONCE (per revision) with the intrinsics of every
// host extension installed through the sdk registrar; tick() evaluates it in a
// fresh global frame (tatara::evaluator) under the vigy's limits. Intrinsic
// arguments and results cross as vigy_values built directly from/into the
// evaluation's region: no JSON text at the boundary.
//
// Config (JSON): either a string (the program text) or an object
//   {"program": "...", "source_name": "hello.tatara", "each": false,
//    "limits": {"fuel": N, "wall_ms": N, "memory_bytes": N, "max_depth": N}}
// Non-zero vigy_limits given by the host override the config's limits.
#include "vigy/sdk.hpp"

#include "tatara/tatara.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using vigy::sdk::fail;
using vigy::sdk::view;

// ---- error text ----------------------------------------------------------------

/// The source line `line` (1-based) of `text`, without its newline.
std::string_view source_line(std::string_view text, uint32_t line) {
    size_t start = 0;
    for (uint32_t l = 1; l < line; ++l) {
        size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) return {};
        start = nl + 1;
    }
    size_t end = text.find('\n', start);
    return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

/// "<file>:<line>:<col>: <message> (in <form>)" plus the source line and a caret
/// under the column, like a compiler diagnostic.
std::string format_diagnostic(const tatara::diagnostic& d, std::string_view source) {
    std::string out = d.formatted();
    if (d.line == 0 || d.source_name.rfind("<stdlib>", 0) == 0) return out;
    std::string_view text = source_line(source, d.line);
    if (text.empty()) return out;
    std::string num = std::to_string(d.line);
    out += "\n " + num + " | ";
    out.append(text);
    out += "\n " + std::string(num.size(), ' ') + " | ";
    // column counts characters: advance over UTF-8 code points of the line
    uint32_t col = 1;
    for (size_t i = 0; i < text.size() && col < d.column; ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) != 0x80) {
            out += (c == '\t') ? '\t' : ' ';
            ++col;
        }
    }
    out += '^';
    return out;
}

vigy_status status_for(const tatara::diagnostic& d) {
    if (d.kind == "fuel" || d.kind == "memory") return VIGY_RESOURCE_EXHAUSTED;
    if (d.kind == "wall-clock") return VIGY_DEADLINE_EXCEEDED;
    return VIGY_INVALID_ARGUMENT;
}

// ---- value conversion at the intrinsic boundary -----------------------------------

constexpr int kMaxConvertDepth = 512;

/// tatara value -> vigy_value, allocating arrays in the evaluation's region and
/// borrowing string bytes (they outlive the call). Non-data values (procedures,
/// promises, errors, foreign) become the string "<typename>" like the original.
vigy_value to_vigy(tatara::eval_ctx& ctx, tatara::value v, int depth) {
    using tatara::type;
    if (depth > kMaxConvertDepth) tatara::raise_native("intrinsic", "value nested too deeply");
    switch (v.tag) {
    case type::nil: return vigy_nil();
    case type::boolean: return vigy_bool(v.as_bool());
    case type::integer: return vigy_int(v.as_int());
    case type::real: return vigy_double(v.as_real());
    case type::string: return vigy_str_value(VIGY_STRING, v.text().data(), v.text().size());
    case type::symbol: return vigy_str_value(VIGY_SYMBOL, v.text().data(), v.text().size());
    case type::keyword: return vigy_str_value(VIGY_KEYWORD, v.text().data(), v.text().size());
    case type::list: {
        auto items = v.items();
        auto* out = ctx.mem().make_array<vigy_value>(items.size());
        for (size_t i = 0; i < items.size(); ++i) out[i] = to_vigy(ctx, items[i], depth + 1);
        vigy_value r = vigy_nil();
        r.type = VIGY_LIST;
        r.as.list.items = out;
        r.as.list.len = items.size();
        return r;
    }
    case type::map: {
        const tatara::map_obj* m = v.as_map();
        auto* out = ctx.mem().make_array<vigy_map_entry>(m->size);
        for (uint32_t i = 0; i < m->size; ++i) {
            out[i].key = to_vigy(ctx, m->entries[2 * i], depth + 1);
            out[i].value = to_vigy(ctx, m->entries[2 * i + 1], depth + 1);
        }
        vigy_value r = vigy_nil();
        r.type = VIGY_MAP;
        r.as.map.entries = out;
        r.as.map.len = m->size;
        return r;
    }
    default: {
        std::string name(1, '<');  // append(), not +: GCC 12 -Wrestrict false positive
        name.append(tatara::type_error_name(v.tag)).append(1, '>');
        tatara::value s = ctx.make_string(name);
        return vigy_str_value(VIGY_STRING, s.text().data(), s.text().size());
    }
    }
}

/// Text from the host, checked: the language only ever holds valid UTF-8, so every
/// string it hands back to the host (intrinsic arguments, the tick output) is valid too.
std::string_view host_text(const vigy_str& s, std::string_view who) {
    std::string_view t = view(s);
    if (size_t bad = tatara::invalid_utf8_offset(t); bad != std::string_view::npos)
        tatara::raise_native(who, "returned a string that is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    return t;
}

/// `text` with every byte that does not begin valid UTF-8 replaced by U+FFFD, for
/// diagnostics that quote host text (an intrinsic's error message, a source name).
std::string lossy_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (;;) {
        size_t bad = tatara::invalid_utf8_offset(text);
        if (bad == std::string_view::npos) break;
        out.append(text.substr(0, bad)).append("\xEF\xBF\xBD");
        text.remove_prefix(bad + 1);
    }
    out.append(text);
    return out;
}

/// vigy_value -> tatara value in the evaluation's region. Unknown tags read as nil.
/// `who` (the intrinsic) names the culprit of a malformed result.
tatara::value from_vigy(tatara::eval_ctx& ctx, const vigy_value& v, int depth, std::string_view who) {
    if (depth > kMaxConvertDepth) tatara::raise_native(who, "result nested too deeply");
    switch (v.type) {
    case VIGY_BOOL: return tatara::value::boolean(v.as.b != 0);
    case VIGY_INT: return tatara::value::integer(v.as.i);
    case VIGY_DOUBLE: return tatara::value::real(v.as.d);
    case VIGY_STRING: return ctx.make_string(host_text(v.as.str, who));
    case VIGY_SYMBOL: return ctx.make_symbol(host_text(v.as.str, who));
    case VIGY_KEYWORD: return ctx.make_keyword(host_text(v.as.str, who));
    case VIGY_LIST: {
        tatara::value out;
        tatara::value* items = ctx.new_list(v.as.list.len, out);
        for (size_t i = 0; i < v.as.list.len; ++i) items[i] = from_vigy(ctx, v.as.list.items[i], depth + 1, who);
        return out;
    }
    case VIGY_MAP: {
        std::vector<tatara::value> kvs;
        kvs.reserve(v.as.map.len * 2);
        for (size_t i = 0; i < v.as.map.len; ++i) {
            kvs.push_back(from_vigy(ctx, v.as.map.entries[i].key, depth + 1, who));
            kvs.push_back(from_vigy(ctx, v.as.map.entries[i].value, depth + 1, who));
        }
        return ctx.make_map(kvs);
    }
    default: return tatara::value::nil();
    }
}

// ---- intrinsics -------------------------------------------------------------------

/// One intrinsic as registered by the host (copied: name/doc are ours).
struct intrinsic_entry {
    std::string name;
    int min_args;
    int max_args;
    vigy_intrinsic_fn fn;
    void* data;
};

/// Per-evaluation host context: the tick the intrinsics act on.
struct tick_bridge {
    vigy_tick* tick;
    bool arena_refused = false;
};

/// The arena handed to intrinsics: the evaluation's region. A refusal (memory
/// limit) is recorded and re-raised as the limit error after the call returns,
/// so no exception ever crosses the C boundary.
struct region_arena {
    tatara::eval_ctx* ctx;
    tick_bridge* bridge;
    std::optional<tatara::limit_error> pending;
};

void* region_alloc(void* c, size_t bytes) {
    auto* a = static_cast<region_arena*>(c);
    try {
        return a->ctx->alloc(bytes);
    } catch (const tatara::limit_error& e) {
        if (!a->pending) a->pending.emplace(e);
        return nullptr;
    } catch (...) {
        return nullptr;
    }
}

/// The tatara host_fn for every intrinsic: converts, calls the C function, converts back.
tatara::value call_intrinsic(void* user_data, std::span<const tatara::value> args, tatara::eval_ctx& ctx) {
    const auto* entry = static_cast<const intrinsic_entry*>(user_data);
    auto* bridge = static_cast<tick_bridge*>(ctx.host_ctx());
    if (!bridge || !bridge->tick) tatara::raise_native(entry->name, "called outside a tick");

    auto* cargs = ctx.mem().make_array<vigy_value>(args.size());
    for (size_t i = 0; i < args.size(); ++i) cargs[i] = to_vigy(ctx, args[i], 0);

    region_arena ra{&ctx, bridge, std::nullopt};
    vigy_arena arena{sizeof(vigy_arena), 0, &ra, &region_alloc};
    vigy::sdk::error_buffer eb;
    vigy_call call{sizeof(vigy_call), static_cast<uint32_t>(args.size()), cargs, bridge->tick, &arena, eb.get(),
                   entry->data};
    vigy_value result = vigy_nil();
    vigy_status s = entry->fn(&call, &result);
    if (ra.pending) throw *ra.pending;
    if (s != VIGY_OK) {
        std::string_view msg = eb.message();
        // intrinsics name themselves ("vigy-incr: ..."); don't say it twice
        std::string prefix(entry->name);
        prefix.append(": ");
        if (msg.rfind(prefix, 0) == 0) msg.remove_prefix(prefix.size());
        if (msg.empty()) msg = vigy_status_name(s);
        tatara::raise_native(entry->name, lossy_utf8(msg));
    }
    return from_vigy(ctx, result, 0, entry->name);
}

// ---- the reconciler ---------------------------------------------------------------

uint64_t config_u64(const vigy_value* obj, std::string_view key) {
    const vigy_value* v = obj ? vigy::sdk::map_get(*obj, key) : nullptr;
    if (!v) return 0;
    if (v->type != VIGY_INT || v->as.i < 0)
        fail(VIGY_INVALID_ARGUMENT, "lisp config: limits." + std::string(key) + " must be a non-negative integer");
    return static_cast<uint64_t>(v->as.i);
}

class lisp_reconciler {
public:
    static std::unique_ptr<lisp_reconciler> create(const vigy_reconciler_spec& spec) {
        auto self = std::make_unique<lisp_reconciler>();
        const vigy_value& cfg = *spec.config;
        std::string_view program;
        std::string_view source_name = view(spec.name);
        const vigy_value* limits_cfg = nullptr;
        if (cfg.type == VIGY_STRING) {
            program = view(cfg.as.str);
        } else if (cfg.type == VIGY_MAP) {
            const vigy_value* p = vigy::sdk::map_get(cfg, "program");
            if (!p || p->type != VIGY_STRING)
                fail(VIGY_INVALID_ARGUMENT, "lisp config: \"program\" must be a string holding the program text");
            program = view(p->as.str);
            if (const vigy_value* n = vigy::sdk::map_get(cfg, "source_name"); n && n->type == VIGY_STRING)
                source_name = view(n->as.str);
            if (const vigy_value* e = vigy::sdk::map_get(cfg, "each")) self->each_ = vigy::sdk::truthy(*e);
            limits_cfg = vigy::sdk::map_get(cfg, "limits");
            if (limits_cfg && limits_cfg->type != VIGY_MAP)
                fail(VIGY_INVALID_ARGUMENT, "lisp config: \"limits\" must be an object");
        } else {
            fail(VIGY_INVALID_ARGUMENT, std::string("lisp config must be the program text or an object with "
                                                    "\"program\", got ") +
                                            vigy_type_name(cfg.type));
        }
        if (source_name.empty()) source_name = "<program>";
        const std::string shown_name = lossy_utf8(source_name);
        self->source_.assign(program);
        self->apply_limits(limits_cfg, *spec.limits);

        // Intrinsics of every loaded host extension, through the registrar.
        const vigy_host_api* host = vigy::sdk::host_api();
        if (host && host->install_intrinsics) {
            vigy_registrar reg{sizeof(vigy_registrar), 0, self.get(), &lisp_reconciler::add_intrinsic};
            vigy::sdk::error_buffer eb;
            vigy::sdk::check(host->install_intrinsics(host->host_data, &reg, eb.get()), eb);
        }
        std::vector<tatara::intrinsic> intrinsics;
        intrinsics.reserve(self->intrinsics_.size());
        for (auto& e : self->intrinsics_)
            intrinsics.push_back(tatara::intrinsic{e.name, e.min_args, e.max_args, &call_intrinsic, &e});

        tatara::compile_result r = tatara::compile(self->source_, shown_name, intrinsics);
        if (!r.prog) fail(VIGY_INVALID_ARGUMENT, format_diagnostic(*r.error, self->source_));
        self->program_ = std::move(r.prog);
        return self;
    }

    void tick(vigy::sdk::tick_ref tick) {
        // One evaluator per thread, reused by every vigy ticking on it: its region
        // is recycled between runs, so memory stays flat.
        thread_local tatara::evaluator evaluator;
        tick_bridge bridge{tick.get()};
        tatara::string_sink out;
        tatara::eval_options opts;
        opts.lim = limits_;
        opts.host_ctx = &bridge;
        opts.out = &out;
        opts.keep_each = each_;
        tatara::eval_result r = evaluator.run(*program_, opts);
        // The output is what the program printed, then the printed value of its last
        // form (of every form with `each`), each value on a line of its own. A failed
        // tick keeps what was printed up to the error, without a value.
        std::string text = out.text();
        if (!r.ok) {
            tick.set_output(text);
            fail(status_for(r.error), format_diagnostic(r.error, source_));
        }
        auto append_value = [&text](tatara::value v) {
            if (!text.empty() && text.back() != '\n') text += '\n';
            tatara::print_value(text, v);
        };
        if (each_) {
            for (const tatara::value& v : r.each) append_value(v);
        } else {
            append_value(r.result);
        }
        tick.set_output(text);
    }

private:
    static vigy_status add_intrinsic(void* ctx, const vigy_intrinsic* in, vigy_error* err) {
        return vigy::sdk::fence(err, [&]() -> vigy_status {
            auto* self = static_cast<lisp_reconciler*>(ctx);
            if (!in || !in->name || !in->fn) fail(VIGY_INVALID_ARGUMENT, "intrinsic without a name or function");
            for (const auto& e : self->intrinsics_)
                if (e.name == in->name)
                    fail(VIGY_ALREADY_EXISTS, "intrinsic " + e.name + " is registered twice");
            self->intrinsics_.push_back(intrinsic_entry{in->name, in->min_arity, in->max_arity, in->fn, in->data});
            return VIGY_OK;
        });
    }

    void apply_limits(const vigy_value* cfg, const vigy_limits& host) {
        auto pick = [](uint64_t from_host, uint64_t from_cfg, uint64_t dflt) {
            return from_host ? from_host : (from_cfg ? from_cfg : dflt);
        };
        tatara::limits d;
        limits_.fuel = pick(host.fuel, config_u64(cfg, "fuel"), d.fuel);
        limits_.wall_clock_ms =
            static_cast<uint32_t>(std::min<uint64_t>(pick(host.wall_ms, config_u64(cfg, "wall_ms"), d.wall_clock_ms),
                                                     UINT32_MAX));
        limits_.memory_bytes = static_cast<size_t>(pick(host.memory_bytes, config_u64(cfg, "memory_bytes"),
                                                        d.memory_bytes));
        limits_.max_depth = static_cast<uint32_t>(
            std::min<uint64_t>(pick(host.max_depth, config_u64(cfg, "max_depth"), d.max_depth), UINT32_MAX));
    }

    std::string source_;
    bool each_ = false;
    tatara::limits limits_;
    std::deque<intrinsic_entry> intrinsics_;  // stable addresses: the program points at them
    tatara::program_ptr program_;
};

const vigy_reconciler_kind kKinds[] = {
    {sizeof(vigy_reconciler_kind), 0, "lisp",
     "a tatara-lisp program; config: the program text, or {\"program\", \"source_name\", \"each\", \"limits\"}"},
};

const vigy_reconciler_factory kFactory = {
    sizeof(vigy_reconciler_factory),
    1,
    kKinds,
    &vigy::sdk::reconciler_adapter<lisp_reconciler>::create,
    &vigy::sdk::reconciler_adapter<lisp_reconciler>::tick,
    &vigy::sdk::reconciler_adapter<lisp_reconciler>::destroy,
};

const void* get_extension(const char* id) {
    if (std::string_view(id) == VIGY_RECONCILER_FACTORY_ID) return &kFactory;
    return nullptr;
}

/// init: remember the host, then make sure the language itself loaded. A stdlib prelude
/// file that fails to load refuses the plugin, logged through the host's logger.
vigy_status init_plugin(const vigy_host_api* host, vigy_error* err) noexcept {
    vigy::sdk::remember_host(host, err);
    return vigy::sdk::fence(err, [] {
        if (const tatara::diagnostic* e = tatara::stdlib_error()) {
            const std::string msg = "lisp stdlib failed to load: " + e->formatted();
            vigy::sdk::host_log(VIGY_LOG_ERROR, msg);
            fail(VIGY_INTERNAL, msg);
        }
    });
}

const vigy_plugin_descriptor kDescriptor = {
    VIGY_PLUGIN_MAGIC,
    sizeof(vigy_plugin_descriptor),
    VIGY_ABI_VERSION,
    0,
    "vigy.lisp",
    "0.1.0",
    "tatara-lisp reconcilers: compile once per revision, evaluate each tick in a fresh frame",
    &init_plugin,
    nullptr,
    &get_extension,
};

}  // namespace

VIGY_DEFINE_PLUGIN(kDescriptor)
