// tests/store/test_util.cpp — ids, revisions, UUIDv7, timestamps, label keys, selectors.
#include "common.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <thread>

using namespace vigy::store;

TEST_CASE("vigy ids are 16 lowercase hex, stable per name and distinct across names", "[store]") {
    const std::string a = vigy_id_for("hello");
    CHECK(a.size() == 16);
    CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(a == vigy_id_for("hello"));
    CHECK(a != vigy_id_for("hello2"));
    // SHA-256("hello") = 2cf24dba5fb0a30e...
    CHECK(a == "2cf24dba5fb0a30e");
}

TEST_CASE("revisions hash kind and config exactly", "[store]") {
    CHECK(revision_for("lisp", "{}") == revision_for("lisp", "{}"));
    CHECK(revision_for("lisp", "{}") != revision_for("lisp", "{} "));
    CHECK(revision_for("lisp", "{}") != revision_for("chain", "{}"));
    // the separator keeps ("ab","c") and ("a","bc") apart
    CHECK(revision_for("ab", "c") != revision_for("a", "bc"));
}

TEST_CASE("run ids are UUIDv7 text with version 7, RFC variant, time ordered", "[store]") {
    std::set<std::string> seen;
    std::string prev;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = new_run_id();
        REQUIRE(id.size() == 36);
        CHECK(id[8] == '-');
        CHECK(id[13] == '-');
        CHECK(id[18] == '-');
        CHECK(id[23] == '-');
        CHECK(id[14] == '7');
        CHECK(std::string("89ab").find(id[19]) != std::string::npos);
        CHECK(id.find_first_not_of("0123456789abcdef-") == std::string::npos);
        seen.insert(id);
        if (i == 999) prev = id;
    }
    CHECK(seen.size() == 1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    CHECK(new_run_id().substr(0, 13) > prev.substr(0, 13));  // the 48-bit ms prefix moves forward
}

TEST_CASE("timestamps are RFC 3339 UTC with milliseconds and round-trip", "[store]") {
    using namespace std::chrono;
    const auto tp = sys_days{year{2026} / 5 / 21} + hours{12} + minutes{0} + seconds{0} + milliseconds{123};
    CHECK(format_timestamp(tp) == "2026-05-21T12:00:00.123Z");
    CHECK(parse_timestamp("2026-05-21T12:00:00.123Z") == tp);
    const auto whole = sys_days{year{1999} / 12 / 31} + hours{23} + minutes{59} + seconds{59};
    CHECK(format_timestamp(whole) == "1999-12-31T23:59:59.000Z");
    const std::string now = now_timestamp();
    CHECK(now.size() == 24);
    CHECK(format_timestamp(parse_timestamp(now)) == now);
    for (const char* bad : {"2026-05-21T12:00:00Z", "2026-05-21 12:00:00.123Z", "2026-13-21T12:00:00.123Z",
                            "2026-05-21T12:00:00.123+00:00", ""}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_timestamp(bad), error);
    }
}

TEST_CASE("label keys are validated with the original's rules", "[store]") {
    CHECK_NOTHROW(validate_label_key("app.kubernetes.io/name"));
    CHECK_NOTHROW(validate_label_key(std::string(253, 'a')));
    CHECK_THROWS_WITH(validate_label_key(""), "invalid label key \"\": must be 1..=253 chars");
    CHECK_THROWS_WITH(validate_label_key(std::string(254, 'a')), Catch::Contains("must be 1..=253 chars"));
    CHECK_THROWS_WITH(validate_label_key("a b"), "invalid label key \"a b\": only [A-Za-z0-9-_./] allowed");
}

TEST_CASE("selectors take k=v clauses with AND semantics, malformed clauses rejected up front", "[store]") {
    const label_map labels{{"env", "prod"}, {"team", "core"}, {"empty", ""}};
    CHECK(matches_selector(labels, ""));
    CHECK(matches_selector(labels, " , "));
    CHECK(matches_selector(labels, "env=prod"));
    CHECK(matches_selector(labels, "env=prod, team=core"));
    CHECK_FALSE(matches_selector(labels, "env=prod,team=web"));
    CHECK_FALSE(matches_selector(labels, "missing=x"));
    CHECK(matches_selector(labels, "empty="));
    CHECK(matches_selector({{"k", "a=b"}}, "k=a=b"));  // split at the first '='
    CHECK_THROWS_WITH(matches_selector(labels, "env"), "invalid label selector \"env\": expected key=value");
    // malformed even when an earlier clause already fails (no lazy acceptance)
    CHECK_THROWS_AS(matches_selector(labels, "env=dev,oops"), error);
    CHECK_THROWS_AS(parse_selector("=x"), error);
    try {
        (void)parse_selector("a");
        FAIL("expected an error");
    } catch (const error& e) {
        CHECK(e.code() == error_code::invalid_argument);
    }
}

TEST_CASE("run results convert to and from text", "[store]") {
    CHECK(std::string(to_string(run_result::failed)) == "failed");
    CHECK(parse_run_result("skipped") == run_result::skipped);
    CHECK_THROWS_WITH(parse_run_result("OK"), Catch::Contains("invalid run result \"OK\""));
    CHECK(std::string(to_string(error_code::newer_schema)) == "newer_schema");
    CHECK(std::string(to_string(register_outcome::unchanged)) == "unchanged");
}
