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

std::function<void()> event_bus::subscribe(std::function<void(const run&)> callback) {
    auto s = std::make_shared<subscriber>();
    s->cb = std::move(callback);
    {
        std::lock_guard lk(state_->m);
        state_->subscribers.push_back(s);
        state_->count = state_->subscribers.size();
    }
    std::weak_ptr<state> weak = state_;
    return [weak, s] {
        {
            std::lock_guard lk(s->m);  // waits for a running delivery (recursive: safe from the callback)
            s->active = false;
        }
        auto st = weak.lock();
        if (!st) return;  // the runtime is gone
        std::lock_guard lk(st->m);
        auto& v = st->subscribers;
        v.erase(std::remove(v.begin(), v.end(), s), v.end());
        st->count = v.size();
    };
}

void event_bus::loop() {
    pthread_setname_np(pthread_self(), "vigy-bus");
    std::vector<std::shared_ptr<subscriber>> subs;
    for (;;) {
        std::shared_ptr<const run> r;
        {
            std::unique_lock lk(qm_);
            qcv_.wait(lk, [&] { return closing_ || !queue_.empty(); });
            if (queue_.empty()) return;
            r = std::move(queue_.front());
            queue_.pop_front();
        }
        {
            std::lock_guard lk(state_->m);
            subs = state_->subscribers;
        }
        for (auto& s : subs) {
            std::lock_guard lk(s->m);
            if (!s->active) continue;
            try {
                s->cb(*r);
            } catch (const std::exception& e) {
                logger()->warn("run subscriber threw: {}", e.what());
            } catch (...) {
                logger()->warn("run subscriber threw");
            }
        }
        subs.clear();
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
    std::lock_guard lk(state_->m);
    for (auto& s : state_->subscribers) {
        std::lock_guard sk(s->m);
        s->active = false;
    }
    state_->subscribers.clear();
    state_->count = 0;
}

}  // namespace vigy::host::detail
