// host/src/runtime_scheduler.cpp — the schedule policy and the timer thread.
#include "runtime_scheduler.hpp"

#include <algorithm>

#include <pthread.h>

namespace vigy::host::detail {

next_fire next_after_success(time_point due, time_point now, std::chrono::milliseconds interval) {
    next_fire f;
    f.at = due + interval;
    if (now > f.at + interval / 4) {  // overran: skip the missed slots, never pile up
        const auto missed = (now - f.at + interval - std::chrono::nanoseconds(1)) / interval;
        f.at += missed * interval;
        f.skipped = static_cast<uint64_t>(missed);
    }
    return f;
}

std::chrono::milliseconds backoff_after(int failures) {
    const int f = std::min(std::max(failures, 1), 6);
    return std::chrono::milliseconds(std::min<int64_t>(int64_t{1000} << (f - 1), 30000));
}

scheduler::scheduler(std::shared_ptr<clock> clock, tick_executor& executor)
    : clock_(std::move(clock)), executor_(executor) {}

scheduler::~scheduler() { stop(); }

void scheduler::start() {
    std::lock_guard lk(m_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    thread_ = std::thread([this] { loop(); });
}

void scheduler::stop() {
    {
        std::lock_guard lk(m_);
        if (!running_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lk(m_);
    heap_.clear();
    running_ = false;
}

void scheduler::arm(std::shared_ptr<timer_target> target, uint64_t token, time_point due) {
    bool earliest = false;
    {
        std::lock_guard lk(m_);
        if (!running_ || stopping_) return;
        heap_.push_back({due, token, std::move(target)});
        std::push_heap(heap_.begin(), heap_.end(), later{});
        earliest = heap_.front().token == token && heap_.front().due == due;
    }
    if (earliest) cv_.notify_one();  // the thread sleeps until the old earliest: wake it
}

std::size_t scheduler::pending() const {
    std::lock_guard lk(m_);
    return heap_.size();
}

void scheduler::loop() {
    pthread_setname_np(pthread_self(), "vigy-sched");
    std::vector<entry> due;
    std::vector<job*> jobs;
    std::unique_lock lk(m_);
    while (!stopping_) {
        if (heap_.empty()) {
            cv_.wait(lk);
            continue;
        }
        const time_point now = clock_->now();
        if (heap_.front().due > now) {
            clock_->wait_until(lk, cv_, heap_.front().due);
            continue;
        }
        // Take every due timer in one go, then fire them without the lock.
        due.clear();
        while (!heap_.empty() && heap_.front().due <= now) {
            std::pop_heap(heap_.begin(), heap_.end(), later{});
            due.push_back(std::move(heap_.back()));
            heap_.pop_back();
        }
        lk.unlock();
        jobs.clear();
        for (entry& e : due)
            if (job* j = e.target->on_due(e.token, e.due)) jobs.push_back(j);
        executor_.post_batch(jobs.data(), jobs.size());
        due.clear();  // drop the targets' references outside the lock
        lk.lock();
    }
}

}  // namespace vigy::host::detail
