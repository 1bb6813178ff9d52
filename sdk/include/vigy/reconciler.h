/* vigy/reconciler.h — reconciler factories: kinds such as lisp, chain, noop.
 *
 * Capability id: VIGY_RECONCILER_FACTORY_ID ("vigy.reconciler-factory/1"). A
 * plugin providing reconcilers returns a `const vigy_reconciler_factory*` from
 * its descriptor's get_extension(VIGY_RECONCILER_FACTORY_ID).
 *
 * A reconciler is created once per revision of a vigy's spec (kind + JSON
 * config) and ticked many times: compile once, tick many. Expensive work
 * (parsing, compiling a program) belongs in create(); a tick should only run.
 *
 * Threading: `create` and `destroy` may be called from any host thread, for
 * different instances concurrently. One instance is NEVER ticked concurrently
 * with itself (the host serialises ticks of a vigy on its strand); different
 * instances may tick at the same time on different threads.
 */
#ifndef VIGY_RECONCILER_H
#define VIGY_RECONCILER_H

#include "vigy/status.h"
#include "vigy/tick.h"
#include "vigy/value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIGY_RECONCILER_FACTORY_ID "vigy.reconciler-factory/1"

/* Per-tick limits. 0 means "the reconciler's default". Exceeding one fails
 * that tick (RESOURCE_EXHAUSTED for fuel and memory, DEADLINE_EXCEEDED for the
 * wall clock) with a message naming the limit and its value; the vigy's kv
 * changes of that tick are dropped, and nothing else is affected. */
typedef struct vigy_limits {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t reserved;
    uint64_t fuel;         /* evaluation steps per tick */
    uint64_t wall_ms;      /* wall-clock ms per tick */
    uint64_t memory_bytes; /* bytes allocated during one tick */
    uint64_t max_depth;    /* non-tail recursion depth */
} vigy_limits;

#define VIGY_LIMITS_SIZE_1_0 VIGY_FIELD_END(vigy_limits, max_depth)

/* What to build. Everything is borrowed for the duration of `create`. */
typedef struct vigy_reconciler_spec {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t reserved;
    vigy_str kind;             /* e.g. "lisp" */
    vigy_str config_json;      /* the config as JSON text (may be empty) */
    const vigy_value* config;  /* the same config, parsed by the host; never NULL (nil when empty) */
    const vigy_limits* limits; /* never NULL */
    vigy_str name;             /* the vigy's name, or a file name, for messages ("" if none) */
} vigy_reconciler_spec;

#define VIGY_RECONCILER_SPEC_SIZE_1_0 VIGY_FIELD_END(vigy_reconciler_spec, name)

/* Opaque, plugin-owned instance. */
typedef struct vigy_reconciler vigy_reconciler;

typedef struct vigy_reconciler_kind {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t reserved;
    const char* kind; /* e.g. "lisp" */
    const char* doc;  /* one line, including the config shape */
} vigy_reconciler_kind;

#define VIGY_RECONCILER_KIND_SIZE_1_0 VIGY_FIELD_END(vigy_reconciler_kind, doc)

typedef struct vigy_reconciler_factory {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t kind_count;
    const vigy_reconciler_kind* kinds; /* lives until plugin shutdown */

    /* Build an instance of spec->kind from its config. On success *out is a new
     * instance, owned by the caller until it passes it to destroy(). A bad
     * config is INVALID_ARGUMENT with a message saying what and where (lisp: a
     * parse error with line:column). */
    vigy_status (*create)(const vigy_reconciler_spec* spec, vigy_reconciler** out, vigy_error* err);

    /* Run one tick against `tick`. Returns OK, or a status with a message:
     * the tick fails, its kv changes are dropped, the host backs off. Limits
     * exceeded: RESOURCE_EXHAUSTED (fuel, memory) or DEADLINE_EXCEEDED (wall). */
    vigy_status (*tick)(vigy_reconciler* instance, vigy_tick* tick, vigy_error* err);

    /* Free an instance. Never fails. Not called concurrently with its tick. */
    void (*destroy)(vigy_reconciler* instance);
} vigy_reconciler_factory;

#define VIGY_RECONCILER_FACTORY_SIZE_1_0 VIGY_FIELD_END(vigy_reconciler_factory, destroy)

#ifdef __cplusplus
}
#endif

#endif /* VIGY_RECONCILER_H */
