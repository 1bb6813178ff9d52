// tests/api/test_security.cpp — token files, bearer checks, the Host and Origin rules.
#include "vigy/api/security.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

using namespace vigy::api;
namespace fs = std::filesystem;

namespace {

/// A file in a private temporary directory, removed with it.
struct temp_file {
    fs::path dir;
    fs::path path;
    explicit temp_file(const std::string& content, fs::perms mode = fs::perms::owner_read | fs::perms::owner_write) {
        static std::atomic<int> n{0};
        dir = fs::temp_directory_path() / ("vigy-api-sec-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::create_directories(dir);
        path = dir / "token";
        std::ofstream(path) << content;
        fs::permissions(path, mode);
    }
    ~temp_file() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

const std::string good = "0123456789abcdef0123456789abcdef";

}  // namespace

TEST_CASE("a token file readable only by its owner gives its token", "[api][security]") {
    temp_file f(good + "\n");
    CHECK(load_token_file(f.path) == good);
    temp_file crlf(good + "\r\n");
    CHECK(load_token_file(crlf.path) == good);
    temp_file b64("dG9rZW4tdGhhdC1pcy1sb25nLWVub3VnaA==");
    CHECK(load_token_file(b64.path) == "dG9rZW4tdGhhdC1pcy1sb25nLWVub3VnaA==");
    temp_file ro(good, fs::perms::owner_read);
    CHECK(load_token_file(ro.path) == good);
}

TEST_CASE("a token file others can read is refused naming the file and its mode", "[api][security]") {
    temp_file f(good, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    const std::string p = f.path.string();
    CHECK_THROWS_WITH(load_token_file(f.path), "token file " + p +
                                                   " has mode 0644: it must be readable only by its "
                                                   "owner (chmod 600 " +
                                                   p + ")");
    temp_file g(good, fs::perms::owner_read | fs::perms::group_write);
    CHECK_THROWS_WITH(load_token_file(g.path), Catch::Contains("has mode 0420"));
}

TEST_CASE("a missing empty short or odd token file is refused with a clear message", "[api][security]") {
    CHECK_THROWS_WITH(load_token_file("/nonexistent/vigy/token"),
                      "cannot read token file /nonexistent/vigy/token: No such file or directory");
    temp_file empty("");
    CHECK_THROWS_WITH(load_token_file(empty.path), "token file " + empty.path.string() + " is empty");
    temp_file nl("\n");
    CHECK_THROWS_WITH(load_token_file(nl.path), "token file " + nl.path.string() + " is empty");
    temp_file shorter("secret");
    CHECK_THROWS_WITH(load_token_file(shorter.path), "the token in " + shorter.path.string() +
                                                         " is 6 bytes: use at least 16 (e.g. openssl rand -hex 32)");
    temp_file spaced("token with spaces inside it");
    CHECK_THROWS_WITH(load_token_file(spaced.path), Catch::Contains("has a character not allowed in a bearer token"));
    temp_file two(good + "\n" + good + "\n");
    CHECK_THROWS_WITH(load_token_file(two.path), Catch::Contains("has a character not allowed in a bearer token"));
    temp_file f(good);
    CHECK_THROWS_WITH(load_token_file(f.dir), "token file " + f.dir.string() + " is not a regular file");
}

TEST_CASE("a token file owned by another user is refused", "[api][security]") {
    temp_file f(good);
    if (::geteuid() == 0) {
        REQUIRE(::chown(f.path.c_str(), 12345, 12345) == 0);
        CHECK_THROWS_WITH(load_token_file(f.path),
                          "token file " + f.path.string() + " is owned by uid 12345, not by this user (uid 0)");
    } else {
        // not root: a file we cannot chown away; the owner rule is exercised when the suite runs as root (CI)
        CHECK(load_token_file(f.path) == good);
    }
}

TEST_CASE("bearer tokens are checked with their scheme and exact value", "[api][security]") {
    const token_verifier v(good);
    using verdict = token_verifier::verdict;
    CHECK(v.check("Bearer " + good) == verdict::ok);
    CHECK(v.check("bearer " + good) == verdict::ok);
    CHECK(v.check("Bearer " + good + " ") == verdict::ok);
    CHECK(v.check(std::nullopt) == verdict::missing);
    CHECK(v.check("Bearer " + good.substr(1)) == verdict::wrong);
    CHECK(v.check("Bearer " + good + "x") == verdict::wrong);
    CHECK(v.check("Bearer x") == verdict::wrong);
    CHECK(v.check("Basic dXNlcjpwYXNz") == verdict::malformed);
    CHECK(v.check("Bearer") == verdict::malformed);
    CHECK(v.check("Bearer ") == verdict::malformed);
    CHECK(v.check(good) == verdict::malformed);
    CHECK_THROWS_WITH(token_verifier("short"), Catch::Contains("bearer token is 5 bytes"));
}

TEST_CASE("Host must be an IP a localhost name or an allowed name", "[api][security]") {
    access_policy p;
    p.allowed_hosts = {"vigy.internal"};
    for (const char* ok :
         {"127.0.0.1", "127.0.0.1:38821", "[::1]:38821", "[::1]", "192.168.1.5:80", "10.0.0.1", "localhost",
          "LOCALHOST:38821", "localhost.", "dash.localhost:3000", "vigy.internal", "Vigy.Internal:8443"}) {
        INFO(ok);
        CHECK(host_allowed(p, ok));
    }
    for (const char* bad :
         {"evil.example", "evil.example:38821", "localhost.evil.example", "127.0.0.1.nip.io", "vigy.internal.evil", "",
          ":80", "[::1", "[zz]:1", "a b", "host:99999", "host:x", "user@localhost"}) {
        INFO(bad);
        CHECK_FALSE(host_allowed(p, bad));
    }
    const auto hp = parse_host_header("[::1]:8080");
    REQUIRE(hp);
    CHECK(hp->host == "::1");
    CHECK(hp->port.value() == 8080);
    CHECK(is_ip_literal("::ffff:127.0.0.1"));
    CHECK_FALSE(is_ip_literal("localhost"));
}

TEST_CASE("Origin must be this server's own origin or a configured CORS origin", "[api][security]") {
    access_policy p;
    CHECK(check_origin(p, std::nullopt, "127.0.0.1:38821") == origin_verdict::absent);
    CHECK(check_origin(p, "http://127.0.0.1:38821", "127.0.0.1:38821") == origin_verdict::same_origin);
    CHECK(check_origin(p, "http://LOCALHOST:38821", "localhost:38821") == origin_verdict::same_origin);
    CHECK(check_origin(p, "http://localhost", "localhost") == origin_verdict::same_origin);
    CHECK(check_origin(p, "https://vigy.example", "vigy.example") == origin_verdict::same_origin);  // TLS proxy
    CHECK(check_origin(p, "http://localhost:3000", "localhost:38821") == origin_verdict::refused);
    CHECK(check_origin(p, "http://evil.example", "127.0.0.1:38821") == origin_verdict::refused);
    CHECK(check_origin(p, "http://127.0.0.1:38821", "localhost:38821") == origin_verdict::refused);
    CHECK(check_origin(p, "null", "127.0.0.1:38821") == origin_verdict::refused);
    CHECK(check_origin(p, "file://", "127.0.0.1:38821") == origin_verdict::refused);
    CHECK(check_origin(p, "http://127.0.0.1:38821/path", "127.0.0.1:38821") == origin_verdict::refused);
    p.cors_origins = {"https://dash.example:8443", "http://localhost:3000"};
    CHECK(check_origin(p, "https://dash.example:8443", "127.0.0.1:38821") == origin_verdict::cors);
    CHECK(check_origin(p, "HTTP://localhost:3000", "127.0.0.1:38821") == origin_verdict::cors);
    CHECK(check_origin(p, "https://dash.example", "127.0.0.1:38821") == origin_verdict::refused);
}

TEST_CASE("origins normalise scheme host and default ports", "[api][security]") {
    CHECK(normalize_origin("HTTP://Example.COM:80").value() == "http://example.com");
    CHECK(normalize_origin("https://example.com:443").value() == "https://example.com");
    CHECK(normalize_origin("https://example.com:8443").value() == "https://example.com:8443");
    CHECK(normalize_origin("http://[::1]:38821").value() == "http://[::1]:38821");
    CHECK_FALSE(normalize_origin("ftp://example.com"));
    CHECK_FALSE(normalize_origin("example.com"));
    CHECK_FALSE(normalize_origin("http://"));
    CHECK_FALSE(normalize_origin("http://a@b"));
}
