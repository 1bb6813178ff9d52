// tests/runtime/test_runtime_executor.cpp — host/src/runtime_executor.cpp: the tick
// executor's fair scheduling on a manual clock. Jobs are spinners that call the
// preemption point (tick_executor::checkpoint, what the tick's `cancelled` slot calls)
// in a loop; the slice elapses only when the test advances the clock, so demotion,
// parking and the round robin of the long lane happen exactly when the test says.
#include "../../host/src/runtime_executor.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

namespace detail = vigy::host::detail;
using namespace std::chrono_literals;
using vigy::host::manual_clock;

using rt_test::eventually;

namespace {

/// A long job: calls the preemption point until released, counting its iterations.
struct spinner final : detail::job {
    std::atomic<bool> release{false}, started{false}, done{false};
    std::atomic<uint64_t> turns{0};
    void run() noexcept override {
        started = true;
        while (!release.load()) {
            detail::tick_executor::checkpoint();
            turns.fetch_add(1);
            std::this_thread::yield();
        }
        done = true;
    }
};

/// A short job.
struct flag_job final : detail::job {
    std::atomic<bool> done{false};
    void run() noexcept override { done = true; }
};

detail::fairness policy(std::shared_ptr<manual_clock> clk, int slice_ms, unsigned max_long) {
    detail::fairness f;
    f.slice = std::chrono::milliseconds(slice_ms);
    f.max_long = max_long;
    f.long_nice = 0;
    f.clock = std::move(clk);
    return f;
}

/// Waits until `s` has made at least `n` more iterations than `from`.
bool progresses(const spinner& s, uint64_t from, uint64_t n = 50) {
    return eventually([&] { return s.turns.load() >= from + n; });
}

}  // namespace

TEST_CASE("a job past its slice leaves the regular pool and a fresh thread runs the queue", "[runtime][executor]") {
    auto clk = std::make_shared<manual_clock>();
    detail::tick_executor ex(1, policy(clk, 10, 1));
    spinner longj;
    flag_job shortj;
    ex.post(&longj);
    REQUIRE(eventually([&] { return longj.turns.load() > 100; }));
    ex.post(&shortj);
    // Within its slice the long job keeps the only regular thread.
    CHECK(ex.stats().demoted == 0);
    CHECK_FALSE(shortj.done.load());
    clk->advance(10ms);
    REQUIRE(eventually([&] { return shortj.done.load(); }));
    const auto st = ex.stats();
    CHECK(st.demoted == 1);
    CHECK(st.long_running == 1);
    CHECK(st.long_parked == 0);
    CHECK(st.threads_alive == 2);  // the replacement and the demoted one
    CHECK(ex.threads() == 1);
    CHECK_FALSE(longj.done.load());
    longj.release = true;
    REQUIRE(eventually([&] { return longj.done.load(); }));
    // The demoted thread leaves when its job ends; the pool keeps its size.
    REQUIRE(eventually([&] { return ex.stats().threads_alive == 1; }));
    CHECK(ex.stats().long_running == 0);
    flag_job after;
    ex.post(&after);
    REQUIRE(eventually([&] { return after.done.load(); }));
    ex.stop();
    CHECK(ex.stats().threads_alive == 0);
}

TEST_CASE("with the slice off a long job holds its thread whatever the clock says", "[runtime][executor]") {
    auto clk = std::make_shared<manual_clock>();
    detail::tick_executor ex(1, policy(clk, 0, 1));
    spinner longj;
    flag_job shortj;
    ex.post(&longj);
    ex.post(&shortj);
    REQUIRE(eventually([&] { return longj.started.load(); }));
    clk->advance(1h);
    REQUIRE(progresses(longj, longj.turns.load(), 1000));
    CHECK_FALSE(shortj.done.load());  // one thread, still the long job's
    CHECK(ex.stats().demoted == 0);
    longj.release = true;
    REQUIRE(eventually([&] { return shortj.done.load(); }));
    ex.stop();
}

TEST_CASE("at most max_long demoted jobs run at once and the rest take turns round robin", "[runtime][executor]") {
    auto clk = std::make_shared<manual_clock>();
    detail::tick_executor ex(4, policy(clk, 10, 1));
    std::array<spinner, 3> longs;
    for (auto& s : longs) ex.post(&s);
    REQUIRE(eventually([&] {
        for (auto& s : longs)
            if (s.turns.load() < 10) return false;
        return true;
    }));
    clk->advance(10ms);  // every one is past its slice: all demoted, one has the turn
    REQUIRE(eventually([&] {
        const auto st = ex.stats();
        return st.demoted == 3 && st.long_running == 1 && st.long_parked == 2;
    }));
    auto snapshot = [&] {
        std::array<uint64_t, 3> t{};
        for (size_t i = 0; i < 3; ++i) t[i] = longs[i].turns.load();
        return t;
    };
    // Which one runs: only it makes progress while the clock stands still.
    auto running = [&]() -> int {
        const auto a = snapshot();
        int who = -1;
        const bool found = eventually([&] {
            for (size_t i = 0; i < 3; ++i)
                if (longs[i].turns.load() >= a[i] + 50) {
                    who = static_cast<int>(i);
                    return true;
                }
            return false;
        });
        if (!found) return -1;
        const auto b = snapshot();
        REQUIRE(progresses(longs[static_cast<size_t>(who)], b[static_cast<size_t>(who)]));
        const auto c = snapshot();
        for (size_t i = 0; i < 3; ++i)
            if (static_cast<int>(i) != who) CHECK(c[i] == b[i]);  // parked: not one step
        return who;
    };
    std::array<int, 4> order{};
    order[0] = running();
    REQUIRE(order[0] >= 0);
    // The regular pool is untouched: short jobs run at once.
    std::array<flag_job, 20> shorts;
    for (auto& j : shorts) ex.post(&j);
    REQUIRE(eventually([&] {
        for (auto& j : shorts)
            if (!j.done.load()) return false;
        return true;
    }));
    CHECK(ex.stats().threads_alive == 4 + 3);
    for (size_t k = 1; k < order.size(); ++k) {
        const uint64_t parks = ex.stats().parks;
        clk->advance(10ms);  // the running one hands its turn to the first parked one
        REQUIRE(eventually([&] { return ex.stats().parks == parks + 1 && ex.stats().long_parked == 2; }));
        order[k] = running();
        REQUIRE(order[k] >= 0);
        CHECK(order[k] != order[k - 1]);
        CHECK(ex.stats().long_running == 1);
    }
    // Round robin over three: the fourth turn is the first one's again, and all ran.
    CHECK(order[3] == order[0]);
    CHECK(order[0] + order[1] + order[2] == 0 + 1 + 2);
    for (auto& s : longs) s.release = true;
    // Parked ones get their turn in order as the others end; every job finishes.
    REQUIRE(eventually([&] {
        for (auto& s : longs)
            if (!s.done.load()) return false;
        return true;
    }));
    REQUIRE(eventually([&] { return ex.stats().threads_alive == 4; }));
    CHECK(ex.stats().long_running == 0);
    ex.stop();
}

TEST_CASE("max_long 2 lets two long jobs run and parks the third", "[runtime][executor]") {
    auto clk = std::make_shared<manual_clock>();
    detail::tick_executor ex(2, policy(clk, 5, 2));
    std::array<spinner, 3> longs;
    for (auto& s : longs) ex.post(&s);
    REQUIRE(eventually([&] { return longs[0].started.load() && longs[1].started.load(); }));
    clk->advance(5ms);  // the first two are demoted; their replacements start the third
    REQUIRE(eventually([&] { return longs[2].started.load(); }));
    clk->advance(5ms);
    REQUIRE(eventually([&] {
        const auto st = ex.stats();
        return st.demoted == 3 && st.long_running == 2 && st.long_parked == 1;
    }));
    for (auto& s : longs) s.release = true;
    REQUIRE(eventually([&] {
        for (auto& s : longs)
            if (!s.done.load()) return false;
        return true;
    }));
    ex.stop();
    CHECK(ex.stats().long_running == 0);
    CHECK(ex.stats().threads_alive == 0);
}

TEST_CASE("the preemption point is a no-op off the executor's threads", "[runtime][executor]") {
    detail::tick_executor::checkpoint();  // the test thread: returns at once
    auto clk = std::make_shared<manual_clock>();
    detail::tick_executor ex(1, policy(clk, 1, 1));
    clk->advance(1h);
    detail::tick_executor::checkpoint();
    CHECK(ex.stats().demoted == 0);
    CHECK_FALSE(ex.on_executor_thread());
}

TEST_CASE("stop waits for parked long jobs to finish", "[runtime][executor]") {
    auto clk = std::make_shared<manual_clock>();
    auto ex = std::make_unique<detail::tick_executor>(2, policy(clk, 10, 1));
    std::array<spinner, 2> longs;
    for (auto& s : longs) ex->post(&s);
    REQUIRE(eventually([&] { return longs[0].started.load() && longs[1].started.load(); }));
    clk->advance(10ms);
    REQUIRE(eventually([&] { return ex->stats().long_parked == 1; }));
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
        ex->stop();
        stopped = true;
    });
    CHECK_FALSE(stopped.load());  // it cannot return while a long job runs
    for (auto& s : longs) s.release = true;
    stopper.join();
    CHECK(stopped.load());
    for (auto& s : longs) CHECK(s.done.load());
}

TEST_CASE("a job is demoted after an eighth of the slice when jobs wait and at once when it was long within a minute",
          "[runtime][executor]") {
    auto clk = std::make_shared<manual_clock>();
    detail::tick_executor ex(1, policy(clk, 80, 1));
    // A fresh job alone: the whole slice.
    spinner fresh;
    ex.post(&fresh);
    REQUIRE(eventually([&] { return fresh.started.load(); }));
    clk->advance(10ms);
    REQUIRE(progresses(fresh, fresh.turns.load(), 1000));
    CHECK(ex.stats().demoted == 0);
    // Someone waits: an eighth of the slice is enough.
    flag_job waiting;
    ex.post(&waiting);
    REQUIRE(eventually([&] { return waiting.done.load(); }));
    CHECK(ex.stats().demoted == 1);
    fresh.release = true;
    REQUIRE(eventually([&] { return fresh.done.load(); }));

    // The same job again, within a minute of its demotion: at its first checkpoint,
    // with the clock standing still.
    fresh.release = false;
    fresh.done = false;
    fresh.started = false;
    ex.post(&fresh);
    REQUIRE(eventually([&] { return ex.stats().demoted == 2; }));
    fresh.release = true;
    REQUIRE(eventually([&] { return fresh.done.load(); }));

    // A minute later it is a fresh job again.
    clk->advance(std::chrono::minutes(1));
    fresh.release = false;
    fresh.done = false;
    fresh.started = false;
    ex.post(&fresh);
    REQUIRE(eventually([&] { return fresh.started.load(); }));
    clk->advance(10ms);
    REQUIRE(progresses(fresh, fresh.turns.load(), 1000));
    CHECK(ex.stats().demoted == 2);
    fresh.release = true;
    REQUIRE(eventually([&] { return fresh.done.load(); }));
    ex.stop();
}
