// host/src/runtime_coordination.hpp — coordination between processes sharing one
// database: the scheduler lease (acquire, renew on CLOCK_BOOTTIME, lose, regain;
// every commit fenced by its token), the control loop that picks up other processes'
// changes and tick requests, and tick_now's three paths (in-process, through the
// serving process's request queue, or here under a short lease).
#pragma once

#include "runtime_pipeline.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace vigy::host::detail {

class coordinator {
public:
    coordinator(store::store& db, pipeline& p, lease_state& lease, event_bus& bus, const registry& reg,
                std::shared_ptr<host::clock> clk, tick_limits defaults, const runtime_options& options,
                std::string db_path);
    ~coordinator();
    coordinator(const coordinator&) = delete;
    coordinator& operator=(const coordinator&) = delete;

    /// Takes the lease (FAILED_PRECONDITION naming a live holder; UNAVAILABLE when it
    /// cannot be had), starts the pipeline, schedules every enabled vigy, starts the
    /// control loop. Not thread-safe against stop_serving (the runtime serialises them).
    void start_serving();
    /// Drains the pipeline (in-flight and queued forced ticks finish), flushes the
    /// writer, stops the control loop, releases the lease.
    void stop_serving();
    [[nodiscard]] bool serving() const noexcept { return serving_.load(); }

    /// See runtime::tick_now. With `trigger`, the tick sees it as (vigy-trigger).
    run tick_now(const vigy_info& rec, int64_t wait_ms, const value* trigger = nullptr);
    /// See runtime::trigger: `trigger` is the (vigy-trigger) map.
    std::optional<run> trigger(const vigy_info& rec, const value& trigger, int64_t wait_ms);
    /// See runtime::wait_synced.
    bool wait_synced(int64_t resource_version, std::chrono::milliseconds timeout);
    /// The live lease holder.
    std::optional<scheduler_info> holder();

private:
    store::lease_request request(const std::string& owner, int64_t ttl_ms) const;
    void control_loop();
    void renew();
    void poll_changes();
    void serve_requests();
    void set_held(int64_t token, int64_t renewed_at_boot_ms);
    run tick_remotely(const vigy_info& rec, const store::lease_info& holder, int64_t wait_ms,
                      std::chrono::steady_clock::time_point claim_deadline, bool& retry);

    store::store& db_;
    pipeline& pipeline_;
    lease_state& lease_;
    event_bus& bus_;
    const registry& reg_;
    std::shared_ptr<host::clock> clk_;
    const tick_limits defaults_;
    const int64_t ttl_ms_;
    const int64_t renew_ms_;
    const int64_t poll_ms_;
    const std::string db_path_;
    const std::string host_;
    const int64_t pid_;
    const std::string owner_;

    std::atomic<bool> serving_{false};
    std::atomic<bool> draining_{false};
    std::thread control_;
    std::mutex m_;  // guards the fields below
    std::condition_variable cv_;
    bool control_stop_ = false;
    bool poll_now_ = false;
    int64_t applied_rv_ = 0;
};

}  // namespace vigy::host::detail
