// cli_run.hpp — runs the real `vigy` binary in a child process (no shell),
// capturing stdout and stderr, for the end-to-end tests of tests/ext.
#ifndef VIGY_TESTS_EXT_CLI_RUN_HPP
#define VIGY_TESTS_EXT_CLI_RUN_HPP

#include <string>
#include <vector>

namespace vigy::test {

struct run_result {
    int exit_code = -1;  ///< the exit status, or 128 + signal
    std::string out;
    std::string err;
};

/// Runs VIGY_EXT_VIGY_BIN with `args` and this process's environment, stdin
/// from /dev/null; waits for it to exit.
run_result run_vigy(const std::vector<std::string>& args);

}  // namespace vigy::test

#endif
