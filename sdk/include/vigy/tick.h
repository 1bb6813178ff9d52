/* vigy/tick.h — the per-tick context a reconciler and its intrinsics act on.
 *
 * A C vtable over the host's tick (what the original Rust vigy calls its
 * `VigyHost`): tick metadata, the output buffers (actions, desired, observed,
 * conditions, log, trace, metrics, events), and the vigy's persistent kv,
 * hydrated by the host before the tick and saved by it after a successful tick.
 * The buffers belong to the HOST, which persists them with the run; the
 * standard extensions are policy on top of these slots.
 *
 * Threading: a vigy_tick is created by the host for one tick and is valid only
 * during the reconciler's `tick` call (and the intrinsic calls made from it), on
 * the thread running that tick. Never keep a vigy_tick pointer past the call.
 *
 * Ownership: every input (strings, values) is borrowed for the call and copied
 * by the host. Outputs are written into the caller's arena (kv_get) or struct.
 */
#ifndef VIGY_TICK_H
#define VIGY_TICK_H

#include "vigy/status.h"
#include "vigy/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels (vigy_tick_api.log and vigy_host_api.log). */
#define VIGY_LOG_TRACE 0
#define VIGY_LOG_DEBUG 1
#define VIGY_LOG_INFO 2
#define VIGY_LOG_WARN 3
#define VIGY_LOG_ERROR 4

/* Condition statuses (Kubernetes: True | False | Unknown). */
#define VIGY_CONDITION_FALSE 0
#define VIGY_CONDITION_TRUE 1
#define VIGY_CONDITION_UNKNOWN 2

/* Event types (Kubernetes: Normal | Warning). */
#define VIGY_EVENT_NORMAL 0
#define VIGY_EVENT_WARNING 1

typedef struct vigy_tick_api vigy_tick_api;

/* The tick handle. The host embeds it as the first member of its own context
 * object; plugins only ever call `tick->api->slot(tick, ...)`. */
typedef struct vigy_tick {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size; /* sizeof(vigy_tick) as built by the host */
    uint32_t reserved;
    const vigy_tick_api* api;
} vigy_tick;

#define VIGY_TICK_SIZE_1_0 VIGY_FIELD_END(vigy_tick, api)

/* Tick metadata. The caller zero-fills the struct and sets struct_size to
 * sizeof(vigy_tick_info) as it was built; the host writes only the fields that
 * fit in struct_size and that it knows (a host of an older minor leaves the
 * newer fields as the caller set them, so zero-filled means NULL/0).
 * vigy_name, vigy_id and trigger point into the host's tick and stay valid
 * until the reconciler's tick call returns; copy them to keep them longer. */
typedef struct vigy_tick_info {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t reserved;
    int64_t tick_start_ms;    /* wall-clock start of this tick, ms since the Unix epoch (UTC) */
    int64_t previous_tick_ms; /* start of the previous successful tick, epoch ms; -1 on the first tick */
    int64_t tick_count;       /* 1 on the first tick; successful ticks so far + 1 */
    vigy_str vigy_name;       /* the vigy's name ("" when evaluated outside a registered vigy) */
    vigy_str vigy_id;         /* the vigy's id ("" likewise) */
    /* ---- ABI 1.1 ---- */
    /* Why this tick runs. NULL for a scheduled tick and for a forced one
     * (`vigy tick`, the API's tick request); for a tick run because something
     * happened, a map {"kind": string, "source": string, "payload": any}:
     * what kind of trigger fired, what it names (e.g. a watched key or
     * another vigy), and the trigger's own data (nil when it has none). */
    const vigy_value* trigger;
} vigy_tick_info;

#define VIGY_TICK_INFO_SIZE_1_0 VIGY_FIELD_END(vigy_tick_info, vigy_id)
#define VIGY_TICK_INFO_SIZE_1_1 VIGY_FIELD_END(vigy_tick_info, trigger)

/* One reconcile action. The runtime never interprets an action: it records it
 * with the run and publishes it; acting on it is the embedding application's
 * job. Kinds: observation noop, defer; data direction pull, push; lifecycle
 * create, update, delete, apply, restart; escape hatch custom. A NULL `ptr`
 * means absent (absent fields are omitted from the stored JSON). */
typedef struct vigy_action {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t reserved;
    vigy_str kind;             /* noop|defer|pull|push|create|update|delete|apply|restart|custom */
    const vigy_value* payload; /* NULL = absent */
    vigy_str result;           /* ok|failed|skipped, or ptr NULL = absent */
    vigy_str message;          /* ptr NULL = absent */
} vigy_action;

#define VIGY_ACTION_SIZE_1_0 VIGY_FIELD_END(vigy_action, message)

/* The tick vtable. Slots are only ever appended (check struct_size before
 * using a slot added in a later minor ABI version). Every slot may only be
 * called during the tick, from the tick's thread. Slots returning vigy_status
 * report INVALID_ARGUMENT (bad kind/status/level) or RESOURCE_EXHAUSTED (the
 * tick's memory limit) with a message through `err` (which may be NULL when
 * the caller does not want a message). */
struct vigy_tick_api {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size;
    uint32_t reserved;

    /* Fill `out` (zero-filled by the caller, who sets its struct_size) with the
     * tick metadata; nothing at or past out->struct_size is written. */
    void (*info)(vigy_tick* t, vigy_tick_info* out);

    /* Append an action. Unknown kind/result: INVALID_ARGUMENT naming the valid ones. */
    vigy_status (*emit_action)(vigy_tick* t, const vigy_action* action, vigy_error* err);

    /* desired[key] = value / observed[key] = value (later writes win). */
    vigy_status (*set_desired)(vigy_tick* t, vigy_str key, const vigy_value* value, vigy_error* err);
    vigy_status (*set_observed)(vigy_tick* t, vigy_str key, const vigy_value* value, vigy_error* err);

    /* Set the condition of type `type` (latest per type wins), as in Kubernetes:
     * `status` is a VIGY_CONDITION_* value, written "True", "False" or "Unknown";
     * reason/message ptr NULL = absent. The host keeps last_transition stable
     * unless the status changes. */
    vigy_status (*set_condition)(vigy_tick* t, vigy_str type, int32_t status, vigy_str reason, vigy_str message,
                                 vigy_error* err);

    /* Append a log line of the vigy (persisted with the run). level: VIGY_LOG_*. */
    vigy_status (*log)(vigy_tick* t, int32_t level, vigy_str message, vigy_error* err);

    /* trace[key] = value; metrics[name] = value; append an event
     * (type VIGY_EVENT_*, reason in CamelCase, human message). */
    vigy_status (*trace)(vigy_tick* t, vigy_str key, const vigy_value* value, vigy_error* err);
    vigy_status (*metric)(vigy_tick* t, vigy_str name, double value, vigy_error* err);
    vigy_status (*event)(vigy_tick* t, int32_t type, vigy_str reason, vigy_str message, vigy_error* err);

    /* Persistent kv of this vigy. Values keep their type (ints stay ints, lists
     * and maps round-trip). kv_get copies the value into `arena` and returns OK,
     * or NOT_FOUND (no message) when the key is absent. kv_set/kv_del mark the
     * key dirty/deleted; the host saves them atomically with the run, and only
     * when the tick succeeds. kv_has returns 1 or 0. */
    vigy_status (*kv_get)(vigy_tick* t, vigy_str key, const vigy_arena* arena, vigy_value* out, vigy_error* err);
    vigy_status (*kv_set)(vigy_tick* t, vigy_str key, const vigy_value* value, vigy_error* err);
    int32_t (*kv_has)(vigy_tick* t, vigy_str key);
    vigy_status (*kv_del)(vigy_tick* t, vigy_str key, vigy_error* err);

    /* The reconciler's human-readable result of the tick (the lisp reconciler:
     * the printed value of the last form). Shown by `vigy eval`; stored with
     * the run. Last call wins. */
    void (*set_output)(vigy_tick* t, vigy_str text);

    /* Nonzero once the host asks the tick to stop early (shutdown). Long
     * computations should poll it and return VIGY_CANCELLED. */
    int32_t (*cancelled)(vigy_tick* t);
};

#define VIGY_TICK_API_SIZE_1_0 VIGY_FIELD_END(vigy_tick_api, cancelled)

#ifdef __cplusplus
}
#endif

#endif /* VIGY_TICK_H */
