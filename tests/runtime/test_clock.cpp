// tests/runtime/test_clock.cpp — host/src/clock.cpp: the system clocks and the manual
// clock tests drive schedules with.
#include "vigy/host/clock.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace std::chrono_literals;
using vigy::host::clock;
using vigy::host::manual_clock;

TEST_CASE("the manual clock moves only when advanced and wakes its waiters", "[runtime][clock]") {
    manual_clock c(1000);
    const auto t0 = c.now();
    CHECK(c.wall_ms() == 1000);
    c.advance(1500us);
    CHECK(c.now() - t0 == 1500us);
    CHECK(c.wall_ms() == 1001);  // wall ms keep the fraction
    c.advance(500us);
    CHECK(c.wall_ms() == 1002);
    std::mutex m;
    std::condition_variable cv;
    bool woke = false;
    const auto deadline = c.now() + 100ms;
    std::thread waiter([&] {
        std::unique_lock lk(m);
        while (c.now() < deadline) c.wait_until(lk, cv, deadline);
        woke = true;
    });
    c.advance(50ms);
    c.advance(50ms);  // reaches the deadline: the waiter returns
    waiter.join();
    CHECK(woke);
    std::unique_lock lk(m);
    c.wait_until(lk, cv, c.now() - 1ms);  // a deadline in the past returns at once
}

TEST_CASE("the system clock can be shifted as a host with a wrong date", "[runtime][clock]") {
    const auto plain = clock::system();
    const auto ahead = clock::system(10'000);
    const int64_t a = plain->wall_ms(), b = ahead->wall_ms();
    CHECK(b - a >= 9'900);
    CHECK(b - a <= 10'100);
    const auto n = plain->now();
    CHECK(ahead->now() >= n);  // the monotonic clock is not shifted
    CHECK(ahead->now() - n < 1s);
}
