// tests/runtime/fixture_plugin.hpp — an in-process plugin for the runtime tests.
//
// Kind "fx": a counter reconciler with knobs in its JSON config:
//   {"sleep_ms": N}       sleep N ms per tick (a slow tick)
//   {"fail": true}        every tick fails with "fixture failure N"
//   {"fail_first": N}     the first N ticks of this instance fail, then it succeeds
//   {"build_error": "m"}  create() fails with INVALID_ARGUMENT "m" (a compile error)
// Every ok tick: kv "count" += 1, one noop action, one info log line "tick N".
#ifndef VIGY_TESTS_RUNTIME_FIXTURE_PLUGIN_HPP
#define VIGY_TESTS_RUNTIME_FIXTURE_PLUGIN_HPP

#include "vigy/plugin.h"

namespace fx {
/// The fixture plugin's entry (a static plugin: runtime_options::static_plugins).
const vigy_plugin_descriptor* entry(uint32_t host_abi_version);
}  // namespace fx

#endif
