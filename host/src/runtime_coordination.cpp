// host/src/runtime_coordination.cpp — the lease, the control loop, tick_now.
#include "runtime_coordination.hpp"

#include "vigy/host/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <set>

#include <pthread.h>
#include <unistd.h>

namespace vigy::host::detail {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::string_view serve_prefix = "serve:";
constexpr std::string_view tick_prefix = "tick:";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

/// How long before the lease's expiry (as last renewed) this process stops starting
/// ticks: a tick started in time commits in time or is fenced out.
int64_t safety_margin(int64_t ttl_ms) { return std::min<int64_t>(ttl_ms / 5, 1000); }

/// The safety-net poll period while change notification is up: notifications wake the
/// control loop, so this only bounds the delay if one is ever missed.
constexpr int64_t notified_poll_ms = 10'000;

/// How long a taken forced tick may take before its requester gives up: its wall-clock
/// limit plus a second for the commit.
int64_t tick_budget_ms(const tick_limits& l) {
    return static_cast<int64_t>(std::min<uint64_t>(l.wall_ms, 3'600'000)) + 1000;
}

}  // namespace

coordinator::coordinator(store::store& db, pipeline& p, lease_state& lease, event_bus& bus, const registry& reg,
                         std::shared_ptr<host::clock> clk, tick_limits defaults, const runtime_options& o,
                         std::string db_path)
    : db_(db),
      pipeline_(p),
      lease_(lease),
      bus_(bus),
      reg_(reg),
      clk_(std::move(clk)),
      defaults_(defaults),
      ttl_ms_(o.lease_ttl_ms),
      renew_ms_(o.lease_renew_ms),
      poll_ms_(std::clamp<int64_t>(o.poll_ms, 10, 60'000)),
      db_path_(store::display_path(db_path)),  // messages and logs never show a password
      host_(hostname()),
      pid_(static_cast<int64_t>(::getpid())),
      owner_(std::string(serve_prefix) + host_ + ":" + std::to_string(pid_) + ":" + random_token()),
      cluster_(o.cluster),
      cluster_lease_ms_(o.cluster_lease_ms),
      renew_deadline_ms_(o.cluster_renew_deadline_ms),
      retry_ms_(o.cluster_retry_ms) {
    if (cluster_ && !(retry_ms_ > 0 && retry_ms_ < renew_deadline_ms_ && renew_deadline_ms_ < cluster_lease_ms_))
        vigy::fail(VIGY_INVALID_ARGUMENT, "cluster lease settings: need 0 < retry period (" +
                                              std::to_string(retry_ms_) + " ms) < renew deadline (" +
                                              std::to_string(renew_deadline_ms_) + " ms) < lease duration (" +
                                              std::to_string(cluster_lease_ms_) + " ms)");
}

coordinator::~coordinator() {
    try {
        stop_serving();
    } catch (const std::exception& e) {
        logger()->error("stopping the scheduler failed: {}", e.what());
    }
}

store::lease_request coordinator::request(const std::string& owner, int64_t ttl_ms) const {
    return store::lease_request{owner, pid_, host_, store::lease_clock{boot_id(), boot_ms(), clk_->wall_ms()}, ttl_ms};
}

void coordinator::set_held(int64_t token, int64_t renewed_at) {
    lease_.valid_until_boot_ms.store(renewed_at + ttl_ms_ - safety_margin(ttl_ms_), std::memory_order_release);
    lease_.token.store(token, std::memory_order_release);
}

std::optional<store::cluster_view> coordinator::cluster_in_use() {
    std::optional<store::cluster_view> cv;
    try {
        cv = db_.cluster_status();
    } catch (const status_error& e) {
        if (e.code() != VIGY_FAILED_PRECONDITION) throw;
        return std::nullopt;  // SQLite: no cluster mode
    }
    // A host row of the last hour (live, or dead without leaving: kill -9, a pause, a cut
    // link): the cluster's hosts tick these vigies. Rounds forget hosts gone for an hour.
    for (const auto& h : cv->hosts)
        if (h.live || h.expires_ms > cv->now_ms - forgotten_after_ms) return cv;
    return std::nullopt;
}

namespace {

bool any_live(const store::cluster_view& v) {
    return std::any_of(v.hosts.begin(), v.hosts.end(), [](const store::cluster_host& h) { return h.live; });
}

const store::shard_lease* lease_of(const store::cluster_view& v, int shard) {
    for (const auto& l : v.shards)
        if (l.shard == shard) return &l;
    return nullptr;
}

/// "shard 5 (held by pid 12 on h1, epoch 3, lease expired 4.2 s ago)" for messages.
std::string describe_shard(const store::cluster_view& v, int shard) {
    const store::shard_lease* l = lease_of(v, shard);
    std::string out = "shard " + std::to_string(shard);
    if (!l || l->owner.empty()) return out + " (free)";
    out += " (held by pid " + std::to_string(l->pid) + " on " + l->host + ", epoch " + std::to_string(l->epoch);
    if (!l->live)
        out += ", lease expired " + std::to_string(std::max<int64_t>(0, v.now_ms - l->expires_ms)) + " ms ago";
    return out + ")";
}

/// Why no cluster host can take a tick: none is live.
[[noreturn]] void fail_no_live_host(const vigy_info& rec, const store::cluster_view& v, const std::string& db,
                                    const std::string& more = {}) {
    const int shard = store::shard_of(rec.key, v.shard_count);
    std::string last;
    int64_t newest = 0;
    for (const auto& h : v.hosts)
        if (h.expires_ms > newest) {
            newest = h.expires_ms;
            last = "pid " + std::to_string(h.pid) + " on " + h.host;
        }
    vigy::fail(VIGY_UNAVAILABLE,
               "no live cluster host serves " + db + ": vigy " + rec.name + " is in " + describe_shard(v, shard) +
                   (last.empty() ? std::string()
                                 : "; the last host heard from (" + last + ") let its lease expire " +
                                       std::to_string(std::max<int64_t>(0, v.now_ms - newest)) + " ms ago") +
                   more + "; start vigy serve --cluster (or resume a paused host) and try again");
}

}  // namespace

// ---- serving --------------------------------------------------------------------------

// ---- cluster mode ---------------------------------------------------------------------

store::cluster_request coordinator::cluster_request() const {
    return store::cluster_request{owner_, host_, pid_, cluster_lease_ms_};
}

bool coordinator::mine(int64_t key) const noexcept {
    return !cluster_ || lease_.epoch_of(store::shard_of(key, lease_.shard_count)) != 0;
}

std::size_t coordinator::drop_shard(int shard, int64_t epoch, const std::string& why) {
    lease_.shard_epochs[shard].store(0, std::memory_order_release);  // no tick of it starts from here on
    held_.erase(shard);
    std::size_t n = 0;
    for (const int64_t key : pipeline_.slot_keys())
        if (store::shard_of(key, lease_.shard_count) == shard) {
            pipeline_.remove(key);
            ++n;
        }
    if (why.empty()) return n;
    shards_lost_.fetch_add(1, std::memory_order_relaxed);
    logger()->warn("lost shard {} (epoch {}) of {}: {}; stopped ticking its {} vigies", shard, epoch, db_path_, why, n);
    return n;
}

void coordinator::load_shards(const std::vector<store::shard_fence>& gained) {
    if (gained.empty()) return;
    std::set<int> wanted;
    for (const auto& f : gained) wanted.insert(f.shard);
    const auto all = db_.list_vigies();
    std::vector<const vigy_info*> mine;
    for (const auto& v : all)
        if (wanted.count(store::shard_of(v.key, lease_.shard_count))) mine.push_back(&v);
    // Spread their first ticks over up to 1 s, as at serve start.
    const std::size_t n = mine.size();
    for (std::size_t i = 0; i < n; ++i) {
        const int64_t window = std::min<int64_t>(mine[i]->interval_ms, 1000);
        pipeline_.upsert(*mine[i], milliseconds(n > 1 ? window * static_cast<int64_t>(i) / static_cast<int64_t>(n) : 0),
                         true);
    }
}

void coordinator::cluster_round() {
    const int64_t t0 = boot_ms();
    store::cluster_round r;
    try {
        r = db_.cluster_heartbeat(cluster_request());
    } catch (const std::exception& e) {
        if (!held_.empty() && t0 - last_round_ok_ >= renew_deadline_ms_) {
            lease_.valid_until_boot_ms.store(0, std::memory_order_release);
            const auto held = held_;
            for (const auto& [shard, epoch] : held)
                drop_shard(shard, epoch,
                           "its lease was not renewed within the renew deadline (" +
                               std::to_string(renew_deadline_ms_) + " ms)");
            shards_held_ = 0;
        }
        throw;
    }
    last_round_ok_ = t0;
    // Every shard held was renewed at or after t0 for the lease duration: tick until the
    // renew deadline (< the lease duration) unless the next round succeeds.
    lease_.valid_until_boot_ms.store(t0 + renew_deadline_ms_, std::memory_order_release);
    lease_.token.store(1, std::memory_order_release);
    std::map<int, int64_t> now;
    for (const auto& f : r.held) now[f.shard] = f.epoch;
    const auto before = held_;
    std::string released_list;
    std::size_t released_vigies = 0;
    for (const auto& [shard, epoch] : before) {
        const auto it = now.find(shard);
        if (it == now.end() || it->second != epoch) {
            const bool released = std::any_of(r.released.begin(), r.released.end(),
                                              [&](const store::shard_fence& f) { return f.shard == shard; });
            if (released) {  // given away to balance, not lost: one line for all
                released_vigies += drop_shard(shard, epoch, {});
                released_list += (released_list.empty() ? "" : ",") + std::to_string(shard);
            } else {
                drop_shard(shard, epoch, "another host took it over (this host was paused or cut off past its lease)");
            }
        }
    }
    if (!released_list.empty())
        logger()->info("released shards {} of {} to balance {} live hosts (share {}); stopped ticking their {} vigies",
                       released_list, db_path_, r.live_hosts, r.share, released_vigies);
    std::vector<store::shard_fence> gained;
    for (const auto& [shard, epoch] : now) {
        if (held_.count(shard)) continue;
        held_[shard] = epoch;
        lease_.shard_epochs[shard].store(epoch, std::memory_order_release);
        gained.push_back({shard, epoch});
    }
    takeovers_.fetch_add(static_cast<uint64_t>(r.takeovers), std::memory_order_relaxed);
    shards_held_ = held_.size();
    if (!gained.empty()) {
        std::string list;
        for (const auto& f : gained) list += (list.empty() ? "" : ",") + std::to_string(f.shard);
        logger()->info("gained {} shards ({}) of {}: now {} of {} shards, {} live hosts", gained.size(), list, db_path_,
                       held_.size(), r.shard_count, r.live_hosts);
        load_shards(gained);
    }
}

// ---- serving --------------------------------------------------------------------------

void coordinator::start_serving() {
    if (serving_.load()) return;
    if (cluster_) {
        // A non-cluster serve holding the scheduler lease ticks every vigy: refuse to join.
        if (const auto h = db_.lease_row(); h && starts_with(h->owner, serve_prefix) &&
                                            store::lease_live(*h, host_, request(owner_, 1).now) &&
                                            !holder_is_dead(*h, host_))
            vigy::fail(VIGY_FAILED_PRECONDITION, "a scheduler outside the cluster is serving " + db_path_ + " (pid " +
                                                     std::to_string(h->pid) + " on " + h->host +
                                                     "); stop it first or serve it with --cluster");
        const auto st = db_.cluster_status();  // FAILED_PRECONDITION on SQLite
        lease_.set_shards(st.shard_count);
        held_.clear();
        pipeline_.start();
        try {
            {
                std::lock_guard lk(m_);
                applied_rv_ = db_.change_seq();
                control_stop_ = false;
            }
            cluster_round();
        } catch (...) {
            pipeline_.stop();
            lease_.token = 0;
            try {
                db_.cluster_leave(owner_);
            } catch (const std::exception&) {
            }
            throw;
        }
        launch_control();
        logger()->info(
            "serving {} in cluster mode (pid {}, {} of {} shards, lease {} ms, renew deadline {} ms, "
            "retry {} ms)",
            db_path_, pid_, held_.size(), st.shard_count, cluster_lease_ms_, renew_deadline_ms_, retry_ms_);
        return;
    }
    // On PostgreSQL, live cluster hosts tick the vigies by shard: a lone scheduler must not.
    std::optional<store::cluster_view> cv;
    try {
        cv = db_.cluster_status();
    } catch (const status_error& e) {
        if (e.code() != VIGY_FAILED_PRECONDITION) throw;  // SQLite: no cluster mode
    }
    if (cv)
        for (const auto& h : cv->hosts)
            if (h.live)
                vigy::fail(VIGY_FAILED_PRECONDITION, "cluster hosts are serving " + db_path_ + " (pid " +
                                                         std::to_string(h.pid) + " on " + h.host +
                                                         "); serve it with --cluster or stop them first");
    auto deadline = steady::now();
    bool extended = false;
    std::optional<int64_t> token;
    for (;;) {
        const int64_t t0 = boot_ms();
        token = db_.acquire_lease(request(owner_, ttl_ms_));
        if (token) {
            set_held(*token, t0);
            break;
        }
        const auto h = db_.lease_row();
        // A holder on this host whose process is gone (kill -9, crash, an earlier boot):
        // take its lease now instead of waiting for it to expire. Other hosts' holders only expire.
        if (h && holder_is_dead(*h, host_)) {
            const int64_t t1 = boot_ms();
            token = db_.take_over_lease(h->owner, request(owner_, ttl_ms_));
            if (token) {
                set_held(*token, t1);
                logger()->warn("took over the scheduler lease of pid {}, which is no longer running", h->pid);
                break;
            }
        }
        if (h && !extended && starts_with(h->owner, tick_prefix)) {
            extended = true;  // a `vigy tick` holds it briefly: wait for it
            deadline = steady::now() + milliseconds(10'000);
        }
        if (steady::now() >= deadline) {
            if (h)
                vigy::fail(VIGY_FAILED_PRECONDITION, "another scheduler is serving " + db_path_ + " (pid " +
                                                         std::to_string(h->pid) + " on " + h->host +
                                                         "); stop it first");
            vigy::fail(VIGY_UNAVAILABLE, "could not take the scheduler lease of " + db_path_);
        }
        std::this_thread::sleep_for(milliseconds(50));
    }
    try {
        pipeline_.start();
        const int64_t rv = db_.change_seq();
        const auto all = db_.list_vigies();
        // Spread the first ticks of a database's vigies over one interval (at most 1 s),
        // so a large database does not tick in one burst; a lone vigy ticks at once.
        const std::size_t n = all.size();
        for (std::size_t i = 0; i < n; ++i) {
            const int64_t window = std::min<int64_t>(all[i].interval_ms, 1000);
            pipeline_.upsert(
                all[i], milliseconds(n > 1 ? window * static_cast<int64_t>(i) / static_cast<int64_t>(n) : 0), true);
        }
        std::lock_guard lk(m_);
        applied_rv_ = rv;
        control_stop_ = false;
    } catch (...) {
        pipeline_.stop();
        lease_.token = 0;
        db_.release_lease(owner_, *token);
        throw;
    }
    launch_control();
    logger()->info("serving {} (scheduler pid {}, lease token {})", db_path_, pid_, *token);
}

void coordinator::launch_control() {
    draining_ = false;
    serving_ = true;
    control_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "vigy-control");
        control_loop();
    });
}

void coordinator::stop_serving() {
    if (!serving_.load()) return;
    draining_ = true;  // the control loop only renews the lease now
    pipeline_.stop();  // in-flight and queued forced ticks finish under the lease
    {
        std::lock_guard lk(m_);
        control_stop_ = true;
    }
    cv_.notify_all();
    if (control_.joinable()) control_.join();
    try {
        db_.writer().flush();
    } catch (const std::exception& e) {
        logger()->error("flushing the writer failed: {}", e.what());
    }
    const int64_t token = lease_.token.exchange(0);
    if (cluster_) {
        for (int i = 0; i < lease_.shard_count; ++i) lease_.shard_epochs[i].store(0);
        held_.clear();
        shards_held_ = 0;
        try {
            db_.cluster_leave(owner_);  // the others take our shards at their next round
        } catch (const std::exception& e) {
            logger()->warn("leaving the cluster failed (our shards expire instead): {}", e.what());
        }
    } else if (token != 0) {
        try {
            db_.release_lease(owner_, token);
        } catch (const std::exception& e) {
            logger()->warn("releasing the scheduler lease failed: {}", e.what());
        }
    }
    serving_ = false;
    cv_.notify_all();
    logger()->info("stopped serving {}", db_path_);
}

// ---- the control loop -----------------------------------------------------------------

void coordinator::control_loop() {
    auto last_renew = steady::now();
    auto last_poll = steady::now();
    // claim_tick_requests is a cheap read unless requests are pending: poll often so a
    // `vigy tick` beside `vigy serve` waits tens of ms, not a poll period.
    const auto request_period = std::min(milliseconds(poll_ms_), milliseconds(25));
    for (;;) {
        bool poll_now = false;
        // While change notification is up (PostgreSQL), notified() wakes this loop at once:
        // the polls below are then a slow safety net.
        const bool listening = listening_.load();
        const auto poll_period = milliseconds(listening ? std::max(poll_ms_, notified_poll_ms) : poll_ms_);
        {
            std::unique_lock lk(m_);
            cv_.wait_for(
                lk, std::min(listening ? poll_period : request_period, milliseconds(cluster_ ? retry_ms_ : renew_ms_)),
                [this] { return control_stop_ || poll_now_ || requests_now_; });
            if (control_stop_) return;
            poll_now = poll_now_;
            poll_now_ = false;
            requests_now_ = false;
        }
        try {
            const auto now = steady::now();
            if (now - last_renew >= milliseconds(cluster_ ? retry_ms_ : renew_ms_)) {
                last_renew = now;
                if (cluster_) {
                    if (!draining_.load()) cluster_round();
                } else {
                    renew();
                }
            }
            if (draining_.load()) continue;
            if (poll_now || now - last_poll >= poll_period) {
                last_poll = now;
                poll_changes();
            }
            serve_requests();
        } catch (const std::exception& e) {
            logger()->warn("scheduler maintenance failed: {}", e.what());
        }
    }
}

void coordinator::notified(unsigned topics) {
    // Runs (a notification per writer batch of every host) are not this loop's business.
    if ((topics & (store::topic_vigies | store::topic_tick_requests)) == 0) return;
    {
        std::lock_guard lk(m_);
        if ((topics & store::topic_vigies) != 0) poll_now_ = true;
        if ((topics & store::topic_tick_requests) != 0) requests_now_ = true;
    }
    cv_.notify_all();
}

void coordinator::set_listening(bool up) {
    {
        std::lock_guard lk(m_);
        listening_ = up;
        poll_now_ = true;  // re-arm the wait with the period that applies now, and look once
    }
    cv_.notify_all();
}

void coordinator::renew() {
    const int64_t held = lease_.token.load();
    const int64_t t0 = boot_ms();
    if (held != 0) {
        if (db_.renew_lease(request(owner_, ttl_ms_), held)) {
            set_held(held, t0);
            return;
        }
        // Lost: another process took the lease (we were paused, or our renewals failed).
        lease_.token.store(0);
        const auto h = db_.lease_row();
        const std::string why = "this scheduler lost the lease" +
                                (h ? " to pid " + std::to_string(h->pid) + " on " + h->host : std::string());
        logger()->error("{} of {}; pausing scheduled ticks", why, db_path_);
        pipeline_.lease_changed(why);
    }
    if (draining_.load()) return;
    if (const auto token = db_.acquire_lease(request(owner_, ttl_ms_))) {
        set_held(*token, t0);
        pipeline_.lease_changed("the scheduler lease was regained");  // caches from before are stale
        logger()->warn("scheduler lease regained (token {})", *token);
    }
}

void coordinator::poll_changes() {
    const int64_t seq = db_.change_seq();
    int64_t applied;
    {
        std::lock_guard lk(m_);
        applied = applied_rv_;
    }
    if (seq != applied) {
        const store::vigy_changes ch = db_.changes_since(applied);
        if (ch.gone) {
            // Fell behind the compaction floor: apply the whole list.
            const auto all = db_.list_vigies();
            std::set<int64_t> live;
            for (const auto& v : all) {
                live.insert(v.key);
                if (mine(v.key)) pipeline_.upsert(v);
            }
            for (const auto& name : pipeline_.scheduled_names())
                if (auto v = db_.find_vigy(name); !v || !live.count(v->key)) {
                    if (v) pipeline_.remove(v->key);
                }
        } else {
            for (const auto& c : ch.changes) {
                if (c.type == store::change_type::deleted)
                    pipeline_.remove(c.vigy.key);
                else if (mine(c.vigy.key))
                    pipeline_.upsert(c.vigy);
            }
        }
        std::lock_guard lk(m_);
        applied_rv_ = ch.resource_version;
    }
    cv_.notify_all();
}

void coordinator::serve_requests() {
    std::vector<store::tick_request> claimed;
    if (cluster_) {
        // Only requests for vigies of shards held now, each claimed under the shard's
        // epoch (checked by the store in the claiming transaction).
        if (!lease_.valid_now()) return;
        std::vector<store::shard_fence> held;
        for (int shard = 0; shard < lease_.shard_count; ++shard)
            if (const int64_t e = lease_.epoch_of(shard)) held.push_back({shard, e});
        if (held.empty()) return;
        claimed = db_.claim_cluster_tick_requests(owner_, held, 64);
    } else {
        const int64_t token = lease_.token.load();
        if (token == 0 || !lease_.valid_now()) return;
        claimed = db_.claim_tick_requests(token, 64);
    }
    for (const auto& rq : claimed) {
        const int64_t token = rq.claimed_token;  // the lease token, or -epoch (cluster mode)
        std::optional<vigy_info> rec;
        try {
            rec = db_.find_vigy(rq.vigy_id);
        } catch (const std::exception&) {
        }
        if (!rec) {
            db_.fail_tick_request(rq.id, VIGY_NOT_FOUND, "vigy " + rq.vigy_id + " not found", token);
            continue;
        }
        if (!rq.trigger_json.empty()) {
            std::optional<value> t;
            try {
                t = value::from_json(rq.trigger_json);
            } catch (const std::exception& e) {
                db_.fail_tick_request(rq.id, VIGY_INVALID_ARGUMENT, std::string("bad trigger: ") + e.what(), token);
                continue;
            }
            pipeline_.trigger(*rec, std::move(*t), rq.id, token);
            continue;
        }
        forced_job j;
        j.request_id = rq.id;  // the commit marks it done; a failure is recorded by the slot
        j.request_token = token;
        pipeline_.force(*rec, std::move(j));
    }
}

bool coordinator::wait_synced(int64_t rv, std::chrono::milliseconds timeout) {
    std::unique_lock lk(m_);
    if (!serving_.load()) return false;
    poll_now_ = true;
    cv_.notify_all();
    return cv_.wait_for(lk, timeout, [&] { return applied_rv_ >= rv || !serving_.load(); }) && serving_.load();
}

std::optional<scheduler_info> coordinator::holder() {
    const auto h = db_.lease_row();
    if (!h || !store::lease_live(*h, host_, request(owner_, 1).now) || holder_is_dead(*h, host_)) return std::nullopt;
    scheduler_info s;
    s.pid = h->pid;
    s.hostname = h->host;
    s.acquired_ms = h->acquired_ms;
    s.expires_ms = h->expires_ms;
    s.token = h->token;
    s.this_process = serving_.load() && h->owner == owner_;
    return s;
}

// ---- tick_now -----------------------------------------------------------------------------

namespace {

void require_enabled_for_trigger(const vigy_info& rec) {
    if (state_of(rec) != lifecycle_state::enabled)
        vigy::fail(VIGY_FAILED_PRECONDITION, "vigy " + rec.name + " is " + rec.state +
                                                 ": only an Enabled vigy is "
                                                 "ticked by a trigger (vigy enable / vigy reset it, or vigy tick it)");
}

}  // namespace

std::optional<run> coordinator::trigger(const vigy_info& rec, const value& t, int64_t wait_ms) {
    // 1. This process serves (in cluster mode: the vigy's shard): on the vigy's slot (coalesced there).
    if (serving_.load() && !draining_.load() && lease_.valid_now() && mine(rec.key)) {
        require_enabled_for_trigger(rec);
        pipeline_.trigger(rec, t, std::nullopt, 0);
        return std::nullopt;
    }
    const std::string requester = std::string(tick_prefix) + host_ + ":" + std::to_string(pid_);
    // 2. A cluster serves it: through the request queue, to the host holding its shard.
    const std::optional<store::cluster_view> cv =
        cluster_ && serving_.load() ? std::optional(db_.cluster_status()) : cluster_in_use();
    if (cv) {
        if (!any_live(*cv)) fail_no_live_host(rec, *cv, db_path_);
        require_enabled_for_trigger(rec);
        db_.enqueue_tick_request(rec.id, requester, t.to_json());
        return std::nullopt;
    }
    const auto h = db_.lease_row();
    const bool live = h && store::lease_live(*h, host_, request(owner_, 1).now) && !holder_is_dead(*h, host_);
    if (live && starts_with(h->owner, serve_prefix) && h->owner != owner_) {
        // 3. Another process serves: through its request queue; it coalesces.
        require_enabled_for_trigger(rec);
        db_.enqueue_tick_request(rec.id, requester, t.to_json());
        return std::nullopt;
    }
    // 4. Nobody serves: the tick runs here.
    return tick_now(rec, wait_ms, &t);
}

run coordinator::tick_now(const vigy_info& rec, int64_t wait_ms, const value* trigger) {
    wait_ms = std::max<int64_t>(wait_ms, 0);
    const int64_t budget = tick_budget_ms(effective_limits(rec.limits, defaults_));

    // 1. This process serves (in cluster mode: the vigy's shard): on the vigy's slot.
    if (serving_.load() && !draining_.load() && lease_.valid_now() && mine(rec.key)) {
        auto prom = std::make_shared<std::promise<run>>();
        auto fut = prom->get_future();
        forced_job j;
        j.done = [prom](std::shared_ptr<const run> r, const status_error* e) {
            if (r)
                prom->set_value(*r);
            else
                prom->set_exception(std::make_exception_ptr(*e));
        };
        pipeline_.force(rec, std::move(j));
        if (fut.wait_for(milliseconds(wait_ms + budget)) != std::future_status::ready)
            vigy::fail(VIGY_DEADLINE_EXCEEDED, "the tick of " + rec.name + " did not finish within " +
                                                   std::to_string(wait_ms + budget) + " ms");
        return fut.get();
    }

    // 2. A cluster host not holding the vigy's shard: to the host that does.
    if (cluster_ && serving_.load()) return tick_in_cluster(rec, wait_ms, trigger);

    const auto deadline = steady::now() + milliseconds(wait_ms);
    for (;;) {
        const auto h = db_.lease_row();
        const bool live = h && store::lease_live(*h, host_, request(owner_, 1).now) && !holder_is_dead(*h, host_);
        if (live && starts_with(h->owner, serve_prefix) && h->owner != owner_) {
            // 3. Another process serves: through its request queue.
            bool retry = false;
            run r = tick_remotely(rec, *h, wait_ms, deadline, retry);
            if (!retry) return r;
            continue;
        }
        if (!live || !starts_with(h->owner, tick_prefix)) {
            // 4. Cluster hosts serve the database (live, or gone less than an hour ago):
            // through the request queue, to the host holding the vigy's shard.
            if (cluster_in_use()) return tick_in_cluster(rec, wait_ms, trigger);
            // 5. Nobody serves: here, under a short lease (serialises with other ticks).
            const std::string owner =
                std::string(tick_prefix) + host_ + ":" + std::to_string(pid_) + ":" + random_token();
            std::optional<int64_t> token;
            if (h && !live)
                token = db_.take_over_lease(h->owner, request(owner, budget + 5000));
            else
                token = db_.acquire_lease(request(owner, budget + 5000));
            if (token) {
                struct releaser {
                    store::store& db;
                    const std::string& owner;
                    int64_t token;
                    ~releaser() {
                        try {
                            db.release_lease(owner, token);
                        } catch (const std::exception& e) {
                            logger()->warn("releasing the tick lease failed: {}", e.what());
                        }
                    }
                } rel{db_, owner, *token};
                return tick_locally(db_, reg_, *clk_, defaults_, bus_, db_.get_vigy(rec.id), *token, trigger);
            }
        }
        if (steady::now() >= deadline) {
            const auto now_holder = db_.lease_row();
            vigy::fail(VIGY_UNAVAILABLE,
                       "the database is being ticked by another process" +
                           (now_holder ? " (pid " + std::to_string(now_holder->pid) + ")" : std::string()) +
                           "; try again");
        }
        std::this_thread::sleep_for(milliseconds(20));
    }
}

namespace {
/// One look at tick request `id` by its waiting requester: the request while it is pending
/// or claimed; when it is done, its run in `finished`; when it failed, its error thrown.
std::optional<store::tick_request> look_at_request(store::store& db, int64_t id, std::optional<run>& finished) {
    auto st = db.get_tick_request(id);
    if (!st) vigy::fail(VIGY_INTERNAL, "tick request " + std::to_string(id) + " vanished");
    if (st->state == "done") {
        finished = db.get_run(st->run_id);
        if (!finished)
            vigy::fail(VIGY_INTERNAL, "run " + st->run_id + " of tick request " + std::to_string(id) + " not found");
    } else if (st->state == "failed") {
        vigy::fail(st->code == VIGY_OK ? VIGY_INTERNAL : st->code, st->error.empty() ? "tick failed" : st->error);
    }
    return st;
}
}  // namespace

run coordinator::tick_remotely(const vigy_info& rec, const store::lease_info& holder, int64_t wait_ms,
                               steady::time_point claim_deadline, bool& retry) {
    const std::string requester = std::string(tick_prefix) + host_ + ":" + std::to_string(pid_);
    const int64_t id = db_.enqueue_tick_request(rec.id, requester);
    const int64_t budget = tick_budget_ms(effective_limits(rec.limits, defaults_));
    bool claimed = false;
    steady::time_point done_deadline{};
    for (;;) {
        std::this_thread::sleep_for(milliseconds(10));
        std::optional<run> finished;
        const auto st = look_at_request(db_, id, finished);
        if (finished) return std::move(*finished);
        const auto now = steady::now();
        if (st->state == "pending") {
            claimed = false;
            const auto h = db_.lease_row();
            const bool serving = h && starts_with(h->owner, serve_prefix) &&
                                 store::lease_live(*h, host_, request(owner_, 1).now) && !holder_is_dead(*h, host_);
            if (!serving && db_.cancel_tick_request(id, "abandoned: the scheduler stopped")) {
                retry = true;  // the scheduler went away before taking it: tick elsewhere
                return {};
            }
            if (now >= claim_deadline && db_.cancel_tick_request(id, "no scheduler took it in time"))
                vigy::fail(VIGY_UNAVAILABLE, "the scheduler (pid " + std::to_string(holder.pid) + " on " + holder.host +
                                                 ") did not take the tick of " + rec.name + " within " +
                                                 std::to_string(wait_ms) + " ms; try again");
        } else if (st->state == "claimed") {
            if (!claimed) {
                claimed = true;
                done_deadline = now + milliseconds(budget);
            }
            if (now >= done_deadline)
                vigy::fail(VIGY_DEADLINE_EXCEEDED, "the tick of " + rec.name + " taken by the scheduler (pid " +
                                                       std::to_string(holder.pid) + ") did not finish within " +
                                                       std::to_string(budget) + " ms");
        }
    }
}

run coordinator::tick_in_cluster(const vigy_info& rec, int64_t wait_ms, const value* trigger) {
    auto view = db_.cluster_status();
    if (!any_live(view)) fail_no_live_host(rec, view, db_path_);
    const int shard = store::shard_of(rec.key, view.shard_count);
    const std::string requester = std::string(tick_prefix) + host_ + ":" + std::to_string(pid_);
    const int64_t id = db_.enqueue_tick_request(rec.id, requester, trigger ? trigger->to_json() : std::string());
    const int64_t budget = tick_budget_ms(effective_limits(rec.limits, defaults_));
    const auto claim_deadline = steady::now() + milliseconds(wait_ms);
    int64_t claim = 0;  // the claimed_token of the claim being waited for (0: pending)
    steady::time_point done_deadline{};
    auto next_view = steady::now() + milliseconds(cluster_view_period_ms);
    for (;;) {
        std::this_thread::sleep_for(milliseconds(10));
        std::optional<run> finished;
        const auto st = look_at_request(db_, id, finished);
        if (finished) return std::move(*finished);
        const auto now = steady::now();
        if (st->state == "claimed" && st->claimed_token != claim) {
            claim = st->claimed_token;  // a (new) holder took it: its tick has the budget from now
            done_deadline = now + milliseconds(budget);
        } else if (st->state == "pending") {
            claim = 0;
        }
        const bool overdue = claim == 0 ? now >= claim_deadline : now >= done_deadline;
        if (now < next_view && !overdue) continue;
        next_view = now + milliseconds(cluster_view_period_ms);
        view = db_.cluster_status();
        const store::shard_lease* l = lease_of(view, shard);
        // The claim can still be committed only while the shard is held under its epoch.
        const bool claim_holds = claim != 0 && l && !l->owner.empty() && l->epoch == -claim;
        if (!any_live(view)) {
            if (!claim_holds && db_.cancel_tick_request(id, "no live cluster host"))
                fail_no_live_host(rec, view, db_path_);
            if (claim_holds)
                fail_no_live_host(rec, view, db_path_,
                                  " (it claimed the tick: the tick runs if that host resumes before another takes "
                                  "the shard)");
            continue;  // claimed or finished meanwhile: read it again
        }
        if (!overdue) continue;
        if (claim == 0) {
            if (db_.cancel_tick_request(id, "no cluster host took it in time"))
                vigy::fail(VIGY_UNAVAILABLE, "no cluster host took the tick of " + rec.name + " within " +
                                                 std::to_string(wait_ms) + " ms: it is in " +
                                                 describe_shard(view, shard) + "; try again");
        } else if (claim_holds && l->live) {
            vigy::fail(VIGY_DEADLINE_EXCEEDED, "the tick of " + rec.name + " taken by the cluster host holding " +
                                                   describe_shard(view, shard) + " did not finish within " +
                                                   std::to_string(budget) + " ms");
        }
        // else: its claimer lost the shard, or let its lease expire (paused, cut off): a live
        // host takes the shard at its next round, puts the claim back to pending and runs it
    }
}

}  // namespace vigy::host::detail
