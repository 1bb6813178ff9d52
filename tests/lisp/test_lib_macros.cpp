// Stdlib prelude, part 00-macros and 40-macro-helpers: the 26 standard macros and the
// expansion-time helpers of match, case and defn-typed (reference §6.3).
#include "test_lib_support.hpp"

using namespace lisp_lib_test;

TEST_CASE("threading macros put the value first or last", "[lisp][stdlib][macros]") {
    check_outputs({
        {"(list (-> 5) (-> 5 inc (* 2) (- 1)) (->> 5 (- 1)) (->> (list 1 2 3) (map inc) (filter odd?)))",
         "(5 11 -4 (3))"},
        {"(list (->1 5 (- 1)) (->>1 5 (- 1)) (->1 5 inc))", "(4 -4 6)"},
        {"(macroexpand-1 '(-> 5 inc))", "(-> (->1 5 inc))"},
        {"(macroexpand '(-> 5 inc (* 2)))", "(* (inc 5) 2)"},
        {"(macroexpand '(->> xs (map f) (foldl + 0)))", "(foldl + 0 (map f xs))"},
    });
}

TEST_CASE("conditional binding macros bind once and pick a branch", "[lisp][stdlib][macros]") {
    check_outputs({
        {"(list (when-let (x 5) (+ x 1)) (when-let (x #f) 1) (when-let (x (list)) :empty-list-is-true))",
         "(6 () :empty-list-is-true)"},
        {"(list (if-let (x ()) 1 2) (if-let (x 0) x 2))", "(2 0)"},
        {"(list (unless-let (x #f) :ran) (unless-let (x 1) :ran))", "(:ran ())"},
        {"(define n 0) (when-let (x (begin (set! n (+ n 1)) n)) x) n", "1"},
    });
    check_errors({
        {"(if-let (x 1) 2)", "native-fn"},
        {"(when-let (x) 1)", "native-fn"},
    });
}

TEST_CASE("loop macros iterate and give nil", "[lisp][stdlib][macros]") {
    check_outputs({
        {"(let ((acc (list))) (dolist (x (list 1 2)) (set! acc (cons x acc))) acc)", "(2 1)"},
        {"(list (dolist (x (list 1)) x) (doseq (x (list 1)) x) (dotimes (i 3) i) (dotimes (i 0) i))", "(() () () ())"},
        {"(define out (list)) (dotimes (i 3) (set! out (cons i out))) out", "(2 1 0)"},
        {"(define s 0) (doseq (x (range 4)) (set! s (+ s x))) s", "6"},
        {"(define i 0) (define out (list)) (while (< i 3) (set! out (cons i out)) (set! i (+ i 1))) (list out (while "
         "#f 1))",
         "((2 1 0) ())"},
        {"(define n 0) (while (< n 100000) (set! n (+ n 1))) n", "100000"},
        {"(define n 0) (dotimes (i 100000) (set! n (+ n 1))) n", "100000"},
    });
    check_errors({
        {"(dotimes (i \"x\") i)", "type-mismatch"},
        {"(dolist (x 5) x)", "type-mismatch"},
    });
}

TEST_CASE("definition macros expand to the library constructors", "[lisp][stdlib][macros]") {
    check_outputs({
        {"(defflow f inc (lambda (x) (* x 10))) (f 1)", "20"},
        {"(defsm m :initial :a :transitions '((:a :go :b))) (list (sm-send m :go) (sm-current m))", "(:b :b)"},
        {"(defactor a 1 (lambda (s m) (* s m))) (actor-tell a 5) (actor-drain! a)", "5"},
        {"(define b (make-bus)) (defcommand b :c (x) (* x 2)) (defquery b :q () :answer)"
         " (list (dispatch-command b :c 21) (dispatch-query b :q))",
         "(42 :answer)"},
        {"(defstrategy s :default (lambda () :d)) (strategy-call s :x)", ":d"},
        {"(defvisitor v :n (lambda (x) (+ x 1))) (visit v (list :n 1))", "2"},
        {"(macroexpand-1 '(defflow f a b))", "(define f (pipe a b))"},
    });
    CHECK(run_err("(defactor a 1)") == "native-fn");
}

TEST_CASE("defn-typed checks every argument and the result with the", "[lisp][stdlib][macros]") {
    const std::string setup =
        "(defn-typed add ((a :int) (b :int)) -> :int (+ a b))"
        "(defn-typed bad ((a :int)) -> :string a)"
        "(defn-typed head ((xs (:list-of :int))) -> (:union :int :nil) (car xs))"
        "(defn-typed none () -> :keyword :ok)";
    CHECK(run_ok(setup + "(list (add 1 2) (head (list 4)) (none))") == "(3 4 :ok)");
    CHECK(run_ok(setup + "(try (add 1 \"x\") (catch (e) (list (error-tag e) (error-message e))))") ==
          "(:type-mismatch \"expected :int, got :string\")");
    CHECK(run_ok(setup + "(try (bad 1) (catch (e) (error-message e)))") == "\"expected :string, got :int\"");
    CHECK(run_ok(setup + "(try (head (list \"a\")) (catch (e) (error-message e)))") ==
          "\"expected (:list-of :int), got :list\"");
    CHECK(run_err(setup + "(add 1 1.5)") == "user");
    CHECK(run_err(setup + "(add 1)") == "arity-mismatch");
    // The -> marker is mandatory.
    CHECK(run_err("(defn-typed f ((a :int)) :int a)") == "user");
    CHECK(run_ok("(list (defn-typed-args '((a :int) (b :string))) (defn-typed-checks '((a :int))))") ==
          "((a b) ((the (quote :int) a)))");
}

TEST_CASE("lazy-cons with-gensyms assert and comment", "[lisp][stdlib][macros]") {
    check_outputs({
        {"(lazy-cons 1 2)", "(1 #<promise pending>)"},
        {"(force (second (lazy-cons 1 (+ 1 1))))", "2"},
        {"(with-gensyms (a b) (list a b))", "(a__0__auto b__1__auto)"},
        {"(with-gensyms () 1)", "1"},
        {"(defmacro swap! (x y) (with-gensyms (tmp) `(let ((,tmp ,x)) (set! ,x ,y) (set! ,y ,tmp))))"
         " (define p 1) (define q 2) (swap! p q) (list p q)",
         "(2 1)"},
        {"(list (assert #t \"fine\") (comment 1 2 (undefined)))", "(() ())"},
        {"(try (assert (= 1 2) \"boom\") (catch (e) (list (error-tag e) (error-message e) e)))",
         "(:ex-info \"boom\" #<error :ex-info \"boom\">)"},
    });
    CHECK(run_err("(assert #f \"no\")") == "user");
}

TEST_CASE("match binds symbols compares literals tests predicates and destructures lists", "[lisp][stdlib][macros]") {
    check_outputs({
        {"(match (list 1 2) ((a b) (+ a b)) (_ 0))", "3"},
        {"(match 5 (0 :zero) ((? odd? n) (list :odd n)) (_ :other))", "(:odd 5)"},
        {"(match (list 1 (list 2 3)) ((a (b c)) (+ a b c)))", "6"},
        {"(list (match 'circle ('square 1) ('circle 2)) (match \"s\" (\"s\" :str)) (match :k (:j 1) (else :else)))",
         "(2 :str :else)"},
        {"(list (match 7 (1 :one)) (match #t (#f :f) (#t :t)) (match 1.5 (1.5 :float)))", "(() :t :float)"},
        {"(list (match (list 1 2 3) ((a b) :two) ((a b c) :three)) (match 4 ((? string?) :s) ((? number?) :n)))",
         "(:three :n)"},
        {"(list (match () (() :empty) (_ :other)) (match (list) (() :empty)) (match 5))", "(:empty :empty ())"},
        {"(match (list 1 2) ((x _) x))", "1"},
        {"(match 3 (x (* x x)))", "9"},
        {"(define n 0) (match (begin (set! n (+ n 1)) 5) (1 :a) (2 :b) (_ n))", "1"},
    });
    CHECK(run_ok("(compile-match-pattern 'v '_)") == "(#t ())");
    CHECK(run_ok("(compile-match-pattern 'v 'x)") == "(#t ((x v)))");
    CHECK(run_ok("(compile-match-pattern 'v 5)") == "((equal? v 5) ())");
    CHECK(run_ok("(compile-match-pattern 'v ''s)") == "((equal? v (quote s)) ())");
    CHECK(run_ok("(compile-match-pattern 'v '(? odd? n))") == "((odd? v) ((n v)))");
    CHECK(run_ok("(compile-list-pattern 'v '(a 1))") ==
          "((and (and (list? v) (= (length v) 2)) #t (equal? (nth 1 v) 1)) ((a (nth 0 v))))");
    CHECK(run_ok("(compile-match-clauses 'v '((1 :one) (else :other)))") ==
          "(if (equal? v 1) (let () :one) (begin :other))");
    CHECK(run_ok("(error? (compile-match-pattern 'v (hash-map)))") == "#t");
}

TEST_CASE("case compares the key with equal? against quoted literals", "[lisp][stdlib][macros]") {
    check_outputs({
        {"(case 3 ((1 2) :small) ((3 4) :mid) (else :big))", ":mid"},
        {"(list (case :k (:k :kw) (else :no)) (case 9 ((1) :a)) (case 9 ((1) :a) (else :e)))", "(:kw () :e)"},
        {"(list (case (list 1) (((1)) :lst) (else :no)) (case 'x ((x y) :sym) (else :no)) (case \"s\" ((\"s\") :str)))",
         "(:lst :sym :str)"},
        {"(case 1 ((1.0) :float) (else :int))", ":int"},
        {"(define n 0) (case (begin (set! n (+ n 1)) 2) ((1) :a) ((2) n))", "1"},
    });
    CHECK(run_ok("(case-build-clause 'k '((1 2) :x))") == "((or (equal? k (quote 1)) (equal? k (quote 2))) :x)");
    CHECK(run_ok("(case-build-clause 'k '(a :x))") == "((equal? k (quote a)) :x)");
    CHECK(run_ok("(case-build-clause 'k '(else 1 2))") == "(else 1 2)");
}

TEST_CASE("loading the prelude leaves the gensym counter at zero", "[lisp][stdlib][macros]") {
    CHECK(run_ok("(list (gensym) (gensym \"t\"))") == "(g__0__auto t__1__auto)");
}
