// tests/e2e/test_cluster.cpp — cluster mode with the real binary on a real PostgreSQL 15:
// three `vigy serve --cluster` hosts over a few hundred counters. Every vigy ticks on
// exactly one host; kill -9 of a host fails its vigies over to the others within two
// lease periods (measured and printed); a host SIGSTOPped past its lease loses its shards,
// nothing it commits late lands, and it rejoins; joining and leaving hosts rebalance.
// For every counter, tick_count over its ok runs is 1..N and its kv equals its ok runs.
// [postgresql]: ctest e2e_postgresql runs it through tests/support/with-postgres.sh.
#include "pg_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace e2e;

namespace {

constexpr int vigies = 300;
constexpr int64_t lease_ms = 3000;  // short leases: failover in seconds, not 15 s

const std::vector<std::string> cluster_flags = {"--cluster", "--lease-duration",
                                                "3s",        "--renew-deadline",
                                                "2s",        "--retry-period",
                                                "500ms",     "--listen",
                                                "none",      "-o",
                                                "json",      "--keep-runs",
                                                "0"};

/// One serve --cluster host and what it ticked (its run events, read from its stdout).
struct host {
    std::unique_ptr<process> p;
    std::size_t parsed = 0;                  // stdout bytes parsed so far
    std::map<std::string, int64_t> last_at;  // vigy name -> mono ms its last run event was read
    std::string owner_pid() const { return std::to_string(p->pid()); }
};

void pump(std::vector<host*> hs) {
    for (host* h : hs) {
        if (!h->p) continue;
        h->p->pump(0);
        const std::string& out = h->p->out();
        const std::size_t end = out.rfind('\n');
        if (end == std::string::npos || end + 1 <= h->parsed) continue;
        const int64_t now = mono_ms();
        for (const auto& line : lines(out.substr(h->parsed, end + 1 - h->parsed))) {
            const auto at = line.find("\"vigy_name\":\"");
            if (line.rfind("{\"event\":\"run\"", 0) != 0 || at == std::string::npos) continue;
            const auto b = at + 13;
            h->last_at[line.substr(b, line.find('"', b) - b)] = now;
        }
        h->parsed = end + 1;
    }
}

/// Waits (pumping every host) until `pred` holds; REQUIREs it within `timeout_ms`.
void await(std::vector<host*> hs, const std::function<bool()>& pred, int timeout_ms, const std::string& what) {
    INFO("waiting for " << what);
    REQUIRE(eventually(
        [&] {
            pump(hs);
            return pred();
        },
        timeout_ms));
}

/// The vigies each live host ticked in the window since `since` (mono ms).
std::vector<std::set<std::string>> ticked_since(const std::vector<host*>& hs, int64_t since) {
    std::vector<std::set<std::string>> out;
    for (host* h : hs) {
        std::set<std::string> s;
        for (const auto& [name, at] : h->last_at)
            if (at >= since) s.insert(name);
        out.push_back(std::move(s));
    }
    return out;
}

struct balance {
    int live = 0, free = 0, min = 1 << 30, max = 0;
    std::map<int64_t, int> shards_by_pid;
};

balance cluster_balance(const pg_fixture& fx) {
    const result r = fx.run({"cluster", "status", "-o", "json"});
    balance b;
    if (r.code != 0) return b;
    const auto doc = parse_json(r.out);
    for (const auto& h : field(*doc, "hosts").GetArray()) {
        if (!field(h, "live").GetBool()) continue;
        const int n = static_cast<int>(field(h, "shards").Size());
        ++b.live;
        b.min = std::min(b.min, n);
        b.max = std::max(b.max, n);
        b.shards_by_pid[num(h, "pid")] = n;
    }
    for (const auto& s : field(*doc, "shards").GetArray()) b.free += field(s, "owner").IsNull() ? 1 : 0;
    return b;
}

/// `hosts` live hosts, every shard held, none above its share ceil(64 / hosts) (so
/// none below 64 - (hosts - 1) * share either: 22, 22, 20 for three).
bool balanced(const pg_fixture& fx, int hosts) {
    const balance b = cluster_balance(fx);
    const int share = (64 + hosts - 1) / hosts;
    return b.live == hosts && b.free == 0 && b.max <= share && b.min >= 64 - (hosts - 1) * share;
}

int64_t count(const pg_fixture& fx, const std::string& sql) { return pg_count(fx.url, sql); }

/// Vigies with no ok run started at or after `wall_ms` (database rows).
int64_t silent_since(const pg_fixture& fx, int64_t wall_ms) {
    return count(fx,
                 "SELECT count(*) FROM vigies v WHERE v.deleted = 0 AND NOT EXISTS (SELECT 1 FROM runs r WHERE "
                 "r.vid = v.vid AND r.result = 0 AND r.started_ms >= " +
                     std::to_string(wall_ms) + ")");
}

}  // namespace

TEST_CASE(
    "three serve --cluster hosts tick each counter on exactly one host through kill -9, a pause, a join and a leave",
    "[e2e][postgresql][needs-lisp][cluster]") {
    pg_fixture fx;
    {
        // a few hundred counters, registered by a few processes at once
        const std::string file = fx.program("counter.lisp", programs::counter);
        int next = 0;
        std::vector<std::unique_ptr<process>> batch;
        while (next < vigies || !batch.empty()) {
            while (next < vigies && batch.size() < 6)
                batch.push_back(
                    fx.start({"register", file, "--name", "c" + std::to_string(next++), "--every", "1000"}));
            auto p = std::move(batch.front());
            batch.erase(batch.begin());
            const auto rc = p->wait(30'000);
            INFO("register: " << p->err());
            REQUIRE(rc == 0);
        }
    }
    const result bad = fx.run({"serve", "--cluster", "--lease-duration", "1s", "--renew-deadline", "2s"});
    CHECK(bad.code == 2);  // usage: renew deadline must be below the lease duration
    CHECK(bad.err.find("--retry-period < --renew-deadline < --lease-duration") != std::string::npos);

    host a, b, c;
    auto start_host = [&](host& h) {
        std::vector<std::string> args = {"serve"};
        args.insert(args.end(), cluster_flags.begin(), cluster_flags.end());
        h.p = fx.start(args);
        h.parsed = 0;
        h.last_at.clear();
        INFO("serve --cluster: " << h.p->err());
        REQUIRE(h.p->wait_for_text("\"event\":\"ready\"", 20'000));
    };
    start_host(a);
    start_host(b);
    start_host(c);
    std::vector<host*> all = {&a, &b, &c};
    await(
        all, [&] { return balanced(fx, 3); }, 20'000, "3 hosts holding at most 22 shards each");

    // steady state: every vigy ticks, each on exactly one host
    {
        const int64_t since = mono_ms() + 1500;  // after the last rebalance's in-flight ticks
        await(
            all,
            [&] {
                if (mono_ms() < since + 2500) return false;
                std::set<std::string> any;
                for (const auto& s : ticked_since(all, since)) any.insert(s.begin(), s.end());
                return any.size() == static_cast<std::size_t>(vigies);
            },
            20'000, "every vigy to tick");
        const auto sets = ticked_since(all, since);
        std::size_t total = 0;
        for (const auto& s : sets) total += s.size();
        INFO("vigies ticked per host: " << sets[0].size() << ", " << sets[1].size() << ", " << sets[2].size());
        CHECK(total == static_cast<std::size_t>(vigies));  // disjoint: no vigy on two hosts
        for (const auto& s : sets) CHECK(s.size() > 50);
        // a tick from outside the cluster goes to the host holding the vigy's shard: one run
        // (test_cluster_ticks.cpp proves the routing in detail)
        const int64_t runs_before = count(fx, "SELECT count(*) FROM runs WHERE run_trigger = 1");
        const result t = fx.run({"tick", "c0"});
        INFO("vigy tick: " << t.code << " " << t.err);
        CHECK(t.code == 0);
        CHECK(count(fx, "SELECT count(*) FROM runs WHERE run_trigger = 1") == runs_before + 1);
        const result plain = fx.run({"serve", "--listen", "none"});
        CHECK(plain.code == 1);  // a lone scheduler beside live cluster hosts is refused
        CHECK(plain.err.find("cluster hosts are serving") != std::string::npos);
    }

    // kill -9 of one host: its vigies resume on the other two within two lease periods
    {
        const int64_t killed_wall = now_wall_ms();
        const int64_t t0 = mono_ms();
        c.p->kill_hard();
        c.p.reset();
        all = {&a, &b};
        await(
            all, [&] { return silent_since(fx, killed_wall) == 0; }, 30'000, "every vigy to tick after the kill");
        const int64_t failover = mono_ms() - t0;
        std::printf("cluster failover after kill -9: every vigy ticked again %lld ms after the kill (lease %lld ms)\n",
                    static_cast<long long>(failover), static_cast<long long>(lease_ms));
        std::fflush(stdout);
        CHECK(failover <= 2 * lease_ms);
        await(
            all, [&] { return balanced(fx, 2); }, 20'000, "2 hosts holding 32 shards each");
        CHECK(a.p->err().find("lost shard") == std::string::npos);
    }

    // SIGSTOP of a host past its lease (a partition), then SIGCONT
    {
        b.p->signal(SIGSTOP);
        const int64_t stopped_wall = now_wall_ms();
        std::vector<host*> only_a = {&a};
        await(
            only_a, [&] { return silent_since(fx, stopped_wall) == 0; }, 30'000, "a to tick every vigy");
        await(
            only_a, [&] { return cluster_balance(fx).shards_by_pid[a.p->pid()] == 64; }, 20'000, "a holding all");
        const int64_t resumed = mono_ms();
        b.p->signal(SIGCONT);
        await(
            all, [&] { return b.p->err().find("lost shard") != std::string::npos; }, 20'000,
            "b to log its lost shards");
        CHECK(b.p->err().find("another host took it over") != std::string::npos);
        await(
            all, [&] { return balanced(fx, 2); }, 20'000, "b to rejoin: 32 shards each");
        // b ticks again, and only its own shards
        await(
            all, [&] { return ticked_since({&b}, resumed + 3000).front().size() > 50 && mono_ms() > resumed + 6000; },
            30'000, "b ticking again");
        const auto sets = ticked_since(all, mono_ms() - 2000);
        for (const auto& name : sets[1]) CHECK(sets[0].count(name) == 0);
        std::size_t rejected = 0;
        for (std::size_t at = 0; (at = b.p->err().find("no longer holds shard", at)) != std::string::npos; ++at)
            ++rejected;
        std::printf("after SIGSTOP/SIGCONT: b's late runs rejected by fencing: %zu\n", rejected);
    }

    // a host joins: three again; then a leaves cleanly (SIGINT): its shards move at once
    {
        host d;
        start_host(d);
        all = {&a, &b, &d};
        await(
            all, [&] { return balanced(fx, 3); }, 20'000, "3 hosts again after d joined");
        const int64_t left_wall = now_wall_ms();
        const int64_t t0 = mono_ms();
        a.p->signal(SIGINT);
        {
            INFO(a.p->err());
            REQUIRE(a.p->wait(20'000) == 0);
        }
        all = {&b, &d};
        await(
            all, [&] { return balanced(fx, 2); }, 20'000, "2 hosts after a left");
        await(
            all, [&] { return silent_since(fx, left_wall) == 0; }, 30'000, "every vigy to tick after a left");
        std::printf("cluster: after a clean leave every vigy ticked again in %lld ms\n",
                    static_cast<long long>(mono_ms() - t0));
        for (host* h : all) {
            h->p->signal(SIGINT);
            REQUIRE(h->p->wait(20'000) == 0);
        }
    }
    require_counters_consistent(fx, vigies);
    const auto status = fx.run({"cluster", "status"});
    INFO(status.out << status.err);
    CHECK(status.code == 0);
    CHECK(status.out.find("64 shards") != std::string::npos);
}
