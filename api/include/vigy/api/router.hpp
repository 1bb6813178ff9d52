/// vigy/api/router.hpp — method + path routing for the API server.
///
/// Patterns are absolute paths whose segments are literals or `{param}`
/// ("/v1/vigies/{name}/runs"); a `{param}` matches exactly one non-empty
/// segment. Matching splits the raw (percent-encoded) path at '/', THEN decodes
/// each segment, so "a%2Fb" is one segment "a/b". An invalid escape ("%zz",
/// "%4") or an encoded NUL (%00) is 400 invalid-argument. Where two patterns
/// match, the one with a literal at the first differing segment wins
/// ("/v1/vigies/watch" beats "/v1/vigies/{name}").
///
/// Outcomes (rendered by the server): unknown path 404 not-found; known path,
/// wrong method 405 with `Allow`; HEAD is served by the GET handler without the
/// body; OPTIONS answers 204 with `Allow` (or a CORS preflight when configured).
///
/// Threading: build the router before handing it to a server; after that it is
/// only read (match, routes, translate), from any thread.
#ifndef VIGY_API_ROUTER_HPP
#define VIGY_API_ROUTER_HPP

#include "vigy/api/http.hpp"
#include "vigy/api/problem.hpp"

#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::api {

/// A route handler. Runs on the server's worker pool (it may block: SQLite,
/// forced ticks) unless the route says on_event_loop. It returns the response
/// or throws (http_error for a problem; anything else goes through the
/// router's error translator).
using handler = std::function<response(request&)>;

/// A route's first attempt on the event loop: the response when it can answer
/// without blocking (a cache hit), or nullopt to hand the request to the route's
/// handler on the worker pool. It must never wait (no lock that a blocking call
/// holds, no SQLite call that may wait on a lock) and should cost microseconds. An
/// exception it throws is ignored: the handler then answers.
using loop_probe = std::function<std::optional<response>(request&)>;

/// How a route is served.
struct route_options {
    /// Run the handler on the event loop instead of the worker pool. Only for
    /// handlers that never block (/livez: proving the loop answers).
    bool on_event_loop = false;
    /// Served without the bearer token when the server requires one (/livez only).
    bool public_route = false;
    /// Tried on the event loop before the handler is queued (see loop_probe).
    loop_probe probe;
};

/// One registered route, for listings (OpenAPI agreement tests, --help).
struct route_info {
    std::string method;   ///< "GET", "POST", ...
    std::string pattern;  ///< "/v1/vigies/{name}"
    route_options options;
};

/// Percent-decodes `in` into `out` (RFC 3986), and with `plus_is_space` a '+'
/// becomes ' ' (query strings). Returns false for an invalid escape or an
/// encoded NUL byte; `out` is then unspecified. Pure.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);

/// Parses a raw query string ("a=1&b=x%20y&flag"). Empty pieces are skipped.
/// Throws http_error (400 invalid-argument) naming the bad piece for an invalid
/// escape or an encoded NUL.
query_params parse_query(std::string_view raw_query);

/// The router: routes plus the error translator.
class router {
public:
    /// Translates a non-http_error exception into a problem, or declines with
    /// nullopt (then: 500 internal with the exception's message).
    using error_translator = std::function<std::optional<problem>(const std::exception&)>;

    /// Adds a route. `method` is an uppercase token ("GET"; not HEAD or
    /// OPTIONS, which the server derives). Throws std::invalid_argument for a
    /// pattern that is not absolute, has an empty or malformed segment, repeats
    /// a parameter name, or duplicates a method + pattern already added.
    router& add(std::string method, std::string pattern, handler h, route_options options = {});
    router& get(std::string pattern, handler h, route_options options = {});
    router& post(std::string pattern, handler h, route_options options = {});
    router& put(std::string pattern, handler h, route_options options = {});
    router& patch(std::string pattern, handler h, route_options options = {});
    router& del(std::string pattern, handler h, route_options options = {});

    /// What match() found.
    struct match {
        enum class outcome {
            found,               ///< `target` is set; `params` decoded
            not_found,           ///< no pattern matches the path
            method_not_allowed,  ///< some pattern matches, not with this method; see `allow`
            bad_path,            ///< the path cannot be decoded; see `detail`
        };
        outcome result = outcome::not_found;
        const handler* target = nullptr;
        route_options options;
        std::string pattern;  ///< the matched pattern (found / method_not_allowed)
        std::map<std::string, std::string, std::less<>> params;
        /// Methods the path supports, sorted, with HEAD (when GET is there) and
        /// OPTIONS: for `Allow` on 405 and OPTIONS.
        std::vector<std::string> allow;
        std::string detail;
    };

    /// Routes a request line. HEAD matches GET routes. `raw_path` is the
    /// request-target's path, still percent-encoded, without the query.
    match find(std::string_view method, std::string_view raw_path) const;

    /// Every route, in the order added.
    std::vector<route_info> routes() const;

    /// Installs the translator for exceptions that are not http_error (phase 2:
    /// the runtime's error type, carrying a canonical code). Replaces any previous one.
    void set_error_translator(error_translator t);

    /// The problem for an exception thrown by a handler: http_error's own,
    /// the translator's, or 500 internal with what() as detail.
    problem translate(const std::exception& e) const;

private:
    struct segment {
        std::string text;  ///< literal text, or the parameter name
        bool param = false;
    };
    struct entry {
        std::string method;
        std::string pattern;
        std::vector<segment> segments;
        handler h;
        route_options options;
    };
    std::vector<entry> entries_;
    error_translator translator_;
};

}  // namespace vigy::api

#endif  // VIGY_API_ROUTER_HPP
