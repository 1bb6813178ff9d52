// tests/api/test_listen.cpp — parsing --listen values.
#include "vigy/api/server.hpp"

#include <catch2/catch.hpp>

using namespace vigy::api;
using kind = listen_address::kind;

TEST_CASE("listen addresses parse as host port or a unix socket path", "[api][listen]") {
    auto a = parse_listen_address("127.0.0.1:38821");
    CHECK(a.type == kind::tcp);
    CHECK(a.host == "127.0.0.1");
    CHECK(a.port == 38821);
    CHECK(a.text == "127.0.0.1:38821");
    a = parse_listen_address("[::1]:0");
    CHECK(a.host == "::1");
    CHECK(a.port == 0);
    a = parse_listen_address("localhost:8080");
    CHECK(a.host == "localhost");
    a = parse_listen_address("0.0.0.0:65535");
    CHECK(a.port == 65535);
    a = parse_listen_address("unix:/run/vigy/api.sock");
    CHECK(a.type == kind::unix_socket);
    CHECK(a.path == "/run/vigy/api.sock");
    a = parse_listen_address("unix:relative.sock");
    CHECK(a.path == "relative.sock");
}

TEST_CASE("a bad listen address is refused with a message naming it", "[api][listen]") {
    CHECK_THROWS_WITH(parse_listen_address(":80"),
                      "invalid listen address \":80\": give a host, e.g. 127.0.0.1:80 (loopback) or 0.0.0.0:80 "
                      "(every interface)");
    CHECK_THROWS_WITH(
        parse_listen_address("127.0.0.1"),
        "invalid listen address \"127.0.0.1\": expected HOST:PORT (e.g. 127.0.0.1:38821), unix:/path or none");
    CHECK_THROWS_WITH(parse_listen_address("127.0.0.1:65536"),
                      "invalid listen address \"127.0.0.1:65536\": port 65536 is above 65535");
    CHECK_THROWS_WITH(parse_listen_address("127.0.0.1:http"),
                      "invalid listen address \"127.0.0.1:http\": port must be 0..65535");
    CHECK_THROWS_WITH(parse_listen_address("127.0.0.1:"),
                      "invalid listen address \"127.0.0.1:\": port must be 0..65535");
    CHECK_THROWS_WITH(parse_listen_address("::1:80"),
                      "invalid listen address \"::1:80\": put an IPv6 address in brackets, e.g. [::1]:38821");
    CHECK_THROWS_WITH(parse_listen_address("[::1]80"),
                      "invalid listen address \"[::1]80\": expected [IPv6]:PORT, e.g. [::1]:38821");
    CHECK_THROWS_WITH(parse_listen_address("unix:"),
                      "invalid listen address \"unix:\": give a socket path, e.g. unix:/run/vigy/api.sock");
    CHECK_THROWS_WITH(parse_listen_address("unix:/" + std::string(120, 'x')),
                      Catch::Contains("the socket path is 121 bytes, at most 107 fit in sun_path"));
    CHECK_THROWS_WITH(parse_listen_address("a b:1"),
                      "invalid listen address \"a b:1\": invalid character in host \"a b\"");
}

TEST_CASE("repeated listen values none and the default", "[api][listen]") {
    auto v = parse_listen_addresses({});
    REQUIRE(v.size() == 1);
    CHECK(v[0].text == "127.0.0.1:38821");
    CHECK(parse_listen_addresses({"none"}).empty());
    v = parse_listen_addresses({"127.0.0.1:1", "unix:/tmp/a.sock"});
    CHECK(v.size() == 2);
    CHECK_THROWS_WITH(parse_listen_addresses({"none", "127.0.0.1:1"}),
                      "--listen none means no API listener: it cannot be combined with 127.0.0.1:1");
    CHECK_THROWS_WITH(parse_listen_addresses({"127.0.0.1:1", "127.0.0.1:1"}),
                      "listen address \"127.0.0.1:1\" given twice");
}
