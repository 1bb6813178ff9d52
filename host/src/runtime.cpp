// host/src/runtime.cpp — vigy::host::runtime: the embedding API over the store and
// the plugin registry, the scheduler (Asio timers on an io_context, one strand per
// vigy on a separate tick pool), the tick pipeline and the in-process run bus.
//
// Tick pipeline (DESIGN.md): hydrate kv from the slot's cache (loaded from the store
// once) -> tick the reconciler (built once per revision+limits) -> hand ONE tick_commit
// (run, buffers, dirty kv, conditions, events) to the store's group-committing writer ->
// on durability: update the cache, publish on the bus, arm the next fire (fixed rate,
// missed slots skipped, exponential backoff after failures).
//
// Concurrency: everything about one vigy (its reconciler, kv cache, timer, queue of
// forced ticks) is touched only on that vigy's strand; a tick "occupies" the strand
// logically from its start until its commit completed (`busy`), so a forced tick never
// reads a kv cache that is about to change.
#include <utility>  // before Asio (TOOLCHAIN.md pitfall 8)

#include "vigy/host/runtime.hpp"

#include "vigy/host/log.hpp"
#include "vigy/host/reconciler.hpp"
#include "vigy/host/tick_context.hpp"
#include "vigy/host/value.hpp"
#include "vigy/store/store.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace vigy::host {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---- small public helpers ------------------------------------------------------

const char* errc_name(errc code) noexcept {
    switch (code) {
    case errc::invalid_argument: return "invalid-argument";
    case errc::not_found: return "not-found";
    case errc::already_exists: return "already-exists";
    case errc::failed_precondition: return "failed-precondition";
    case errc::unavailable: return "unavailable";
    case errc::deadline_exceeded: return "deadline-exceeded";
    case errc::internal: return "internal";
    }
    return "internal";
}

const char* run_result_name(run_result r) noexcept {
    switch (r) {
    case run_result::ok: return "ok";
    case run_result::failed: return "failed";
    case run_result::skipped: return "skipped";
    }
    return "failed";
}

const char* register_outcome_name(register_outcome o) noexcept {
    switch (o) {
        case register_outcome::created: return "created";
        case register_outcome::updated: return "updated";
        case register_outcome::unchanged: return "unchanged";
    }
    return "unchanged";
}

const char* run_trigger_name(run_trigger t) noexcept { return t == run_trigger::forced ? "forced" : "schedule"; }

tick_limits default_tick_limits() noexcept {
    tick_limits l;
    l.fuel = 10'000'000;
    l.wall_ms = 5000;
    l.memory_bytes = 64ull << 20;
    l.max_depth = 10'000;
    return l;
}

subscription::subscription(subscription&& o) noexcept : cancel_(std::move(o.cancel_)) { o.cancel_ = nullptr; }
subscription& subscription::operator=(subscription&& o) noexcept {
    if (this != &o) {
        reset();
        cancel_ = std::move(o.cancel_);
        o.cancel_ = nullptr;
    }
    return *this;
}
subscription::~subscription() { reset(); }
void subscription::reset() {
    if (cancel_) {
        auto c = std::move(cancel_);
        cancel_ = nullptr;
        c();
    }
}

namespace {

// ---- conversions and errors ----------------------------------------------------

[[noreturn]] void fail(errc code, const std::string& msg) { throw runtime_error(code, msg); }

runtime_error from_store(const store::error& e) {
    switch (e.code()) {
    case store::error_code::not_found: return runtime_error(errc::not_found, e.what());
    case store::error_code::invalid_argument: return runtime_error(errc::invalid_argument, e.what());
    case store::error_code::busy: return runtime_error(errc::unavailable, e.what());
    case store::error_code::newer_schema: return runtime_error(errc::failed_precondition, e.what());
    case store::error_code::io: break;
    }
    return runtime_error(errc::internal, e.what());
}

/// Runs `f`, turning every non-runtime_error exception into a runtime_error.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const runtime_error&) {
        throw;
    } catch (const store::error& e) {
        throw from_store(e);
    } catch (const status_error& e) {
        throw runtime_error(e.code() == VIGY_INVALID_ARGUMENT ? errc::invalid_argument : errc::internal, e.what());
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        throw runtime_error(errc::internal, e.what());
    }
}

int64_t ms_of(std::string_view ts) {
    auto v = parse_rfc3339_ms(ts);
    return v ? *v : 0;
}

std::string capitalized_status(std::string_view s) {
    if (s == "true") return "True";
    if (s == "false") return "False";
    if (s == "unknown") return "Unknown";
    return std::string(s);
}

tick_limits effective_limits(const store::limits& own, const tick_limits& defaults) {
    tick_limits l;
    l.fuel = own.fuel > 0 ? static_cast<uint64_t>(own.fuel) : defaults.fuel;
    l.wall_ms = own.wall_ms > 0 ? static_cast<uint64_t>(own.wall_ms) : defaults.wall_ms;
    l.memory_bytes = own.memory_bytes > 0 ? static_cast<uint64_t>(own.memory_bytes) : defaults.memory_bytes;
    l.max_depth = own.max_depth > 0 ? static_cast<uint64_t>(own.max_depth) : defaults.max_depth;
    return l;
}

vigy_limits to_c(const tick_limits& l) {
    vigy_limits c{};
    c.struct_size = sizeof(vigy_limits);
    c.fuel = l.fuel;
    c.wall_ms = l.wall_ms;
    c.memory_bytes = l.memory_bytes;
    c.max_depth = l.max_depth;
    return c;
}

std::string limits_key(const tick_limits& l) {
    return std::to_string(l.fuel) + "/" + std::to_string(l.wall_ms) + "/" + std::to_string(l.memory_bytes) + "/" +
           std::to_string(l.max_depth);
}

int64_t clamp_i64(uint64_t v) {
    return v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
}

vigy_info to_info(const store::vigy_record& r) {
    vigy_info v;
    v.id = r.id;
    v.name = r.name;
    v.kind = r.kind;
    v.config_json = r.config_json;
    v.revision = r.revision;
    v.interval_ms = r.interval_ms;
    v.labels = r.labels;
    v.enabled = r.enabled;
    v.limits.fuel = static_cast<uint64_t>(std::max<int64_t>(0, r.limits.fuel));
    v.limits.wall_ms = static_cast<uint64_t>(std::max<int64_t>(0, r.limits.wall_ms));
    v.limits.memory_bytes = static_cast<uint64_t>(std::max<int64_t>(0, r.limits.memory_bytes));
    v.limits.max_depth = static_cast<uint64_t>(std::max<int64_t>(0, r.limits.max_depth));
    v.created_ms = ms_of(r.created_at);
    v.updated_ms = ms_of(r.updated_at);
    return v;
}

std::string output_text(const std::string& output_json) {
    if (output_json.empty() || output_json == "null") return {};
    try {
        value v = value::from_json(output_json);
        if (v.is_stringish()) return v.text();
        return output_json;
    } catch (const std::exception&) {
        return output_json;
    }
}

run to_run(const store::run_record& r, std::string name) {
    run out;
    out.id = r.id;
    out.seq = r.seq;
    out.vigy_id = r.vigy_id;
    out.vigy_name = std::move(name);
    out.revision = r.revision;
    out.started_ms = ms_of(r.started_at);
    out.ended_ms = ms_of(r.ended_at);
    out.duration_us = r.duration_us > 0 ? r.duration_us : r.duration_ms * 1000;
    out.trigger = r.trigger == "forced" ? run_trigger::forced : run_trigger::schedule;
    out.tick_count = r.tick_count;
    out.kv_writes_json = r.kv_writes_json;
    out.kv_deletes_json = r.kv_deletes_json;
    out.result = r.result == store::run_result::ok       ? run_result::ok
                 : r.result == store::run_result::failed ? run_result::failed
                                                         : run_result::skipped;
    out.error = r.error;
    out.output = output_text(r.output_json);
    out.actions_json = r.actions_json;
    out.desired_json = r.desired_json;
    out.observed_json = r.observed_json;
    out.conditions_json = r.conditions_json;
    out.log_json = r.log_json;
    out.trace_json = r.trace_json;
    out.metrics_json = r.metrics_json;
    out.events_json = r.events_json;
    return out;
}

std::string hostname() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

std::string random_token() {
    std::random_device rd;
    std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd());
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(g()));
    return buf;
}

/// True when `lease` belongs to a process on this host that no longer exists.
bool holder_is_dead(const store::lease_info& lease, const std::string& host) {
    if (lease.host != host || lease.pid <= 0) return false;
    return ::kill(static_cast<pid_t>(lease.pid), 0) != 0 && errno == ESRCH;
}

constexpr std::string_view serve_prefix = "serve:";
constexpr std::string_view tick_prefix = "tick:";
constexpr int64_t serve_lease_ttl_ms = 5000;
constexpr int64_t lease_renew_ms = 1000;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

kv_map kv_from_store(const std::map<std::string, std::string>& stored) {
    kv_map kv;
    for (const auto& [k, json] : stored) {
        try {
            kv.emplace(k, value::from_json(json));
        } catch (const std::exception&) {
            kv.emplace(k, value::string(json));  // unreadable JSON kept as its text
        }
    }
    return kv;
}

std::vector<condition_record> conditions_from_store(const std::vector<store::condition_record>& stored) {
    std::vector<condition_record> out;
    out.reserve(stored.size());
    for (const auto& c : stored) {
        condition_record r;
        r.name = c.name;
        r.status = c.status;
        if (!c.reason.empty()) r.reason = c.reason;
        if (!c.message.empty()) r.message = c.message;
        r.last_transition_ms = ms_of(c.last_transition);
        out.push_back(std::move(r));
    }
    return out;
}

/// Everything one executed tick produced, ready to commit.
struct tick_outcome {
    store::tick_commit commit;
    std::shared_ptr<run> result;  // for the bus and tick_now
    kv_map new_kv;                // the full kv after an ok tick
    std::vector<condition_record> merged_conditions;
    bool ok = false;
};

/// A failed run with `error` and nothing else (kv load failure, rejected output).
tick_outcome failed_outcome(const store::vigy_record& rec, run_trigger trig, std::optional<int64_t> request_id,
                            int64_t start_ms, const std::string& error) {
    tick_outcome o;
    auto& r = o.commit.run;
    r.vigy_id = rec.id;
    r.revision = rec.revision;
    r.started_at = format_rfc3339_ms(start_ms);
    int64_t end_ms = store::now_unix_ms();
    r.ended_at = format_rfc3339_ms(end_ms);
    r.result = store::run_result::failed;
    r.error = error;
    r.duration_ms = std::max<int64_t>(0, end_ms - start_ms);
    r.duration_us = r.duration_ms * 1000;
    r.trigger = run_trigger_name(trig);
    r.trace_json = "{}";
    r.metrics_json = "{}";
    o.commit.tick_request_id = request_id;
    o.result = std::make_shared<run>();
    auto& b = *o.result;
    b.vigy_id = rec.id;
    b.vigy_name = rec.name;
    b.revision = rec.revision;
    b.trigger = trig;
    b.started_ms = start_ms;
    b.ended_ms = end_ms;
    b.duration_us = r.duration_ms * 1000;
    b.result = run_result::failed;
    b.error = error;
    return o;
}

/// Runs one tick of `rec` with reconciler `rc` (NULL: `build_error` is the failure) over
/// a copy of `kv`, and packages the commit. Never throws except bad_alloc.
tick_outcome execute_tick(const store::vigy_record& rec, reconciler* rc, const std::string& build_error,
                          const kv_map& kv, const std::vector<condition_record>& prev_conditions, run_trigger trig,
                          std::optional<int64_t> request_id) {
    const int64_t start_ms = store::now_unix_ms();
    const auto t0 = steady::now();
    tick_context ctx = tick_context::begin(kv, start_ms, rec.name, rec.id, prev_conditions);
    tick_result tr;
    if (rc == nullptr) {
        tr.status = VIGY_INVALID_ARGUMENT;
        tr.message = build_error.empty() ? std::string("reconciler could not be built") : build_error;
    } else {
        tr = rc->tick(ctx.tick());
    }
    const auto t1 = steady::now();
    const int64_t end_ms = store::now_unix_ms();
    const int64_t dur_us = std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();

    tick_outcome o;
    o.ok = tr.ok();
    auto& r = o.commit.run;
    r.vigy_id = rec.id;
    r.revision = rec.revision;
    r.started_at = format_rfc3339_ms(start_ms);
    r.ended_at = format_rfc3339_ms(end_ms);
    r.result = o.ok ? store::run_result::ok : store::run_result::failed;
    r.error = o.ok ? std::string() : tr.message;
    r.duration_ms = dur_us / 1000;
    r.duration_us = dur_us;
    r.trigger = run_trigger_name(trig);
    r.tick_count = ctx.tick_count();
    r.log_json = ctx.log_json();
    r.trace_json = ctx.trace_json();
    r.metrics_json = ctx.metrics_json();
    r.output_json = ctx.output().empty() ? std::string("null") : value::string(ctx.output()).to_json();
    o.commit.tick_request_id = request_id;

    o.result = std::make_shared<run>();
    auto& b = *o.result;
    b.vigy_id = rec.id;
    b.vigy_name = rec.name;
    b.revision = rec.revision;
    b.trigger = trig;
    b.started_ms = start_ms;
    b.ended_ms = end_ms;
    b.duration_us = dur_us;
    b.result = o.ok ? run_result::ok : run_result::failed;
    b.error = r.error;
    b.tick_count = ctx.tick_count();
    b.output = ctx.output();
    b.log_json = r.log_json;
    b.trace_json = r.trace_json;
    b.metrics_json = r.metrics_json;

    if (o.ok) {
        r.actions_json = ctx.actions_json();
        r.desired_json = ctx.desired_json();
        r.observed_json = ctx.observed_json();
        r.conditions_json = ctx.conditions_json();
        r.events_json = ctx.events_json();
        kv_changes ch = ctx.changes();
        std::string writes = "{";
        for (auto& [k, v] : ch.upserts) {
            std::string json = v.to_json();
            if (writes.size() > 1) writes += ',';
            writes += value::string(k).to_json();
            writes += ':';
            writes += json;
            o.commit.kv_upserts.emplace_back(k, std::move(json));
        }
        writes += '}';
        std::string deletes = "[";
        for (const auto& k : ch.deleted) {
            if (deletes.size() > 1) deletes += ',';
            deletes += value::string(k).to_json();
            o.commit.kv_deletes.push_back(k);
        }
        deletes += ']';
        for (const auto& c : ctx.conditions())
            o.commit.conditions.push_back({c.name, c.status, c.reason.value_or(""), c.message.value_or("")});
        for (const auto& e : ctx.events())
            o.commit.events.push_back({e.type, e.reason.empty() ? std::string("Unspecified") : e.reason, e.message});
        b.actions_json = r.actions_json;
        b.desired_json = r.desired_json;
        b.observed_json = r.observed_json;
        b.conditions_json = r.conditions_json;
        b.events_json = r.events_json;
        r.kv_writes_json = writes;
        r.kv_deletes_json = deletes;
        b.kv_writes_json = std::move(writes);
        b.kv_deletes_json = std::move(deletes);
        o.new_kv = ctx.kv();
        o.merged_conditions = ctx.merged_conditions();
    }
    return o;
}

/// A bounded ring of recent lateness samples (ms), lock-free writers.
class lateness_ring {
public:
    void add(double ms) noexcept {
        uint64_t i = count_.fetch_add(1, std::memory_order_relaxed);
        ring_[i % ring_.size()].store(static_cast<float>(ms), std::memory_order_relaxed);
    }
    std::vector<float> snapshot() const {
        uint64_t n = std::min<uint64_t>(count_.load(std::memory_order_relaxed), ring_.size());
        std::vector<float> out(n);
        for (uint64_t i = 0; i < n; ++i) out[i] = ring_[i].load(std::memory_order_relaxed);
        return out;
    }
    void clear() noexcept { count_.store(0, std::memory_order_relaxed); }

private:
    std::array<std::atomic<float>, 1 << 17> ring_{};
    std::atomic<uint64_t> count_{0};
};

}  // namespace

// ---- the implementation ----------------------------------------------------------

struct runtime::impl {
    /// A forced tick waiting for / running on a vigy's strand.
    struct forced_job {
        std::optional<int64_t> request_id;
        /// Called on the strand with the committed run, or NULL and the error.
        std::function<void(std::shared_ptr<const run>, const std::string&)> done;
    };

    /// Per-vigy scheduling state. Everything but `id`, `strand` and `timer`'s
    /// construction is touched only on `strand`.
    struct slot {
        slot(std::string vid, asio::thread_pool& pool, asio::io_context& io)
            : id(std::move(vid)), strand(asio::make_strand(pool.get_executor())), timer(io) {}
        const std::string id;
        asio::strand<asio::thread_pool::executor_type> strand;
        asio::steady_timer timer;

        store::vigy_record rec;
        bool has_rec = false;
        bool scheduled = false;
        bool removed = false;
        bool busy = false;
        bool due_pending = false;
        bool armed = false;  // a timer wait is pending for `due`
        steady::time_point due{};
        uint64_t token = 0;
        int failures = 0;
        std::optional<reconciler> rc;
        std::string rc_key;
        std::string rc_error;
        std::optional<kv_map> kv;
        std::optional<std::vector<condition_record>> conds;
        std::deque<forced_job> forced;
    };

    struct subscriber {
        std::recursive_mutex m;
        bool active = true;
        std::function<void(const run&)> cb;
    };

    std::filesystem::path path;
    runtime_options opt;
    tick_limits defaults;
    std::unique_ptr<registry> reg;
    std::unique_ptr<store::store> db;
    std::string host = hostname();
    int64_t pid = static_cast<int64_t>(::getpid());

    // io: timers, bus delivery
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> io_work;
    std::vector<std::thread> io_threads;
    asio::strand<asio::io_context::executor_type> bus_strand{asio::make_strand(io)};
    /// Subscribers; shared so a subscription outliving the runtime can still cancel safely.
    struct bus_state {
        std::mutex m;
        std::vector<std::shared_ptr<subscriber>> subscribers;
        std::atomic<size_t> count{0};  // publish() skips the post when 0
    };
    std::shared_ptr<bus_state> bus = std::make_shared<bus_state>();

    // names for runs read back
    mutable std::mutex names_m;
    mutable std::map<std::string, std::string> names;

    // scheduler
    std::mutex start_m;  // serialises start/stop
    std::unique_ptr<asio::thread_pool> pool;
    std::mutex sched_m;  // guards slots
    std::map<std::string, std::shared_ptr<slot>> slots;
    std::atomic<bool> serving{false};
    std::atomic<bool> stopping{false};
    std::atomic<bool> lease_held{false};
    std::string owner;
    int64_t generation = 0;
    std::atomic<int64_t> inflight{0};
    std::mutex inflight_m;
    std::condition_variable inflight_cv;
    std::thread control;
    std::mutex control_m;
    std::condition_variable control_cv;
    bool control_stop = false;
    std::mutex serve_m;
    std::condition_variable serve_cv;

    // stats
    std::atomic<int64_t> scheduled_count{0};
    std::atomic<uint64_t> ticks_ok{0}, ticks_failed{0}, ticks_forced{0}, runs_committed{0}, skipped_slots{0};
    uint64_t commits_at_start = 0;
    std::unique_ptr<lateness_ring> lateness = std::make_unique<lateness_ring>();

    ~impl() = default;

    // ---- names ----
    std::string name_of(const std::string& vigy_id) const {
        {
            std::lock_guard lk(names_m);
            auto it = names.find(vigy_id);
            if (it != names.end()) return it->second;
        }
        return {};
    }
    void refresh_names() const {
        auto all = db->list_vigies();
        std::lock_guard lk(names_m);
        for (const auto& v : all) names[v.id] = v.name;
    }
    void remember_name(const std::string& id, const std::string& name) const {
        std::lock_guard lk(names_m);
        names[id] = name;
    }
    std::vector<run> convert_runs(const std::vector<store::run_record>& recs) const {
        bool refreshed = false;
        std::vector<run> out;
        out.reserve(recs.size());
        for (const auto& r : recs) {
            std::string n = name_of(r.vigy_id);
            if (n.empty() && !refreshed) {
                refresh_names();
                refreshed = true;
                n = name_of(r.vigy_id);
            }
            out.push_back(to_run(r, std::move(n)));
        }
        return out;
    }

    // ---- bus ----
    void publish(std::shared_ptr<const run> r) {
        if (bus->count.load(std::memory_order_relaxed) == 0) return;
        asio::post(bus_strand, [this, r = std::move(r)] {
            std::vector<std::shared_ptr<subscriber>> subs;
            {
                std::lock_guard lk(bus->m);
                subs = bus->subscribers;
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
        });
    }

    // ---- reconciler and state for a slot (strand) ----
    void ensure_reconciler(slot& s) {
        const tick_limits lim = effective_limits(s.rec.limits, defaults);
        const std::string key = s.rec.revision + "|" + limits_key(lim);
        if (s.rc_key == key && (s.rc || !s.rc_error.empty())) return;
        s.rc.reset();
        s.rc_error.clear();
        s.rc_key = key;
        vigy_limits c = to_c(lim);
        try {
            s.rc.emplace(*reg, s.rec.kind, s.rec.config_json, &c, s.rec.name);
        } catch (const std::exception& e) {
            s.rc_error = e.what();
            if (s.rc_error.empty()) s.rc_error = "reconciler could not be built";
        }
    }

    /// Loads the kv cache and previous conditions if needed; returns an error message
    /// when the store could not be read.
    std::string ensure_state(slot& s) {
        try {
            if (!s.kv) s.kv = kv_from_store(db->kv(s.id));
            if (!s.conds) s.conds = conditions_from_store(db->conditions(s.id));
        } catch (const std::exception& e) {
            s.kv.reset();
            s.conds.reset();
            return std::string("kv load failed: ") + e.what();
        }
        return {};
    }

    void arm(const std::shared_ptr<slot>& s, steady::time_point when) {
        s->due = when;
        s->armed = true;
        const uint64_t tok = ++s->token;
        s->timer.expires_at(when);
        std::weak_ptr<slot> weak = s;
        s->timer.async_wait([this, weak, tok](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto sp = weak.lock()) asio::post(sp->strand, [this, sp, tok] { on_due(sp, tok); });
        });
    }

    /// Flips a slot's scheduled flag, keeping the count for stats() (strand).
    void set_scheduled(slot& s, bool on) {
        if (s.scheduled == on) return;
        s.scheduled = on;
        if (on)
            scheduled_count.fetch_add(1, std::memory_order_relaxed);
        else
            scheduled_count.fetch_sub(1, std::memory_order_relaxed);
    }

    void disarm(slot& s) {
        s.armed = false;
        ++s.token;
        s.timer.cancel();
    }

    void on_due(const std::shared_ptr<slot>& s, uint64_t tok) {
        if (tok != s->token || !s->scheduled || s->removed || stopping.load()) return;
        s->armed = false;
        if (s->busy) {
            s->due_pending = true;
            return;
        }
        start_tick(s, run_trigger::schedule, s->due, forced_job{});
    }

    steady::time_point next_after(slot& s, steady::time_point due, bool ok) {
        const auto now = steady::now();
        if (!ok) {
            const int f = std::min(std::max(s.failures, 1), 6);
            const int64_t backoff = std::min<int64_t>(int64_t{1000} << (f - 1), 30000);
            return now + milliseconds(backoff);
        }
        const auto iv = milliseconds(std::max<int64_t>(s.rec.interval_ms, store::min_interval_ms));
        auto next = due + iv;
        if (now > next + iv / 4) {  // overran: skip the missed slots, never pile up
            const auto missed = (now - next + iv - milliseconds(1)) / iv;
            next += missed * iv;
            skipped_slots.fetch_add(static_cast<uint64_t>(missed), std::memory_order_relaxed);
        }
        return next;
    }

    void start_tick(const std::shared_ptr<slot>& s, run_trigger trig, steady::time_point due, forced_job job) {
        if (trig == run_trigger::schedule) {
            if (!lease_held.load()) {  // lost the lease: another process ticks; do not race it
                s->kv.reset();
                s->conds.reset();
                arm(s, due + milliseconds(std::max<int64_t>(s->rec.interval_ms, store::min_interval_ms)));
                return;
            }
            inflight.fetch_add(1);
            const double late_ms =
                std::chrono::duration<double, std::milli>(steady::now() - due).count();
            lateness->add(std::max(0.0, late_ms));
        }
        s->busy = true;
        tick_outcome out;
        try {
            ensure_reconciler(*s);
            std::string state_error = ensure_state(*s);
            if (!state_error.empty()) {
                out = failed_outcome(s->rec, trig, job.request_id, store::now_unix_ms(), state_error);
            } else {
                out = execute_tick(s->rec, s->rc ? &*s->rc : nullptr, s->rc_error, *s->kv, *s->conds, trig,
                                   job.request_id);
            }
        } catch (const std::exception& e) {
            out = failed_outcome(s->rec, trig, job.request_id, store::now_unix_ms(),
                                 std::string("internal error: ") + e.what());
        }
        submit(s, trig, due, std::move(job), std::move(out));
    }

    struct pending {
        run_trigger trig;
        steady::time_point due;
        forced_job job;
        std::shared_ptr<run> result;
        kv_map new_kv;
        std::vector<condition_record> merged;
        bool ok;
    };

    void submit(const std::shared_ptr<slot>& s, run_trigger trig, steady::time_point due, forced_job job,
                tick_outcome out) {
        auto p = std::make_shared<pending>();
        p->trig = trig;
        p->due = due;
        p->job = std::move(job);
        p->result = std::move(out.result);
        p->new_kv = std::move(out.new_kv);
        p->merged = std::move(out.merged_conditions);
        p->ok = out.ok;
        auto done = [this, s, p](const store::commit_result& cr) {
            asio::post(s->strand, [this, s, p, cr] { on_committed(s, p, cr); });
        };
        try {
            db->writer().submit(std::move(out.commit), done);
        } catch (const store::error& e) {
            if (e.code() != store::error_code::invalid_argument) {
                store::commit_result cr;
                cr.ok = false;
                cr.code = e.code();
                cr.error = e.what();
                done(cr);
                return;
            }
            // The store refused the tick's output: record a failed run saying so.
            auto f = failed_outcome(s->rec, trig, p->job.request_id, p->result->started_ms,
                                    std::string("the store rejected the tick's output: ") + e.what());
            p->result = f.result;
            p->ok = false;
            try {
                db->writer().submit(std::move(f.commit), done);
            } catch (const store::error& e2) {
                store::commit_result cr;
                cr.ok = false;
                cr.code = e2.code();
                cr.error = e2.what();
                done(cr);
            }
        }
    }

    void on_committed(const std::shared_ptr<slot>& s, const std::shared_ptr<pending>& p,
                      const store::commit_result& cr) {
        s->busy = false;
        run& r = *p->result;
        if (cr.ok) {
            r.id = cr.run_id;
            r.seq = cr.seq;
            if (p->ok) {
                s->kv = std::move(p->new_kv);
                s->conds = std::move(p->merged);
                ticks_ok.fetch_add(1, std::memory_order_relaxed);
            } else {
                ticks_failed.fetch_add(1, std::memory_order_relaxed);
            }
            if (p->trig == run_trigger::forced) ticks_forced.fetch_add(1, std::memory_order_relaxed);
            runs_committed.fetch_add(1, std::memory_order_relaxed);
            publish(p->result);
        } else {
            if (cr.code == store::error_code::not_found)  // deleted while the tick ran
                logger()->info("run of deleted vigy {} dropped: {}", s->rec.name, cr.error);
            else
                logger()->error("failed to persist run of vigy {}: {}", s->rec.name, cr.error);
            s->kv.reset();  // the store is the truth: reload before the next tick
            s->conds.reset();
        }
        if (p->trig == run_trigger::schedule) {
            const bool good = cr.ok && p->ok;
            s->failures = good ? 0 : s->failures + 1;
            if (!good && cr.ok)
                logger()->warn("vigy {} tick failed (failures {}): {}", s->rec.name, s->failures, r.error);
            // An edit during the tick may already have armed (or fired) an immediate tick: keep it.
            if (s->scheduled && !s->removed && !stopping.load() && !s->armed && !s->due_pending)
                arm(s, next_after(*s, p->due, good));
        }
        if (p->job.done) {
            try {
                if (cr.ok)
                    p->job.done(p->result, {});
                else
                    p->job.done(nullptr, cr.error.empty() ? std::string("the run could not be persisted") : cr.error);
            } catch (const std::exception& e) {
                logger()->warn("forced tick completion failed: {}", e.what());
            }
        }
        finish_one();
        drain(s);
    }

    void finish_one() {
        if (inflight.fetch_sub(1) == 1) {
            std::lock_guard lk(inflight_m);
            inflight_cv.notify_all();
        }
    }

    /// Starts the next queued work of a slot, if it is idle (strand).
    void drain(const std::shared_ptr<slot>& s) {
        if (s->busy) return;
        if (!s->forced.empty()) {
            forced_job j = std::move(s->forced.front());
            s->forced.pop_front();
            if (s->removed) {
                if (j.done) j.done(nullptr, "vigy " + s->rec.name + " was deleted");
                finish_one();
                drain(s);
                return;
            }
            start_tick(s, run_trigger::forced, steady::now(), std::move(j));
            return;
        }
        if (s->due_pending) {
            s->due_pending = false;
            if (s->scheduled && !s->removed && !stopping.load()) start_tick(s, run_trigger::schedule, s->due, {});
        }
    }

    /// Queues a forced tick on the vigy's slot (creating an unscheduled slot if needed).
    void enqueue_forced(const store::vigy_record& rec, forced_job job) {
        auto s = slot_for(rec.id);
        inflight.fetch_add(1);
        asio::post(s->strand, [this, s, rec, job = std::move(job)]() mutable {
            if (!s->has_rec) {
                s->rec = rec;
                s->has_rec = true;
            }
            s->forced.push_back(std::move(job));
            drain(s);
        });
    }

    std::shared_ptr<slot> slot_for(const std::string& id) {
        std::lock_guard lk(sched_m);
        auto it = slots.find(id);
        if (it != slots.end()) return it->second;
        auto s = std::make_shared<slot>(id, *pool, io);
        slots.emplace(id, s);
        return s;
    }

    /// Applies a created/changed vigy to the schedule (idempotent).
    void apply_upsert(const store::vigy_record& rec) {
        remember_name(rec.id, rec.name);
        if (!serving.load() || stopping.load()) return;
        auto s = slot_for(rec.id);
        asio::post(s->strand, [this, s, rec] {
            const bool fresh = !s->has_rec;
            const store::vigy_record old = s->rec;
            s->rec = rec;
            s->has_rec = true;
            s->removed = false;
            const bool want = rec.enabled && serving.load() && !stopping.load();
            if (!want) {
                if (s->scheduled) {
                    set_scheduled(*s, false);
                    s->due_pending = false;
                    disarm(*s);
                    logger()->info("vigy {} unscheduled (disabled)", rec.name);
                }
                return;
            }
            const bool changed = fresh || !s->scheduled || old.revision != rec.revision ||
                                 old.interval_ms != rec.interval_ms || old.limits != rec.limits ||
                                 old.kind != rec.kind;
            if (!changed) return;
            set_scheduled(*s, true);
            s->failures = 0;
            logger()->info("vigy {} scheduled every {} ms (revision {})", rec.name, rec.interval_ms, rec.revision);
            arm(s, steady::now());  // first tick right away
        });
    }

    void apply_delete(const std::string& id) {
        std::shared_ptr<slot> s;
        {
            std::lock_guard lk(sched_m);
            auto it = slots.find(id);
            if (it == slots.end()) return;
            s = it->second;
            slots.erase(it);
        }
        asio::post(s->strand, [this, s] {
            s->removed = true;
            set_scheduled(*s, false);
            s->due_pending = false;
            disarm(*s);
            s->kv.reset();
            s->conds.reset();
            if (s->has_rec) logger()->info("vigy {} unscheduled (deleted)", s->rec.name);
            drain(s);  // fails queued forced ticks
        });
    }

    // ---- control loop: lease, other processes' changes, tick requests ----
    void control_loop() {
        auto last_renew = steady::now();
        const auto period = milliseconds(std::clamp<int64_t>(opt.poll_ms, 10, 1000));
        // claim_tick_requests is a cheap read unless requests are pending: poll often so a
        // `vigy tick` beside `vigy serve` waits ~tens of ms, not a poll period.
        const auto request_period = std::min(period, milliseconds(25));
        auto last_poll = steady::now();
        for (;;) {
            {
                std::unique_lock lk(control_m);
                control_cv.wait_for(lk, request_period, [this] { return control_stop; });
                if (control_stop) return;
            }
            try {
                const auto now = steady::now();
                if (now - last_renew >= milliseconds(lease_renew_ms)) {
                    last_renew = now;
                    renew_lease();
                }
                if (now - last_poll >= period) {
                    last_poll = now;
                    poll_changes();
                }
                if (lease_held.load()) serve_requests();
            } catch (const std::exception& e) {
                logger()->warn("scheduler maintenance failed: {}", e.what());
            }
        }
    }

    void renew_lease() {
        if (db->renew_lease(owner, serve_lease_ttl_ms)) {
            if (!lease_held.exchange(true)) logger()->warn("scheduler lease regained");
            return;
        }
        if (db->acquire_lease(owner, pid, host, serve_lease_ttl_ms)) {
            if (!lease_held.exchange(true)) logger()->warn("scheduler lease regained");
            return;
        }
        if (lease_held.exchange(false)) {
            auto h = db->lease_holder();
            logger()->error("lost the scheduler lease{}; pausing scheduled ticks",
                            h ? " to pid " + std::to_string(h->pid) : std::string());
        }
    }

    void poll_changes() {
        const int64_t g = db->vigies_generation();
        if (g == generation) return;
        store::vigy_changes ch = db->changes_since(generation);
        generation = ch.generation;
        for (const auto& id : ch.deleted_ids) apply_delete(id);
        for (const auto& rec : ch.upserted) apply_upsert(rec);
    }

    void serve_requests() {
        auto reqs = db->claim_tick_requests(64);
        for (const auto& rq : reqs) {
            std::optional<store::vigy_record> rec;
            try {
                rec = db->find_vigy(rq.vigy_id);
            } catch (const std::exception&) {
            }
            if (!rec) {
                db->complete_tick_request(rq.id, {}, "vigy " + rq.vigy_id + " not found");
                continue;
            }
            forced_job j;
            j.request_id = rq.id;
            const int64_t rid = rq.id;
            j.done = [this, rid](std::shared_ptr<const run> r, const std::string& err) {
                if (r) return;  // the commit marked the request done atomically
                try {
                    db->complete_tick_request(rid, {}, err);
                } catch (const std::exception& e) {
                    logger()->warn("could not fail tick request {}: {}", rid, e.what());
                }
            };
            enqueue_forced(*rec, std::move(j));
        }
    }

    // ---- a tick in this process without a scheduler (under a short lease) ----
    run tick_locally(const store::vigy_record& rec) {
        const tick_limits lim = effective_limits(rec.limits, defaults);
        vigy_limits c = to_c(lim);
        std::optional<reconciler> rc;
        std::string build_error;
        try {
            rc.emplace(*reg, rec.kind, rec.config_json, &c, rec.name);
        } catch (const std::exception& e) {
            build_error = e.what();
        }
        tick_outcome out;
        try {
            kv_map kv = kv_from_store(db->kv(rec.id));
            auto conds = conditions_from_store(db->conditions(rec.id));
            out = execute_tick(rec, rc ? &*rc : nullptr, build_error, kv, conds, run_trigger::forced, std::nullopt);
        } catch (const store::error& e) {
            out = failed_outcome(rec, run_trigger::forced, std::nullopt, store::now_unix_ms(),
                                 std::string("kv load failed: ") + e.what());
        }
        store::commit_result cr;
        try {
            cr = db->commit_now(std::move(out.commit));
        } catch (const store::error& e) {
            if (e.code() != store::error_code::invalid_argument) throw;
            auto f = failed_outcome(rec, run_trigger::forced, std::nullopt, out.result->started_ms,
                                    std::string("the store rejected the tick's output: ") + e.what());
            out.result = f.result;
            cr = db->commit_now(std::move(f.commit));
        }
        if (!cr.ok) throw runtime_error(errc::internal, "could not persist the run: " + cr.error);
        out.result->id = cr.run_id;
        out.result->seq = cr.seq;
        publish(out.result);
        return *out.result;
    }
};

// ---- runtime ---------------------------------------------------------------------

runtime::runtime(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

std::filesystem::path runtime::default_db_path() {
    if (const char* env = std::getenv("VIGY_DB"); env && *env) return env;
    std::filesystem::path base;
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        base = xdg;
    else if (const char* home = std::getenv("HOME"); home && *home)
        base = std::filesystem::path(home) / ".local" / "share";
    else
        base = ".";
    return base / "vigy" / "vigy.db";
}

std::unique_ptr<runtime> runtime::open(const std::filesystem::path& db_path, runtime_options options) {
    return guarded([&] {
        if (db_path.empty()) fail(errc::invalid_argument, "database path is empty");
        if (options.threads < 1) fail(errc::invalid_argument, "threads must be >= 1");
        if (options.keep_runs < 0 || options.max_run_age_ms < 0)
            fail(errc::invalid_argument, "retention settings must be >= 0");
        if (options.tick_threads == 0)
            options.tick_threads = std::min(32u, std::max(4u, 2 * std::max(1u, std::thread::hardware_concurrency())));
        auto p = std::make_unique<impl>();
        p->path = db_path;
        p->opt = options;
        const tick_limits base = default_tick_limits();
        const tick_limits& d = options.default_limits;
        p->defaults.fuel = d.fuel ? d.fuel : base.fuel;
        p->defaults.wall_ms = d.wall_ms ? d.wall_ms : base.wall_ms;
        p->defaults.memory_bytes = d.memory_bytes ? d.memory_bytes : base.memory_bytes;
        p->defaults.max_depth = d.max_depth ? d.max_depth : base.max_depth;

        p->owner = std::string(serve_prefix) + p->host + ":" + std::to_string(p->pid) + ":" + random_token();
        p->reg = std::make_unique<registry>();
        for (const auto& sp : options.static_plugins) {
            if (!sp.entry) fail(errc::invalid_argument, "static plugin \"" + sp.name + "\" has no entry function");
            p->reg->add_static(sp.entry(VIGY_ABI_VERSION), "builtin:" + sp.name);
        }
        if (options.default_plugin_dirs) {
            p->reg->load_search_path(options.plugin_dirs);
        } else {
            for (const auto& d2 : options.plugin_dirs) {
                std::error_code ec;
                if (std::filesystem::is_directory(d2, ec))
                    p->reg->load_directory(d2);
                else
                    p->reg->load_file(d2);
            }
        }

        store::open_options so;
        so.path = db_path.string();
        so.retention.keep_runs = options.keep_runs;
        so.retention.max_age = milliseconds(options.max_run_age_ms);
        try {
            p->db = std::make_unique<store::store>(so);
        } catch (const store::error& e) {
            if (e.code() == store::error_code::io)
                fail(errc::internal, "cannot open database " + db_path.string() + ": " + e.what());
            throw;
        }

        p->io_work.emplace(asio::make_work_guard(p->io));
        for (unsigned i = 0; i < options.threads; ++i)
            p->io_threads.emplace_back([io = &p->io] {
                pthread_setname_np(pthread_self(), "vigy-io");  // top -H, perf, gdb
                io->run();
            });
        return std::unique_ptr<runtime>(new runtime(std::move(p)));
    });
}

runtime::~runtime() {
    try {
        stop();
    } catch (const std::exception& e) {
        logger()->error("stopping the runtime failed: {}", e.what());
    }
    auto& p = *impl_;
    // Drain bus deliveries and timer completions, then the tick pool.
    p.io_work.reset();
    for (auto& t : p.io_threads) t.join();
    p.io_threads.clear();
    if (p.pool) p.pool->join();
    {
        std::lock_guard lk(p.sched_m);
        p.slots.clear();  // reconcilers die before the registry
    }
    p.pool.reset();
    {
        std::lock_guard lk(p.bus->m);
        for (auto& s : p.bus->subscribers) {
            std::lock_guard sk(s->m);
            s->active = false;
        }
        p.bus->subscribers.clear();
        p.bus->count = 0;
    }
    try {
        p.db.reset();  // drains the writer
    } catch (const std::exception& e) {
        logger()->error("closing the store failed: {}", e.what());
    }
    p.reg.reset();
}

const std::filesystem::path& runtime::db_path() const noexcept { return impl_->path; }
const registry& runtime::plugins() const noexcept { return *impl_->reg; }
std::vector<std::string> runtime::kinds() const { return impl_->reg->kinds(); }

register_result runtime::register_or_update(const vigy_spec& spec) {
    return guarded([&] {
        if (spec.interval_ms < store::min_interval_ms)
            fail(errc::invalid_argument, "invalid tick interval " + std::to_string(spec.interval_ms) +
                                             " ms: must be >= " + std::to_string(store::min_interval_ms));
        if (!impl_->reg->find_factory(spec.kind)) {
            std::string known;
            for (const auto& k : impl_->reg->kinds()) known += (known.empty() ? "" : ", ") + k;
            fail(errc::invalid_argument, "unknown reconciler kind \"" + spec.kind + "\" (known: " +
                                             (known.empty() ? std::string("none; no plugin loaded") : known) + ")");
        }
        std::string config = spec.config_json.empty() ? std::string("{}") : spec.config_json;
        try {
            value v = value::from_json(config);
            if (!v.is_map()) fail(errc::invalid_argument, "config must be a JSON object");
        } catch (const json_error& e) {
            fail(errc::invalid_argument, std::string("config is not valid json: ") + e.what());
        }
        store::vigy_spec s;
        s.name = spec.name;
        s.kind = spec.kind;
        s.config_json = std::move(config);
        s.interval_ms = spec.interval_ms;
        s.enabled = spec.enabled;
        s.labels = spec.labels;
        s.limits.fuel = clamp_i64(spec.limits.fuel);
        s.limits.wall_ms = clamp_i64(spec.limits.wall_ms);
        s.limits.memory_bytes = clamp_i64(spec.limits.memory_bytes);
        s.limits.max_depth = clamp_i64(spec.limits.max_depth);
        store::register_result r = impl_->db->register_or_update(s);
        impl_->apply_upsert(r.vigy);
        register_result out;
        static_cast<vigy_info&>(out) = to_info(r.vigy);
        out.outcome = r.outcome == store::register_outcome::created   ? register_outcome::created
                      : r.outcome == store::register_outcome::updated ? register_outcome::updated
                                                                      : register_outcome::unchanged;
        out.previous_revision = std::move(r.previous_revision);
        return out;
    });
}

std::optional<std::string> runtime::check(const vigy_spec& spec) const {
    return guarded([&]() -> std::optional<std::string> {
        store::limits own;
        own.fuel = clamp_i64(spec.limits.fuel);
        own.wall_ms = clamp_i64(spec.limits.wall_ms);
        own.memory_bytes = clamp_i64(spec.limits.memory_bytes);
        own.max_depth = clamp_i64(spec.limits.max_depth);
        vigy_limits c = to_c(effective_limits(own, impl_->defaults));
        try {
            reconciler rc(*impl_->reg, spec.kind, spec.config_json, &c, spec.name);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::nullopt;
    });
}

vigy_info runtime::enable(std::string_view name_or_id) {
    return guarded([&] {
        auto rec = impl_->db->set_enabled(name_or_id, true);
        impl_->apply_upsert(rec);
        return to_info(rec);
    });
}

vigy_info runtime::disable(std::string_view name_or_id) {
    return guarded([&] {
        auto rec = impl_->db->set_enabled(name_or_id, false);
        impl_->apply_upsert(rec);
        return to_info(rec);
    });
}

bool runtime::remove(std::string_view name_or_id, bool keep_history) {
    return guarded([&] {
        auto rec = impl_->db->find_vigy(name_or_id);
        if (!rec) return false;
        impl_->db->delete_vigy(rec->id, keep_history);
        impl_->apply_delete(rec->id);
        return true;
    });
}

vigy_info runtime::get(std::string_view name_or_id) const {
    return guarded([&] {
        auto rec = impl_->db->get_vigy(name_or_id);
        impl_->remember_name(rec.id, rec.name);
        return to_info(rec);
    });
}

std::optional<vigy_info> runtime::find(std::string_view name_or_id) const {
    return guarded([&]() -> std::optional<vigy_info> {
        auto rec = impl_->db->find_vigy(name_or_id);
        if (!rec) return std::nullopt;
        return to_info(*rec);
    });
}

std::vector<vigy_info> runtime::list(std::string_view selector) const {
    return guarded([&] {
        std::vector<vigy_info> out;
        for (const auto& r : impl_->db->list_vigies(selector)) {
            impl_->remember_name(r.id, r.name);
            out.push_back(to_info(r));
        }
        return out;
    });
}

std::vector<run> runtime::recent_runs(std::string_view name_or_id, size_t limit) const {
    return guarded([&] {
        auto rec = impl_->db->get_vigy(name_or_id);
        impl_->remember_name(rec.id, rec.name);
        return impl_->convert_runs(impl_->db->recent_runs(rec.id, limit));
    });
}

std::vector<run> runtime::runs_after(int64_t after_seq, size_t limit,
                                     std::optional<std::string_view> name_or_id) const {
    return guarded([&] {
        std::string id;
        if (name_or_id) {
            auto rec = impl_->db->get_vigy(*name_or_id);
            impl_->remember_name(rec.id, rec.name);
            id = rec.id;
        }
        return impl_->convert_runs(impl_->db->runs_after(after_seq, id, limit));
    });
}

std::vector<run> runtime::runs_since(int64_t since_ms, size_t limit,
                                     std::optional<std::string_view> name_or_id) const {
    return guarded([&] {
        std::string id;
        if (name_or_id) {
            auto rec = impl_->db->get_vigy(*name_or_id);
            impl_->remember_name(rec.id, rec.name);
            id = rec.id;
        }
        // Runs commit in roughly start order (a run commits within moments of its start):
        // binary-search the seq cursor for the first run started after since - 60 s, then
        // walk the cursor in pages, keeping the exact matches.
        std::vector<run> out;
        const std::string since = format_rfc3339_ms(since_ms);
        const std::string early = format_rfc3339_ms(since_ms - 60'000);
        int64_t lo = 0;
        int64_t hi = impl_->db->last_seq();
        while (lo < hi) {
            const int64_t mid = lo + (hi - lo) / 2;
            auto probe = impl_->db->runs_after(mid, {}, 1);
            if (probe.empty() || probe.front().started_at >= early)
                hi = mid;
            else
                lo = mid + 1;
        }
        int64_t cursor = lo;
        for (;;) {
            auto page = impl_->db->runs_after(cursor, id, 2000);
            if (page.empty()) break;
            cursor = page.back().seq;
            std::vector<store::run_record> keep;
            for (auto& r : page)
                if (r.started_at >= since) keep.push_back(std::move(r));
            for (auto& r : impl_->convert_runs(keep)) out.push_back(std::move(r));
            if (out.size() > limit) {
                out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out.size() - limit));
            }
        }
        if (out.size() > limit) out.resize(limit);
        return out;
    });
}

int64_t runtime::last_seq() const {
    return guarded([&] { return impl_->db->last_seq(); });
}

std::optional<run> runtime::find_run(std::string_view run_id) const {
    return guarded([&]() -> std::optional<run> {
        auto r = impl_->db->get_run(run_id);
        if (!r) return std::nullopt;
        return impl_->convert_runs({*r}).front();
    });
}

std::vector<kv_entry> runtime::kv(std::string_view name_or_id) const {
    return guarded([&] {
        auto rec = impl_->db->get_vigy(name_or_id);
        std::vector<kv_entry> out;
        for (auto& e : impl_->db->kv_entries(rec.id))
            out.push_back({std::move(e.key), std::move(e.value_json), ms_of(e.updated_at)});
        return out;
    });
}

std::vector<condition> runtime::conditions(std::string_view name_or_id) const {
    return guarded([&] {
        auto rec = impl_->db->get_vigy(name_or_id);
        std::vector<condition> out;
        for (const auto& c : impl_->db->conditions(rec.id))
            out.push_back({c.name, capitalized_status(c.status), c.reason, c.message, ms_of(c.last_transition),
                           ms_of(c.updated_at)});
        return out;
    });
}

std::vector<event> runtime::events(std::string_view name_or_id, size_t limit) const {
    return guarded([&] {
        auto rec = impl_->db->get_vigy(name_or_id);
        std::vector<event> out;
        for (const auto& e : impl_->db->events(rec.id, limit))
            out.push_back({e.vigy_id, e.type, e.reason, e.message, e.count, ms_of(e.first_seen), ms_of(e.last_seen)});
        return out;
    });
}

run runtime::tick_now(std::string_view name_or_id, int64_t wait_ms) {
    return guarded([&]() -> run {
        auto& p = *impl_;
        const store::vigy_record rec = p.db->get_vigy(name_or_id);
        p.remember_name(rec.id, rec.name);
        const auto deadline = steady::now() + milliseconds(std::max<int64_t>(wait_ms, 0));

        // 1. This process serves: run on the vigy's strand.
        if (p.serving.load() && !p.stopping.load() && p.lease_held.load()) {
            auto prom = std::make_shared<std::promise<run>>();
            auto fut = prom->get_future();
            impl::forced_job j;
            j.done = [prom](std::shared_ptr<const run> r, const std::string& err) {
                if (r)
                    prom->set_value(*r);
                else
                    prom->set_exception(std::make_exception_ptr(runtime_error(errc::internal, err)));
            };
            p.enqueue_forced(rec, std::move(j));
            const auto lim = effective_limits(rec.limits, p.defaults);
            const auto budget = milliseconds(std::max<int64_t>(wait_ms, 0)) +
                                milliseconds(clamp_i64(std::min<uint64_t>(lim.wall_ms, 3'600'000))) +
                                milliseconds(5000);
            if (fut.wait_for(budget) != std::future_status::ready)
                fail(errc::deadline_exceeded, "the tick of " + rec.name + " did not finish in time");
            return fut.get();
        }

        const std::string requester = std::string(tick_prefix) + p.host + ":" + std::to_string(p.pid);
        for (;;) {
            auto holder = p.db->lease_holder();
            if (holder && starts_with(holder->owner, serve_prefix) && holder->owner != p.owner &&
                !holder_is_dead(*holder, p.host)) {
                // 2. Another process serves: queue a request and wait for its run.
                const int64_t req = p.db->enqueue_tick_request(rec.id, requester);
                for (;;) {
                    std::this_thread::sleep_for(milliseconds(20));
                    auto st = p.db->get_tick_request(req);
                    if (!st) fail(errc::internal, "tick request " + std::to_string(req) + " vanished");
                    if (st->state == "done") {
                        auto r = p.db->get_run(st->run_id);
                        if (!r) fail(errc::internal, "run " + st->run_id + " of tick request not found");
                        return p.convert_runs({*r}).front();
                    }
                    if (st->state == "failed") fail(errc::internal, st->error.empty() ? "tick failed" : st->error);
                    if (st->state == "pending") {
                        auto h = p.db->lease_holder();
                        if (!h || !starts_with(h->owner, serve_prefix) || holder_is_dead(*h, p.host)) {
                            // the scheduler went away before claiming it: do it ourselves
                            p.db->complete_tick_request(req, {}, "abandoned: the scheduler stopped");
                            break;
                        }
                    }
                    if (steady::now() > deadline)
                        fail(errc::deadline_exceeded, "the scheduler (pid " + std::to_string(holder->pid) +
                                                          ") did not run the tick of " + rec.name + " within " +
                                                          std::to_string(wait_ms) + " ms");
                }
                continue;
            }
            // 3. Nobody serves: tick here under a short lease (serialises with other ticks).
            const std::string token = std::string(tick_prefix) + p.host + ":" + std::to_string(p.pid) + ":" + random_token();
            const auto lim = effective_limits(rec.limits, p.defaults);
            const int64_t ttl = clamp_i64(std::min<uint64_t>(lim.wall_ms, 3'600'000)) + 10'000;
            if (p.db->acquire_lease(token, p.pid, p.host, ttl)) {
                struct releaser {
                    impl& p;
                    const std::string& token;
                    ~releaser() {
                        try {
                            p.db->release_lease(token);
                        } catch (const std::exception& e) {
                            logger()->warn("releasing the tick lease failed: {}", e.what());
                        }
                    }
                } rel{p, token};
                return p.tick_locally(p.db->get_vigy(rec.id));
            }
            if (steady::now() > deadline) {
                auto h = p.db->lease_holder();
                fail(errc::unavailable, "the database is being ticked by another process" +
                                            (h ? " (pid " + std::to_string(h->pid) + ")" : std::string()) +
                                            "; try again");
            }
            std::this_thread::sleep_for(milliseconds(20));
        }
    });
}

run runtime::evaluate(const vigy_spec& spec) const {
    return guarded([&] {
        store::vigy_record rec;
        rec.name = spec.name;
        rec.kind = spec.kind;
        rec.config_json = spec.config_json;
        rec.revision = store::revision_for(spec.kind, spec.config_json);
        rec.interval_ms = spec.interval_ms;
        rec.limits.fuel = clamp_i64(spec.limits.fuel);
        rec.limits.wall_ms = clamp_i64(spec.limits.wall_ms);
        rec.limits.memory_bytes = clamp_i64(spec.limits.memory_bytes);
        rec.limits.max_depth = clamp_i64(spec.limits.max_depth);
        vigy_limits c = to_c(effective_limits(rec.limits, impl_->defaults));
        std::optional<reconciler> rc;
        std::string build_error;
        try {
            rc.emplace(*impl_->reg, rec.kind, rec.config_json, &c, rec.name);
        } catch (const std::exception& e) {
            build_error = e.what();
        }
        auto out = execute_tick(rec, rc ? &*rc : nullptr, build_error, {}, {}, run_trigger::forced, std::nullopt);
        return *out.result;
    });
}

subscription runtime::subscribe(std::function<void(const run&)> callback) {
    if (!callback) throw runtime_error(errc::invalid_argument, "subscribe: empty callback");
    auto s = std::make_shared<impl::subscriber>();
    s->cb = std::move(callback);
    {
        std::lock_guard lk(impl_->bus->m);
        impl_->bus->subscribers.push_back(s);
        impl_->bus->count = impl_->bus->subscribers.size();
    }
    std::weak_ptr<impl::bus_state> bus = impl_->bus;
    return subscription([bus, s] {
        {
            std::lock_guard lk(s->m);  // waits for a running delivery (recursive: safe from the callback)
            s->active = false;
        }
        auto b = bus.lock();
        if (!b) return;  // the runtime is gone
        std::lock_guard lk(b->m);
        auto& v = b->subscribers;
        v.erase(std::remove(v.begin(), v.end(), s), v.end());
        b->count = v.size();
    });
}

void runtime::start() {
    guarded([&] {
        auto& p = *impl_;
        std::lock_guard lk(p.start_m);
        if (p.serving.load()) return;
        if (!p.pool) {
            p.pool = std::make_unique<asio::thread_pool>(p.opt.tick_threads);
            for (unsigned i = 0; i < p.opt.tick_threads; ++i)  // best effort: names most pool threads
                asio::post(*p.pool, [] { pthread_setname_np(pthread_self(), "vigy-tick"); });
        }
        // Wait a little for a short tick lease (or a holder on another host) to expire.
        auto deadline = steady::now();
        bool extended = false;
        for (;;) {
            if (p.db->acquire_lease(p.owner, p.pid, p.host, serve_lease_ttl_ms)) break;
            auto h = p.db->lease_holder();
            // A holder on this host whose process is gone (kill -9, crash): take its lease now
            // instead of waiting for it to expire. Other hosts' holders only expire.
            if (h && holder_is_dead(*h, p.host) &&
                p.db->take_over_lease(h->owner, p.owner, p.pid, p.host, serve_lease_ttl_ms)) {
                logger()->warn("took over the scheduler lease of pid {}, which is no longer running", h->pid);
                break;
            }
            if (h && !extended) {
                extended = true;
                if (starts_with(h->owner, tick_prefix))
                    deadline = steady::now() + milliseconds(10'000);
                else if (holder_is_dead(*h, p.host)) {
                    const int64_t wait = std::max<int64_t>(0, h->expires_ms - store::now_unix_ms()) + 500;
                    logger()->warn("the scheduler lease is held by pid {}, which is no longer running; waiting {} ms "
                                   "for it to expire",
                                   h->pid, wait);
                    deadline = steady::now() + milliseconds(wait);
                }
            }
            if (steady::now() >= deadline) {
                if (h)
                    fail(errc::failed_precondition,
                         "another scheduler is serving " + p.path.string() + " (pid " + std::to_string(h->pid) +
                             " on " + h->host + "); stop it first");
                fail(errc::unavailable, "could not take the scheduler lease of " + p.path.string());
            }
            std::this_thread::sleep_for(milliseconds(50));
        }
        p.lease_held = true;
        p.stopping = false;
        p.serving = true;
        p.lateness->clear();
        p.commits_at_start = p.db->writer().stats().transactions;
        try {
            p.generation = p.db->vigies_generation();
            for (const auto& rec : p.db->list_vigies()) p.apply_upsert(rec);
        } catch (...) {
            p.serving = false;
            p.lease_held = false;
            p.db->release_lease(p.owner);
            throw;
        }
        {
            std::lock_guard ck(p.control_m);
            p.control_stop = false;
        }
        p.control = std::thread([&p] {
            pthread_setname_np(pthread_self(), "vigy-control");
            p.control_loop();
        });
        logger()->info("serving {} (scheduler pid {})", p.path.string(), p.pid);
    });
}

void runtime::stop() {
    auto& p = *impl_;
    std::lock_guard lk(p.start_m);
    if (!p.serving.load()) return;
    p.stopping = true;
    {
        std::lock_guard ck(p.control_m);
        p.control_stop = true;
    }
    p.control_cv.notify_all();
    if (p.control.joinable()) p.control.join();
    std::vector<std::shared_ptr<impl::slot>> all;
    {
        std::lock_guard sk(p.sched_m);
        for (auto& [id, s] : p.slots) all.push_back(s);
    }
    {
        // Unschedule every slot on its strand, and wait until all of them did.
        std::atomic<size_t> left{all.size()};
        std::promise<void> unscheduled;
        auto done = unscheduled.get_future();
        if (all.empty()) unscheduled.set_value();
        for (auto& s : all) {
            asio::post(s->strand, [&p, s, &left, &unscheduled] {
                p.set_scheduled(*s, false);
                s->due_pending = false;
                p.disarm(*s);
                if (left.fetch_sub(1) == 1) unscheduled.set_value();
            });
        }
        done.wait();
    }
    {
        std::unique_lock ik(p.inflight_m);
        p.inflight_cv.wait(ik, [&p] { return p.inflight.load() == 0; });
    }
    try {
        p.db->writer().flush();
    } catch (const std::exception& e) {
        logger()->error("flushing the writer failed: {}", e.what());
    }
    try {
        p.db->release_lease(p.owner);
    } catch (const std::exception& e) {
        logger()->warn("releasing the scheduler lease failed: {}", e.what());
    }
    {
        // Drop every slot (and its kv cache): the next start reloads from the store.
        std::lock_guard sk(p.sched_m);
        p.slots.clear();
    }
    p.lease_held = false;
    p.serving = false;
    p.stopping = false;
    {
        std::lock_guard sk(p.serve_m);
    }
    p.serve_cv.notify_all();
    logger()->info("stopped serving {}", p.path.string());
}

void runtime::serve() {
    start();
    auto& p = *impl_;
    std::unique_lock lk(p.serve_m);
    p.serve_cv.wait(lk, [&p] { return !p.serving.load(); });
}

bool runtime::serving() const noexcept { return impl_->serving.load(); }

std::vector<std::string> runtime::scheduled() const {
    auto& p = *impl_;
    std::vector<std::shared_ptr<impl::slot>> all;
    {
        std::lock_guard sk(p.sched_m);
        for (auto& [id, s] : p.slots) all.push_back(s);
    }
    std::vector<std::string> names;
    if (!p.serving.load()) return names;
    // Read each slot's state on its strand.
    std::vector<std::future<std::optional<std::string>>> futs;
    for (auto& s : all) {
        auto prom = std::make_shared<std::promise<std::optional<std::string>>>();
        futs.push_back(prom->get_future());
        asio::post(s->strand, [s, prom] {
            prom->set_value(s->scheduled && s->has_rec ? std::optional<std::string>(s->rec.name) : std::nullopt);
        });
    }
    for (auto& f : futs)
        if (f.wait_for(std::chrono::seconds(10)) == std::future_status::ready)
            if (auto n = f.get()) names.push_back(*n);
    std::sort(names.begin(), names.end());
    return names;
}

std::optional<scheduler_info> runtime::scheduler() const {
    return guarded([&]() -> std::optional<scheduler_info> {
        auto h = impl_->db->lease_holder();
        if (!h) return std::nullopt;
        scheduler_info s;
        s.pid = h->pid;
        s.hostname = h->host;
        s.acquired_ms = h->acquired_ms;
        s.expires_ms = h->expires_ms;
        s.this_process = impl_->serving.load() && h->owner == impl_->owner;
        return s;
    });
}

runtime_stats runtime::stats() const {
    auto& p = *impl_;
    runtime_stats st;
    st.scheduled = static_cast<size_t>(std::max<int64_t>(0, p.scheduled_count.load()));
    st.ticks_ok = p.ticks_ok.load();
    st.ticks_failed = p.ticks_failed.load();
    st.ticks_forced = p.ticks_forced.load();
    st.runs_committed = p.runs_committed.load();
    try {
        st.commits = p.db->writer().stats().transactions - p.commits_at_start;
    } catch (const std::exception&) {
    }
    st.skipped_slots = p.skipped_slots.load();
    auto v = p.lateness->snapshot();
    if (!v.empty()) {
        std::sort(v.begin(), v.end());
        auto at = [&](double q) { return static_cast<double>(v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]); };
        st.lateness_p50_ms = at(0.50);
        st.lateness_p99_ms = at(0.99);
        st.lateness_max_ms = v.back();
    }
    return st;
}

}  // namespace vigy::host
