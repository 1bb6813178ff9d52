// store/src/write_gate.hpp — lets this process's foreground writes go before the batch
// writer (private to the store).
//
// SQLite's busy handler is not fair: a connection waiting for the write lock sleeps and
// retries, while the writer thread, committing batches back to back, takes the lock again
// the moment it commits. Measured at ~95,000 commits/s: a lease renewal waited 2.1 s for
// the lock, long enough for the scheduler to stop starting ticks (it starts none without
// surely holding the lease). Foreground writers (lease, tick requests, registrations,
// commit_now, prune) hold a ticket while they wait and write; before each batch the writer
// thread waits, bounded, until no ticket is out. Other processes are not seen here: they
// keep SQLite's busy handling (busy_timeout).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace vigy::store::detail {

class write_gate {
public:
    /// Held by a foreground writer from before it takes its mutex until it is done.
    class ticket {
    public:
        explicit ticket(write_gate& g) noexcept : g_(g) { g_.waiting_.fetch_add(1, std::memory_order_acq_rel); }
        ~ticket() {
            if (g_.waiting_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard lock(g_.mu_);
                g_.cv_.notify_all();
            }
        }
        ticket(const ticket&) = delete;
        ticket& operator=(const ticket&) = delete;

    private:
        write_gate& g_;
    };

    /// Called by the writer thread before it begins a batch: returns at once when no
    /// ticket is out, else when the last one is returned or after `max`, whichever is
    /// first (bounded, so a foreground write that waits for the writer cannot deadlock).
    void yield(std::chrono::milliseconds max) {
        if (waiting_.load(std::memory_order_acquire) == 0) return;
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, max, [this] { return waiting_.load(std::memory_order_acquire) == 0; });
    }

private:
    std::atomic<int> waiting_{0};
    std::mutex mu_;
    std::condition_variable cv_;
};

}  // namespace vigy::store::detail
