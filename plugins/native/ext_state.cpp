// ext_state.cpp — the State extension (plugin vigy.state): structured state
// the tick declares — desired and observed values and Kubernetes-style
// conditions (latest per type wins; last_transition moves only when the status
// changes, as in Kubernetes).
//   (vigy-desired key value)  -> nil; desired[key] = value (later writes win)
//   (vigy-observed key value) -> nil; observed[key] = value
//   (vigy-condition type status [reason [message]]) -> nil
//       status: "true" | "false" | "unknown" (string, symbol or keyword, any
//       case) or #t / #f; nil reason/message mean absent.
#include "ext_common.hpp"

namespace vigy::ext {
namespace {

vigy_value desired(const call_args& args, tick_ref t) {
    std::string_view key = key_arg(args, 0, "key");
    host_call(args, [&] { t.set_desired(key, args[1]); });
    return vigy_nil();
}

vigy_value observed(const call_args& args, tick_ref t) {
    std::string_view key = key_arg(args, 0, "key");
    host_call(args, [&] { t.set_observed(key, args[1]); });
    return vigy_nil();
}

int32_t condition_status(const call_args& args) {
    const vigy_value& v = args[1];
    if (v.type == VIGY_BOOL) return v.as.b ? VIGY_CONDITION_TRUE : VIGY_CONDITION_FALSE;
    if (!sdk::is_stringish(v)) args.type_error(1, "status", "\"true\", \"false\", \"unknown\" or a bool");
    std::string s = lower(sdk::view(v.as.str));
    if (s == "true") return VIGY_CONDITION_TRUE;
    if (s == "false") return VIGY_CONDITION_FALSE;
    if (s == "unknown") return VIGY_CONDITION_UNKNOWN;
    bad_argument(args, 1, "status", "must be true, false or unknown, got \"" + std::string(sdk::view(v.as.str)) + "\"");
}

vigy_value condition(const call_args& args, tick_ref t) {
    std::string_view type = key_arg(args, 0, "type");
    int32_t status = condition_status(args);
    vigy_str reason = args.optional_string(2, "reason");
    vigy_str message = args.optional_string(3, "message");
    host_call(args, [&] { t.set_condition(type, status, reason, message); });
    return vigy_nil();
}

constexpr vigy_intrinsic table[] = {
    sdk::intrinsic<desired>("vigy-desired", 2, 2, "(vigy-desired key value) -> nil; declares desired[key]"),
    sdk::intrinsic<observed>("vigy-observed", 2, 2, "(vigy-observed key value) -> nil; records observed[key]"),
    sdk::intrinsic<condition>("vigy-condition", 2, 4,
                              "(vigy-condition type status [reason [message]]) -> nil; status true|false|unknown"),
};

}  // namespace
}  // namespace vigy::ext

VIGY_EXTENSION_PLUGIN("vigy.state", "standard extension: desired/observed state and conditions", "state",
                      "vigy-desired vigy-observed vigy-condition", ::vigy::ext::table)
