// tests/e2e/test_error_codes.cpp — a status a plugin returns keeps its canonical code on
// the way out: the lisp plugin's RESOURCE_EXHAUSTED (fuel, memory) reaches the run the
// real `vigy` binary commits and prints, as resource-exhausted, in -o json, in the human
// output and in `vigy inspect`. The code -> exit status table is tests/cli.
#include "support.hpp"

#include <catch2/catch.hpp>

using namespace e2e;

namespace {
std::string show(const result& r) {
    return "exit " + std::to_string(r.code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}
bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

/// Ticks `name` (a vigy whose program exhausts a limit) and checks every face of the run.
void check_exhausted(const fixture& fx, const std::string& name, const std::string& limit_word) {
    auto run = fx.run_json({"tick", name, "-o", "json"});
    REQUIRE(run);
    CHECK(str(*run, "result") == "failed");
    CHECK(str(*run, "status") == "resource-exhausted");
    CHECK(contains(str(*run, "error"), limit_word));

    // The tick ran (exit 0, like kubectl); the run says why it failed, code first.
    const result human = fx.run({"tick", name});
    INFO(show(human));
    CHECK(human.code == 0);
    CHECK(contains(human.out, "failed"));
    CHECK(contains(human.out, "resource-exhausted: "));

    // Both runs were committed with the code.
    auto doc = fx.inspect(name);
    REQUIRE(doc);
    const json& runs = field(*doc, "runs");
    REQUIRE(runs.Size() == 2);
    for (const auto& r : runs.GetArray()) {
        CHECK(str(r, "result") == "failed");
        CHECK(str(r, "status") == "resource-exhausted");
    }
}
}  // namespace

TEST_CASE("a plugin's RESOURCE_EXHAUSTED (fuel) reaches the CLI and the run as resource-exhausted",
          "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("hungry", programs::runaway, 1000, {"--disabled", "--fuel", "5000"});
    check_exhausted(fx, "hungry", "fuel");
}

TEST_CASE("a plugin's RESOURCE_EXHAUSTED (memory) reaches the CLI and the run as resource-exhausted",
          "[e2e][needs-lisp]") {
    fixture fx;
    fx.register_program("greedy",
                        "(define (grow xs n) (if (= n 0) xs (grow (cons n xs) (- n 1))))\n(grow '() 10000000)\n", 1000,
                        {"--disabled", "--memory", "1000000", "--fuel", "100000000"});
    check_exhausted(fx, "greedy", "memory");
}
