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

slot::slot(pipeline& p, int64_t key) : p_(p), key_(key) { commit.owner = this; }

slot::~slot() = default;

void slot::arm_locked(time_point when) {
    armed_ = true;
    p_.timers().arm(shared_from_this(), ++timer_token_, when);
}

void slot::update(std::shared_ptr<const slot_spec> spec, milliseconds delay) {
    std::lock_guard lk(m_);
    const std::shared_ptr<const slot_spec> old = std::move(spec_);
    spec_ = std::move(spec);
    removed_ = false;
    if (!spec_->enabled) {
        if (scheduled_) {
            scheduled_ = false;
            due_pending_ = false;
            armed_ = false;
            ++timer_token_;
            p_.scheduled_.fetch_sub(1);
            logger()->info("vigy {} unscheduled (disabled)", spec_->name);
        }
        return;
    }
    const bool changed = !scheduled_ || !old || spec_->schedule_differs(*old);
    if (!changed) return;
    if (!scheduled_) p_.scheduled_.fetch_add(1);
    scheduled_ = true;
    failures_ = 0;
    logger()->info("vigy {} scheduled every {} ms (revision {})", spec_->name, spec_->interval_ms, spec_->revision);
    arm_locked(p_.clk->now() + delay);  // an edit ticks right away (or after the busy tick)
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
    bool post = false, refused = false;
    {
        std::lock_guard lk(m_);
        refused = removed_;
        if (!removed_) {
            forced_.push_back(std::move(job));
            if (!busy_) {
                busy_ = true;
                self_ = shared_from_this();
                p_.busy_changed(+1);
                job_ = std::move(forced_.front());
                forced_.erase(forced_.begin());
                trigger_ = run_trigger::forced;
                tick_spec_ = spec_;
                phase_ = phase::tick;
                post = true;
            }
        }
    }
    if (post) {
        p_.executor().post(this);
    } else if (refused && job.done) {  // `job` was not moved from
        const status_error e(VIGY_NOT_FOUND, "vigy was deleted");
        job.done(nullptr, &e);
    }
}

job* slot::on_due(uint64_t token, time_point due) {
    std::lock_guard lk(m_);
    if (token != timer_token_ || !scheduled_ || removed_) return nullptr;
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
    due_ = due;
    tick_spec_ = spec_;
    phase_ = phase::tick;
    return this;
}

bool slot::next() {
    std::lock_guard lk(m_);
    if (!forced_.empty()) {
        job_ = std::move(forced_.front());
        forced_.erase(forced_.begin());
        trigger_ = run_trigger::forced;
    } else if (due_pending_ && scheduled_ && !removed_) {
        due_pending_ = false;
        due_ = pending_due_;
        trigger_ = run_trigger::schedule;
    } else {
        busy_ = false;
        if (removed_) state_ = {}, cache_epoch_ = 0, rc_ = {};  // a deleted vigy's cache goes at once
        self_.reset();   // the caller's own reference keeps the slot alive until it returns
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
    const bool scheduled = trigger_ == run_trigger::schedule;
    // Never start a tick without surely holding the lease: a scheduler that was paused
    // past its lease (or lost it) does not run programs, whatever it had queued.
    const int64_t token = p_.lease.token.load(std::memory_order_acquire);
    if (!p_.lease.valid_now()) {
        if (scheduled) {
            p_.ticks_paused.fetch_add(1, std::memory_order_relaxed);
            std::lock_guard lk(m_);
            if (scheduled_ && !removed_ && !armed_ && !due_pending_)
                arm_locked(p_.clk->now() + milliseconds(spec.interval_ms));
        } else if (job_.done || job_.request_id) {
            answer(store::commit_result{false, false, 0, VIGY_UNAVAILABLE,
                                        "this scheduler no longer surely holds the lease; the tick of " + spec.name +
                                            " did not run"});
        }
        return started::skipped;
    }
    int64_t lateness_us = 0;
    if (scheduled) {
        lateness_us = std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::microseconds>(p_.clk->now() - due_).count());
        p_.lateness.add(static_cast<double>(lateness_us) / 1000.0);
    }
    commit.vigy_key = spec.key;
    commit.fence = token;
    commit.tick_request_id = job_.request_id;
    const uint64_t epoch = p_.cache_epoch.load(std::memory_order_acquire);
    try {
        rc_.ensure(p_.reg, spec, p_.defaults);
        if (cache_epoch_ != epoch) {
            state_ = load_state(p_.db, spec);
            cache_epoch_ = epoch;
        }
        tick_ok_ = execute_tick({spec, rc_, state_.kv, state_.conditions, state_.clock, trigger_, lateness_us, *p_.clk},
                                commit, &state_.kv, &state_.conditions);
        ended_at_ = p_.clk->now();
        if (tick_ok_) {  // optimistic: the commit's failure drops the cache
            ++state_.clock.tick_count;
            state_.clock.previous_tick_ms = commit.run.started_ms;
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
        execute_tick({spec, none, empty_kv, empty_conditions, state_.clock, trigger_, lateness_us, *p_.clk}, commit,
                     nullptr, nullptr);
        ended_at_ = p_.clk->now();
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
            j.done(std::make_shared<const host::run>(commit.run), nullptr);
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
            logger()->warn("run of vigy {} rejected: {}", spec.name, r.error);
        } else if (r.code == VIGY_NOT_FOUND) {
            logger()->info("run of deleted vigy {} dropped: {}", spec.name, r.error);
        } else {
            logger()->error("failed to persist run of vigy {}: {}", spec.name, r.error);
        }
        cache_epoch_ = 0;  // the store is the truth: reload before the next tick
    }
    if (trigger_ == run_trigger::schedule) {
        const bool good = r.ok && tick_ok_;
        // From when the tick ended, not when its commit came back: the schedule (and a
        // test driving a manual clock) does not depend on the writer's timing.
        const auto now = ended_at_;
        std::lock_guard lk(m_);
        failures_ = good ? 0 : failures_ + 1;
        if (!good && r.ok)
            logger()->warn("vigy {} tick failed (failures {}): {}", spec.name, failures_, commit.run.error);
        // An edit during the tick may already have armed (or fired) an immediate tick: keep it.
        if (scheduled_ && !removed_ && !armed_ && !due_pending_) {
            if (good) {
                const next_fire f = next_after_success(due_, now, milliseconds(spec_->interval_ms));
                if (f.skipped) p_.skipped_slots.fetch_add(f.skipped, std::memory_order_relaxed);
                arm_locked(f.at);
            } else {
                arm_locked(now + backoff_after(failures_));
            }
        }
    }
    if (trigger_ == run_trigger::forced) answer(r);
}

// ---- pipeline -------------------------------------------------------------------------

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
    auto s = std::make_shared<slot>(*this, key);
    slots_.emplace(key, s);
    return s;
}

void pipeline::upsert(const vigy_info& rec, milliseconds first_delay) {
    std::shared_ptr<slot> s;
    {
        std::lock_guard lk(m_);
        if (!started_) return;
        s = slot_for(rec.key);
    }
    s->update(interner.make(rec), first_delay);
}

void pipeline::remove(int64_t key) {
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

void pipeline::on_committed(std::span<store::tick_commit* const> commits, std::span<const store::commit_result> results) {
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
                 event_bus& bus, const vigy_info& rec, int64_t fence) {
    spec_interner interner;
    const auto spec = interner.make(rec);
    reconciler_cache rc;
    rc.ensure(reg, *spec, defaults);
    store::tick_commit commit;
    commit.vigy_key = spec->key;
    commit.fence = fence;
    try {
        vigy_state st = load_state(db, *spec);
        execute_tick({*spec, rc, st.kv, st.conditions, st.clock, run_trigger::forced, 0, clk}, commit, nullptr, nullptr);
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
    if (!cr.ok)
        vigy::fail(cr.code == VIGY_OK ? VIGY_INTERNAL : cr.code, "could not persist the run: " + cr.error);
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
        const bool ok = execute_tick({*s, rc, st.kv, st.conditions, st.clock, run_trigger::forced, 0, tick_clock},
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
