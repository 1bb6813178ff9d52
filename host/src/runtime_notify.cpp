// host/src/runtime_notify.cpp — the notify thread: the store's change listener to the
// coordinator and the change subscribers, with the log lines an operator needs when the
// listener's connection goes and comes back.
#include "runtime_notify.hpp"

#include "vigy/host/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include <pthread.h>

namespace vigy::host::detail {

using event = store::change_listener::event;

notifier::notifier(store::store& db, int64_t poll_ms) : db_(db), poll_ms_(poll_ms) {}

notifier::~notifier() { stop(); }

void notifier::start(sink to) {
    if (thread_.joinable()) return;
    auto l = db_.listen();
    if (!l) return;  // SQLite: the coordinator and the watch hub poll
    sink_ = std::move(to);
    {
        std::lock_guard lk(lm_);
        listener_ = std::move(l);
    }
    stop_ = false;
    active_ = true;
    if (listener_->connected()) {
        logger()->info("change notification on {}: woken by LISTEN/NOTIFY, polling only as a safety net", db_.path());
        sink_.listening(true);
    }  // else the first wait reports it lost, and the loop logs that
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "vigy-notify");
        loop();
    });
}

void notifier::stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    listener_->interrupt();
    thread_.join();
    active_ = false;
    sink_.listening(false);
    std::lock_guard lk(lm_);
    notifications_base_ += listener_->notifications();  // counters run since open, across serves
    reconnects_base_ += listener_->reconnects();
    listener_.reset();
}

bool notifier::connected() const noexcept {
    std::lock_guard lk(lm_);
    return listener_ && listener_->connected();
}

uint64_t notifier::notifications() const noexcept {
    std::lock_guard lk(lm_);
    return notifications_base_ + (listener_ ? listener_->notifications() : 0);
}

uint64_t notifier::reconnects() const noexcept {
    std::lock_guard lk(lm_);
    return reconnects_base_ + (listener_ ? listener_->reconnects() : 0);
}

void notifier::loop() {
    while (!stop_.load()) {
        const auto r = listener_->wait(1000);
        switch (r.what) {
        case event::notified: deliver(r.topics); break;
        case event::lost:
            // Once per outage (the listener reports each loss once); it reconnects with backoff.
            logger()->warn("change notification lost: {}; polling every {} ms until it is back", r.error, poll_ms_);
            sink_.listening(false);
            break;
        case event::restored:
            logger()->info("change notification is back on {}; polling once for what was sent meanwhile", db_.path());
            sink_.listening(true);
            deliver(store::all_topics);  // what was notified in the gap is lost: look now
            break;
        case event::timeout:
        case event::interrupted: break;
        }
    }
}

void notifier::deliver(unsigned topics) {
    sink_.notified(topics);
    subs_.deliver(topics);
}

std::function<void()> notifier::subscribe(std::function<void(unsigned)> callback) {
    return subs_.subscribe(std::move(callback));
}

}  // namespace vigy::host::detail
