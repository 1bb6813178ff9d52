/* vigy/embed.h — the C embedding API of libvigy.so.1.
 *
 * An application (C, or any language with a C FFI: Python ctypes, Rust, Go)
 * opens a vigy runtime on a database, registers vigies, lists them, forces
 * ticks, subscribes to committed runs and serves (schedules every enabled
 * vigy on the runtime's own threads). It is the same runtime `vigy serve`
 * runs; the database can be shared with the `vigy` CLI (one scheduler per
 * database: a second one is refused with FAILED_PRECONDITION naming the pid
 * that serves).
 *
 *     vigy_embed_runtime* rt = NULL;
 *     if (vigy_embed_open("app.db", NULL, &rt, NULL) != VIGY_OK) ...;
 *     vigy_embed_register(rt, "{\"name\":\"hello\",\"program\":\"(+ 1 2)\",\"interval_ms\":500}", NULL, NULL);
 *     vigy_embed_subscribe(rt, on_run, app_state, &sub, NULL);
 *     vigy_embed_start(rt, NULL);
 *     ...
 *     vigy_embed_close(rt);
 *
 * Link with -lvigy (pkg-config vigy, or CMake find_package(vigy) and the
 * target vigy::embed).
 *
 * Data crosses as JSON text (UTF-8, NUL-terminated). Inputs are borrowed for
 * the duration of the call. Objects only ever gain fields; ignore the ones you
 * do not know. Times are milliseconds since the Unix epoch (UTC, *_ms),
 * durations milliseconds (*_ms) or microseconds (*_us).
 *
 *   vigy spec (vigy_embed_register's input):
 *     {"name": "hello",              required; the vigy's identity (<= 253 bytes)
 *      "kind": "lisp",               a loaded reconciler kind; default "lisp"
 *      "program": "(+ 1 2)",         lisp only: the program text ...
 *      "source_name": "hello.tatara",   ... and its file name in diagnostics
 *      "config": {...},              other kinds: the reconciler config (instead of program)
 *      "interval_ms": 1000,          tick interval, >= 100; default 1000
 *      "labels": {"team": "infra"},  replaces the labels wholesale
 *      "enabled": true,              absent: a new vigy is enabled, an existing one keeps its state
 *      "limits": {"fuel": 0, "wall_ms": 0, "memory_bytes": 0, "max_depth": 0}}   0 = runtime default
 *     Registering an existing name updates that vigy (a new revision when kind
 *     or config changed; its id, kv and run history are kept). Unknown fields
 *     are refused (INVALID_ARGUMENT), so a typo never goes unnoticed.
 *
 *   vigy (register's, get's and list's output):
 *     {"id", "name", "kind", "revision", "interval_ms", "enabled", "labels",
 *      "limits", "config" (object or null), "created_ms", "updated_ms"}
 *     register adds "outcome" ("created" | "updated" | "unchanged") and
 *     "previous_revision" ("" when created).
 *
 *   run (tick's output, runs' elements, the subscription callback's argument):
 *     {"id" (UUIDv7), "seq" (commit cursor, monotonic per database), "vigy_id",
 *      "vigy_name", "revision", "trigger" ("schedule" | "forced"), "started_ms",
 *      "ended_ms", "duration_us", "result" ("ok" | "failed" | "skipped"),
 *      "error" ("" unless failed), "tick_count", "output" (printed text / last value),
 *      "actions" [{"kind", "payload"?, ...}], "desired" {}, "observed" {},
 *      "conditions" [{"type", "status" ("True" | "False" | "Unknown"), "reason"?, "message"?}],
 *      "log" [{"level", "message"}], "trace" {}, "metrics" {name: number},
 *      "events" [{"type", "reason", "message"}], "kv_writes" {}, "kv_deletes" []}
 *     A program that fails is not an API error: it is a run with "result": "failed".
 *
 * Rules (the same as the plugin ABI's, vigy/plugin.h):
 *   - Versioning. vigy_embed_version() is the library's
 *     (major << 16) | minor; a library of another major is incompatible (its
 *     soname changes with the major: libvigy.so.1 is major 1). Minor versions
 *     only append functions, struct fields at the end of structs, and JSON
 *     fields. Every struct starts with struct_size: set it to sizeof() as you
 *     built it; the library reads only the fields that fit.
 *   - Errors. Every fallible function returns a vigy_status (vigy/status.h:
 *     canonical codes with their retry meaning) and, when `err` is not NULL,
 *     describes a failure through the error sink: a lowercase message without
 *     trailing period that names the value and the limit ("invalid tick
 *     interval 50 ms: must be >= 100"). `err` may be NULL. No function throws
 *     or aborts on bad input; no function installs signal handlers.
 *   - Ownership. Whoever allocates frees: strings the library returns through
 *     a `char** out_json` are allocated by the library and released by the
 *     caller with vigy_embed_free(); on failure *out_json is set to NULL. A
 *     runtime is freed by vigy_embed_close(). Strings handed to a callback are
 *     valid only during that call.
 *   - Threading. Every function may be called from any thread, concurrently,
 *     on the same runtime, EXCEPT vigy_embed_close (no other call on that
 *     runtime may be running or follow). Callbacks run on a runtime thread;
 *     vigy_embed_stop, vigy_embed_unsubscribe and vigy_embed_close must not be
 *     called from a callback (FAILED_PRECONDITION; close: undefined). Every
 *     other function may be, e.g. to read more state after a run.
 */
#ifndef VIGY_EMBED_H
#define VIGY_EMBED_H

#include "vigy/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ABI 1.0 ---------------------------------------------------------------- */

#define VIGY_EMBED_VERSION_MAJOR 1u
#define VIGY_EMBED_VERSION_MINOR 0u
#define VIGY_EMBED_VERSION ((VIGY_EMBED_VERSION_MAJOR << 16) | VIGY_EMBED_VERSION_MINOR)

#if defined(_WIN32) && defined(VIGY_EMBED_BUILD)
#define VIGY_EMBED_API __declspec(dllexport)
#elif defined(_WIN32)
#define VIGY_EMBED_API __declspec(dllimport)
#else
#define VIGY_EMBED_API __attribute__((visibility("default")))
#endif

/* The library's version, (major << 16) | minor. Compare its major with
 * VIGY_EMBED_VERSION_MAJOR before anything else when you load the library at
 * run time. Any thread. */
VIGY_EMBED_API uint32_t vigy_embed_version(void);

/* vigy_status_name() as an exported function, for FFIs that cannot call the
 * static inline one of status.h ("ok", "invalid-argument", ...). Returns a
 * static string. Any thread. */
VIGY_EMBED_API const char* vigy_embed_status_name(vigy_status status);

/* An open runtime on one database. Opaque; created by vigy_embed_open, freed by
 * vigy_embed_close. */
typedef struct vigy_embed_runtime vigy_embed_runtime;

/* vigy_embed_options.flags */
/* Load plugins only from plugin_dirs: not the built-in directory
 * (../vigy/plugins beside the library, i.e. <prefix>/lib/vigy/plugins) and not
 * $VIGY_PLUGIN_PATH. */
#define VIGY_EMBED_NO_DEFAULT_PLUGIN_DIRS (1u << 0)

/* How to open a runtime. Zero-initialise, set struct_size, change what you
 * need: every zero field means "the default". */
typedef struct vigy_embed_options {
    uint32_t struct_size; /* sizeof(vigy_embed_options) as built by the caller */
    uint32_t flags;       /* VIGY_EMBED_* flags above */
    /* Extra plugin directories or single .so files, loaded after the built-in
     * directory and before $VIGY_PLUGIN_PATH (as `vigy --plugin-dir`).
     * plugin_dir_count entries; NULL when the count is 0. */
    const char* const* plugin_dirs;
    size_t plugin_dir_count;
    uint32_t tick_threads; /* threads running ticks; 0 = max(4, 2 x cores), at most 32 */
    uint32_t reserved;     /* 0 */
    /* Retention while serving: runs kept per vigy (0 = 1000; < 0 = no count
     * limit) and the age after which runs are pruned (0 = 7 days; < 0 = none). */
    int64_t keep_runs;
    int64_t max_run_age_ms;
} vigy_embed_options;

/* Opens (creating it and its parent directories if needed) the database at
 * `db_path` (UTF-8; NULL or "" = $VIGY_DB, else $XDG_DATA_HOME/vigy/vigy.db,
 * else ~/.local/share/vigy/vigy.db; new directories 0700, a new file 0600)
 * and loads the plugins. `options` may be NULL (all defaults). On success
 * *out is the runtime; on failure *out is NULL.
 * Errors: INVALID_ARGUMENT (NULL out, bad options, struct_size smaller than the
 * 1.0 layout), FAILED_PRECONDITION (a database written by a newer vigy; no
 * db_path and none of VIGY_DB, XDG_DATA_HOME, HOME set),
 * INTERNAL (the file cannot be opened or created: the message names it).
 * A plugin file that fails to load is not an error: it is logged and skipped.
 * Any thread. */
VIGY_EMBED_API vigy_status vigy_embed_open(const char* db_path, const vigy_embed_options* options,
                                           vigy_embed_runtime** out, vigy_error* err);

/* Stops serving (as vigy_embed_stop), ends every subscription (waiting for a
 * callback that is running), flushes every run to the database and frees the
 * runtime. NULL is a no-op. No other call on `rt` may be running or follow;
 * never from a callback. */
VIGY_EMBED_API void vigy_embed_close(vigy_embed_runtime* rt);

/* Frees a string the library returned through an out_json parameter. NULL is a
 * no-op. Any thread. */
VIGY_EMBED_API void vigy_embed_free(void* p);

/* Registers the vigy described by `spec_json` (see "vigy spec" above), or
 * updates the one with the same name. If `out_json` is not NULL it receives the
 * stored vigy with "outcome" and "previous_revision". A program that does not
 * compile is registered all the same (its runs fail with the parse error).
 * Errors: INVALID_ARGUMENT (not JSON, unknown or mistyped field, bad name,
 * interval < 100 ms, unknown kind: the message lists the loaded kinds),
 * UNAVAILABLE (the database stayed locked; retry). */
VIGY_EMBED_API vigy_status vigy_embed_register(vigy_embed_runtime* rt, const char* spec_json, char** out_json,
                                               vigy_error* err);

/* Deletes a vigy by name or id; with keep_history != 0 its runs, kv and events
 * stay in the database. Errors: NOT_FOUND. */
VIGY_EMBED_API vigy_status vigy_embed_remove(vigy_embed_runtime* rt, const char* name_or_id, int keep_history,
                                             vigy_error* err);

/* The stored vigy (by name or id) as JSON. Errors: NOT_FOUND. */
VIGY_EMBED_API vigy_status vigy_embed_get(vigy_embed_runtime* rt, const char* name_or_id, char** out_json,
                                          vigy_error* err);

/* Every vigy matching the label selector (the syntax of `vigy list --selector`,
 * e.g. "team=infra,tier=web"; NULL or "" = all), sorted by name, as a JSON array.
 * Errors: INVALID_ARGUMENT (bad selector). */
VIGY_EMBED_API vigy_status vigy_embed_list(vigy_embed_runtime* rt, const char* selector, char** out_json,
                                           vigy_error* err);

/* The newest `limit` committed runs of a vigy (0 = 20), newest first, as a
 * JSON array. Errors: NOT_FOUND. */
VIGY_EMBED_API vigy_status vigy_embed_runs(vigy_embed_runtime* rt, const char* name_or_id, size_t limit,
                                           char** out_json, vigy_error* err);

/* Runs one tick of the vigy now (whether or not it is enabled) and returns the
 * committed run. Never races the scheduler: when this runtime serves, the tick
 * runs on the vigy's own queue; when another process serves, it is asked to
 * tick and awaited up to wait_ms (0 = 5000); when nobody serves, it runs here.
 * Errors: NOT_FOUND, DEADLINE_EXCEEDED (the serving process did not answer in
 * time), UNAVAILABLE (the database stayed locked). */
VIGY_EMBED_API vigy_status vigy_embed_tick(vigy_embed_runtime* rt, const char* name_or_id, int64_t wait_ms,
                                           char** out_run_json, vigy_error* err);

/* Called with every run THIS runtime commits, after it is durable, in commit
 * order, one call at a time per subscription, on a runtime thread. `run_json`
 * (len bytes, NUL-terminated) is valid only during the call. Keep it short: the
 * next run of this subscription waits for it. */
typedef void (*vigy_embed_run_fn)(void* user_data, const char* run_json, size_t len);

/* Subscribes `fn` (with `user_data`, passed back untouched) to committed runs;
 * *out_id identifies the subscription. Runs committed by other processes on the
 * same database are not delivered (read them with vigy_embed_runs).
 * Errors: INVALID_ARGUMENT (NULL fn or out_id). */
VIGY_EMBED_API vigy_status vigy_embed_subscribe(vigy_embed_runtime* rt, vigy_embed_run_fn fn, void* user_data,
                                                uint64_t* out_id, vigy_error* err);

/* Ends a subscription; when it returns, `fn` is not running and will not be
 * called again for it. Errors: NOT_FOUND (unknown id), FAILED_PRECONDITION
 * (called from a callback). */
VIGY_EMBED_API vigy_status vigy_embed_unsubscribe(vigy_embed_runtime* rt, uint64_t id, vigy_error* err);

/* Becomes the scheduler of the database and returns at once: every enabled vigy
 * ticks on the runtime's threads (first tick right away), registrations by
 * other processes are picked up. A no-op when already serving.
 * Errors: FAILED_PRECONDITION (another process serves this database: the
 * message names its pid). */
VIGY_EMBED_API vigy_status vigy_embed_start(vigy_embed_runtime* rt, vigy_error* err);

/* Stops serving gracefully: no new ticks, in-flight ticks finish, every run is
 * flushed, the scheduler lease is released. Blocks until done; idempotent.
 * Errors: FAILED_PRECONDITION (called from a callback). */
VIGY_EMBED_API vigy_status vigy_embed_stop(vigy_embed_runtime* rt, vigy_error* err);

/* The plugins this runtime loaded and the files it skipped, as JSON:
 *   {"plugins": [{"id", "version", "abi", "file", "kinds": [...], "extensions": [...]}],
 *    "skipped": [{"file", "reason"}]}
 * (why a kind is unknown: a plugin file that was refused, and the reason). */
VIGY_EMBED_API vigy_status vigy_embed_plugins(vigy_embed_runtime* rt, char** out_json, vigy_error* err);

/* 1 while serving (between start and stop), else 0. Any thread. */
VIGY_EMBED_API int vigy_embed_serving(const vigy_embed_runtime* rt);

#ifdef __cplusplus
}
#endif

#endif /* VIGY_EMBED_H */
