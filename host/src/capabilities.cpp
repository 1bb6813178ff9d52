// Capability ids, grant sets and the message of a refused call.
#include "vigy/host/capabilities.hpp"

#include "vigy/sdk.hpp"

#include <algorithm>

namespace vigy::host {

bool is_default_capability(std::string_view id) noexcept {
    return std::find(default_capabilities.begin(), default_capabilities.end(), id) != default_capabilities.end();
}

std::optional<std::string> invalid_capability_id(std::string_view id) {
    auto invalid = [&](const char* why) { return "invalid capability id \"" + std::string(id) + "\": " + why; };
    if (id.empty()) return invalid("must not be empty");
    if (id.size() > 253) return invalid("longer than 253 bytes");
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-';
        if (!ok) return invalid("only letters, digits, '.', '_' and '-' are allowed");
    }
    auto edge = [](char c) { return c == '.' || c == '-'; };
    if (edge(id.front()) || edge(id.back())) return invalid("must not start or end with '.' or '-'");
    return std::nullopt;
}

std::string not_granted_message(std::string_view intrinsic, std::string_view capability) {
    std::string m;
    m.reserve(intrinsic.size() + 2 * capability.size() + 64);
    m.append(intrinsic).append(": capability ").append(capability);
    m.append(" is not granted to this vigy (grant it with --allow ").append(capability).append(")");
    return m;
}

capability_set::capability_set(std::vector<std::string> extra) {
    for (const std::string& id : extra)
        if (auto why = invalid_capability_id(id)) throw vigy::sdk::status_error(VIGY_INVALID_ARGUMENT, *why);
    extra.erase(
        std::remove_if(extra.begin(), extra.end(), [](const std::string& id) { return is_default_capability(id); }),
        extra.end());
    std::sort(extra.begin(), extra.end());
    extra.erase(std::unique(extra.begin(), extra.end()), extra.end());
    extra_ = std::move(extra);
}

bool capability_set::allows(std::string_view id) const noexcept {
    return is_default_capability(id) || std::binary_search(extra_.begin(), extra_.end(), id);
}

}  // namespace vigy::host
