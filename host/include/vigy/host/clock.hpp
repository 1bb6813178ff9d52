/// vigy/host/clock.hpp — the clocks a runtime schedules by, injectable for tests.
///
/// A runtime reads two clocks through one `clock`: a monotonic one (when ticks are
/// due, tick durations, lateness, backoff) and the wall clock (run timestamps, epoch
/// ms). `clock::system()` is the real pair (std::chrono::steady_clock and
/// system_clock, the latter optionally shifted by a fixed offset — what a host whose
/// `date` is wrong looks like). `manual_clock` only moves when told, so a test can
/// drive fixed-rate schedules, overruns and backoff exactly, without sleeping.
///
/// The scheduler lease never uses a `clock`: lease expiry is judged on the
/// system-wide CLOCK_BOOTTIME (see vigy/store/store.hpp), which no injected or
/// skewed clock changes.
///
/// Threading: every member is thread-safe.
#ifndef VIGY_HOST_CLOCK_HPP
#define VIGY_HOST_CLOCK_HPP

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace vigy::host {

/// The clock interface (see the file comment).
class clock {
public:
    using time_point = std::chrono::steady_clock::time_point;
    virtual ~clock() = default;

    /// Monotonic now.
    virtual time_point now() const = 0;
    /// Wall-clock now, ms since the Unix epoch (UTC).
    virtual int64_t wall_ms() const = 0;
    /// Waits on `cv` (its mutex held through `lock`, released while waiting) until
    /// now() >= deadline or a notification; spurious wakeups are allowed, so callers
    /// loop on their condition.
    virtual void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            time_point deadline) const = 0;

    /// The real clocks; the wall clock shifted by `wall_offset_ms` (0 = as is).
    static std::shared_ptr<clock> system(int64_t wall_offset_ms = 0);
};

/// A clock that moves only through advance(). Its monotonic time starts at an
/// arbitrary point; its wall time at `start_wall_ms`.
class manual_clock final : public clock {
public:
    explicit manual_clock(int64_t start_wall_ms = 1'800'000'000'000);

    time_point now() const override;
    int64_t wall_ms() const override;
    void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                    time_point deadline) const override;

    /// Moves both clocks forward by `d` (>= 0) and wakes every waiter.
    void advance(std::chrono::nanoseconds d);

private:
    struct waiter {
        std::mutex* m;
        std::condition_variable* cv;
    };
    mutable std::mutex m_;
    time_point now_;
    int64_t wall_ms_;
    std::chrono::nanoseconds wall_frac_{0};
    mutable std::vector<waiter> waiters_;
};

}  // namespace vigy::host

#endif  // VIGY_HOST_CLOCK_HPP
