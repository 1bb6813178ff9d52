// cli/cmd_cluster.cpp — `vigy cluster status`: the hosts serving a PostgreSQL database in
// cluster mode (vigy serve --cluster), their shards, epochs, last heartbeats and vigies,
// as the database has them (runtime::cluster).
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"

#include "vigy/api/resources.hpp"

#include <rapidjson/stringbuffer.h>
#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <iostream>

namespace vigy::cli {
namespace {

/// "0-3,7,9-12" for sorted shard numbers.
std::string ranges(const std::vector<int>& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t j = i;
        while (j + 1 < s.size() && s[j + 1] == s[j] + 1) ++j;
        out += (out.empty() ? "" : ",") + std::to_string(s[i]) + (j > i ? "-" + std::to_string(s[j]) : "");
        i = j + 1;
    }
    return out.empty() ? "-" : out;
}

int run_cluster_status(context& ctx) {
    // An SQLite path has no cluster: refused before anything is opened (or created).
    if (!is_postgresql_url(ctx.db_path()))
        vigy::fail(VIGY_FAILED_PRECONDITION, "cluster mode needs a PostgreSQL database (--db postgresql://...); " +
                                                 ctx.db_path() +
                                                 " is an SQLite path, which one vigy serve uses at a time (nothing "
                                                 "was opened or created)");
    auto rt = ctx.open_runtime(runtime_use::read_only);
    const host::cluster_info c = rt->cluster();
    const store::cluster_view& v = c.view;
    std::map<std::string, std::vector<int>> shards_of;
    for (const auto& l : v.shards)
        if (!l.owner.empty()) shards_of[l.owner].push_back(l.shard);
    int free = 0;
    for (const auto& l : v.shards) free += l.owner.empty() ? 1 : 0;
    if (ctx.json()) {  // as GET /v1/cluster
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        api::write_cluster(w, c);
        print_json(std::cout, text(buf));
        return exit_ok;
    }
    std::cout << store::display_path(ctx.db_path()) << ": " << v.shard_count << " shards, " << v.hosts.size() << " host"
              << (v.hosts.size() == 1 ? "" : "s") << ", " << free << " shard" << (free == 1 ? "" : "s") << " free\n";
    if (v.hosts.empty()) {
        std::cout << "no host has joined (vigy serve --cluster)\n";
        return exit_ok;
    }
    std::cout << fmt::format("{:<44} {:>5} {:>8} {:>7} {:>6} {:>11}  {}\n", "HOST", "LIVE", "PID", "SHARDS", "VIGIES",
                             "HEARTBEAT", "SHARDS (EPOCH MAX)");
    for (const auto& h : v.hosts) {
        int64_t top = 0;
        for (const auto& l : v.shards)
            if (l.owner == h.owner) top = std::max(top, l.epoch);
        const auto& mine = shards_of[h.owner];
        std::cout << fmt::format("{:<44} {:>5} {:>8} {:>7} {:>6} {:>11}  {} ({})\n", h.owner, h.live ? "yes" : "no",
                                 h.pid, mine.size(),
                                 c.vigies_by_owner.count(h.owner) ? c.vigies_by_owner.at(h.owner) : 0,
                                 human_age(v.now_ms - h.heartbeat_ms) + " ago", ranges(mine), top);
    }
    if (c.vigies_unowned) std::cout << c.vigies_unowned << " vigies in free shards (not ticked until taken)\n";
    return exit_ok;
}

void add_cluster(CLI::App& root, context& ctx) {
    auto* cl = root.add_subcommand("cluster", "cluster mode on PostgreSQL (status)");
    cl->require_subcommand(1);
    auto* status = cl->add_subcommand("status", "hosts, their shards and epochs, heartbeats and vigies per host");
    status->footer(std::string("Reads the cluster tables of a PostgreSQL database served by vigy serve --cluster\n"
                               "hosts (docs/cluster.md): every host with its last heartbeat (the database's clock),\n"
                               "the shards it leases and their highest epoch, and how many vigies those shards\n"
                               "hold. -o json adds every shard lease.\n\n"
                               "exit status: 0; 1 when the database is SQLite (no cluster mode: refused before\n"
                               "anything is opened or created) or unreachable.") +
                   "\n\n" + global_options_help);
    set_action(status, ctx, [&ctx] { return run_cluster_status(ctx); });
}

}  // namespace

VIGY_CLI_COMMAND(add_cluster);

}  // namespace vigy::cli
