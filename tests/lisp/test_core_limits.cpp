// Per-evaluation limits (fuel, wall clock, memory, depth), isolation between
// evaluations, memory reuse over many evaluations, concurrency and robustness.
#include <catch2/catch.hpp>

#include <pthread.h>

#include <cstdlib>
#include <random>
#include <thread>

#include "core_test_util.hpp"

using lisp_test::err;
using lisp_test::ev;
using lisp_test::run;

TEST_CASE("an infinite loop exhausts fuel with a message naming the limit", "[lisp][limits]") {
    tatara::limits lim;
    lim.fuel = 10000;
    auto o = run("(define (loop) (loop)) (loop)", lim);
    CHECK_FALSE(o.ok);
    CHECK(o.kind == "fuel");
    CHECK(o.message == "fuel exhausted after 10000 steps");
}

TEST_CASE("fuel exhaustion is not catchable", "[lisp][limits]") {
    tatara::limits lim;
    lim.fuel = 5000;
    auto o = run("(define (loop) (loop)) (try (loop) (catch (e) 'caught))", lim);
    CHECK_FALSE(o.ok);
    CHECK(o.kind == "fuel");
}

TEST_CASE("an infinite loop hits the wall-clock limit", "[lisp][limits]") {
    tatara::limits lim;
    lim.fuel = 0;
    lim.wall_clock_ms = 50;
    auto t0 = std::chrono::steady_clock::now();
    auto o = run("(define (loop) (try (loop) (catch (e) 1))) (define (spin) (spin)) (spin)", lim);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    CHECK_FALSE(o.ok);
    CHECK(o.kind == "wall-clock");
    CHECK(o.message == "wall-clock limit exceeded after 50 ms");
    CHECK(ms < 2000);
}

TEST_CASE("non-tail self recursion raises a catchable :stack-overflow", "[lisp][limits]") {
    auto o = run("(define (f) (+ 1 (f))) (f)");
    CHECK_FALSE(o.ok);
    CHECK(o.kind == "stack-overflow");
    CHECK(ev("(define (f) (+ 1 (f))) (try (f) (catch (e) (error-tag e)))") == ":stack-overflow");
    CHECK(ev("(define (f) (+ 1 (f))) (try (f) (catch (e) 1)) (try (f) (catch (e) 2))") == "2");
}

TEST_CASE("100000-deep non-tail recursion raises cleanly and 9000 deep works", "[lisp][limits]") {
    const char* deep = "(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1)))))";
    CHECK(err(std::string(deep) + "(deep 100000)") == "stack-overflow");
    CHECK(ev(std::string(deep) + "(deep 9000)") == "9000");
    tatara::limits lim;
    lim.max_depth = 100;
    CHECK(run(std::string(deep) + "(deep 200)", lim).kind == "stack-overflow");
}

TEST_CASE("depth beyond the native stack raises instead of crashing", "[lisp][limits]") {
    tatara::limits lim;
    lim.max_depth = 100000000;
    lim.fuel = 0;
    lim.native_stack_bytes = 8u << 20;
    auto o = run("(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1))))) (deep 10000000)", lim);
    CHECK_FALSE(o.ok);
    CHECK(o.kind == "stack-overflow");
    CHECK(o.message == "stack overflow: native stack exhausted");
}

TEST_CASE("deep recursion does not depend on the calling thread's stack size", "[lisp][limits]") {
    std::string got;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
#if defined(__SANITIZE_THREAD__)
    // Under TSan a small thread reports a stack range (pthread_getattr_np) it cannot use:
    // TSan's per-thread state lives in static TLS carved from it. 2 MiB still holds far
    // fewer than the 9999 calls below.
    pthread_attr_setstacksize(&attr, 2u << 20);
#else
    pthread_attr_setstacksize(&attr, 256u << 10);
#endif
    pthread_t th;
    auto body = [](void* p) -> void* {
        *static_cast<std::string*>(p) = ev("(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1))))) (deep 9999)");
        return nullptr;
    };
    REQUIRE(pthread_create(&th, &attr, body, &got) == 0);
    pthread_join(th, nullptr);
    pthread_attr_destroy(&attr);
    CHECK(got == "9999");
}

TEST_CASE("range and dotimes over 100000 elements work", "[lisp][limits]") {
    CHECK(ev("(length (range 100000))") == "100000");
    CHECK(ev("(define s 0) (dotimes (i 100000) (set! s (+ s i))) s") == "4999950000");
}

TEST_CASE("a string-doubling memory bomb hits the memory limit", "[lisp][limits]") {
    tatara::limits lim;
    lim.memory_bytes = 1u << 20;
    auto o = run("(define (f s) (f (string-append s s))) (f \"ab\")", lim);
    CHECK_FALSE(o.ok);
    CHECK(o.kind == "memory");
    CHECK(o.message == "memory limit exceeded: more than 1048576 bytes");
    CHECK(run("(define (f s) (try (f (string-append s s)) (catch (e) 0))) (f \"ab\")", lim).kind == "memory");
}

TEST_CASE("a list-building memory bomb hits the memory limit", "[lisp][limits]") {
    tatara::limits lim;
    lim.memory_bytes = 1u << 20;
    lim.fuel = 0;
    auto o = run("(define (grow xs) (grow (cons 1 xs))) (grow ())", lim);
    CHECK(o.kind == "memory");
}

TEST_CASE("output and runtime eval count against the memory limit", "[lisp][limits]") {
    tatara::limits lim;
    lim.memory_bytes = 1u << 20;
    lim.fuel = 0;
    CHECK(run("(define (spam) (display \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\") (spam)) (spam)", lim).kind ==
          "memory");
    CHECK(run("(define (ev-loop n) (eval '(+ 1 2)) (ev-loop (+ n 1))) (ev-loop 0)", lim).kind == "memory");
}

TEST_CASE("printing very deep data from a small-stack thread does not crash", "[lisp][limits]") {
    tatara::evaluator e;
    auto c = tatara::compile("(define (mk n acc) (if (= n 0) acc (mk (- n 1) (list acc)))) (mk 9000 1)", "p");
    auto r = e.run(*c.prog);
    REQUIRE(r.ok);
    std::string printed;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
#if defined(__SANITIZE_THREAD__)
    // Under TSan a small thread reports a stack range (pthread_getattr_np) it cannot use:
    // TSan's per-thread state lives in static TLS carved from it. 2 MiB still holds far
    // fewer than the 9999 calls below.
    pthread_attr_setstacksize(&attr, 2u << 20);
#else
    pthread_attr_setstacksize(&attr, 256u << 10);
#endif
    struct job {
        tatara::value v;
        std::string out;
    } j{r.result, {}};
    pthread_t th;
    auto body = [](void* p) -> void* {
        auto* jb = static_cast<job*>(p);
        jb->out = tatara::to_display_string(jb->v);
        return nullptr;
    };
    REQUIRE(pthread_create(&th, &attr, body, &j) == 0);
    pthread_join(th, nullptr);
    pthread_attr_destroy(&attr);
    CHECK(j.out.rfind("((((", 0) == 0);
    CHECK(j.out.find("...") != std::string::npos);
}

TEST_CASE("definitions never leak between evaluations of one compiled program", "[lisp][limits]") {
    auto c = tatara::compile(
        "(define before (try counter (catch (e) 'unbound))) (define counter 1) "
        "(define + -) (list before (+ 10 1))",
        "p");
    REQUIRE(c.prog);
    tatara::evaluator e;
    for (int i = 0; i < 3; ++i) {
        auto r = e.run(*c.prog);
        REQUIRE(r.ok);
        CHECK(tatara::to_display_string(r.result) == "(unbound 9)");
    }
    auto other = tatara::compile("(+ 10 1)", "q");
    CHECK(tatara::to_display_string(e.run(*other.prog).result) == "11");
}

TEST_CASE("rebinding a builtin affects stdlib closures only in that evaluation", "[lisp][limits]") {
    CHECK(ev("(define (car x) 'mine) (first (list 1 2))") == "mine");
    CHECK(ev("(first (list 1 2))") == "1");
}

TEST_CASE("memory does not grow over many evaluations (VIGY_LISP_EVALS scales the count)", "[lisp][limits]") {
    long n = 20000;
    if (const char* s = std::getenv("VIGY_LISP_EVALS")) n = std::strtol(s, nullptr, 10);
    auto c = tatara::compile(
        "(define state (hash-map :count 1 :name \"probe\"))"
        "(define (step s) (hash-map-set s :count (+ 1 (hash-map-get s :count))))"
        "(define xs (map (lambda (x) (* x x)) (range 50)))"
        "(hash-map-get (step state) :count)",
        "p");
    REQUIRE(c.prog);
    tatara::evaluator e;
    size_t first = 0;
    for (long i = 0; i < n; ++i) {
        auto r = e.run(*c.prog);
        REQUIRE(r.ok);
        REQUIRE(r.result.as_int() == 2);
        if (i == 10) first = e.last_bytes_used();
        if (i > 10) REQUIRE(e.last_bytes_used() == first);
    }
    CHECK(first > 0);
}

TEST_CASE("one compiled program runs concurrently on many threads", "[lisp][limits]") {
    auto c = tatara::compile(
        "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))"
        "(define m (hash-map :a (list 1 2)))"
        "(list (fib 15) (hash-map-get m :a) (map inc (range 3)) (gensym))",
        "p");
    REQUIRE(c.prog);
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            tatara::evaluator e;
            for (int i = 0; i < 300; ++i) {
                auto r = e.run(*c.prog);
                if (!r.ok || tatara::to_display_string(r.result) != "(610 (1 2) (1 2 3) g__0__auto)") ++bad;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(bad == 0);
}

TEST_CASE("programs with macros and eval compile and run concurrently", "[lisp][limits]") {
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&bad, t] {
            tatara::evaluator e;
            for (int i = 0; i < 40; ++i) {
                std::string src = "(defmacro twice (x) `(* 2 ,x)) (define-record pt (x y))(define p (make-pt ";
                src.append(std::to_string(t));
                src.append(
                    " 2))"
                    "(list (twice (pt-x p)) (eval '(-> 1 inc)) (match (list 1 2) ((a b) (+ a b)) (_ 0))"
                    " (sort-by compare (list 3 1 2)) (macroexpand '(when-let (a 1) a)))");
                auto c = tatara::compile(src, "p");
                if (!c.prog) {
                    ++bad;
                    continue;
                }
                auto r = e.run(*c.prog);
                std::string want = "(";
                want.append(std::to_string(2 * t)).append(" 2 3 (1 2 3) (let ((a 1)) (if a (begin a) ())))");
                if (!r.ok || tatara::to_display_string(r.result) != want) ++bad;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(bad == 0);
}

TEST_CASE("random program text never crashes the interpreter", "[lisp][limits]") {
    const char* atoms[] = {"(",   ")",     "(",     ")",        "'",     "`",      ",",        ",@",         "\"s\"",
                           "1",   "2.5",   "x",     "car",      "cdr",   "lambda", "define",   "let",        "if",
                           "try", "catch", "(e)",   "quote",    "eval",  "map",    "+",        "-",          "list",
                           "nil", "#t",    ":k",    "defmacro", "m",     "cons",   "hash-map", "apply",      "range",
                           "->",  "match", "while", "set!",     "begin", "cond",   "else",     "read-string"};
    std::mt19937 rng(12345);
    tatara::limits lim;
    lim.fuel = 20000;
    lim.memory_bytes = 8u << 20;
    lim.wall_clock_ms = 200;
    int ran = 0;
    for (int i = 0; i < 1500; ++i) {
        std::string src;
        int len = 1 + static_cast<int>(rng() % 40);
        for (int k = 0; k < len; ++k) {
            src += atoms[rng() % (sizeof atoms / sizeof *atoms)];
            src += ' ';
        }
        auto o = run(src, lim);
        if (o.ok || !o.kind.empty()) ++ran;
    }
    CHECK(ran == 1500);
}
