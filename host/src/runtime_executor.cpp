// host/src/runtime_executor.cpp — the tick executor's thread pool over an intrusive FIFO.
#include "runtime_executor.hpp"

#include <pthread.h>

namespace vigy::host::detail {

namespace {
thread_local const tick_executor* current_executor = nullptr;
}

tick_executor::tick_executor(unsigned threads) {
    if (threads == 0) threads = 1;
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

tick_executor::~tick_executor() { stop(); }

bool tick_executor::on_executor_thread() const noexcept { return current_executor == this; }

void tick_executor::post(job* j) { post_batch(&j, 1); }

void tick_executor::post_batch(job* const* jobs, std::size_t n) {
    if (n == 0) return;
    unsigned wake = 0;
    {
        std::lock_guard lk(m_);
        for (std::size_t i = 0; i < n; ++i) {
            jobs[i]->next_job_ = nullptr;
            if (tail_)
                tail_->next_job_ = jobs[i];
            else
                head_ = jobs[i];
            tail_ = jobs[i];
        }
        // Wake only sleeping workers, no more than there are jobs: a busy worker drains
        // the queue before it sleeps, so most posts under load cost no futex call.
        wake = idle_ < n ? idle_ : static_cast<unsigned>(n);
    }
    if (wake == 1)
        cv_.notify_one();
    else if (wake > 1)
        cv_.notify_all();
}

void tick_executor::work() {
    pthread_setname_np(pthread_self(), "vigy-tick");  // top -H, perf, gdb
    current_executor = this;
    std::unique_lock lk(m_);
    for (;;) {
        while (!head_) {
            if (stopping_) return;
            ++idle_;
            cv_.wait(lk);
            --idle_;
        }
        job* j = head_;
        head_ = j->next_job_;
        if (!head_) tail_ = nullptr;
        lk.unlock();
        j->run();
        lk.lock();
    }
}

void tick_executor::stop() {
    {
        std::lock_guard lk(m_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

}  // namespace vigy::host::detail
