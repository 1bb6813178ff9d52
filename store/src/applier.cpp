// store/src/applier.cpp — applying tick commits (prepared, bound in place) and pruning.
#include "applier.hpp"

#include <fmt/format.h>

namespace vigy::store::detail {

void check_commit(const tick_commit& c) {
    const run_record& r = c.run;
    auto bad = [](const std::string& m) { vigy::fail(VIGY_INVALID_ARGUMENT, m); };
    if (c.vigy_key <= 0) bad("commit without a vigy key");
    if (r.result != run_result::ok && r.result != run_result::failed && r.result != run_result::skipped)
        bad("invalid run result");
    if (r.trigger != run_trigger::schedule && r.trigger != run_trigger::forced) bad("invalid run trigger");
    if (r.tick_count < 0) bad("run tick_count must be >= 0");
    if (r.duration_us < 0) bad("run duration_us must be >= 0");
    if (r.lateness_us < 0) bad("run lateness_us must be >= 0");
    if (r.ended_ms < r.started_ms) bad("run ended before it started");
    for (const condition_update& cu : c.conditions) {
        if (cu.type.empty()) bad("condition type must not be empty");
        if (cu.status != "True" && cu.status != "False" && cu.status != "Unknown")
            bad(fmt::format("invalid condition status {:?}: expected True, False or Unknown", cu.status));
    }
    for (const event_update& e : c.events) {
        if (e.type != "Normal" && e.type != "Warning")
            bad(fmt::format("invalid event type {:?}: expected Normal or Warning", e.type));
        if (e.reason.empty()) bad("event reason must not be empty");
    }
}

applier::applier(sqlite::connection& c)
    : c_(c),
      change_seq_(c.prepare("SELECT value FROM store_meta WHERE key = 'change_seq'")),
      lease_token_(c.prepare("SELECT token FROM scheduler_lease WHERE id = 1")),
      exists_(c.prepare("SELECT deleted FROM vigies WHERE vid = ?")),
      run_insert_(c.prepare("INSERT INTO runs(vid, run_id, revision, started_ms, ended_ms, duration_us, lateness_us, "
                            "result, run_trigger, tick_count, status, error, body, trigger_kind, trigger_json) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")),
      kv_upsert_(c.prepare("INSERT INTO kv(vid, key, value_json, updated_ms) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT(vid, key) DO UPDATE SET value_json = excluded.value_json, "
                           "updated_ms = excluded.updated_ms")),
      kv_delete_(c.prepare("DELETE FROM kv WHERE vid = ? AND key = ?")),
      cond_upsert_(c.prepare("INSERT INTO conditions(vid, type, status, reason, message, last_transition_ms, "
                             "updated_ms, run_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                             "ON CONFLICT(vid, type) DO UPDATE SET "
                             "last_transition_ms = CASE WHEN conditions.status = excluded.status "
                             "THEN conditions.last_transition_ms ELSE excluded.last_transition_ms END, "
                             "status = excluded.status, reason = excluded.reason, message = excluded.message, "
                             "updated_ms = excluded.updated_ms, run_seq = excluded.run_seq")),
      event_upsert_(c.prepare("INSERT INTO events(vid, type, reason, message, count, first_ms, last_ms, run_seq) "
                              "VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?6) "
                              "ON CONFLICT(vid, type, reason, message) DO UPDATE SET count = events.count + 1, "
                              "last_ms = excluded.last_ms, run_seq = excluded.run_seq")),
      request_done_(c.prepare("UPDATE tick_requests SET state = 'done', done_ms = ?, run_id = ? WHERE id = ?")),
      savepoint_(c.prepare("SAVEPOINT tick")),
      release_(c.prepare("RELEASE tick")),
      rollback_to_(c.prepare("ROLLBACK TO tick")) {}

void applier::begin_batch() {
    std::int64_t seq = -1;
    if (change_seq_.step("reading the change sequence")) seq = change_seq_.int64(0);
    change_seq_.reset();
    if (seq != known_at_change_seq_) {
        known_.clear();  // some vigy changed (maybe deleted): check existence again
        known_at_change_seq_ = seq;
    }
    batch_token_.reset();
    if (lease_token_.step("reading the scheduler lease")) batch_token_ = lease_token_.int64(0);
    lease_token_.reset();
}

void applier::write(tick_commit& c) {
    run_record& r = c.run;
    // The run first: conditions and events point at its seq. A failure part-way is
    // undone by the savepoint (careful) or by redoing the batch (fast path).
    if (r.id.empty()) new_run_id(r.started_ms, r.id);
    if (!codec::parse_uuid(r.id, uuid_))
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("run id {:?} is not a UUID", r.id));
    std::int64_t revision = 0;
    if (!codec::parse_hex64(r.revision, revision)) revision = 0;
    const bool failed = r.result == run_result::failed;
    body_.clear();
    codec::append_body(r, !failed, body_);
    sqlite::statement& ins = run_insert_;
    ins.bind(1, c.vigy_key).bind_blob(2, uuid_.data(), 16).bind(3, revision).bind(4, r.started_ms).bind(5, r.ended_ms);
    ins.bind(6, r.duration_us).bind(7, r.lateness_us).bind(8, static_cast<std::int64_t>(r.result));
    ins.bind(9, static_cast<std::int64_t>(r.trigger)).bind(10, r.tick_count);
    ins.bind(11, static_cast<std::int64_t>(failed && r.status == VIGY_OK ? VIGY_UNKNOWN : r.status));
    if (r.error.empty())
        ins.bind_null(12);
    else
        ins.bind(12, r.error);
    if (body_.empty())
        ins.bind_null(13);
    else
        ins.bind(13, body_);
    if (r.trigger_kind.empty())
        ins.bind_null(14);
    else
        ins.bind(14, r.trigger_kind);
    if (r.trigger_json.empty())
        ins.bind_null(15);
    else
        ins.bind(15, r.trigger_json);
    ins.run("inserting the run");
    last_seq_ = c_.last_insert_rowid();

    if (!failed) {
        for (const auto& [key, value] : c.kv_upserts) {
            kv_upsert_.bind(1, c.vigy_key).bind(2, key).bind(3, value).bind(4, r.ended_ms);
            kv_upsert_.run("writing kv");
        }
        for (const auto& key : c.kv_deletes) {
            kv_delete_.bind(1, c.vigy_key).bind(2, key);
            kv_delete_.run("deleting kv");
        }
    }
    for (const condition_update& cu : c.conditions) {
        cond_upsert_.bind(1, c.vigy_key).bind(2, cu.type).bind(3, cu.status).bind(4, cu.reason).bind(5, cu.message);
        cond_upsert_.bind(6, r.started_ms).bind(7, r.ended_ms).bind(8, last_seq_);
        cond_upsert_.run("writing a condition");
    }
    for (const event_update& e : c.events) {
        event_upsert_.bind(1, c.vigy_key).bind(2, e.type).bind(3, e.reason).bind(4, e.message).bind(5, r.ended_ms);
        event_upsert_.bind(6, last_seq_);
        event_upsert_.run("recording an event");
    }
    if (c.tick_request_id) {
        request_done_.bind(1, now_unix_ms()).bind_blob(2, uuid_.data(), 16).bind(3, *c.tick_request_id);
        request_done_.run("completing the tick request");
    }
}

commit_result applier::apply(tick_commit& c, bool careful) {
    commit_result out;
    const run_record& r = c.run;
    if (c.fence && (!batch_token_ || *batch_token_ != *c.fence)) {
        out.stale = true;
        out.code = VIGY_ABORTED;
        out.error = fmt::format(
            "run of vigy {} not recorded: its scheduler no longer holds the lease (token {}, the "
            "lease now has {})",
            r.vigy_id, *c.fence, batch_token_ ? std::to_string(*batch_token_) : "none");
        return out;
    }
    if (c.shard) {  // shard leases exist on PostgreSQL only: no shard is held here
        out.stale = true;
        out.code = VIGY_ABORTED;
        out.error =
            fmt::format("run of vigy {} not recorded: shard fencing (cluster mode) needs PostgreSQL", r.vigy_id);
        return out;
    }
    // Existence first: a rejected commit then has written nothing, savepoint or not.
    if (known_.find(c.vigy_key) == known_.end()) {
        bool alive = false;
        if (exists_.bind(1, c.vigy_key).step("checking the vigy")) alive = exists_.int64(0) == 0;
        exists_.reset();
        if (!alive) {
            out.code = VIGY_NOT_FOUND;
            out.error = fmt::format("vigy {} not found (deleted?); its run was not recorded", r.vigy_id);
            return out;
        }
        known_.insert(c.vigy_key);
    }
    if (careful) savepoint_.run("opening a savepoint");
    try {
        write(c);
        if (careful) release_.run("releasing a savepoint");
        out.ok = true;
        out.seq = last_seq_;
        return out;
    } catch (const status_error& e) {
        if (e.code() == VIGY_UNAVAILABLE) throw;  // busy inside an open transaction: the batch is in trouble
        if (!careful) throw needs_savepoints{};
        rollback_to_.run("rolling back a savepoint");
        release_.run("releasing a savepoint");
        out.code = e.code();
        out.error = fmt::format("run {} of vigy {} not recorded: {}", c.run.id, c.run.vigy_id, e.what());
        return out;
    }
}

// ---------------------------------------------------------------------------------
// retention

namespace {

/// Keeps the tick clock of the vigies whose ok runs with seq in `where_seq` are about
/// to go, so a vigy's tick_count never restarts when retention removes its last runs.
void keep_marks(sqlite::connection& c, const std::string& runs_subquery) {
    c.exec(fmt::format("INSERT INTO tick_marks(vid, tick_count, prev_tick_ms) "
                       "SELECT vid, max(tick_count), max(started_ms) FROM runs WHERE seq IN ({}) AND result = 0 "
                       "GROUP BY vid HAVING max(tick_count) > 0 "
                       "ON CONFLICT(vid) DO UPDATE SET tick_count = max(tick_count, excluded.tick_count), "
                       "prev_tick_ms = max(prev_tick_ms, excluded.prev_tick_ms)",
                       runs_subquery)
               .c_str(),
           "keeping the tick clock");
}

}  // namespace

std::int64_t prune_step(sqlite::connection& c, const retention_policy& policy, std::int64_t& cursor) {
    std::int64_t budget = policy.prune_chunk > 0 ? policy.prune_chunk : 500;
    std::int64_t deleted = 0;
    const std::int64_t now = now_unix_ms();
    c.exec(fmt::format("DELETE FROM tick_requests WHERE state IN ('done', 'failed') AND done_ms < {}", now - 3'600'000)
               .c_str(),
           "dropping finished tick requests");
    if (policy.keep_changes_age.count() > 0) {
        // Compaction of the change feed: older cursors are "gone" from here on.
        const std::int64_t cutoff = now - policy.keep_changes_age.count();
        c.exec(
            fmt::format("UPDATE store_meta SET value = max(value, (SELECT coalesce(max(seq), 0) FROM vigy_changes "
                        "WHERE at_ms < {0})) WHERE key = 'changes_floor'; DELETE FROM vigy_changes WHERE at_ms < {0}",
                        cutoff)
                .c_str(),
            "compacting the change feed");
    }
    if (policy.max_age.count() > 0) {
        // Age is judged in commit (seq) order: look only at the oldest `budget` rows, so the
        // step costs O(budget) even when nothing is old enough.
        const std::int64_t cutoff = now - policy.max_age.count();
        const std::string old = fmt::format(
            "SELECT seq FROM (SELECT seq, started_ms FROM runs ORDER BY seq LIMIT {}) WHERE started_ms < {}", budget,
            cutoff);
        keep_marks(c, old);
        c.exec(fmt::format("DELETE FROM runs WHERE seq IN ({})", old).c_str(), "pruning old runs");
        deleted += c.changes();
        budget -= c.changes();
    }
    if (policy.keep_runs > 0 || policy.keep_events > 0) {
        sqlite::statement next_vid = c.prepare("SELECT vid FROM vigies WHERE vid > ? ORDER BY vid LIMIT 1");
        sqlite::statement threshold =
            c.prepare("SELECT seq FROM runs WHERE vid = ? ORDER BY seq DESC LIMIT 1 OFFSET ?");
        for (int visited = 0; budget > 0 && visited < 256; ++visited) {
            std::int64_t vid = 0;
            if (next_vid.bind(1, cursor).step("choosing the next vigy to prune")) vid = next_vid.int64(0);
            next_vid.reset();
            if (vid == 0) {
                cursor = 0;  // wrapped around; continue next step
                break;
            }
            if (policy.keep_events > 0)
                c.exec(fmt::format("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE vid = {} ORDER BY "
                                   "last_ms DESC, id DESC LIMIT -1 OFFSET {})",
                                   vid, policy.keep_events)
                           .c_str(),
                       "pruning events");
            if (policy.keep_runs > 0) {
                std::int64_t t = 0;
                if (threshold.bind(1, vid).bind(2, policy.keep_runs).step("finding runs to prune"))
                    t = threshold.int64(0);
                threshold.reset();
                if (t > 0) {
                    const std::string old = fmt::format(
                        "SELECT seq FROM runs WHERE vid = {} AND seq <= {} ORDER BY seq LIMIT {}", vid, t, budget);
                    keep_marks(c, old);
                    c.exec(fmt::format("DELETE FROM runs WHERE seq IN ({})", old).c_str(), "pruning runs");
                    deleted += c.changes();
                    budget -= c.changes();
                    if (budget <= 0) break;  // more may remain for this vigy: keep the cursor on it
                }
            }
            cursor = vid;
        }
    }
    return deleted;
}

}  // namespace vigy::store::detail
