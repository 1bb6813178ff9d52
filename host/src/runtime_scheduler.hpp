// host/src/runtime_scheduler.hpp — when ticks are due: one thread over a binary heap of
// timers (O(log n) per arm at 10k–100k vigies, one wakeup for every batch of due
// timers), and the schedule policy (fixed rate without drift, skipped slots after an
// overrun, exponential backoff after failures) as pure functions. A newcomer fixing
// backoff reads this file.
#pragma once

#include "runtime_executor.hpp"

#include "vigy/host/clock.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vigy::host::detail {

using time_point = clock::time_point;

/// What a timer fires into. Called on the scheduler thread with no scheduler lock held.
class timer_target {
public:
    /// The timer armed with `token` for `due` fired. Returns a job to run on the tick
    /// executor (the scheduler posts every job of one wakeup in one batch), or nullptr.
    virtual job* on_due(uint64_t token, time_point due) = 0;

protected:
    ~timer_target() = default;
};

// ---- the schedule policy -----------------------------------------------------------

/// The next due time after a successful tick due at `due`, finishing at `now`: fixed
/// rate on the grid due + k·interval (no drift); when the tick overran by more than a
/// quarter interval, the missed slots are skipped (never piled up) and counted.
struct next_fire {
    time_point at;
    uint64_t skipped = 0;
};
next_fire next_after_success(time_point due, time_point now, std::chrono::milliseconds interval);

/// Backoff after `failures` (>= 1) consecutive failed ticks: 1 s, 2 s, 4 s, ... capped at 30 s.
std::chrono::milliseconds backoff_after(int failures);

// ---- the timer thread --------------------------------------------------------------

class scheduler {
public:
    scheduler(std::shared_ptr<clock> clock, tick_executor& executor);
    ~scheduler();
    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    /// Starts the thread ("vigy-sched"). Idempotent.
    void start();
    /// Stops the thread and drops every timer. Idempotent.
    void stop();

    /// Fires `target->on_due(token, due)` at or after `due` (monotonic). A target
    /// ignores a token it no longer expects (that is how timers are cancelled).
    void arm(std::shared_ptr<timer_target> target, uint64_t token, time_point due);

    [[nodiscard]] std::size_t pending() const;

private:
    struct entry {
        time_point due;
        uint64_t token;
        std::shared_ptr<timer_target> target;
    };
    struct later {
        bool operator()(const entry& a, const entry& b) const noexcept { return a.due > b.due; }
    };
    void loop();

    std::shared_ptr<clock> clock_;
    tick_executor& executor_;
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::vector<entry> heap_;
    bool running_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace vigy::host::detail
