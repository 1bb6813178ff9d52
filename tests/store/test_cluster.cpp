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
    CHECK(code_of([&] { (void)s.claim_cluster_tick_requests("a", {{0, 1}}); }) == VIGY_FAILED_PRECONDITION);
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

namespace {

/// Registers vigies c0, c1, ... until one lands in a shard >= 32 (the half a second host
/// gets), returning the first vigy (shard < 32) and that one.
std::pair<vigy_record, vigy_record> vigies_in_both_halves(store& s) {
    const auto first = s.register_or_update(spec("c0")).vigy;
    REQUIRE(shard_of(first.key, 64) < 32);
    for (int i = 1; i < 200; ++i) {
        const auto v = s.register_or_update(spec("c" + std::to_string(i))).vigy;
        if (shard_of(v.key, 64) >= 32) return {first, v};
    }
    FAIL("no vigy landed in a shard >= 32");
    return {};
}

/// The state of request `id` as `s` reads it.
std::string state_of(store& s, std::int64_t id) {
    const auto r = s.get_tick_request(id);
    REQUIRE(r.has_value());
    return r->state;
}

}  // namespace

TEST_CASE("cluster tick requests: a host claims only requests of the shards it holds, under their epochs",
          "[postgresql]") {
    if (!on_postgres()) return;
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    const auto [va, vb] = vigies_in_both_halves(a);
    const int sa = shard_of(va.key, 64), sb = shard_of(vb.key, 64);
    (void)a.cluster_heartbeat(host_req("a"));
    (void)b.cluster_heartbeat(host_req("b"));
    const auto ra = a.cluster_heartbeat(host_req("a"));  // releases 32-63
    const auto rb = b.cluster_heartbeat(host_req("b"));  // takes them under epoch 2
    REQUIRE(epoch_in(ra, sa) == 1);
    REQUIRE(epoch_in(ra, sb) == 0);
    REQUIRE(epoch_in(rb, sb) == 2);
    const auto qa = a.enqueue_tick_request(va.id, "cli");
    const auto qb = b.enqueue_tick_request(vb.id, "cli", R"({"kind":"manual"})");

    CHECK(code_of([&] { (void)a.claim_cluster_tick_requests("", ra.held); }) == VIGY_INVALID_ARGUMENT);
    CHECK(a.claim_cluster_tick_requests("a", {}).empty());
    // a presenting b's shard (as if it still held it) claims nothing: the store checks the owner
    CHECK(a.claim_cluster_tick_requests("a", {{sb, 2}}).empty());
    // b presenting a stale epoch of its own shard claims nothing either
    CHECK(b.claim_cluster_tick_requests("b", {{sb, 1}}).empty());
    CHECK(state_of(a, qb) == "pending");
    // each host claims exactly the request of its own shard, stamped with -epoch
    const auto ca = a.claim_cluster_tick_requests("a", ra.held);
    REQUIRE(ca.size() == 1);
    CHECK(ca[0].id == qa);
    CHECK(ca[0].state == "claimed");
    CHECK(ca[0].claimed_token == -1);
    CHECK(state_of(a, qb) == "pending");
    const auto cb = b.claim_cluster_tick_requests("b", rb.held);
    REQUIRE(cb.size() == 1);
    CHECK(cb[0].id == qb);
    CHECK(cb[0].claimed_token == -2);
    CHECK(cb[0].trigger_json == R"({"kind":"manual"})");
    CHECK(b.get_tick_request(qb)->claimed_token == -2);
    CHECK(a.claim_cluster_tick_requests("a", ra.held).empty());  // claimed once

    // a failure or completion under another epoch (or a scheduler token) is refused
    b.fail_tick_request(qb, VIGY_INTERNAL, "wrong epoch", -1);
    b.fail_tick_request(qb, VIGY_INTERNAL, "a scheduler token", 2);
    const std::string some_run = new_run_id(now_unix_ms());
    b.complete_tick_request(qb, some_run, -3);
    CHECK(state_of(b, qb) == "claimed");
    // ... and works under the shard's current epoch
    b.fail_tick_request(qb, VIGY_FAILED_PRECONDITION, "refused by the slot", -2);
    const auto fb = b.get_tick_request(qb);
    CHECK(fb->state == "failed");
    CHECK(fb->code == VIGY_FAILED_PRECONDITION);
    // a's commit under its epoch marks its claimed request done with the run, atomically
    auto c = commit_for(va);
    c.shard = shard_fence{sa, 1};
    c.tick_request_id = qa;
    REQUIRE(a.writer().submit(c).get().ok);
    const auto da = a.get_tick_request(qa);
    CHECK(da->state == "done");
    CHECK(da->run_id == c.run.id);
}

TEST_CASE(
    "cluster tick requests: a claim of a lost shard goes back to pending; the old holder can neither "
    "claim, complete nor fail it; the new holder runs it once",
    "[postgresql]") {
    if (!on_postgres()) return;
    temp_dir dir;
    store a(opts(dir.db()));
    store b(opts(dir.db()));
    const auto v = a.register_or_update(spec("counter")).vigy;
    const auto other = a.register_or_update(spec("other")).vigy;
    const int shard = shard_of(v.key, 64);
    const auto ra = a.cluster_heartbeat(host_req("a", 300));  // a short lease
    const std::int64_t ea = epoch_in(ra, shard);
    REQUIRE(ea == 1);
    const auto q = a.enqueue_tick_request(v.id, "cli");
    const auto claimed = a.claim_cluster_tick_requests("a", ra.held);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].claimed_token == -ea);
    // a is paused (stops renewing) holding the claim; while its lease runs, a requester
    // giving up cannot cancel it (a could still commit it)
    CHECK_FALSE(b.cancel_tick_request(q, "giving up"));
    // b takes the shard over once a's lease expired by the database's clock
    cluster_round rb;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
        rb = b.cluster_heartbeat(host_req("b"));
    } while (epoch_in(rb, shard) == 0 && std::chrono::steady_clock::now() < give_up);
    const std::int64_t eb = epoch_in(rb, shard);
    REQUIRE(eb == ea + 1);
    // the takeover put the claim back to pending, in the acquiring transaction
    const auto back = b.get_tick_request(q);
    CHECK(back->state == "pending");
    CHECK(back->claimed_token == 0);
    // a, late: cannot fail, complete or claim it, and its commit is fenced
    a.fail_tick_request(q, VIGY_ABORTED, "stale", -ea);
    a.complete_tick_request(q, new_run_id(now_unix_ms()), -ea);
    CHECK(state_of(a, q) == "pending");
    CHECK(a.claim_cluster_tick_requests("a", {{shard, ea}}).empty());
    auto late = commit_for(v);
    late.shard = shard_fence{shard, ea};
    late.tick_request_id = q;
    const auto rl = a.writer().submit(late).get();
    CHECK(rl.stale);
    CHECK(state_of(a, q) == "pending");
    // b claims it under its epoch and runs it: done once, one run
    const auto cb = b.claim_cluster_tick_requests("b", rb.held);
    REQUIRE(cb.size() == 1);
    CHECK(cb[0].id == q);
    CHECK(cb[0].claimed_token == -eb);
    auto mine = commit_for(v);
    mine.shard = shard_fence{shard, eb};
    mine.tick_request_id = q;
    REQUIRE(b.writer().submit(mine).get().ok);
    const auto done = b.get_tick_request(q);
    CHECK(done->state == "done");
    CHECK(done->run_id == mine.run.id);
    CHECK(b.recent_runs(v.id).size() == 1);
    CHECK(b.claim_cluster_tick_requests("b", rb.held).empty());
    // a's renewal no longer has the shard; a done request stays done whatever a does
    a.fail_tick_request(q, VIGY_ABORTED, "stale", -ea);
    CHECK(state_of(a, q) == "done");

    // a claim whose shard was released (b leaves cleanly) can be cancelled by its requester
    // (b can no longer commit it); one whose holder still holds the shard cannot
    const auto rb2 = b.cluster_heartbeat(host_req("b"));
    const auto q2 = b.enqueue_tick_request(other.id, "cli");
    const auto c2b = b.claim_cluster_tick_requests("b", rb2.held);
    REQUIRE(c2b.size() == 1);
    CHECK_FALSE(a.cancel_tick_request(q2, "giving up"));
    b.cluster_leave("b");
    // released (not yet acquired by anyone, so still claimed under b's epoch): b can no
    // longer fail or complete it, whatever token it presents
    b.fail_tick_request(q2, VIGY_ABORTED, "stale", c2b[0].claimed_token);
    b.complete_tick_request(q2, new_run_id(now_unix_ms()), c2b[0].claimed_token);
    CHECK(state_of(b, q2) == "claimed");
    CHECK(a.cancel_tick_request(q2, "giving up"));
    const auto c2 = a.get_tick_request(q2);
    CHECK(c2->state == "failed");
    CHECK(c2->code == VIGY_UNAVAILABLE);
}
