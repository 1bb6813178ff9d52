// ext_actions.cpp — the Actions extension (plugin vigy.actions): typed reconcile
// action verbs over the tick's action buffer (the runtime records actions;
// acting on them is the embedding application's job).
//   (vigy-noop)             -> noop, result ok
//   (vigy-defer reason)     -> defer, result skipped, message reason
//   (vigy-pull [payload]) … (vigy-restart [payload]), (vigy-delete-action [payload])
//                           -> that kind with the payload (absent when not given)
//   (vigy-emit kind [payload]) -> any valid kind; result and message absent
// Every verb returns nil.
#include "ext_common.hpp"

#include <array>

namespace vigy::ext {
namespace {

constexpr std::array<std::string_view, 10> kinds = {"noop",   "defer",  "pull",  "push",    "create",
                                                    "update", "delete", "apply", "restart", "custom"};
constexpr const char* kinds_list = "noop, defer, pull, push, create, update, delete, apply, restart, custom";

vigy_value noop(const call_args& args, tick_ref t) {
    host_call(args, [&] { t.emit_action("noop", nullptr, sdk::str("ok")); });
    return vigy_nil();
}

vigy_value defer(const call_args& args, tick_ref t) {
    std::string_view reason = args.string(0, "reason");
    host_call(args, [&] { t.emit_action("defer", nullptr, sdk::str("skipped"), sdk::str(reason)); });
    return vigy_nil();
}

template <const char* Kind>
vigy_value payload_verb(const call_args& args, tick_ref t) {
    const vigy_value* payload = args.has(0) ? &args[0] : nullptr;
    host_call(args, [&] { t.emit_action(Kind, payload); });
    return vigy_nil();
}

vigy_value emit(const call_args& args, tick_ref t) {
    std::string_view kind = args.string(0, "kind");
    bool valid = false;
    for (std::string_view k : kinds) valid = valid || k == kind;
    if (!valid)
        bad_argument(args, 0, "kind",
                     "must be one of " + std::string(kinds_list) + ", got \"" + std::string(kind) + "\"");
    const vigy_value* payload = args.has(1) ? &args[1] : nullptr;
    host_call(args, [&] { t.emit_action(kind, payload); });
    return vigy_nil();
}

constexpr char k_pull[] = "pull";
constexpr char k_push[] = "push";
constexpr char k_create[] = "create";
constexpr char k_update[] = "update";
constexpr char k_delete[] = "delete";
constexpr char k_apply[] = "apply";
constexpr char k_restart[] = "restart";

constexpr vigy_intrinsic table[] = {
    sdk::intrinsic<noop>("vigy-noop", 0, 0, "(vigy-noop) -> nil; records a noop action with result ok"),
    sdk::intrinsic<defer>("vigy-defer", 1, 1, "(vigy-defer reason) -> nil; records a defer action, result skipped"),
    sdk::intrinsic<payload_verb<k_pull>>("vigy-pull", 0, 1, "(vigy-pull [payload]) -> nil; records a pull action"),
    sdk::intrinsic<payload_verb<k_push>>("vigy-push", 0, 1, "(vigy-push [payload]) -> nil; records a push action"),
    sdk::intrinsic<payload_verb<k_create>>("vigy-create", 0, 1,
                                           "(vigy-create [payload]) -> nil; records a create action"),
    sdk::intrinsic<payload_verb<k_update>>("vigy-update", 0, 1,
                                           "(vigy-update [payload]) -> nil; records an update action"),
    sdk::intrinsic<payload_verb<k_delete>>("vigy-delete-action", 0, 1,
                                           "(vigy-delete-action [payload]) -> nil; records a delete action"),
    sdk::intrinsic<payload_verb<k_apply>>("vigy-apply", 0, 1, "(vigy-apply [payload]) -> nil; records an apply action"),
    sdk::intrinsic<payload_verb<k_restart>>("vigy-restart", 0, 1,
                                            "(vigy-restart [payload]) -> nil; records a restart action"),
    sdk::intrinsic<emit>("vigy-emit", 1, 2, "(vigy-emit kind [payload]) -> nil; records an action of any valid kind"),
};

}  // namespace
}  // namespace vigy::ext

VIGY_EXTENSION_PLUGIN("vigy.actions", "standard extension: typed reconcile action verbs", "actions",
                      "vigy-noop vigy-defer vigy-pull vigy-push vigy-create vigy-update vigy-delete-action vigy-apply "
                      "vigy-restart vigy-emit",
                      ::vigy::ext::table)
