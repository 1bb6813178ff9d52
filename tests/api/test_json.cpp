// tests/api/test_json.cpp — strict JSON reading and JSON merge patch (RFC 7396).
#include "vigy/api/json.hpp"
#include "vigy/api/problem.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace vigy::api;

namespace {

rapidjson::Document doc(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.c_str());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

std::string error_of(const std::string& text) {
    try {
        (void)parse_json(text);
    } catch (const http_error& e) {
        CHECK(e.get().status == 400);
        CHECK(e.get().code == VIGY_INVALID_ARGUMENT);
        return e.what();
    }
    FAIL("parsed without error: " << text);
    return {};
}

}  // namespace

TEST_CASE("JSON merge patch gives every result of RFC 7396 appendix A", "[api][json]") {
    const char* cases[][3] = {
        {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
        {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
        {R"({"a":"b"})", R"({"a":null})", R"({})"},
        {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
        {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
        {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
        {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
        {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
        {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
        {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
        {R"({"a":"foo"})", R"(null)", R"(null)"},
        {R"({"a":"foo"})", R"("bar")", R"("bar")"},
        {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
        {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
        {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
    };
    for (const auto& c : cases) {
        INFO("target " << c[0] << " patch " << c[1]);
        const auto result = merge_patch(doc(c[0]), doc(c[1]));
        CHECK(result == doc(c[2]));
        CHECK(doc(merge_patch(std::string_view(c[0]), std::string_view(c[1]))) == doc(c[2]));
    }
}

TEST_CASE("JSON merge patch gives the RFC 7396 section 3 example and leaves its inputs alone", "[api][json]") {
    const auto target = doc(R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},
        "tags":["example","sample"],"content":"This will be unchanged"})");
    const auto patch = doc(R"({"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},
        "tags":["example"]})");
    const auto before_target = to_json(target);
    const auto before_patch = to_json(patch);
    const auto result = merge_patch(target, patch);
    CHECK(result == doc(R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],
        "content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})"));
    CHECK(to_json(target) == before_target);
    CHECK(to_json(patch) == before_patch);
}

TEST_CASE("malformed JSON is a 400 with the offset and what is wrong", "[api][json]") {
    CHECK(error_of(R"({"a":1 "b":2})") == "malformed JSON at offset 7: missing a comma or '}' after an object member");
    CHECK(error_of("[1,2") == "malformed JSON at offset 4: missing a comma or ']' after an array element");
    CHECK(error_of("{} x") == "malformed JSON at offset 3: the document root must not be followed by other values");
    CHECK(error_of("") == "empty JSON body: expected a JSON value");
    CHECK(error_of("  \n") == "empty JSON body: expected a JSON value");
    CHECK(error_of("\"a\xff\"") == "invalid UTF-8 in JSON at offset 2");
    CHECK(error_of(R"({"a":1,"a":2})") == "malformed JSON: member \"a\" appears twice in the object at \"\"");
    CHECK(error_of(R"({"x":[{"k/~":{"b":1,"b":1}}]})") ==
          "malformed JSON: member \"b\" appears twice in the object at \"/x/0/k~1~0\"");
}

TEST_CASE("JSON nested deeper than the limit is refused before parsing", "[api][json]") {
    const std::string ok = std::string(max_json_depth, '[') + std::string(max_json_depth, ']');
    CHECK(parse_json(ok).IsArray());
    const std::string deep = std::string(max_json_depth + 1, '[') + std::string(max_json_depth + 1, ']');
    CHECK(error_of(deep) == "JSON nested deeper than 64 levels at offset 64");
    // a megabyte of brackets: refused fast, no stack overflow anywhere
    CHECK_THROWS_AS(parse_json(std::string(1 << 20, '[')), http_error);
    // brackets inside strings do not count
    CHECK(parse_json("\"" + std::string(1000, '[') + "\"").IsString());
}

TEST_CASE("a body with a non-JSON content type is 415", "[api][json]") {
    request r;
    r.body = R"({"a":1})";
    CHECK(parse_json_body(r).IsObject());  // no Content-Type: treated as JSON
    for (const char* ok : {"application/json", "application/json; charset=utf-8", "Application/JSON",
                           "application/merge-patch+json", "application/problem+json "}) {
        r.headers.set("Content-Type", ok);
        CHECK(parse_json_body(r).IsObject());
    }
    for (const char* bad :
         {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json+json"}) {
        INFO(bad);
        r.headers.set("Content-Type", bad);
        try {
            (void)parse_json_body(r);
            FAIL("accepted");
        } catch (const http_error& e) {
            CHECK(e.get().status == 415);
            CHECK(std::string(e.what()).find("is not JSON: send application/json") != std::string::npos);
        }
    }
}

TEST_CASE("JSON pointer tokens escape tilde and slash", "[api][json]") {
    CHECK(json_pointer_token("a/b~c") == "a~1b~0c");
    CHECK(json_pointer_token("plain") == "plain");
    CHECK(json_pointer_token("").empty());
}
