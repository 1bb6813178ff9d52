/// vigy/api/builtin.hpp — the routes every vigy API server has, whatever it
/// mounts: GET /livez, GET /readyz, GET /metrics, GET /openapi.json.
///
/// /livez answers {"status":"ok"} on the event loop and is the only route
/// served without the bearer token. /readyz runs the health checks
/// (health.hpp). /metrics is the registry's exposition (text 0.0.4).
/// /openapi.json serves the embedded document (openapi.hpp) with an ETag.
#ifndef VIGY_API_BUILTIN_HPP
#define VIGY_API_BUILTIN_HPP

#include "vigy/api/health.hpp"
#include "vigy/api/metrics.hpp"
#include "vigy/api/router.hpp"

#include <memory>
#include <string_view>

namespace vigy::api {

/// What the built-in routes serve (shared with the route closures).
struct builtin_sources {
    std::shared_ptr<metrics_registry> metrics;    ///< required
    std::shared_ptr<const health_checks> health;  ///< required (may hold no check: then always ready)
    std::string_view openapi;                     ///< the document text; default: openapi_document()
};

/// Adds the four built-in routes to `r`. Throws std::invalid_argument when a
/// pointer is null or a route is already taken.
void add_builtin_routes(router& r, builtin_sources sources);

}  // namespace vigy::api

#endif  // VIGY_API_BUILTIN_HPP
