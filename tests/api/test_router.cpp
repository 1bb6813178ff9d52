// tests/api/test_router.cpp — route patterns, matching, percent-decoding, queries, error translation.
#include "vigy/api/router.hpp"

#include <catch2/catch.hpp>

using namespace vigy::api;
using outcome = router::match::outcome;

namespace {

response ok(request&) { return response::empty(204); }

router sample() {
    router r;
    r.get("/v1/vigies", ok);
    r.post("/v1/vigies", ok);
    r.get("/v1/vigies/{name}", ok);
    r.put("/v1/vigies/{name}", ok);
    r.del("/v1/vigies/{name}", ok);
    r.get("/v1/vigies/{name}/runs", ok);
    r.post("/v1/vigies/{name}/tick", ok);
    r.get("/v1/vigies/watch", ok);
    r.get("/v1/runs/{run_id}", ok);
    r.get("/", ok);
    return r;
}

}  // namespace

TEST_CASE("a literal path and a parameter path match with decoded parameters", "[api][router]") {
    const router r = sample();
    auto m = r.find("GET", "/v1/vigies");
    CHECK(m.result == outcome::found);
    CHECK(m.pattern == "/v1/vigies");

    m = r.find("GET", "/v1/vigies/a%2Fb%20c/runs");
    REQUIRE(m.result == outcome::found);
    CHECK(m.pattern == "/v1/vigies/{name}/runs");
    CHECK(m.params.at("name") == "a/b c");

    m = r.find("GET", "/v1/vigies/%E2%9C%93");
    REQUIRE(m.result == outcome::found);
    CHECK(m.params.at("name") == "\xE2\x9C\x93");

    CHECK(r.find("GET", "/").result == outcome::found);
}

TEST_CASE("a literal segment wins over a parameter segment", "[api][router]") {
    const router r = sample();
    auto m = r.find("GET", "/v1/vigies/watch");
    CHECK(m.pattern == "/v1/vigies/watch");
    CHECK(m.params.empty());
    // the literal route hides the parameter route's other methods for that path
    m = r.find("DELETE", "/v1/vigies/watch");
    CHECK(m.result == outcome::method_not_allowed);
    CHECK(m.allow == std::vector<std::string>{"GET", "HEAD", "OPTIONS"});
}

TEST_CASE("unknown paths are not found and a wrong method lists what is allowed", "[api][router]") {
    const router r = sample();
    CHECK(r.find("GET", "/v2/vigies").result == outcome::not_found);
    CHECK(r.find("GET", "/v1/vigies/").result == outcome::not_found);  // empty segment
    CHECK(r.find("GET", "/v1//vigies").result == outcome::not_found);
    CHECK(r.find("GET", "v1/vigies").result == outcome::not_found);
    auto m = r.find("PATCH", "/v1/vigies/x");
    CHECK(m.result == outcome::method_not_allowed);
    CHECK(m.pattern == "/v1/vigies/{name}");
    CHECK(m.allow == std::vector<std::string>{"DELETE", "GET", "HEAD", "OPTIONS", "PUT"});
    m = r.find("GET", "/v1/vigies/x/tick");
    CHECK(m.result == outcome::method_not_allowed);
    CHECK(m.allow == std::vector<std::string>{"OPTIONS", "POST"});
}

TEST_CASE("HEAD is routed to the GET handler", "[api][router]") {
    const router r = sample();
    auto m = r.find("HEAD", "/v1/runs/abc");
    CHECK(m.result == outcome::found);
    CHECK(m.params.at("run_id") == "abc");
    CHECK(r.find("HEAD", "/v1/vigies/x/tick").result == outcome::method_not_allowed);
}

TEST_CASE("invalid percent-encodings and encoded NUL are refused", "[api][router]") {
    const router r = sample();
    for (const char* bad : {"/v1/vigies/%zz", "/v1/vigies/%4", "/v1/vigies/a%", "/v1/vigies/a%00b", "/v1/vigies/%G1"}) {
        INFO(bad);
        const auto m = r.find("GET", bad);
        CHECK(m.result == outcome::bad_path);
        CHECK(m.detail.find("bad percent-encoding or an encoded NUL byte") != std::string::npos);
    }
    std::string out;
    CHECK(percent_decode("a+b%2B", out, true));
    CHECK(out == "a b+");
    CHECK(percent_decode("a+b", out, false));
    CHECK(out == "a+b");
    CHECK_FALSE(percent_decode(std::string_view("a\0b", 3), out, false));
}

TEST_CASE("queries are decoded in order with repeated keys and bare flags", "[api][router]") {
    const auto q = parse_query("limit=5&label_selector=app%3Dweb%2Ctier+in+(a%2Cb)&watch&limit=7&&x=");
    CHECK(q.get("limit").value() == "5");
    CHECK(q.all("limit") == std::vector<std::string_view>{"5", "7"});
    CHECK(q.get("label_selector").value() == "app=web,tier in (a,b)");
    CHECK(q.has("watch"));
    CHECK(q.get("watch").value().empty());
    CHECK(q.get("x").value().empty());
    CHECK_FALSE(q.has("missing"));
    CHECK(q.size() == 5);
    CHECK(parse_query("").empty());
}

TEST_CASE("a malformed query is a 400 naming the piece", "[api][router]") {
    try {
        (void)parse_query("a=1&b=%zz");
        FAIL("no error");
    } catch (const http_error& e) {
        CHECK(e.get().status == 400);
        CHECK(std::string(e.what()) ==
              "invalid query parameter \"b=%zz\": bad percent-encoding or an encoded NUL byte");
    }
    CHECK_THROWS_AS(parse_query("a=%00"), http_error);
}

TEST_CASE("bad patterns and duplicate routes are refused when added", "[api][router]") {
    router r;
    r.get("/a/{x}", ok);
    CHECK_THROWS_WITH(r.get("/a/{x}", ok), "route GET /a/{x} is already registered");
    CHECK_THROWS_WITH(r.get("a", ok), "route pattern \"a\" must start with '/'");
    CHECK_THROWS_WITH(r.get("/a//b", ok), "route pattern \"/a//b\" has an empty segment");
    CHECK_THROWS_WITH(r.get("/a/{x}/{x}", ok), "route pattern \"/a/{x}/{x}\" repeats parameter {x}");
    CHECK_THROWS_WITH(r.get("/a/{x-y}", ok), "route pattern \"/a/{x-y}\": malformed parameter segment \"{x-y}\"");
    CHECK_THROWS_WITH(r.get("/a/b%20", ok), "route pattern \"/a/b%20\": invalid literal segment \"b%20\"");
    CHECK_THROWS_WITH(r.add("HEAD", "/h", ok), "route /h: HEAD is derived by the server, not routed");
    CHECK_THROWS_WITH(r.add("get", "/h", ok), "route /h: invalid method \"get\"");
    CHECK_THROWS(r.get("/n", handler{}));
    r.post("/a/{x}", ok);  // another method on the same pattern is fine
    CHECK(r.routes().size() == 2);
}

TEST_CASE("routes lists every route in order with its options", "[api][router]") {
    router r;
    route_options live;
    live.on_event_loop = true;
    live.public_route = true;
    r.get("/livez", ok, live);
    r.post("/x", ok);
    const auto routes = r.routes();
    REQUIRE(routes.size() == 2);
    CHECK(routes[0].method == "GET");
    CHECK(routes[0].pattern == "/livez");
    CHECK(routes[0].options.public_route);
    CHECK(routes[1].method == "POST");
    CHECK_FALSE(routes[1].options.on_event_loop);
}

TEST_CASE("exceptions become problems through http_error the translator or 500", "[api][router]") {
    router r;
    const http_error he(VIGY_NOT_FOUND, "vigy \"x\" not found");
    CHECK(r.translate(he).status == 404);
    CHECK(r.translate(std::runtime_error("boom")).status == 500);
    CHECK(r.translate(std::runtime_error("boom")).detail == "boom");

    struct busy : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    r.set_error_translator([](const std::exception& e) -> std::optional<problem> {
        if (dynamic_cast<const busy*>(&e)) return make_problem(VIGY_UNAVAILABLE, e.what());
        return std::nullopt;
    });
    CHECK(r.translate(busy("database is locked")).status == 503);
    CHECK(r.translate(std::logic_error("other")).status == 500);
    CHECK(r.translate(he).status == 404);  // http_error never reaches the translator

    r.set_error_translator([](const std::exception&) -> std::optional<problem> { throw std::runtime_error("oops"); });
    const auto p = r.translate(busy("x"));
    CHECK(p.status == 500);
    CHECK(p.detail == "error translator failed: oops");
}
