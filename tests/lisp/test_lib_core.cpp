// Stdlib prelude, part 10-core: combinators, sequence helpers, ranges, numeric
// predicates and plists (reference §6.2), including nil-versus-empty-list results and
// the project deviation that deep inputs such as (range 100000) work.
#include "test_lib_support.hpp"

using namespace lisp_lib_test;

TEST_CASE("combinators compose flip partially apply and tap", "[lisp][stdlib]") {
    check_outputs({
        {"(identity 7)", "7"},
        {"((const 5) 1 2 3)", "5"},
        {"((const 5))", "5"},
        {"((flip -) 1 10)", "9"},
        {"((comp inc (lambda (x) (* x 2))) 5)", "11"},
        {"((compose inc (lambda (x) (* x 2))) 5)", "11"},
        {"((compose) 5)", "5"},
        {"((pipe inc (lambda (x) (* x 2))) 5)", "12"},
        {"((pipe) 5)", "5"},
        {"((partial + 1 2) 3 4)", "10"},
        {"((partial list))", "()"},
        {"((juxt inc dec) 5)", "(6 4)"},
        {"(type-of ((juxt) 5))", ":list"},
        {"(tap (lambda (x) (display x)) 7)", "77"},
        // Printed forms show the reference's parameter names.
        {"(list compose (const 1) (flip +) (partial +) (juxt))",
         "(#<closure (. fs)> #<closure (. _)> #<closure (a b)> #<closure (. later)> #<closure (. args)>)"},
    });
}

TEST_CASE("positional accessors follow car/cdr and their errors", "[lisp][stdlib]") {
    check_outputs({
        {"(list (first (list 1 2 3)) (rest (list 1 2 3)) (rest (list 1)))", "(1 (2 3) ())"},
        {"(type-of (rest (list 1)))", ":nil"},
        {"(list (second (list 1 2 3)) (third (list 1 2 3)) (fourth (list 1 2 3 4)))", "(2 3 4)"},
        {"(list (last (list 1 2 3)) (last (list 9)))", "(3 9)"},
        {"(list (butlast (list 1 2 3)) (butlast (list 1)) (type-of (butlast (list 1))))", "((1 2) () :nil)"},
        {"(list (safe-nth 1 (list 1 2)) (safe-nth 5 (list 1 2)) (safe-nth -1 (list 1 2)) (safe-nth 0 ()))",
         "(2 () 1 ())"},
        {"(list (empty? ()) (empty? (list)) (empty? (list 1)) (not-empty? (list 1)) (not-empty? ()))",
         "(#t #t #f #t #f)"},
    });
    check_errors({
        {"(first ())", "native-fn"},
        {"(third (list 1 2))", "native-fn"},
        {"(last ())", "native-fn"},
        {"(last 5)", "type-mismatch"},
        {"(butlast (list))", "native-fn"},
        {"(second 5)", "type-mismatch"},
        {"(safe-nth :a (list 1))", "type-mismatch"},
    });
}

TEST_CASE("range counts up down and by floats and ends in nil when empty", "[lisp][stdlib]") {
    check_outputs({
        {"(range 5)", "(0 1 2 3 4)"},
        {"(range 2 5)", "(2 3 4)"},
        {"(range 2 10 3)", "(2 5 8)"},
        {"(range 10 0 -3)", "(10 7 4 1)"},
        {"(range 0 2.5)", "(0 1 2)"},
        // Repeated float addition drifts, exactly like the reference: 11 elements.
        {"(length (range 0 1 0.1))", "11"},
        {"(list (range 0) (range -3) (range 5 5) (range 5 1) (range 1 5 -1))", "(() () () () ())"},
        {"(list (type-of (range 0)) (type-of (range 1)))", "(:nil :list)"},
        // Wrong arity prints a message and gives nil instead of raising.
        {"(range)", "\"range: arity 1, 2, or 3\"\n()"},
        {"(range 1 2 3 4)", "\"range: arity 1, 2, or 3\"\n()"},
        {"(range-impl 0 3 1)", "(0 1 2)"},
        {"(error-msg \"x\")", "\"x\"\n()"},
    });
    check_errors({
        {"(range \"a\")", "type-mismatch"},
        {"(range 0 1 \"s\")", "type-mismatch"},
        {"(range 0 5 0)", "user"},
    });
}

TEST_CASE("deep inputs work: range dotimes and list builders at 100000", "[lisp][stdlib][deep]") {
    check_outputs({
        {"(length (range 100000))", "100000"},
        {"(last (range 100000))", "99999"},
        {"(define n 0) (dotimes (i 100000) (set! n (+ n i))) n", "4999950000"},
        {"(length (repeat-list 1 100000))", "100000"},
        {"(length (flatten (range 100000)))", "100000"},
        {"(length (intersperse 0 (range 100000)))", "199999"},
        {"(length (butlast (range 100000)))", "99999"},
        {"(safe-nth 99999 (range 100000))", "99999"},
        {"(length (concat (range 50000) (range 50000)))", "100000"},
        {"(length (zip (range 100000) (range 100000)))", "100000"},
        {"(plist-get (apply append (map (lambda (i) (list i (* i 2))) (range 50000))) 49999)", "99998"},
        {"(max-by identity (range 100000))", "99999"},
    });
}

TEST_CASE("list builders keep the reference's nil versus empty-list results", "[lisp][stdlib]") {
    check_outputs({
        {"(list (repeat-list :a 3) (repeat-list :a 0) (type-of (repeat-list :a 0)) (repeat-list :a 2.5))",
         "((:a :a :a) () :nil (:a :a :a))"},
        {"(list (concat (list 1) () (list 2 3)) (type-of (concat)) (type-of (concat (list))))", "((1 2 3) :nil :nil)"},
        {"(list (zip (list 1 2 3) (list :a :b)) (type-of (zip () ())))", "(((1 :a) (2 :b)) :list)"},
        {"(list (interleave (list 1 2) (list :a :b :c)) (type-of (interleave () ())))", "((1 :a 2 :b) :nil)"},
        {"(list (intersperse 0 (list 1 2 3)) (intersperse 0 (list 1)) (type-of (intersperse 0 ())))",
         "((1 0 2 0 3) (1) :nil)"},
        {"(list (flatten (list 1 (list 2 (list 3 ())) 4)) (type-of (flatten ())) (type-of (flatten (list (list)))))",
         "((1 2 3 4) :nil :nil)"},
        {"(list (distinct (list 1 2 1 (list 1) (list 1) 1.0)) (type-of (distinct ())))", "((1 2 (1) 1) :list)"},
        {"(list (max-by abs (list -5 3 5)) (min-by abs (list 2 -1 1)))", "(-5 -1)"},
        {"(list (member? (list 1) (list (list 1))) (member? 2 ()) (position 3 (list 1 2 3)) (position 9 (list 1)))",
         "(#t #f 2 -1)"},
    });
    check_errors({
        {"(flatten 5)", "type-mismatch"},
        {"(max-by abs ())", "native-fn"},
        {"(intersperse 0 5)", "type-mismatch"},
    });
}

TEST_CASE("numeric helpers and general predicates", "[lisp][stdlib]") {
    check_outputs({
        {"(list (inc 1) (dec 1) (inc 1.5))", "(2 0 2.5)"},
        {"(list (zero? 0) (zero? 0.0) (zero? 1) (positive? 1) (positive? 0) (negative? -1))", "(#t #t #f #t #f #t)"},
        {"(list (even? -2) (even? 3) (odd? -3) (odd? 2))", "(#t #f #t #f)"},
        {"(list (not= 1 2) (not= (list 1) (list 1)) (not= 1 1.0) (procedure? not=))", "(#t #f #t #t)"},
        {"(list (some? ()) (some? (list)) (some? #f))", "(#f #f #t)"},
    });
    check_errors({
        {"(inc \"a\")", "type-mismatch"},
        {"(even? 1.5)", "type-mismatch"},
    });
}

TEST_CASE("plist-get finds keys at even positions and gives nil otherwise", "[lisp][stdlib]") {
    check_outputs({
        {"(plist-get (list :a 1 :b 2) :b)", "2"},
        {"(plist-get (list :a 1 :b) :b)", "()"},
        {"(plist-get () :a)", "()"},
        {"(plist-get (list :a 1) :z)", "()"},
        {"(plist-get (list 1 :a) :a)", "()"},
        {"(plist-get (list (list 1) :x) (list 1))", ":x"},
    });
    check_errors({{"(plist-get 5 :a)", "type-mismatch"}});
}

TEST_CASE("rebinding a native the prelude uses internally does not break it", "[lisp][stdlib]") {
    // The reference's range/last/lazy-take do not call iterate, take-while, nth, some? or -,
    // so a program's own definitions of those must not change them.
    CHECK(run_ok("(define (iterate f x n) :mine) (define (take-while p xs) :mine) (define (nth i xs) :mine)"
                 "(define (some? x) #f)"
                 "(list (range 3) (range 0 1 0.5) (last (list 1 2)) (lazy-take 3 (iterate-lazy inc 0))"
                 " (realize (lazy-cons 1 (lazy-cons 2 ()))) (plist-get (list :a 1) :a) (safe-nth 1 (list 1 2))"
                 " (let ((n 0)) (dotimes (i 5) (set! n (+ n i))) n))") == "((0 1 2) (0 0.5) 2 (0 1 2) (1 2) 1 2 10)");
    CHECK(run_ok("(define (- a b) :mine) (list (range 1 4) (last (list 1 2)) (butlast (list 1 2 3)))") ==
          "((1 2 3) 2 (1 2))");
}

TEST_CASE("rebinding + changes range for everybody as in the reference", "[lisp][stdlib]") {
    CHECK(run_ok("(define + *) (range 1 10 2)") == "(1 2 4 8)");
    CHECK(run_ok("(define + *) (type-of (range 5 1))") == ":nil");
}

TEST_CASE("combinators report misuse through the calls they make", "[lisp][stdlib]") {
    check_errors({
        {"((flip -) 1)", "arity-mismatch"},
        {"((comp inc inc) 1 2)", "arity-mismatch"},
        {"((compose 5) 1)", "not-callable"},
        {"((pipe inc 5) 1)", "not-callable"},
        {"((partial 5) 1)", "not-callable"},
        {"((juxt inc 5) 1)", "not-callable"},
        {"(tap 5 1)", "not-callable"},
        {"(identity)", "arity-mismatch"},
        {"(zip 5 (list 1))", "type-mismatch"},
        {"(member? 1 5)", "type-mismatch"},
        {"(concat 5)", "type-mismatch"},
    });
}

TEST_CASE("range near the integer limits walks like the reference", "[lisp][stdlib]") {
    CHECK(run_ok("(length (range -9000000000000000000 9000000000000000000 1000000000000000000))") == "18");
    CHECK(run_ok("(range 9223372036854775805 9223372036854775807)") == "(9223372036854775805 9223372036854775806)");
    // The next element past the last one overflows: deviation 2 makes that an error.
    CHECK(run_err("(range 9223372036854775800 9223372036854775807 3)") == "integer-overflow");
}
