// A fake vigy_tick for host and plugin tests: records every action, log line
// and kv write a reconciler makes, so tests can assert on them. The real tick
// context lives in host/ (tick_context.hpp); this one has no persistence.
#ifndef VIGY_TESTS_FAKE_TICK_HPP
#define VIGY_TESTS_FAKE_TICK_HPP

#include "vigy/tick.h"

#include <map>
#include <string>
#include <vector>

namespace vigy::test {

/// One recorded action (payload reduced to its type tag).
struct recorded_action {
    std::string kind;
    std::string message;  ///< "" when absent
    uint32_t payload_type = VIGY_NIL;
};

/// A vigy_tick whose slots record into plain containers. Single-threaded.
class fake_tick {
public:
    fake_tick() {
        handle_.base.struct_size = sizeof handle_.base;
        handle_.base.api = &api();
        handle_.owner = this;
    }
    fake_tick(const fake_tick&) = delete;
    fake_tick& operator=(const fake_tick&) = delete;

    vigy_tick* get() noexcept { return &handle_.base; }

    std::vector<recorded_action> actions;
    std::vector<std::string> logs;
    std::map<std::string, std::string> kv;  ///< kv_set values (strings only; other types as "<type>")
    std::string output;

    /// The action kinds, in order (for compact assertions).
    std::vector<std::string> action_kinds() const {
        std::vector<std::string> out;
        for (const auto& a : actions) out.push_back(a.kind);
        return out;
    }
    /// The action messages, in order.
    std::vector<std::string> action_messages() const {
        std::vector<std::string> out;
        for (const auto& a : actions) out.push_back(a.message);
        return out;
    }

private:
    /// Standard-layout: a vigy_tick* handed out is a pointer to `base`.
    struct handle {
        vigy_tick base;
        fake_tick* owner;
    };
    static fake_tick& self(vigy_tick* t) { return *reinterpret_cast<handle*>(t)->owner; }
    static std::string text(vigy_str s) { return s.ptr ? std::string(s.ptr, s.len) : std::string(); }

    static const vigy_tick_api& api() {
        static const vigy_tick_api a = [] {
            vigy_tick_api x{};
            x.struct_size = sizeof x;
            x.info = [](vigy_tick*, vigy_tick_info* out) {
                out->tick_start_ms = 1;
                out->previous_tick_ms = -1;
                out->tick_count = 1;
            };
            x.emit_action = [](vigy_tick* t, const vigy_action* a, vigy_error*) -> vigy_status {
                self(t).actions.push_back({text(a->kind), text(a->message), a->payload ? a->payload->type : VIGY_NIL});
                return VIGY_OK;
            };
            x.set_desired = [](vigy_tick*, vigy_str, const vigy_value*, vigy_error*) -> vigy_status { return VIGY_OK; };
            x.set_observed = [](vigy_tick*, vigy_str, const vigy_value*, vigy_error*) -> vigy_status {
                return VIGY_OK;
            };
            x.set_condition = [](vigy_tick*, vigy_str, int32_t, vigy_str, vigy_str, vigy_error*) -> vigy_status {
                return VIGY_OK;
            };
            x.log = [](vigy_tick* t, int32_t, vigy_str m, vigy_error*) -> vigy_status {
                self(t).logs.push_back(text(m));
                return VIGY_OK;
            };
            x.trace = [](vigy_tick*, vigy_str, const vigy_value*, vigy_error*) -> vigy_status { return VIGY_OK; };
            x.metric = [](vigy_tick*, vigy_str, double, vigy_error*) -> vigy_status { return VIGY_OK; };
            x.event = [](vigy_tick*, int32_t, vigy_str, vigy_str, vigy_error*) -> vigy_status { return VIGY_OK; };
            x.kv_get = [](vigy_tick*, vigy_str, const vigy_arena*, vigy_value*, vigy_error*) -> vigy_status {
                return VIGY_NOT_FOUND;
            };
            x.kv_set = [](vigy_tick* t, vigy_str k, const vigy_value* v, vigy_error*) -> vigy_status {
                self(t).kv[text(k)] =
                    v->type == VIGY_STRING ? text(v->as.str) : std::string("<") + vigy_type_name(v->type) + ">";
                return VIGY_OK;
            };
            x.kv_has = [](vigy_tick* t, vigy_str k) -> int32_t { return self(t).kv.count(text(k)) ? 1 : 0; };
            x.kv_del = [](vigy_tick* t, vigy_str k, vigy_error*) -> vigy_status {
                self(t).kv.erase(text(k));
                return VIGY_OK;
            };
            x.set_output = [](vigy_tick* t, vigy_str s) { self(t).output = text(s); };
            x.cancelled = [](vigy_tick*) -> int32_t { return 0; };
            return x;
        }();
        return a;
    }

    handle handle_{};
};

}  // namespace vigy::test

#endif  // VIGY_TESTS_FAKE_TICK_HPP
