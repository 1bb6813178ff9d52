// host/src/runtime_bus.cpp — the run bus.
#include "runtime_bus.hpp"

#include "vigy/host/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include <pthread.h>

namespace vigy::host::detail {

event_bus::event_bus() : thread_([this] { loop(); }) {}

event_bus::~event_bus() { close(); }

void event_bus::publish(std::shared_ptr<const run> r) {
    {
        std::lock_guard lk(qm_);
        if (closing_) return;
        queue_.push_back(std::move(r));
    }
    qcv_.notify_one();
}

void event_bus::loop() {
    pthread_setname_np(pthread_self(), "vigy-bus");
    for (;;) {
        std::shared_ptr<const run> r;
        {
            std::unique_lock lk(qm_);
            qcv_.wait(lk, [&] { return closing_ || !queue_.empty(); });
            if (queue_.empty()) return;
            r = std::move(queue_.front());
            queue_.pop_front();
        }
        subs_.deliver(*r);
    }
}

void event_bus::close() {
    {
        std::lock_guard lk(qm_);
        if (closing_ && !thread_.joinable()) return;
        closing_ = true;
    }
    qcv_.notify_all();
    if (thread_.joinable()) thread_.join();
    subs_.clear();
}

}  // namespace vigy::host::detail
