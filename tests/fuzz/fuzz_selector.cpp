// libFuzzer target: the Kubernetes label-selector parser (store/include/vigy/store/labels.hpp).
//
// Properties: arbitrary bytes never crash; a malformed selector fails only with
// status_error INVALID_ARGUMENT; a selector that parses prints a canonical text that
// parses back to an equal selector; the labels its `=` requirements name satisfy
// those requirements (when they agree on each key).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "vigy/error.hpp"
#include "vigy/store/labels.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace store = vigy::store;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    store::label_selector sel;
    try {
        sel = store::parse_selector(text);
    } catch (const vigy::status_error& e) {
        if (e.code() != VIGY_INVALID_ARGUMENT) std::abort();
        return 0;
    }
    // canonical text round-trips
    if (!(store::parse_selector(sel.to_string()) == sel)) std::abort();
    // labels built from the equality requirements satisfy every one of them
    store::label_map labels;
    bool consistent = true;
    for (const auto& r : sel.requirements) {
        if (r.operation != store::selector_requirement::op::equals) continue;
        auto [it, fresh] = labels.emplace(r.key, r.values.front());
        if (!fresh && it->second != r.values.front()) consistent = false;
    }
    if (consistent) {
        for (const auto& r : sel.requirements) {
            if (r.operation != store::selector_requirement::op::equals) continue;
            store::label_selector one;
            one.requirements.push_back(r);
            if (!one.matches(labels)) std::abort();
        }
    }
    return 0;
}
