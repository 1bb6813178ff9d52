// host/src/runtime_executor.hpp — the tick executor: the threads that run ticks.
//
// A seam of its own (contract 10): jobs are intrusive (a slot is a job), posted singly
// or in batches with one lock, run by a fixed pool of threads named "vigy-tick". Phase 2
// changes how long ticks are isolated here (a tick that runs past a slice has its thread
// demoted and replaced in the pool), without touching the scheduler or the pipeline.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

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
};

class tick_executor {
public:
    /// Starts `threads` (>= 1) threads.
    explicit tick_executor(unsigned threads);
    /// stop().
    ~tick_executor();
    tick_executor(const tick_executor&) = delete;
    tick_executor& operator=(const tick_executor&) = delete;

    /// Queues one job (FIFO). Any thread; no allocation.
    void post(job* j);
    /// Queues several jobs in order under one lock.
    void post_batch(job* const* jobs, std::size_t n);
    /// Runs what is queued, then joins the threads. Idempotent. Not from an executor thread.
    void stop();

    [[nodiscard]] unsigned threads() const noexcept { return static_cast<unsigned>(threads_.size()); }
    /// True on one of this executor's threads.
    [[nodiscard]] bool on_executor_thread() const noexcept;

private:
    void work();

    std::mutex m_;
    std::condition_variable cv_;
    job* head_ = nullptr;
    job* tail_ = nullptr;
    unsigned idle_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace vigy::host::detail
