// Core native groups: arithmetic, comparison, predicates, lists, equality, strings,
// I/O, reader, bits, gensym and structured errors (reference §5.1–§5.10).
#include <catch2/catch.hpp>

#include "core_test_util.hpp"

using lisp_test::err;
using lisp_test::ev;

TEST_CASE("arithmetic: int until a float appears exact division zero divisors", "[lisp][natives]") {
    CHECK(ev("(list (+) (+ 1 2 3) (+ 1 2.5) (+ 0.5 0.5) (- 5) (- 10 1 2) (*) (* 2 3.0))") == "(0 6 3.5 1 -5 7 1 6)");
    CHECK(ev("(list (/ 6 3) (/ 7 2) (/ 2) (/ 12 2 3) (/ 1.0 4))") == "(2 3.5 0.5 2 0.25)");
    CHECK(err("(/ 1 0)") == "division-by-zero");
    CHECK(err("(/ 1.0 0.0)") == "division-by-zero");
    CHECK(err("(/ 0)") == "division-by-zero");
    CHECK(err("(+ 1 \"a\")") == "type-mismatch");
    CHECK(err("(-)") == "arity-mismatch");
}

TEST_CASE("integer overflow raises :integer-overflow and wrapping ops wrap", "[lisp][natives]") {
    CHECK(err("(+ 9223372036854775807 1)") == "integer-overflow");
    CHECK(err("(- -9223372036854775808 1)") == "integer-overflow");
    CHECK(err("(* 9223372036854775807 2)") == "integer-overflow");
    CHECK(err("(- -9223372036854775808)") == "integer-overflow");
    CHECK(err("(abs -9223372036854775808)") == "integer-overflow");
    CHECK(err("(expt 2 63)") == "integer-overflow");
    CHECK(err("(/ -9223372036854775808 -1)") == "integer-overflow");
    CHECK(ev("(try (+ 9223372036854775807 1) (catch (e) (error-tag e)))") == ":integer-overflow");
    CHECK(ev("(list (wrapping-add 9223372036854775807 1) (wrapping-sub -9223372036854775808 1) (wrapping-mul "
             "4611686018427387904 2))") == "(-9223372036854775808 9223372036854775807 -9223372036854775808)");
    CHECK(ev("(expt 2 62)") == "4611686018427387904");
    CHECK(ev("(list (expt 2 64) (expt 2 -1) (expt 2.0 3))") == "(18446744073709552000 0.5 8)");
}

TEST_CASE("modulo abs min/max rounding transcendental gcd/lcm", "[lisp][natives]") {
    CHECK(ev("(list (modulo -7 3) (modulo 7 -3) (modulo 7 3) (modulo -9223372036854775808 -1))") == "(2 1 1 0)");
    CHECK(err("(modulo 1 0)") == "division-by-zero");
    CHECK(err("(modulo 1.5 1)") == "type-mismatch");
    CHECK(ev("(list (abs -3) (abs -2.5) (max 1 2.0) (min 3 1 2))") == "(3 2.5 2 1)");
    CHECK(ev("(list (round 2.5) (round -2.5) (floor -2.5) (ceiling 2.1) (truncate -2.7) (round 7))") ==
          "(3 -3 -3 3 -2 7)");
    CHECK(ev("(list (integer? (floor 2.5)) (floor (sqrt -1)) (floor 1e300))") == "(#t 0 9223372036854775807)");
    CHECK(ev("(list (sqrt 16) (integer? (sqrt 16)) (exp 0) (sin 0) (cos 0) (tan 0) (log 1) (log 8 2))") ==
          "(4 #f 1 0 1 0 0 3)");
    CHECK(ev("(list (gcd) (gcd 12 -18) (lcm) (lcm 4 6))") == "(0 6 1 12)");
}

TEST_CASE("comparison chains are numeric only and compare orders like kinds", "[lisp][natives]") {
    CHECK(ev("(list (= 1 1.0) (< 1 2 3) (< 1 2 3 3) (<= 1 2 2) (> 3 2 1) (>= 3 3 4))") == "(#t #t #f #t #t #f)");
    CHECK(ev("(= (/ 0.0 1) (- 0.0))") == "#t");
    CHECK(err("(< \"a\" \"b\")") == "type-mismatch");
    CHECK(ev("(list (compare 1 2) (compare 2.5 2) (compare \"b\" \"a\") (compare 'a 'a) (compare :a :b))") ==
          "(-1 1 1 0 -1)");
    CHECK(err("(compare 1 :a)") == "type-mismatch");
    CHECK(ev("(list (not= 1 2) (not= (list 1) (list 1)))") == "(#t #f)");
}

TEST_CASE("type predicates", "[lisp][natives]") {
    CHECK(ev("(list (null? ()) (null? (list)) (null? '(1)) (pair? '(1)) (pair? ()) (list? ()) (list? 1))") ==
          "(#t #t #f #t #f #t #f)");
    CHECK(ev("(list (symbol? 'a) (string? \"s\") (integer? 2.0) (number? 2.0) (boolean? #f) (keyword? :k))") ==
          "(#t #t #f #t #t #t)");
    CHECK(
        ev("(list (procedure? car) (procedure? (lambda () 1)) (foreign? 1) (atom? \"s\") (atom? '(1)) (atom? car))") ==
        "(#t #t #f #t #f #f)");
}

TEST_CASE("list natives: car/cdr copy semantics cons without pairs index-first take/drop/nth", "[lisp][natives]") {
    CHECK(ev("(list (car (list 1 2)) (cdr (list 1 2)) (cdr (list 1)))") == "(1 (2) ())");
    CHECK(err("(car (list))") == "native-fn");
    CHECK(err("(car ())") == "native-fn");
    CHECK(err("(car 1)") == "type-mismatch");
    CHECK(err("(cdr (list))") == "native-fn");
    CHECK(ev("(list (cons 1 ()) (cons 1 '(2)) (cons 1 2))") == "((1) (1 2) (1 2))");
    CHECK(ev("(let ((x (list 1 2))) (list (eq? x x) (eq? (cdr x) (cdr x))))") == "(#t #f)");
    CHECK(ev("(list (length ()) (length '(1 2)))") == "(0 2)");
    CHECK(err("(length \"abc\")") == "type-mismatch");
    CHECK(ev("(list (reverse ()) (reverse (list)) (reverse '(1 2 3)))") == "(() () (3 2 1))");
    CHECK(ev("(list (type-of (reverse ())) (type-of (reverse (list))))") == "(:nil :list)");
    CHECK(ev("(list (append) (append () ()) (append (list 1) () (list 2)))") == "(() () (1 2))");
    CHECK(ev("(type-of (append (list) (list)))") == ":nil");
    CHECK(err("(append 1)") == "type-mismatch");
    CHECK(ev("(list (take 2 '(1 2 3)) (drop 1 '(1 2 3)) (take -1 '(1)) (take 5 '(1)) (drop 9 '(1)))") ==
          "((1 2) (2 3) () (1) ())");
    CHECK(ev("(list (nth 1 '(10 20)) (nth 5 '(1)) (nth -1 '(1)))") == "(20 () ())");
}

TEST_CASE("cons onto a growing list is shared safely", "[lisp][natives]") {
    CHECK(ev("(let* ((a (cons 1 ())) (b (cons 2 a)) (c (cons 3 a))) (list a b c))") == "((1) (2 1) (3 1))");
    CHECK(ev("(define (build n acc) (if (= n 0) acc (build (- n 1) (cons n acc)))) (length (build 100000 ()))") ==
          "100000");
    CHECK(ev("(define q '(1 2)) (list (cons 0 q) (cons 9 q) q)") == "((0 1 2) (9 1 2) (1 2))");
}

TEST_CASE("eq? and equal?", "[lisp][natives]") {
    CHECK(ev("(list (eq? (list 1) (list 1)) (eq? \"ab\" \"ab\") (eq? :k :k) (eq? 1 1.0) (eq? car car))") ==
          "(#f #t #t #f #t)");
    CHECK(ev("(list (equal? '(1 (2 \"x\")) '(1 (2 \"x\"))) (equal? 1 1.0) (equal? () (list)))") == "(#t #f #f)");
    CHECK(ev("(let ((m (hash-map :a 1))) (list (equal? m m) (eq? m m)))") == "(#f #f)");
    CHECK(ev("(eq? (sqrt -1) (sqrt -1))") == "#f");
}

TEST_CASE("strings symbols and keywords", "[lisp][natives]") {
    CHECK(ev("(list (string 42) (string \"s\") (pr-str \"s\") (string :k) (string '(1 \"a\")))") ==
          R"x(("42" "s" "\"s\"" ":k" "(1 \"a\")"))x");
    CHECK(ev("(list (string-length \"héllo\") (string-append \"a\" \"b\") (string-append))") == "(5 \"ab\" \"\")");
    CHECK(err("(string-append \"a\" 1)") == "type-mismatch");
    CHECK(ev("(list (symbol->string 'ab) (keyword->string :k) (string->symbol \"a b\") (string->keyword \"z\"))") ==
          "(\"ab\" \"k\" a b :z)");
    CHECK(err("(symbol->string \"a\")") == "type-mismatch");
    CHECK(err("(keyword->string 'a)") == "type-mismatch");
}

TEST_CASE("I/O writes printed forms to the evaluation's sink", "[lisp][natives]") {
    CHECK(ev("(display \"hi\") (newline) (display 'sym) 1") == "\"hi\"\nsym1");
    CHECK(ev("(println \"a\" 1 :k) (print (list \"x\"))") == "\"a\" 1 :k\n(\"x\")\n()");
    CHECK(ev("(println)") == "\n()");
}

TEST_CASE("bit operations", "[lisp][natives]") {
    CHECK(ev("(list (bit-and) (bit-and 12 10) (bit-or) (bit-or 12 10) (bit-xor 12 10) (bit-not 0))") ==
          "(-1 8 0 14 6 -1)");
    CHECK(ev("(list (bit-shift-left 1 3) (bit-shift-left 1 65) (bit-shift-right -16 2) (bit-shift-right 1 64))") ==
          "(8 2 -4 1)");
    CHECK(err("(bit-and 1.0)") == "type-mismatch");
}

TEST_CASE("structured errors construct throw and inspect", "[lisp][natives]") {
    CHECK(ev("(try (throw (error :boom \"bad\" (list :code 7))) (catch (e) (list (error-tag e) (error-message e) "
             "(error-data-get e :code))))") == "(:boom \"bad\" 7)");
    CHECK(ev("(list (error-tag (error 'sym \"m\")) (error-tag (error \"str\" \"m\")) (error-data (error :a \"m\")))") ==
          "(:sym :str ())");
    CHECK(ev("(list (error? (ex-info \"m\")) (error-tag (ex-info \"m\" (list :a 1))) (error-data (ex-info \"m\" (list "
             ":a 1))))") == "(#t :ex-info (:a 1))");
    CHECK(err("(error :a \"m\" (list :odd))") == "native-fn");
    CHECK(err("(error 1 \"m\")") == "type-mismatch");
    CHECK(err("(error-tag 5)") == "type-mismatch");
    CHECK(ev("(error-data-get (error :a \"m\" (list :k 1)) :missing)") == "()");
    CHECK(err("(throw (ex-info \"nope\" (list :k 1)))") == "user");
    CHECK(lisp_test::run("(throw (ex-info \"nope\" (list :k 1)))").message ==
          "user error: #<error :ex-info \"nope\" {:k 1}>");
}
