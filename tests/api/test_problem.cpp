// tests/api/test_problem.cpp — the canonical code -> HTTP status table and RFC 9457 bodies.
#include "vigy/api/problem.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <string>

using namespace vigy::api;

TEST_CASE("every canonical code maps to its HTTP status", "[api][problem]") {
    struct row {
        vigy_status code;
        status_hint hint;
        int status;
        const char* name;
    };
    const row table[] = {
        {VIGY_OK, status_hint::none, 200, "ok"},
        {VIGY_INVALID_ARGUMENT, status_hint::none, 400, "invalid-argument"},
        {VIGY_INVALID_ARGUMENT, status_hint::body_validation, 422, "invalid-argument"},
        {VIGY_INVALID_ARGUMENT, status_hint::unsupported_media_type, 415, "invalid-argument"},
        {VIGY_NOT_FOUND, status_hint::none, 404, "not-found"},
        {VIGY_ALREADY_EXISTS, status_hint::none, 409, "already-exists"},
        {VIGY_FAILED_PRECONDITION, status_hint::none, 409, "failed-precondition"},
        {VIGY_FAILED_PRECONDITION, status_hint::if_match_failed, 412, "failed-precondition"},
        {VIGY_FAILED_PRECONDITION, status_hint::cursor_expired, 410, "failed-precondition"},
        {VIGY_ABORTED, status_hint::none, 409, "aborted"},
        {VIGY_ABORTED, status_hint::if_match_failed, 412, "aborted"},
        {VIGY_OUT_OF_RANGE, status_hint::none, 400, "out-of-range"},
        {VIGY_OUT_OF_RANGE, status_hint::cursor_expired, 410, "out-of-range"},
        {VIGY_PERMISSION_DENIED, status_hint::none, 403, "permission-denied"},
        {VIGY_UNAUTHENTICATED, status_hint::none, 401, "unauthenticated"},
        {VIGY_RESOURCE_EXHAUSTED, status_hint::none, 429, "resource-exhausted"},
        {VIGY_RESOURCE_EXHAUSTED, status_hint::body_too_large, 413, "resource-exhausted"},
        {VIGY_RESOURCE_EXHAUSTED, status_hint::headers_too_large, 431, "resource-exhausted"},
        {VIGY_DEADLINE_EXCEEDED, status_hint::none, 504, "deadline-exceeded"},
        {VIGY_DEADLINE_EXCEEDED, status_hint::request_timeout, 408, "deadline-exceeded"},
        {VIGY_UNAVAILABLE, status_hint::none, 503, "unavailable"},
        {VIGY_UNIMPLEMENTED, status_hint::none, 501, "unimplemented"},
        {VIGY_CANCELLED, status_hint::none, 499, "cancelled"},
        {VIGY_INTERNAL, status_hint::none, 500, "internal"},
        {VIGY_UNKNOWN, status_hint::none, 500, "unknown"},
        {999, status_hint::none, 500, "unknown"},
    };
    for (const auto& r : table) {
        INFO("code " << r.code << " (" << r.name << ")");
        CHECK(http_status(r.code, r.hint) == r.status);
        CHECK(std::string(code_name(r.code)) == r.name);
    }
}

TEST_CASE("a hint that does not apply to the code leaves the default status", "[api][problem]") {
    CHECK(http_status(VIGY_NOT_FOUND, status_hint::body_validation) == 404);
    CHECK(http_status(VIGY_INVALID_ARGUMENT, status_hint::if_match_failed) == 400);
    CHECK(http_status(VIGY_UNAVAILABLE, status_hint::body_too_large) == 503);
    CHECK(http_status(VIGY_INTERNAL, status_hint::cursor_expired) == 500);
}

TEST_CASE("a problem renders as RFC 9457 JSON with code title status detail instance", "[api][problem]") {
    problem p = make_problem(VIGY_NOT_FOUND, "vigy \"foo\" not found");
    p.instance = "/v1/vigies/foo";
    rapidjson::Document d;
    const std::string text = problem_json(p);
    d.Parse(text.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["type"].GetString()) == "about:blank");
    CHECK(std::string(d["title"].GetString()) == "Not Found");
    CHECK(d["status"].GetInt() == 404);
    CHECK(std::string(d["code"].GetString()) == "not-found");
    CHECK(std::string(d["detail"].GetString()) == "vigy \"foo\" not found");
    CHECK(std::string(d["instance"].GetString()) == "/v1/vigies/foo");
    CHECK_FALSE(d.HasMember("errors"));
}

TEST_CASE("a validation error is 422 with field pointers", "[api][problem]") {
    const auto e = http_error::validation("2 invalid fields",
                                          {{"/tick_interval_ms", "must be >= 100"}, {"/labels/a b", "invalid key"}});
    CHECK(e.get().status == 422);
    CHECK(e.get().code == VIGY_INVALID_ARGUMENT);
    CHECK(std::string(e.what()) == "2 invalid fields");
    rapidjson::Document d;
    d.Parse(problem_json(e.get()).c_str());
    REQUIRE(d["errors"].IsArray());
    REQUIRE(d["errors"].Size() == 2);
    CHECK(std::string(d["errors"][0]["pointer"].GetString()) == "/tick_interval_ms");
    CHECK(std::string(d["errors"][1]["detail"].GetString()) == "invalid key");
    CHECK(std::string(d["title"].GetString()) == "Unprocessable Content");
}

TEST_CASE("extension members are added but cannot override the standard ones", "[api][problem]") {
    problem p = make_problem(VIGY_UNAVAILABLE, "not ready");
    p.extensions_json = R"({"checks":[{"name":"store","status":"failed"}],"status":200,"code":"ok"})";
    rapidjson::Document d;
    d.Parse(problem_json(p).c_str());
    CHECK(d["status"].GetInt() == 503);
    CHECK(std::string(d["code"].GetString()) == "unavailable");
    REQUIRE(d["checks"].IsArray());
    CHECK(std::string(d["checks"][0]["name"].GetString()) == "store");
}

TEST_CASE("problem_response carries the status headers and the problem media type", "[api][problem]") {
    problem p = make_problem(VIGY_RESOURCE_EXHAUSTED, "too many event streams");
    p.headers.set("Retry-After", "5");
    const response r = problem_response(p);
    CHECK(r.status == 429);
    CHECK(r.headers.get("content-type").value() == "application/problem+json");
    CHECK(r.headers.get("retry-after").value() == "5");
    CHECK(r.body.find("\"resource-exhausted\"") != std::string::npos);
}
