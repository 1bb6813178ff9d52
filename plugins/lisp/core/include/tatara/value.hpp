// tatara-lisp runtime values: a 16-byte tagged value plus arena-allocated heap objects.
//
// Ownership: every heap object lives in a region (`heap`) that is owned either by one
// evaluation (freed when that evaluation ends) or by a compiled program / the stdlib
// (immutable, shared across threads). Objects are never freed individually and their
// destructors never run, so they must be trivially destructible; use
// `eval_ctx::add_finalizer` for anything that owns outside memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tatara {

/// Kind of a value. The first 15 are visible to programs (see reference §2.1).
enum class type : uint8_t {
    nil,
    boolean,
    integer,
    real,  ///< f64 ("float" in messages)
    string,
    symbol,
    keyword,
    list,
    map,
    closure,
    native,
    promise,
    error,
    sexp,      ///< quoted source form (only from nested quasiquote)
    foreign,   ///< channels, fibers, host objects
    unbound_,  ///< internal: empty global/local slot; never seen by programs
    tail_,     ///< internal: pending tail call marker; never seen by natives
};

struct str_obj;
struct list_obj;
struct map_obj;
struct closure_obj;
struct native_def;
struct promise_obj;
struct error_obj;
struct sexp_obj;
struct foreign_obj;

/// A tatara value: a tag plus an immediate (bool/int/double) or a pointer into a heap.
/// Trivially copyable; copying never allocates. Pointers are valid as long as the heap
/// that owns the object (the evaluation, or the program/stdlib for constants).
struct value {
    type tag = type::nil;
    union payload {
        bool b;
        int64_t i;
        double d;
        const void* p;
    } u{.i = 0};

    static constexpr value nil() { return {}; }
    static constexpr value boolean(bool b) {
        value v;
        v.tag = type::boolean;
        v.u.b = b;
        return v;
    }
    static constexpr value integer(int64_t i) {
        value v;
        v.tag = type::integer;
        v.u.i = i;
        return v;
    }
    static constexpr value real(double d) {
        value v;
        v.tag = type::real;
        v.u.d = d;
        return v;
    }
    static value object(type t, const void* p) {
        value v;
        v.tag = t;
        v.u.p = p;
        return v;
    }

    bool is_nil() const { return tag == type::nil; }
    bool is_int() const { return tag == type::integer; }
    bool is_real() const { return tag == type::real; }
    bool is_number() const { return tag == type::integer || tag == type::real; }
    bool is_string() const { return tag == type::string; }
    bool is_symbol() const { return tag == type::symbol; }
    bool is_keyword() const { return tag == type::keyword; }
    bool is_list() const { return tag == type::list; }
    /// nil or list: what "list" arguments accept.
    bool is_listish() const { return tag == type::list || tag == type::nil; }
    bool is_map() const { return tag == type::map; }
    bool is_procedure() const { return tag == type::closure || tag == type::native; }
    /// Only nil and #f are false.
    bool truthy() const { return !(tag == type::nil || (tag == type::boolean && !u.b)); }

    bool as_bool() const { return u.b; }
    int64_t as_int() const { return u.i; }
    double as_real() const { return u.d; }
    /// int or float as double (caller checked is_number()).
    double to_double() const { return tag == type::integer ? static_cast<double>(u.i) : u.d; }
    const str_obj* as_str() const { return static_cast<const str_obj*>(u.p); }
    const list_obj* as_list() const { return static_cast<const list_obj*>(u.p); }
    const map_obj* as_map() const { return static_cast<const map_obj*>(u.p); }
    const closure_obj* as_closure() const { return static_cast<const closure_obj*>(u.p); }
    const native_def* as_native() const { return static_cast<const native_def*>(u.p); }
    promise_obj* as_promise() const { return static_cast<promise_obj*>(const_cast<void*>(u.p)); }
    const error_obj* as_error() const { return static_cast<const error_obj*>(u.p); }
    const sexp_obj* as_sexp() const { return static_cast<const sexp_obj*>(u.p); }
    foreign_obj* as_foreign() const { return static_cast<foreign_obj*>(const_cast<void*>(u.p)); }

    /// Text of a string, symbol or keyword (keyword without ':'); caller checked the tag.
    std::string_view text() const;
    /// Elements of a list; empty for nil (and for any non-list).
    std::span<const value> items() const;
};
static_assert(sizeof(value) == 16);

/// Immutable UTF-8 text used for strings, symbols and keywords.
struct str_obj {
    const char* data;
    size_t size;
    std::string_view view() const { return {data, size}; }
};

/// Backing store of lists. Elements occupy data[front, cap); `cons` onto a list that
/// starts exactly at `front` claims the slot before it (amortised O(1) cons) unless the
/// store is frozen (constants shared between threads).
struct list_buf {
    value* data;
    uint32_t cap;
    uint32_t front;
    bool frozen;
};

/// An immutable list value: a window onto a list_buf. Identity (eq?) is the list_obj.
struct list_obj {
    const value* items;
    uint32_t size;
    list_buf* buf;  ///< may be null (no cons fast path)
};

/// Insertion-ordered immutable hash map. entries = k0 v0 k1 v1 ...; index is an
/// open-addressing table of (entry number + 1), 0 = empty, present when size > 8.
struct map_obj {
    const value* entries;
    uint32_t size;
    uint32_t index_cap;  ///< power of two, or 0 when there is no index
    const uint32_t* index;
};

/// A compiled lambda instance. `code` and `env` are opaque to natives.
struct closure_obj {
    const struct lambda_code* code;
    struct frame* env;
};

/// Result of `delay`: `thunk` is a 0-argument closure until forced.
struct promise_obj {
    value thunk;
    value result;
    bool forced;
};

/// Structured error object (`error`, `ex-info`, caught runtime errors).
struct error_obj {
    value tag;      ///< keyword
    value message;  ///< string
    value data;     ///< flat plist (list) or nil
};

/// Opaque quoted source form (printed with a leading quote).
struct sexp_obj {
    const struct syntax* form;
};

/// Identifies a kind of foreign object (compare pointers). `name` is for diagnostics.
struct foreign_kind {
    const char* name;
};

/// A foreign object (channel, fiber, host object). Prints as #<foreign>.
struct foreign_obj {
    const foreign_kind* kind;
    void* payload;
};

inline std::string_view value::text() const { return as_str()->view(); }
inline std::span<const value> value::items() const {
    if (tag != type::list) return {};
    auto* l = as_list();
    return {l->items, l->size};
}

/// `type-of` keyword name without ':' ("nil", "bool", "int", "float", "string", "symbol",
/// "keyword", "list", "map", "procedure", "promise", "error", "sexp", "foreign").
std::string_view type_of_name(type t);
/// Internal type name used in error messages ("int", "closure", "native-fn", ...).
std::string_view type_error_name(type t);

/// `eq?` semantics (reference §2.5).
bool eq(value a, value b);
/// `equal?` semantics: lists element-wise, otherwise eq.
bool equal(value a, value b);

/// True when v can be a hash-map key (nil, bool, int, float, string, symbol, keyword).
bool is_hashable(value v);
/// Hash of a hashable key (floats by bit pattern).
uint64_t hash_key(value v);
/// Key equality used by maps (floats by bit pattern; 1 and 1.0 differ).
bool key_equal(value a, value b);
/// Pointer to the value stored under key, or nullptr. m must be a map, key hashable.
const value* map_find(const map_obj* m, value key);

}  // namespace tatara
