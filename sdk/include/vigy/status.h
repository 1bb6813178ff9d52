/* vigy/status.h — canonical status codes and the error sink of the vigy C ABI.
 *
 * Every fallible ABI function returns a vigy_status. The codes and their retry
 * meaning follow abseil/gRPC canonical codes (same numeric values):
 *   INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED  do not retry
 *   PERMISSION_DENIED                           do not retry until granted (e.g. a capability)
 *   FAILED_PRECONDITION                         do not retry until state changes
 *   ABORTED                                     redo the whole read-modify-write
 *   UNAVAILABLE                                 retry with backoff
 *   RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED       a limit was hit (fuel, memory, wall clock)
 *   INTERNAL                                    a bug, or an exception caught at the ABI fence
 *
 * A function returning anything but VIGY_OK should describe the failure through
 * the vigy_error sink it was given: what failed, with which value. Diagnostics
 * start lowercase and have no trailing period.
 */
#ifndef VIGY_STATUS_H
#define VIGY_STATUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t vigy_status;

/* The byte offset just past `member` of struct `type`: how the VIGY_*_SIZE_1_0
 * constants (each versioned struct's size in ABI 1.0, i.e. the end of its last
 * 1.0 field) are defined. A reader compares a struct_size against these before
 * reading a field of that version. */
#define VIGY_FIELD_END(type, member) (offsetof(type, member) + sizeof(((type*)0)->member))

#define VIGY_OK 0
#define VIGY_CANCELLED 1
#define VIGY_UNKNOWN 2
#define VIGY_INVALID_ARGUMENT 3
#define VIGY_DEADLINE_EXCEEDED 4
#define VIGY_NOT_FOUND 5
#define VIGY_ALREADY_EXISTS 6
#define VIGY_PERMISSION_DENIED 7
#define VIGY_RESOURCE_EXHAUSTED 8
#define VIGY_FAILED_PRECONDITION 9
#define VIGY_ABORTED 10
#define VIGY_OUT_OF_RANGE 11
#define VIGY_UNIMPLEMENTED 12
#define VIGY_INTERNAL 13
#define VIGY_UNAVAILABLE 14

/* The canonical lowercase name of a status ("ok", "invalid-argument", ...).
 * Returns a static string; unknown codes give "unknown". Any thread. */
static inline const char* vigy_status_name(vigy_status s) {
    switch (s) {
    case VIGY_OK: return "ok";
    case VIGY_CANCELLED: return "cancelled";
    case VIGY_INVALID_ARGUMENT: return "invalid-argument";
    case VIGY_DEADLINE_EXCEEDED: return "deadline-exceeded";
    case VIGY_NOT_FOUND: return "not-found";
    case VIGY_ALREADY_EXISTS: return "already-exists";
    case VIGY_PERMISSION_DENIED: return "permission-denied";
    case VIGY_RESOURCE_EXHAUSTED: return "resource-exhausted";
    case VIGY_FAILED_PRECONDITION: return "failed-precondition";
    case VIGY_ABORTED: return "aborted";
    case VIGY_OUT_OF_RANGE: return "out-of-range";
    case VIGY_UNIMPLEMENTED: return "unimplemented";
    case VIGY_INTERNAL: return "internal";
    case VIGY_UNAVAILABLE: return "unavailable";
    default: return "unknown";
    }
}

/* An error sink, provided by the caller of a fallible function.
 *
 * The callee calls `set(ctx, msg, len)` to describe why it returns a non-OK
 * status; the message is UTF-8, need not be NUL-terminated, and is COPIED by
 * the sink before `set` returns (the callee keeps ownership of `msg`). Calling
 * `set` several times keeps the last message. The sink is valid only for the
 * duration of the call it was passed to, on the calling thread.
 * A vigy_error pointer handed to a plugin by the host is never NULL. */
typedef struct vigy_error {
    /* ---- ABI 1.0 ---- */
    uint32_t struct_size; /* sizeof(vigy_error) as built by the caller */
    uint32_t reserved;    /* 0 */
    void* ctx;
    void (*set)(void* ctx, const char* msg, size_t len);
} vigy_error;

/* The size of vigy_error in ABI 1.0 (the smallest struct_size a reader accepts). */
#define VIGY_ERROR_SIZE_1_0 VIGY_FIELD_END(vigy_error, set)

#ifdef __cplusplus
}
#endif

#endif /* VIGY_STATUS_H */
