// Embedder API: error kinds and diagnostics, --each values, intrinsics with host context,
// output sinks and building/inspecting values.
#include <catch2/catch.hpp>

#include <sstream>

#include "core_test_util.hpp"

using lisp_test::err;
using lisp_test::ev;
using lisp_test::run;

TEST_CASE("every error kind surfaces with its tag", "[lisp][errors]") {
    CHECK(err("undefined-thing") == "unbound-symbol");
    CHECK(err("((lambda (x) x))") == "arity-mismatch");
    CHECK(err("(car 5)") == "type-mismatch");
    CHECK(err("(/ 1 0)") == "division-by-zero");
    CHECK(err("(5 1)") == "not-callable");
    CHECK(err("(if)") == "bad-special-form");
    CHECK(err("(car (list))") == "native-fn");
    CHECK(err("(read-string \")\")") == "reader");
    CHECK(err("(throw 1)") == "user");
    CHECK(err("(+ 9223372036854775807 1)") == "integer-overflow");
    CHECK(err("(define (f) (+ 1 (f))) (f)") == "stack-overflow");
}

TEST_CASE("caught runtime errors carry the reference's tag and message", "[lisp][errors]") {
    auto caught = [](const std::string& e) {
        return ev("(try " + e + " (catch (e) (list (error-tag e) (error-message e))))");
    };
    CHECK(caught("(undefined-thing)") == "(:unbound-symbol \"unbound symbol `undefined-thing`\")");
    CHECK(caught("(car (list))") == "(:native-fn \"in native `car`: car of empty list\")");
    CHECK(caught("(5 1)") == "(:not-callable \"value of type int is not callable\")");
    CHECK(caught("(/ 1 0)") == "(:division-by-zero \"division by zero\")");
    CHECK(caught("(+ 1 :a)") == "(:type-mismatch \"type mismatch: expected number, got keyword\")");
    CHECK(caught("(car 1 2)") == "(:arity-mismatch \"`car` expected Exact(1), got 2\")");
    CHECK(caught("(quote)") == "(:bad-special-form \"bad `quote`: expected 1 arg, got 0\")");
}

TEST_CASE("diagnostics say source:line:col: message (in form)", "[lisp][errors]") {
    auto o = run("(define x 1)\n\n  (foo 1)");
    CHECK(o.formatted == "prog.tatara:3:4: unbound symbol: foo (in (foo 1))");
    auto t = run("(display 1)\n(+ 1 (car 5))");
    CHECK(t.formatted == "prog.tatara:2:6: type mismatch: expected pair, got int (in (car 5))");
    CHECK(t.text == "1");
    auto a = run("(define (f x) x)\n(f)");
    CHECK(a.formatted == "prog.tatara:2:1: arity mismatch in <closure>: expected Exact(1), got 0 (in (f))");
}

TEST_CASE("errors inside stdlib code are reported at the user's form", "[lisp][errors]") {
    auto o = run("(third (list 1 2))");
    CHECK_FALSE(o.ok);
    CHECK(o.formatted.rfind("prog.tatara:1:1: ", 0) == 0);
}

TEST_CASE("keep_each returns every top-level value", "[lisp][embed]") {
    auto c = tatara::compile("1 (define x 2) (+ x 1)", "p");
    REQUIRE(c.prog);
    tatara::evaluator e;
    tatara::eval_options o;
    o.keep_each = true;
    auto r = e.run(*c.prog, o);
    REQUIRE(r.ok);
    REQUIRE(r.each.size() == 3);
    CHECK(tatara::to_display_string(r.each[0]) == "1");
    CHECK(r.each[1].is_nil());
    CHECK(r.each[2].as_int() == 3);
}

namespace {

struct tick {
    int64_t id;
    int calls = 0;
};

tatara::value intrinsic_tick_id(void* user, std::span<const tatara::value> args, tatara::eval_ctx& ctx) {
    auto* t = static_cast<tick*>(ctx.host_ctx());
    auto* scale = static_cast<int64_t*>(user);
    ++t->calls;
    int64_t add = args.empty() ? 0 : tatara::arg_int(args, 0);
    return tatara::value::integer(t->id * *scale + add);
}

tatara::value intrinsic_condition(void*, std::span<const tatara::value> args, tatara::eval_ctx& ctx) {
    std::string_view name = tatara::arg_string(args, 0);
    if (name.empty()) tatara::raise_native("vigy-condition", "empty name");
    tatara::value kv[] = {ctx.make_keyword("name"), args[0], ctx.make_keyword("reason"),
                          args.size() > 1 && !args[1].is_nil() ? args[1] : ctx.make_string("none")};
    return ctx.make_map(kv);
}

}  // namespace

TEST_CASE("intrinsics are resolved like natives and receive the host context", "[lisp][embed]") {
    int64_t scale = 10;
    std::vector<tatara::intrinsic> in = {{"tick-id", 0, 1, intrinsic_tick_id, &scale},
                                         {"vigy-condition", 1, 2, intrinsic_condition, nullptr}};
    auto c = tatara::compile("(list (tick-id) (tick-id 2) (vigy-condition \"Healthy\" nil) (map tick-id (list 1)))",
                             "p", in);
    REQUIRE(c.prog);
    tatara::evaluator e;
    for (int64_t id = 1; id <= 2; ++id) {
        tick t{id};
        tatara::eval_options o;
        o.host_ctx = &t;
        auto r = e.run(*c.prog, o);
        REQUIRE(r.ok);
        std::ostringstream want;
        want << "(" << id * 10 << " " << id * 10 + 2 << " {:name \"Healthy\", :reason \"none\"} (" << id * 10 + 1
             << "))";
        CHECK(tatara::to_display_string(r.result) == want.str());
        CHECK(t.calls == 3);
    }
    auto bad = tatara::compile("(tick-id 1 2)", "p", in);
    CHECK(e.run(*bad.prog).error.kind == "arity-mismatch");
    auto raised = tatara::compile("(try (vigy-condition \"\") (catch (e) (error-message e)))", "p", in);
    CHECK(tatara::to_display_string(e.run(*raised.prog).result) == "\"in native `vigy-condition`: empty name\"");
    auto plain = tatara::compile("(tick-id)", "p");
    CHECK(e.run(*plain.prog).error.kind == "unbound-symbol");
}

TEST_CASE("output goes to the sink given per evaluation", "[lisp][embed]") {
    auto c = tatara::compile("(display \"a\") (println 1 2) 3", "p");
    tatara::evaluator e;
    tatara::string_sink s1, s2;
    tatara::eval_options o;
    o.out = &s1;
    e.run(*c.prog, o);
    o.out = &s2;
    e.run(*c.prog, o);
    CHECK(s1.text() == "\"a\"1 2\n");
    CHECK(s2.text() == s1.text());
}

TEST_CASE("values can be built and inspected through the context", "[lisp][embed]") {
    tatara::evaluator e;
    auto c = tatara::compile("nil", "p");
    e.run(*c.prog);
    auto& ctx = e.ctx();
    tatara::value items[] = {tatara::value::integer(1), tatara::value::real(2.5), ctx.make_string("s"),
                             ctx.make_symbol("sym"),    ctx.make_keyword("kw"),   tatara::value::boolean(true),
                             tatara::value::nil()};
    tatara::value l = ctx.make_list(items);
    CHECK(tatara::to_display_string(l) == "(1 2.5 \"s\" sym :kw #t ())");
    CHECK(l.items().size() == 7);
    CHECK(l.items()[2].text() == "s");
    tatara::value kv[] = {ctx.make_keyword("a"), tatara::value::integer(1), ctx.make_keyword("b"), l};
    tatara::value m = ctx.make_map(kv);
    CHECK(tatara::to_display_string(m) == "{:a 1, :b (1 2.5 \"s\" sym :kw #t ())}");
    CHECK(tatara::map_find(m.as_map(), ctx.make_keyword("a"))->as_int() == 1);
    CHECK(tatara::map_find(m.as_map(), ctx.make_keyword("zz")) == nullptr);
    tatara::value m2 = ctx.map_set(m, ctx.make_keyword("c"), tatara::value::integer(3));
    CHECK(tatara::to_display_string(m2) == "{:a 1, :b (1 2.5 \"s\" sym :kw #t ()), :c 3}");
    CHECK(tatara::to_display_string(ctx.map_remove(m2, ctx.make_keyword("a"))) ==
          "{:b (1 2.5 \"s\" sym :kw #t ()), :c 3}");
    CHECK(tatara::to_display_string(ctx.make_list({})) == "()");
    CHECK(ctx.make_list({}).is_list());
}

TEST_CASE("large maps keep insertion order and find every key", "[lisp][embed]") {
    CHECK(ev("(define (fill m i) (if (= i 100) m (fill (hash-map-set m i (* i i)) (+ i 1)))) "
             "(define m (fill (hash-map) 0)) (list (hash-map-get m 57) (hash-map-count m) (car (hash-map-keys m)))") ==
          "(3249 100 0)");
}
