// api/src/problem.cpp — RFC 9457 problems and the canonical code -> HTTP status mapping.
#include "vigy/api/problem.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace vigy::api {

int http_status(vigy_status code, status_hint hint) noexcept {
    switch (code) {
    case VIGY_OK: return 200;
    case VIGY_INVALID_ARGUMENT:
        if (hint == status_hint::body_validation) return 422;
        if (hint == status_hint::unsupported_media_type) return 415;
        return 400;
    case VIGY_OUT_OF_RANGE: return hint == status_hint::cursor_expired ? 410 : 400;
    case VIGY_NOT_FOUND: return 404;
    case VIGY_ALREADY_EXISTS: return 409;
    case VIGY_FAILED_PRECONDITION:
        if (hint == status_hint::if_match_failed) return 412;
        if (hint == status_hint::cursor_expired) return 410;
        return 409;
    case VIGY_ABORTED: return hint == status_hint::if_match_failed ? 412 : 409;
    case VIGY_PERMISSION_DENIED: return 403;
    case VIGY_UNAUTHENTICATED: return 401;
    case VIGY_RESOURCE_EXHAUSTED:
        if (hint == status_hint::body_too_large) return 413;
        if (hint == status_hint::headers_too_large) return 431;
        return 429;
    case VIGY_DEADLINE_EXCEEDED: return hint == status_hint::request_timeout ? 408 : 504;
    case VIGY_UNAVAILABLE: return 503;
    case VIGY_UNIMPLEMENTED: return 501;
    case VIGY_CANCELLED: return 499;
    case VIGY_INTERNAL:
    case VIGY_UNKNOWN:
    default: return 500;
    }
}

const char* code_name(vigy_status code) noexcept {
    if (code == VIGY_UNAUTHENTICATED) return "unauthenticated";
    return vigy_status_name(code);
}

problem make_problem(vigy_status code, std::string detail, status_hint hint) {
    problem p;
    p.code = code;
    p.status = http_status(code, hint);
    p.detail = std::move(detail);
    return p;
}

std::string problem_json(const problem& p) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("type");
    w.String("about:blank");
    w.Key("title");
    const std::string_view title = reason_phrase(p.status);
    w.String(title.data(), static_cast<rapidjson::SizeType>(title.size()));
    w.Key("status");
    w.Int(p.status);
    w.Key("code");
    w.String(code_name(p.code));
    w.Key("detail");
    w.String(p.detail.data(), static_cast<rapidjson::SizeType>(p.detail.size()));
    if (!p.instance.empty()) {
        w.Key("instance");
        w.String(p.instance.data(), static_cast<rapidjson::SizeType>(p.instance.size()));
    }
    if (!p.errors.empty()) {
        w.Key("errors");
        w.StartArray();
        for (const auto& e : p.errors) {
            w.StartObject();
            w.Key("pointer");
            w.String(e.pointer.data(), static_cast<rapidjson::SizeType>(e.pointer.size()));
            w.Key("detail");
            w.String(e.detail.data(), static_cast<rapidjson::SizeType>(e.detail.size()));
            w.EndObject();
        }
        w.EndArray();
    }
    if (!p.extensions_json.empty()) {
        rapidjson::Document ext;
        ext.Parse(p.extensions_json.data(), p.extensions_json.size());
        if (!ext.HasParseError() && ext.IsObject()) {
            for (auto& m : ext.GetObject()) {
                const std::string_view name(m.name.GetString(), m.name.GetStringLength());
                if (name == "type" || name == "title" || name == "status" || name == "code" || name == "detail" ||
                    name == "instance" || name == "errors")
                    continue;  // the standard members cannot be overridden
                w.Key(m.name.GetString(), m.name.GetStringLength());
                m.value.Accept(w);
            }
        }
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

response problem_response(const problem& p) {
    response r;
    r.status = p.status;
    r.headers = p.headers;
    r.headers.set("Content-Type", "application/problem+json");
    r.body = problem_json(p);
    return r;
}

http_error::http_error(problem p) : std::runtime_error(p.detail), problem_(std::move(p)) {}

http_error::http_error(vigy_status code, std::string detail, status_hint hint)
    : http_error(make_problem(code, std::move(detail), hint)) {}

http_error http_error::validation(std::string detail, std::vector<field_error> errors) {
    problem p = make_problem(VIGY_INVALID_ARGUMENT, std::move(detail), status_hint::body_validation);
    p.errors = std::move(errors);
    return http_error(std::move(p));
}

}  // namespace vigy::api
