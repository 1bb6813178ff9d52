// tests/e2e/test_fencing.cpp — the split-brain proofs with the real binary:
// a `vigy serve` paused (SIGSTOP) past its lease while another serve takes over, then
// resumed, 20 times back and forth, never applies a stale commit (every counter's kv
// equals its ok runs; tick_count is gap-free and duplicate-free); and a serve whose
// wall clock runs 10 s ahead does not take a live serve's lease.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <set>

using namespace e2e;

namespace {

size_t count_of(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
    return n;
}

size_t line_count(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

/// kv n equals the ok runs; the runs saw n = 1, 2, … and tick_count = 1, 2, … in commit
/// order, each exactly once (a stale commit applied would repeat one or skip one).
void require_consistent(const std::string& name, const counter_history& h) {
    INFO(name << ": ok runs " << h.ok << ", kv n " << h.kv_n);
    REQUIRE(h.ok > 0);
    CHECK(h.kv_n == static_cast<int64_t>(h.ok));
    for (size_t i = 0; i < h.n.size(); ++i) {
        INFO("ok run " << i);
        REQUIRE(h.n[i] == static_cast<int64_t>(i + 1));
        REQUIRE(h.tick_count[i] == static_cast<int64_t>(i + 1));
    }
}

/// Starts `vigy serve` and retries while another serve still holds a live lease (exit 1).
/// A holder stopped inside a write transaction keeps SQLite's write lock, so the new serve
/// may instead give up on a locked database (busy beyond its timeout): then `unstick_holder`
/// lets the holder run briefly (liveness, not safety) and the start is retried.
std::unique_ptr<process> start_serve_when_free(const fixture& fx, const std::vector<std::string>& extra,
                                               const std::function<void()>& pump_others,
                                               const std::function<void()>& unstick_holder, int timeout_ms) {
    const int64_t deadline = mono_ms() + timeout_ms;
    std::string last_err;
    while (mono_ms() < deadline) {
        std::vector<std::string> args{"serve", "--listen", "none"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto p = fx.start(args);
        while (p->running()) {
            pump_others();
            p->pump(20);
            if (p->out().find("serving ") != std::string::npos) return p;
        }
        p->wait(1000);
        last_err = p->err();
        INFO("refused serve's stderr: " << last_err);
        const bool lease_held = last_err.find("another scheduler is serving") != std::string::npos;
        const bool write_locked = last_err.find("is locked by another process") != std::string::npos;
        REQUIRE((lease_held || write_locked));  // refused, as it must be, and for one of these reasons
        if (write_locked) unstick_holder();
        pump_others();
    }
    FAIL("no serve took over within " << timeout_ms << " ms; last refusal: " << last_err);
    return nullptr;
}

}  // namespace

TEST_CASE("a serve paused past its lease never commits after another took over (20 SIGSTOP/SIGCONT rounds)",
          "[e2e][timing][needs-lisp][fencing]") {
    fixture fx;
    const std::vector<std::string> names{"c1", "c2", "c3"};
    // programs::counter with ~80 ms of work in the middle, so a SIGSTOP usually catches a
    // tick in flight whose commit then arrives after the takeover (and must be rejected).
    const std::string slow_counter =
        "(vigy-incr \"n\")\n(define (spin k) (if (> k 0) (spin (- k 1)) 0))\n(spin 600000)\n"
        "(vigy-push (vigy-get \"n\" 0))\n(vigy-pull (vigy-tick-count))\n";
    for (const auto& n : names) fx.register_program(n, slow_counter, 100);
    const std::vector<std::string> lease{"--lease-ttl", "400ms"};

    std::unique_ptr<process> serve[2];
    serve[0] = start_serve(fx, lease);
    auto pump_all = [&] {
        for (auto& s : serve)
            if (s) s->pump(0);
    };
    int holder = 0;
    int lock_held_retries = 0;
    const int rounds = 20;
    for (int round = 0; round < rounds; ++round) {
        INFO("round " << round << " (holder serve " << holder << ")");
        process& h = *serve[holder];
        const int other = 1 - holder;
        // the holder commits runs
        const size_t lines0 = line_count(h.out());
        REQUIRE(eventually(
            [&] {
                pump_all();
                return line_count(h.out()) >= lines0 + 3;
            },
            20000));  // liveness bounds: generous, a sanitizer build under load is ~10x slower
        const size_t lost_before = count_of(h.err(), "lost the lease");
        sleep_ms(round * 37 % 90);  // pause at a different point of the tick each round (fault injection)
        h.signal(SIGSTOP);
        if (!serve[other]) {
            auto unstick = [&] {
                ++lock_held_retries;
                h.signal(SIGCONT);
                sleep_ms(50);
                h.signal(SIGSTOP);
            };
            serve[other] = start_serve_when_free(fx, lease, pump_all, unstick, 30'000);
        } else {
            const size_t regained = count_of(serve[other]->err(), "lease regained");
            // A holder stopped inside a write transaction keeps SQLite's write lock: nobody
            // can take over until it runs again (liveness, not safety). Let it finish and retry.
            while (!eventually(
                [&] {
                    pump_all();
                    return count_of(serve[other]->err(), "lease regained") > regained;
                },
                8000)) {
                ++lock_held_retries;
                REQUIRE(lock_held_retries < 5);
                h.signal(SIGCONT);
                sleep_ms(50);
                h.signal(SIGSTOP);
            }
        }
        // the new holder commits runs while the old one is still stopped
        const size_t other0 = line_count(serve[other]->out());
        REQUIRE(eventually(
            [&] {
                pump_all();
                return line_count(serve[other]->out()) >= other0 + 3;
            },
            20000));
        h.signal(SIGCONT);
        // the old holder notices it lost the lease (its in-flight commits were rejected as stale)
        REQUIRE(eventually(
            [&] {
                pump_all();
                return count_of(h.err(), "lost the lease") > lost_before;
            },
            20000));
        holder = other;
    }
    uint64_t stale = 0;
    for (auto& s : serve) {
        stop_serve(*s);
        const auto at = s->out().rfind("stale rejected");
        if (at != std::string::npos) {
            const auto start = s->out().rfind(", ", at);
            stale += std::stoull(s->out().substr(start + 2, at - start - 2));
        }
    }
    INFO("stale commits rejected: " << stale << "; rounds retried for a held write lock: " << lock_held_retries);
    CHECK(stale >= 1);  // the fence was exercised: paused ticks did try to commit late
    for (const auto& n : names) require_consistent(n, read_counter(fx, n, 100'000));
    CHECK(integrity_check(fx.db) == "ok");
}

TEST_CASE("a serve whose wall clock runs 10 s ahead does not take a live serve's lease", "[e2e][needs-lisp][fencing]") {
    fixture fx;
    fx.register_program("c", programs::counter, 100);
    auto a = start_serve(fx);
    for (const char* offset : {"10000", "60000", "-10000"}) {
        INFO("VIGY_TEST_CLOCK_OFFSET_MS=" << offset);
        spawn_options skewed = fx.opts;
        skewed.env.push_back(std::string("VIGY_TEST_CLOCK_OFFSET_MS=") + offset);
        const result r = vigy({"serve", "--listen", "none"}, skewed, 20'000);
        INFO("stdout: " << r.out << "\nstderr: " << r.err);
        CHECK(r.code == 1);
        CHECK(r.err.find("another scheduler is serving") != std::string::npos);
        // the live serve keeps its lease and keeps committing
        const size_t lines0 = line_count(a->out());
        CHECK(eventually(
            [&] {
                a->pump(0);
                return line_count(a->out()) >= lines0 + 2;
            },
            20000));
        CHECK(a->err().find("lost the lease") == std::string::npos);
    }
    stop_serve(*a);
    require_consistent("c", read_counter(fx, "c", 100'000));
}
