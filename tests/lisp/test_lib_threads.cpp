// The shared stdlib prelude and the lisp-lib natives under concurrent evaluations: every
// thread compiles and runs the same programs and must see exactly the single-threaded
// output (the prelude is built once per process and shared read-only).
#include "test_lib_support.hpp"

#include <atomic>
#include <thread>

using namespace lisp_lib_test;

TEST_CASE("stdlib and native groups give identical results on concurrent threads", "[lisp][stdlib][threads]") {
    // each program is one literal wrapped over lines
    // NOLINTBEGIN(bugprone-suspicious-missing-comma)
    const std::vector<std::string> programs = {
        "(define n 0) (dotimes (i 20000) (set! n (+ n i))) (list n (last (range 5000)) (length (flatten (range "
        "3000))))",
        "(define nat (iterate-lazy inc 0)) (list (lazy-take 50 (lazy-filter even? nat)) (lazy-take 3 (lazy-map inc "
        "nat)))",
        "(defsm m :initial :a :transitions '((:a :go :b) (:b :go :a))) (dotimes (i 101) (sm-send m :go))"
        " (list (sm-current m) (length (sm-history m)))",
        "(define m (foldl (lambda (acc i) (hash-map-set acc i (* i i))) (hash-map) (range 300)))"
        " (list (hash-map-count m) (take 5 (hash-map-keys m)) (frequencies (map even? (range 11))))",
        "(define c (chan)) (define fs (map (lambda (i) (go (lambda () (>! c i)))) (range 50)))"
        " (for-each go-run (reverse fs)) (list (take 3 (drain! c)) (go-status (car fs)))",
        "(list (match (list 1 (list 2 3)) ((a (b c)) (+ a b c))) (case 3 ((1 2) :s) ((3) :m))"
        " (is? (list 1 2) '(:list-of :int)) (sort-by compare (list 3 1 2)) (group-by odd? (range 6)))",
    };
    // NOLINTEND(bugprone-suspicious-missing-comma)
    std::vector<std::string> expected;
    for (const auto& p : programs) expected.push_back(run_ok(p));

    constexpr int k_threads = 4;
    constexpr int k_rounds = 25;
    std::atomic<int> mismatches{0};
    std::vector<std::string> first_bad(k_threads);
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < k_rounds; ++round) {
                for (size_t i = 0; i < programs.size(); ++i) {
                    tatara::text_result r = tatara::run_source(programs[i], "<thread>");
                    std::string got = r.ok ? r.output + r.value_text : "error: " + r.error.formatted();
                    if (got != expected[i]) {
                        mismatches.fetch_add(1);
                        if (first_bad[t].empty()) first_bad[t] = programs[i] + " => " + got;
                    }
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    std::string report;
    for (const auto& bad : first_bad)
        if (!bad.empty()) report += bad + "\n";
    INFO(report);
    CHECK(mismatches.load() == 0);
}
