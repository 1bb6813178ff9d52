/// vigy/api/problem.hpp — errors on the wire: RFC 9457 problem details with
/// vigy's canonical codes, and the one mapping from a canonical code to an
/// HTTP status.
///
/// Every error response of the API is `application/problem+json`:
///
///     {"type": "about:blank", "title": "Not Found", "status": 404,
///      "code": "not-found", "detail": "vigy \"foo\" not found",
///      "instance": "/v1/vigies/foo",
///      "errors": [{"pointer": "/tick_interval_ms", "detail": "must be >= 100"}]}
///
/// `code` is the stable machine name (the kebab-case names of
/// vigy_status_name() in vigy/status.h); `title` is the HTTP reason phrase
/// (as RFC 9457 asks for "about:blank" problems); `detail` is the diagnostic a
/// person reads; `errors` appears only for validation failures (422) and lists
/// JSON Pointers (RFC 6901) into the request body.
///
/// A handler reports an error by throwing `http_error`; any other exception is
/// turned into a problem by the router's error translator (router.hpp), and
/// into 500 internal when nothing claims it.
#ifndef VIGY_API_PROBLEM_HPP
#define VIGY_API_PROBLEM_HPP

#include "vigy/api/http.hpp"
#include "vigy/status.h"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/// status.h has no UNAUTHENTICATED (no plugin ever needs it); the API uses
/// the canonical (gRPC) value 16 for a missing or wrong bearer token.
#ifndef VIGY_UNAUTHENTICATED
#define VIGY_UNAUTHENTICATED 16
#endif

namespace vigy::api {

/// Where a code is raised, when that refines its HTTP status. Contract 1 of the
/// wave-2 plan: invalid-argument 400 (422 for body validation, 415 for a body
/// that is not JSON), failed-precondition 409 (412 for a failed If-Match),
/// resource-exhausted 429 (413 for a body over the cap, 431 for headers over it);
/// a watch cursor older than the retention floor is 410 Gone.
enum class status_hint {
    none,
    body_validation,         ///< invalid-argument: the JSON body parsed but a field is wrong -> 422
    unsupported_media_type,  ///< invalid-argument: the body is not JSON (Content-Type) -> 415
    if_match_failed,         ///< failed-precondition/aborted: If-Match named a stale resource_version -> 412
    body_too_large,          ///< resource-exhausted: the body exceeds the server's cap -> 413
    headers_too_large,       ///< resource-exhausted: the header block exceeds the cap -> 431
    request_timeout,         ///< deadline-exceeded: the client did not send the request in time -> 408
    cursor_expired,          ///< failed-precondition/out-of-range: a watch cursor older than retention -> 410
};

/// THE mapping from a canonical code (VIGY_* of status.h) to an HTTP status:
/// ok 200, invalid-argument 400, not-found 404, already-exists 409,
/// failed-precondition 409, aborted 409, out-of-range 400, permission-denied 403,
/// unauthenticated 401 (VIGY_UNAUTHENTICATED), resource-exhausted 429,
/// deadline-exceeded 504, unavailable 503, unimplemented 501, cancelled 499,
/// internal and unknown 500; refined by `hint` as documented on status_hint
/// (a hint that does not apply to `code` is ignored). Pure; any thread.
int http_status(vigy_status code, status_hint hint = status_hint::none) noexcept;

/// The stable kebab-case name of a code ("not-found"; "unauthenticated" for 16).
const char* code_name(vigy_status code) noexcept;

/// One field-level validation failure: a JSON Pointer into the request body
/// ("" = the whole body, "/labels/app") and what is wrong with it.
struct field_error {
    std::string pointer;
    std::string detail;
};

/// An RFC 9457 problem, ready to render.
struct problem {
    vigy_status code = VIGY_INTERNAL;
    int status = 500;                 ///< the HTTP status (http_status(code, hint))
    std::string detail;               ///< lowercase diagnostic, no trailing period
    std::string instance;             ///< the request path (the server fills it when empty)
    std::vector<field_error> errors;  ///< validation failures (rendered only when non-empty)
    /// Extra headers to send with it (Allow, Retry-After, WWW-Authenticate, ...).
    header_map headers;
    /// Extension members: a JSON object text whose members are added to the
    /// problem object (e.g. {"checks":[...]} for /readyz); "" for none.
    std::string extensions_json;
};

/// A problem for `code` with its HTTP status from http_status(code, hint).
problem make_problem(vigy_status code, std::string detail, status_hint hint = status_hint::none);

/// The problem as a JSON object text (RapidJSON writer; never hand-built).
std::string problem_json(const problem& p);

/// The problem as a response: status, Content-Type application/problem+json,
/// its headers and its JSON body.
response problem_response(const problem& p);

/// What a handler throws to answer with a problem.
class http_error : public std::runtime_error {
public:
    explicit http_error(problem p);
    http_error(vigy_status code, std::string detail, status_hint hint = status_hint::none);

    /// 422 invalid-argument with field errors: `detail` summarises, `errors` point.
    static http_error validation(std::string detail, std::vector<field_error> errors);

    const problem& get() const noexcept { return problem_; }
    problem& get() noexcept { return problem_; }

private:
    problem problem_;
};

}  // namespace vigy::api

#endif  // VIGY_API_PROBLEM_HPP
