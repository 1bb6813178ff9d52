// host/src/runtime_coordination.hpp — coordination between processes sharing one
// database: the scheduler lease (acquire, renew on CLOCK_BOOTTIME, lose, regain;
// every commit fenced by its token), the control loop that picks up other processes'
// changes and tick requests (in cluster mode: those of the shards it holds, claimed under
// their epochs), and tick_now's paths (in-process, through the serving process's request
// queue, through the queue to the cluster host holding the vigy's shard, or here under a
// short lease). serve_requests is the one place tick requests are claimed and started;
// the control loop calls it (a change notification can wake that loop to call it).
#pragma once

#include "runtime_pipeline.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
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
    /// Change notification (runtime_notify.hpp), on the notify thread: wakes the control
    /// loop now to read vigy changes (store::topic_vigies) and to serve tick requests
    /// (store::topic_tick_requests) instead of at its next poll. Any thread.
    void notified(unsigned topics);
    /// Whether a change listener is connected: while it is, the control loop's polls are
    /// only a safety net (every 10 s at least); while not, every poll_ms. Either way it
    /// polls once now. Any thread.
    void set_listening(bool up);
    /// The live lease holder.
    std::optional<scheduler_info> holder();
    /// Cluster mode counters (runtime_stats).
    [[nodiscard]] bool cluster() const noexcept { return cluster_; }
    [[nodiscard]] size_t shards_held() const noexcept { return shards_held_.load(); }
    [[nodiscard]] uint64_t takeovers() const noexcept { return takeovers_.load(); }
    [[nodiscard]] uint64_t shards_lost() const noexcept { return shards_lost_.load(); }

private:
    store::lease_request request(const std::string& owner, int64_t ttl_ms) const;
    void control_loop();
    /// Marks serving and starts the control thread (the end of a successful start).
    void launch_control();
    void renew();
    void poll_changes();
    void serve_requests();
    void set_held(int64_t token, int64_t renewed_at_boot_ms);
    // ---- cluster mode ----
    store::cluster_request cluster_request() const;
    /// One round: renew, release, acquire; applies what changed to the pipeline.
    void cluster_round();
    /// Stops ticking `shard`'s vigies at once and drops their slots; returns how many.
    /// A non-empty `why` counts it as lost and logs it.
    std::size_t drop_shard(int shard, int64_t epoch, const std::string& why);
    /// Schedules the vigies of newly held shards.
    void load_shards(const std::vector<store::shard_fence>& gained);
    [[nodiscard]] bool mine(int64_t key) const noexcept;
    /// PostgreSQL: the cluster view when cluster hosts serve the database (a host is live,
    /// or one stopped renewing less than an hour ago without leaving); nullopt otherwise
    /// (SQLite, or no cluster). A forced tick then goes to the host holding the vigy's
    /// shard (tick_in_cluster), never runs here under the scheduler lease.
    std::optional<store::cluster_view> cluster_in_use();
    /// A forced tick (with `trigger`: a trigger) through the tick-request queue, claimed
    /// by the host holding the vigy's shard under its epoch; waits for its run. UNAVAILABLE
    /// when no cluster host is live (at once, or when the last one's lease expires while
    /// waiting: the message names the shard, its last holder and how long ago) or none
    /// claimed it within `wait_ms` (cancelled, so it never runs later); DEADLINE_EXCEEDED
    /// when the claiming host, still holding the shard, did not finish within the tick's
    /// wall-clock limit plus 1 s. A claim whose host lost the shard goes back to pending
    /// for the new holder; the wait goes on. Any thread (the caller's; polls the store).
    run tick_in_cluster(const vigy_info& rec, int64_t wait_ms, const value* trigger);
    run tick_remotely(const vigy_info& rec, const store::lease_info& holder, int64_t wait_ms,
                      std::chrono::steady_clock::time_point claim_deadline, bool& retry);

    /// Cluster hosts whose heartbeat expired this long ago are forgotten (as by rounds).
    static constexpr int64_t forgotten_after_ms = 3'600'000;
    /// How often tick_in_cluster reads the cluster's hosts and shards while it waits.
    static constexpr int64_t cluster_view_period_ms = 250;

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
    bool requests_now_ = false;           // a tick request was notified: serve requests now
    std::atomic<bool> listening_{false};  // a change listener is connected (set_listening)
    int64_t applied_rv_ = 0;
    // cluster mode (the control thread's, but for the atomics)
    const bool cluster_;
    const int64_t cluster_lease_ms_, renew_deadline_ms_, retry_ms_;
    std::map<int, int64_t> held_;  // shard -> epoch, as of the last round
    int64_t last_round_ok_ = 0;    // CLOCK_BOOTTIME ms at the start of the last successful round
    std::atomic<size_t> shards_held_{0};
    std::atomic<uint64_t> takeovers_{0}, shards_lost_{0};
};

}  // namespace vigy::host::detail
