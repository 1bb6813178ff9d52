/// vigy/sdk.hpp — C++17 helpers for plugin authors on top of the vigy C ABI.
///
/// Header-only; nothing here crosses the ABI. It gives:
///   - `fence()`: the exception fence every exported function body needs
///     (a throw becomes a status code + message, never an unwinding across C);
///   - `status_error` / `fail()`: throw a canonical status with a message;
///   - `builder`: make vigy_values inside a caller's arena;
///   - `call_args`: typed, checked access to intrinsic arguments;
///   - `tick_ref`: the tick vtable as methods that throw on failure;
///   - `intrinsic<Fn>()` / `reconciler_factory<T>`: registration helpers;
///   - `VIGY_DEFINE_PLUGIN(desc)`: the one exported entry point.
/// A useful plugin is then a few dozen lines (the standard extensions are each
/// a table of intrinsics written this way).
#ifndef VIGY_SDK_HPP
#define VIGY_SDK_HPP

#include "vigy/plugin.h"

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace vigy::sdk {

// ---- strings -----------------------------------------------------------------

/// A borrowed view of a vigy_str (no copy).
inline std::string_view view(vigy_str s) noexcept {
    return s.len ? std::string_view(s.ptr, s.len) : std::string_view();
}
/// A vigy_str borrowing `s` (valid while `s` is).
inline vigy_str str(std::string_view s) noexcept { return vigy_str{s.data(), s.size()}; }
/// An absent optional string (ptr NULL).
inline vigy_str absent() noexcept { return vigy_str{nullptr, 0}; }
inline bool is_absent(vigy_str s) noexcept { return s.ptr == nullptr; }

// ---- errors ------------------------------------------------------------------

/// An error carrying a canonical status; what() is the message users read.
class status_error : public std::runtime_error {
public:
    status_error(vigy_status code, const std::string& message) : std::runtime_error(message), code_(code) {}
    vigy_status code() const noexcept { return code_; }

private:
    vigy_status code_;
};

[[noreturn]] inline void fail(vigy_status code, const std::string& message) { throw status_error(code, message); }

/// Write a message into an error sink (no-op when `err` is NULL).
inline void set_error(vigy_error* err, std::string_view msg) noexcept {
    if (err && err->set) err->set(err->ctx, msg.data(), msg.size());
}

/// The exception fence: runs `f` (returning void or vigy_status) and turns any
/// exception into a status + message in `err`. Use it around every body of a
/// function the host calls.
template <class F>
vigy_status fence(vigy_error* err, F&& f) noexcept {
    try {
        if constexpr (std::is_same_v<decltype(f()), void>) {
            f();
            return VIGY_OK;
        } else {
            return f();
        }
    } catch (const status_error& e) {
        set_error(err, e.what());
        return e.code();
    } catch (const std::bad_alloc&) {
        set_error(err, "out of memory");
        return VIGY_RESOURCE_EXHAUSTED;
    } catch (const std::exception& e) {
        set_error(err, e.what());
        return VIGY_INTERNAL;
    } catch (...) {
        set_error(err, "unknown exception");
        return VIGY_INTERNAL;
    }
}

/// A vigy_error that captures the message into a std::string (for plugins
/// calling host slots and wanting the message back).
class error_buffer {
public:
    error_buffer() noexcept {
        err_.struct_size = sizeof(vigy_error);
        err_.reserved = 0;
        err_.ctx = this;
        err_.set = [](void* ctx, const char* m, size_t n) {
            try {
                static_cast<error_buffer*>(ctx)->message_.assign(m, n);
            } catch (...) {
            }
        };
    }
    error_buffer(const error_buffer&) = delete;
    error_buffer& operator=(const error_buffer&) = delete;
    vigy_error* get() noexcept { return &err_; }
    const std::string& message() const noexcept { return message_; }

private:
    vigy_error err_;
    std::string message_;
};

/// Throws status_error(code, message) when code != OK.
inline void check(vigy_status code, const error_buffer& eb) {
    if (code != VIGY_OK) fail(code, eb.message().empty() ? vigy_status_name(code) : eb.message());
}

// ---- values ------------------------------------------------------------------

/// Builds values inside an arena owned by the caller. Throws status_error
/// RESOURCE_EXHAUSTED when the arena refuses.
class builder {
public:
    explicit builder(const vigy_arena* arena) noexcept : arena_(arena) {}

    void* alloc(size_t bytes) const {
        void* p = arena_->alloc(arena_->ctx, bytes ? bytes : 1);
        if (!p) fail(VIGY_RESOURCE_EXHAUSTED, "memory limit reached while building a value");
        return p;
    }
    vigy_value string(std::string_view s, uint32_t type = VIGY_STRING) const {
        char* p = static_cast<char*>(alloc(s.size() + 1));
        if (!s.empty()) std::memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
        return vigy_str_value(type, p, s.size());
    }
    vigy_value keyword(std::string_view name) const { return string(name, VIGY_KEYWORD); }
    vigy_value symbol(std::string_view name) const { return string(name, VIGY_SYMBOL); }
    /// A list of `n` nil items; fill them through the returned pointer.
    vigy_value list(size_t n, vigy_value** items) const {
        auto* p = static_cast<vigy_value*>(alloc(sizeof(vigy_value) * n));
        for (size_t i = 0; i < n; ++i) p[i] = vigy_nil();
        vigy_value v = vigy_nil();
        v.type = VIGY_LIST;
        v.as.list.items = p;
        v.as.list.len = n;
        *items = p;
        return v;
    }
    /// A map of `n` nil entries; fill them through the returned pointer.
    vigy_value map(size_t n, vigy_map_entry** entries) const {
        auto* p = static_cast<vigy_map_entry*>(alloc(sizeof(vigy_map_entry) * n));
        for (size_t i = 0; i < n; ++i) p[i] = vigy_map_entry{vigy_nil(), vigy_nil()};
        vigy_value v = vigy_nil();
        v.type = VIGY_MAP;
        v.as.map.entries = p;
        v.as.map.len = n;
        *entries = p;
        return v;
    }
    /// Deep-copies `v` into the arena.
    vigy_value copy(const vigy_value& v) const {
        switch (v.type) {
        case VIGY_STRING:
        case VIGY_SYMBOL:
        case VIGY_KEYWORD: return string(view(v.as.str), v.type);
        case VIGY_LIST: {
            vigy_value* items;
            vigy_value out = list(v.as.list.len, &items);
            for (size_t i = 0; i < v.as.list.len; ++i) items[i] = copy(v.as.list.items[i]);
            return out;
        }
        case VIGY_MAP: {
            vigy_map_entry* es;
            vigy_value out = map(v.as.map.len, &es);
            for (size_t i = 0; i < v.as.map.len; ++i) {
                es[i].key = copy(v.as.map.entries[i].key);
                es[i].value = copy(v.as.map.entries[i].value);
            }
            return out;
        }
        default: return v;
        }
    }
    const vigy_arena* arena() const noexcept { return arena_; }

private:
    const vigy_arena* arena_;
};

inline bool is_stringish(const vigy_value& v) noexcept {
    return v.type == VIGY_STRING || v.type == VIGY_SYMBOL || v.type == VIGY_KEYWORD;
}
/// Lisp truthiness: only nil and false are false.
inline bool truthy(const vigy_value& v) noexcept { return !(v.type == VIGY_NIL || (v.type == VIGY_BOOL && !v.as.b)); }

/// Looks a key up in a map value by string/keyword name; NULL when absent or
/// when `m` is not a map.
inline const vigy_value* map_get(const vigy_value& m, std::string_view key) noexcept {
    if (m.type != VIGY_MAP) return nullptr;
    for (size_t i = 0; i < m.as.map.len; ++i) {
        const vigy_value& k = m.as.map.entries[i].key;
        if (is_stringish(k) && view(k.as.str) == key) return &m.as.map.entries[i].value;
    }
    return nullptr;
}

// ---- intrinsic calls -------------------------------------------------------

/// Checked access to an intrinsic's arguments. Errors name the intrinsic and
/// the argument position (1-based), e.g. "vigy-incr: argument 2 (delta) must be
/// an int, got string". String parameters accept string, symbol or keyword
/// (a keyword as its name without the colon, so `:ready` reads as "ready"),
/// as the original Rust vigy's intrinsics do.
class call_args {
public:
    call_args(const vigy_call* call, const char* name) noexcept : call_(call), name_(name) {}

    size_t size() const noexcept { return call_->argc; }
    bool has(size_t i) const noexcept { return i < call_->argc; }
    const vigy_value& operator[](size_t i) const noexcept { return call_->args[i]; }
    const char* name() const noexcept { return name_; }
    const vigy_call* call() const noexcept { return call_; }
    builder make() const noexcept { return builder(call_->arena); }

    [[noreturn]] void type_error(size_t i, const char* what, const char* expected) const {
        fail(VIGY_INVALID_ARGUMENT, std::string(name_) + ": argument " + std::to_string(i + 1) + " (" + what +
                                        ") must be " + expected + ", got " + vigy_type_name(call_->args[i].type));
    }
    std::string_view string(size_t i, const char* what) const {
        const vigy_value& v = call_->args[i];
        if (!is_stringish(v)) type_error(i, what, "a string");
        return view(v.as.str);
    }
    /// An optional string: absent when the argument is missing or nil.
    vigy_str optional_string(size_t i, const char* what) const {
        if (!has(i) || call_->args[i].type == VIGY_NIL) return absent();
        return str(string(i, what));
    }
    int64_t integer(size_t i, const char* what) const {
        const vigy_value& v = call_->args[i];
        if (v.type != VIGY_INT) type_error(i, what, "an int");
        return v.as.i;
    }
    double number(size_t i, const char* what) const {
        const vigy_value& v = call_->args[i];
        if (v.type == VIGY_INT) return static_cast<double>(v.as.i);
        if (v.type != VIGY_DOUBLE) type_error(i, what, "a number");
        return v.as.d;
    }

private:
    const vigy_call* call_;
    const char* name_;
};

// ---- the tick --------------------------------------------------------------

/// The tick vtable as methods; each throws status_error on a non-OK status.
class tick_ref {
public:
    explicit tick_ref(vigy_tick* t) noexcept : t_(t) {}
    vigy_tick* get() const noexcept { return t_; }

    /// The tick metadata. Fields the host does not fill (an older host minor)
    /// stay zero/NULL; previous_tick_ms stays -1.
    vigy_tick_info info() const {
        vigy_tick_info i{};
        i.struct_size = sizeof i;
        i.previous_tick_ms = -1;
        t_->api->info(t_, &i);
        return i;
    }
    void emit_action(std::string_view kind, const vigy_value* payload = nullptr, vigy_str result = absent(),
                     vigy_str message = absent()) const {
        vigy_action a{};
        a.struct_size = sizeof a;
        a.kind = str(kind);
        a.payload = payload;
        a.result = result;
        a.message = message;
        error_buffer eb;
        check(t_->api->emit_action(t_, &a, eb.get()), eb);
    }
    void set_desired(std::string_view key, const vigy_value& v) const {
        error_buffer eb;
        check(t_->api->set_desired(t_, str(key), &v, eb.get()), eb);
    }
    void set_observed(std::string_view key, const vigy_value& v) const {
        error_buffer eb;
        check(t_->api->set_observed(t_, str(key), &v, eb.get()), eb);
    }
    void set_condition(std::string_view type, int32_t status, vigy_str reason = absent(),
                       vigy_str message = absent()) const {
        error_buffer eb;
        check(t_->api->set_condition(t_, str(type), status, reason, message, eb.get()), eb);
    }
    void log(int32_t level, std::string_view msg) const {
        error_buffer eb;
        check(t_->api->log(t_, level, str(msg), eb.get()), eb);
    }
    void trace(std::string_view key, const vigy_value& v) const {
        error_buffer eb;
        check(t_->api->trace(t_, str(key), &v, eb.get()), eb);
    }
    void metric(std::string_view name, double v) const {
        error_buffer eb;
        check(t_->api->metric(t_, str(name), v, eb.get()), eb);
    }
    void event(int32_t type, std::string_view reason, std::string_view message) const {
        error_buffer eb;
        check(t_->api->event(t_, type, str(reason), str(message), eb.get()), eb);
    }
    /// True and *out set when the key exists (value built in `arena`).
    bool kv_get(std::string_view key, const vigy_arena* arena, vigy_value* out) const {
        error_buffer eb;
        vigy_status s = t_->api->kv_get(t_, str(key), arena, out, eb.get());
        if (s == VIGY_NOT_FOUND) return false;
        check(s, eb);
        return true;
    }
    void kv_set(std::string_view key, const vigy_value& v) const {
        error_buffer eb;
        check(t_->api->kv_set(t_, str(key), &v, eb.get()), eb);
    }
    bool kv_has(std::string_view key) const { return t_->api->kv_has(t_, str(key)) != 0; }
    void kv_del(std::string_view key) const {
        error_buffer eb;
        check(t_->api->kv_del(t_, str(key), eb.get()), eb);
    }
    void set_output(std::string_view text) const { t_->api->set_output(t_, str(text)); }
    bool cancelled() const { return t_->api->cancelled && t_->api->cancelled(t_) != 0; }

private:
    vigy_tick* t_;
};

// ---- registration helpers ----------------------------------------------------

/// The C trampoline for an intrinsic written as
///     vigy_value impl(const call_args& args, tick_ref tick);
/// which may throw. Name is used in argument error messages.
template <vigy_value (*Impl)(const call_args&, tick_ref)>
vigy_status intrinsic_trampoline(const vigy_call* call, vigy_value* result) noexcept {
    const char* name = call->data ? static_cast<const char*>(call->data) : "intrinsic";
    return fence(call->error, [&] {
        call_args args(call, name);
        *result = Impl(args, tick_ref(call->tick));
    });
}

/// A vigy_intrinsic entry for a static table; the intrinsic's `data` holds its
/// name so argument errors can name it (so an intrinsic built with this helper
/// has no `data` of its own: keep plugin state in the plugin, or fill a
/// vigy_intrinsic by hand with a trampoline of your own).
template <vigy_value (*Impl)(const call_args&, tick_ref)>
constexpr vigy_intrinsic intrinsic(const char* name, int32_t min_arity, int32_t max_arity, const char* doc) {
    return vigy_intrinsic{sizeof(vigy_intrinsic), min_arity, max_arity, 0, name, doc, &intrinsic_trampoline<Impl>,
                          const_cast<char*>(name)};
}

/// The host API the plugin got in init(); set by `remember_host`.
inline const vigy_host_api*& host_api() noexcept {
    static const vigy_host_api* host = nullptr;
    return host;
}
inline vigy_status remember_host(const vigy_host_api* host, vigy_error*) noexcept {
    host_api() = host;
    return VIGY_OK;
}
/// Log through the host (no-op before init).
inline void host_log(int32_t level, std::string_view msg) noexcept {
    if (const vigy_host_api* h = host_api()) h->log(h->host_data, level, str(msg));
}

/// Adapts a C++ reconciler class to the factory vtable. T must provide
///     static std::unique_ptr<T> create(const vigy_reconciler_spec& spec);  // may throw status_error
///     void tick(tick_ref tick);                                            // may throw status_error
template <class T>
struct reconciler_adapter {
    static vigy_status create(const vigy_reconciler_spec* spec, vigy_reconciler** out, vigy_error* err) noexcept {
        return fence(err, [&] {
            std::unique_ptr<T> inst = T::create(*spec);
            *out = reinterpret_cast<vigy_reconciler*>(inst.release());
        });
    }
    static vigy_status tick(vigy_reconciler* r, vigy_tick* t, vigy_error* err) noexcept {
        return fence(err, [&] { reinterpret_cast<T*>(r)->tick(tick_ref(t)); });
    }
    static void destroy(vigy_reconciler* r) noexcept { delete reinterpret_cast<T*>(r); }
};

/// True when a host of `host_abi_version` can use a plugin built with this sdk.
constexpr bool abi_compatible(uint32_t host_abi_version) noexcept {
    return VIGY_ABI_VERSION_MAJOR(host_abi_version) == VIGY_ABI_MAJOR;
}

}  // namespace vigy::sdk

/// Defines the plugin's one exported symbol returning `desc` (a static
/// vigy_plugin_descriptor) to hosts with the same ABI major, NULL otherwise.
#define VIGY_DEFINE_PLUGIN(desc)                                                                       \
    extern "C" VIGY_PLUGIN_EXPORT const vigy_plugin_descriptor* vigy_plugin_entry(uint32_t host_abi) { \
        return ::vigy::sdk::abi_compatible(host_abi) ? &(desc) : nullptr;                              \
    }

#endif  // VIGY_SDK_HPP
