// host/src/runtime_executor.hpp — the tick executor: the threads that run ticks.
//
// A seam of its own (contract 10): jobs are intrusive (a slot is a job), posted singly
// or in batches with one lock, run by a fixed pool of regular threads named "vigy-tick".
//
// Fair scheduling (docs/operations.md, "Fair scheduling"). A long or runaway tick must
// not delay other vigies. Reconcilers call the tick's `cancelled` slot regularly (the
// lisp evaluator: about every 1024 steps); the host turns that call into a preemption
// point, `tick_executor::checkpoint()`:
//
//  - A job that has run longer than `slice` on a regular thread is DEMOTED — sooner, after
//    slice / 8, when jobs are waiting in the queue (a burst of long starts drains in
//    slice / 8 steps), and at its first checkpoint when it was demoted within the last
//    minute (a runaway program retried after its backoff does not hold a regular
//    thread again): its thread
//    leaves the regular pool (a fresh regular thread replaces it at once, so the pool
//    always has `threads` threads free for short ticks), renames itself "vigy-long",
//    lowers its priority (nice `long_nice`) and joins the LONG LANE.
//  - At most `max_long` demoted jobs run at once. The others are PARKED inside
//    checkpoint() on a condition variable (no CPU, no lock of the program held) in a
//    FIFO; every `slice` a running long job hands its turn to the first parked one
//    and parks at the back (round robin, like BEAM's reductions, but over parked
//    threads instead of migrated stacks: the plugin's thread_local state, its private
//    evaluation stack and sanitizers stay valid because a tick never changes thread).
//  - A demoted thread exits when its job returns (its priority cannot be raised back
//    without CAP_SYS_NICE; its thread_local evaluator memory goes with it).
//
// A job that never reaches a checkpoint (a reconciler that does not poll `cancelled`)
// is never demoted: it keeps its regular thread as before. slice 0 turns the feature
// off (no demotion, no parking: the executor of wave 1).
//
// Time is read on the injected clock (host::clock::now()), so tests drive slices with a
// manual clock. Parked time counts against a tick's wall-clock limit (it is wall time).
#pragma once

#include "vigy/host/clock.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace vigy::host::detail {

/// Something the executor runs. The poster keeps it alive until run() returned.
class job {
public:
    /// Runs on an executor thread; must not throw.
    virtual void run() noexcept = 0;

protected:
    ~job() = default;

private:
    friend class tick_executor;
    job* next_job_ = nullptr;
    // When a run of this job was last demoted (set during that run, by its thread): a
    // job demoted within the last minute is demoted at its first checkpoint next time.
    clock::time_point demoted_at_{};
};

/// How the executor shares the CPU between short and long jobs (see the file comment).
struct fairness {
    /// A job running longer than this on a regular thread is demoted to the long lane;
    /// a long job runs this long before it yields its turn. Zero = off.
    std::chrono::milliseconds slice{0};
    /// Demoted jobs running at once (>= 1; 0 is taken as 1); the rest are parked.
    unsigned max_long = 1;
    /// Nice increment applied to a demoted thread (0..19; 0 = unchanged).
    int long_nice = 10;
    /// Slices are measured on this clock (nullptr = clock::system()).
    std::shared_ptr<host::clock> clock;
};

/// Counters of the executor (for stats, tests and the bench).
struct executor_stats {
    uint64_t demoted = 0;        ///< jobs demoted to the long lane since start
    uint64_t parks = 0;          ///< times a long job was parked (waiting for its turn)
    unsigned long_running = 0;   ///< demoted jobs holding a turn now (<= max_long)
    unsigned long_parked = 0;    ///< demoted jobs parked now
    unsigned threads_alive = 0;  ///< regular + demoted threads not yet joined
};

class tick_executor {
public:
    /// Starts `threads` (>= 1; 0 is taken as 1) regular threads.
    explicit tick_executor(unsigned threads, fairness f = {});
    /// stop().
    ~tick_executor();
    tick_executor(const tick_executor&) = delete;
    tick_executor& operator=(const tick_executor&) = delete;

    /// Queues one job (FIFO). Any thread; no allocation.
    void post(job* j);
    /// Queues several jobs in order under one lock.
    void post_batch(job* const* jobs, std::size_t n);
    /// Runs what is queued, waits for every long job, then joins the threads.
    /// Idempotent. Not from an executor thread.
    void stop();

    /// The regular pool's size (demoted threads not counted).
    [[nodiscard]] unsigned threads() const noexcept { return threads_; }
    /// True on one of this executor's threads (regular or demoted).
    [[nodiscard]] bool on_executor_thread() const noexcept;
    [[nodiscard]] executor_stats stats() const;
    [[nodiscard]] const fairness& policy() const noexcept { return fair_; }

    /// The preemption point: called by a running job (through the tick's `cancelled`
    /// slot) on its own thread. Returns at once off an executor thread, outside a job,
    /// with fairness off, or within the current slice; otherwise demotes the job and/or
    /// parks it until it has a turn on the long lane. Never throws.
    static void checkpoint() noexcept;

private:
    struct worker;
    struct waiter;
    void spawn_locked();
    void work(worker* self);
    void on_checkpoint(worker& w) noexcept;
    void park_locked(std::unique_lock<std::mutex>& lk, worker& w);
    void release_turn_locked(worker& w);

    const unsigned threads_;
    const fairness fair_;
    mutable std::mutex m_;
    std::condition_variable cv_;       // jobs queued, or stopping
    std::condition_variable done_cv_;  // a thread left (stop() waits for all)
    job* head_ = nullptr;
    job* tail_ = nullptr;
    std::atomic<std::size_t> queued_{0};  // jobs in the FIFO (read by checkpoints without the lock)
    unsigned idle_ = 0;
    bool stopping_ = false;
    bool stopped_ = false;
    std::list<worker> workers_;    // every live thread (regular and demoted)
    std::list<worker> finished_;   // exited demoted threads, joined by the next spawn or stop
    waiter* park_head_ = nullptr;  // FIFO of parked long jobs
    waiter* park_tail_ = nullptr;
    executor_stats stats_;
};

}  // namespace vigy::host::detail
