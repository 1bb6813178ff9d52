// test_dashboard.cpp — the embedded dashboard files: lookup, content types, ETags
// derived from the bytes, and the bytes themselves equal to the committed bundle.
#include "vigy/api/dashboard.hpp"

#include <openssl/evp.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    REQUIRE(EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) == 1);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xF];
    }
    return out;
}

}  // namespace

TEST_CASE("the root and index.html are the same page", "[dashboard]") {
    const auto* root = vigy::api::dashboard_asset("/");
    const auto* index = vigy::api::dashboard_asset("/index.html");
    REQUIRE(root != nullptr);
    REQUIRE(root == index);
    CHECK(root->content_type == "text/html; charset=utf-8");
    CHECK(root->body.find("<script type=\"module\" src=\"app.js\"></script>") != std::string_view::npos);
}

TEST_CASE("every embedded file is the committed bundle byte for byte", "[dashboard]") {
    const auto files = vigy::api::dashboard_assets();
    std::set<std::string> names;
    for (const auto& f : files) {
        names.insert(std::string(f.path));
        CHECK(f.body == read_file(std::string(VIGY_DASHBOARD_DIST) + std::string(f.path)));
    }
    CHECK(names == std::set<std::string>{"/index.html", "/app.js", "/app.css", "/favicon.svg", "/licenses.txt"});
}

TEST_CASE("content types follow the file extension", "[dashboard]") {
    CHECK(vigy::api::dashboard_asset("/app.js")->content_type == "text/javascript; charset=utf-8");
    CHECK(vigy::api::dashboard_asset("/app.css")->content_type == "text/css; charset=utf-8");
    CHECK(vigy::api::dashboard_asset("/favicon.svg")->content_type == "image/svg+xml");
    CHECK(vigy::api::dashboard_asset("/licenses.txt")->content_type == "text/plain; charset=utf-8");
}

TEST_CASE("an etag is the quoted start of the sha256 of the body", "[dashboard]") {
    std::set<std::string_view> etags;
    for (const auto& f : vigy::api::dashboard_assets()) {
        INFO(f.path);
        CHECK(f.etag == "\"" + sha256_hex(f.body).substr(0, 32) + "\"");
        etags.insert(f.etag);
    }
    CHECK(etags.size() == vigy::api::dashboard_assets().size());
}

TEST_CASE("paths the dashboard does not have are not found", "[dashboard]") {
    for (const char* p : {"", "/v1/vigies", "/index", "/app.js?v=1", "/../index.html", "/./app.js", "//app.js",
                          "/APP.JS", "/app.js/", "/dist/app.js"}) {
        INFO(p);
        CHECK(vigy::api::dashboard_asset(p) == nullptr);
    }
}

TEST_CASE("the page refers only to embedded files and nothing external", "[dashboard]") {
    const std::string page(vigy::api::dashboard_asset("/")->body);
    const std::regex ref(R"re((?:src|href)="([^"#][^"]*)")re");
    int refs = 0;
    for (auto it = std::sregex_iterator(page.begin(), page.end(), ref); it != std::sregex_iterator(); ++it) {
        const std::string target = (*it)[1].str();
        INFO(target);
        CHECK(target.find("//") == std::string::npos);
        CHECK(vigy::api::dashboard_asset("/" + target) != nullptr);
        ++refs;
    }
    CHECK(refs == 3);  // favicon.svg, app.css, app.js
}

TEST_CASE("the bundle loads nothing from another origin", "[dashboard]") {
    for (const char* p : {"/app.js", "/app.css", "/index.html"}) {
        const std::string_view body = vigy::api::dashboard_asset(p)->body;
        INFO(p);
        CHECK(body.find("@import") == std::string_view::npos);
        CHECK(body.find("fonts.googleapis") == std::string_view::npos);
        CHECK(body.find("url(http") == std::string_view::npos);
    }
}

TEST_CASE("the content security policy allows only the server's own origin", "[dashboard]") {
    const std::string_view csp = vigy::api::dashboard_content_security_policy;
    CHECK(csp.find("default-src 'none'") != std::string_view::npos);
    CHECK(csp.find("script-src 'self'") != std::string_view::npos);
    CHECK(csp.find("connect-src 'self'") != std::string_view::npos);
    CHECK(csp.find("unsafe-inline") == std::string_view::npos);
    CHECK(csp.find("unsafe-eval") == std::string_view::npos);
}
