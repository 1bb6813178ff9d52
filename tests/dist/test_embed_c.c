/* tests/dist/test_embed_c.c — the C embedding API (sdk/include/vigy/embed.h)
 * from C: compiled as C11 with -Wall -Wextra -Wpedantic -Werror (so the header is
 * plain C11), linked against the built libvigy.so, and run against a fresh
 * database in DIR (argv[1]). Every failure path a caller can cause is checked
 * for its status and its message.
 *
 *   test_embed_c DIR        exit 0 when every check held */
#include "vigy/embed.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        ++checks;                                                              \
        if (!(cond)) {                                                         \
            ++failures;                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* ---- the error sink ---------------------------------------------------------- */

typedef struct {
    char text[2048];
    int calls;
} sink_state;

static void sink_set(void* ctx, const char* msg, size_t len) {
    sink_state* s = ctx;
    if (len >= sizeof s->text) len = sizeof s->text - 1;
    memcpy(s->text, msg, len);
    s->text[len] = '\0';
    s->calls++;
}

static sink_state last;
static vigy_error err = {sizeof(vigy_error), 0, &last, sink_set};

static vigy_error* fresh(void) {
    last.text[0] = '\0';
    last.calls = 0;
    return &err;
}

static int has(const char* haystack, const char* needle) { return haystack && strstr(haystack, needle) != NULL; }

/* ---- run delivery ------------------------------------------------------------ */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int runs;
    int all_ok;
    vigy_embed_runtime* rt;
    vigy_status stop_from_callback;
    vigy_status unsubscribe_from_callback;
} delivery;

static void on_run(void* user_data, const char* run_json, size_t len) {
    delivery* d = user_data;
    vigy_status stop = vigy_embed_stop(d->rt, NULL);
    vigy_status unsub = vigy_embed_unsubscribe(d->rt, 1, NULL);
    pthread_mutex_lock(&d->mu);
    if (has(run_json, "\"vigy_name\":\"c-test\"")) d->runs++; /* "other" (noop) ticks too */
    if (!has(run_json, "\"result\":\"ok\"") || strlen(run_json) != len) d->all_ok = 0;
    d->stop_from_callback = stop;
    d->unsubscribe_from_callback = unsub;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* Waits up to 30 s for at least `n` runs; returns the count seen. */
static int wait_runs(delivery* d, int n) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&d->mu);
    while (d->runs < n && pthread_cond_timedwait(&d->cv, &d->mu, &deadline) == 0) {
    }
    int seen = d->runs;
    pthread_mutex_unlock(&d->mu);
    return seen;
}

/* ---- the checks ------------------------------------------------------------------ */

static void check_version(void) {
    CHECK(vigy_embed_version() >> 16 == VIGY_EMBED_VERSION_MAJOR, "version %u", vigy_embed_version());
    CHECK(strcmp(vigy_embed_status_name(VIGY_RESOURCE_EXHAUSTED), "resource-exhausted") == 0, "status name");
    CHECK(strcmp(vigy_embed_status_name(999), "unknown") == 0, "unknown status name");
    vigy_embed_close(NULL);
    vigy_embed_free(NULL);
}

static void check_open_errors(const char* dir) {
    char path[4096];
    vigy_embed_runtime* rt = (vigy_embed_runtime*)&path; /* must be reset to NULL on failure */

    CHECK(vigy_embed_open("x.db", NULL, NULL, fresh()) == VIGY_INVALID_ARGUMENT, "NULL out");
    CHECK(has(last.text, "out is NULL"), "message: %s", last.text);

    vigy_embed_options small;
    memset(&small, 0, sizeof small);
    small.struct_size = 8;
    CHECK(vigy_embed_open("x.db", &small, &rt, fresh()) == VIGY_INVALID_ARGUMENT, "struct_size 8");
    CHECK(rt == NULL, "out reset on failure");
    CHECK(has(last.text, "options.struct_size 8 is smaller than the 1.0 layout"), "message: %s", last.text);

    vigy_embed_options flags;
    memset(&flags, 0, sizeof flags);
    flags.struct_size = sizeof flags;
    flags.flags = 1u << 7;
    CHECK(vigy_embed_open("x.db", &flags, &rt, fresh()) == VIGY_INVALID_ARGUMENT, "unknown flag");
    CHECK(has(last.text, "unknown bits 128"), "message: %s", last.text);

    /* a database under a regular file cannot be created */
    snprintf(path, sizeof path, "%s/not-a-dir", dir);
    FILE* f = fopen(path, "w");
    CHECK(f != NULL, "create %s", path);
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/not-a-dir/vigy.db", dir);
    vigy_status s = vigy_embed_open(path, NULL, &rt, fresh());
    CHECK(s != VIGY_OK && rt == NULL, "open under a file: %s", vigy_embed_status_name(s));
    CHECK(has(last.text, "not-a-dir"), "message names the path: %s", last.text);
}

static void check_no_default_plugins(const char* dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/bare.db", dir);
    vigy_embed_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.flags = VIGY_EMBED_NO_DEFAULT_PLUGIN_DIRS;
    vigy_embed_runtime* rt = NULL;
    CHECK(vigy_embed_open(path, &o, &rt, fresh()) == VIGY_OK, "open bare: %s", last.text);
    if (!rt) return;
    char* json = NULL;
    CHECK(vigy_embed_plugins(rt, &json, fresh()) == VIGY_OK, "plugins: %s", last.text);
    CHECK(has(json, "\"plugins\":[]"), "no plugins: %s", json);
    vigy_embed_free(json);
    CHECK(vigy_embed_register(rt, "{\"name\":\"x\",\"program\":\"1\"}", NULL, fresh()) == VIGY_INVALID_ARGUMENT,
          "lisp is unknown without plugins");
    CHECK(has(last.text, "lisp"), "message names the kind: %s", last.text);
    vigy_embed_close(rt);
}

static void check_spec_errors(vigy_embed_runtime* rt) {
    struct {
        const char* spec;
        const char* message;
    } cases[] = {
        {"{\"name\":", "vigy spec is not JSON"},
        {"[1]", "must be a JSON object"},
        {"{\"program\":\"1\"}", "has no \"name\""},
        {"{\"name\":\"a\",\"colour\":1}", "unknown vigy spec field \"colour\""},
        {"{\"name\":\"a\",\"limits\":{\"fuel\":-1}}", "\"limits.fuel\" must be a non-negative integer"},
        {"{\"name\":\"a\",\"limits\":{\"steps\":1}}", "unknown vigy spec field \"limits.steps\""},
        {"{\"name\":\"a\",\"interval_ms\":\"1s\"}", "\"interval_ms\" must be an integer"},
        {"{\"name\":\"a\",\"labels\":{\"k\":1}}", "\"labels\" must be an object of strings"},
        {"{\"name\":\"a\",\"program\":\"1\",\"config\":{}}", "both \"program\" and \"config\""},
        {"{\"name\":\"a\",\"kind\":\"noop\",\"program\":\"1\"}", "\"program\" is for kind lisp"},
        {"{\"name\":\"a\",\"program\":\"1\",\"interval_ms\":50}", "50"},
        {"{\"name\":\"a\",\"kind\":\"no-such-kind\"}", "no-such-kind"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char* json = (char*)cases; /* must be reset to NULL on failure */
        vigy_status s = vigy_embed_register(rt, cases[i].spec, &json, fresh());
        CHECK(s == VIGY_INVALID_ARGUMENT, "%s -> %s", cases[i].spec, vigy_embed_status_name(s));
        CHECK(json == NULL, "out_json reset for %s", cases[i].spec);
        CHECK(has(last.text, cases[i].message), "%s: message \"%s\" lacks \"%s\"", cases[i].spec, last.text,
              cases[i].message);
    }
    CHECK(vigy_embed_register(rt, NULL, NULL, fresh()) == VIGY_INVALID_ARGUMENT, "NULL spec");
    CHECK(vigy_embed_register(NULL, "{}", NULL, fresh()) == VIGY_INVALID_ARGUMENT, "NULL runtime");
    /* a NULL sink is allowed; a sink too small for the layout is never called */
    CHECK(vigy_embed_register(rt, "[]", NULL, NULL) == VIGY_INVALID_ARGUMENT, "NULL sink");
    sink_state small_state = {"", 0};
    vigy_error small = {4, 0, &small_state, sink_set};
    CHECK(vigy_embed_register(rt, "[]", NULL, &small) == VIGY_INVALID_ARGUMENT && small_state.calls == 0,
          "small sink not called");
}

static void check_lifecycle(vigy_embed_runtime* rt, const char* db) {
    char* json = NULL;
    const char* spec =
        "{\"name\":\"c-test\",\"program\":\"(vigy-desired \\\"answer\\\" 42)\",\"interval_ms\":100,"
        "\"labels\":{\"suite\":\"dist\"},\"limits\":{\"fuel\":100000}}";
    CHECK(vigy_embed_register(rt, spec, &json, fresh()) == VIGY_OK, "register: %s", last.text);
    CHECK(has(json, "\"outcome\":\"created\"") && has(json, "\"kind\":\"lisp\"") && has(json, "\"fuel\":100000") &&
              has(json, "\"interval_ms\":100") && has(json, "\"program\":\"(vigy-desired"),
          "registered: %s", json);
    vigy_embed_free(json);
    CHECK(vigy_embed_register(rt, spec, &json, fresh()) == VIGY_OK && has(json, "\"outcome\":\"unchanged\""),
          "again: %s", json);
    vigy_embed_free(json);
    CHECK(vigy_embed_register(rt, "{\"name\":\"other\",\"kind\":\"noop\",\"config\":{}}", NULL, fresh()) == VIGY_OK,
          "noop: %s", last.text);

    CHECK(vigy_embed_get(rt, "c-test", &json, fresh()) == VIGY_OK && has(json, "\"name\":\"c-test\""), "get: %s", json);
    vigy_embed_free(json);
    CHECK(vigy_embed_get(rt, "nope", &json, fresh()) == VIGY_NOT_FOUND && json == NULL, "get unknown");
    CHECK(has(last.text, "nope"), "message: %s", last.text);

    CHECK(vigy_embed_list(rt, "suite=dist", &json, fresh()) == VIGY_OK, "list: %s", last.text);
    CHECK(has(json, "\"c-test\"") && !has(json, "\"other\""), "selected: %s", json);
    vigy_embed_free(json);
    CHECK(vigy_embed_list(rt, NULL, &json, fresh()) == VIGY_OK && has(json, "\"other\""), "list all: %s", json);
    vigy_embed_free(json);
    CHECK(vigy_embed_list(rt, "=x", &json, fresh()) == VIGY_INVALID_ARGUMENT, "bad selector");

    /* a forced tick while nobody serves runs here */
    CHECK(vigy_embed_tick(rt, "c-test", 0, &json, fresh()) == VIGY_OK, "tick: %s", last.text);
    CHECK(has(json, "\"trigger\":\"forced\"") && has(json, "\"result\":\"ok\"") &&
              has(json, "\"desired\":{\"answer\":42}"),
          "run: %s", json);
    vigy_embed_free(json);
    CHECK(vigy_embed_tick(rt, "nope", 0, &json, fresh()) == VIGY_NOT_FOUND && json == NULL, "tick unknown");
    CHECK(vigy_embed_tick(rt, "c-test", -1, &json, fresh()) == VIGY_INVALID_ARGUMENT, "negative wait");

    /* serving: runs arrive through the callback */
    delivery d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 1, rt, VIGY_OK, VIGY_OK};
    uint64_t sub = 0;
    CHECK(vigy_embed_subscribe(rt, NULL, &d, &sub, fresh()) == VIGY_INVALID_ARGUMENT, "NULL callback");
    CHECK(vigy_embed_subscribe(rt, on_run, &d, &sub, fresh()) == VIGY_OK && sub == 1, "subscribe: %s", last.text);
    CHECK(vigy_embed_serving(rt) == 0, "not serving yet");
    CHECK(vigy_embed_start(rt, fresh()) == VIGY_OK, "start: %s", last.text);
    CHECK(vigy_embed_serving(rt) == 1, "serving");

    /* a second scheduler on the same database is refused */
    vigy_embed_runtime* second = NULL;
    CHECK(vigy_embed_open(db, NULL, &second, fresh()) == VIGY_OK, "second open: %s", last.text);
    if (second) {
        CHECK(vigy_embed_start(second, fresh()) == VIGY_FAILED_PRECONDITION, "second scheduler refused");
        CHECK(last.text[0] != '\0', "with a message");
        vigy_embed_close(second);
    }

    CHECK(wait_runs(&d, 3) >= 3, "three runs delivered");
    CHECK(vigy_embed_stop(rt, fresh()) == VIGY_OK, "stop: %s", last.text);
    CHECK(vigy_embed_serving(rt) == 0, "stopped");
    CHECK(vigy_embed_stop(rt, fresh()) == VIGY_OK, "stop is idempotent");
    CHECK(vigy_embed_unsubscribe(rt, sub, fresh()) == VIGY_OK, "unsubscribe: %s", last.text);
    CHECK(vigy_embed_unsubscribe(rt, sub, fresh()) == VIGY_NOT_FOUND, "unsubscribe twice");
    pthread_mutex_lock(&d.mu);
    CHECK(d.all_ok, "every delivered run is ok");
    CHECK(d.stop_from_callback == VIGY_FAILED_PRECONDITION, "stop from a callback: %s",
          vigy_embed_status_name(d.stop_from_callback));
    CHECK(d.unsubscribe_from_callback == VIGY_FAILED_PRECONDITION, "unsubscribe from a callback: %s",
          vigy_embed_status_name(d.unsubscribe_from_callback));
    const int delivered = d.runs;
    pthread_mutex_unlock(&d.mu);

    CHECK(vigy_embed_runs(rt, "c-test", 1000, &json, fresh()) == VIGY_OK, "runs: %s", last.text);
    int stored = 0;
    for (const char* p = json; p && (p = strstr(p, "\"vigy_name\":\"c-test\"")) != NULL; ++p) ++stored;
    CHECK(stored >= delivered + 1, "%d runs stored, %d delivered + 1 forced", stored, delivered);
    vigy_embed_free(json);

    CHECK(vigy_embed_remove(rt, "other", 0, fresh()) == VIGY_OK, "remove: %s", last.text);
    CHECK(vigy_embed_remove(rt, "other", 0, fresh()) == VIGY_NOT_FOUND, "remove twice");
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_embed_c DIR\n");
        return 2;
    }
    char db[4096];
    snprintf(db, sizeof db, "%s/embed.db", argv[1]);

    check_version();
    check_open_errors(argv[1]);
    check_no_default_plugins(argv[1]);

    vigy_embed_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.tick_threads = 2;
    vigy_embed_runtime* rt = NULL;
    CHECK(vigy_embed_open(db, &o, &rt, fresh()) == VIGY_OK, "open: %s", last.text);
    if (rt) {
        check_spec_errors(rt);
        check_lifecycle(rt, db);
        vigy_embed_close(rt);
    }
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
