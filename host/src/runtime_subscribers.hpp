// host/src/runtime_subscribers.hpp — the subscriber list behind the run bus and change
// notification: callbacks added and removed from any thread, delivered on the caller's
// (one delivering thread at a time), with an unsubscribe that waits for a running delivery.
#pragma once

#include "vigy/host/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace vigy::host::detail {

/// `Arg` is what a callback takes (`const run&`, `unsigned`).
template <class Arg>
class subscriber_list {
public:
    /// `what` names the subscribers in the log line of one that throws ("run", "change").
    explicit subscriber_list(const char* what) : state_(std::make_shared<state>()), what_(what) {}

    /// Adds `callback`; the returned function unsubscribes, waiting for a running delivery
    /// to it (recursive: safe from inside the callback) and safe after the list is gone.
    std::function<void()> subscribe(std::function<void(Arg)> callback) {
        auto s = std::make_shared<subscriber>();
        s->cb = std::move(callback);
        {
            std::lock_guard lk(state_->m);
            state_->list.push_back(s);
            state_->count = state_->list.size();
        }
        std::weak_ptr<state> weak = state_;
        return [weak, s] {
            {
                std::lock_guard lk(s->m);
                s->active = false;
            }
            auto st = weak.lock();
            if (!st) return;  // the list is gone
            std::lock_guard lk(st->m);
            auto& v = st->list;
            v.erase(std::remove(v.begin(), v.end(), s), v.end());
            st->count = v.size();
        };
    }

    /// Calls every active subscriber with `a` on this thread; one that throws is logged
    /// and the others still run.
    void deliver(Arg a) {
        std::vector<std::shared_ptr<subscriber>> subs;
        {
            std::lock_guard lk(state_->m);
            subs = state_->list;
        }
        for (auto& s : subs) {
            std::lock_guard lk(s->m);
            if (!s->active) continue;
            try {
                s->cb(a);
            } catch (const std::exception& e) {
                logger()->warn("{} subscriber threw: {}", what_, e.what());
            } catch (...) {
                logger()->warn("{} subscriber threw", what_);
            }
        }
    }

    /// Deactivates and drops every subscriber (later deliveries reach none of them).
    void clear() {
        std::lock_guard lk(state_->m);
        for (auto& s : state_->list) {
            std::lock_guard sk(s->m);
            s->active = false;
        }
        state_->list.clear();
        state_->count = 0;
    }

    /// True while someone subscribes (cheap: a relaxed load).
    [[nodiscard]] bool wanted() const noexcept { return state_->count.load(std::memory_order_relaxed) > 0; }

private:
    struct subscriber {
        std::recursive_mutex m;
        bool active = true;
        std::function<void(Arg)> cb;
    };
    struct state {
        std::mutex m;
        std::vector<std::shared_ptr<subscriber>> list;
        std::atomic<std::size_t> count{0};
    };
    std::shared_ptr<state> state_;
    const char* what_;
};

}  // namespace vigy::host::detail
