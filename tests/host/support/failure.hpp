// Test helper: run something that should throw a host status_error and get it
// back as "<status>: <message>" for one CHECK.
#pragma once

#include "vigy/host/reconciler.hpp"

#include <string>

namespace vigy::test {

/// Runs `f`, expecting a status_error; returns it as "<status>: <message>", or
/// "no error" when nothing was thrown.
template <class F>
std::string failure(F&& f) {
    try {
        f();
    } catch (const vigy::host::status_error& e) {
        return std::string(vigy_status_name(e.code())) + ": " + e.what();
    }
    return "no error";
}

}  // namespace vigy::test
