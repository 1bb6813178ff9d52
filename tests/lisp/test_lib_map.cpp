// Hash-map natives (natives_map.cpp, reference §5.12 with deviation 4: insertion order).
#include "test_lib_support.hpp"

using namespace lisp_lib_test;

TEST_CASE("maps print and iterate in insertion order", "[lisp][maps]") {
    const std::string m = "(define m (hash-map :z 1 :a 2 \"s\" 3 1 4 1.0 5 'sym 6 () 7 #t 8))";
    CHECK(run_ok(m + "m") == "{:z 1, :a 2, \"s\" 3, 1 4, 1 5, sym 6, () 7, #t 8}");
    CHECK(run_ok(m + "(hash-map-keys m)") == "(:z :a \"s\" 1 1 sym () #t)");
    CHECK(run_ok(m + "(hash-map-values m)") == "(1 2 3 4 5 6 7 8)");
    CHECK(run_ok("(hash-map-entries (hash-map :b 1 :a 2))") == "((:b 1) (:a 2))");
    // Setting an existing key keeps its place; new keys go last; removal keeps the rest in order.
    CHECK(run_ok("(define m (hash-map :b 1 :a 2 :c 3)) (list (hash-map-set m :a 9) (hash-map-set m :d 4) "
                 "(hash-map-remove m :a))") == "({:b 1, :a 9, :c 3} {:b 1, :a 2, :c 3, :d 4} {:b 1, :c 3})");
    CHECK(run_ok("(hash-map :a 1 :b 2 :a 3)") == "{:a 3, :b 2}");
    // Large maps (indexed) keep the same order guarantees.
    CHECK(run_ok("(define big (foldl (lambda (acc i) (hash-map-set acc i (* i i))) (hash-map) (range 50)))"
                 "(define odd (foldl hash-map-remove big (range 0 50 2)))"
                 "(list (hash-map-count big) (hash-map-get big 49) (take 3 (hash-map-keys big))"
                 " (hash-map-count odd) (take 3 (hash-map-keys odd)) (hash-map-get odd 48) (hash-map-get odd 47)"
                 " (nth 3 (hash-map-values (hash-map-set big 3 :x))))") == "(50 2401 (0 1 2) 25 (1 3 5) () 2209 :x)");
}

TEST_CASE("map keys compare by kind: 1 and 1.0 differ 0.0 and -0.0 differ", "[lisp][maps]") {
    check_outputs({
        {"(define m (hash-map 1 :int 1.0 :float)) (list (hash-map-get m 1) (hash-map-get m 1.0) (hash-map-count m))",
         "(:int :float 2)"},
        {"(hash-map-count (hash-map 0.0 :pos -0.0 :neg))", "2"},
        {"(define m (hash-map :a 1 'a 2 \"a\" 3)) (list (hash-map-get m :a) (hash-map-get m 'a) (hash-map-get m "
         "\"a\"))",
         "(1 2 3)"},
        {"(hash-map-get (hash-map () 1 #f 2) ())", "1"},
    });
}

TEST_CASE("map queries and updates", "[lisp][maps]") {
    check_outputs({
        {"(define m (hash-map :a 1)) (list (hash-map? m) (hash-map? 1) (hash-map-count m) (hash-map-empty? m) "
         "(hash-map-empty? (hash-map)))",
         "(#t #f 1 #f #t)"},
        {"(define m (hash-map :a 1)) (list (hash-map-has? m :a) (hash-map-has? m :b) (hash-map-get m :b) "
         "(hash-map-get-or m :b 0) (hash-map-get-or m :a 0))",
         "(#t #f () 0 1)"},
        {"(define m (hash-map :a ())) (list (hash-map-has? m :a) (hash-map-get-or m :a 5))", "(#t ())"},
        {"(list (hash-map-remove (hash-map :a 1) :zz) (hash-map-remove (hash-map :a 1) :a))", "({:a 1} {})"},
        {"(define m (hash-map :a 1)) (list (hash-map-update m :a inc) (hash-map-update m :n (lambda (v) (list v))) m)",
         "({:a 2} {:a 1, :n (())} {:a 1})"},
        {"(hash-map-merge (hash-map :b 1 :a 2) (hash-map :d 4 :b 0) (hash-map :a -1))", "{:b 0, :a -1, :d 4}"},
        {"(list (hash-map-merge (hash-map)) (hash-map))", "({} {})"},
        {"(list (hash-map-keys (hash-map)) (type-of (hash-map-keys (hash-map))) (type-of (hash-map-entries "
         "(hash-map))))",
         "(() :list :list)"},
        {"(list (equal? (hash-map) (hash-map)) (let ((m (hash-map))) (eq? m m)))", "(#f #f)"},
    });
}

TEST_CASE("map errors: odd arguments unhashable keys non-map arguments", "[lisp][maps]") {
    check_errors({
        {"(hash-map :a)", "native-fn"},
        {"(hash-map (list 1) 2)", "native-fn"},
        {"(hash-map-set (hash-map) (hash-map) 1)", "native-fn"},
        {"(hash-map-get (hash-map) (list 1))", "native-fn"},
        {"(hash-map-has? (hash-map) inc)", "native-fn"},
        {"(hash-map-remove (hash-map) (list))", "native-fn"},
        {"(hash-map-get 5 :a)", "type-mismatch"},
        {"(hash-map-count (list))", "type-mismatch"},
        {"(hash-map-keys ())", "type-mismatch"},
        {"(hash-map-merge (hash-map) 5)", "type-mismatch"},
        {"(hash-map-update (hash-map) :a 5)", "not-callable"},
        {"(hash-map-get (hash-map))", "arity-mismatch"},
        {"(hash-map-merge)", "arity-mismatch"},
    });
}
