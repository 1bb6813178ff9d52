// tests/store/test_cluster.cpp — cluster mode's shard leases and epoch fencing on a real
// PostgreSQL (ctest store_postgresql), and their refusal on SQLite.
#include "common.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <set>

using namespace vigy::store;
using namespace vigy_store_test;

namespace {

cluster_request host_req(const std::string& owner, std::int64_t lease_ms = 60'000) {
    return cluster_request{owner, "host-" + owner, 1, lease_ms};
}

std::set<int> shards_of(const cluster_round& r) {
    std::set<int> out;
    for (const auto& f : r.held) out.insert(f.shard);
    return out;
}

std::int64_t epoch_in(const cluster_round& r, int shard) {
    for (const auto& f : r.held)
        if (f.shard == shard) return f.epoch;
    return 0;
}

}  // namespace

TEST_CASE("cluster mode is refused on SQLite and a shard-fenced commit is rejected there", "[sqlite]") {
    if (on_postgres()) return;
    temp_dir dir;
    store s(opts(dir.db()));
    CHECK(code_of([&] { (void)s.cluster_heartbeat(host_req("a")); }) == VIGY_FAILED_PRECONDITION);
    CHECK(code_of([&] { (void)s.cluster_status(); }) == VIGY_FAILED_PRECONDITION);
    const auto v = s.register_or_update(spec("solo")).vigy;
    auto c = commit_for(v);
    c.shard = shard_fence{shard_of(v.key, 64), 1};
    const auto r = s.writer().submit(c).get();
    CHECK_FALSE(r.ok);
    CHECK(r.stale);
    CHECK(s.recent_runs(v.id).empty());
}

TEST_CASE("one host takes every shard; a second host's join rebalances to its share", "[postgresql]") {
    if (!on_postgres()) return;
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    CHECK(code_of([&] { (void)a.cluster_heartbeat(cluster_request{"", "h", 1, 1000}); }) == VIGY_INVALID_ARGUMENT);
    CHECK(code_of([&] { (void)a.cluster_heartbeat(cluster_request{"a", "h", 1, 0}); }) == VIGY_INVALID_ARGUMENT);
    const auto ra = a.cluster_heartbeat(host_req("a"));
    CHECK(ra.shard_count == 64);
    CHECK(ra.live_hosts == 1);
    CHECK(ra.held.size() == 64);
    CHECK(ra.acquired.size() == 64);
    for (const auto& f : ra.held) CHECK(f.epoch == 1);
    // b joins: the share is 32, but a still holds all (b gets none yet)
    const auto rb1 = b.cluster_heartbeat(host_req("b"));
    CHECK(rb1.live_hosts == 2);
    CHECK(rb1.share == 32);
    CHECK(rb1.held.empty());
    // a's next round releases 32; b's next takes them under epoch 2
    const auto ra2 = a.cluster_heartbeat(host_req("a"));
    CHECK(ra2.held.size() == 32);
    CHECK(ra2.released.size() == 32);
    const auto rb2 = b.cluster_heartbeat(host_req("b"));
    CHECK(rb2.held.size() == 32);
    CHECK(rb2.takeovers == 0);  // released, not expired
    for (const auto& f : rb2.held) CHECK(f.epoch == 2);
    std::set<int> all = shards_of(ra2);
    for (int s : shards_of(rb2)) CHECK(all.insert(s).second);  // disjoint
    CHECK(all.size() == 64);
    const auto st = a.cluster_status();
    REQUIRE(st.hosts.size() == 2);
    CHECK(st.hosts[0].shards + st.hosts[1].shards == 64);
    CHECK(st.hosts[0].live);
    // a clean leave frees a's shards for b at once
    a.cluster_leave("a");
    const auto rb3 = b.cluster_heartbeat(host_req("b"));
    CHECK(rb3.live_hosts == 1);
    CHECK(rb3.held.size() == 64);
}

TEST_CASE("a stale epoch's commit is rejected and writes nothing; the holder's is applied", "[postgresql]") {
    if (!on_postgres()) return;
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    const auto v = a.register_or_update(spec("counter")).vigy;
    const int shard = shard_of(v.key, 64);
    const auto ra = a.cluster_heartbeat(host_req("a", 300));  // a short lease
    const std::int64_t ea = epoch_in(ra, shard);
    REQUIRE(ea == 1);
    auto c1 = commit_for(v);
    c1.kv_upserts = {{"n", "1"}};
    c1.shard = shard_fence{shard, ea};
    REQUIRE(a.writer().submit(c1).get().ok);
    // a stops renewing (paused); its lease expires by the database's clock and b takes over
    // (polling the database: each round is one transaction judged by the server's clock)
    cluster_round rb;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
        rb = b.cluster_heartbeat(host_req("b"));
    } while (epoch_in(rb, shard) == 0 && std::chrono::steady_clock::now() < give_up);
    const std::int64_t eb = epoch_in(rb, shard);
    REQUIRE(eb == ea + 1);  // the takeover bumped the epoch
    CHECK(rb.takeovers >= 1);
    // a's late commit (old epoch) is rejected and writes nothing
    auto late = commit_for(v);
    late.kv_upserts = {{"n", "999"}};
    late.shard = shard_fence{shard, ea};
    const auto r = a.writer().submit(late).get();
    CHECK_FALSE(r.ok);
    CHECK(r.stale);
    CHECK(r.code == VIGY_ABORTED);
    CHECK_THAT(r.error, Catch::Contains("no longer holds shard " + std::to_string(shard)));
    CHECK(b.kv_map_of(v.key).at("n") == "1");
    CHECK(b.recent_runs(v.id).size() == 1);
    // a's renewal keeps only what nobody took: not this shard
    const auto ra2 = a.cluster_heartbeat(host_req("a"));
    CHECK(epoch_in(ra2, shard) == 0);
    // b's commit under its epoch is applied
    auto c2 = commit_for(v);
    c2.kv_upserts = {{"n", "2"}};
    c2.shard = shard_fence{shard, eb};
    REQUIRE(b.writer().submit(c2).get().ok);
    CHECK(a.kv_map_of(v.key).at("n") == "2");
    // a commit for a free (released) shard is rejected too
    b.cluster_leave("b");
    auto c3 = commit_for(v);
    c3.shard = shard_fence{shard, eb};
    CHECK(b.writer().submit(c3).get().stale);
    CHECK(a.recent_runs(v.id).size() == 2);
    const auto st = a.cluster_status();
    REQUIRE(st.shards.size() == 64);
    CHECK(st.shards[shard].epoch >= eb);
    CHECK(st.shards[shard].takeovers >= 1);
}

TEST_CASE("a live shard lease is not taken: expiry is by the database's clock", "[postgresql]") {
    if (!on_postgres()) return;
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    const auto ra = a.cluster_heartbeat(host_req("a", 2000));
    REQUIRE(ra.held.size() == 64);
    const auto t0 = std::chrono::steady_clock::now();
    // b's share is 32, but nothing is free or expired until a's 2 s lease runs out
    const auto rb = b.cluster_heartbeat(host_req("b", 2000));
    if (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500)) CHECK(rb.held.empty());
    cluster_round rb2;
    do {
        rb2 = b.cluster_heartbeat(host_req("b", 2000));  // polls the database's clock
    } while (rb2.held.empty() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
    // not before a's lease ran out by the database's clock (2 s after a's round began)
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(1900));
    // a's heartbeat expired with its shards: b is the one live host and takes them all
    CHECK(rb2.live_hosts == 1);
    CHECK(rb2.held.size() == 64);
    CHECK(rb2.takeovers == 64);
    for (const auto& f : rb2.held) CHECK(f.epoch == 2);
}

TEST_CASE("a scheduler lease and cluster hosts exclude each other and fence each other's expired holders",
          "[postgresql]") {
    if (!on_postgres()) return;
    temp_dir dir;
    store a(opts(dir.db()));  // a cluster host
    store b(opts(dir.db()));  // a scheduler without --cluster
    const auto v = a.register_or_update(spec("counter")).vigy;
    const int shard = shard_of(v.key, 64);
    const auto ra = a.cluster_heartbeat(host_req("a", 300));
    REQUIRE(epoch_in(ra, shard) == 1);
    auto req = [] { return lease_request{"b", 2, "host-b", {"boot-b", 1000, now_unix_ms()}, 300}; };
    // no scheduler lease beside a live cluster host (checked in the acquiring transaction)
    CHECK_FALSE(b.acquire_lease(req()).has_value());
    // a stops renewing; once its heartbeat expired by the database's clock, b gets the
    // lease, and a's shards are freed under a new epoch on the way
    std::optional<std::int64_t> tb;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!tb && std::chrono::steady_clock::now() < give_up) tb = b.acquire_lease(req());
    REQUIRE(tb.has_value());
    auto late = commit_for(v);
    late.kv_upserts = {{"n", "999"}};
    late.shard = shard_fence{shard, 1};
    const auto rl = a.writer().submit(late).get();
    CHECK(rl.stale);  // a, paused past its lease, cannot commit beside b
    auto mine = commit_for(v);
    mine.kv_upserts = {{"n", "1"}};
    mine.fence = *tb;
    REQUIRE(b.writer().submit(mine).get().ok);
    CHECK(a.cluster_status().shards[shard].epoch == 2);
    // no cluster round beside b's live lease
    std::string why;
    try {
        (void)a.cluster_heartbeat(host_req("a", 300));
    } catch (const vigy::status_error& e) {
        CHECK(e.code() == VIGY_FAILED_PRECONDITION);
        why = e.what();
    }
    CHECK_THAT(why, Catch::Contains("without --cluster") && Catch::Contains("pid 2 on host-b"));
    // b stops renewing; once its lease expired, a round removes it under a new token: b's
    // late commit and renewal fail, and a holds the shards again (under a new epoch)
    cluster_round again;
    bool joined = false;
    while (!joined && std::chrono::steady_clock::now() < give_up + std::chrono::seconds(10)) {
        try {
            again = a.cluster_heartbeat(host_req("a", 60'000));
            joined = true;
        } catch (const vigy::status_error& e) {
            REQUIRE(e.code() == VIGY_FAILED_PRECONDITION);
        }
    }
    REQUIRE(joined);
    CHECK(epoch_in(again, shard) == 3);
    auto late_b = commit_for(v);
    late_b.kv_upserts = {{"n", "999"}};
    late_b.fence = *tb;
    CHECK(b.writer().submit(late_b).get().stale);
    CHECK_FALSE(b.renew_lease(req(), *tb));
    CHECK(a.kv_map_of(v.key).at("n") == "1");
    CHECK(a.recent_runs(v.id).size() == 1);
}
