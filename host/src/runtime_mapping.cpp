// host/src/runtime_mapping.cpp — spec normalization, limits, grants, slot specs, process facts.
#include "runtime_mapping.hpp"

#include "vigy/host/value.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <random>

#include <signal.h>
#include <time.h>
#include <unistd.h>

namespace vigy::host::detail {

tick_limits effective_limits(const tick_limits& own, const tick_limits& defaults) noexcept {
    tick_limits l;
    l.fuel = own.fuel ? own.fuel : defaults.fuel;
    l.wall_ms = own.wall_ms ? own.wall_ms : defaults.wall_ms;
    l.memory_bytes = own.memory_bytes ? own.memory_bytes : defaults.memory_bytes;
    l.max_depth = own.max_depth ? own.max_depth : defaults.max_depth;
    return l;
}

vigy_limits to_c(const tick_limits& l) noexcept {
    vigy_limits c{};
    c.struct_size = sizeof(vigy_limits);
    c.fuel = l.fuel;
    c.wall_ms = l.wall_ms;
    c.memory_bytes = l.memory_bytes;
    c.max_depth = l.max_depth;
    return c;
}

std::vector<std::string> effective_grants(const std::vector<std::string>& allow) {
    std::vector<std::string> out = runtime::default_grants();
    out.insert(out.end(), allow.begin(), allow.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

vigy_spec normalized_spec(const vigy_spec& spec, const registry& reg) {
    if (!reg.find_factory(spec.kind)) {
        std::string known;
        for (const auto& k : reg.kinds()) known += (known.empty() ? "" : ", ") + k;
        vigy::fail(VIGY_INVALID_ARGUMENT, "unknown reconciler kind \"" + spec.kind + "\" (known: " +
                                              (known.empty() ? std::string("none; no plugin loaded") : known) + ")");
    }
    for (const auto& id : spec.allow)
        if (auto why = invalid_capability_id(id)) vigy::fail(VIGY_INVALID_ARGUMENT, *why);
    vigy_spec s = spec;
    if (s.config_json.empty()) s.config_json = "{}";
    try {
        if (!value::from_json(s.config_json).is_map())
            vigy::fail(VIGY_INVALID_ARGUMENT, "config must be a JSON object");
    } catch (const json_error& e) {
        vigy::fail(VIGY_INVALID_ARGUMENT, std::string("config is not valid json: ") + e.what());
    }
    return s;
}

std::shared_ptr<const slot_spec> spec_interner::make(const vigy_info& rec) {
    auto s = std::make_shared<slot_spec>();
    s->key = rec.key;
    s->id = rec.id;
    s->name = rec.name;
    s->kind = rec.kind;
    s->revision = rec.revision;
    s->interval_ms = std::max<int64_t>(rec.interval_ms, store::min_interval_ms);
    s->state = state_of(rec);
    s->enabled = s->state == lifecycle_state::enabled;
    s->state_ms = rec.state_ms;
    s->created_ms = rec.created_ms;
    s->schedule_json = rec.schedule_json;
    s->schedule = std::make_shared<const schedule_spec>(schedule_of(rec));
    s->limits = rec.limits;
    if (!rec.allow.empty()) s->grants = std::make_shared<const capability_set>(rec.allow);
    {
        std::lock_guard lk(m_);
        auto& weak = configs_[rec.revision];
        s->config = weak.lock();
        if (!s->config || *s->config != rec.config_json) {
            s->config = std::make_shared<const std::string>(rec.config_json);
            weak = s->config;
        }
        if (configs_.size() > 1024)  // drop the entries whose texts are gone
            for (auto it = configs_.begin(); it != configs_.end();)
                it = it->second.expired() ? configs_.erase(it) : std::next(it);
    }
    return s;
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

const std::string& boot_id() {
    static const std::string id = [] {
        std::ifstream in("/proc/sys/kernel/random/boot_id");
        std::string s;
        std::getline(in, s);
        return s;
    }();
    return id;
}

int64_t boot_ms() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

bool holder_is_dead(const store::lease_info& lease, const std::string& host) {
    if (lease.host != host || lease.pid <= 0) return false;
    if (!lease.boot_id.empty() && !boot_id().empty() && lease.boot_id != boot_id()) return true;  // a previous boot
    return ::kill(static_cast<pid_t>(lease.pid), 0) != 0 && errno == ESRCH;
}

}  // namespace vigy::host::detail
