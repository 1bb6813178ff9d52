// host/src/runtime_pipeline.cpp — the tick pipeline (see runtime_pipeline.hpp).
#include "runtime_pipeline.hpp"

#include "vigy/host/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace vigy::host::detail {

using std::chrono::milliseconds;

// ---- reconciler cache and one tick --------------------------------------------------

void reconciler_cache::ensure(const registry& reg, const slot_spec& spec, const tick_limits& defaults) {
    if (built && revision == spec.revision && limits == spec.limits) return;
    rc.reset();
    error.clear();
    status = VIGY_OK;
    revision = spec.revision;
    limits = spec.limits;
    built = true;
    const vigy_limits c = to_c(effective_limits(spec.limits, defaults));
    try {
        rc.emplace(reg, spec.kind, *spec.config, &c, spec.name);
    } catch (const status_error& e) {
        error = e.what();
        status = e.code();
    } catch (const std::bad_alloc&) {
        error = "out of memory building the reconciler";
        status = VIGY_RESOURCE_EXHAUSTED;
    } catch (const std::exception& e) {
        error = e.what();
        status = VIGY_INTERNAL;
    }
    if (!rc && error.empty()) error = "reconciler could not be built";
}

namespace {

void reset_to(std::string& s, const char* def) { s.assign(def); }

}  // namespace

bool execute_tick(const tick_input& in, store::tick_commit& c, kv_map* kv_after,
                  std::vector<condition_record>* conditions_after) {
    const int64_t start_ms = in.clk.wall_ms();
    const auto t0 = in.clk.now();
    tick_params p;
    p.tick_start_ms = start_ms;
    p.previous_tick_ms = in.clock.previous_tick_ms;
    p.tick_count = in.clock.tick_count + 1;
    p.vigy_name = in.spec.name;
    p.vigy_id = in.spec.id;
    p.kv_view = &in.kv;
    p.conditions_view = &in.conditions;
    p.grants = in.spec.grants.get();
    tick_context ctx(std::move(p));
    if (in.why) ctx.set_trigger(*in.why);
    tick_result tr;
    if (in.rc.rc) {
        tr = const_cast<reconciler&>(*in.rc.rc).tick(ctx.tick());
    } else {
        tr.status = in.rc.status == VIGY_OK ? VIGY_INVALID_ARGUMENT : in.rc.status;
        tr.message = in.rc.error;
    }
    if (tr.ok() && !ctx.output_error().empty()) {
        tr.status = VIGY_INVALID_ARGUMENT;
        tr.message = ctx.output_error();
    }
    const auto t1 = in.clk.now();
    const int64_t end_ms = std::max(start_ms, in.clk.wall_ms());
    const bool ok = tr.ok();

    store::run_record& r = c.run;
    store::new_run_id(start_ms, r.id);
    r.seq = 0;
    r.vigy_id.assign(in.spec.id);
    r.vigy_name.assign(in.spec.name);
    r.revision.assign(in.spec.revision);
    r.trigger = in.trigger;
    r.trigger_kind.assign(in.why_kind);
    if (in.why)
        r.trigger_json = in.why->to_json();
    else
        r.trigger_json.clear();
    r.started_ms = start_ms;
    r.ended_ms = end_ms;
    r.duration_us = std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
    r.lateness_us = in.lateness_us;
    r.result = ok ? run_result::ok : run_result::failed;
    r.status = tr.status;
    if (ok)
        r.error.clear();
    else
        r.error.assign(tr.message.empty() ? std::string(vigy_status_name(tr.status)) : tr.message);
    r.tick_count = in.clock.tick_count + 1;
    // A failed run keeps its diagnostics (what it printed, logged, traced, measured)
    // and drops its effects (actions, desired, observed, conditions, events, kv).
    r.output.assign(ctx.output());
    r.log_json.clear();
    ctx.append_log_json(r.log_json);
    r.trace_json.clear();
    ctx.append_trace_json(r.trace_json);
    r.metrics_json.clear();
    ctx.append_metrics_json(r.metrics_json);
    c.conditions.clear();
    c.events.clear();
    if (ok) {
        r.actions_json.clear();
        ctx.append_actions_json(r.actions_json);
        r.desired_json.clear();
        ctx.append_desired_json(r.desired_json);
        r.observed_json.clear();
        ctx.append_observed_json(r.observed_json);
        r.conditions_json.clear();
        ctx.append_conditions_json(r.conditions_json);
        r.events_json.clear();
        ctx.append_events_json(r.events_json);
        r.kv_writes_json.clear();
        ctx.append_kv_writes_json(r.kv_writes_json);
        r.kv_deletes_json.clear();
        ctx.append_kv_deletes_json(r.kv_deletes_json);
        ctx.kv_changes_for_store(c.kv_upserts, c.kv_deletes);
        for (const condition_record& cr : ctx.conditions())
            c.conditions.push_back({cr.type, cr.status, cr.reason.value_or(""), cr.message.value_or("")});
        for (const event_record& e : ctx.events())
            c.events.push_back({e.type, e.reason.empty() ? std::string("Unspecified") : e.reason, e.message});
        if (conditions_after) *conditions_after = ctx.merged_conditions();
        if (kv_after) ctx.apply_changes(*kv_after);
    } else {
        reset_to(r.actions_json, "[]");
        reset_to(r.desired_json, "{}");
        reset_to(r.observed_json, "{}");
        reset_to(r.conditions_json, "[]");
        reset_to(r.events_json, "[]");
        reset_to(r.kv_writes_json, "{}");
        reset_to(r.kv_deletes_json, "[]");
        c.kv_upserts.clear();
        c.kv_deletes.clear();
    }
    return ok;
}

vigy_state load_state(store::store& db, const slot_spec& spec) {
    vigy_state s;
    for (auto& [k, json] : db.kv_map_of(spec.key)) {
        try {
            s.kv.emplace_hint(s.kv.end(), k, value::from_json(json));
        } catch (const json_error&) {
            s.kv.emplace_hint(s.kv.end(), k, value::string(json));  // unreadable JSON kept as its text
        }
    }
    for (auto& c : db.conditions(spec.id)) {
        condition_record r;
        r.type = std::move(c.type);
        r.status = std::move(c.status);
        if (!c.reason.empty()) r.reason = std::move(c.reason);
        if (!c.message.empty()) r.message = std::move(c.message);
        r.last_transition_ms = c.last_transition_ms;
        s.conditions.push_back(std::move(r));
    }
    s.clock = db.tick_clock_of(spec.key);
    return s;
}

void lateness_ring::add(double ms) noexcept {
    const uint64_t i = count_.fetch_add(1, std::memory_order_relaxed);
    ring_[i % ring_.size()].store(static_cast<float>(ms), std::memory_order_relaxed);
}

std::vector<float> lateness_ring::snapshot() const {
    const uint64_t n = std::min<uint64_t>(count_.load(std::memory_order_relaxed), ring_.size());
    std::vector<float> out(n);
    for (uint64_t i = 0; i < n; ++i) out[i] = ring_[i].load(std::memory_order_relaxed);
    return out;
}

// ---- slot -----------------------------------------------------------------------------

slot::slot(pipeline& p) : p_(p) {}

slot::~slot() = default;

void slot::arm_locked(time_point when) {
    armed_ = true;
    p_.timers().arm(shared_from_this(), ++timer_token_, when);
}

time_point slot::at_wall(int64_t wall_ms) const { return p_.clk->now() + milliseconds(wall_ms - p_.clk->wall_ms()); }

void slot::arm_first_locked(milliseconds delay, bool serve_start) {
    const schedule_spec& sc = *spec_->schedule;
    const int64_t wall = p_.clk->wall_ms();
    catch_up_armed_ = false;
    switch (sc.kind) {
    case schedule_kind::every: {
        // Jitter: a fixed phase per vigy (from its id) instead of the start-up spread.
        const milliseconds first =
            sc.jitter.none() ? delay : milliseconds(jitter_offset_ms(spec_->id, sc.every_ms, sc.jitter));
        slot_wall_ = wall + first.count();
        arm_locked(p_.clk->now() + first);
        return;
    }
    case schedule_kind::cron: {
        if (serve_start && sc.catch_up_ms > 0) {
            // The one catch-up tick for a slot missed while nobody served (never a burst).
            int64_t since = std::max(spec_->created_ms, spec_->state_ms);
            try {
                for (const auto& r : p_.db.recent_runs(spec_->id, 1)) since = std::max(since, r.started_ms);
            } catch (const std::exception& e) {
                logger()->warn("vigy {}: reading its last run for catch-up failed: {}", spec_->name, e.what());
            }
            if (auto missed = catch_up_slot(sc, since, wall, 0)) {
                logger()->info("vigy {}: catch-up tick for the slot at {} ms missed while not served", spec_->name,
                               *missed);
                catch_up_armed_ = true;
                slot_wall_ = *missed;
                arm_locked(p_.clk->now());
                return;
            }
        }
        const auto next = sc.next_slot(wall, 0);
        if (!next) return;  // a cron expression that never fires again
        slot_wall_ = *next;
        arm_locked(at_wall(*next + jitter_offset_ms(spec_->id, sc.period_at(*next), sc.jitter)));
        return;
    }
    case schedule_kind::once: {
        slot_wall_ = sc.at_ms.value_or(wall);
        arm_locked(slot_wall_ <= wall ? p_.clk->now() : at_wall(slot_wall_));
        return;
    }
    case schedule_kind::trigger: return;  // ticks only when triggered
    }
}

void slot::arm_next_locked(bool good, time_point ended) {
    const schedule_spec& sc = *spec_->schedule;
    catch_up_armed_ = false;
    switch (sc.kind) {
    case schedule_kind::every: {
        if (good) {
            const next_fire f = next_after_success(due_, ended, milliseconds(sc.every_ms));
            if (f.skipped) p_.skipped_slots.fetch_add(f.skipped, std::memory_order_relaxed);
            arm_locked(f.at);
        } else {
            arm_locked(ended + backoff_after(failures_));
        }
        return;
    }
    case schedule_kind::cron: {
        const int64_t wall = p_.clk->wall_ms();
        const auto next = sc.next_slot(std::max(tick_slot_wall_, wall), 0);
        if (!next) return;
        const time_point at = at_wall(*next + jitter_offset_ms(spec_->id, sc.period_at(*next), sc.jitter));
        if (good) {
            slot_wall_ = *next;
            arm_locked(at);
        } else {
            // A failed cron tick is retried after the backoff, but never past its next slot.
            const time_point retry = ended + backoff_after(failures_);
            slot_wall_ = retry < at ? tick_slot_wall_ : *next;
            arm_locked(std::min(retry, at));
        }
        return;
    }
    case schedule_kind::once:  // Completed after its run (complete() records it)
    case schedule_kind::trigger: return;
    }
}

void slot::update(std::shared_ptr<const slot_spec> spec, milliseconds delay) {
    update_impl(std::move(spec), delay, false);
}

void slot::update_impl(std::shared_ptr<const slot_spec> spec, milliseconds delay, bool serve_start) {
    std::lock_guard lk(m_);
    const std::shared_ptr<const slot_spec> old = std::move(spec_);
    spec_ = std::move(spec);
    removed_ = false;
    if (!old || old->schedule->supervision != spec_->schedule->supervision || old->state_ms != spec_->state_ms ||
        old->state != spec_->state || old->revision != spec_->revision)
        window_ = failure_window(spec_->schedule->supervision);  // enable, reset, new revision: a clean slate
    if (!spec_->enabled) {
        if (scheduled_) {
            scheduled_ = false;
            due_pending_ = false;
            pending_trigger_.reset();
            armed_ = false;
            ++timer_token_;
            p_.scheduled_.fetch_sub(1);
            logger()->info("vigy {} unscheduled ({})", spec_->name, to_string(spec_->state));
        }
        if (spec_->state == lifecycle_state::degraded && spec_->schedule->supervision.cool_down_ms > 0 &&
            (!old || old->state != lifecycle_state::degraded || old->state_ms != spec_->state_ms)) {
            // The cool-down: a timer that enables it again (work::cool_down).
            armed_ = true;
            p_.timers().arm(shared_from_this(), ++timer_token_,
                            at_wall(spec_->state_ms + spec_->schedule->supervision.cool_down_ms));
        }
        return;
    }
    const bool changed = !scheduled_ || !old || spec_->schedule_differs(*old);
    if (!changed) return;
    if (!scheduled_) p_.scheduled_.fetch_add(1);
    scheduled_ = true;
    failures_ = 0;
    due_pending_ = false;
    armed_ = false;
    ++timer_token_;  // the old timer (another schedule) no longer fires
    logger()->info("vigy {} scheduled: {} (revision {})", spec_->name, spec_->schedule->summary(), spec_->revision);
    arm_first_locked(delay, serve_start);  // an edit ticks right away (or after the busy tick)
}

void slot::unschedule() {
    std::lock_guard lk(m_);
    if (scheduled_) p_.scheduled_.fetch_sub(1);
    scheduled_ = false;
    due_pending_ = false;
    armed_ = false;
    ++timer_token_;
}

void slot::remove() {
    std::vector<forced_job> failed;
    std::string name;
    {
        std::lock_guard lk(m_);
        if (scheduled_) p_.scheduled_.fetch_sub(1);
        scheduled_ = false;
        removed_ = true;
        due_pending_ = false;
        armed_ = false;
        ++timer_token_;
        failed.swap(forced_);
        p_.forced_waiting.fetch_sub(static_cast<int64_t>(failed.size()));
        if (spec_) {
            name = spec_->name;
            logger()->info("vigy {} unscheduled (deleted)", name);
        }
    }
    const status_error e(VIGY_NOT_FOUND, "vigy \"" + name + "\" was deleted");
    for (auto& j : failed)
        if (j.done) j.done(nullptr, &e);
}

void slot::fail_queued(vigy_status code, const std::string& why) {
    std::vector<forced_job> failed;
    {
        std::lock_guard lk(m_);
        failed.swap(forced_);
        p_.forced_waiting.fetch_sub(static_cast<int64_t>(failed.size()));
    }
    const status_error e(code, why);
    for (auto& j : failed) {
        if (j.request_id) {
            try {
                p_.db.fail_tick_request(*j.request_id, code, why, j.request_token);
            } catch (const std::exception& ex) {
                logger()->warn("could not fail tick request {}: {}", *j.request_id, ex.what());
            }
        }
        if (j.done) j.done(nullptr, &e);
    }
}

std::optional<std::string> slot::scheduled_name() {
    std::lock_guard lk(m_);
    if (scheduled_ && spec_) return spec_->name;
    return std::nullopt;
}

void slot::force(forced_job job) {
    bool post = false;
    {
        std::unique_lock lk(m_);
        if (removed_) {
            lk.unlock();
            if (job.done) {
                const status_error e(VIGY_NOT_FOUND, "vigy was deleted");
                job.done(nullptr, &e);
            }
            return;
        }
        forced_.push_back(std::move(job));
        p_.forced_waiting.fetch_add(1);
        if (!busy_) {
            busy_ = true;
            self_ = shared_from_this();
            p_.busy_changed(+1);
            take_forced_locked();
            tick_spec_ = spec_;
            phase_ = phase::tick;
            post = true;
        }
    }
    if (post) p_.executor().post(this);
}

job* slot::on_due(uint64_t token, time_point due) {
    std::lock_guard lk(m_);
    if (token != timer_token_ || removed_) return nullptr;
    if (!scheduled_) {
        // A Degraded vigy's cool-down ended: enable it on a tick thread (a store write).
        if (!spec_ || spec_->state != lifecycle_state::degraded || busy_) return nullptr;
        armed_ = false;
        busy_ = true;
        self_ = shared_from_this();
        p_.busy_changed(+1);
        work_ = work::cool_down;
        trigger_ = run_trigger::schedule;
        tick_spec_ = spec_;
        phase_ = phase::tick;
        return this;
    }
    armed_ = false;
    if (busy_) {  // a forced tick (or the commit of the last one) is still going: right after it
        due_pending_ = true;
        pending_due_ = due;
        return nullptr;
    }
    busy_ = true;
    self_ = shared_from_this();
    p_.busy_changed(+1);
    trigger_ = run_trigger::schedule;
    work_ = work::timer;
    tick_trigger_.reset();
    tick_trigger_kind_ = catch_up_armed_ ? "catch-up" : "";
    tick_slot_wall_ = slot_wall_;
    due_ = due;
    tick_spec_ = spec_;
    phase_ = phase::tick;
    return this;
}

void slot::take_forced_locked() {
    job_ = std::move(forced_.front());
    forced_.erase(forced_.begin());
    p_.forced_waiting.fetch_sub(1);
    trigger_ = run_trigger::forced;
    work_ = work::forced;
    tick_trigger_.reset();
    tick_trigger_kind_.clear();
}

void slot::take_trigger_locked() {
    work_ = work::triggered;
    trigger_ = run_trigger::schedule;
    tick_trigger_ = std::move(pending_trigger_);
    pending_trigger_.reset();
    tick_trigger_kind_.clear();
    if (const value* k = tick_trigger_->find("kind"); k && k->is_stringish()) tick_trigger_kind_ = k->text();
    tick_requests_.swap(pending_requests_);
    pending_requests_.clear();
    tick_request_token_ = pending_request_token_;
}

void slot::trigger(value why, std::optional<int64_t> request_id, int64_t request_token) {
    bool post = false;
    std::string refused;
    {
        std::lock_guard lk(m_);
        if (removed_ || !scheduled_ || !spec_ || !spec_->enabled) {
            refused = spec_ ? "vigy " + spec_->name + " is " + to_string(spec_->state) +
                                  ": only an Enabled vigy is ticked by a trigger"
                            : "vigy is not scheduled";
        } else {
            if (pending_trigger_) p_.triggers_coalesced.fetch_add(1, std::memory_order_relaxed);
            pending_trigger_ = std::move(why);
            if (request_id) {
                pending_requests_.push_back(*request_id);
                pending_request_token_ = request_token;
            }
            if (!busy_) {
                busy_ = true;
                self_ = shared_from_this();
                p_.busy_changed(+1);
                take_trigger_locked();
                tick_spec_ = spec_;
                phase_ = phase::tick;
                post = true;
            }
        }
    }
    if (post) {
        p_.executor().post(this);
    } else if (!refused.empty()) {
        if (request_id) {
            try {
                p_.db.fail_tick_request(*request_id, VIGY_FAILED_PRECONDITION, refused, request_token);
            } catch (const std::exception& e) {
                logger()->warn("could not fail tick request {}: {}", *request_id, e.what());
            }
        }
        logger()->info("trigger refused: {}", refused);
    }
}

bool slot::next() {
    std::lock_guard lk(m_);
    if (!forced_.empty()) {
        take_forced_locked();
    } else if (pending_trigger_ && scheduled_ && !removed_ && spec_->enabled) {
        take_trigger_locked();
    } else if (due_pending_ && scheduled_ && !removed_) {
        due_pending_ = false;
        due_ = pending_due_;
        trigger_ = run_trigger::schedule;
        work_ = work::timer;
        tick_trigger_.reset();
        tick_trigger_kind_ = catch_up_armed_ ? "catch-up" : "";
        tick_slot_wall_ = slot_wall_;
    } else {
        busy_ = false;
        p_.commits.release(std::move(commit_));                 // an idle slot holds no commit
        if (removed_) state_ = {}, cache_epoch_ = 0, rc_ = {};  // a deleted vigy's cache goes at once
        self_.reset();  // the caller's own reference keeps the slot alive until it returns
        p_.busy_changed(-1);
        return false;
    }
    tick_spec_ = spec_;
    phase_ = phase::tick;
    return true;
}

void slot::run() noexcept {
    const std::shared_ptr<slot> keep = self_;
    for (;;) {
        if (phase_ == phase::committed) {
            complete();
        } else {
            switch (start()) {
            case started::submitted: return;  // the sink posts the slot again
            case started::completed: continue;
            case started::skipped: break;
            }
        }
        if (!next()) return;
    }
}

slot::started slot::start() {
    const slot_spec& spec = *tick_spec_;
    if (work_ == work::cool_down) {
        // The cool-down of a Degraded vigy ended: Enabled again (the change feed reschedules it).
        try {
            const auto rec = p_.db.set_state(spec.id, store::state_enabled, "", {store::state_degraded},
                                             store::condition_update{"Degraded", "False", "CoolDownElapsed",
                                                                     "the cool-down after degrading has passed"});
            logger()->info("vigy {}: cool-down elapsed, enabled again", spec.name);
            p_.upsert(rec);
        } catch (const std::exception& e) {
            logger()->warn("vigy {}: enabling after the cool-down failed: {}", spec.name, e.what());
        }
        return started::skipped;
    }
    const bool scheduled = work_ == work::timer;
    const bool supervised = work_ != work::forced && spec.schedule->kind != schedule_kind::once;
    // Never start a tick without surely holding the lease: a scheduler that was paused
    // past its lease (or lost it) does not run programs, whatever it had queued.
    const int64_t token = p_.lease.token.load(std::memory_order_acquire);
    // Cluster mode: only the vigies of shards this host holds, each commit fenced by the
    // shard's epoch (a lost shard's commits are rejected in the commit transaction).
    std::optional<store::shard_fence> shard;
    if (p_.lease.cluster()) {
        const int sh = store::shard_of(spec.key, p_.lease.shard_count);
        if (const int64_t e = p_.lease.epoch_of(sh)) shard = store::shard_fence{sh, e};
    }
    // A tick request claimed in cluster mode (token -epoch) runs only under the epoch it
    // was claimed under: if the shard was lost and regained since, the request went back
    // to pending in the store and its new claim answers it.
    const int64_t request_token = work_ == work::forced && job_.request_id              ? job_.request_token
                                  : work_ == work::triggered && !tick_requests_.empty() ? tick_request_token_
                                                                                        : 0;
    const bool claimed_elsewhen = shard && request_token < 0 && request_token != -shard->epoch;
    if (!p_.lease.valid_now() || (p_.lease.cluster() && !shard) || claimed_elsewhen) {
        if (scheduled) {
            p_.ticks_paused.fetch_add(1, std::memory_order_relaxed);
            std::lock_guard lk(m_);
            if (scheduled_ && !removed_ && !armed_ && !due_pending_) {
                if (spec_->schedule->kind == schedule_kind::every)
                    arm_locked(p_.clk->now() + milliseconds(spec.interval_ms));
                else
                    arm_next_locked(true, p_.clk->now());
            }
        } else if (job_.done || job_.request_id) {
            answer(store::commit_result{
                false, false, 0, VIGY_UNAVAILABLE,
                "this scheduler no longer surely holds the lease; the tick of " + spec.name + " did not run"});
        } else if (work_ == work::triggered) {
            for (int64_t id : tick_requests_) {
                try {
                    p_.db.fail_tick_request(id, VIGY_UNAVAILABLE, "the scheduler lost its lease", tick_request_token_);
                } catch (const std::exception&) {
                }
            }
            tick_requests_.clear();
        }
        return started::skipped;
    }
    int64_t lateness_us = 0;
    if (scheduled) {
        lateness_us =
            std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(p_.clk->now() - due_).count());
        p_.lateness.add(static_cast<double>(lateness_us) / 1000.0);
    }
    if (!commit_) {
        commit_ = p_.commits.acquire();
        commit_->owner = this;
    }
    slot_commit& commit = *commit_;
    commit.vigy_key = spec.key;
    if (shard)
        commit.fence.reset();
    else
        commit.fence = token;
    commit.shard = shard;
    commit.tick_request_id = job_.request_id;
    if (work_ == work::triggered && !tick_requests_.empty()) commit.tick_request_id = tick_requests_.front();
    const value* why = work_ == work::triggered && tick_trigger_ ? &*tick_trigger_ : nullptr;
    const uint64_t epoch = p_.cache_epoch.load(std::memory_order_acquire);
    degrade_ = false;
    changed_conditions_.clear();
    try {
        rc_.ensure(p_.reg, spec, p_.defaults);
        if (cache_epoch_ != epoch) {
            state_ = load_state(p_.db, spec);
            cache_epoch_ = epoch;
        }
        // Conditions before the tick, when some vigy listens for their changes.
        std::vector<std::pair<std::string, std::string>> before;
        const bool watched = p_.watched_conditions(spec.name);
        if (watched)
            for (const auto& c : state_.conditions) before.emplace_back(c.type, c.status);
        tick_ok_ = execute_tick({spec, rc_, state_.kv, state_.conditions, state_.clock, trigger_, lateness_us, *p_.clk,
                                 why, tick_trigger_kind_},
                                commit, &state_.kv, &state_.conditions);
        ended_at_ = p_.clk->now();
        if (tick_ok_) {  // optimistic: the commit's failure drops the cache
            ++state_.clock.tick_count;
            state_.clock.previous_tick_ms = commit.run.started_ms;
            if (watched)
                for (const auto& c : state_.conditions) {
                    auto it =
                        std::find_if(before.begin(), before.end(), [&](const auto& b) { return b.first == c.type; });
                    if (it == before.end() || it->second != c.status)
                        changed_conditions_.emplace_back(c.type, c.status);
                }
        }
    } catch (const std::exception& e) {
        // The store could not be read: a failed run saying so (the cache loads again next time).
        cache_epoch_ = 0;
        tick_ok_ = false;
        const status_error* se = dynamic_cast<const status_error*>(&e);
        reconciler_cache none;
        none.built = true;
        none.status = se ? se->code() : VIGY_INTERNAL;
        none.error = std::string("loading the vigy's state failed: ") + e.what();
        static const kv_map empty_kv;
        static const std::vector<condition_record> empty_conditions;
        execute_tick({spec, none, empty_kv, empty_conditions, state_.clock, trigger_, lateness_us, *p_.clk, why,
                      tick_trigger_kind_},
                     commit, nullptr, nullptr);
        ended_at_ = p_.clk->now();
    }
    if (supervised) {
        // Restart intensity: too many failures in the window -> Degraded (with this run).
        std::lock_guard lk(m_);
        if (window_.record(commit.run.ended_ms, tick_ok_, commit.run.error)) {
            const supervision_spec& sv = window_.spec();
            degrade_ = true;
            degrade_message_ = "failed " + std::to_string(sv.max_failures) + " times within " +
                               format_duration_ms(sv.within_ms) + ", last: " + window_.last_error();
            if (degrade_message_.size() > 1024) degrade_message_.resize(1024);
            commit.conditions.push_back({"Degraded", "True", "TooManyFailures", degrade_message_});
            commit.events.push_back({"Warning", "Degraded", degrade_message_});
        }
    }
    phase_ = phase::committed;
    try {
        p_.db.writer().submit(&commit, &p_);
        return started::submitted;
    } catch (const status_error& e) {
        commit.result = store::commit_result{false, false, 0, e.code(), e.what()};
    } catch (const std::exception& e) {
        commit.result = store::commit_result{false, false, 0, VIGY_INTERNAL, e.what()};
    }
    return started::completed;
}

void slot::answer(const store::commit_result& r) {
    forced_job j = std::move(job_);
    job_ = {};
    if (!r.ok && j.request_id) {
        try {
            p_.db.fail_tick_request(*j.request_id, r.code, r.error, j.request_token);
        } catch (const std::exception& e) {
            logger()->warn("could not fail tick request {}: {}", *j.request_id, e.what());
        }
    }
    if (!j.done) return;
    try {
        if (r.ok) {
            j.done(std::make_shared<const host::run>(commit_->run), nullptr);
        } else {
            const status_error e(r.code == VIGY_OK ? VIGY_INTERNAL : r.code,
                                 r.error.empty() ? std::string("the run could not be persisted") : r.error);
            j.done(nullptr, &e);
        }
    } catch (const std::exception& e) {
        logger()->warn("forced tick completion failed: {}", e.what());
    }
}

void slot::complete() {
    const slot_commit& commit = *commit_;
    const store::commit_result& r = commit.result;
    const slot_spec& spec = *tick_spec_;
    if (r.ok) {
        (tick_ok_ ? p_.ticks_ok : p_.ticks_failed).fetch_add(1, std::memory_order_relaxed);
        if (trigger_ == run_trigger::forced) p_.ticks_forced.fetch_add(1, std::memory_order_relaxed);
        p_.runs_committed.fetch_add(1, std::memory_order_relaxed);
    } else {
        p_.runs_rejected.fetch_add(1, std::memory_order_relaxed);
        if (r.stale) {
            p_.stale_commits.fetch_add(1, std::memory_order_relaxed);
            // The lease moved on: start nothing more (queued forced ticks included) until the
            // control loop has renewed or regained it under a new token.
            if (commit.fence && p_.lease.token.load(std::memory_order_acquire) == *commit.fence)
                p_.lease.valid_until_boot_ms.store(0, std::memory_order_release);
            // Cluster mode: the shard moved on; tick none of its vigies until a round regains it.
            if (commit.shard && commit.shard->shard < p_.lease.shard_count) {
                int64_t e = commit.shard->epoch;
                p_.lease.shard_epochs[commit.shard->shard].compare_exchange_strong(e, 0, std::memory_order_acq_rel);
            }
            logger()->warn("run of vigy {} rejected: {}", spec.name, r.error);
        } else if (r.code == VIGY_NOT_FOUND) {
            logger()->info("run of deleted vigy {} dropped: {}", spec.name, r.error);
        } else {
            logger()->error("failed to persist run of vigy {}: {}", spec.name, r.error);
        }
        cache_epoch_ = 0;  // the store is the truth: reload before the next tick
    }
    if (work_ == work::triggered) {
        // Triggers coalesced into this run: their requests are answered by it.
        for (std::size_t i = 1; i < tick_requests_.size(); ++i) {
            try {
                if (r.ok)
                    p_.db.complete_tick_request(tick_requests_[i], commit.run.id, tick_request_token_);
                else
                    p_.db.fail_tick_request(tick_requests_[i], r.code == VIGY_OK ? VIGY_INTERNAL : r.code, r.error,
                                            tick_request_token_);
            } catch (const std::exception& e) {
                logger()->warn("could not answer tick request {}: {}", tick_requests_[i], e.what());
            }
        }
        if (!r.ok && !tick_requests_.empty()) {
            try {
                p_.db.fail_tick_request(tick_requests_.front(), r.code == VIGY_OK ? VIGY_INTERNAL : r.code, r.error,
                                        tick_request_token_);
            } catch (const std::exception&) {
            }
        }
        tick_requests_.clear();
    }
    // Other vigies listening to this one's events and condition changes.
    if (r.ok && tick_ok_ && (!commit.events.empty() || !changed_conditions_.empty()))
        p_.dispatch(spec.name, commit.events, changed_conditions_);
    // Lifecycle: a one-shot that ran is Completed; supervision tripped -> Degraded.
    const bool once_done = r.ok && work_ == work::timer && spec.schedule->kind == schedule_kind::once;
    if (r.ok && (once_done || degrade_)) {
        try {
            const auto rec =
                once_done
                    ? p_.db.set_state(spec.id, store::state_completed,
                                      std::string("ran once: ") + (tick_ok_ ? "ok" : "failed: " + commit.run.error),
                                      {store::state_enabled})
                    : p_.db.set_state(spec.id, store::state_degraded, degrade_message_, {store::state_enabled});
            if (degrade_)
                logger()->warn("vigy {} degraded: {}", spec.name, degrade_message_);
            else
                logger()->info("vigy {} completed", spec.name);
            p_.upsert(rec);  // unschedules it here at once (the change feed would, a poll later)
        } catch (const std::exception& e) {
            logger()->error("vigy {}: recording its lifecycle state failed: {}", spec.name, e.what());
        }
    }
    if (work_ == work::timer) {
        const bool good = r.ok && tick_ok_;
        // From when the tick ended, not when its commit came back: the schedule (and a
        // test driving a manual clock) does not depend on the writer's timing.
        const auto now = ended_at_;
        std::lock_guard lk(m_);
        failures_ = good ? 0 : failures_ + 1;
        if (!good && r.ok)
            logger()->warn("vigy {} tick failed (failures {}): {}", spec.name, failures_, commit.run.error);
        // An edit during the tick may already have armed (or fired) an immediate tick: keep it.
        if (scheduled_ && !removed_ && !armed_ && !due_pending_) arm_next_locked(good, now);
    } else if (work_ == work::triggered && r.ok && !tick_ok_) {
        logger()->warn("vigy {} triggered tick failed: {}", spec.name, commit.run.error);
    }
    if (trigger_ == run_trigger::forced) answer(r);
}

// ---- pipeline -------------------------------------------------------------------------

std::unique_ptr<slot_commit> commit_pool::acquire() {
    {
        std::lock_guard lk(m_);
        if (!free_.empty()) {
            auto c = std::move(free_.back());
            free_.pop_back();
            return c;
        }
    }
    return std::make_unique<slot_commit>();
}

void commit_pool::release(std::unique_ptr<slot_commit> c) noexcept {
    if (!c) return;
    std::lock_guard lk(m_);
    if (free_.size() < max_free) free_.push_back(std::move(c));  // capacity reserved: no throw
}

pipeline::pipeline(store::store& db_, const registry& reg_, std::shared_ptr<host::clock> clk_, tick_limits defaults_,
                   event_bus& bus_, lease_state& lease_, unsigned tick_threads, fairness fair)
    : db(db_),
      reg(reg_),
      clk(std::move(clk_)),
      defaults(defaults_),
      bus(bus_),
      lease(lease_),
      tick_threads_(tick_threads),
      fair_(std::move(fair)) {}

pipeline::~pipeline() {
    stop();
    if (scheduler_) scheduler_->stop();
    if (executor_) executor_->stop();
}

void pipeline::start() {
    std::lock_guard lk(m_);
    if (started_) return;
    if (!executor_) executor_ = std::make_unique<tick_executor>(tick_threads_, fair_);
    if (!scheduler_) scheduler_ = std::make_unique<scheduler>(clk, *executor_);
    scheduler_->start();
    lateness.clear();
    started_ = true;
}

executor_stats pipeline::executor_counters() {
    std::lock_guard lk(m_);
    return executor_ ? executor_->stats() : executor_stats{};
}

void pipeline::busy_changed(int delta) {
    std::lock_guard lk(busy_m_);
    busy_ += delta;
    if (busy_ == 0) busy_cv_.notify_all();
}

void pipeline::stop() {
    std::vector<std::shared_ptr<slot>> all;
    {
        std::lock_guard lk(m_);
        if (!started_) return;
        started_ = false;
        for (auto& [k, s] : slots_) all.push_back(s);
    }
    for (auto& s : all) s->unschedule();
    {
        // in-flight ticks finish; queued forced ticks run
        std::unique_lock lk(busy_m_);
        busy_cv_.wait(lk, [&] { return busy_ == 0; });
    }
    scheduler_->stop();
    std::lock_guard lk(m_);
    slots_.clear();  // reconcilers and caches go; the next start loads from the store
}

std::shared_ptr<slot> pipeline::slot_for(int64_t key) {
    auto it = slots_.find(key);
    if (it != slots_.end()) return it->second;
    auto s = std::make_shared<slot>(*this);
    slots_.emplace(key, s);
    return s;
}

void pipeline::upsert(const vigy_info& rec, milliseconds first_delay, bool serve_start) {
    std::shared_ptr<slot> s;
    {
        std::lock_guard lk(m_);
        if (!started_) return;
        s = slot_for(rec.key);
    }
    auto spec = interner.make(rec);
    set_deps(rec.key, *spec->schedule);
    s->update_impl(std::move(spec), first_delay, serve_start);
}

void pipeline::set_deps(int64_t key, const schedule_spec& sched) {
    std::lock_guard lk(deps_m_);
    for (auto it = deps_.begin(); it != deps_.end();) it = it->second.key == key ? deps_.erase(it) : std::next(it);
    for (const trigger_spec& t : sched.triggers)
        if (t.kind != trigger_kind::manual) deps_.emplace(t.vigy, dep{key, t});
    deps_count_.store(static_cast<int64_t>(deps_.size()), std::memory_order_release);
}

bool pipeline::watched_conditions(const std::string& source) {
    if (deps_count_.load(std::memory_order_acquire) == 0) return false;
    std::lock_guard lk(deps_m_);
    auto [b, e] = deps_.equal_range(source);
    for (auto it = b; it != e; ++it)
        if (it->second.on.kind == trigger_kind::condition) return true;
    return false;
}

void pipeline::dispatch(const std::string& source, const std::vector<store::event_update>& events,
                        const std::vector<std::pair<std::string, std::string>>& conditions) {
    if (deps_count_.load(std::memory_order_acquire) == 0) return;
    std::vector<std::pair<int64_t, value>> fire;
    {
        std::lock_guard lk(deps_m_);
        auto [b, e] = deps_.equal_range(source);
        for (auto it = b; it != e; ++it) {
            const trigger_spec& on = it->second.on;
            if (on.kind == trigger_kind::event) {
                for (const auto& ev : events) {
                    if (!on.matches_detail(ev.reason)) continue;
                    value payload = value::map();
                    payload.set("type", value::string(ev.type));
                    payload.set("reason", value::string(ev.reason));
                    payload.set("message", value::string(ev.message));
                    value t = value::map();
                    t.set("kind", value::string("event"));
                    t.set("source", value::string(source));
                    t.set("payload", std::move(payload));
                    fire.emplace_back(it->second.key, std::move(t));
                }
            } else if (on.kind == trigger_kind::condition) {
                for (const auto& [type, status] : conditions) {
                    if (!on.matches_detail(type)) continue;
                    value payload = value::map();
                    payload.set("type", value::string(type));
                    payload.set("status", value::string(status));
                    value t = value::map();
                    t.set("kind", value::string("condition"));
                    t.set("source", value::string(source));
                    t.set("payload", std::move(payload));
                    fire.emplace_back(it->second.key, std::move(t));
                }
            }
        }
    }
    for (auto& [key, t] : fire) {
        std::shared_ptr<slot> s;
        {
            std::lock_guard lk(m_);
            if (!started_) return;
            auto it = slots_.find(key);
            if (it != slots_.end()) s = it->second;
        }
        if (s) s->trigger(std::move(t), std::nullopt, 0);
    }
}

void pipeline::trigger(const vigy_info& rec, value why, std::optional<int64_t> request_id, int64_t request_token) {
    std::shared_ptr<slot> s;
    {
        std::lock_guard lk(m_);
        if (started_) {
            auto it = slots_.find(rec.key);
            if (it != slots_.end()) s = it->second;
        }
    }
    if (!s) {
        const std::string why_not = "vigy " + rec.name + " is not scheduled here (" + rec.state + ")";
        if (request_id) {
            try {
                db.fail_tick_request(*request_id, VIGY_FAILED_PRECONDITION, why_not, request_token);
            } catch (const std::exception&) {
            }
        }
        return;
    }
    s->trigger(std::move(why), request_id, request_token);
}

void pipeline::remove(int64_t key) {
    {
        std::lock_guard lk(deps_m_);
        for (auto it = deps_.begin(); it != deps_.end();) it = it->second.key == key ? deps_.erase(it) : std::next(it);
        deps_count_.store(static_cast<int64_t>(deps_.size()), std::memory_order_release);
    }
    std::shared_ptr<slot> s;
    {
        std::lock_guard lk(m_);
        auto it = slots_.find(key);
        if (it == slots_.end()) return;
        s = it->second;
        slots_.erase(it);
    }
    s->remove();
}

void pipeline::force(const vigy_info& rec, forced_job job) {
    std::shared_ptr<slot> s;
    {
        std::lock_guard lk(m_);
        if (started_) {
            auto it = slots_.find(rec.key);
            if (it == slots_.end()) {
                s = slot_for(rec.key);
                auto spec = interner.make(rec);
                auto unscheduled = std::make_shared<slot_spec>(*spec);
                unscheduled->enabled = false;  // a forced tick of a disabled vigy does not schedule it
                s->update(std::move(unscheduled), {});
            } else {
                s = it->second;
            }
        }
    }
    if (!s) {
        const status_error e(VIGY_UNAVAILABLE, "this runtime is not serving");
        if (job.done) job.done(nullptr, &e);
        return;
    }
    s->force(std::move(job));
}

void pipeline::lease_changed(const std::string& why) {
    cache_epoch.fetch_add(1, std::memory_order_acq_rel);
    std::vector<std::shared_ptr<slot>> all;
    {
        std::lock_guard lk(m_);
        for (auto& [k, s] : slots_) all.push_back(s);
    }
    for (auto& s : all) s->fail_queued(VIGY_UNAVAILABLE, why);
}

std::vector<int64_t> pipeline::slot_keys() {
    std::lock_guard lk(m_);
    std::vector<int64_t> keys;
    keys.reserve(slots_.size());
    for (auto& [k, s] : slots_) keys.push_back(k);
    return keys;
}

std::vector<std::string> pipeline::scheduled_names() {
    std::vector<std::shared_ptr<slot>> all;
    {
        std::lock_guard lk(m_);
        for (auto& [k, s] : slots_) all.push_back(s);
    }
    std::vector<std::string> names;
    for (auto& s : all)
        if (auto n = s->scheduled_name()) names.push_back(std::move(*n));
    std::sort(names.begin(), names.end());
    return names;
}

void pipeline::on_committed(std::span<store::tick_commit* const> commits,
                            std::span<const store::commit_result> results) {
    completed_.clear();
    const bool publish = bus.wanted();
    for (std::size_t i = 0; i < commits.size(); ++i) {
        auto* c = static_cast<slot_commit*>(commits[i]);  // every commit this sink gets is a slot's
        c->result = results[i];
        if (results[i].ok) {
            c->run.seq = results[i].seq;
            if (publish) bus.publish(std::make_shared<const host::run>(c->run));  // commit order, here
        }
        completed_.push_back(c->owner);
    }
    executor_->post_batch(completed_.data(), completed_.size());
}

// ---- outside a scheduler ----------------------------------------------------------------

run tick_locally(store::store& db, const registry& reg, const host::clock& clk, const tick_limits& defaults,
                 event_bus& bus, const vigy_info& rec, int64_t fence, const value* why) {
    spec_interner interner;
    const auto spec = interner.make(rec);
    reconciler_cache rc;
    rc.ensure(reg, *spec, defaults);
    store::tick_commit commit;
    commit.vigy_key = spec->key;
    commit.fence = fence;
    try {
        vigy_state st = load_state(db, *spec);
        std::string kind;
        if (why)
            if (const value* k = why->find("kind"); k && k->is_stringish()) kind = k->text();
        execute_tick({*spec, rc, st.kv, st.conditions, st.clock, run_trigger::forced, 0, clk, why, kind}, commit,
                     nullptr, nullptr);
    } catch (const status_error& e) {
        reconciler_cache none;
        none.built = true;
        none.status = e.code();
        none.error = std::string("loading the vigy's state failed: ") + e.what();
        const kv_map empty;
        const std::vector<condition_record> none_conditions;
        execute_tick({*spec, none, empty, none_conditions, {}, run_trigger::forced, 0, clk}, commit, nullptr, nullptr);
    }
    const store::commit_result cr = db.commit_now(commit);
    if (!cr.ok) vigy::fail(cr.code == VIGY_OK ? VIGY_INTERNAL : cr.code, "could not persist the run: " + cr.error);
    commit.run.seq = cr.seq;
    if (bus.wanted()) bus.publish(std::make_shared<const host::run>(commit.run));
    return std::move(commit.run);
}

evaluation evaluate(const registry& reg, const host::clock& clk, const tick_limits& defaults, const vigy_spec& spec,
                    const evaluate_options& o) {
    if (o.ticks < 1) vigy::fail(VIGY_INVALID_ARGUMENT, "ticks must be >= 1, got " + std::to_string(o.ticks));
    if (o.every_ms < 0) vigy::fail(VIGY_INVALID_ARGUMENT, "the tick interval must be >= 0 ms");
    vigy_info rec;
    rec.name = spec.name;
    rec.kind = spec.kind;
    rec.config_json = spec.config_json.empty() ? std::string("{}") : spec.config_json;
    rec.revision = store::revision_for(rec.kind, rec.config_json);
    rec.interval_ms = std::max<int64_t>(spec.interval_ms, store::min_interval_ms);
    rec.limits = spec.limits;
    rec.allow = spec.allow;
    spec_interner interner;
    const auto s = interner.make(rec);
    reconciler_cache rc;
    rc.ensure(reg, *s, defaults);
    std::optional<value> why;
    if (!o.trigger_json.empty()) {
        value payload;
        try {
            payload = value::from_json(o.trigger_json);
        } catch (const json_error& e) {
            vigy::fail(VIGY_INVALID_ARGUMENT, std::string("--trigger is not valid JSON: ") + e.what());
        }
        why = value::map();
        why->set("kind", value::string("manual"));
        why->set("source", value::string("eval"));
        why->set("payload", std::move(payload));
    }
    vigy_state st;
    for (const auto& [k, json] : o.kv_json) {
        try {
            st.kv.emplace(k, value::from_json(json));
        } catch (const json_error& e) {
            vigy::fail(VIGY_INVALID_ARGUMENT, "kv " + k + ": " + e.what());
        }
    }
    // Simulated time: tick i starts at start + i * every.
    const int64_t start = o.start_ms >= 0 ? o.start_ms : clk.wall_ms();
    evaluation out;
    out.ticks.reserve(static_cast<std::size_t>(std::min<int64_t>(o.ticks, 100000)));
    store::tick_commit commit;
    for (int64_t i = 0; i < o.ticks; ++i) {
        // the wall clock is simulated; durations are measured for real
        struct real_duration_clock final : public host::clock {
            int64_t wall;
            time_point now() const override { return std::chrono::steady_clock::now(); }
            int64_t wall_ms() const override { return wall; }
            void wait_until(std::unique_lock<std::mutex>&, std::condition_variable&, time_point) const override {}
        } tick_clock;
        tick_clock.wall = start + i * o.every_ms;
        const int64_t previous = st.clock.previous_tick_ms;
        const bool ok = execute_tick({*s, rc, st.kv, st.conditions, st.clock, run_trigger::forced, 0, tick_clock,
                                      why ? &*why : nullptr, why ? "manual" : ""},
                                     commit, &st.kv, &st.conditions);
        if (ok) {
            ++st.clock.tick_count;
            st.clock.previous_tick_ms = commit.run.started_ms;
        }
        out.ticks.push_back({commit.run, previous});
    }
    // the final kv and conditions, written once (linear in the number of keys)
    value kv = value::map();
    auto& entries = kv.entries();
    entries.reserve(st.kv.size());
    for (auto& [k, v] : st.kv) entries.push_back(map_entry{value::string(k), std::move(v)});
    out.kv_json = kv.to_json();
    out.conditions_json = conditions_to_json(st.conditions);
    return out;
}

}  // namespace vigy::host::detail
