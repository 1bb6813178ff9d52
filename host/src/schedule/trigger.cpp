// host/src/schedule/trigger.cpp — `--on` trigger sources as data.
#include "vigy/host/schedule.hpp"

#include "vigy/sdk.hpp"

#include <algorithm>

namespace vigy::host {

namespace {

bool plain_text(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f || c == ' ';
    });
}

}  // namespace

const char* to_string(trigger_kind k) noexcept {
    switch (k) {
    case trigger_kind::event: return "event";
    case trigger_kind::condition: return "condition";
    case trigger_kind::manual: return "manual";
    }
    return "manual";
}

std::string trigger_spec::to_string() const {
    if (kind == trigger_kind::manual) return "manual";
    return std::string(host::to_string(kind)) + ":" + vigy + "/" + detail;
}

trigger_spec parse_trigger(std::string_view text) {
    const std::string shown = "--on " + std::string(text);
    const char* forms = "expected event:VIGY/Reason, condition:VIGY/Type or manual";
    trigger_spec t;
    if (text == "manual") return t;
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": " + forms);
    const std::string_view kind = text.substr(0, colon);
    const char* what = nullptr;
    if (kind == "event") {
        t.kind = trigger_kind::event;
        what = "event reason";
    } else if (kind == "condition") {
        t.kind = trigger_kind::condition;
        what = "condition type";
    } else {
        sdk::fail(VIGY_INVALID_ARGUMENT,
                  shown + ": unknown trigger kind \"" + std::string(kind) + "\" (" + forms + ")");
    }
    const std::string_view rest = text.substr(colon + 1);
    const std::size_t slash = rest.find('/');
    const std::string form = kind == "event" ? "event:VIGY/Reason" : "condition:VIGY/Type";
    if (slash == std::string_view::npos) sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": expected " + form);
    t.vigy = std::string(rest.substr(0, slash));
    t.detail = std::string(rest.substr(slash + 1));
    if (t.vigy.empty())
        sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": the vigy name before '/' is empty (expected " + form + ")");
    if (t.vigy.size() > 253 || !plain_text(t.vigy))
        sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": invalid vigy name \"" + t.vigy +
                                             "\" (at most 253 bytes, no blanks or control characters)");
    if (t.detail.empty())
        sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": the " + what + " after '/' is empty (use * for any)");
    if (t.detail.size() > 316 || !plain_text(t.detail))
        sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": invalid " + what + " \"" + t.detail +
                                             "\" (at most 316 bytes, no blanks or control characters)");
    if (t.kind == trigger_kind::event && t.detail.find('/') != std::string::npos)
        sdk::fail(VIGY_INVALID_ARGUMENT, shown + ": an event reason cannot contain '/'");
    return t;
}

}  // namespace vigy::host
