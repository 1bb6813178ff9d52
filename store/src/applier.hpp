// store/src/applier.hpp — the statements that apply tick commits on one native
// connection (the writer's, or the store's synchronous one), and retention pruning.
// This is the database hot path: every statement is prepared once and bound without
// copies; nothing the host produced is parsed again.
#pragma once

#include "codec.hpp"
#include "sqlite.hpp"

#include <unordered_set>

namespace vigy::store::detail {

/// Cheap structural checks of a commit before it is queued (no JSON parsing): result,
/// trigger, non-negative counters, condition statuses, event types. Throws
/// status_error INVALID_ARGUMENT.
void check_commit(const tick_commit& commit);

/// Thrown by applier::apply on the fast path when a commit failed part-way.
struct needs_savepoints {};

class applier {
public:
    explicit applier(sqlite::connection& c);
    applier(const applier&) = delete;
    applier& operator=(const applier&) = delete;

    /// Call right after each BEGIN: reads the lease token and whether any vigy changed
    /// (the set of vigies known to exist survives batches while nothing changed).
    void begin_batch();

    /// Applies one checked commit inside the caller's transaction. A commit for a
    /// missing vigy, or whose fence token no longer holds the lease, is rejected before
    /// anything is written. `careful`: inside a SAVEPOINT, so a failure part-way leaves
    /// nothing of it and the result says why. Not careful (fast path): a failure part-way
    /// throws needs_savepoints (the caller rolls back and redoes the batch carefully).
    /// Busy always throws. Assigns commit.run.id when empty.
    commit_result apply(tick_commit& commit, bool careful);

private:
    void write(tick_commit& c);

    sqlite::connection& c_;
    sqlite::statement change_seq_, lease_token_, exists_, run_insert_, kv_upsert_, kv_delete_, cond_upsert_,
        event_upsert_, request_done_, savepoint_, release_, rollback_to_;
    std::int64_t known_at_change_seq_ = -1;
    std::unordered_set<std::int64_t> known_;
    std::optional<std::int64_t> batch_token_;
    std::string body_, revision_hex_;
    codec::uuid uuid_{};
    std::int64_t last_seq_ = 0;
};

/// Deletes up to about `policy.prune_chunk` runs that violate `policy` and does the
/// housekeeping (finished tick requests, compacted change feed). Returns runs deleted.
/// Must run inside a write transaction on `c`. `cursor` is the round-robin vigy key for
/// the count rule (0 = start over).
std::int64_t prune_step(sqlite::connection& c, const retention_policy& policy, std::int64_t& cursor);

}  // namespace vigy::store::detail
