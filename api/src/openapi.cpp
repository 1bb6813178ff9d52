// api/src/openapi.cpp — the embedded OpenAPI document and route/document agreement.
#include "vigy/api/openapi.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace vigy::api {

namespace detail {
// Generated at build time from api/openapi/vigy.openapi.json (api/cmake/embed.cmake).
extern const char openapi_json[];
extern const std::size_t openapi_json_size;
}  // namespace detail

std::string_view openapi_document() noexcept { return {detail::openapi_json, detail::openapi_json_size}; }

std::vector<openapi_operation> openapi_operations(std::string_view document) {
    rapidjson::Document d;
    d.Parse(document.data(), document.size());
    if (d.HasParseError() || !d.IsObject())
        throw std::invalid_argument("OpenAPI document is not a JSON object (parse error at offset " +
                                    std::to_string(d.GetErrorOffset()) + ")");
    const auto paths = d.FindMember("paths");
    if (paths == d.MemberEnd() || !paths->value.IsObject())
        throw std::invalid_argument("OpenAPI document has no \"paths\" object");
    static const char* const methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
    std::vector<openapi_operation> out;
    for (const auto& p : paths->value.GetObject()) {
        if (!p.value.IsObject()) continue;
        for (const char* m : methods) {
            const auto op = p.value.FindMember(m);
            if (op == p.value.MemberEnd() || !op->value.IsObject()) continue;
            openapi_operation o;
            o.path.assign(p.name.GetString(), p.name.GetStringLength());
            for (const char* c = m; *c; ++c) o.method += static_cast<char>(*c - 'a' + 'A');
            const auto id = op->value.FindMember("operationId");
            if (id != op->value.MemberEnd() && id->value.IsString())
                o.operation_id.assign(id->value.GetString(), id->value.GetStringLength());
            out.push_back(std::move(o));
        }
    }
    std::sort(out.begin(), out.end(), [](const openapi_operation& a, const openapi_operation& b) {
        return a.path != b.path ? a.path < b.path : a.method < b.method;
    });
    return out;
}

route_comparison compare_routes(const std::vector<route_info>& served,
                                const std::vector<openapi_operation>& documented) {
    std::set<std::string> s, d;
    for (const auto& r : served) s.insert(r.method + " " + r.pattern);
    for (const auto& o : documented) d.insert(o.method + " " + o.path);
    route_comparison c;
    std::set_difference(s.begin(), s.end(), d.begin(), d.end(), std::back_inserter(c.undocumented));
    std::set_difference(d.begin(), d.end(), s.begin(), s.end(), std::back_inserter(c.unserved));
    return c;
}

std::string routes_json(const std::vector<route_info>& routes) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& r : routes) {
        w.StartObject();
        w.Key("method");
        w.String(r.method.data(), static_cast<rapidjson::SizeType>(r.method.size()));
        w.Key("path");
        w.String(r.pattern.data(), static_cast<rapidjson::SizeType>(r.pattern.size()));
        w.Key("public");
        w.Bool(r.options.public_route);
        w.EndObject();
    }
    w.EndArray();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace vigy::api
