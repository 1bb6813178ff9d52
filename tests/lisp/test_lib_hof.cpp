// Higher-order natives (natives_hof.cpp, reference §5.11): results, empty-list results,
// argument errors and the reference's ordering rules (group-by keys, sort-by swaps).
#include "test_lib_support.hpp"

using namespace lisp_lib_test;

TEST_CASE("apply spreads its last argument", "[lisp][hof]") {
    check_outputs({
        {"(apply + 1 2 (list 3 4))", "10"},
        {"(list (apply + ()) (apply list 1 ()) (apply (lambda (&rest r) r) (list)))", "(0 (1) ())"},
    });
    check_errors({
        {"(apply + 1 2)", "type-mismatch"},
        {"(apply 5 (list 1))", "not-callable"},
        {"(apply (lambda (x) x) (list 1 2))", "arity-mismatch"},
        {"(apply +)", "arity-mismatch"},
    });
}

TEST_CASE("map filter remove and for-each always build lists", "[lisp][hof]") {
    check_outputs({
        {"(map + (list 1 2 3) (list 10 20))", "(11 22)"},
        {"(list (map inc ()) (type-of (map inc ())) (type-of (map + (list 1) ())))", "(() :list :list)"},
        {"(list (filter odd? (list 1 2 3)) (type-of (filter odd? (list 2))) (remove odd? (list 1 2 3)))",
         "((1 3) :list (2))"},
        {"(if (filter odd? (list 2 4)) 'yes 'no)", "yes"},
        {"(list (for-each display (list 1 2)) (for-each display ()))", "12(() ())"},
    });
    check_errors({
        {"(map inc 5)", "type-mismatch"},
        {"(map 5 (list 1))", "not-callable"},
        {"(map inc)", "arity-mismatch"},
        {"(filter odd? \"abc\")", "type-mismatch"},
        {"(for-each inc (list 1) (list 2))", "arity-mismatch"},
    });
}

TEST_CASE("folds reduce and scan-left accumulate in the documented argument order", "[lisp][hof]") {
    check_outputs({
        {"(list (foldl - 0 (list 1 2)) (foldr - 0 (list 1 2)) (foldl + 7 ()) (foldr + 7 ()))", "(-3 -1 7 7)"},
        {"(foldr cons () (list 1 2 3))", "(1 2 3)"},
        {"(list (reduce + (list 1 2 3)) (reduce + 10 (list 1 2 3)) (reduce + (list 5)) (reduce + 5 ()))", "(6 16 5 5)"},
        {"(list (scan-left + 0 (list 1 2 3)) (scan-left + 0 ()))", "((0 1 3 6) (0))"},
    });
    check_errors({
        {"(reduce + ())", "native-fn"},
        {"(reduce + (list))", "native-fn"},
        {"(foldl + 0 5)", "type-mismatch"},
        {"(reduce + 1 2 3)", "arity-mismatch"},
    });
}

TEST_CASE("searches return elements indices predicate results and booleans", "[lisp][hof]") {
    check_outputs({
        {"(list (find even? (list 1 3)) (find even? (list 1 4 6)) (find-index even? (list 1 2)) (find-index even? ()))",
         "(() 4 1 -1)"},
        {"(list (some even? (list 1 2)) (some (lambda (x) (and (even? x) (* x 10))) (list 1 2)) (some even? ()))",
         "(#t 20 ())"},
        {"(list (any? odd? (list 2 3)) (any? odd? ()) (every? odd? (list 1 3)) (every? odd? (list 1 2)) (every? odd? "
         "()))",
         "(#t #f #t #f #t)"},
        {"(list (count-if odd? (list 1 2 3)) (count-if odd? ()))", "(2 0)"},
    });
    check_errors({{"(find 1 (list 1))", "not-callable"}, {"(count-if odd? 5)", "type-mismatch"}});
}

TEST_CASE("take-while drop-while and partition split lists", "[lisp][hof]") {
    check_outputs({
        {"(list (take-while odd? (list 1 3 2 5)) (drop-while odd? (list 1 3 2 5)))", "((1 3) (2 5))"},
        {"(list (type-of (take-while odd? ())) (type-of (drop-while odd? (list 1))))", "(:list :list)"},
        {"(list (partition odd? (list 1 2 3)) (partition odd? ()))", "(((1 3) (2)) (() ()))"},
    });
}

TEST_CASE("group-by keys are strings naming the key's kind in first-seen order", "[lisp][hof]") {
    check_outputs({
        {"(group-by even? (list 1 2 3))", "((\":bool false\" (1 3)) (\":bool true\" (2)))"},
        {"(group-by identity (list \"a\" 'b :c 1 1.5 () (list 1) 1.0 1))",
         "((\"a\" (\"a\")) (\":sym b\" (b)) (\":kw c\" (:c)) (\":int 1\" (1 1)) (\":float 1.5\" (1.5))"
         " (\":nil\" (())) (\":(1)\" ((1))) (\":float 1\" (1)))"},
        {"(type-of (group-by identity ()))", ":list"},
    });
}

TEST_CASE("sort-by swaps neighbours when the comparator says so", "[lisp][hof]") {
    check_outputs({
        {"(list (sort-by < (list 3 1 2)) (sort-by > (list 3 1 2)) (sort-by compare (list \"b\" \"a\" \"c\")))",
         "((3 2 1) (1 2 3) (\"a\" \"b\" \"c\"))"},
        // Stable: equal keys keep their input order.
        {"(sort-by (lambda (a b) (compare (car a) (car b))) (list (list 2 :x) (list 1 :y) (list 2 :z) (list 1 :w)))",
         "((1 :y) (1 :w) (2 :x) (2 :z))"},
        {"(list (sort-by < ()) (type-of (sort-by < ())) (sort-by (lambda (a b) #f) (list 3 1)))", "(() :list (3 1))"},
        {"(length (sort-by compare (reverse (range 300))))", "300"},
    });
    check_errors({
        {"(sort-by (lambda (a b) \"x\") (list 1 2))", "type-mismatch"},
        {"(sort-by compare (list 1 :a))", "type-mismatch"},
    });
}

TEST_CASE("iterate and repeatedly build n elements and force runs a promise once", "[lisp][hof]") {
    check_outputs({
        {"(list (iterate inc 0 4) (repeatedly (lambda () 7) 2))", "((0 1 2 3) (7 7))"},
        {"(list (iterate inc 0 0) (type-of (iterate inc 0 0)) (type-of (repeatedly (lambda () 1) 0)))",
         "(() :list :list)"},
        // f runs after every element, the last one included (reference behaviour).
        {"(define n 0) (list (iterate (lambda (x) (set! n (+ n 1)) x) 0 3) n)", "((0 0 0) 3)"},
        {"(define p (delay (begin (display \"once \") 7))) (list (force p) (force p) p)",
         "\"once \"(7 7 #<promise 7>)"},
        {"(list (force 5) (promise? (delay 1)) (promise? 1) (delay 1))", "(5 #t #f #<promise pending>)"},
        {"(length (iterate inc 0 100000))", "100000"},
    });
    check_errors({
        {"(iterate inc 0 -1)", "native-fn"},
        {"(iterate inc 0 1.5)", "type-mismatch"},
        {"(repeatedly (lambda () 1) \"2\")", "type-mismatch"},
        {"(repeatedly (lambda () 1) -2)", "native-fn"},
        {"(repeatedly (lambda (x) 1) 2)", "arity-mismatch"},
    });
}

TEST_CASE("procedures called by higher-order natives count towards the depth limit", "[lisp][hof][deep]") {
    // Non-tail recursion through map is bounded by the depth counter, not the C++ stack.
    CHECK(run_err("(define (down n) (if (= n 0) (list) (map (lambda (x) x) (cons n (down (- n 1)))))) (down 50000)") ==
          "stack-overflow");
    CHECK(run_err("(define (f x) (car (map f (list x)))) (f 1)") == "stack-overflow");
}

TEST_CASE("group-by prints deeply nested keys without exhausting the stack", "[lisp][hof][deep]") {
    CHECK(run_ok("(define v (foldl (lambda (acc x) (list acc)) (list 1) (range 200000)))"
                 "(length (group-by (lambda (x) v) (list 1 2)))") == "1");
}
