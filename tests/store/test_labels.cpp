// tests/store/test_labels.cpp — store/src/labels.cpp: Kubernetes names, label keys and
// values, and the full label selector grammar.
#include "common.hpp"

#include <vigy/store/labels.hpp>

#include <catch2/catch.hpp>

using namespace vigy::store;
using op = selector_requirement::op;
using vigy_store_test::code_of;

TEST_CASE("vigy names are DNS subdomains", "[store][labels]") {
    for (const char* ok : {"a", "hello", "hello-0", "tear.mirror", "x1", "0abc", "a-b.c-d"})
        CHECK_NOTHROW(validate_name(ok));
    CHECK_THROWS_WITH(validate_name(""), "invalid vigy name \"\": must not be empty");
    CHECK_THROWS_WITH(validate_name("-a"),
                      "invalid vigy name \"-a\": must start and end with a lowercase letter or digit");
    CHECK_THROWS_WITH(validate_name("a_b"),
                      "invalid vigy name \"a_b\": only lowercase letters, digits, '-' and '.' are allowed");
    CHECK_THROWS_WITH(validate_name("a\nb"), Catch::StartsWith("invalid vigy name \"a\\nb\""));
    CHECK_THROWS_WITH(validate_name(std::string(254, 'a')), Catch::EndsWith("must be at most 253 characters, got 254"));
    CHECK_NOTHROW(validate_name(std::string(253, 'a')));
    CHECK(code_of([] { validate_name("A"); }) == VIGY_INVALID_ARGUMENT);
}

TEST_CASE("label keys take an optional DNS prefix and a 63-character name", "[store][labels]") {
    for (const char* ok : {"team", "app.kubernetes.io/name", "a", "Team_1", "x.y/z-1"})
        CHECK_NOTHROW(validate_label_key(ok));
    CHECK_THROWS_WITH(validate_label_key(""), "invalid label key \"\": must not be empty");
    CHECK_THROWS_WITH(validate_label_key("/x"), "invalid label key \"/x\": prefix must not be empty");
    CHECK_THROWS_WITH(validate_label_key("Pre/x"),
                      Catch::StartsWith("invalid label key \"Pre/x\": prefix only lowercase"));
    CHECK_THROWS_WITH(validate_label_key("p/"), "invalid label key \"p/\": name must not be empty");
    CHECK_THROWS_WITH(validate_label_key("a b"),
                      Catch::EndsWith("name may contain only letters, digits, '-', '_' and '.'"));
    CHECK_THROWS_WITH(validate_label_key(std::string(64, 'k')),
                      Catch::EndsWith("name must be at most 63 characters, got 64"));
    CHECK_THROWS_WITH(validate_label_key("-k"), Catch::EndsWith("name must start and end with a letter or digit"));
}

TEST_CASE("label values are empty or 63 safe characters and never hold control characters", "[store][labels]") {
    for (const char* ok : {"", "infra", "v1.2_3", "A-b"}) CHECK_NOTHROW(validate_label_value("k", ok));
    CHECK_THROWS_WITH(
        validate_label_value("k", "a,b"),
        "invalid label value \"a,b\" of key \"k\": a value may contain only letters, digits, '-', '_' and '.'");
    CHECK_THROWS_WITH(validate_label_value("k", "\x1b[2J"), Catch::StartsWith("invalid label value \"\\x1b[2J\""));
    CHECK_THROWS_WITH(validate_label_value("k", "-x"),
                      Catch::EndsWith("a value must start and end with a letter or digit"));
    CHECK(code_of([] { validate_label_value("k", std::string(64, 'v')); }) == VIGY_INVALID_ARGUMENT);
    CHECK_NOTHROW(validate_labels({{"a", "b"}, {"c", ""}}));
    CHECK_THROWS(validate_labels({{"a", "b c"}}));
}

TEST_CASE("selectors parse every Kubernetes operator", "[store][labels][selector]") {
    CHECK(parse_selector("").empty());
    CHECK(parse_selector("   ").empty());
    const auto s = parse_selector("a=b, c==d,e!=f ,g in (h, i),j notin (k),l,!m, app.io/n=");
    REQUIRE(s.requirements.size() == 8);
    CHECK(s.requirements[0] == selector_requirement{"a", op::equals, {"b"}});
    CHECK(s.requirements[1] == selector_requirement{"c", op::equals, {"d"}});
    CHECK(s.requirements[2] == selector_requirement{"e", op::not_equals, {"f"}});
    CHECK(s.requirements[3] == selector_requirement{"g", op::in, {"h", "i"}});
    CHECK(s.requirements[4] == selector_requirement{"j", op::not_in, {"k"}});
    CHECK(s.requirements[5] == selector_requirement{"l", op::exists, {}});
    CHECK(s.requirements[6] == selector_requirement{"m", op::not_exists, {}});
    CHECK(s.requirements[7] == selector_requirement{"app.io/n", op::equals, {""}});
    CHECK(s.to_string() == "a=b,c=d,e!=f,g in (h,i),j notin (k),l,!m,app.io/n=");
    CHECK(parse_selector(s.to_string()) == s);
    CHECK(parse_selector("g in(h)") == parse_selector("g in (h)"));
}

TEST_CASE("selectors match with Kubernetes semantics", "[store][labels][selector]") {
    const label_map infra{{"team", "infra"}, {"tier", "1"}};
    const label_map web{{"team", "web"}};
    const label_map none;
    auto m = [](const char* sel, const label_map& l) { return parse_selector(sel).matches(l); };
    CHECK(m("", none));
    CHECK(m("team=infra", infra));
    CHECK_FALSE(m("team=infra", web));
    CHECK(m("team!=infra", web));
    CHECK(m("team!=infra", none));  // absent counts as "not equal"
    CHECK_FALSE(m("team!=infra", infra));
    CHECK(m("team in (web,infra)", web));
    CHECK_FALSE(m("team in (web)", none));
    CHECK(m("team notin (web)", infra));
    CHECK(m("team notin (web)", none));
    CHECK(m("tier", infra));
    CHECK_FALSE(m("tier", web));
    CHECK(m("!tier", web));
    CHECK(m("team=infra,tier=1", infra));
    CHECK_FALSE(m("team=infra,tier=2", infra));
    CHECK(m("tier=", label_map{{"tier", ""}}));
}

TEST_CASE("malformed selectors are rejected up front with the column", "[store][labels][selector]") {
    CHECK_THROWS_WITH(parse_selector(",,"),
                      "invalid label selector \",,\": expected a label key, got \",\" at column 1");
    CHECK_THROWS_WITH(parse_selector("a=b,,c"), "invalid label selector \"a=b,,c\": empty requirement at column 5");
    CHECK_THROWS_WITH(parse_selector("a=b,"), "invalid label selector \"a=b,\": empty requirement at column 5");
    CHECK_THROWS_WITH(parse_selector("team in (a"),
                      "invalid label selector \"team in (a\": expected \",\" or \")\" at column 11");
    CHECK_THROWS_WITH(parse_selector("team in ()"), Catch::Contains("an empty set selects nothing"));
    CHECK_THROWS_WITH(parse_selector("team ~ x"), Catch::Contains("expected an operator (=, ==, !=, in, notin)"));
    CHECK_THROWS_WITH(parse_selector("team=a b"), Catch::Contains("expected \",\" or the end"));
    CHECK_THROWS_WITH(parse_selector("team=a,b=c d"), Catch::Contains("at column 12"));
    CHECK_THROWS_WITH(parse_selector("bad key=x"), Catch::Contains("expected an operator"));
    CHECK_THROWS_WITH(parse_selector("k=\x1b[2J"), Catch::Contains("invalid label selector \"k=\\x1b[2J\""));
    CHECK_THROWS_WITH(parse_selector("-k=v"), Catch::Contains("label key \"-k\" name must start and end"));
    CHECK_THROWS_WITH(parse_selector("k=v/w"), Catch::Contains("invalid label value \"v/w\""));
    CHECK(code_of([] { (void)parse_selector("!"); }) == VIGY_INVALID_ARGUMENT);
}
