// host/src/runtime_mapping.hpp — between the API and the store: spec normalization and
// the checks that need the plugin registry, effective limits and grants, the compact
// per-vigy spec a scheduled slot keeps (its config text shared by revision), and the
// process facts coordination needs (host name, boot id, boot clock).
#pragma once

#include "vigy/host/capabilities.hpp"
#include "vigy/host/registry.hpp"
#include "vigy/host/runtime.hpp"
#include "vigy/host/schedule.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace vigy::host::detail {

/// `own` with every 0 field replaced from `defaults`.
tick_limits effective_limits(const tick_limits& own, const tick_limits& defaults) noexcept;
/// The C form for a reconciler factory.
vigy_limits to_c(const tick_limits& l) noexcept;

/// default_grants() plus `allow`, sorted and deduplicated.
std::vector<std::string> effective_grants(const std::vector<std::string>& allow);

/// The spec as the store will get it: config "" -> "{}"; INVALID_ARGUMENT when the
/// kind is not loaded (listing the known kinds) or the config is not a JSON object.
vigy_spec normalized_spec(const vigy_spec& spec, const registry& reg);

/// What a scheduled slot keeps of its vigy: no labels, and the config text shared
/// with every other vigy of the same revision.
struct slot_spec {
    int64_t key = 0;
    std::string id;
    std::string name;
    std::string kind;
    std::string revision;
    std::shared_ptr<const std::string> config;
    int64_t interval_ms = 1000;
    bool enabled = true;  ///< state == Enabled (serve ticks it)
    lifecycle_state state = lifecycle_state::enabled;
    int64_t state_ms = 0;  ///< when it entered `state` (a reset bumps it)
    int64_t created_ms = 0;
    std::string schedule_json;                      ///< as stored
    std::shared_ptr<const schedule_spec> schedule;  ///< parsed (never null)
    tick_limits limits;
    /// The vigy's grants when it has extra ones (nullptr = the defaults only).
    std::shared_ptr<const capability_set> grants;

    /// True when a change from `o` needs a new schedule or reconciler.
    [[nodiscard]] bool schedule_differs(const slot_spec& o) const noexcept {
        return revision != o.revision || interval_ms != o.interval_ms || !(limits == o.limits) || kind != o.kind ||
               schedule_json != o.schedule_json || state != o.state || state_ms != o.state_ms ||
               (grants ? *grants : capability_set{}) != (o.grants ? *o.grants : capability_set{});
    }
};

/// Builds slot specs, sharing config texts by revision (weakly: a text goes when its
/// last vigy does). Thread-safe.
class spec_interner {
public:
    std::shared_ptr<const slot_spec> make(const vigy_info& rec);

private:
    std::mutex m_;
    std::unordered_map<std::string, std::weak_ptr<const std::string>> configs_;
};

// ---- process facts ----------------------------------------------------------------

std::string hostname();
/// 16 random hex digits.
std::string random_token();
/// This boot's id (/proc/sys/kernel/random/boot_id), "" when unknown.
const std::string& boot_id();
/// CLOCK_BOOTTIME in ms: shared by every process of this boot, never stepped.
int64_t boot_ms() noexcept;
/// True when `lease` belongs to a process on this host that no longer exists.
bool holder_is_dead(const store::lease_info& lease, const std::string& host);

}  // namespace vigy::host::detail
