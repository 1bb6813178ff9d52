// host/src/runtime_bus.hpp — the in-process run bus: committed runs delivered to
// subscribers in commit order on one thread ("vigy-bus"). Publishing costs nothing
// while nobody subscribes.
#pragma once

#include "runtime_subscribers.hpp"
#include "vigy/host/runtime.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vigy::host::detail {

class event_bus {
public:
    event_bus();
    /// close().
    ~event_bus();
    event_bus(const event_bus&) = delete;
    event_bus& operator=(const event_bus&) = delete;

    /// True while someone subscribes (cheap; publishers skip building the copy otherwise).
    [[nodiscard]] bool wanted() const noexcept { return subs_.wanted(); }

    /// Queues a committed run for delivery (in call order).
    void publish(std::shared_ptr<const run> r);

    /// Adds a subscriber; the returned function unsubscribes (waiting for a running
    /// delivery; safe from inside the callback and after the bus is gone).
    std::function<void()> subscribe(std::function<void(const run&)> callback) {
        return subs_.subscribe(std::move(callback));
    }

    /// Delivers what is queued, then stops the thread; later subscriptions get nothing.
    void close();

private:
    void loop();

    subscriber_list<const run&> subs_{"run"};
    std::mutex qm_;
    std::condition_variable qcv_;
    std::deque<std::shared_ptr<const run>> queue_;
    bool closing_ = false;
    std::thread thread_;
};

}  // namespace vigy::host::detail
