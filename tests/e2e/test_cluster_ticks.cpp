// tests/e2e/test_cluster_ticks.cpp — forced ticks and triggers beside `vigy serve --cluster`
// hosts, with the real binary on a real PostgreSQL 15: `vigy tick NAME` from the CLI and
// POST /v1/vigies/NAME/tick on a host that does not hold the vigy's shard both go through
// the tick-request queue to the host that does, which runs the tick on the vigy's slot
// and marks the request done with its commit. A tick requested while the holder is
// SIGSTOPped past its lease runs once, on the host that takes the shard over; with no
// live host the requester fails UNAVAILABLE (exit 4) within a bounded wait, naming why.
// Every counter's tick_count stays gap-free with no repeat; every forced run is one
// successful request. [postgresql]: ctest e2e_postgresql runs it through
// tests/support/with-postgres.sh.
#include "pg_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace e2e;

namespace {

constexpr int vigies = 40;  // keys 1..40: shards 1..40, so both halves of 64 are used

const std::vector<std::string> host_flags = {"--cluster",
                                             "--lease-duration",
                                             "3s",
                                             "--renew-deadline",
                                             "2s",
                                             "--retry-period",
                                             "500ms",
                                             "--listen",
                                             "127.0.0.1:0",
                                             "-o",
                                             "json",
                                             "--keep-runs",
                                             "0"};

struct node {
    std::unique_ptr<process> p;
    std::string url;  // its API
};

node start_node(const pg_fixture& fx) {
    std::vector<std::string> args = {"serve"};
    args.insert(args.end(), host_flags.begin(), host_flags.end());
    node n;
    n.p = fx.start(args);
    INFO("serve --cluster: " << n.p->err());
    REQUIRE(n.p->wait_for_text("\"event\":\"ready\"", 20'000));
    const std::string& out = n.p->out();
    const auto at = out.find("\"url\":\"");
    REQUIRE(at != std::string::npos);
    n.url = out.substr(at + 7, out.find('"', at + 7) - at - 7);
    return n;
}

int64_t count(const pg_fixture& fx, const std::string& sql) { return pg_count(fx.url, sql); }

/// The pid of the host holding the shard of vigy `name`, 0 when the shard is free.
int64_t holder_pid(const pg_fixture& fx, const std::string& name) {
    return count(fx,
                 "SELECT coalesce(max(s.pid), 0) FROM shard_leases s JOIN vigies v ON s.shard = v.vid % 64 "
                 "WHERE s.owner IS NOT NULL AND v.name = '" +
                     name + "'");
}

/// Two live hosts holding 32 shards each.
bool two_balanced(const pg_fixture& fx) {
    return count(fx,
                 "SELECT count(*) FROM (SELECT owner FROM shard_leases WHERE owner IS NOT NULL GROUP BY owner "
                 "HAVING count(*) = 32) x") == 2;
}

int64_t live_hosts(const pg_fixture& fx) {
    return count(fx,
                 "SELECT count(*) FROM cluster_hosts WHERE expires_ms > CAST(floor(extract(epoch FROM now()) * "
                 "1000) AS BIGINT)");
}

int64_t forced_runs(const pg_fixture& fx, const std::string& name = {}) {
    return count(fx, "SELECT count(*) FROM runs r JOIN vigies v ON v.vid = r.vid WHERE r.run_trigger = 1" +
                         (name.empty() ? std::string() : " AND v.name = '" + name + "'"));
}

/// Pumps both hosts' output (so their pipes never fill) while waiting for `pred`.
bool await(const std::vector<node*>& ns, const std::function<bool()>& pred, int timeout_ms) {
    return eventually(
        [&] {
            for (node* n : ns)
                if (n->p) n->p->pump(0);
            return pred();
        },
        timeout_ms);
}

/// `vigy tick NAME -o json` succeeded with a forced ok run of NAME; returns its id.
std::string require_tick(const pg_fixture& fx, const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"tick", name, "-o", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const result r = fx.run(args, 30'000);
    INFO("vigy tick " << name << ": exit " << r.code << "\n" << r.out << r.err);
    REQUIRE(r.code == 0);
    const auto doc = parse_json(r.out);
    REQUIRE(doc);
    CHECK(str(*doc, "vigy_name") == name);
    CHECK(str(*doc, "trigger") == "forced");
    CHECK(str(*doc, "result") == "ok");
    return str(*doc, "id");
}

}  // namespace

TEST_CASE("forced ticks and triggers beside serve --cluster hosts run on the host holding the vigy's shard",
          "[e2e][postgresql][needs-lisp][cluster]") {
    pg_fixture fx;
    {
        const std::string file = fx.program("counter.lisp", programs::counter);
        int next = 0;
        std::vector<std::unique_ptr<process>> batch;
        while (next < vigies || !batch.empty()) {
            while (next < vigies && batch.size() < 4)
                batch.push_back(
                    fx.start({"register", file, "--name", "c" + std::to_string(next++), "--every", "1000"}));
            auto p = std::move(batch.front());
            batch.erase(batch.begin());
            const auto rc = p->wait(30'000);
            INFO("register: " << p->err());
            REQUIRE(rc == 0);
        }
    }
    node a = start_node(fx);
    node b = start_node(fx);
    std::vector<node*> both = {&a, &b};
    REQUIRE(await(
        both, [&] { return two_balanced(fx); }, 20'000));

    // one vigy held by each host
    std::string va, vb;
    for (int i = 0; i < vigies && (va.empty() || vb.empty()); ++i) {
        const std::string name = "c" + std::to_string(i);
        const int64_t pid = holder_pid(fx, name);
        if (pid == a.p->pid() && va.empty()) va = name;
        if (pid == b.p->pid() && vb.empty()) vb = name;
    }
    INFO("a (pid " << a.p->pid() << ") holds " << va << ", b (pid " << b.p->pid() << ") holds " << vb);
    REQUIRE(!va.empty());
    REQUIRE(!vb.empty());
    int64_t succeeded = 0;  // forced ticks that returned their run

    // `vigy tick` from outside the cluster: the run, committed by the holder of the shard
    for (int round = 0; round < 3; ++round) {
        for (const auto& [name, holder, other] : {std::tuple{va, &a, &b}, std::tuple{vb, &b, &a}}) {
            const std::string id = require_tick(fx, name);
            ++succeeded;
            CHECK(count(
                      fx, "SELECT count(*) FROM runs WHERE run_trigger = 1 AND run_id = decode('" + [&] {
                          std::string hex;
                          for (char c : id)
                              if (c != '-') hex += c;
                          return hex;
                      }() + "', 'hex')") == 1);
            // the holder committed it (its run events carry the run id), the other did not
            REQUIRE(await(
                both, [&] { return holder->p->out().find(id) != std::string::npos; }, 10'000));
            CHECK(other->p->out().find(id) == std::string::npos);
        }
    }
    CHECK(forced_runs(fx) == succeeded);

    // a trigger from outside is queued to the holder, which runs it with the payload
    {
        const result t = fx.run({"trigger", vb, "--payload", "7"});
        INFO("vigy trigger: " << t.code << " " << t.out << t.err);
        CHECK(t.code == 0);
        CHECK(await(
            both,
            [&] {
                return count(fx, "SELECT count(*) FROM runs r JOIN vigies v ON v.vid = r.vid WHERE v.name = '" + vb +
                                     "' AND r.trigger_kind = 'manual'") == 1;
            },
            10'000));
    }

    // the API of one host ticks a vigy the other holds: routed the same way, the run returned
    for (const auto& [via, name] : {std::pair{&a, vb}, std::pair{&b, va}}) {
        process curl(
            {on_path("curl"), "-sS", "-X", "POST", "-w", "\n%{http_code}", via->url + "/v1/vigies/" + name + "/tick"});
        const auto rc = curl.wait(30'000);
        INFO("curl: " << curl.out() << curl.err());
        REQUIRE(rc == 0);
        const std::string& out = curl.out();
        const auto nl = out.rfind('\n');
        CHECK(out.substr(nl + 1) == "200");
        const auto doc = parse_json(out.substr(0, nl));
        REQUIRE(doc);
        CHECK(str(*doc, "vigy_name") == name);
        CHECK(str(*doc, "trigger") == "forced");
        ++succeeded;
    }
    CHECK(forced_runs(fx) == succeeded);

    // b is paused (SIGSTOP) past its lease: a tick of b's vigy requested now is run once,
    // by a once it has taken b's shards over
    {
        const int64_t before = forced_runs(fx, vb);
        b.p->signal(SIGSTOP);
        const int64_t t0 = mono_ms();
        const std::string id = require_tick(fx, vb, {"--wait-ms", "20000"});
        ++succeeded;
        std::printf("cluster: a tick requested while its holder was paused ran on the new holder after %lld ms\n",
                    static_cast<long long>(mono_ms() - t0));
        std::fflush(stdout);
        REQUIRE(await(
            {&a}, [&] { return a.p->out().find(id) != std::string::npos; }, 10'000));
        CHECK(forced_runs(fx, vb) == before + 1);
        CHECK(holder_pid(fx, vb) == a.p->pid());
        b.p->signal(SIGCONT);
        INFO(b.p->err());
        REQUIRE(await(
            both, [&] { return b.p->err().find("lost shard") != std::string::npos; }, 20'000));
        REQUIRE(await(
            both, [&] { return two_balanced(fx); }, 20'000));
        CHECK(forced_runs(fx, vb) == before + 1);  // b, resumed, did not run it again
    }

    // no live host: both paused. A requester already waiting fails once the last lease
    // expires (its request cancelled); a new one fails at once; both UNAVAILABLE (exit 4)
    {
        a.p->signal(SIGSTOP);
        b.p->signal(SIGSTOP);
        const int64_t t0 = mono_ms();
        const result waiting = fx.run({"tick", va, "--wait-ms", "30000"}, 40'000);
        const int64_t waited = mono_ms() - t0;
        INFO("vigy tick with both hosts paused: exit " << waiting.code << " after " << waited
                                                       << " ms: " << waiting.err);
        CHECK(waiting.code == 4);
        CHECK(waiting.err.find("no live cluster host") != std::string::npos);
        CHECK(waited < 10'000);  // the leases (3 s) ran out, not --wait-ms
        CHECK(live_hosts(fx) == 0);
        const int64_t t1 = mono_ms();
        const result now = fx.run({"tick", vb});
        INFO("vigy tick with no live host: " << now.err);
        CHECK(now.code == 4);
        CHECK(now.err.find("no live cluster host") != std::string::npos);
        CHECK(now.err.find("vigy " + vb + " is in shard") != std::string::npos);
        CHECK(mono_ms() - t1 < 3000);
        const result trig = fx.run({"trigger", vb});
        CHECK(trig.code == 4);
        CHECK(trig.err.find("no live cluster host") != std::string::npos);
        CHECK(count(fx, "SELECT count(*) FROM tick_requests WHERE state IN ('pending', 'claimed')") == 0);
        a.p->signal(SIGCONT);
        b.p->signal(SIGCONT);
        REQUIRE(await(
            both, [&] { return two_balanced(fx) && live_hosts(fx) == 2; }, 20'000));
    }
    // nothing a paused host had queued runs later: every forced run is one answered request
    sleep_ms(2000);
    for (node* n : both) {
        n->p->signal(SIGINT);
        INFO(n->p->err());
        REQUIRE(n->p->wait(20'000) == 0);
    }
    CHECK(forced_runs(fx) == succeeded);
    CHECK(count(fx, "SELECT count(*) FROM tick_requests WHERE state = 'done'") == succeeded + 1);  // + the trigger
    CHECK(count(fx, "SELECT count(*) FROM tick_requests WHERE state = 'failed'") == 1);            // the cancelled one
    require_counters_consistent(fx, vigies);
}
