/* vigy/value.h — the data model that crosses the vigy C ABI.
 *
 * One tagged C value, vigy_value: nil, bool, int64, double, string, symbol,
 * keyword, list, map. Intrinsic arguments and results, action payloads,
 * desired/observed values, traces, kv values and parsed reconciler configs are
 * all vigy_values. The host persists them as JSON (see "JSON mapping" below).
 *
 * Layout: vigy_value and vigy_map_entry are FROZEN — they are the one exception
 * to the "struct_size first" rule, because lists and maps are contiguous arrays
 * of them and need a fixed stride. New types may only be added as new `type`
 * tags (readers must treat an unknown tag like nil); the payload union never
 * grows. The sizes and offsets are asserted by the sdk's tests.
 *
 * Ownership: a vigy_value never owns memory. Values passed INTO a function are
 * borrowed for the duration of that call. Values a callee produces (intrinsic
 * results, kv reads) are built inside a vigy_arena handed to it by the caller:
 * the caller owns the arena and frees everything in it at once, so no value is
 * ever freed piecewise across the boundary.
 *
 * Strings are UTF-8 (pointer, byte length), not necessarily NUL-terminated.
 * A keyword's string is its name WITHOUT the leading colon (":ready" -> "ready").
 *
 * JSON mapping (the same as the original Rust vigy's, so stored values read
 * the same in both):
 *   nil->null, bool->true/false, int->integer, double->number (NaN and
 *   infinities -> null), string->string, symbol->its name as a string,
 *   keyword->":name" (a string with the colon), list->array, map->object whose
 *   keys are stringified (a symbol key is its name, a keyword key keeps its
 *   ':', any other key becomes its JSON text: 1 -> "1", nil -> "null").
 *   Back: null->nil, true/false->bool, integer->int (if it fits int64, else
 *   double), other numbers->double, string->string, array->list,
 *   object->map with STRING keys (so a keyword or symbol does not round-trip:
 *   it comes back as a string).
 */
#ifndef VIGY_VALUE_H
#define VIGY_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigy/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Value tags (vigy_value.type). */
#define VIGY_NIL 0u
#define VIGY_BOOL 1u
#define VIGY_INT 2u
#define VIGY_DOUBLE 3u
#define VIGY_STRING 4u
#define VIGY_SYMBOL 5u
#define VIGY_KEYWORD 6u
#define VIGY_LIST 7u
#define VIGY_MAP 8u

/* A borrowed UTF-8 byte range. `ptr` may be NULL only when `len` is 0. */
typedef struct vigy_str {
    const char* ptr;
    size_t len;
} vigy_str;

typedef struct vigy_value vigy_value;
typedef struct vigy_map_entry vigy_map_entry;

/* 24 bytes on LP64. For VIGY_STRING/SYMBOL/KEYWORD use `as.str`; for
 * VIGY_LIST `as.list` (items[0..len)); for VIGY_MAP `as.map` (entries in
 * insertion order; keys are usually strings or keywords, any type is legal). */
struct vigy_value {
    /* ---- ABI 1.0 (frozen: this struct never grows) ---- */
    uint32_t type;  /* VIGY_NIL ... VIGY_MAP */
    uint32_t flags; /* reserved: writers set 0, readers ignore it */
    union {
        int64_t i; /* VIGY_INT */
        double d;  /* VIGY_DOUBLE */
        int32_t b; /* VIGY_BOOL: 0 or 1 */
        vigy_str str;
        struct {
            const vigy_value* items;
            size_t len;
        } list;
        struct {
            const vigy_map_entry* entries;
            size_t len;
        } map;
    } as;
};

struct vigy_map_entry {
    /* ---- ABI 1.0 (frozen) ---- */
    vigy_value key;
    vigy_value value;
};

/* A bump allocator owned by whoever calls into a function that must produce
 * values. `alloc` returns `bytes` of memory aligned to 16, owned by the arena
 * and released when the owner resets or destroys it; it returns NULL when the
 * arena refuses (memory limit) — the callee then returns VIGY_RESOURCE_EXHAUSTED.
 * Only the thread that received the arena may call it, only during that call. */
typedef struct vigy_arena {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size; /* sizeof(vigy_arena) as built by the owner */
    uint32_t reserved;
    void* ctx;
    void* (*alloc)(void* ctx, size_t bytes);
} vigy_arena;

#define VIGY_ARENA_SIZE_1_0 VIGY_FIELD_END(vigy_arena, alloc)

/* ---- inline constructors (no allocation unless an arena is passed) ---- */

static inline vigy_value vigy_nil(void) {
    vigy_value v;
    memset(&v, 0, sizeof v);
    return v;
}
static inline vigy_value vigy_bool(int b) {
    vigy_value v = vigy_nil();
    v.type = VIGY_BOOL;
    v.as.b = b ? 1 : 0;
    return v;
}
static inline vigy_value vigy_int(int64_t i) {
    vigy_value v = vigy_nil();
    v.type = VIGY_INT;
    v.as.i = i;
    return v;
}
static inline vigy_value vigy_double(double d) {
    vigy_value v = vigy_nil();
    v.type = VIGY_DOUBLE;
    v.as.d = d;
    return v;
}
/* A string-like value (type VIGY_STRING, VIGY_SYMBOL or VIGY_KEYWORD) that
 * BORROWS `ptr` — valid only while `ptr` is. */
static inline vigy_value vigy_str_value(uint32_t type, const char* ptr, size_t len) {
    vigy_value v = vigy_nil();
    v.type = type;
    v.as.str.ptr = ptr;
    v.as.str.len = len;
    return v;
}
/* Copies `len` bytes at `ptr` into `arena` (plus a NUL terminator) and sets
 * *out to a string-like value (type VIGY_STRING, VIGY_SYMBOL or VIGY_KEYWORD)
 * over the copy. Returns VIGY_OK, or VIGY_RESOURCE_EXHAUSTED when the arena
 * refuses (its memory limit), leaving *out nil. */
static inline vigy_status vigy_str_copy(const vigy_arena* arena, uint32_t type, const char* ptr, size_t len,
                                        vigy_value* out) {
    char* p = (char*)arena->alloc(arena->ctx, len + 1);
    if (!p) {
        *out = vigy_nil();
        return VIGY_RESOURCE_EXHAUSTED;
    }
    if (len) memcpy(p, ptr, len);
    p[len] = '\0';
    *out = vigy_str_value(type, p, len);
    return VIGY_OK;
}

/* Lowercase name of a tag ("nil", "bool", "int", "double", "string", "symbol",
 * "keyword", "list", "map", or "unknown"), for error messages. */
static inline const char* vigy_type_name(uint32_t type) {
    static const char* const names[] = {"nil", "bool", "int", "double", "string", "symbol", "keyword", "list", "map"};
    return type <= VIGY_MAP ? names[type] : "unknown";
}

#ifdef __cplusplus
}
#endif

#endif /* VIGY_VALUE_H */
