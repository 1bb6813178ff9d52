/* embed.c — an application embedding vigy through the C API (vigy/embed.h).
 *
 *   embed-c DB [SECONDS]
 *
 * Opens a runtime on DB, registers a tatara-lisp vigy ticking every 200 ms,
 * subscribes to its runs, serves for SECONDS (default 2), then prints what the
 * database holds and closes. Every error is printed with its canonical status. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <vigy/embed.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The error sink: keeps the last message (the library copies nothing back). */
typedef struct {
    char text[1024];
} message;

static void set_message(void* ctx, const char* msg, size_t len) {
    message* m = ctx;
    if (len >= sizeof m->text) len = sizeof m->text - 1;
    memcpy(m->text, msg, len);
    m->text[len] = '\0';
}

static int check(vigy_status s, const message* m, const char* what) {
    if (s == VIGY_OK) return 0;
    fprintf(stderr, "error: %s: %s (%s)\n", what, m->text, vigy_status_name(s));
    return 1;
}

/* Runs arrive on a runtime thread, one at a time; the JSON lives for the call. */
static void on_run(void* user_data, const char* run_json, size_t len) {
    int* runs = user_data;
    ++*runs;
    printf("run %d: %.*s\n", *runs, (int)len, run_json);
    fflush(stdout);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: embed-c DB [SECONDS]\n");
        return 2;
    }
    const int seconds = argc > 2 ? atoi(argv[2]) : 2;
    if (VIGY_EMBED_VERSION_MAJOR != vigy_embed_version() >> 16) {
        fprintf(stderr, "error: libvigy has ABI %u, this program was built for %u\n", vigy_embed_version() >> 16,
                VIGY_EMBED_VERSION_MAJOR);
        return 1;
    }

    message m = {""};
    vigy_error err = {sizeof(vigy_error), 0, &m, set_message};
    vigy_embed_runtime* rt = NULL;
    if (check(vigy_embed_open(argv[1], NULL, &rt, &err), &m, "open")) return 1;

    int rc = 1;
    char* json = NULL;
    uint64_t sub = 0;
    int runs = 0;
    const char* spec =
        "{\"name\": \"c-hello\", \"interval_ms\": 200, \"labels\": {\"app\": \"embed-c\"},"
        " \"program\": \"(vigy-desired \\\"greeting\\\" \\\"hello from C\\\")\\n(vigy-log \\\"info\\\" "
        "\\\"ticked\\\")\"}";
    if (check(vigy_embed_register(rt, spec, &json, &err), &m, "register")) goto done;
    printf("registered: %s\n", json);
    vigy_embed_free(json);
    json = NULL;

    if (check(vigy_embed_subscribe(rt, on_run, &runs, &sub, &err), &m, "subscribe")) goto done;
    if (check(vigy_embed_start(rt, &err), &m, "start")) goto done;
    struct timespec pause = {seconds, 0};
    nanosleep(&pause, NULL); /* the application's own work would run here */
    if (check(vigy_embed_stop(rt, &err), &m, "stop")) goto done;
    if (check(vigy_embed_unsubscribe(rt, sub, &err), &m, "unsubscribe")) goto done;

    if (check(vigy_embed_list(rt, "app=embed-c", &json, &err), &m, "list")) goto done;
    printf("vigies: %s\n", json);
    vigy_embed_free(json);
    json = NULL;
    printf("%d runs delivered\n", runs);
    rc = runs > 0 ? 0 : 1;
done:
    vigy_embed_close(rt);
    return rc;
}
