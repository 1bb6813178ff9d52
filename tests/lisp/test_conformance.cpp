// Conformance: runs every case of tests/lisp/conformance/lisp-cases.json (the reference
// implementation's observed behaviour plus this project's deviations) through a fresh
// evaluation with the full stdlib, one DYNAMIC_SECTION per case id.
//
// The file is $VIGY_CONFORMANCE_FILE if set, else the repository's copy (the path the
// build bakes in). A missing or empty file fails the test.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tatara/tatara.hpp"

namespace {

struct conformance_case {
    int id = 0;
    std::string area;
    std::string program;
    bool expect_error = false;
    std::string expected_stdout;  ///< when !expect_error
    std::string expected_error;   ///< catch tag, when expect_error
};

std::vector<std::string> candidate_paths() {
    std::vector<std::string> paths;
    if (const char* env = std::getenv("VIGY_CONFORMANCE_FILE"); env && *env) paths.emplace_back(env);
    paths.emplace_back(VIGY_CONFORMANCE_FILE);
    return paths;
}

std::string read_cases_file() {
    for (const std::string& p : candidate_paths()) {
        std::ifstream in(p, std::ios::binary);
        if (!in) continue;
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    return {};
}

std::vector<conformance_case> load_cases() {
    std::string text = read_cases_file();
    REQUIRE_FALSE(text.empty());
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc.IsObject());
    REQUIRE(doc.HasMember("cases"));
    const auto& arr = doc["cases"];
    REQUIRE(arr.IsArray());
    std::vector<conformance_case> out;
    for (const auto& c : arr.GetArray()) {
        conformance_case k;
        REQUIRE(c["id"].IsInt());
        k.id = c["id"].GetInt();
        if (c.HasMember("area") && c["area"].IsString()) k.area = c["area"].GetString();
        REQUIRE(c["program"].IsString());
        k.program.assign(c["program"].GetString(), c["program"].GetStringLength());
        const auto& err = c["error"];
        if (err.IsString()) {
            k.expect_error = true;
            k.expected_error = err.GetString();
        } else {
            REQUIRE(c["stdout"].IsString());
            k.expected_stdout.assign(c["stdout"].GetString(), c["stdout"].GetStringLength());
        }
        out.push_back(std::move(k));
    }
    return out;
}

}  // namespace

TEST_CASE("conformance file is found and every case is well formed", "[lisp][conformance]") {
    auto cases = load_cases();
    REQUIRE(cases.size() >= 90);
    std::set<int> ids;
    for (const auto& c : cases) CHECK(ids.insert(c.id).second);
}

TEST_CASE("every conformance case matches the reference output or error kind", "[lisp][conformance]") {
    auto cases = load_cases();
    for (const auto& c : cases) {
        DYNAMIC_SECTION("case " << c.id << " (" << c.area << ")") {
            INFO("program: " << c.program);
            tatara::text_result r = tatara::run_source(c.program, "<case " + std::to_string(c.id) + ">");
            if (c.expect_error) {
                INFO("expected error kind " << c.expected_error);
                INFO("got: " << (r.ok ? "success: " + r.output + r.value_text
                                      : "[" + r.error.kind + "] " + r.error.formatted()));
                CHECK_FALSE(r.ok);
                CHECK(r.error.kind == c.expected_error);
            } else {
                INFO("error: " << (r.ok ? std::string("none") : "[" + r.error.kind + "] " + r.error.formatted()));
                CHECK(r.ok);
                CHECK(r.output + r.value_text == c.expected_stdout);
            }
        }
    }
}
