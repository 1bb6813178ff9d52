// tests/e2e/test_partition.cpp — a network partition between a `vigy serve --cluster`
// host and PostgreSQL, with the real binary on a real PostgreSQL 15: host p runs in a
// network namespace of its own and reaches the server over a veth pair
// (tests/support/with-netns.sh); host a runs beside the server. The link is cut past the
// lease (p keeps its TCP connections; its commits hang), then restored: a takes every
// shard meanwhile, p's late commits are rejected by fencing, p logs its lost shards and
// rejoins, and every counter's tick_count stays gap-free with no repeat.
// [netns] (and [postgresql], so the SQLite sets skip it; e2e_postgresql leaves out [netns]):
// ctest e2e_partition runs it through with-netns.sh and with-postgres.sh; it
// needs root (or CAP_NET_ADMIN) and fails, never skips, without network namespaces.
#include "pg_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace e2e;

namespace {

constexpr int vigies = 40;  // keys 1..40: shards 1..40, so both halves of 64 are used

const std::vector<std::string> host_flags = {"serve",
                                             "--cluster",
                                             "--lease-duration",
                                             "3s",
                                             "--renew-deadline",
                                             "2s",
                                             "--retry-period",
                                             "500ms",
                                             "--listen",
                                             "none",
                                             "-o",
                                             "json",
                                             "--keep-runs",
                                             "0"};

std::string env(const char* name) {
    const char* v = std::getenv(name);
    INFO(name << " is not set: run through tests/support/with-netns.sh tests/support/with-postgres.sh "
                 "(ctest -R e2e_partition, as root)");
    REQUIRE(v != nullptr);
    return v;
}

/// `ip ARGS...`, REQUIRing exit 0.
void ip(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {on_path("ip")};
    argv.insert(argv.end(), args.begin(), args.end());
    process p(argv);
    const auto rc = p.wait(10'000);
    INFO("ip: " << p.err());
    REQUIRE(rc == 0);
}

int64_t count(const pg_fixture& fx, const std::string& sql) { return pg_count(fx.url, sql); }

int64_t shards_of(const pg_fixture& fx, int64_t pid) {
    return count(fx, "SELECT count(*) FROM shard_leases WHERE owner IS NOT NULL AND pid = " + std::to_string(pid));
}

bool pump_until(const std::vector<process*>& ps, const std::function<bool()>& pred, int timeout_ms) {
    return eventually(
        [&] {
            for (process* p : ps) p->pump(0);
            return pred();
        },
        timeout_ms);
}

std::size_t occurrences(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = hay.find(needle, at)) != std::string::npos; ++at) ++n;
    return n;
}

}  // namespace

TEST_CASE("a host cut off from PostgreSQL past its lease is fenced out, loses nothing and rejoins",
          "[e2e][postgresql][netns][needs-lisp][cluster]") {
    const std::string ns = env("VIGY_TEST_NETNS");
    const std::string link = env("VIGY_TEST_NETNS_LINK");
    const std::string addr = env("VIGY_TEST_PG_LISTEN");
    pg_fixture fx;
    const std::string file = fx.program("counter.lisp", programs::counter);
    for (int i = 0; i < vigies; ++i) {
        const result r = fx.run({"register", file, "--name", "c" + std::to_string(i), "--every", "500"});
        INFO(r.err);
        REQUIRE(r.code == 0);
    }
    // a: beside the server (127.0.0.1); p: in the namespace, through the veth address
    auto a = fx.start(host_flags);
    REQUIRE(a->wait_for_text("\"event\":\"ready\"", 20'000));
    spawn_options in_ns = fx.opts;
    std::string db_ns = fx.db;
    db_ns.replace(db_ns.find("127.0.0.1"), 9, addr);
    in_ns.env.push_back("VIGY_DB=" + db_ns);
    std::vector<std::string> argv = {on_path("ip"), "netns", "exec", ns, vigy_bin()};
    argv.insert(argv.end(), host_flags.begin(), host_flags.end());
    auto p = std::make_unique<process>(argv, in_ns);
    {
        INFO("serve --cluster in " << ns << ": " << p->err());
        REQUIRE(p->wait_for_text("\"event\":\"ready\"", 20'000));
    }
    const std::vector<process*> both = {a.get(), p.get()};
    REQUIRE(pump_until(
        both, [&] { return shards_of(fx, a->pid()) == 32 && shards_of(fx, p->pid()) == 32; }, 20'000));
    {
        const bool ticking = pump_until(
            both, [&] { return occurrences(p->out(), "\"event\":\"run\"") > 20; }, 20'000);
        INFO("p's output:\n" << p->out().substr(0, 2000) << "\np's log:\n" << p->err());
        REQUIRE(ticking);
    }

    // cut the link past the lease: a takes every shard (its rounds judge p's lease by the
    // database's clock); p's connections stay open, its commits hang
    ip({"link", "set", link, "down"});
    const int64_t cut = mono_ms();
    REQUIRE(pump_until(
        both, [&] { return shards_of(fx, a->pid()) == 64; }, 20'000));
    const int64_t took = mono_ms() - cut;
    const int64_t cut_wall = now_wall_ms();
    REQUIRE(pump_until(
        both,
        [&] {
            return count(fx,
                         "SELECT count(*) FROM vigies v WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.vid = "
                         "v.vid AND r.result = 0 AND r.started_ms >= " +
                             std::to_string(cut_wall) + ")") == 0;
        },
        20'000));
    sleep_ms(2000);  // well past p's lease
    ip({"link", "set", link, "up"});
    const int64_t restored = mono_ms();
    std::printf("partition: a took every shard %lld ms after the cut\n", static_cast<long long>(took));
    std::fflush(stdout);

    // p notices, its late commits are rejected, and it rejoins
    {
        INFO("p's log:\n" << p->err());
        REQUIRE(pump_until(
            both, [&] { return p->err().find("lost shard") != std::string::npos; }, 60'000));
        REQUIRE(pump_until(
            both, [&] { return shards_of(fx, a->pid()) == 32 && shards_of(fx, p->pid()) == 32; }, 60'000));
        const std::size_t rejected = occurrences(p->err(), "no longer holds shard");
        std::printf(
            "partition: p rejoined %lld ms after the link came back; its late runs rejected by fencing: "
            "%zu\n",
            static_cast<long long>(mono_ms() - restored), rejected);
        std::fflush(stdout);
        CHECK(rejected >= 1);  // it kept ticking until its renew deadline: those commits hung, then were fenced
        const std::size_t runs_before = occurrences(p->out(), "\"event\":\"run\"");
        REQUIRE(pump_until(
            both, [&] { return occurrences(p->out(), "\"event\":\"run\"") > runs_before + 20; }, 20'000));
    }
    for (auto* h : both) {
        h->signal(SIGINT);
        INFO(h->err());
        REQUIRE(h->wait(20'000) == 0);
    }
    require_counters_consistent(fx, vigies);
}
