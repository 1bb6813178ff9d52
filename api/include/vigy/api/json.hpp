/// vigy/api/json.hpp — JSON for the API, on RapidJSON: reading request bodies
/// with clear errors, writing values, and JSON merge patch (RFC 7396).
///
/// Reading is strict: UTF-8 is validated, nesting deeper than max_json_depth is
/// refused before parsing (so no input can exhaust the stack of the recursive
/// writers and walkers), and trailing garbage is an error. Every failure is an
/// http_error 400 invalid-argument whose detail says where ("malformed JSON at
/// offset 12: missing a comma or '}' after an object member").
///
/// Threading: pure functions; any thread.
#ifndef VIGY_API_JSON_HPP
#define VIGY_API_JSON_HPP

#include "vigy/api/http.hpp"

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace vigy::api {

/// Deepest nesting of arrays/objects a request body may have.
inline constexpr std::size_t max_json_depth = 64;

/// Parses `text` as one JSON value. Throws http_error 400 invalid-argument
/// ("malformed JSON at offset N: ...", "invalid UTF-8 in JSON at offset N",
/// "JSON nested deeper than 64 levels at offset N", "empty JSON body").
rapidjson::Document parse_json(std::string_view text);

/// parse_json(r.body) after checking the Content-Type: it must be
/// application/json, application/merge-patch+json or another `+json` type
/// (parameters such as charset=utf-8 allowed) — else http_error 415
/// ("Content-Type text/plain is not JSON: send application/json"). A missing
/// Content-Type is treated as JSON (curl -d sends form encoding, which is refused).
rapidjson::Document parse_json_body(const request& r);

/// Compact JSON text of a value.
std::string to_json(const rapidjson::Value& v);

/// A JSON Pointer token (RFC 6901 §4): "~" -> "~0", "/" -> "~1".
std::string json_pointer_token(std::string_view key);

/// JSON merge patch (RFC 7396 §2): the result of applying `patch` to `target`.
/// A non-object patch replaces the target; an object patch merges member-wise,
/// `null` deleting a member. Neither argument is modified. Pure.
rapidjson::Document merge_patch(const rapidjson::Value& target, const rapidjson::Value& patch);

/// merge_patch over JSON texts (parsed with parse_json); returns compact JSON.
std::string merge_patch(std::string_view target_json, std::string_view patch_json);

}  // namespace vigy::api

#endif  // VIGY_API_JSON_HPP
