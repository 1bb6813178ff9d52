// Type-check natives (natives_types.cpp, reference §5.13): type-of, is? and the.
#include "test_lib_support.hpp"

using namespace lisp_lib_test;

TEST_CASE("type-of names every kind of value", "[lisp][types]") {
    check_outputs({
        {"(list (type-of 1) (type-of 1.5) (type-of ()) (type-of '()) (type-of car) (type-of (chan)))",
         "(:int :float :nil :list :procedure :foreign)"},
        {"(list (type-of #t) (type-of \"s\") (type-of 's) (type-of :k) (type-of (hash-map)) (type-of inc))",
         "(:bool :string :symbol :keyword :map :procedure)"},
        {"(list (type-of (delay 1)) (type-of (error :a \"b\")) (type-of (go inc)) (type-of nil) (type-of (quote nan)))",
         "(:promise :error :foreign :nil :float)"},
    });
}

TEST_CASE("is? matches keyword specs", "[lisp][types]") {
    check_outputs({
        {"(list (is? 1 :int) (is? 1.0 :int) (is? 1 :number) (is? 1.5 :number) (is? 1.5 :float) (is? #f :bool))",
         "(#t #f #t #t #t #t)"},
        {"(list (is? () :list) (is? () :nil) (is? (list) :nil) (is? (list) :list) (is? \"s\" :string) (is? 's :symbol) "
         "(is? :k :keyword))",
         "(#t #t #f #t #t #t #t)"},
        {"(list (is? inc :procedure) (is? car :procedure) (is? (hash-map) :map) (is? (chan) :foreign) (is? (error :a "
         "\"b\") :error) (is? (delay 1) :promise))",
         "(#t #t #t #t #t #t)"},
        {"(list (is? 1 :any) (is? () :any) (is? 1 :bogus) (is? :int :keyword))", "(#t #t #f #t)"},
    });
}

TEST_CASE("is? matches compound specs", "[lisp][types]") {
    check_outputs({
        {"(list (is? (list 1 2) (list :list-of :int)) (is? (list 1 \"a\") (list :list-of :int)) (is? () (list :list-of "
         ":int)) (is? 5 (list :list-of :int)))",
         "(#t #f #t #f)"},
        {"(is? (list (list 1) ()) '(:list-of (:list-of :int)))", "#t"},
        {"(list (is? (hash-map :a 1) '(:map-of :keyword :int)) (is? (hash-map :a \"x\") '(:map-of :keyword :int)) (is? "
         "(hash-map) '(:map-of :int :int)) (is? (list) '(:map-of :int :int)))",
         "(#t #f #t #f)"},
        {"(list (is? inc '(:fn :int -> :int)) (is? car '(:fn)) (is? 1 '(:fn)))", "(#t #t #f)"},
        {"(list (is? 1 (list :union :string :int)) (is? 1.0 '(:union :string :int)) (is? 1 '(:union)))", "(#t #f #f)"},
    });
}

TEST_CASE("malformed specs raise native-fn type-check when a value reaches them", "[lisp][types]") {
    check_errors({
        {"(is? 1 5)", "native-fn"},
        {"(is? 1 \"int\")", "native-fn"},
        {"(is? 1 ())", "native-fn"},
        {"(is? 1 (list))", "native-fn"},
        {"(is? 1 '(:list-of))", "native-fn"},
        {"(is? 1 '(:map-of :int))", "native-fn"},
        {"(is? 1 '(:wat 1))", "native-fn"},
        {"(is? 1 '(int))", "native-fn"},
        {"(is? \"s\" '(:union :int 5))", "native-fn"},
        {"(is? (list 1) '(:list-of 5))", "native-fn"},
        {"(the 5 1)", "native-fn"},
    });
    CHECK(run_ok("(try (is? 1 5) (catch (e) (error-message e)))") ==
          "\"in native `type-check`: type spec must be a keyword or list, got 5\"");
    // Specs are checked while matching: parts no value reaches may be malformed.
    CHECK(run_ok("(list (is? 1 '(:union :int 5)) (is? () '(:list-of 5)) (is? (hash-map) '(:map-of 1 2)))") ==
          "(#t #t #t)");
}

TEST_CASE("the returns its value or throws a :type-mismatch error object", "[lisp][types]") {
    check_outputs({
        {"(list (the :int 5) (the :any ()) (the '(:list-of :int) (list 1)))", "(5 () (1))"},
        {"(try (the :string 5) (catch (e) (list (error-tag e) (error-message e))))",
         "(:type-mismatch \"expected :string, got :int\")"},
        {"(try (the :int \"x\") (catch (e) (list e (error-data e) (error-data-get e :got))))",
         "(#<error :type-mismatch \"expected :int, got :string\" {:expected :int :got :string}>"
         " (:expected :int :got :string) :string)"},
        {"(try (the '(:list-of :int) (list \"a\")) (catch (e) (error-message e)))",
         "\"expected (:list-of :int), got :list\""},
    });
    CHECK(run_err("(the :int 1.5)") == "user");
    CHECK(run_err("(the :int)") == "arity-mismatch");
}

TEST_CASE("deeply nested specs and values raise stack-overflow instead of crashing", "[lisp][types][deep]") {
    // An 8 MiB evaluation stack keeps this quick (and within what ASan handles).
    tatara::limits lim = test_limits();
    lim.native_stack_bytes = 8u << 20;
    tatara::text_result r = tatara::run_source(
        "(define spec (foldl (lambda (acc x) (list :list-of acc)) :int (range 200000)))"
        "(define v (foldl (lambda (acc x) (list acc)) (list 1) (range 200000)))"
        "(is? v spec)",
        "<test>", lim);
    INFO(describe(r));
    CHECK_FALSE(r.ok);
    CHECK(r.error.kind == "stack-overflow");
    CHECK(run_ok("(define spec (foldl (lambda (acc x) (list :list-of acc)) :int (range 200000))) (is? 1 spec)") ==
          "#f");
}
