// host/src/runtime_executor.cpp — the tick executor's thread pool over an intrusive FIFO,
// and its long lane (demotion, parking, round robin; see runtime_executor.hpp).
#include "runtime_executor.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace vigy::host::detail {

struct tick_executor::worker {
    std::thread thread;
    std::list<worker>::iterator self;  // its node (moved between workers_ and finished_)
    bool in_job = false;
    job* current = nullptr;
    bool demoted = false;
    bool has_turn = false;  // a demoted job holding one of the max_long turns
    host::clock::time_point slice_start{};
};

struct tick_executor::waiter {
    std::condition_variable cv;
    waiter* next = nullptr;
    bool granted = false;
};

namespace {
thread_local const tick_executor* current_executor = nullptr;
thread_local void* current_worker = nullptr;  // tick_executor::worker of this thread

fairness normalised(fairness f) {
    if (f.slice < std::chrono::milliseconds::zero()) f.slice = std::chrono::milliseconds::zero();
    if (f.max_long == 0) f.max_long = 1;
    f.long_nice = std::clamp(f.long_nice, 0, 19);
    if (!f.clock) f.clock = host::clock::system();
    return f;
}

/// Lowers the calling thread's priority by `n` nice levels (Linux: per thread).
void lower_priority(int n) noexcept {
    if (n <= 0) return;
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    errno = 0;
    const int now = ::getpriority(PRIO_PROCESS, tid);
    if (now == -1 && errno != 0) return;
    (void)::setpriority(PRIO_PROCESS, tid, std::min(19, now + n));  // best effort
}
}  // namespace

tick_executor::tick_executor(unsigned threads, fairness f)
    : threads_(threads == 0 ? 1 : threads), fair_(normalised(std::move(f))) {
    std::lock_guard lk(m_);
    for (unsigned i = 0; i < threads_; ++i) spawn_locked();
}

tick_executor::~tick_executor() { stop(); }

bool tick_executor::on_executor_thread() const noexcept { return current_executor == this; }

executor_stats tick_executor::stats() const {
    std::lock_guard lk(m_);
    executor_stats s = stats_;
    s.threads_alive = static_cast<unsigned>(workers_.size());
    return s;
}

void tick_executor::spawn_locked() {
    workers_.emplace_back();
    auto it = std::prev(workers_.end());
    it->self = it;
    worker* w = &*it;
    it->thread = std::thread([this, w] { work(w); });
}

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
        queued_.fetch_add(n, std::memory_order_relaxed);
        // Wake only sleeping workers, no more than there are jobs: a busy worker drains
        // the queue before it sleeps, so most posts under load cost no futex call.
        wake = idle_ < n ? idle_ : static_cast<unsigned>(n);
    }
    if (wake == 1)
        cv_.notify_one();
    else if (wake > 1)
        cv_.notify_all();
}

void tick_executor::work(worker* self) {
    pthread_setname_np(pthread_self(), "vigy-tick");  // top -H, perf, gdb
    current_executor = this;
    current_worker = self;
    const host::clock& clk = *fair_.clock;
    std::unique_lock lk(m_);
    for (;;) {
        while (!head_) {
            if (stopping_ || self->demoted) goto out;
            ++idle_;
            cv_.wait(lk);
            --idle_;
        }
        {
            job* j = head_;
            head_ = j->next_job_;
            if (!head_) tail_ = nullptr;
            queued_.fetch_sub(1, std::memory_order_relaxed);
            lk.unlock();
            self->slice_start = clk.now();
            self->current = j;
            self->in_job = true;
            j->run();
            self->in_job = false;
            self->current = nullptr;
            lk.lock();
        }
        if (!finished_.empty() && !self->demoted) {  // join demoted threads that left
            std::list<worker> done;
            done.splice(done.end(), finished_);
            lk.unlock();
            for (worker& d : done)
                if (d.thread.joinable()) d.thread.join();
            lk.lock();
        }
        if (self->demoted) {
            if (self->has_turn) release_turn_locked(*self);
            // A demoted thread leaves (a replacement took its place in the pool) — but
            // while stopping it helps drain what is left.
            if (!stopping_) break;
        }
    }
out:
    finished_.splice(finished_.end(), workers_, self->self);
    done_cv_.notify_all();  // stop() waits for workers_ to empty
}

void tick_executor::checkpoint() noexcept {
    const tick_executor* ex = current_executor;
    if (!ex || !current_worker) return;
    const_cast<tick_executor*>(ex)->on_checkpoint(*static_cast<worker*>(current_worker));
}

void tick_executor::on_checkpoint(worker& w) noexcept {
    if (!w.in_job || fair_.slice.count() == 0) return;
    const host::clock& clk = *fair_.clock;
    const auto now = clk.now();
    auto limit = fair_.slice;
    if (!w.demoted) {
        const auto last = w.current->demoted_at_;
        const bool recently_long = last != host::clock::time_point{} && now - last < std::chrono::minutes(1);
        if (recently_long)
            limit = decltype(limit)::zero();  // its first checkpoint
        else if (queued_.load(std::memory_order_relaxed) != 0)
            limit = fair_.slice / 8;
    }
    if (now - w.slice_start < limit) return;
    std::list<worker> done;
    bool demote_now = false;
    {
        std::unique_lock lk(m_);
        done.splice(done.end(), finished_);
        if (!w.demoted) {
            // Leave the regular pool: a fresh thread takes this one's place at once.
            w.demoted = true;
            w.current->demoted_at_ = now;  // during the job's run: its owner is this thread
            demote_now = true;
            ++stats_.demoted;
            spawn_locked();
            if (stats_.long_running < fair_.max_long) {
                ++stats_.long_running;
                w.has_turn = true;
            } else {
                park_locked(lk, w);
            }
        } else if (park_head_) {
            // Round robin: the first parked long job gets this turn; this one waits.
            release_turn_locked(w);
            park_locked(lk, w);
        }
    }
    if (demote_now) {
        pthread_setname_np(pthread_self(), "vigy-long");
        lower_priority(fair_.long_nice);
    }
    for (worker& d : done)
        if (d.thread.joinable()) d.thread.join();
    w.slice_start = clk.now();
}

void tick_executor::park_locked(std::unique_lock<std::mutex>& lk, worker& w) {
    waiter me;
    if (park_tail_)
        park_tail_->next = &me;
    else
        park_head_ = &me;
    park_tail_ = &me;
    ++stats_.parks;
    ++stats_.long_parked;
    me.cv.wait(lk, [&] { return me.granted; });
    --stats_.long_parked;
    w.has_turn = true;
}

void tick_executor::release_turn_locked(worker& w) {
    w.has_turn = false;
    if (waiter* next = park_head_) {  // the turn passes straight on: long_running stays
        park_head_ = next->next;
        if (!park_head_) park_tail_ = nullptr;
        next->granted = true;
        next->cv.notify_one();
    } else {
        --stats_.long_running;
    }
}

void tick_executor::stop() {
    std::list<worker> done;
    {
        std::unique_lock lk(m_);
        if (stopped_) return;
        stopping_ = true;
        cv_.notify_all();
        done_cv_.wait(lk, [&] { return workers_.empty(); });
        done.splice(done.end(), finished_);
        stopped_ = true;
    }
    for (worker& d : done)
        if (d.thread.joinable()) d.thread.join();
}

}  // namespace vigy::host::detail
