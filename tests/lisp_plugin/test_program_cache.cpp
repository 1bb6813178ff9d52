// The `lisp` plugin's compiled programs: shared between instances with the same program,
// bounded by the program size cap and the vigy's memory limit, and given back to the
// system when the last instance is destroyed.
#include "lisp_plugin_harness.hpp"

#include <malloc.h>

#include <atomic>
#include <fstream>
#include <thread>

using namespace lisp_plugin_test;

// Under AddressSanitizer or ThreadSanitizer malloc is the sanitizer's (mallinfo2 reads 0,
// freed memory sits in a quarantine): the byte and RSS figures below are only asserted
// with glibc's allocator; the behaviour around them is asserted everywhere.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool k_glibc_malloc = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool k_glibc_malloc = false;
#else
constexpr bool k_glibc_malloc = true;
#endif
#else
constexpr bool k_glibc_malloc = true;
#endif

namespace {

/// Bytes currently allocated with malloc (glibc), mmapped chunks included.
size_t heap_bytes() {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;  // arena chunks + mmapped chunks
}

/// Resident set size of this process, bytes.
size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

/// A program of about `bytes` bytes of ordinary definitions; `tag` makes it unique.
std::string program_of(size_t bytes, const std::string& tag) {
    std::string src = "(define tag \"" + tag + "\")\n";
    for (int i = 0; src.size() < bytes; ++i) {
        std::string n = std::to_string(i);
        src += "(define (f" + n + " x y) (if (> x " + n + ") (+ x y 1) (list \"s\" 'sym :kw (car y))))\n";
    }
    return src + "(list tag (f1 0 (list 1)))";
}

}  // namespace

TEST_CASE("ten thousand instances of one program share its compiled form", "[lisp-plugin][memory]") {
    const std::string src = program_of(8 * 1024, "shared");
    {  // the stdlib and this thread's evaluator are built once per process: not counted
        instance warm("(list 1 \"a\")");
        fake_tick t;
        REQUIRE(warm.tick(t).status == VIGY_OK);
    }
    const size_t before = heap_bytes();
    std::vector<instance> all;
    all.reserve(10000);
    all.emplace_back(src);
    REQUIRE(all[0].created.status == VIGY_OK);
    const size_t with_one = heap_bytes();
    const size_t compiled = with_one - before;
    if (k_glibc_malloc) CHECK(compiled > 64 * 1024);  // the compiled form itself: ~30x the source

    // Stop early if programs are not shared rather than allocating gigabytes.
    for (int i = 1; i < 100; ++i) all.emplace_back(src);
    if (k_glibc_malloc) REQUIRE((heap_bytes() - with_one) / 99 < 1024);
    for (int i = 100; i < 10000; ++i) all.emplace_back(src);
    const size_t per_instance = (heap_bytes() - with_one) / 9999;
    INFO("compiled program " << compiled << " bytes, " << per_instance << " bytes per further instance");
    if (k_glibc_malloc) CHECK(per_instance < 512);
    for (const instance& i : all) REQUIRE(i.created.status == VIGY_OK);

    for (size_t k : {size_t(0), size_t(4999), size_t(9999)}) {
        fake_tick t;
        REQUIRE(all[k].tick(t).status == VIGY_OK);
        CHECK(t.output == "(\"shared\" (\"s\" sym :kw 1))");
    }

    // the entry dies with the last instance: the compiled form is freed
    all.clear();
    all.shrink_to_fit();
    if (k_glibc_malloc) CHECK(heap_bytes() < before + 32 * 1024);
}

TEST_CASE("different limits or programs get their own compiled form", "[lisp-plugin][memory]") {
    instance a("(+ 1 2)");
    instance b("(+ 1 2)", vigy_limits{sizeof(vigy_limits), 0, 0, 0, 32u << 20, 0});
    instance c("(+ 1 3)");
    fake_tick ta, tb, tc;
    REQUIRE(a.tick(ta).status == VIGY_OK);
    REQUIRE(b.tick(tb).status == VIGY_OK);
    REQUIRE(c.tick(tc).status == VIGY_OK);
    CHECK(ta.output == "3");
    CHECK(tb.output == "3");
    CHECK(tc.output == "4");
}

TEST_CASE("instances sharing a program tick concurrently on different threads", "[lisp-plugin][threads]") {
    const std::string src =
        "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))"
        "(define xs (map (lambda (i) (test-add i (fib 12))) (range 20)))"
        "(define m (hash-map-set (hash-map :a 1) :b (length xs)))"
        "(defmacro twice (e) `(list ,e ,e))"
        "(define p (delay (length (twice 1))))"
        "(define ch (chan)) (>! ch 7)"
        "(define quoted '(a (b c) \"d\"))"
        "(list (reduce + 0 xs) (hash-map-get m :b) (test-wrap (cons 0 '(1 2))) `(q ,@(take 2 xs))"
        "      (eval '(+ 1 2)) (macroexpand '(twice x)) (force p) (<! ch) (cons 'z quoted)"
        "      (read-string \"(r 1)\") (go-run (go (lambda () (car quoted)))))";
    std::vector<instance> all;
    for (int i = 0; i < 8; ++i) all.emplace_back(src);
    fake_tick first;
    REQUIRE(all[0].tick(first).status == VIGY_OK);
    const std::string expected = first.output;
    CHECK(expected == "(3070 20 {:got (0 1 2), :count 1} (q 144 145) 3 (list x x) 2 7 (z a (b c) \"d\") (r 1) a)");

    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 50; ++round) {
                fake_tick tick;
                outcome o = all[static_cast<size_t>((t * 2 + round) % 8)].tick(tick);
                if (o.status != VIGY_OK || tick.output != expected) ++mismatches;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(mismatches == 0);
}

TEST_CASE("a program over the size cap is refused before it is compiled", "[lisp-plugin][limits]") {
    std::string big(1u << 20, ' ');
    big.back() = '1';
    instance at_cap(big);
    CHECK(at_cap.created.status == VIGY_OK);

    big += " ";
    const size_t before = heap_bytes();
    instance over(big);
    if (k_glibc_malloc) CHECK(heap_bytes() < before + 64 * 1024);  // nothing was built for it
    CHECK(over.created.status == VIGY_RESOURCE_EXHAUSTED);
    CHECK(over.created.message == "prog.tatara: program is 1048577 bytes, over the limit of 1048576 bytes");

    instance raised(big, {sizeof(vigy_limits)}, false, 2 << 20);
    CHECK(raised.created.status == VIGY_OK);

    std::string huge(10u << 20, ' ');
    instance refused(huge);
    CHECK(refused.created.status == VIGY_RESOURCE_EXHAUSTED);
    CHECK(refused.created.message.find("over the limit of 1048576 bytes") != std::string::npos);
}

TEST_CASE("compiling counts against the vigy's memory limit", "[lisp-plugin][limits]") {
    const std::string src = program_of(64 * 1024, "mem");  // compiles to ~2 MiB
    instance small(src, vigy_limits{sizeof(vigy_limits), 0, 0, 0, 1u << 20, 0});
    CHECK(small.created.status == VIGY_RESOURCE_EXHAUSTED);
    CHECK(small.created.message.find("compiling the program: memory limit exceeded: more than 1048576 bytes") !=
          std::string::npos);
    CHECK(small.created.message.find("prog.tatara:") == 0);

    instance roomy(src, vigy_limits{sizeof(vigy_limits), 0, 0, 0, 8u << 20, 0});
    CHECK(roomy.created.status == VIGY_OK);

    // macro expansion at compile time is bounded by the same limit
    instance bomb(
        "(defmacro twice (x) `(list ,x ,x))"
        "(define big (twice (twice (twice (twice (twice (twice (twice (twice (twice (twice "
        "(twice (twice (twice (twice (twice (twice (twice (twice 1)))))))))))))))))))",
        vigy_limits{sizeof(vigy_limits), 0, 0, 0, 1u << 20, 0});
    CHECK(bomb.created.status == VIGY_RESOURCE_EXHAUSTED);
    CHECK(bomb.created.message.find("memory limit exceeded") != std::string::npos);
}

TEST_CASE("the memory of destroyed programs is given back to the system", "[lisp-plugin][memory]") {
    // Warm up: the stdlib and this thread's evaluator are built once per process.
    {
        instance warm(program_of((1u << 20) - 256, "warm"));
        REQUIRE(warm.created.status == VIGY_OK);
    }
    const size_t baseline = rss_bytes();
    size_t peak = 0;
    for (int i = 0; i < 8; ++i) {
        instance p(program_of((1u << 20) - 256, "p" + std::to_string(i)));
        REQUIRE(p.created.status == VIGY_OK);
        fake_tick t;
        REQUIRE(p.tick(t).status == VIGY_OK);
        peak = std::max(peak, rss_bytes());
    }
    const size_t after = rss_bytes();
    INFO("RSS baseline " << baseline / 1024 << " KiB, peak " << peak / 1024 << " KiB, after " << after / 1024
                         << " KiB");
    if (k_glibc_malloc) {
        CHECK(peak > baseline + (16u << 20));  // a 1 MiB program is tens of MiB compiled
        CHECK(after < baseline + (8u << 20));
    }
}

TEST_CASE("what a large tick allocated is released when the tick ends", "[lisp-plugin][memory]") {
    // ~48 MiB of live strings: a list of 3000 strings of 16 KiB each
    instance big(
        "(define s (string-append \"x\" (pr-str (range 3000))))"
        "(define (grow n acc) (if (= n 0) acc (grow (- n 1) (cons (string-append s (string n)) acc))))"
        "(length (grow 3000 (list)))");
    REQUIRE(big.created.status == VIGY_OK);
    fake_tick warm;
    instance small("(+ 1 2)");
    REQUIRE(small.tick(warm).status == VIGY_OK);
    const size_t before = heap_bytes();
    fake_tick t;
    REQUIRE(big.tick(t).status == VIGY_OK);
    CHECK(t.output == "3000");
    if (k_glibc_malloc) CHECK(heap_bytes() < before + (5u << 20));
}
