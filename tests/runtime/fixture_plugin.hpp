// tests/runtime/fixture_plugin.hpp — an in-process plugin for the runtime tests.
//
// Kind "fx": a counter reconciler with knobs in its JSON config:
//   {"sleep_ms": N}         the tick takes N ms of the test clock (fx::use_clock)
//   {"gate": true}          the tick waits until fx::gate().open() (a tick in flight)
//   {"fail": true}          every tick fails with "fixture failure N"
//   {"fail_first": N}       the first N ticks of this instance fail, then it succeeds
//   {"fail_status": "s"}    failures carry the status named s (default failed-precondition)
//   {"print": "text"}       set_output(text) before anything else (also when failing)
//   {"bad_utf8": "where"}   hands invalid UTF-8 to the host: "log", "kv", "output"
//   {"echo_grants": true}   the output names the tick's grants ("defaults" when none)
//   {"build_error": "m"}    create() fails with INVALID_ARGUMENT "m" (a compile error)
// Every ok tick: kv "count" += 1, one noop action, one info log line "tick N", condition
// Ready=True, output N.
#ifndef VIGY_TESTS_RUNTIME_FIXTURE_PLUGIN_HPP
#define VIGY_TESTS_RUNTIME_FIXTURE_PLUGIN_HPP

#include "vigy/host/clock.hpp"
#include "vigy/plugin.h"

#include <condition_variable>
#include <memory>
#include <mutex>

namespace fx {

/// The fixture plugin's entry (a static plugin: runtime_options::static_plugins).
const vigy_plugin_descriptor* entry(uint32_t host_abi_version);

/// The clock "sleep_ms" advances (nullptr: none; the tick then takes no time).
void use_clock(std::shared_ptr<vigy::host::manual_clock> clock);

/// A gate ticks with {"gate": true} wait at.
class gate_t {
public:
    /// Blocks until open() (called by the fixture's tick).
    void pass();
    void open();
    void close();
    /// Waits until `n` ticks wait at the gate.
    void wait_waiting(int n);

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
    int waiting_ = 0;
};
gate_t& gate();

}  // namespace fx

#endif
