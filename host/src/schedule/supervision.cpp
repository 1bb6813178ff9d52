// host/src/schedule/supervision.cpp — lifecycle states and transitions, and
// the restart-intensity window (see supervision.hpp).
#include "vigy/host/supervision.hpp"

#include "vigy/sdk.hpp"

#include <algorithm>
#include <cctype>

namespace vigy::host {

namespace {

constexpr lifecycle_state all_states[] = {lifecycle_state::enabled, lifecycle_state::disabled,
                                          lifecycle_state::degraded, lifecycle_state::completed};

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

const char* to_string(lifecycle_state s) noexcept {
    switch (s) {
    case lifecycle_state::enabled: return "Enabled";
    case lifecycle_state::disabled: return "Disabled";
    case lifecycle_state::degraded: return "Degraded";
    case lifecycle_state::completed: return "Completed";
    }
    return "Enabled";
}

std::optional<lifecycle_state> parse_lifecycle_state(std::string_view s) noexcept {
    for (const lifecycle_state st : all_states)
        if (iequals(s, to_string(st))) return st;
    return std::nullopt;
}

lifecycle_state lifecycle_state_from_string(std::string_view s) {
    if (auto st = parse_lifecycle_state(s)) return *st;
    sdk::fail(VIGY_INVALID_ARGUMENT,
              "unknown lifecycle state \"" + std::string(s) + "\" (known: Enabled, Disabled, Degraded, Completed)");
}

const char* to_string(lifecycle_event e) noexcept {
    switch (e) {
    case lifecycle_event::enable: return "enable";
    case lifecycle_event::disable: return "disable";
    case lifecycle_event::reset: return "reset";
    case lifecycle_event::degrade: return "degrade";
    case lifecycle_event::cool_down_elapsed: return "cool-down-elapsed";
    case lifecycle_event::complete: return "complete";
    case lifecycle_event::reregister: return "reregister";
    }
    return "enable";
}

std::optional<lifecycle_state> transition(lifecycle_state s, lifecycle_event e) noexcept {
    using st = lifecycle_state;
    using ev = lifecycle_event;
    switch (e) {
    case ev::disable: return st::disabled;
    case ev::enable: return s == st::completed ? st::completed : st::enabled;
    case ev::reset: return s == st::degraded ? st::enabled : s;
    case ev::degrade:
        if (s == st::enabled || s == st::degraded) return st::degraded;
        return std::nullopt;
    case ev::cool_down_elapsed:
        if (s == st::degraded) return st::enabled;
        return std::nullopt;
    case ev::complete:
        if (s == st::enabled || s == st::completed) return st::completed;
        return std::nullopt;
    case ev::reregister: return s == st::disabled ? st::disabled : st::enabled;
    }
    return std::nullopt;
}

void supervision_spec::validate() const {
    if (max_failures < 0)
        sdk::fail(VIGY_INVALID_ARGUMENT,
                  "--max-failures " + std::to_string(max_failures) + " must be >= 0 (0 = never degrade)");
    if (max_failures > 1'000'000)
        sdk::fail(VIGY_INVALID_ARGUMENT, "--max-failures " + std::to_string(max_failures) + " must be at most 1000000");
    if (within_ms <= 0) sdk::fail(VIGY_INVALID_ARGUMENT, "--within " + std::to_string(within_ms) + "ms must be > 0");
    if (cool_down_ms < 0)
        sdk::fail(VIGY_INVALID_ARGUMENT, "--cool-down " + std::to_string(cool_down_ms) + "ms must be >= 0 (0 = none)");
}

bool failure_window::record(int64_t at_ms, bool ok, std::string_view error) {
    if (ok || spec_.max_failures == 0) return false;
    last_error_ = std::string(error);
    if (tripped_at_) return false;
    times_.push_back(at_ms);
    while (!times_.empty() && at_ms - times_.front() >= spec_.within_ms) times_.pop_front();
    while (times_.size() > static_cast<std::size_t>(spec_.max_failures)) times_.pop_front();
    if (times_.size() < static_cast<std::size_t>(spec_.max_failures)) return false;
    tripped_at_ = at_ms;
    return true;
}

std::optional<int64_t> failure_window::cool_down_until() const noexcept {
    if (!tripped_at_ || spec_.cool_down_ms == 0) return std::nullopt;
    return *tripped_at_ + spec_.cool_down_ms;
}

bool failure_window::cool_down_elapsed(int64_t now_ms) const noexcept {
    const auto until = cool_down_until();
    return until && now_ms >= *until;
}

void failure_window::clear() noexcept {
    times_.clear();
    last_error_.clear();
    tripped_at_.reset();
}

}  // namespace vigy::host
