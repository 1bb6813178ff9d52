// Channel and fiber natives (natives_chan.cpp, reference §7): synchronous queues and
// deferred thunks; go-run never raises for a failing thunk.
#include "test_lib_support.hpp"

using namespace lisp_lib_test;

TEST_CASE("channels queue FIFO and report :empty then :closed", "[lisp][chan]") {
    check_outputs({
        {"(let ((c (chan))) (>! c 1) (>! c 2) (list (<! c) (<! c) (<! c)))", "(1 2 :empty)"},
        {"(let ((c (chan))) (>! c 1) (close! c) (list (chan-closed? c) (>! c 2) (<! c) (<! c)))", "(#t #f 1 :closed)"},
        {"(let ((c (chan))) (>! c 1) (>! c 2) (list (drain! c) (<! c) (chan-closed? c)))", "((1 2) :closed #t)"},
        {"(list (drain! (chan)) (type-of (drain! (chan))))", "(() :list)"},
        {"(let ((c (chan))) (list (close! c) (close! c) (<! c)))", "(() () :closed)"},
        // Wrap-around and growth of the queue keep FIFO order.
        {"(define c (chan)) (dotimes (i 100) (>! c i)) (list (<! c) (<! c) (chan-len c) (length (drain! c)))",
         "(0 1 98 98)"},
        {"(define c (chan 3)) (>! c 1) (>! c 2) (<! c) (>! c 3) (>! c 4) (list (>! c 5) (chan-len c) (drain! c))",
         "(#f 3 (2 3 4))"},
    });
}

TEST_CASE("bounded channels refuse items beyond their capacity", "[lisp][chan]") {
    check_outputs({
        {"(let ((c (chan 1))) (list (>! c :a) (>! c :b) (chan-len c) (chan-capacity c) (chan-capacity (chan))))",
         "(#t #f 1 1 :unbounded)"},
        {"(let ((c (chan 0))) (list (>! c 1) (chan-len c) (<! c)))", "(#f 0 :empty)"},
    });
    check_errors({
        {"(chan -1)", "native-fn"},
        {"(chan 1.5)", "type-mismatch"},
        {"(chan \"x\")", "type-mismatch"},
        {"(chan 1 2)", "arity-mismatch"},
    });
}

TEST_CASE("channels are foreign values shared by reference", "[lisp][chan]") {
    check_outputs({
        {"(define c (chan)) (list c (type-of c) (foreign? c) (chan? c) (chan? 1) (chan? (go inc)))",
         "(#<foreign> :foreign #t #t #f #f)"},
        {"(define c (chan)) (define d c) (>! d 1) (<! c)", "1"},
        {"(define c (chan)) (define (put! x) (>! c x)) (put! 1) (put! 2) (chan-len c)", "2"},
    });
    check_errors({
        {"(>! 5 1)", "type-mismatch"},
        {"(<! (go inc))", "type-mismatch"},
        {"(chan-len (list))", "type-mismatch"},
        {"(drain! ())", "type-mismatch"},
        {"(chan-closed? 1)", "type-mismatch"},
        {"(chan-capacity :c)", "type-mismatch"},
        {"(close! 1)", "type-mismatch"},
    });
}

TEST_CASE("fibers are pending until go-run which runs them once", "[lisp][fiber]") {
    check_outputs({
        {"(let ((f (go (lambda () (* 6 7))))) (list (go-status f) (go-run f) (go-status f) (go-result f) (go-error "
         "f)))",
         "(:pending 42 :done 42 ())"},
        {"(define n 0) (define f (go (lambda () (set! n (+ n 1)) n))) (list (go-run f) (go-run f) n)", "(1 1 1)"},
        {"(define f (go (lambda () (display \"ran\") 1))) (list (go? f) (go? 1) (type-of f) (go-result f))",
         "(#t #f :foreign ())"},
        {"(define f ()) (set! f (go (lambda () (go-status f)))) (list (go-run f) (go-status f))", "(:running :done)"},
        {"(go-run (go car))",
         "#<error :fiber-error \"arity mismatch in car: expected Exact(1), got 0 at <synthetic>\">"},
        {"(let* ((c (chan)) (fs (map (lambda (i) (go (lambda () (>! c i)))) (list 1 2 3)))) (for-each go-run (reverse "
         "fs)) (drain! c))",
         "(3 2 1)"},
    });
}

TEST_CASE("go-run returns thrown values and wraps other errors without raising", "[lisp][fiber]") {
    check_outputs({
        {"(define f (go (lambda () (throw 42)))) (list (go-run f) (go-status f) (go-error f) (go-result f) (go-run f))",
         "(42 :errored 42 () 42)"},
        {"(let ((f (go (lambda () (car 1))))) (go-run f) (list (go-status f) (error-tag (go-error f)) (error-message "
         "(go-error f))))",
         "(:errored :fiber-error \"type mismatch: expected pair, got int at 24..31\")"},
        {"(define f (go (chan))) (list (error-tag (go-run f)) (go-status f))", "(:fiber-error :errored)"},
        // A fiber whose thunk cannot see a sibling let binding fails silently.
        {"(let ((c (chan)) (f (go (lambda () (>! c 1))))) (list (error-tag (go-run f)) (go-status f)))",
         "(:fiber-error :errored)"},
        {"(define f ()) (set! f (go (lambda () (go-run f)))) (list (error-message (go-run f)) (go-status f))",
         "(\"in native fn go-run: fiber already running (re-entrant call detected) at 37..47\" :errored)"},
        {"(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1))))) (error-tag (go-run (go (lambda () (deep 100000)))))",
         ":fiber-error"},
    });
    check_errors({
        {"(go 5)", "type-mismatch"},
        {"(go-run 5)", "type-mismatch"},
        {"(go-status (chan))", "type-mismatch"},
        {"(go-result 1)", "type-mismatch"},
        {"(go-error ())", "type-mismatch"},
        {"(go (lambda () 1) 2)", "arity-mismatch"},
    });
}

TEST_CASE("limits are not swallowed by go-run", "[lisp][fiber]") {
    tatara::limits lim;
    lim.fuel = 10000;
    tatara::text_result r = tatara::run_source("(define (spin) (spin)) (go-run (go spin)) :after", "<test>", lim);
    INFO(describe(r));
    CHECK_FALSE(r.ok);
    CHECK(r.error.kind == "fuel");
}
