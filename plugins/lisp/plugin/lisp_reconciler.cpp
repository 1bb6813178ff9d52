// The `lisp` reconciler plugin: tatara-lisp programs as vigy reconcilers.
//
// create() compiles the program once per revision with the intrinsics of every host
// extension installed through the sdk registrar, or takes it from a process-wide cache
// of compiled programs: vigies with the same program text, source name, limits and
// extensions share one immutable compiled form (an instance is a small handle; the form
// dies with its last instance). tick() evaluates it in a fresh global frame
// (tatara::evaluator, one per thread) under the vigy's limits; what the program prints
// is captured, never written to stdout, and handed to the host with set_output on
// success and on failure. Intrinsic arguments and results cross as vigy_values built
// directly from/into the evaluation's region: no JSON text at the boundary.
//
// Config (JSON): either a string (the program text) or an object
//   {"program": "...", "source_name": "hello.tatara", "each": false,
//    "limits": {"fuel": N, "wall_ms": N, "memory_bytes": N, "max_depth": N,
//               "program_bytes": N}}
// Non-zero vigy_limits given by the host override the config's limits. The memory,
// fuel and wall-clock limits also bound the compilation; program_bytes (default 1 MiB,
// the host's default cap) refuses larger programs before anything is built.
#include "vigy/sdk.hpp"

#include "tatara/tatara.hpp"

#include <malloc.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
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

// ---- limits -----------------------------------------------------------------------

/// Programs larger than this are refused before anything is allocated for them: the
/// host's default program size cap (1 MiB), overridable by the config's
/// limits.program_bytes (a host configured with another cap passes it there).
constexpr uint64_t kDefaultProgramBytes = uint64_t(1) << 20;

/// Bytes of its last evaluation a tick thread may keep between ticks (reused next tick).
constexpr size_t kKeepEvaluationBytes = size_t(4) << 20;

uint64_t config_u64(const vigy_value* obj, std::string_view key) {
    const vigy_value* v = obj ? vigy::sdk::map_get(*obj, key) : nullptr;
    if (!v) return 0;
    if (v->type != VIGY_INT || v->as.i < 0)
        fail(VIGY_INVALID_ARGUMENT, "lisp config: limits." + std::string(key) + " must be a non-negative integer");
    return static_cast<uint64_t>(v->as.i);
}

/// The limits of one vigy: the host's non-zero vigy_limits override the config's limits,
/// which override the defaults. The same memory, fuel and wall-clock limits bound the
/// compilation (the compiled form and compile-time macro expansion).
struct vigy_lisp_limits {
    tatara::limits tick;
    tatara::compile_limits compile;
};

vigy_lisp_limits effective_limits(const vigy_value* cfg, const vigy_limits& host) {
    auto pick = [](uint64_t from_host, uint64_t from_cfg, uint64_t dflt) {
        return from_host ? from_host : (from_cfg ? from_cfg : dflt);
    };
    auto clamp32 = [](uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX)); };
    tatara::limits d;
    vigy_lisp_limits l;
    l.tick.fuel = pick(host.fuel, config_u64(cfg, "fuel"), d.fuel);
    l.tick.wall_clock_ms = clamp32(pick(host.wall_ms, config_u64(cfg, "wall_ms"), d.wall_clock_ms));
    l.tick.memory_bytes = static_cast<size_t>(pick(host.memory_bytes, config_u64(cfg, "memory_bytes"), d.memory_bytes));
    l.tick.max_depth = clamp32(pick(host.max_depth, config_u64(cfg, "max_depth"), d.max_depth));
    l.compile.memory_bytes = l.tick.memory_bytes;
    l.compile.fuel = l.tick.fuel;
    l.compile.wall_clock_ms = l.tick.wall_clock_ms;
    l.compile.max_source_bytes = static_cast<size_t>(pick(0, config_u64(cfg, "program_bytes"), kDefaultProgramBytes));
    return l;
}

vigy_status status_for(const tatara::diagnostic& d) {
    if (d.kind == "fuel" || d.kind == "memory" || d.kind == "program-size") return VIGY_RESOURCE_EXHAUSTED;
    if (d.kind == "wall-clock") return VIGY_DEADLINE_EXCEEDED;
    if (d.kind == "cancelled") return VIGY_CANCELLED;
    if (d.kind == "stdlib") return VIGY_INTERNAL;
    return VIGY_INVALID_ARGUMENT;
}

// ---- compiled programs, shared ---------------------------------------------------------

/// What a compilation depends on: the source, its name (in diagnostics), the limits it
/// ran under and the intrinsics installed into it.
struct program_key {
    std::string source_name;
    uint64_t source_hash = 0;
    uint64_t intrinsics_hash = 0;
    size_t memory_bytes = 0;
    uint64_t fuel = 0;
    uint32_t wall_clock_ms = 0;
    size_t max_source_bytes = 0;
    bool operator==(const program_key&) const = default;
};

struct program_key_hash {
    size_t operator()(const program_key& k) const {
        size_t h = std::hash<std::string>{}(k.source_name);
        for (uint64_t x : {k.source_hash, k.intrinsics_hash, uint64_t(k.memory_bytes), k.fuel,
                           uint64_t(k.wall_clock_ms), uint64_t(k.max_source_bytes)})
            h = h * 1099511628211ull ^ static_cast<size_t>(x);
        return h;
    }
};

/// A compiled program and what it points into: its source (for diagnostics) and the
/// intrinsic entries the compiled code calls. Immutable once built, so ticks of every
/// vigy sharing it may evaluate it concurrently on different threads.
struct shared_program {
    program_key key;
    std::string source;
    std::deque<intrinsic_entry> intrinsics;  // stable addresses: the program points at them
    tatara::program_ptr program;
    size_t footprint = 0;  ///< bytes of the compiled form
};

/// Process-wide cache of compiled programs. Entries are weak: a program dies with the
/// last instance using it (its memory is released then, see release()).
class program_cache {
public:
    static program_cache& instance() {
        static program_cache* cache = new program_cache;  // never destroyed: no exit-order issue
        return *cache;
    }

    /// The live program for key and source, or nullptr.
    std::shared_ptr<const shared_program> find(const program_key& key, std::string_view source) {
        std::lock_guard lk(m_);
        auto it = entries_.find(key);
        if (it == entries_.end()) return nullptr;
        auto live = it->second.lock();
        return live && live->source == source ? live : nullptr;  // a hash collision is a miss
    }

    /// Publishes a freshly compiled program; if another thread published the same program
    /// meanwhile, returns that one instead (and `fresh` dies here).
    std::shared_ptr<const shared_program> publish(std::unique_ptr<shared_program> fresh) {
        std::lock_guard lk(m_);
        auto it = entries_.find(fresh->key);
        if (it != entries_.end())
            if (auto live = it->second.lock(); live && live->source == fresh->source) return live;
        const program_key key = fresh->key;
        std::shared_ptr<const shared_program> sp(fresh.release(), [](const shared_program* p) { release(p); });
        entries_[key] = sp;  // replaces an expired entry or a colliding one
        ++programs_;
        return sp;
    }

    size_t size() {
        std::lock_guard lk(m_);
        return programs_;
    }

private:
    /// Deleter of a shared program: drops its cache entry (unless a newer program took
    /// the key) and frees it. Freeing a large compiled form returns its pages to the
    /// system (malloc_trim), so RSS comes back down after big programs are deleted.
    static void release(const shared_program* p) {
        program_cache& c = instance();
        {
            std::lock_guard lk(c.m_);
            auto it = c.entries_.find(p->key);
            if (it != c.entries_.end() && it->second.expired()) c.entries_.erase(it);
            --c.programs_;
        }
        const size_t footprint = p->footprint;
        delete p;
#if defined(__GLIBC__)
        if (footprint >= kTrimAfterBytes) malloc_trim(0);
#endif
    }

    static constexpr size_t kTrimAfterBytes = size_t(1) << 20;
    std::mutex m_;
    std::unordered_map<program_key, std::weak_ptr<const shared_program>, program_key_hash> entries_;
    size_t programs_ = 0;
};

/// Collects the host's intrinsics through a vigy_registrar.
struct intrinsic_collector {
    std::deque<intrinsic_entry> entries;

    static vigy_status add(void* ctx, const vigy_intrinsic* in, vigy_error* err) {
        return vigy::sdk::fence(err, [&]() -> vigy_status {
            auto* self = static_cast<intrinsic_collector*>(ctx);
            if (!in || !in->name || !in->fn) fail(VIGY_INVALID_ARGUMENT, "intrinsic without a name or function");
            for (const auto& e : self->entries)
                if (e.name == in->name) fail(VIGY_ALREADY_EXISTS, "intrinsic " + e.name + " is registered twice");
            self->entries.push_back(intrinsic_entry{in->name, in->min_arity, in->max_arity, in->fn, in->data});
            return VIGY_OK;
        });
    }

    uint64_t hash() const {
        uint64_t h = 1469598103934665603ull;
        auto mix = [&h](uint64_t x) { h = (h ^ x) * 1099511628211ull; };
        for (const auto& e : entries) {
            mix(std::hash<std::string>{}(e.name));
            mix(static_cast<uint64_t>(e.min_args) << 32 ^ static_cast<uint32_t>(e.max_args));
            mix(reinterpret_cast<uintptr_t>(e.fn));
            mix(reinterpret_cast<uintptr_t>(e.data));
        }
        return h;
    }
};

// ---- the reconciler ---------------------------------------------------------------

/// One vigy: a handle on a shared compiled program plus its own tick limits.
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
        const vigy_lisp_limits lim = effective_limits(limits_cfg, *spec.limits);
        self->limits_ = lim.tick;

        // Intrinsics of every loaded host extension, through the registrar.
        intrinsic_collector found;
        const vigy_host_api* host = vigy::sdk::host_api();
        if (host && host->install_intrinsics) {
            vigy_registrar reg{sizeof(vigy_registrar), 0, &found, &intrinsic_collector::add};
            vigy::sdk::error_buffer eb;
            vigy::sdk::check(host->install_intrinsics(host->host_data, &reg, eb.get()), eb);
        }

        program_key key;
        key.source_name = lossy_utf8(source_name);
        key.source_hash = std::hash<std::string_view>{}(program);
        key.intrinsics_hash = found.hash();
        key.memory_bytes = lim.compile.memory_bytes;
        key.fuel = lim.compile.fuel;
        key.wall_clock_ms = lim.compile.wall_clock_ms;
        key.max_source_bytes = lim.compile.max_source_bytes;
        program_cache& cache = program_cache::instance();
        self->program_ = cache.find(key, program);
        if (!self->program_) self->program_ = cache.publish(compile(std::move(key), program, std::move(found), lim));
        return self;
    }

    void tick(vigy::sdk::tick_ref tick) {
        // One evaluator per thread, reused by every vigy ticking on it: its region
        // is recycled between runs, so memory stays flat.
        thread_local tatara::evaluator evaluator;
        // Whatever the tick allocated beyond a few MiB goes back when it ends (the values
        // are printed by then), so an idle tick thread does not sit on a large region.
        struct release_after {
            tatara::evaluator& ev;
            ~release_after() { ev.release(kKeepEvaluationBytes); }
        } release_guard{evaluator};
        tick_bridge bridge{tick.get()};
        tatara::string_sink out;
        tatara::eval_options opts;
        opts.lim = limits_;
        opts.host_ctx = &bridge;
        opts.out = &out;
        opts.keep_each = each_;
        // The host's preemption point (fair scheduling): about every 1024 steps the
        // evaluator asks the tick whether to stop; the host may park the thread there
        // while other ticks run (docs/operations.md, "Fair scheduling").
        opts.checkpoint = [](void* t) -> int {
            auto* vt = static_cast<vigy_tick*>(t);
            return vt->api->cancelled ? vt->api->cancelled(vt) : 0;
        };
        opts.checkpoint_arg = tick.get();
        tatara::eval_result r = evaluator.run(*program_->program, opts);
        // The output is what the program printed, then the printed value of its last
        // form (of every form with `each`), each value on a line of its own. A failed
        // tick keeps what was printed up to the error, without a value.
        std::string text = out.text();
        if (!r.ok) {
            tick.set_output(text);
            fail(status_for(r.error), format_diagnostic(r.error, program_->source));
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
    static std::unique_ptr<shared_program> compile(program_key key, std::string_view source, intrinsic_collector found,
                                                   const vigy_lisp_limits& lim) {
        auto sp = std::make_unique<shared_program>();
        sp->key = std::move(key);
        sp->intrinsics = std::move(found.entries);
        std::vector<tatara::intrinsic> intrinsics;
        intrinsics.reserve(sp->intrinsics.size());
        for (auto& e : sp->intrinsics)
            intrinsics.push_back(tatara::intrinsic{e.name, e.min_args, e.max_args, &call_intrinsic, &e});
        tatara::compile_result r = tatara::compile(source, sp->key.source_name, intrinsics, lim.compile);
        if (!r.prog) fail(status_for(*r.error), format_diagnostic(*r.error, source));
        sp->source.assign(source);
        sp->footprint = tatara::program_footprint(*r.prog);
        sp->program = std::move(r.prog);
        return sp;
    }

    std::shared_ptr<const shared_program> program_;
    tatara::limits limits_;
    bool each_ = false;
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
