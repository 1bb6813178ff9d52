// host/src/runtime_notify.hpp — change notification for a serving runtime: one thread
// ("vigy-notify") waits on the store's change listener (PostgreSQL LISTEN/NOTIFY) and
// passes what fired to the coordinator (changes, tick requests) and to the runtime's
// change subscribers (the API's watch hub). The store has no listener on SQLite: then
// nothing starts and everything polls, as without this file.
#pragma once

#include "runtime_subscribers.hpp"
#include "vigy/store/store.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vigy::host::detail {

class notifier {
public:
    /// What the coordinator is told, on the notify thread: `topics` fired
    /// (store::change_topic bits; store::all_topics after a reconnect, since what was
    /// sent in the gap is lost), and whether the listener is connected now.
    struct sink {
        std::function<void(unsigned topics)> notified;
        std::function<void(bool up)> listening;
    };

    /// `poll_ms` is only for the log lines (the fallback poll period).
    notifier(store::store& db, int64_t poll_ms);
    /// stop().
    ~notifier();
    notifier(const notifier&) = delete;
    notifier& operator=(const notifier&) = delete;

    /// Opens the listener (blocking up to its connect timeout) and starts the thread; a
    /// no-op on SQLite. Called by the runtime once serving started; not thread-safe
    /// against stop().
    void start(sink to);
    /// Stops the thread and closes the listener; `listening(false)` is the last call
    /// to the sink. Idempotent.
    void stop();

    /// See runtime::subscribe_changes. The returned function unsubscribes (waiting for
    /// a running callback; safe from inside it and after the notifier is gone).
    std::function<void()> subscribe(std::function<void(unsigned topics)> callback);

    /// For runtime_stats: a listener is in use (PostgreSQL, serving), it is connected,
    /// the notifications and reconnects it counted.
    [[nodiscard]] bool active() const noexcept { return active_.load(); }
    [[nodiscard]] bool connected() const noexcept;
    [[nodiscard]] uint64_t notifications() const noexcept;
    [[nodiscard]] uint64_t reconnects() const noexcept;

private:
    void loop();
    void deliver(unsigned topics);

    store::store& db_;
    const int64_t poll_ms_;
    sink sink_;
    mutable std::mutex lm_;  // guards listener_ (re)assignment against the stats readers
    std::unique_ptr<store::change_listener> listener_;
    uint64_t notifications_base_ = 0, reconnects_base_ = 0;  // of listeners closed before
    subscriber_list<unsigned> subs_{"change"};
    std::atomic<bool> stop_{false}, active_{false};
    std::thread thread_;
};

}  // namespace vigy::host::detail
