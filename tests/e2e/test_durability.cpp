// tests/e2e/test_durability.cpp — the persistence proofs: kv survives
// `kill -9` of serve and a restart (tick_count continues, integrity_check ok,
// no run without its kv writes or vice versa), and forced ticks from other
// processes never race the scheduler on the same vigy (no lost kv update).
//
// The counter program increments kv "n" and records the new n (push payload)
// and the tick_count it saw (pull payload) in its run: a run committed without
// its kv write would repeat a value; a kv write without its run would leave a gap.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <set>
#include <thread>

using namespace e2e;

namespace {

std::unique_ptr<process> restart_serve(const fixture& fx, int64_t& waited_ms) {
    const int64_t t0 = mono_ms();
    for (;;) {
        auto p = fx.start({"serve"});
        if (p->wait_for_text("serving ", 5000)) {
            waited_ms = mono_ms() - t0;
            return p;
        }
        p->wait(2000);
        INFO("serve refused: " << p->err());
        REQUIRE(mono_ms() - t0 < 10'000);
        e2e::sleep_ms(250);
    }
}

}  // namespace

TEST_CASE("kv survives kill -9 of serve and a restart, and the database stays intact", "[e2e][timing][needs-lisp]") {
    fixture fx;
    fx.register_program("counter", programs::counter, 100);

    auto serve = start_serve(fx);
    REQUIRE(eventually(
        [&] {
            serve->pump(0);
            return read_counter(fx, "counter", 5000).ok >= 10;
        },
        8000));
    serve->kill_hard();  // SIGKILL, no chance to flush
    CHECK(integrity_check(fx.db) == "ok");
    const counter_history before = read_counter(fx, "counter", 5000);
    require_counter_consistent(before);

    int64_t waited = 0;
    auto again = restart_serve(fx, waited);
    INFO("restart after kill -9 took " << waited << " ms to get the scheduler lease");
    REQUIRE(eventually(
        [&] {
            again->pump(0);
            return read_counter(fx, "counter", 5000).ok >= before.ok + 10;
        },
        8000));
    stop_serve(*again);
    CHECK(integrity_check(fx.db) == "ok");

    const counter_history after = read_counter(fx, "counter", 5000);
    require_counter_consistent(after);
    // the count continued from where the killed process left it
    REQUIRE(after.n.size() > before.n.size());
    CHECK(after.n[before.n.size()] == static_cast<int64_t>(before.ok) + 1);
    for (const auto& id : before.ids) CHECK(after.ids.count(id) == 1);
}

TEST_CASE("vigy tick and serve hammering one counter for 5 s lose no kv update", "[e2e][timing][needs-lisp]") {
    fixture fx;
    fx.register_program("counter", programs::counter, 100);
    auto serve = start_serve(fx);

    std::vector<std::string> forced_ids;
    std::vector<std::string> failures;
    const int64_t t0 = mono_ms();
    // two concurrent tickers, each a sequence of `vigy tick` processes
    auto ticker = [&](std::vector<std::string>& ids, std::vector<std::string>& errs) {
        while (mono_ms() - t0 < 5000) {
            // no Catch2 macros here: this also runs on a second thread
            const result r = fx.run({"tick", "counter", "-o", "json"});
            rapidjson::Document d;
            d.Parse(r.out.c_str(), r.out.size());
            if (r.code != 0 || d.HasParseError() || !d.IsObject() || !d.HasMember("id") || !d["id"].IsString()) {
                errs.push_back("exit " + std::to_string(r.code) + ": " + r.err + r.out);
                continue;
            }
            ids.emplace_back(d["id"].GetString());
        }
    };
    std::vector<std::string> ids_b, errs_b;
    std::thread second([&] { ticker(ids_b, errs_b); });
    while (mono_ms() - t0 < 5000) {
        serve->pump(0);
        ticker(forced_ids, failures);
    }
    second.join();
    forced_ids.insert(forced_ids.end(), ids_b.begin(), ids_b.end());
    failures.insert(failures.end(), errs_b.begin(), errs_b.end());
    stop_serve(*serve);

    for (const auto& f : failures) UNSCOPED_INFO("tick failed: " << f);
    CHECK(failures.empty());
    const counter_history h = read_counter(fx, "counter", 5000);
    INFO("forced ticks " << forced_ids.size() << ", runs " << h.runs << ", ok " << h.ok);
    CHECK(forced_ids.size() >= 10);
    CHECK(h.runs >= forced_ids.size() + 20);  // the scheduler kept ticking too
    for (const auto& id : forced_ids) CHECK(h.ids.count(id) == 1);
    require_counter_consistent(h);  // final counter == number of ok runs, no duplicates
    CHECK(integrity_check(fx.db) == "ok");
}
