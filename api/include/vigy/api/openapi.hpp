/// vigy/api/openapi.hpp — the OpenAPI 3.1 document of the API, built into the
/// binary from api/openapi/vigy.openapi.json, and the machinery that keeps the
/// router and the document in agreement.
///
/// The agreement test (every documented operation is served, every served
/// route is documented) compares router::routes() with openapi_operations();
/// the response-validation test fetches GET /openapi.json and validates real
/// responses against its schemas with ajv (tests/node/lib/openapi.mjs).
///
/// Threading: pure functions over immutable data; any thread.
#ifndef VIGY_API_OPENAPI_HPP
#define VIGY_API_OPENAPI_HPP

#include "vigy/api/router.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace vigy::api {

/// The embedded document (JSON text, exactly the file's bytes). Static storage.
std::string_view openapi_document() noexcept;

/// One operation of a document.
struct openapi_operation {
    std::string method;        ///< uppercase ("GET")
    std::string path;          ///< the path template ("/v1/vigies/{name}")
    std::string operation_id;  ///< "" when the document gives none
    friend bool operator==(const openapi_operation&, const openapi_operation&) = default;
};

/// Every operation under `paths` of an OpenAPI document (sorted by path, then
/// method). Throws std::invalid_argument when `document` is not JSON or has no
/// `paths` object.
std::vector<openapi_operation> openapi_operations(std::string_view document);

/// How a router and a document differ ("GET /v1/kinds" strings, sorted).
struct route_comparison {
    std::vector<std::string> undocumented;  ///< served routes without an operation
    std::vector<std::string> unserved;      ///< documented operations without a route
    bool agree() const noexcept { return undocumented.empty() && unserved.empty(); }
};

/// Compares served routes with documented operations (method + path template;
/// parameter names must match too, since both spell them `{name}`).
route_comparison compare_routes(const std::vector<route_info>& served,
                                const std::vector<openapi_operation>& documented);

/// The routes as JSON: [{"method":"GET","path":"/livez","public":true}, ...].
std::string routes_json(const std::vector<route_info>& routes);

}  // namespace vigy::api

#endif  // VIGY_API_OPENAPI_HPP
