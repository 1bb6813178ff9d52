// tests/store/test_util.cpp — store/src/util.cpp and codec.cpp: ids, revisions, UUIDv7,
// status names, the compact run row codecs.
#include "common.hpp"

#include "../../store/src/codec.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace vigy::store;

TEST_CASE("vigy ids are 16 lowercase hex stable per name and distinct across names", "[store]") {
    const std::string a = vigy_id_for("hello");
    CHECK(a.size() == 16);
    CHECK(a == vigy_id_for("hello"));
    CHECK(a != vigy_id_for("hello2"));
    CHECK(a == "2cf24dba5fb0a30e");  // SHA-256("hello") = 2cf24dba5fb0a30e...
}

TEST_CASE("revisions hash kind and config exactly", "[store]") {
    CHECK(revision_for("lisp", "{}") == revision_for("lisp", "{}"));
    CHECK(revision_for("lisp", "{}") != revision_for("lisp", "{} "));
    CHECK(revision_for("lisp", "{}") != revision_for("chain", "{}"));
    CHECK(revision_for("ab", "c") != revision_for("a", "bc"));
}

TEST_CASE("run ids are UUIDv7 text with version 7 and the RFC variant carrying their ms", "[store]") {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = new_run_id(1'779'364'801'000 + i);
        REQUIRE(id.size() == 36);
        CHECK(id[8] == '-');
        CHECK(id[13] == '-');
        CHECK(id[18] == '-');
        CHECK(id[23] == '-');
        CHECK(id[14] == '7');
        CHECK(std::string("89ab").find(id[19]) != std::string::npos);
        CHECK(id.find_first_not_of("0123456789abcdef-") == std::string::npos);
        seen.insert(id);
    }
    CHECK(seen.size() == 1000);
    // the 48-bit ms prefix: 1779364801000 = 0x019e_4a3b_4d68
    CHECK(new_run_id(0x019e4a3b4d68).substr(0, 13) == "019e4a3b-4d68");
    CHECK(new_run_id(2) > new_run_id(1));
    std::string reused(100, 'x');
    new_run_id(5, reused);
    CHECK(reused.size() == 36);
}

TEST_CASE("status names are the kebab-case canonical names and parse back", "[store]") {
    CHECK(std::string(vigy::status_name(VIGY_RESOURCE_EXHAUSTED)) == "resource-exhausted");
    CHECK(vigy::status_from_name("not-found") == VIGY_NOT_FOUND);
    CHECK(vigy::status_from_name("nope") == VIGY_UNKNOWN);
    const auto e = vigy::with_context(vigy::status_error(VIGY_UNAVAILABLE, "locked"), "database x");
    CHECK(e.code() == VIGY_UNAVAILABLE);
    CHECK(std::string(e.what()) == "database x: locked");
}

TEST_CASE("a run body keeps only the filled buffers and reads back whole", "[store][codec]") {
    run_record r;
    std::string body;
    codec::append_body(r, true, body);
    CHECK(body.empty());  // nothing filled: the column is NULL
    r.actions_json = R"([{"kind":"noop"}])";
    r.trace_json = R"({"a":1})";
    r.kv_writes_json = R"({"n":1})";
    r.output = "line \"1\"\nline 2";
    codec::append_body(r, true, body);
    CHECK(body == R"({"actions":[{"kind":"noop"}],"trace":{"a":1},"kv_writes":{"n":1},"output":"line \"1\"\nline 2"})");
    std::string no_kv;
    codec::append_body(r, false, no_kv);
    CHECK(no_kv.find("kv_writes") == std::string::npos);
    run_record back;
    codec::read_body(body, back);
    CHECK(back.actions_json == r.actions_json);
    CHECK(back.trace_json == r.trace_json);
    CHECK(back.kv_writes_json == r.kv_writes_json);
    CHECK(back.output == r.output);
    CHECK(back.desired_json == "{}");
    CHECK(back.log_json == "[]");
    run_record broken;
    codec::read_body("{not json", broken);
    CHECK(broken.error == "the stored run body is not valid json");
}

TEST_CASE("run ids and revisions have compact forms that round-trip", "[store][codec]") {
    const std::string id = new_run_id(123456789);
    codec::uuid u{};
    REQUIRE(codec::parse_uuid(id, u));
    std::string back;
    codec::format_uuid(u.data(), back);
    CHECK(back == id);
    CHECK_FALSE(codec::parse_uuid("0186f1a2-3b4c-7d5e-8f60-718293a4b5cZ", u));
    CHECK_FALSE(codec::parse_uuid("0186f1a23b4c7d5e8f60718293a4b5c6", u));
    std::int64_t v = 0;
    REQUIRE(codec::parse_hex64("ffffffffffffffff", v));
    CHECK(v == -1);
    std::string hex;
    codec::format_hex64(v, hex);
    CHECK(hex == "ffffffffffffffff");
    REQUIRE(codec::parse_hex64("0123456789abcdef", v));
    codec::format_hex64(v, hex);
    CHECK(hex == "0123456789abcdef");
    CHECK_FALSE(codec::parse_hex64("0123", v));
    CHECK(codec::upgrade_conditions_json(R"([{"name":"Ready","status":"true"}])") ==
          R"([{"type":"Ready","status":"True"}])");
    CHECK(codec::upgrade_conditions_json("not json") == "not json");
}
