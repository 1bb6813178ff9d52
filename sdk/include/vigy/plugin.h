/* vigy/plugin.h — the plugin entry point, its descriptor, and the host API.
 *
 * A vigy plugin is a shared object exporting exactly ONE symbol:
 *
 *     const vigy_plugin_descriptor* vigy_plugin_entry(uint32_t host_abi_version);
 *
 * built with -fvisibility=hidden and the sdk's version script (vigy_add_plugin()
 * in CMake does both). The host loads it with RTLD_NOW | RTLD_LOCAL, calls the
 * entry with its VIGY_ABI_VERSION, and checks the descriptor's magic,
 * struct_size and ABI major before touching anything else. It then calls
 * init(host_api) and asks for capabilities by versioned string id through
 * get_extension(): VIGY_RECONCILER_FACTORY_ID, VIGY_HOST_EXTENSION_ID, ...
 * Third-party capabilities use reverse-DNS ids ("com.example.thing/1"); a
 * changed vtable gets a new id, never a reused one (CLAP's rule).
 *
 * Versioning (SQLite's append-only sqlite3_api_routines, Vulkan, OBS):
 * abi_version = (major << 16) | minor. A different major is refused by the
 * host with a message naming both versions. Minor versions only append fields
 * at the END of structs; readers check struct_size before reading a field
 * added later, and treat absent fields as zero/NULL. Each struct marks its
 * fields by the version that added them ("ABI 1.0", "ABI 1.1"), and
 * VIGY_<STRUCT>_SIZE_1_0 is its size in 1.0: the smallest struct_size a reader
 * accepts. A plugin built against any 1.x sdk loads in every 1.y host.
 *
 * ABI history:
 *   1.0  the first stable ABI.
 *   1.1  vigy_tick_info.trigger (why a tick runs; NULL for scheduled ticks).
 *
 * Ownership: every pointer a plugin returns from the descriptor (ids, vtables,
 * tables) lives until its shutdown(); per-instance pointers until destroy().
 * Host inputs live only for the call.
 *
 * Lifetime: a loaded plugin is never unloaded. The host calls shutdown() when
 * it is done with the plugin (after every instance was destroyed) and keeps
 * the shared object mapped until the process exits, so a pointer that escaped
 * (a thread_local's destructor, a string in a log line) never dangles. A host
 * that loads the same file again in the same process (a second registry, in
 * tests) gets the same mapped object: init() is then called again, after the
 * previous shutdown(), with the plugin's globals as shutdown() left them.
 */
#ifndef VIGY_PLUGIN_H
#define VIGY_PLUGIN_H

#include "vigy/extension.h"
#include "vigy/reconciler.h"
#include "vigy/status.h"
#include "vigy/tick.h"
#include "vigy/value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIGY_ABI_MAJOR 1u
#define VIGY_ABI_MINOR 1u
#define VIGY_ABI_VERSION ((VIGY_ABI_MAJOR << 16) | VIGY_ABI_MINOR)
#define VIGY_ABI_VERSION_MAJOR(v) ((uint32_t)(v) >> 16)
#define VIGY_ABI_VERSION_MINOR(v) ((uint32_t)(v)&0xffffu)

/* "VIGY" as a little-endian uint32. */
#define VIGY_PLUGIN_MAGIC 0x59474956u

#define VIGY_PLUGIN_ENTRY_SYMBOL "vigy_plugin_entry"

#if defined(_WIN32)
#define VIGY_PLUGIN_EXPORT __declspec(dllexport)
#else
#define VIGY_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* A child reconciler owned by the host on behalf of a plugin (the chain). */
typedef struct vigy_child vigy_child;

/* The host API handed to a plugin's init(). Each plugin gets its own copy
 * (host_data identifies the plugin, so log lines name it). Slots are only ever
 * appended: check struct_size before using a slot added later. Every slot is
 * thread-safe unless it says otherwise. */
typedef struct vigy_host_api {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t abi_version; /* the host's VIGY_ABI_VERSION */
    void* host_data;

    /* Log through the host's logger (plugins never bring their own logger).
     * level: VIGY_LOG_*. The message is copied. */
    void (*log)(void* host_data, int32_t level, vigy_str message);

    /* A host capability by versioned id, or NULL. None are defined up to 1.1. */
    const void* (*get_extension)(void* host_data, const char* id);

    /* Offer every intrinsic of every loaded host extension, in load order, to
     * `registrar` (a language runtime's). Intrinsics of a capability outside
     * the six standard ones come with the host's grant check in front of them
     * (see vigy/extension.h, "Capabilities"). Returns the first non-OK status
     * a registrar call returned, with its message. Call from any thread, e.g.
     * during a reconciler's create(). */
    vigy_status (*install_intrinsics)(void* host_data, const vigy_registrar* registrar, vigy_error* err);

    /* Child reconcilers, for reconcilers that compose others (chain). The host
     * looks the kind up among ALL loaded factories, so a chain may hold any
     * kind, including another chain. The child's config is spec->config_json
     * when it is non-empty, else spec->config (NULL = nil) serialised to JSON.
     * child_create: INVALID_ARGUMENT for an unknown kind (listing the known
     * ones) or the child factory's own error.
     * child_tick: runs the child against the SAME tick (buffers and kv
     * accumulate); same threading rules as vigy_reconciler_factory.tick.
     * child_destroy frees it; every child must be destroyed by its owner. */
    vigy_status (*child_create)(void* host_data, const vigy_reconciler_spec* spec, vigy_child** out, vigy_error* err);
    vigy_status (*child_tick)(void* host_data, vigy_child* child, vigy_tick* tick, vigy_error* err);
    void (*child_destroy)(void* host_data, vigy_child* child);
} vigy_host_api;

#define VIGY_HOST_API_SIZE_1_0 VIGY_FIELD_END(vigy_host_api, child_destroy)

/* What vigy_plugin_entry returns; static, lives as long as the process (the
 * plugin is never unloaded). */
typedef struct vigy_plugin_descriptor {
    /* ---- ABI 1.0 ---- */
    uint32_t magic;       /* VIGY_PLUGIN_MAGIC */
    uint32_t struct_size; /* sizeof(vigy_plugin_descriptor) as built by the plugin */
    uint32_t abi_version; /* VIGY_ABI_VERSION the plugin was built against */
    uint32_t reserved;
    /* Reverse-DNS ("io.pleme.mado") or "vigy.<name>" for the project's own;
     * unique among loaded plugins. Also the CAPABILITY id of the plugin's
     * intrinsics: what an operator grants a vigy (--allow io.pleme.mado). */
    const char* id;
    const char* version;     /* the plugin's own version, e.g. "0.1.0" */
    const char* description; /* one line */

    /* Called on the host's control thread before any other call, once per
     * host loading the plugin (see "Lifetime" above). May be NULL. `host`
     * lives until shutdown. A non-OK status refuses the plugin (with the
     * message in `err`); shutdown is then not called. */
    vigy_status (*init)(const vigy_host_api* host, vigy_error* err);

    /* Called once per successful init when the host is done with the plugin
     * (normally at exit), after every instance was destroyed, on the host's
     * control thread. The library stays mapped afterwards. May be NULL. */
    void (*shutdown)(void);

    /* A capability vtable by versioned id, or NULL. Thread-safe; the returned
     * pointer lives until shutdown. */
    const void* (*get_extension)(const char* id);
} vigy_plugin_descriptor;

#define VIGY_PLUGIN_DESCRIPTOR_SIZE_1_0 VIGY_FIELD_END(vigy_plugin_descriptor, get_extension)

typedef const vigy_plugin_descriptor* (*vigy_plugin_entry_fn)(uint32_t host_abi_version);

/* The one exported symbol. Return NULL if the plugin cannot serve a host of
 * `host_abi_version` (different major). Called on the host's control thread. */
VIGY_PLUGIN_EXPORT const vigy_plugin_descriptor* vigy_plugin_entry(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* VIGY_PLUGIN_H */
