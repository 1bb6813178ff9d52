// host/src/clock.cpp — the system clock pair and the manual clock for tests.
#include "vigy/host/clock.hpp"

#include <algorithm>

namespace vigy::host {

namespace {

class system_clock_impl final : public clock {
public:
    explicit system_clock_impl(int64_t offset_ms) : offset_ms_(offset_ms) {}
    time_point now() const override { return std::chrono::steady_clock::now(); }
    int64_t wall_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() +
               offset_ms_;
    }
    void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                    time_point deadline) const override {
        cv.wait_until(lock, deadline);
    }

private:
    int64_t offset_ms_;
};

}  // namespace

std::shared_ptr<clock> clock::system(int64_t wall_offset_ms) {
    if (wall_offset_ms == 0) {
        static const std::shared_ptr<clock> plain = std::make_shared<system_clock_impl>(0);
        return plain;
    }
    return std::make_shared<system_clock_impl>(wall_offset_ms);
}

manual_clock::manual_clock(int64_t start_wall_ms) : now_(time_point(std::chrono::hours(1))), wall_ms_(start_wall_ms) {}

clock::time_point manual_clock::now() const {
    std::lock_guard lk(m_);
    return now_;
}

int64_t manual_clock::wall_ms() const {
    std::lock_guard lk(m_);
    return wall_ms_;
}

void manual_clock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                              time_point deadline) const {
    {
        // Registering and checking under m_ pairs with advance(): either the waiter sees the
        // new time here, or advance() sees the waiter and notifies it under its mutex.
        std::lock_guard lk(m_);
        if (now_ >= deadline) return;
        waiters_.push_back({lock.mutex(), &cv});
    }
    cv.wait(lock);
    std::lock_guard lk(m_);
    auto it = std::find_if(waiters_.begin(), waiters_.end(),
                           [&](const waiter& w) { return w.cv == &cv && w.m == lock.mutex(); });
    if (it != waiters_.end()) waiters_.erase(it);
}

void manual_clock::advance(std::chrono::nanoseconds d) {
    std::vector<waiter> wake;
    {
        std::lock_guard lk(m_);
        if (d.count() > 0) {
            now_ += d;
            wall_frac_ += d;
            const auto whole = std::chrono::duration_cast<std::chrono::milliseconds>(wall_frac_);
            wall_ms_ += whole.count();
            wall_frac_ -= whole;
        }
        wake = waiters_;
    }
    for (const waiter& w : wake) {
        std::lock_guard lk(*w.m);  // the waiter is inside cv.wait (or past it): no lost wakeup
        w.cv->notify_all();
    }
}

}  // namespace vigy::host
