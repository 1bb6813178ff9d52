// api/src/http.cpp — request/response helpers and HTTP reason phrases.
#include "vigy/api/http.hpp"

#include "vigy/api/sse.hpp"

#include <algorithm>
#include <stdexcept>

namespace vigy::api {

namespace {
char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

void header_map::add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }

void header_map::set(std::string name, std::string value) {
    erase(name);
    add(std::move(name), std::move(value));
}

void header_map::erase(std::string_view name) {
    fields_.erase(
        std::remove_if(fields_.begin(), fields_.end(), [&](const field& f) { return iequals(f.first, name); }),
        fields_.end());
}

std::optional<std::string_view> header_map::get(std::string_view name) const {
    for (const auto& f : fields_)
        if (iequals(f.first, name)) return std::string_view(f.second);
    return std::nullopt;
}

std::optional<std::string_view> query_params::get(std::string_view key) const {
    for (const auto& p : params_)
        if (p.first == key) return std::string_view(p.second);
    return std::nullopt;
}

std::vector<std::string_view> query_params::all(std::string_view key) const {
    std::vector<std::string_view> out;
    for (const auto& p : params_)
        if (p.first == key) out.emplace_back(p.second);
    return out;
}

const std::string& request::param(std::string_view name) const {
    const auto it = params.find(name);
    if (it == params.end()) throw std::out_of_range("route " + route + " has no parameter {" + std::string(name) + "}");
    return it->second;
}

response response::json(int status, std::string body) {
    response r;
    r.status = status;
    r.headers.set("Content-Type", "application/json");
    r.body = std::move(body);
    return r;
}

response response::text(int status, std::string body, std::string content_type) {
    response r;
    r.status = status;
    r.headers.set("Content-Type", std::move(content_type));
    r.body = std::move(body);
    return r;
}

response response::empty(int status) {
    response r;
    r.status = status;
    return r;
}

response response::events(std::shared_ptr<event_stream> stream) {
    if (!stream) throw std::invalid_argument("response::events: null event stream");
    response r;
    r.status = 200;
    r.stream = std::move(stream);
    return r;
}

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

}  // namespace vigy::api
