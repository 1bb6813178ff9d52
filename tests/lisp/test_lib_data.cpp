// Stdlib prelude, part 30-data: records, lazy sequences, hash-map helpers, count,
// unwrap-or and memoize (reference §6.2). Maps print in insertion order (deviation 4).
#include "test_lib_support.hpp"

using namespace lisp_lib_test;

TEST_CASE("define-record builds tagged maps with accessors setters and a predicate", "[lisp][stdlib][record]") {
    const std::string setup = "(define-record point (x y)) (define p (make-point 1 2))";
    CHECK(run_ok(setup + "p") == "{:tatara-record-type :point, :x 1, :y 2}");
    CHECK(run_ok(setup + "(list (point? p) (point? 5) (point? (hash-map :x 1)) (point-x p) (point-y p))") ==
          "(#t #f #f 1 2)");
    CHECK(run_ok(setup + "(list (point-set-x p 10) (point-x p) (point->map p))") ==
          "({:tatara-record-type :point, :x 10, :y 2} 1 {:tatara-record-type :point, :x 1, :y 2})");
    CHECK(run_ok("(define-record unit ()) (list (make-unit) (unit? (make-unit)))") ==
          "({:tatara-record-type :unit} #t)");
    CHECK(run_ok("(list (record-field-accessor 'point 'x) (record-field-setter 'point 'x) (record-keyword 'x))") ==
          "(point-x point-set-x :x)");
    CHECK(run_err(setup + "(make-point 1)") == "arity-mismatch");
    CHECK(run_err(setup + "(point-x 5)") == "type-mismatch");
    CHECK(run_err("(define-record broken)") == "native-fn");
}

TEST_CASE("lazy sequences realise on demand and force every rest once in order", "[lisp][stdlib][lazy]") {
    check_outputs({
        {"(define nat (iterate-lazy inc 0)) (list (lazy-take 5 nat) (lazy-take 0 nat) (lazy-take 3 ()))",
         "((0 1 2 3 4) () ())"},
        {"(define nat (iterate-lazy inc 0)) (type-of (lazy-take 0 nat))", ":nil"},
        {"(define nat (iterate-lazy inc 0)) (list (lazy-head (lazy-drop 10 nat)) (lazy-drop 3 ()) (lazy-head "
         "(lazy-drop -1 nat)))",
         "(10 () 0)"},
        {"(define nat (iterate-lazy inc 0)) (lazy-take 3 (lazy-map (lambda (x) (* x x)) nat))", "(0 1 4)"},
        {"(define nat (iterate-lazy inc 0)) (lazy-take 4 (lazy-filter even? nat))", "(0 2 4 6)"},
        {"(list (lazy-take 7 (cycle (list 1 2 3))) (cycle ()) (lazy-take 3 (repeat-lazy :z)))",
         "((1 2 3 1 2 3 1) () (:z :z :z))"},
        {"(list (lazy-empty) (lazy-empty? ()) (lazy-empty? (lazy-cons 1 ())) (lazy-head (lazy-cons 1 ())) (lazy-rest "
         "(lazy-cons 1 ())))",
         "(() #t #f 1 ())"},
        {"(lazy-take 2 (cycle-impl (list 1 2) (list 2)))", "(2 1)"},
        {"(define (from xs) (if (null? xs) () (lazy-cons (car xs) (from (cdr xs)))))"
         "(list (realize (from (list 1 2 3))) (realize ()) (lazy-take 10 (from (list 1 2))) (lazy-map inc ()))",
         "((1 2 3) () (1 2) ())"},
        {"(define nat (iterate-lazy inc 0)) (lazy-take 2.5 nat)", "(0 1 2)"},
    });
    // lazy-take n forces the rest of each of the n cells it takes (like the reference).
    const std::string noisy =
        "(define s (lazy-cons 1 (begin (println \"forced 2\") (lazy-cons 2 (begin (println \"forced 3\") ())))))";
    CHECK(run_ok(noisy + "(lazy-take 1 s)") == "\"forced 2\"\n(1)");
    CHECK(run_ok(noisy + "(lazy-take 1 s) (lazy-take 2 s)") == "\"forced 2\"\n\"forced 3\"\n(1 2)");
    CHECK(run_ok(noisy + "(list (realize s) (realize s))") == "\"forced 2\"\n\"forced 3\"\n((1 2) (1 2))");
    CHECK(run_err("(lazy-take :a (repeat-lazy 1))") == "type-mismatch");
}

TEST_CASE("lazy sequences stay shallow and linear for long inputs", "[lisp][stdlib][lazy][deep]") {
    check_outputs({
        {"(length (lazy-take 100000 (iterate-lazy inc 0)))", "100000"},
        {"(lazy-head (lazy-drop 100000 (iterate-lazy inc 0)))", "100000"},
        {"(define (from xs) (if (null? xs) () (lazy-cons (car xs) (from (cdr xs)))))"
         "(length (realize (lazy-map inc (from (range 20000)))))",
         "20000"},
        {"(length (lazy-take 50000 (lazy-filter odd? (iterate-lazy inc 0))))", "50000"},
    });
}

TEST_CASE("map helpers get set and update nested maps in insertion order", "[lisp][stdlib][maps]") {
    const std::string m = "(define m (hash-map :a 1 :b (hash-map :c 2)))";
    CHECK(run_ok(m + "(list (assoc m :z 0) (dissoc m :a) (get m :a) (get m :q))") ==
          "({:a 1, :b {:c 2}, :z 0} {:b {:c 2}} 1 ())");
    CHECK(run_ok(m + "(list (get-in m (list :b :c)) (get-in m (list :x :y)) (get-in m ()) (get-in () (list :a)))") ==
          "(2 () {:a 1, :b {:c 2}} ())");
    CHECK(run_ok(m + "(list (assoc-in m (list :b :d) 3) (assoc-in () (list :a) 1) (assoc-in m () 5))") ==
          "({:a 1, :b {:c 2, :d 3}} {:a 1} 5)");
    CHECK(run_ok(m + "(assoc-in m (list :n :o :p) 1)") == "{:a 1, :b {:c 2}, :n {:o {:p 1}}}");
    CHECK(run_ok(m + "(list (update-in m (list :a) inc) (update-in m (list :b :c) (lambda (v) (* v 10))))") ==
          "({:a 2, :b {:c 2}} {:a 1, :b {:c 20}})");
    CHECK(run_ok(m + "(update-in m (list :new) (lambda (v) (list v)))") == "{:a 1, :b {:c 2}, :new (())}");
    CHECK(run_err("(assoc-in () (list :a :b) 1)") == "type-mismatch");
    CHECK(run_err("(get 5 :a)") == "type-mismatch");
    CHECK(run_err("(assoc (hash-map) (list 1) 2)") == "native-fn");
}

TEST_CASE("frequencies grouping and map builders keep first-seen order", "[lisp][stdlib][maps]") {
    check_outputs({
        {"(frequencies (list :b :a :b \"s\" 1 1.0))", "{:b 2, :a 1, \"s\" 1, 1 1, 1 1}"},
        {"(frequencies ())", "{}"},
        {"(group-by-into-map even? (list 1 2 3 4))", "{#f (1 3), #t (2 4)}"},
        {"(list (into-hash-map (list (list :a 1) (list :b 2))) (into-hash-map (list :a 1 :b 2)) (into-hash-map ()))",
         "({:a 1, :b 2} {:a 1, :b 2} {})"},
        {"(select-keys (hash-map :a 1 :b 2 :c 3) (list :c :zz :a))", "{:c 3, :a 1}"},
        {"(zipmap (list :x :y :z) (list 1 2))", "{:x 1, :y 2}"},
    });
    check_errors({
        {"(frequencies (list (list 1)))", "native-fn"},
        {"(into-hash-map (list :a))", "native-fn"},
    });
}

TEST_CASE("count measures lists maps and strings and returns an error object otherwise", "[lisp][stdlib][maps]") {
    check_outputs({
        {"(list (count (list 1 2)) (count ()) (count (list)) (count (hash-map :a 1)) (count \"h\xC3\xA9llo\"))",
         "(2 0 0 1 5)"},
        {"(count 5)", "#<error :count \"not countable\">"},
        {"(error? (count :k))", "#t"},
        {"(list (unwrap-or () 1) (unwrap-or #f 1) (unwrap-or 0 1) (unwrap-or (list) 1))", "(1 #f 0 1)"},
    });
}

TEST_CASE("memoize caches results by printed argument list", "[lisp][stdlib][maps]") {
    CHECK(run_ok("(define calls 0) (define sq (memoize (lambda (x) (set! calls (+ calls 1)) (* x x))))"
                 "(list (sq 4) (sq 4) (sq 5) (sq 4) calls)") == "(16 16 25 16 2)");
    CHECK(run_ok("(define calls 0) (define f (memoize (lambda (&rest xs) (set! calls (+ calls 1)) (length xs))))"
                 "(list (f) (f) (f (list 1)) (f (list 1)) (f \"1\") calls)") == "(0 0 1 1 1 3)");
}

TEST_CASE("data helpers report misuse through the calls they make", "[lisp][stdlib]") {
    check_errors({
        {"(realize 5)", "type-mismatch"},
        {"(lazy-head 5)", "type-mismatch"},
        {"(lazy-map inc 5)", "type-mismatch"},
        {"(lazy-take 2 (lazy-cons 1 (car ())))", "native-fn"},
        {"(get-in 5 (list :a))", "type-mismatch"},
        {"(select-keys 5 (list :a))", "type-mismatch"},
        {"(zipmap 5 ())", "type-mismatch"},
        {"((memoize 5) 1)", "not-callable"},
        {"(group-by-into-map 5 (list 1))", "not-callable"},
        {"(record-keyword 5)", "type-mismatch"},
        {"(dissoc 5 :a)", "type-mismatch"},
    });
}
