// libFuzzer target: the label-selector parser (store/include/vigy/store/store.hpp).
//
// Written against store's parse_selector/matches_selector of wave 1 (comma-separated
// k=v clauses); point it at the Kubernetes-syntax parser when that replaces them.
// Properties: arbitrary bytes never crash; a malformed selector is store::error
// (invalid_argument); a selector that parses matches a label map consistently with
// its clauses.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "vigy/store/store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace store = vigy::store;
    std::string_view selector(reinterpret_cast<const char*>(data), size);
    std::vector<std::pair<std::string, std::string>> clauses;
    try {
        clauses = store::parse_selector(selector);
    } catch (const store::error& e) {
        if (e.code() != store::error_code::invalid_argument) std::abort();
        return 0;
    }
    // The labels the selector asks for satisfy it; without one of them they do not.
    store::label_map labels;
    for (const auto& [k, v] : clauses) labels[k] = v;
    bool consistent = true;
    for (const auto& [k, v] : clauses)
        if (labels.at(k) != v) consistent = false;  // two clauses disagree on one key
    if (consistent && !store::matches_selector(labels, selector)) std::abort();
    if (!clauses.empty()) {
        labels.erase(clauses.front().first);
        if (store::matches_selector(labels, selector)) std::abort();
    }
    return 0;
}
