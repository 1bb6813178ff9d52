// tests/e2e/proc.hpp — drives the real `vigy` binary as a subprocess for the
// end-to-end tests: posix_spawn with pipes (or a pseudo-terminal for stdout),
// bounded waits everywhere, and children that are always killed (SIGKILL to
// their process group) when the test lets go of them.
//
// Threading: one test thread; nothing here is shared.
#ifndef VIGY_TESTS_E2E_PROC_HPP
#define VIGY_TESTS_E2E_PROC_HPP

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace e2e {

/// Paths baked in by CMake.
std::string vigy_bin();
std::string examples_dir();

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
/// destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    /// path()/name as a string.
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    /// Writes `text` to path()/name and returns the path.
    std::string write(const std::string& name, const std::string& text) const;

private:
    std::filesystem::path path_;
};

/// Environment changes for a child: "KEY=VALUE" sets, "KEY" alone unsets.
using env_changes = std::vector<std::string>;

/// Options for starting a child.
struct spawn_options {
    env_changes env;
    bool stdout_tty = false;  ///< stdout (and stderr) on a pseudo-terminal instead of pipes
    std::string cwd;          ///< empty = inherit
};

/// A running child. The destructor SIGKILLs its process group and reaps it.
class process {
public:
    process(std::vector<std::string> argv, const spawn_options& opts = {});
    ~process();
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    /// Reads whatever output is available, waiting at most `timeout_ms`.
    void pump(int timeout_ms);
    /// Pumps until `pred(stdout)` holds or `timeout_ms` passes; returns pred's last value.
    bool wait_for(const std::function<bool(const std::string&)>& pred, int timeout_ms);
    /// Waits until stdout contains `needle` (bounded).
    bool wait_for_text(const std::string& needle, int timeout_ms);
    /// Waits until stderr contains `needle` (bounded).
    bool wait_for_err_text(const std::string& needle, int timeout_ms);
    void signal(int sig);
    /// Waits for exit (pumping output); the exit status (128+signal when
    /// killed), or nullopt after `timeout_ms`.
    std::optional<int> wait(int timeout_ms);
    /// SIGKILL to the process group and reap (idempotent).
    void kill_hard();

    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }
    /// Lines of stdout so far (complete lines only).
    std::vector<std::string> out_lines() const;

private:
    void reap(int status);
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::optional<int> status_;
    std::string out_;
    std::string err_;
};

/// A finished command.
struct result {
    int code = -1;  ///< exit status; 128+signal if killed; -1 on timeout
    bool timed_out = false;
    std::string out;
    std::string err;
};

/// Runs `vigy args…` to completion (killing it after `timeout_ms`).
result vigy(const std::vector<std::string>& args, const spawn_options& opts = {}, int timeout_ms = 10'000);
/// Starts `vigy args…` in the background.
std::unique_ptr<process> start_vigy(const std::vector<std::string>& args, const spawn_options& opts = {});

/// Monotonic ms.
int64_t mono_ms();
/// Wall-clock ms since the Unix epoch (to compare with run timestamps).
int64_t now_wall_ms();
/// Sleeps `ms`.
void sleep_ms(int64_t ms);
/// Polls `pred` every 20 ms until it holds or `timeout_ms` passes.
bool eventually(const std::function<bool()>& pred, int timeout_ms);
/// Splits on '\n', dropping a trailing empty piece.
std::vector<std::string> lines(const std::string& s);

}  // namespace e2e

#endif  // VIGY_TESTS_E2E_PROC_HPP
