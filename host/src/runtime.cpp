// host/src/runtime.cpp — vigy::host::runtime: the thin public layer over the store and
// the runtime's parts:
//   runtime_mapping.*       spec checks that need the registry, limits, grants
//   runtime_scheduler.*     the timer thread and the schedule policy (fixed rate, backoff)
//   runtime_executor.*      the tick threads
//   runtime_pipeline.*      hydrate -> tick -> commit -> publish, one slot per vigy
//   runtime_coordination.*  the lease and fencing, other processes' changes and tick
//                           requests, tick_now
//   runtime_bus.*           committed runs to subscribers
#include "vigy/host/runtime.hpp"

#include "vigy/host/capabilities.hpp"

#include "runtime_bus.hpp"
#include "runtime_coordination.hpp"
#include "runtime_mapping.hpp"
#include "runtime_notify.hpp"
#include "runtime_pipeline.hpp"

#include "vigy/host/log.hpp"
#include "vigy/host/reconciler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace vigy::host {

namespace {

/// Runs `f`; a status_error passes unchanged (codes are never collapsed), anything else
/// becomes INTERNAL (RESOURCE_EXHAUSTED for out of memory).
template <class F>
auto guard(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const status_error&) {
        throw;
    } catch (const std::bad_alloc&) {
        vigy::fail(VIGY_RESOURCE_EXHAUSTED, "out of memory");
    } catch (const std::exception& e) {
        vigy::fail(VIGY_INTERNAL, e.what());
    }
}

}  // namespace

// ---- small public helpers ------------------------------------------------------

const char* run_result_name(run_result r) noexcept { return store::to_string(r); }
const char* register_outcome_name(register_outcome o) noexcept { return store::to_string(o); }
const char* run_trigger_name(run_trigger t) noexcept { return store::to_string(t); }

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

schedule_spec schedule_of(const store::vigy_record& v) noexcept {
    schedule_spec out;
    out.every_ms = std::max<int64_t>(v.interval_ms, store::min_interval_ms);
    if (v.schedule_json.empty()) return out;
    try {
        return schedule_from_json(v.schedule_json);
    } catch (const std::exception& e) {
        logger()->warn("vigy {}: stored schedule {} does not parse ({}); ticking every {} ms", v.name, v.schedule_json,
                       e.what(), out.every_ms);
        return out;
    }
}

lifecycle_state state_of(const store::vigy_record& v) noexcept {
    return parse_lifecycle_state(v.state).value_or(v.enabled ? lifecycle_state::enabled : lifecycle_state::disabled);
}

evaluation evaluate(const registry& reg, const vigy_spec& spec, const evaluate_options& options,
                    const tick_limits& defaults) {
    return guard([&] {
        return detail::evaluate(reg, *clock::system(), detail::effective_limits(defaults, default_tick_limits()), spec,
                                options);
    });
}

// ---- the implementation ----------------------------------------------------------

struct runtime::impl {
    std::filesystem::path path;
    runtime_options opt;
    tick_limits defaults;
    std::shared_ptr<host::clock> clk;
    std::unique_ptr<registry> reg;
    std::unique_ptr<store::store> db;
    std::unique_ptr<detail::event_bus> bus;
    detail::lease_state lease;
    std::unique_ptr<detail::pipeline> pipeline;
    std::unique_ptr<detail::coordinator> coord;
    std::unique_ptr<detail::notifier> notify;  // while serving on PostgreSQL
    std::mutex start_m;                        // serialises start/stop
    std::mutex serve_m;
    std::condition_variable serve_cv;
    uint64_t commits_at_open = 0;

    /// The vigy by name or id, or NOT_FOUND.
    store::vigy_record vigy(std::string_view name_or_id) const { return db->get_vigy(name_or_id); }
};

runtime::runtime(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

std::filesystem::path runtime::default_db_path() {
    if (const char* env = std::getenv("VIGY_DB"); env && *env) return env;
    std::filesystem::path base;
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        base = xdg;
    else if (const char* home = std::getenv("HOME"); home && *home)
        base = std::filesystem::path(home) / ".local" / "share";
    else
        // Never a database in the current directory by accident.
        vigy::fail(VIGY_FAILED_PRECONDITION,
                   "no database path: HOME and XDG_DATA_HOME are unset; give --db PATH or set VIGY_DB");
    return base / "vigy" / "vigy.db";
}

const std::vector<std::string>& runtime::default_grants() {
    static const std::vector<std::string> grants = [] {
        std::vector<std::string> v(default_capabilities.begin(), default_capabilities.end());
        std::sort(v.begin(), v.end());
        return v;
    }();
    return grants;
}

std::unique_ptr<runtime> runtime::open(const std::filesystem::path& db_path, runtime_options options) {
    return guard([&] {
        if (db_path.empty()) vigy::fail(VIGY_INVALID_ARGUMENT, "database path is empty");
        if (options.keep_runs < 0 || options.max_run_age_ms < 0)
            vigy::fail(VIGY_INVALID_ARGUMENT, "retention settings must be >= 0");
        if (options.lease_ttl_ms < 100)
            vigy::fail(VIGY_INVALID_ARGUMENT,
                       "lease ttl " + std::to_string(options.lease_ttl_ms) + " ms is too short: must be >= 100");
        if (options.lease_renew_ms <= 0 || options.lease_renew_ms * 2 >= options.lease_ttl_ms)
            vigy::fail(VIGY_INVALID_ARGUMENT, "lease renewal every " + std::to_string(options.lease_renew_ms) +
                                                  " ms must be > 0 and < half the lease ttl (" +
                                                  std::to_string(options.lease_ttl_ms) + " ms)");
        if (options.tick_slice_ms < 0 || options.tick_slice_ms > 60000)
            vigy::fail(VIGY_INVALID_ARGUMENT, "tick slice " + std::to_string(options.tick_slice_ms) +
                                                  " ms is out of range: must be 0 (off) to 60000 ms");
        if (options.max_long_ticks > 1024)
            vigy::fail(VIGY_INVALID_ARGUMENT, "max long ticks " + std::to_string(options.max_long_ticks) +
                                                  " is out of range: must be 0 (automatic) to 1024");
        if (options.max_long_ticks == 0) options.max_long_ticks = std::max(1u, std::thread::hardware_concurrency() / 2);
        if (options.tick_threads == 0)
            options.tick_threads = std::min(32u, std::max(4u, 2 * std::max(1u, std::thread::hardware_concurrency())));
        auto p = std::make_unique<impl>();
        p->path = db_path;
        p->opt = options;
        p->clk = options.clock ? options.clock : clock::system();
        const tick_limits base = default_tick_limits();
        const tick_limits& d = options.default_limits;
        p->defaults = detail::effective_limits(d, base);

        p->reg = std::make_unique<registry>();
        for (const auto& sp : options.static_plugins) {
            if (!sp.entry) vigy::fail(VIGY_INVALID_ARGUMENT, "static plugin \"" + sp.name + "\" has no entry function");
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
        so.create_if_missing = options.create_if_missing;
        so.retention.keep_runs = options.keep_runs;
        so.retention.max_age = std::chrono::milliseconds(options.max_run_age_ms);
        so.log = [](store::log_level level, const std::string& msg) {
            if (level == store::log_level::error)
                logger()->error("store: {}", msg);
            else
                logger()->warn("store: {}", msg);
        };
        try {
            p->db = std::make_unique<store::store>(so);
        } catch (const status_error& e) {
            const std::string msg = e.what();
            const std::string shown = store::display_path(so.path);  // a URL without its password
            if (msg.find(shown) != std::string::npos) throw;
            throw status_error(e.code(), "cannot open database " + shown + ": " + msg);
        }
        p->commits_at_open = p->db->writer().stats().transactions;
        p->bus = std::make_unique<detail::event_bus>();
        detail::fairness fair;
        fair.slice = std::chrono::milliseconds(options.tick_slice_ms);
        fair.max_long = options.max_long_ticks;
        fair.clock = p->clk;
        p->pipeline = std::make_unique<detail::pipeline>(*p->db, *p->reg, p->clk, p->defaults, *p->bus, p->lease,
                                                         options.tick_threads, std::move(fair));
        p->coord = std::make_unique<detail::coordinator>(*p->db, *p->pipeline, p->lease, *p->bus, *p->reg, p->clk,
                                                         p->defaults, options, db_path.string());
        p->notify = std::make_unique<detail::notifier>(*p->db, options.poll_ms);
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
    p.notify.reset();
    p.coord.reset();
    p.pipeline.reset();  // reconcilers die before the registry
    p.bus->close();
    try {
        p.db.reset();  // drains the writer
    } catch (const std::exception& e) {
        logger()->error("closing the store failed: {}", e.what());
    }
    p.bus.reset();
    p.reg.reset();
}

const std::filesystem::path& runtime::db_path() const noexcept { return impl_->path; }
const registry& runtime::plugins() const noexcept { return *impl_->reg; }
std::vector<std::string> runtime::kinds() const { return impl_->reg->kinds(); }

// ---- vigies ------------------------------------------------------------------------

register_result runtime::register_or_update(const vigy_spec& spec, std::optional<int64_t> expected) {
    return guard([&] {
        if (spec.interval_ms < store::min_interval_ms)
            vigy::fail(VIGY_INVALID_ARGUMENT, "invalid tick interval " + std::to_string(spec.interval_ms) +
                                                  " ms: must be >= " + std::to_string(store::min_interval_ms));
        store::validate_name(spec.name);
        vigy_spec s = detail::normalized_spec(spec, *impl_->reg);
        if (!s.schedule_json.empty()) {
            const schedule_spec sc = schedule_from_json(s.schedule_json);
            for (const trigger_spec& t : sc.triggers)
                if (!t.vigy.empty() && t.vigy != s.name && !impl_->db->find_vigy(t.vigy))
                    vigy::fail(VIGY_INVALID_ARGUMENT, "--on " + t.to_string() + ": there is no vigy named \"" + t.vigy +
                                                          "\" (register it first)");
            schedule_spec plain;
            plain.every_ms = sc.every_ms;
            if (sc.kind == schedule_kind::every) s.interval_ms = sc.every_ms;
            // A bare --every is stored as before schedules existed (the interval alone).
            s.schedule_json = sc == plain ? std::string() : sc.to_json();
        }
        store::register_result r = impl_->db->register_or_update(s, expected);
        impl_->pipeline->upsert(r.vigy);
        register_result out;
        static_cast<vigy_info&>(out) = std::move(r.vigy);
        out.outcome = r.outcome;
        out.previous_revision = std::move(r.previous_revision);
        return out;
    });
}

std::optional<std::string> runtime::check(const vigy_spec& spec) const {
    return guard([&]() -> std::optional<std::string> {
        const vigy_limits c = detail::to_c(detail::effective_limits(spec.limits, impl_->defaults));
        try {
            reconciler rc(*impl_->reg, spec.kind, spec.config_json, &c, spec.name);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::nullopt;
    });
}

vigy_info runtime::enable(std::string_view name_or_id, std::optional<int64_t> expected) {
    return guard([&] {
        auto rec = impl_->db->set_enabled(name_or_id, true, expected);
        impl_->pipeline->upsert(rec);
        return rec;
    });
}

vigy_info runtime::disable(std::string_view name_or_id, std::optional<int64_t> expected) {
    return guard([&] {
        auto rec = impl_->db->set_enabled(name_or_id, false, expected);
        impl_->pipeline->upsert(rec);
        return rec;
    });
}

vigy_info runtime::reset(std::string_view name_or_id) {
    return guard([&] {
        const auto before = impl_->db->get_vigy(name_or_id);
        const lifecycle_state st = state_of(before);
        vigy_info rec = before;
        if (st == lifecycle_state::degraded)
            rec = impl_->db->set_state(before.id, store::state_enabled, "", {store::state_degraded},
                                       store::condition_update{"Degraded", "False", "Reset", "supervision was reset"});
        else if (st == lifecycle_state::enabled)
            rec = impl_->db->set_state(before.id, store::state_enabled, "", {store::state_enabled});
        impl_->pipeline->upsert(rec);
        return rec;
    });
}

std::optional<run> runtime::trigger(std::string_view name_or_id, std::string_view payload_json, std::string_view source,
                                    int64_t wait_ms) {
    return guard([&]() -> std::optional<run> {
        value payload = value::nil();
        if (!payload_json.empty()) {
            try {
                payload = value::from_json(payload_json);
            } catch (const json_error& e) {
                vigy::fail(VIGY_INVALID_ARGUMENT, std::string("--payload is not valid JSON: ") + e.what());
            }
        }
        const auto rec = impl_->vigy(name_or_id);
        value t = value::map();
        t.set("kind", value::string("manual"));
        t.set("source", value::string(std::string(source)));
        t.set("payload", std::move(payload));
        return impl_->coord->trigger(rec, t, wait_ms);
    });
}

bool runtime::remove(std::string_view name_or_id, bool keep_history, std::optional<int64_t> expected) {
    return guard([&] {
        if (!expected && !impl_->db->find_vigy(name_or_id)) return false;
        const auto was = impl_->db->delete_vigy(name_or_id, keep_history, expected);
        impl_->pipeline->remove(was.key);
        return true;
    });
}

vigy_info runtime::get(std::string_view name_or_id) const {
    return guard([&] { return impl_->vigy(name_or_id); });
}

std::optional<vigy_info> runtime::find(std::string_view name_or_id) const {
    return guard([&] { return impl_->db->find_vigy(name_or_id); });
}

std::vector<vigy_info> runtime::list(std::string_view selector) const {
    return guard([&] { return impl_->db->list_vigies(store::parse_selector(selector)); });
}

vigy_page runtime::list_page(std::string_view selector, size_t limit, std::string_view continue_token) const {
    return guard([&] { return impl_->db->list_page(store::parse_selector(selector), limit, continue_token); });
}

int64_t runtime::resource_version() const {
    return guard([&] { return impl_->db->change_seq(); });
}

std::optional<int64_t> runtime::try_resource_version() const noexcept { return impl_->db->try_change_seq(); }

vigy_changes runtime::changes_since(int64_t resource_version) const {
    return guard([&] { return impl_->db->changes_since(resource_version); });
}

std::vector<std::string> runtime::effective_grants(const vigy_info& v) const {
    return detail::effective_grants(v.allow);
}

// ---- reads -----------------------------------------------------------------------------

std::vector<run> runtime::recent_runs(std::string_view name_or_id, size_t limit) const {
    return guard([&] { return impl_->db->recent_runs(impl_->vigy(name_or_id).id, limit); });
}

std::vector<run> runtime::runs_after(int64_t after_seq, size_t limit,
                                     std::optional<std::string_view> name_or_id) const {
    return guard([&] {
        const std::string id = name_or_id ? impl_->vigy(*name_or_id).id : std::string();
        return impl_->db->runs_after(after_seq, id, limit);
    });
}

std::vector<run> runtime::runs_since(int64_t since_ms, size_t limit, std::optional<std::string_view> name_or_id) const {
    return guard([&] {
        const std::string id = name_or_id ? impl_->vigy(*name_or_id).id : std::string();
        std::vector<run> out;
        int64_t cursor = impl_->db->seq_before_started(since_ms);
        for (;;) {
            auto page = impl_->db->runs_after(cursor, id, 2000);
            if (page.empty()) break;
            cursor = page.back().seq;
            for (auto& r : page)
                if (r.started_ms >= since_ms) out.push_back(std::move(r));
            if (out.size() > limit)  // keep the newest `limit`
                out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out.size() - limit));
        }
        return out;
    });
}

int64_t runtime::last_seq() const {
    return guard([&] { return impl_->db->last_seq(); });
}

int64_t runtime::oldest_seq() const {
    return guard([&] { return impl_->db->oldest_seq(); });
}

std::optional<run> runtime::find_run(std::string_view run_id) const {
    return guard([&] { return impl_->db->get_run(run_id); });
}

std::vector<kv_entry> runtime::kv(std::string_view name_or_id) const {
    return guard([&] { return impl_->db->kv(impl_->vigy(name_or_id).id); });
}

std::vector<condition> runtime::conditions(std::string_view name_or_id) const {
    return guard([&] { return impl_->db->conditions(impl_->vigy(name_or_id).id); });
}

std::vector<event> runtime::events(std::string_view name_or_id, size_t limit) const {
    return guard([&] { return impl_->db->events(impl_->vigy(name_or_id).id, limit); });
}

// ---- ticking -----------------------------------------------------------------------------

run runtime::tick_now(std::string_view name_or_id, int64_t wait_ms) {
    return guard([&] { return impl_->coord->tick_now(impl_->vigy(name_or_id), wait_ms); });
}

run runtime::evaluate(const vigy_spec& spec) const {
    evaluation e = evaluate(spec, evaluate_options{});
    return std::move(e.ticks.front().result);
}

evaluation runtime::evaluate(const vigy_spec& spec, const evaluate_options& options) const {
    return guard([&] { return detail::evaluate(*impl_->reg, *impl_->clk, impl_->defaults, spec, options); });
}

subscription runtime::subscribe(std::function<void(const run&)> callback) {
    if (!callback) vigy::fail(VIGY_INVALID_ARGUMENT, "subscribe: empty callback");
    return subscription(impl_->bus->subscribe(std::move(callback)));
}

subscription runtime::subscribe_changes(std::function<void(unsigned topics)> callback) {
    if (!callback) vigy::fail(VIGY_INVALID_ARGUMENT, "subscribe_changes: empty callback");
    return subscription(impl_->notify->subscribe(std::move(callback)));
}

// ---- serving ---------------------------------------------------------------------------

void runtime::start() {
    guard([&] {
        std::lock_guard lk(impl_->start_m);
        if (impl_->coord->serving()) return;
        impl_->coord->start_serving();
        if (!impl_->opt.notify) return;
        auto* c = impl_->coord.get();
        try {
            impl_->notify->start(
                {[c](unsigned topics) { c->notified(topics); }, [c](bool up) { c->set_listening(up); }});
        } catch (const std::exception& e) {
            // serving works without it: the coordinator polls
            logger()->warn("change notification is off ({}); polling every {} ms", e.what(), impl_->opt.poll_ms);
        }
    });
}

void runtime::stop() {
    auto& p = *impl_;
    {
        std::lock_guard lk(p.start_m);
        if (!p.coord->serving()) return;
        p.notify->stop();
        p.coord->stop_serving();
    }
    { std::lock_guard sk(p.serve_m); }
    p.serve_cv.notify_all();
}

void runtime::serve() {
    start();
    auto& p = *impl_;
    std::unique_lock lk(p.serve_m);
    p.serve_cv.wait(lk, [&p] { return !p.coord->serving(); });
}

bool runtime::serving() const noexcept { return impl_->coord->serving(); }

bool runtime::wait_synced(int64_t resource_version, std::chrono::milliseconds timeout) const {
    return impl_->coord->wait_synced(resource_version, timeout);
}

std::vector<std::string> runtime::scheduled() const {
    if (!serving()) return {};
    return impl_->pipeline->scheduled_names();
}

std::optional<scheduler_info> runtime::scheduler() const {
    return guard([&] { return impl_->coord->holder(); });
}

cluster_info runtime::cluster() const {
    return guard([&] {
        cluster_info out;
        out.view = impl_->db->cluster_status();
        std::vector<size_t> per_shard(static_cast<size_t>(std::max(out.view.shard_count, 0)));
        for (const auto& v : impl_->db->list_vigies())
            if (!per_shard.empty()) ++per_shard[static_cast<size_t>(store::shard_of(v.key, out.view.shard_count))];
        for (const auto& h : out.view.hosts) out.vigies_by_owner[h.owner] = 0;
        for (const auto& l : out.view.shards) {
            const size_t n = l.shard < static_cast<int>(per_shard.size()) ? per_shard[static_cast<size_t>(l.shard)] : 0;
            if (l.owner.empty())
                out.vigies_unowned += n;
            else
                out.vigies_by_owner[l.owner] += n;
        }
        return out;
    });
}

runtime_stats runtime::stats() const {
    auto& p = *impl_;
    const auto& pl = *p.pipeline;
    runtime_stats st;
    st.scheduled = pl.scheduled_count();
    st.ticks_ok = pl.ticks_ok.load();
    st.ticks_failed = pl.ticks_failed.load();
    st.ticks_forced = pl.ticks_forced.load();
    st.forced_waiting = static_cast<size_t>(std::max<int64_t>(0, pl.forced_waiting.load()));
    st.runs_committed = pl.runs_committed.load();
    st.runs_rejected = pl.runs_rejected.load();
    st.stale_commits = pl.stale_commits.load();
    st.skipped_slots = pl.skipped_slots.load();
    st.ticks_paused = pl.ticks_paused.load();
    const detail::executor_stats es = p.pipeline->executor_counters();
    st.long_ticks = es.demoted;
    st.long_tick_parks = es.parks;
    st.long_ticks_running = es.long_running;
    st.long_ticks_parked = es.long_parked;
    try {
        const auto ws = p.db->writer().stats();
        st.commits = ws.transactions - p.commits_at_open;
        st.writer_queued = ws.queued;
    } catch (const std::exception&) {
    }
    st.lease_token = p.lease.token.load();
    st.lease_held = st.lease_token != 0 && p.lease.valid_now();
    if (p.coord && p.coord->cluster()) {
        st.cluster = true;
        st.lease_held = false;  // no scheduler lease: shard leases
        st.lease_token = 0;
        st.shards_held = p.coord->shards_held();
        st.lease_takeovers = p.coord->takeovers();
        st.shards_lost = p.coord->shards_lost();
    }
    st.notify_active = p.notify->active();
    st.notify_connected = p.notify->connected();
    st.notifications = p.notify->notifications();
    st.notify_reconnects = p.notify->reconnects();
    auto v = pl.lateness.snapshot();
    if (!v.empty()) {
        std::sort(v.begin(), v.end());
        auto at = [&](double q) {
            return static_cast<double>(v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]);
        };
        st.lateness_p50_ms = at(0.50);
        st.lateness_p99_ms = at(0.99);
        st.lateness_max_ms = v.back();
    }
    return st;
}

}  // namespace vigy::host
