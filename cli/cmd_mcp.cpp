// cli/cmd_mcp.cpp — `vigy mcp [--read-only]`: the MCP server over stdio. One JSON-RPC
// message per line on stdin, one response per line on stdout, logs on stderr only.
// Before anything else runs, the protocol stream is moved off fd 1: fd 1 is pointed
// at stderr, so nothing a plugin, a program or a library prints can reach the client.
#include "cli.hpp"

#include "vigy/api/mcp.hpp"

#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace vigy::cli {
namespace {

struct mcp_options {
    bool read_only = false;
    int64_t tick_wait_ms = 5000;
};

/// Moves the protocol stream off fd 1 and returns its new fd: fd 1 becomes a copy of
/// fd 2 (stderr). Exits 1 when the descriptors cannot be set up.
int take_protocol_stream() {
    std::fflush(stdout);
    std::cout.flush();
    const int proto = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (proto < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        vigy::fail(VIGY_INTERNAL, std::string("cannot set up the protocol stream on stdout: ") + std::strerror(errno));
    return proto;
}

/// Writes all of `s` to fd; false when the client went away.
bool write_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

int run_mcp(context& ctx, const mcp_options& o) {
    std::signal(SIGPIPE, SIG_IGN);  // a client that closed its end is a write error, not a kill
    const int proto = take_protocol_stream();
    auto rt = ctx.open_runtime(runtime_use::plugins);
    api::mcp::options mo;
    mo.read_only = o.read_only;
    mo.tick_wait_ms = o.tick_wait_ms;
    api::mcp::dispatcher mcp(*rt, mo);
    std::cerr << "vigy mcp: serving " << store::display_path(ctx.db_path()) << " on stdio"
              << (o.read_only ? " (read-only)" : "") << "\n";
    std::string line;
    while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const auto r = mcp.handle(line);
        if (r.json.empty()) continue;
        if (!write_all(proto, r.json + "\n")) break;
    }
    ::close(proto);
    return exit_ok;
}

void add_mcp(CLI::App& root, context& ctx) {
    auto o = std::make_shared<mcp_options>();
    auto* sub = root.add_subcommand("mcp", "serve the Model Context Protocol on stdin/stdout (for AI clients)");
    sub->footer(std::string("An MCP server (protocol 2025-11-25, 2025-06-18, 2025-03-26) for AI clients:\n"
                            "JSON-RPC messages, one per line, on stdin; responses on stdout; logs on\n"
                            "stderr only (what programs print is captured in their runs). Tools:\n"
                            "vigy_register, vigy_list, vigy_inspect, vigy_tick, vigy_enable, vigy_disable,\n"
                            "vigy_delete, vigy_eval, vigy_check, vigy_runs, vigy_plugins. With --read-only\n"
                            "only vigy_list, vigy_inspect, vigy_eval, vigy_check, vigy_runs and\n"
                            "vigy_plugins are offered. Ticks run on `vigy serve` when it serves the\n"
                            "database. The same server is POST /mcp on `vigy serve --listen`.\n\n"
                            "A client's configuration (e.g. Claude Desktop's mcpServers):\n"
                            "  {\"vigy\": {\"command\": \"vigy\", \"args\": [\"mcp\", \"--db\", \"/path/vigy.db\"]}}\n"
                            "See docs/mcp.md. Exits 0 at the end of stdin.") +
                "\n\n" + global_options_help);
    sub->add_flag("--read-only", o->read_only, "offer only the tools that change nothing");
    sub->add_option("--tick-wait-ms", o->tick_wait_ms,
                    "vigy_tick: how long to wait for a running serve to take the tick")
        ->type_name("MS")
        ->default_val(5000);
    set_action(sub, ctx, [&ctx, o] { return run_mcp(ctx, *o); });
}

}  // namespace

VIGY_CLI_COMMAND(add_mcp);

}  // namespace vigy::cli
