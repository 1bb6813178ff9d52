/// vigy/api/http.hpp — the request and response types route handlers see.
///
/// Plain C++ (no Beast or Asio here): the server (server.hpp) parses HTTP/1.1
/// with Boost.Beast in one translation unit and hands handlers an `api::request`;
/// a handler returns an `api::response` (a status, headers and a body, or an
/// event stream). Header names compare case-insensitively. Bodies are bytes
/// (std::string), at most server_options::max_body_bytes.
///
/// Threading: a request is owned by the one handler call it is passed to; a
/// response is moved back to the server. Neither is shared between threads.
#ifndef VIGY_API_HTTP_HPP
#define VIGY_API_HTTP_HPP

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigy::api {

class event_stream;

/// ASCII case-insensitive equality (header names, methods, tokens).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// An ordered list of header fields; names compare case-insensitively.
class header_map {
public:
    using field = std::pair<std::string, std::string>;

    /// Appends a field (a repeated name keeps every value, in order).
    void add(std::string name, std::string value);
    /// Replaces every field named `name` by one field.
    void set(std::string name, std::string value);
    /// Removes every field named `name`.
    void erase(std::string_view name);
    /// The first value of `name`, if present.
    std::optional<std::string_view> get(std::string_view name) const;
    bool contains(std::string_view name) const { return get(name).has_value(); }

    std::vector<field>::const_iterator begin() const noexcept { return fields_.begin(); }
    std::vector<field>::const_iterator end() const noexcept { return fields_.end(); }
    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }

private:
    std::vector<field> fields_;
};

/// Decoded query parameters in the order they appear ("a=1&b=x%20y&c").
/// A key without '=' has the value "". Repeated keys keep every value.
class query_params {
public:
    using param = std::pair<std::string, std::string>;

    void add(std::string key, std::string value) { params_.emplace_back(std::move(key), std::move(value)); }
    /// The first value of `key`, if present.
    std::optional<std::string_view> get(std::string_view key) const;
    /// Every value of `key`, in order.
    std::vector<std::string_view> all(std::string_view key) const;
    bool has(std::string_view key) const { return get(key).has_value(); }

    std::vector<param>::const_iterator begin() const noexcept { return params_.begin(); }
    std::vector<param>::const_iterator end() const noexcept { return params_.end(); }
    std::size_t size() const noexcept { return params_.size(); }
    bool empty() const noexcept { return params_.empty(); }

private:
    std::vector<param> params_;
};

/// One HTTP request, as a handler sees it.
struct request {
    /// The method as sent ("GET", "POST", ...). A HEAD request reaches the GET
    /// handler with method "HEAD" (the server drops the body it returns).
    std::string method;
    std::string target;     ///< the raw request-target ("/v1/vigies/a%2Fb?limit=5")
    std::string path;       ///< its path, still percent-encoded ("/v1/vigies/a%2Fb")
    std::string raw_query;  ///< its query without '?', still encoded ("limit=5")
    query_params query;     ///< the decoded query
    /// Decoded `{param}` segments of the matched route ("name" -> "a/b").
    std::map<std::string, std::string, std::less<>> params;
    header_map headers;
    std::string body;
    std::string route;      ///< the matched route pattern ("/v1/vigies/{name}")
    std::string peer;       ///< "127.0.0.1:51234", "[::1]:51234" or "unix"
    unsigned version = 11;  ///< HTTP version: 10 or 11

    /// The decoded value of the route's `{name}` segment. Throws
    /// std::out_of_range when the route has no such parameter (a bug in the handler).
    const std::string& param(std::string_view name) const;
    /// The first value of header `name`, if present.
    std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
};

/// What a handler returns: a complete response, or an event stream (SSE).
///
/// The server adds Content-Length, Date, and (when configured) CORS headers;
/// a handler sets Content-Type, ETag, Location, Retry-After and the like.
struct response {
    int status = 200;
    header_map headers;
    std::string body;
    /// Non-null: the response is a Server-Sent Events stream (status 200,
    /// text/event-stream); `body` is ignored. See sse.hpp.
    std::shared_ptr<event_stream> stream;

    /// `body` as application/json (a serialized JSON value, e.g. from json.hpp's to_json).
    static response json(int status, std::string body);
    /// `body` with the given content type (default text/plain; charset=utf-8).
    static response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
    /// No body (204 No Content by default; also 304).
    static response empty(int status = 204);
    /// An event stream; the server answers 200 text/event-stream and writes the
    /// stream's events until it is closed. See sse.hpp.
    static response events(std::shared_ptr<event_stream> stream);
};

/// The standard reason phrase of an HTTP status ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status) noexcept;

}  // namespace vigy::api

#endif  // VIGY_API_HTTP_HPP
