/// vigy/store/notify.hpp — change notification without polling, where the engine offers
/// it: PostgreSQL LISTEN/NOTIFY. SQLite has none (store::listen() returns nullptr there;
/// poll change_seq(), runs_after() and claim_tick_requests() instead).
///
/// What is notified. Every store transaction that changes a vigy (the change_seq bump),
/// commits runs (one writer batch: one notification, not one per run) or queues a tick
/// request also sends a notification on that topic's channel, in the same transaction:
/// PostgreSQL delivers it only when the transaction commits, after the change is visible
/// to every session; a rolled-back transaction notifies nothing. Notifications carry no
/// data a listener needs (read the store after one); several of one topic may be merged.
///
/// What is not guaranteed. A notification sent while the listener's connection is down
/// is lost for good: after `restored`, read the store once as if every topic fired. A
/// listener is a wake-up, never the only way to learn of a change: keep a (slower) poll.
#ifndef VIGY_STORE_NOTIFY_HPP
#define VIGY_STORE_NOTIFY_HPP

#include <cstdint>
#include <memory>
#include <string>

namespace vigy::store {

/// What a notification is about: bits of a topic set (unsigned).
enum change_topic : unsigned {
    topic_vigies = 1u << 0,         ///< a vigy was added, changed or deleted (change_seq moved)
    topic_runs = 1u << 1,           ///< a transaction committed runs (runs_after has more)
    topic_tick_requests = 1u << 2,  ///< a tick request was queued (claim_tick_requests has work)
};
/// Every topic (what a caller assumes fired after `restored`).
inline constexpr unsigned all_topics = topic_vigies | topic_runs | topic_tick_requests;

/// The PostgreSQL channel of each topic (what the store's transactions pg_notify on).
inline constexpr const char* channel_vigies = "vigy_vigies";
inline constexpr const char* channel_runs = "vigy_runs";
inline constexpr const char* channel_tick_requests = "vigy_tick_requests";

/// How a listener reconnects (milliseconds).
struct listen_options {
    /// The first wait between reconnect attempts after the connection was lost; each
    /// failed attempt doubles it up to max_backoff_ms. A successful reconnect resets it.
    std::int64_t min_backoff_ms = 100;
    std::int64_t max_backoff_ms = 5000;
    /// An attempt that has not connected and LISTENed within this long fails.
    std::int64_t connect_timeout_ms = 10'000;
};

/// One LISTEN session on its own connection (not one of the store's sessions), made by
/// store::listen(). Destroying it closes the connection; it does not need its store.
///
/// Threading: wait() is for one thread at a time (the listener's own thread);
/// interrupt(), connected(), notifications() and reconnects() may be called from any
/// thread at any time, also during a wait().
///
/// Errors: nothing here throws for a database problem: a lost or refused connection is
/// an event of wait() (`lost`, with the reason in `error`), retried with backoff by
/// later calls. Messages name the database by its display form (a URL's password as
/// `***`), never the password.
class change_listener {
public:
    enum class event {
        notified,     ///< `topics` fired (at least one bit)
        timeout,      ///< nothing within the timeout (also while still disconnected)
        lost,         ///< the connection is gone (reported once per loss; the first wait
                      ///< reports it too when listen() could not connect)
        restored,     ///< reconnected and LISTENing again; notifications of the gap are lost
        interrupted,  ///< interrupt() was called
    };
    struct result {
        event what = event::timeout;
        unsigned topics = 0;  ///< change_topic bits; non-zero only for `notified`
        std::string error;    ///< for `lost`: why (libpq's message, password-free)
    };

    ~change_listener();
    change_listener(const change_listener&) = delete;
    change_listener& operator=(const change_listener&) = delete;

    /// Waits up to `timeout_ms` (>= 0; 0 = only what already arrived) for notifications.
    /// While disconnected it reconnects when the backoff allows, within the same wait.
    /// Returns early on the first event.
    result wait(std::int64_t timeout_ms);
    /// Makes the current wait(), or the next one, return `interrupted` at once.
    void interrupt() noexcept;
    /// True while the connection is up and LISTENing.
    [[nodiscard]] bool connected() const noexcept;
    /// Notifications received since listen() (each one counts, merged or not).
    [[nodiscard]] std::uint64_t notifications() const noexcept;
    /// Times the connection was restored after a loss.
    [[nodiscard]] std::uint64_t reconnects() const noexcept;

    struct impl;
    explicit change_listener(std::unique_ptr<impl> p);

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace vigy::store

#endif  // VIGY_STORE_NOTIFY_HPP
