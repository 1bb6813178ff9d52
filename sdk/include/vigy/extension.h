/* vigy/extension.h — host extensions: language-neutral packs of intrinsics.
 *
 * Capability id: VIGY_HOST_EXTENSION_ID ("vigy.host-extension/1"). A plugin
 * that provides intrinsics returns a `const vigy_host_extension_list*` from
 * its descriptor's get_extension(VIGY_HOST_EXTENSION_ID).
 *
 * An intrinsic is a named C function with an arity. The host hands every
 * loaded extension's intrinsics to a language runtime (the lisp reconciler,
 * later Wasm or Lua) through a vigy_registrar the RUNTIME implements; the
 * runtime then exposes them as ordinary functions of its language. This is how
 * the six standard packs (actions, state, kv, convergence, scheduling,
 * diagnostics) and an application's own intrinsics (e.g. ext-mado's tmux
 * sessions) reach programs.
 *
 * Capabilities: the capability an intrinsic belongs to is the id of the plugin
 * providing it (vigy_plugin_descriptor.id). Every vigy is granted the six
 * standard extension plugins (vigy.actions, vigy.state, vigy.kv,
 * vigy.convergence, vigy.scheduling, vigy.diagnostics); any other plugin's
 * intrinsics only to the vigies it is explicitly granted to. The host enforces
 * this at each call: for a capability outside the standard six, the registrar
 * receives a vigy_intrinsic whose fn/data are the HOST's (a check of the
 * calling tick's grants in front of the plugin's own function), and a call
 * from a vigy without the grant fails with VIGY_PERMISSION_DENIED and a
 * message naming the intrinsic and the capability to grant. The plugin's
 * function then never runs; it sees its own `data` in vigy_call.data either
 * way.
 *
 * Arrays of versioned structs (intrinsics, extensions) are walked with a stride
 * of their first element's struct_size: all elements of one array share it.
 */
#ifndef VIGY_EXTENSION_H
#define VIGY_EXTENSION_H

#include "vigy/status.h"
#include "vigy/tick.h"
#include "vigy/value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIGY_HOST_EXTENSION_ID "vigy.host-extension/1"

/* Everything an intrinsic call gets. Valid only during the call, on the
 * calling thread (the thread running the tick). */
typedef struct vigy_call {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t argc;           /* number of arguments, already checked against the arity */
    const vigy_value* args;  /* argc borrowed values */
    vigy_tick* tick;         /* the tick being evaluated; never NULL */
    const vigy_arena* arena; /* build the result's strings/lists/maps here */
    vigy_error* error;       /* describe a failure here; never NULL */
    void* data;              /* the `data` pointer of the vigy_intrinsic being called */
} vigy_call;

#define VIGY_CALL_SIZE_1_0 VIGY_FIELD_END(vigy_call, data)

/* An intrinsic. On success write the result into *result (nil by default) and
 * return VIGY_OK. On failure return a status (INVALID_ARGUMENT for a bad
 * argument, FAILED_PRECONDITION, UNAVAILABLE for an external service, ...) and
 * set a message naming the intrinsic and the offending argument, e.g.
 * "vigy-incr: delta must be an int, got string". The language runtime turns it
 * into one of its own errors (lisp: a catchable native error). Must not throw. */
typedef vigy_status (*vigy_intrinsic_fn)(const vigy_call* call, vigy_value* result);

#define VIGY_ARITY_VARIADIC (-1)

typedef struct vigy_intrinsic {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    int32_t min_arity; /* >= 0 */
    int32_t max_arity; /* >= min_arity, or VIGY_ARITY_VARIADIC */
    uint32_t reserved;
    const char* name; /* e.g. "vigy-incr"; NUL-terminated UTF-8 */
    const char* doc;  /* one line, e.g. "(vigy-incr key [delta]) -> new int value" */
    vigy_intrinsic_fn fn;
    void* data; /* passed back as vigy_call.data */
} vigy_intrinsic;

#define VIGY_INTRINSIC_SIZE_1_0 VIGY_FIELD_END(vigy_intrinsic, data)

/* Implemented by a language runtime. `add_intrinsic` copies name/doc and keeps
 * `fn`/`data`, which live as long as the host that installed them (the
 * plugin's, or the host's grant check in front of it: see "Capabilities"
 * above); the runtime calls `fn(call, result)` with vigy_call.data = `data`.
 * Returns ALREADY_EXISTS if the runtime refuses a duplicate name (later
 * extensions never silently replace earlier ones). Called on the thread that
 * asked the host to install intrinsics. */
typedef struct vigy_registrar {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t reserved;
    void* ctx;
    vigy_status (*add_intrinsic)(void* ctx, const vigy_intrinsic* intrinsic, vigy_error* err);
} vigy_registrar;

#define VIGY_REGISTRAR_SIZE_1_0 VIGY_FIELD_END(vigy_registrar, add_intrinsic)

/* One pack of intrinsics, e.g. "actions", "kv", "mado". */
typedef struct vigy_host_extension {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t reserved;
    const char* name; /* unique pack name */
    const char* doc;  /* one line */
    size_t intrinsic_count;
    const vigy_intrinsic* intrinsics; /* lives until plugin shutdown */
} vigy_host_extension;

#define VIGY_HOST_EXTENSION_SIZE_1_0 VIGY_FIELD_END(vigy_host_extension, intrinsics)

/* What get_extension(VIGY_HOST_EXTENSION_ID) returns. */
typedef struct vigy_host_extension_list {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t reserved;
    size_t count;
    const vigy_host_extension* extensions;
} vigy_host_extension_list;

#define VIGY_HOST_EXTENSION_LIST_SIZE_1_0 VIGY_FIELD_END(vigy_host_extension_list, extensions)

#ifdef __cplusplus
}
#endif

#endif /* VIGY_EXTENSION_H */
