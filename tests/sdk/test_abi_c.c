/* Proves the ABI headers are plain C (C11, -Wpedantic, -Werror) and that the
 * frozen value layout is what C compilers see too. */
#include "vigy/vigy.h"

#include <stddef.h>

_Static_assert(sizeof(vigy_value) == 24, "vigy_value is frozen at 24 bytes");
_Static_assert(offsetof(vigy_value, as) == 8, "vigy_value payload at offset 8");
_Static_assert(sizeof(vigy_map_entry) == 48, "vigy_map_entry is two values");

/* Called from the C++ test to prove the C view of a value matches. */
int vigy_test_c_value_sum(const vigy_value* list) {
    int64_t sum = 0;
    size_t i;
    if (list->type != VIGY_LIST) return -1;
    for (i = 0; i < list->as.list.len; ++i)
        if (list->as.list.items[i].type == VIGY_INT) sum += list->as.list.items[i].as.i;
    return (int)sum;
}
