// ext_diagnostics.cpp — the Diagnostics extension (plugin vigy.diagnostics):
// the vigy's own log, traces, metrics and events, persisted with the run.
//   (vigy-log level message)        -> nil; level trace|debug|info|warn|error
//   (vigy-trace key value)          -> nil; trace[key] = value
//   (vigy-metric name number)       -> nil; metrics[name] = number (int or float)
//   (vigy-event reason message [type]) -> nil; type "normal" (default) | "warning"
#include "ext_common.hpp"

namespace vigy::ext {
namespace {

vigy_value log(const call_args& args, tick_ref t) {
    std::string level = lower(args.string(0, "level"));
    int32_t l;
    if (level == "trace")
        l = VIGY_LOG_TRACE;
    else if (level == "debug")
        l = VIGY_LOG_DEBUG;
    else if (level == "info")
        l = VIGY_LOG_INFO;
    else if (level == "warn" || level == "warning")
        l = VIGY_LOG_WARN;
    else if (level == "error")
        l = VIGY_LOG_ERROR;
    else
        bad_argument(
            args, 0, "level",
            "must be one of trace, debug, info, warn, error, got \"" + std::string(args.string(0, "level")) + "\"");
    std::string_view message = args.string(1, "message");
    host_call(args, [&] { t.log(l, message); });
    return vigy_nil();
}

vigy_value trace(const call_args& args, tick_ref t) {
    std::string_view key = key_arg(args, 0, "key");
    host_call(args, [&] { t.trace(key, args[1]); });
    return vigy_nil();
}

vigy_value metric(const call_args& args, tick_ref t) {
    std::string_view name = key_arg(args, 0, "name");
    double v = args.number(1, "value");
    host_call(args, [&] { t.metric(name, v); });
    return vigy_nil();
}

vigy_value event(const call_args& args, tick_ref t) {
    std::string_view reason = key_arg(args, 0, "reason");
    std::string_view message = args.string(1, "message");
    int32_t type = VIGY_EVENT_NORMAL;
    if (args.has(2) && args[2].type != VIGY_NIL) {
        std::string s = lower(args.string(2, "type"));
        if (s == "warning")
            type = VIGY_EVENT_WARNING;
        else if (s != "normal")
            bad_argument(args, 2, "type",
                         "must be normal or warning, got \"" + std::string(args.string(2, "type")) + "\"");
    }
    host_call(args, [&] { t.event(type, reason, message); });
    return vigy_nil();
}

constexpr vigy_intrinsic table[] = {
    sdk::intrinsic<log>("vigy-log", 2, 2, "(vigy-log level message) -> nil; level trace|debug|info|warn|error"),
    sdk::intrinsic<trace>("vigy-trace", 2, 2, "(vigy-trace key value) -> nil; records trace[key]"),
    sdk::intrinsic<metric>("vigy-metric", 2, 2, "(vigy-metric name number) -> nil; records metrics[name]"),
    sdk::intrinsic<event>("vigy-event", 2, 3,
                          "(vigy-event reason message [type]) -> nil; type normal (default) or warning"),
};

}  // namespace
}  // namespace vigy::ext

VIGY_EXTENSION_PLUGIN("vigy.diagnostics", "standard extension: log, trace, metrics and events", "diagnostics",
                      "vigy-log vigy-trace vigy-metric vigy-event", ::vigy::ext::table)
