// mado_tear.cpp — ext-mado: the mado application's own vigy intrinsics, over
// tmux ("tear" sessions). The worked example of "apps ship their own intrinsic
// plugin": sdk headers only, built with vigy_add_plugin().
//
// Configuration (read at every call, so one process can point at several servers):
//   VIGY_MADO_TMUX_SOCKET  tmux server socket path (tmux -S <path>); unset or
//                          empty = tmux's default socket
//   VIGY_MADO_TMUX         the tmux executable (default "tmux", looked up in PATH)
//
// Intrinsics (string arguments accept strings, symbols and keywords):
//   (mado-tear-list-sessions)
//       -> list of maps {"name" str, "windows" int, "attached" bool, "created" int epoch s},
//          in tmux's order; an empty list when no server is running
//   (mado-tear-create name [command])
//       -> name; a new detached session (running `command` through tmux when
//          given). ALREADY_EXISTS when the session exists
//   (mado-tear-kill name)
//       -> #t; NOT_FOUND when there is no such session
//   (mado-tear-attach name)
//       -> map {"session" name, "switched" bool, "command" str}. A reconciler runs
//          without a terminal, so attach never blocks: when a tmux client is
//          connected to the server it is switched to the session
//          (`switch-client`, "switched" #t); otherwise nothing happens and
//          "switched" is #f. "command" is always the shell command a person runs
//          to attach (`tmux [-S sock] attach-session -t =name`). NOT_FOUND when
//          there is no such session.
//
// tmux runs through posix_spawnp with an argument vector (no shell), stdin
// /dev/null, stdout/stderr captured, a 10 s deadline (DEADLINE_EXCEEDED), and
// without TMUX/TMUX_PANE in its environment (the host is not a tmux client).
// A missing tmux is UNAVAILABLE. Session names are matched exactly (`=name`);
// names that are empty or contain ':' or '.' (which tmux rewrites) are refused.
// Thread-safe: no mutable state.
#include "vigy/sdk.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace mado {
namespace {

using vigy::sdk::call_args;
using vigy::sdk::fail;
using vigy::sdk::tick_ref;

constexpr int tmux_deadline_ms = 10000;

struct tmux_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return (v && *v) ? std::string(v) : std::string(fallback);
}

std::string tmux_binary() { return env_or("VIGY_MADO_TMUX", "tmux"); }
std::string tmux_socket() { return env_or("VIGY_MADO_TMUX_SOCKET", ""); }

/// The environment without TMUX / TMUX_PANE.
std::vector<char*> child_environment() {
    std::vector<char*> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        if (kv.rfind("TMUX=", 0) == 0 || kv.rfind("TMUX_PANE=", 0) == 0) continue;
        env.push_back(*e);
    }
    env.push_back(nullptr);
    return env;
}

struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

/// Runs tmux [-S socket] args... and collects its output. Throws status_error
/// (naming `who`) when tmux cannot be started or exceeds the deadline.
tmux_result run_tmux(const char* who, const std::vector<std::string>& args) {
    std::string bin = tmux_binary();
    std::string socket = tmux_socket();
    std::vector<std::string> argv_s{bin};
    if (!socket.empty()) {
        argv_s.emplace_back("-S");
        argv_s.push_back(socket);
    }
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp = child_environment();

    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) fail(VIGY_INTERNAL, std::string(who) + ": pipe: " + std::strerror(errno));
    fd_guard out_r{out_pipe[0]}, out_w{out_pipe[1]};
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) fail(VIGY_INTERNAL, std::string(who) + ": pipe: " + std::strerror(errno));
    fd_guard err_r{err_pipe[0]}, err_w{err_pipe[1]};

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_w.fd, 2);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, bin.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) fail(VIGY_UNAVAILABLE, std::string(who) + ": cannot run tmux (" + bin + "): " + std::strerror(rc));
    out_w.close();
    err_w.close();

    tmux_result r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(tmux_deadline_ms);
    bool timed_out = false;
    while (out_r.fd >= 0 || err_r.fd >= 0) {
        pollfd fds[2];
        nfds_t n = 0;
        if (out_r.fd >= 0) fds[n++] = pollfd{out_r.fd, POLLIN, 0};
        if (err_r.fd >= 0) fds[n++] = pollfd{err_r.fd, POLLIN, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        int pr = ::poll(fds, n, static_cast<int>(left.count()));
        if (pr < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (nfds_t i = 0; i < n; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            fd_guard& g = fds[i].fd == out_r.fd ? out_r : err_r;
            std::string& sink = fds[i].fd == out_r.fd ? r.out : r.err;
            char buf[4096];
            ssize_t got = ::read(g.fd, buf, sizeof buf);
            if (got > 0)
                sink.append(buf, static_cast<size_t>(got));
            else if (got == 0 || errno != EINTR)
                g.close();
        }
    }
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        fail(VIGY_DEADLINE_EXCEEDED,
             std::string(who) + ": tmux did not finish within " + std::to_string(tmux_deadline_ms) + " ms");
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

bool no_server(const tmux_result& r) {
    return r.err.find("no server running") != std::string::npos ||
           r.err.find("error connecting to") != std::string::npos ||
           r.err.find("server exited unexpectedly") != std::string::npos;
}

/// Fails UNAVAILABLE with tmux's own message.
[[noreturn]] void tmux_failed(const char* who, const tmux_result& r) {
    std::string msg = trimmed(r.err);
    if (msg.empty()) msg = "exit status " + std::to_string(r.exit_code);
    fail(VIGY_UNAVAILABLE, std::string(who) + ": tmux: " + msg);
}

std::string session_arg(const call_args& args, size_t i) {
    std::string_view name = args.string(i, "name");
    if (name.empty())
        fail(VIGY_INVALID_ARGUMENT,
             std::string(args.name()) + ": argument " + std::to_string(i + 1) + " (name) must not be empty");
    if (name.find_first_of(":.") != std::string_view::npos)
        fail(VIGY_INVALID_ARGUMENT, std::string(args.name()) + ": argument " + std::to_string(i + 1) +
                                        " (name) must not contain ':' or '.', got \"" + std::string(name) + "\"");
    return std::string(name);
}

bool session_exists(const char* who, const std::string& name) {
    tmux_result r = run_tmux(who, {"has-session", "-t", "=" + name});
    if (r.exit_code == 0) return true;
    if (no_server(r) || r.err.find("can't find session") != std::string::npos) return false;
    tmux_failed(who, r);
}

/// A shell-quoted word (for the human-readable attach command).
std::string shell_quote(const std::string& s) {
    bool plain = !s.empty() && s.find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                   "_-=/.,+@%") == std::string::npos;
    if (plain) return s;
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

// ---- intrinsics --------------------------------------------------------------------------

vigy_value list_sessions(const call_args& args, tick_ref) {
    tmux_result r = run_tmux(args.name(), {"list-sessions", "-F",
                                           "#{session_name}\t#{session_windows}\t#{session_attached}\t"
                                           "#{session_created}"});
    auto b = args.make();
    if (r.exit_code != 0) {
        if (no_server(r)) {
            vigy_value* none;
            return b.list(0, &none);
        }
        tmux_failed(args.name(), r);
    }
    std::vector<std::vector<std::string>> rows;
    size_t pos = 0;
    while (pos < r.out.size()) {
        size_t eol = r.out.find('\n', pos);
        if (eol == std::string::npos) eol = r.out.size();
        std::string line = r.out.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.empty()) continue;
        std::vector<std::string> fields;
        size_t f = 0;
        for (;;) {
            size_t tab = line.find('\t', f);
            fields.push_back(line.substr(f, tab == std::string::npos ? std::string::npos : tab - f));
            if (tab == std::string::npos) break;
            f = tab + 1;
        }
        if (fields.size() == 4) rows.push_back(std::move(fields));
    }
    vigy_value* items;
    vigy_value list = b.list(rows.size(), &items);
    for (size_t i = 0; i < rows.size(); ++i) {
        vigy_map_entry* es;
        items[i] = b.map(4, &es);
        es[0] = {b.string("name"), b.string(rows[i][0])};
        es[1] = {b.string("windows"), vigy_int(std::strtoll(rows[i][1].c_str(), nullptr, 10))};
        es[2] = {b.string("attached"), vigy_bool(std::strtoll(rows[i][2].c_str(), nullptr, 10) > 0)};
        es[3] = {b.string("created"), vigy_int(std::strtoll(rows[i][3].c_str(), nullptr, 10))};
    }
    return list;
}

vigy_value create(const call_args& args, tick_ref) {
    std::string name = session_arg(args, 0);
    std::vector<std::string> cmd{"new-session", "-d", "-s", name};
    if (args.has(1) && args[1].type != VIGY_NIL) cmd.emplace_back(args.string(1, "command"));
    if (session_exists(args.name(), name))
        fail(VIGY_ALREADY_EXISTS, std::string(args.name()) + ": session \"" + name + "\" already exists");
    tmux_result r = run_tmux(args.name(), cmd);
    if (r.exit_code != 0) {
        if (r.err.find("duplicate session") != std::string::npos)
            fail(VIGY_ALREADY_EXISTS, std::string(args.name()) + ": session \"" + name + "\" already exists");
        tmux_failed(args.name(), r);
    }
    return args.make().string(name);
}

vigy_value kill_session(const call_args& args, tick_ref) {
    std::string name = session_arg(args, 0);
    tmux_result r = run_tmux(args.name(), {"kill-session", "-t", "=" + name});
    if (r.exit_code != 0) {
        if (no_server(r) || r.err.find("can't find session") != std::string::npos)
            fail(VIGY_NOT_FOUND, std::string(args.name()) + ": no session \"" + name + "\"");
        tmux_failed(args.name(), r);
    }
    return vigy_bool(1);
}

vigy_value attach(const call_args& args, tick_ref) {
    std::string name = session_arg(args, 0);
    if (!session_exists(args.name(), name))
        fail(VIGY_NOT_FOUND, std::string(args.name()) + ": no session \"" + name + "\"");
    tmux_result clients = run_tmux(args.name(), {"list-clients", "-F", "#{client_name}"});
    bool switched = false;
    if (clients.exit_code == 0 && !trimmed(clients.out).empty()) {
        tmux_result r = run_tmux(args.name(), {"switch-client", "-t", "=" + name});
        if (r.exit_code != 0) tmux_failed(args.name(), r);
        switched = true;
    }
    std::string command = shell_quote(tmux_binary());
    if (!tmux_socket().empty()) command += " -S " + shell_quote(tmux_socket());
    command += " attach-session -t " + shell_quote("=" + name);
    auto b = args.make();
    vigy_map_entry* es;
    vigy_value out = b.map(3, &es);
    es[0] = {b.string("session"), b.string(name)};
    es[1] = {b.string("switched"), vigy_bool(switched)};
    es[2] = {b.string("command"), b.string(command)};
    return out;
}

constexpr vigy_intrinsic intrinsics[] = {
    vigy::sdk::intrinsic<list_sessions>("mado-tear-list-sessions", 0, 0,
                                        "(mado-tear-list-sessions) -> list of {\"name\" \"windows\" \"attached\" "
                                        "\"created\"} maps"),
    vigy::sdk::intrinsic<attach>("mado-tear-attach", 1, 1,
                                 "(mado-tear-attach name) -> {\"session\" \"switched\" \"command\"}; never blocks"),
    vigy::sdk::intrinsic<create>("mado-tear-create", 1, 2,
                                 "(mado-tear-create name [command]) -> name; a new detached tmux session"),
    vigy::sdk::intrinsic<kill_session>("mado-tear-kill", 1, 1, "(mado-tear-kill name) -> #t; kills the tmux session"),
};

constexpr vigy_host_extension pack{sizeof(vigy_host_extension),
                                   0,
                                   "mado",
                                   "mado tear sessions over tmux",
                                   sizeof(intrinsics) / sizeof(intrinsics[0]),
                                   intrinsics};
constexpr vigy_host_extension_list packs{sizeof(vigy_host_extension_list), 0, 1, &pack};

const void* get_extension(const char* id) noexcept {
    return (id && std::strcmp(id, VIGY_HOST_EXTENSION_ID) == 0) ? &packs : nullptr;
}

constexpr vigy_plugin_descriptor descriptor{VIGY_PLUGIN_MAGIC,
                                            sizeof(vigy_plugin_descriptor),
                                            VIGY_ABI_VERSION,
                                            0,
                                            "io.pleme.mado",
                                            "0.1.0",
                                            "mado's tear-session intrinsics over tmux",
                                            &vigy::sdk::remember_host,
                                            nullptr,
                                            &get_extension};

}  // namespace
}  // namespace mado

VIGY_DEFINE_PLUGIN(mado::descriptor)
