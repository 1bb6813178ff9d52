/// cli/signals.hpp — SIGINT/SIGTERM taken synchronously by the long-running commands
/// (serve, tail), so no signal handler runs on a runtime thread.
#ifndef VIGY_CLI_SIGNALS_HPP
#define VIGY_CLI_SIGNALS_HPP

namespace vigy::cli {

/// Blocks SIGINT and SIGTERM in the calling thread (and every thread it starts
/// later), so that wait_for_stop_signal can pick them up.
void block_stop_signals();
/// Unblocks them again (a second ctrl-c then kills the process the default way).
void unblock_stop_signals();
/// Waits up to `timeout_ms` for SIGINT/SIGTERM (blocked with block_stop_signals);
/// returns the signal number or 0 on timeout.
int wait_for_stop_signal(int timeout_ms);

}  // namespace vigy::cli

#endif  // VIGY_CLI_SIGNALS_HPP
