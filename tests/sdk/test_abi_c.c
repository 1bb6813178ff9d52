/* Proves the ABI headers are plain C (C11, -Wpedantic, -Werror), that the
 * frozen value layout, the ABI 1.1 tick info and the published ABI 1.0 sizes
 * are what C compilers see too, and that the inline helpers work from C. */
#include "vigy/vigy.h"

#include <stddef.h>

/* The layout is asserted against the SDK's own size macros, which measure pointer fields
   and expand to what they are compared with: both are meant. */
/* NOLINTBEGIN(bugprone-sizeof-expression, misc-redundant-expression) */
_Static_assert(sizeof(vigy_value) == 24, "vigy_value is frozen at 24 bytes");
_Static_assert(offsetof(vigy_value, as) == 8, "vigy_value payload at offset 8");
_Static_assert(sizeof(vigy_map_entry) == 48, "vigy_map_entry is two values");
_Static_assert(VIGY_TICK_INFO_SIZE_1_0 == 64, "vigy_tick_info ended at vigy_id in abi 1.0");
_Static_assert(offsetof(vigy_tick_info, trigger) == VIGY_TICK_INFO_SIZE_1_0, "abi 1.1 appended trigger");
_Static_assert(sizeof(vigy_tick_info) == VIGY_TICK_INFO_SIZE_1_1, "trigger is the last field");
_Static_assert(VIGY_PLUGIN_DESCRIPTOR_SIZE_1_0 == sizeof(vigy_plugin_descriptor), "descriptor unchanged in 1.1");
_Static_assert(VIGY_HOST_API_SIZE_1_0 == sizeof(vigy_host_api), "host api unchanged in 1.1");
_Static_assert(VIGY_TICK_API_SIZE_1_0 == sizeof(vigy_tick_api), "tick api unchanged in 1.1");
_Static_assert(VIGY_ABI_VERSION == ((1u << 16) | 1u), "abi 1.1");
/* NOLINTEND(bugprone-sizeof-expression, misc-redundant-expression) */

static char c_buffer[64];
static void* c_alloc(void* ctx, size_t bytes) {
    size_t* used = (size_t*)ctx;
    void* p;
    if (*used + bytes > sizeof c_buffer) return NULL;
    p = c_buffer + *used;
    *used += bytes;
    return p;
}

/* Called from the C++ test: copies `text` into a 64-byte C arena with
 * vigy_str_copy and returns its status; *len gets the copied length. */
vigy_status vigy_test_c_str_copy(const char* text, size_t n, size_t* len) {
    size_t used = 0;
    vigy_arena arena;
    vigy_value v;
    vigy_status s;
    arena.struct_size = (uint32_t)sizeof arena;
    arena.reserved = 0;
    arena.ctx = &used;
    arena.alloc = &c_alloc;
    s = vigy_str_copy(&arena, VIGY_STRING, text, n, &v);
    *len = s == VIGY_OK ? v.as.str.len : 0;
    return s;
}

/* Called from the C++ test to prove the C view of a value matches. */
int vigy_test_c_value_sum(const vigy_value* list) {
    int64_t sum = 0;
    size_t i;
    if (list->type != VIGY_LIST) return -1;
    for (i = 0; i < list->as.list.len; ++i)
        if (list->as.list.items[i].type == VIGY_INT) sum += list->as.list.items[i].as.i;
    return (int)sum;
}
