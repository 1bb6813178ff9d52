// host/src/runtime_pipeline.hpp — the tick pipeline: hydrate → tick → commit → publish.
//
// One `slot` per scheduled vigy holds everything about it: its spec, its reconciler
// (built once per revision and limits), its kv / conditions / tick clock cache (loaded
// from the store once, kept up to date by its own successful ticks, dropped when a
// commit fails or the lease changes hands), its timer and its queue of forced ticks.
// While busy it borrows a commit from the pipeline's pool (buffers that keep their
// capacity from tick to tick, warm in cache); an idle slot holds none. A slot is
// "busy" from the start of a tick until its commit completed, so a forced tick never
// reads a kv cache about to change and two ticks of one vigy never overlap.
//
// Flow: the scheduler (or a forced tick) makes a slot busy and posts it to the tick
// executor; the slot ticks and submits its commit to the store's writer; the writer's
// sink (this pipeline, on the writer thread) publishes the committed runs on the bus in
// commit order and posts the slots back; each slot then settles its cache, answers a
// forced tick, arms its next fire, and starts queued work without another hop.
#pragma once

#include "runtime_bus.hpp"
#include "runtime_executor.hpp"
#include "runtime_mapping.hpp"
#include "runtime_scheduler.hpp"

#include "vigy/host/reconciler.hpp"
#include "vigy/host/runtime.hpp"
#include "vigy/host/tick_context.hpp"

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace vigy::host::detail {

/// The scheduler lease as the pipeline sees it (coordination keeps it up to date).
struct lease_state {
    std::atomic<int64_t> token{0};                ///< fencing token while held, 0 when not
    std::atomic<int64_t> valid_until_boot_ms{0};  ///< CLOCK_BOOTTIME ms before which we surely hold it
    [[nodiscard]] bool valid_now() const noexcept {
        return token.load(std::memory_order_acquire) != 0 &&
               boot_ms() < valid_until_boot_ms.load(std::memory_order_acquire);
    }

    // ---- cluster mode (PostgreSQL): shard leases instead of the scheduler lease ----
    // `token` is then 1 while this host is a member and `valid_until_boot_ms` the end of
    // its last successful round's renew deadline (every held shard was renewed in it).
    /// Sets cluster mode with `count` shards (before the pipeline starts; 0 = off).
    void set_shards(int count) {
        shard_count = count;
        shard_epochs = count > 0 ? std::make_unique<std::atomic<int64_t>[]>(static_cast<std::size_t>(count)) : nullptr;
        for (int i = 0; i < count; ++i) shard_epochs[i].store(0);
    }
    [[nodiscard]] bool cluster() const noexcept { return shard_count > 0; }
    /// The epoch under which this host holds `shard`, 0 when it does not.
    [[nodiscard]] int64_t epoch_of(int shard) const noexcept {
        return shard >= 0 && shard < shard_count ? shard_epochs[shard].load(std::memory_order_acquire) : 0;
    }
    int shard_count = 0;
    std::unique_ptr<std::atomic<int64_t>[]> shard_epochs;  ///< per shard: held epoch, 0 = not held
};

/// A forced tick waiting for a slot. `done` is called once, on an executor thread,
/// with the committed run, or with the error.
struct forced_job {
    std::optional<int64_t> request_id;  ///< a tick request of another process
    /// What it was claimed under: the lease token, or minus the shard's epoch (cluster
    /// mode; the tick then runs only under that epoch)
    int64_t request_token = 0;
    std::function<void(std::shared_ptr<const run>, const status_error*)> done;
};

/// A reconciler built for one revision and set of limits (or why it could not be).
struct reconciler_cache {
    std::optional<reconciler> rc;
    std::string revision;
    tick_limits limits;
    bool built = false;
    std::string error;
    vigy_status status = VIGY_OK;
    void ensure(const registry& reg, const slot_spec& spec, const tick_limits& defaults);
};

/// What one tick runs with.
struct tick_input {
    const slot_spec& spec;
    const reconciler_cache& rc;
    const kv_map& kv;  ///< read in place
    const std::vector<condition_record>& conditions;
    store::tick_clock clock;  ///< successful ticks so far, the last one's start
    run_trigger trigger = run_trigger::schedule;
    int64_t lateness_us = 0;
    const host::clock& clk;
    const value* why = nullptr;  ///< the (vigy-trigger) map of a triggered tick, nullptr otherwise
    std::string_view why_kind;   ///< run_record::trigger_kind ("" | event | condition | manual | catch-up)
};

/// Runs one tick and fills `commit` in place (run, buffers, kv, conditions, events).
/// On success, moves the kv changes into `kv_after` and the merged conditions into
/// `conditions_after` when given (they may be the input's own). Returns whether the
/// program succeeded. Never throws except bad_alloc.
bool execute_tick(const tick_input& in, store::tick_commit& commit, kv_map* kv_after,
                  std::vector<condition_record>* conditions_after);

/// The kv, conditions and tick clock of a vigy as the store has them.
struct vigy_state {
    kv_map kv;
    std::vector<condition_record> conditions;
    store::tick_clock clock;
};
vigy_state load_state(store::store& db, const slot_spec& spec);

/// A bounded ring of recent lateness samples (ms), lock-free writers.
class lateness_ring {
public:
    void add(double ms) noexcept;
    std::vector<float> snapshot() const;
    void clear() noexcept { count_.store(0, std::memory_order_relaxed); }

private:
    std::array<std::atomic<float>, 1 << 16> ring_{};
    std::atomic<uint64_t> count_{0};
};

class pipeline;

/// The commit a busy slot fills and hands to the writer, with the way back to its slot.
struct slot_commit : store::tick_commit {
    class slot* owner = nullptr;
    store::commit_result result;
};

/// Commits lent to busy slots. An idle slot holds none, so what commits cost (the struct,
/// ~0.8 KB, and the capacity its buffers keep from tick to tick) grows with the ticks in
/// flight, not with the vigies. At most `max_free` returned commits are kept; the rest
/// are freed. Any thread.
class commit_pool {
public:
    static constexpr std::size_t max_free = 1024;
    commit_pool() { free_.reserve(max_free); }
    /// A commit with buffers that may hold a previous tick's data (execute_tick resets
    /// every field it fills; the slot sets vigy_key, fence and tick_request_id).
    /// Throws bad_alloc.
    std::unique_ptr<slot_commit> acquire();
    /// Takes back `c` (nullptr is ignored).
    void release(std::unique_ptr<slot_commit> c) noexcept;

private:
    std::mutex m_;
    std::vector<std::unique_ptr<slot_commit>> free_;
};

class slot final : public job, public timer_target, public std::enable_shared_from_this<slot> {
public:
    explicit slot(pipeline& p);
    ~slot();

    // ---- control (any thread) ----
    /// Applies a new spec: schedules (first fire after `delay`), re-schedules when it
    /// changed, or unschedules when disabled.
    void update(std::shared_ptr<const slot_spec> spec, std::chrono::milliseconds delay);
    /// update() at serve start (a missed cron slot may get its catch-up tick).
    void update_impl(std::shared_ptr<const slot_spec> spec, std::chrono::milliseconds delay, bool serve_start);
    /// No more timers (stop).
    void unschedule();
    /// The vigy was deleted: no later tick starts, queued forced ticks fail.
    void remove();
    /// Queues a forced tick (runs at once when idle).
    void force(forced_job job);
    /// A trigger (event, condition, manual): runs at once when idle, else waits —
    /// at most one waits, a newer one replaces its payload (coalescing). Refused
    /// (the request failed) unless the vigy is Enabled and scheduled.
    void trigger(value why, std::optional<int64_t> request_id, int64_t request_token);
    /// Fails every queued forced tick with `code` and `why`.
    void fail_queued(vigy_status code, const std::string& why);
    /// The vigy's name when it is scheduled.
    std::optional<std::string> scheduled_name();

    // ---- timer_target / job ----
    job* on_due(uint64_t token, time_point due) override;
    void run() noexcept override;

private:
    enum class phase { tick, committed };
    enum class work { timer, forced, triggered, cool_down };
    enum class started { submitted, skipped, completed };

    void arm_locked(time_point when);
    /// The monotonic time of wall-clock instant `wall_ms`.
    time_point at_wall(int64_t wall_ms) const;
    /// Arms the first timer of the current spec (`delay`: the start-up spread).
    void arm_first_locked(std::chrono::milliseconds delay, bool serve_start);
    /// Arms the timer after a finished timer tick (good: the next slot; else backoff).
    void arm_next_locked(bool good, time_point ended);
    /// Takes the pending trigger into the tick fields.
    void take_forced_locked();  // the oldest queued forced tick becomes this tick's work
    void take_trigger_locked();
    /// Takes the next queued work under the lock: true when there is some (and the
    /// slot stays busy), false when the slot went idle.
    bool next();
    started start();
    void complete();
    void answer(const store::commit_result& r);

    pipeline& p_;
    std::mutex m_;
    // ---- guarded by m_ ----
    std::shared_ptr<const slot_spec> spec_;
    bool scheduled_ = false;
    bool removed_ = false;
    bool busy_ = false;
    bool armed_ = false;
    bool due_pending_ = false;
    time_point pending_due_{};
    uint64_t timer_token_ = 0;
    int failures_ = 0;
    std::vector<forced_job> forced_;
    std::optional<value> pending_trigger_;   // at most one waits (coalesced)
    std::vector<int64_t> pending_requests_;  // tick requests it answers
    int64_t pending_request_token_ = 0;
    failure_window window_;        // supervision (restart intensity)
    int64_t slot_wall_ = 0;        // the wall time of the armed slot (cron/once)
    bool catch_up_armed_ = false;  // the armed timer is a catch-up tick
    // ---- owned by whoever made the slot busy ----
    std::shared_ptr<slot> self_;  // keeps the slot alive while it is queued or running
    phase phase_ = phase::tick;
    run_trigger trigger_ = run_trigger::schedule;
    work work_ = work::timer;
    std::optional<value> tick_trigger_;
    std::string tick_trigger_kind_;
    std::vector<int64_t> tick_requests_;
    int64_t tick_request_token_ = 0;
    int64_t tick_slot_wall_ = 0;
    bool degrade_ = false;
    std::string degrade_message_;
    std::vector<std::pair<std::string, std::string>> changed_conditions_;  // (type, status) changed by the tick
    time_point due_{};
    time_point ended_at_{};
    forced_job job_;
    std::shared_ptr<const slot_spec> tick_spec_;
    reconciler_cache rc_;
    vigy_state state_;
    uint64_t cache_epoch_ = 0;  // 0 = not loaded
    bool tick_ok_ = false;
    // Borrowed from the pipeline's pool while busy (start() to the next idle), handed to
    // the writer in between; the sink sets its `result`.
    std::unique_ptr<slot_commit> commit_;
};

/// The pipeline over all slots, and the writer's sink.
class pipeline final : public store::commit_sink {
public:
    pipeline(store::store& db, const registry& reg, std::shared_ptr<host::clock> clk, tick_limits defaults,
             event_bus& bus, lease_state& lease, unsigned tick_threads, fairness fair = {});
    ~pipeline();
    pipeline(const pipeline&) = delete;
    pipeline& operator=(const pipeline&) = delete;

    /// Starts the tick threads and the timer thread.
    void start();
    /// Unschedules every slot, waits until no tick runs and no forced tick waits,
    /// stops the timer thread and drops every slot (and its cache).
    void stop();

    /// Creates or updates the slot of `rec` (no-op while not started). `serve_start`:
    /// the first schedule after serve started (a missed slot may get a catch-up tick).
    void upsert(const vigy_info& rec, std::chrono::milliseconds first_delay = {}, bool serve_start = false);
    /// A trigger for `rec` (see slot::trigger).
    void trigger(const vigy_info& rec, value why, std::optional<int64_t> request_id, int64_t request_token);
    /// A committed ok run of vigy `source` emitted `events` and changed `conditions`:
    /// triggers the vigies that listen (--on event:/condition:).
    void dispatch(const std::string& source, const std::vector<store::event_update>& events,
                  const std::vector<std::pair<std::string, std::string>>& conditions);
    /// True when some vigy listens to `source`'s conditions.
    [[nodiscard]] bool watched_conditions(const std::string& source);
    void remove(int64_t key);
    /// Queues a forced tick on the vigy's slot (creating an unscheduled one). Fails the
    /// job with UNAVAILABLE when not started.
    void force(const vigy_info& rec, forced_job job);
    /// The lease changed hands: caches are stale, queued forced ticks fail.
    void lease_changed(const std::string& why);

    [[nodiscard]] std::vector<std::string> scheduled_names();
    /// The keys of every slot (scheduled or not).
    [[nodiscard]] std::vector<int64_t> slot_keys();
    [[nodiscard]] std::size_t scheduled_count() const noexcept { return scheduled_.load(); }

    void on_committed(std::span<store::tick_commit* const> commits,
                      std::span<const store::commit_result> results) override;

    // ---- shared with the slots ----
    store::store& db;
    const registry& reg;
    const std::shared_ptr<host::clock> clk;
    const tick_limits defaults;
    event_bus& bus;
    lease_state& lease;
    spec_interner interner;
    std::atomic<uint64_t> cache_epoch{1};
    std::atomic<int64_t> scheduled_{0};
    std::atomic<uint64_t> ticks_ok{0}, ticks_failed{0}, ticks_forced{0}, runs_committed{0}, runs_rejected{0},
        stale_commits{0}, skipped_slots{0}, ticks_paused{0}, triggers_coalesced{0};
    std::atomic<int64_t> forced_waiting{0};  ///< forced ticks queued behind a busy slot
    lateness_ring lateness;
    commit_pool commits;  ///< outlives the slots (declared before slots_)
    [[nodiscard]] tick_executor& executor() { return *executor_; }
    /// The executor's counters ({} before the first start).
    [[nodiscard]] executor_stats executor_counters();
    [[nodiscard]] scheduler& timers() { return *scheduler_; }
    void busy_changed(int delta);

private:
    std::shared_ptr<slot> slot_for(int64_t key);
    void set_deps(int64_t key, const schedule_spec& sched);
    struct dep {
        int64_t key;
        trigger_spec on;
    };
    std::mutex deps_m_;
    std::unordered_multimap<std::string, dep> deps_;  // source vigy name -> listeners
    std::atomic<int64_t> deps_count_{0};

    const unsigned tick_threads_;
    const fairness fair_;
    std::unique_ptr<tick_executor> executor_;
    std::unique_ptr<scheduler> scheduler_;
    std::mutex m_;  // guards slots_, started_
    std::map<int64_t, std::shared_ptr<slot>> slots_;
    bool started_ = false;
    std::mutex busy_m_;
    std::condition_variable busy_cv_;
    int64_t busy_ = 0;
    std::vector<job*> completed_;  // writer-thread scratch
};

/// One tick of `rec` in this process, committed synchronously under the lease token
/// `fence` (tick_now when nobody serves), and published on `bus`.
run tick_locally(store::store& db, const registry& reg, const host::clock& clk, const tick_limits& defaults,
                 event_bus& bus, const vigy_info& rec, int64_t fence, const value* why = nullptr);

/// `vigy eval`: ticks of `spec` in memory.
evaluation evaluate(const registry& reg, const host::clock& clk, const tick_limits& defaults, const vigy_spec& spec,
                    const evaluate_options& options);

}  // namespace vigy::host::detail
