// tests/api/test_openapi.cpp — the embedded OpenAPI document: shape, completeness,
// references, and the router/document agreement machinery.
#include "vigy/api/builtin.hpp"
#include "vigy/api/openapi.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <functional>
#include <set>

using namespace vigy::api;

namespace {

rapidjson::Document document() {
    rapidjson::Document d;
    const auto text = openapi_document();
    d.Parse(text.data(), text.size());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

response ok(request&) { return response::empty(204); }

}  // namespace

TEST_CASE("the embedded document is OpenAPI 3.1 JSON", "[api][openapi]") {
    const auto d = document();
    CHECK(std::string(d["openapi"].GetString()) == "3.1.0");
    CHECK(std::string(d["info"]["title"].GetString()) == "vigy API");
    CHECK(d["components"]["securitySchemes"].HasMember("bearerToken"));
    CHECK(openapi_document().back() == '\n');
}

TEST_CASE("the document describes every route of the HTTP API issue", "[api][openapi]") {
    const auto ops = openapi_operations(openapi_document());
    std::set<std::string> have;
    for (const auto& o : ops) {
        have.insert(o.method + " " + o.path);
        CHECK_FALSE(o.operation_id.empty());
    }
    const char* required[] = {"GET /v1/vigies",
                              "POST /v1/vigies",
                              "GET /v1/vigies/{name}",
                              "PUT /v1/vigies/{name}",
                              "PATCH /v1/vigies/{name}",
                              "DELETE /v1/vigies/{name}",
                              "GET /v1/vigies/{name}/runs",
                              "GET /v1/vigies/{name}/kv",
                              "GET /v1/vigies/{name}/conditions",
                              "GET /v1/vigies/{name}/events",
                              "GET /v1/vigies/{name}/state",
                              "GET /v1/runs/{run_id}",
                              "POST /v1/vigies/{name}/tick",
                              "POST /v1/vigies/{name}/trigger",
                              "POST /v1/vigies/{name}/enable",
                              "POST /v1/vigies/{name}/disable",
                              "POST /v1/eval",
                              "GET /v1/plugins",
                              "GET /v1/kinds",
                              "GET /v1/cluster",
                              "GET /v1/watch/runs",
                              "POST /mcp",
                              "GET /livez",
                              "GET /readyz",
                              "GET /metrics",
                              "GET /openapi.json",
                              "GET /",
                              "GET /{asset}"};
    for (const char* r : required) {
        INFO(r);
        CHECK(have.count(r) == 1);
    }
    CHECK(have.size() == std::size(required));
}

TEST_CASE("the built-in routes agree with the document", "[api][openapi]") {
    router r;
    add_builtin_routes(r, {std::make_shared<metrics_registry>(), std::make_shared<health_checks>(), {}});
    const auto cmp = compare_routes(r.routes(), openapi_operations(openapi_document()));
    CHECK(cmp.undocumented.empty());
    // everything else in the document is what `vigy serve` mounts beside the built-ins:
    // the /v1 routes, MCP and the dashboard's files
    for (const auto& u : cmp.unserved)
        CHECK((u.find(" /v1/") != std::string::npos || u == "POST /mcp" || u == "GET /" || u == "GET /{asset}"));
    const auto ops = openapi_operations(openapi_document());
    for (const auto& route : r.routes()) {
        INFO(route.pattern);
        CHECK(std::find_if(ops.begin(), ops.end(), [&](const openapi_operation& o) {
                  return o.method == route.method && o.path == route.pattern;
              }) != ops.end());
    }
}

TEST_CASE("compare_routes reports both directions", "[api][openapi]") {
    router r;
    r.get("/a", ok);
    r.post("/a", ok);
    r.get("/b/{id}", ok);
    const std::vector<openapi_operation> doc = {
        {"GET", "/a", "getA"}, {"GET", "/b/{name}", "getB"}, {"DELETE", "/c", "delC"}};
    const auto cmp = compare_routes(r.routes(), doc);
    CHECK_FALSE(cmp.agree());
    CHECK(cmp.undocumented == std::vector<std::string>{"GET /b/{id}", "POST /a"});
    CHECK(cmp.unserved == std::vector<std::string>{"DELETE /c", "GET /b/{name}"});
    CHECK(compare_routes(r.routes(), {{"GET", "/a", ""}, {"POST", "/a", ""}, {"GET", "/b/{id}", ""}}).agree());
    CHECK_THROWS_WITH(openapi_operations("[]"), Catch::Contains("not a JSON object"));
    CHECK_THROWS_WITH(openapi_operations("{}"), "OpenAPI document has no \"paths\" object");
}

TEST_CASE("every reference resolves and every component is referenced", "[api][openapi]") {
    const auto d = document();
    std::set<std::string> refs;
    std::function<void(const rapidjson::Value&)> walk = [&](const rapidjson::Value& v) {
        if (v.IsObject()) {
            for (const auto& m : v.GetObject()) {
                if (std::string(m.name.GetString()) == "$ref" && m.value.IsString()) refs.insert(m.value.GetString());
                walk(m.value);
            }
        } else if (v.IsArray()) {
            for (const auto& e : v.GetArray()) walk(e);
        }
    };
    walk(d);
    REQUIRE_FALSE(refs.empty());
    for (const auto& r : refs) {
        INFO(r);
        REQUIRE(r.rfind("#/", 0) == 0);
        const rapidjson::Value* at = &d;
        std::size_t start = 2;
        while (start <= r.size()) {
            const auto slash = r.find('/', start);
            const std::string token = r.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
            REQUIRE(at->IsObject());
            const auto it = at->FindMember(token.c_str());
            REQUIRE(it != at->MemberEnd());
            at = &it->value;
            if (slash == std::string::npos) break;
            start = slash + 1;
        }
    }
    for (const char* section : {"schemas", "parameters", "responses", "headers"}) {
        for (const auto& m : d["components"][section].GetObject()) {
            const std::string ref = std::string("#/components/") + section + "/" + m.name.GetString();
            INFO(ref);
            CHECK(refs.count(ref) == 1);
        }
    }
}

TEST_CASE("livez is documented without security and the rest behind the optional token", "[api][openapi]") {
    const auto d = document();
    const auto& livez = d["paths"]["/livez"]["get"];
    REQUIRE(livez.HasMember("security"));
    REQUIRE(livez["security"].Size() == 1);
    CHECK(livez["security"][0].ObjectEmpty());
    const auto& global = d["security"];
    REQUIRE(global.Size() == 2);
    CHECK(global[1].HasMember("bearerToken"));
}

TEST_CASE("routes_json lists method path and public flag", "[api][openapi]") {
    router r;
    route_options pub;
    pub.public_route = true;
    r.get("/livez", ok, pub);
    r.post("/v1/vigies", ok);
    CHECK(routes_json(r.routes()) ==
          R"([{"method":"GET","path":"/livez","public":true},{"method":"POST","path":"/v1/vigies","public":false}])");
}
