// api/src/builtin.cpp — /livez, /readyz, /metrics, /openapi.json.
#include "vigy/api/builtin.hpp"

#include "vigy/api/openapi.hpp"
#include "vigy/api/problem.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <functional>
#include <stdexcept>

namespace vigy::api {

namespace {

std::string checks_json(const std::vector<health_checks::result>& results, bool with_status_member, bool ready) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    if (with_status_member) {
        w.Key("status");
        w.String(ready ? "ready" : "unready");
    }
    w.Key("checks");
    w.StartArray();
    for (const auto& r : results) {
        w.StartObject();
        w.Key("name");
        w.String(r.name.data(), static_cast<rapidjson::SizeType>(r.name.size()));
        w.Key("status");
        w.String(r.ok ? "ok" : "failed");
        if (!r.ok) {
            w.Key("reason");
            w.String(r.reason.data(), static_cast<rapidjson::SizeType>(r.reason.size()));
        }
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

/// A strong ETag for a static document: a 64-bit FNV-1a of its bytes.
std::string etag_of(std::string_view text) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    static const char* hex = "0123456789abcdef";
    std::string tag = "\"";
    for (int i = 60; i >= 0; i -= 4) tag += hex[(h >> i) & 15];
    tag += '"';
    return tag;
}

bool if_none_match_hits(std::optional<std::string_view> header, std::string_view etag) {
    if (!header) return false;
    std::string_view v = *header;
    while (!v.empty()) {
        const std::size_t comma = v.find(',');
        std::string_view item = v.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.substr(0, 2) == "W/") item.remove_prefix(2);
        if (item == "*" || item == etag) return true;
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

void add_builtin_routes(router& r, builtin_sources sources) {
    if (!sources.metrics) throw std::invalid_argument("built-in routes need a metrics registry");
    if (!sources.health) throw std::invalid_argument("built-in routes need the health checks");
    if (sources.openapi.empty()) sources.openapi = openapi_document();

    route_options live;
    live.on_event_loop = true;
    live.public_route = true;
    r.get(
        "/livez", [](request&) { return response::json(200, R"({"status":"ok"})"); }, live);

    r.get("/readyz", [health = sources.health](request& req) {
        const auto results = health->run();
        std::string failed;
        for (const auto& c : results)
            if (!c.ok) failed += (failed.empty() ? "" : "; ") + c.name + ": " + c.reason;
        if (failed.empty()) return response::json(200, checks_json(results, true, true));
        problem p = make_problem(VIGY_UNAVAILABLE, "not ready: " + failed);
        p.extensions_json = checks_json(results, false, false);
        p.instance = req.path;
        return problem_response(p);
    });

    r.get("/metrics", [metrics = sources.metrics](request&) {
        response res = response::text(200, metrics->expose(), std::string(metrics_content_type));
        res.headers.set("Cache-Control", "no-store");
        return res;
    });

    r.get("/openapi.json", [doc = sources.openapi, etag = etag_of(sources.openapi)](request& req) {
        response res;
        if (if_none_match_hits(req.header("If-None-Match"), etag)) {
            res = response::empty(304);
        } else {
            res = response::json(200, std::string(doc));
        }
        res.headers.set("ETag", etag);
        res.headers.set("Cache-Control", "no-cache");
        return res;
    });
}

}  // namespace vigy::api
