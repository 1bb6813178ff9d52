// tests/store/test_writer.cpp — the group-commit writer: atomic run+kv, isolation of a bad
// commit inside a batch, many commits per transaction, flush/stop, validation.
#include "common.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace vigy::store;
using namespace vigy_store_test;

TEST_CASE("a run and its kv writes commit together and a failed run carries no kv", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("kv")).vigy;
    auto ok = commit_for(v.id);
    ok.kv_upserts = {{"__sys::tick_count", "1"}, {"greeting", "\"hi\""}, {"gone", "true"}};
    ok.kv_deletes = {"gone"};
    const auto r = s.writer().submit(ok).get();
    REQUIRE(r.ok);
    CHECK(r.run_id == ok.run.id);
    CHECK(r.seq > 0);
    CHECK(s.kv(v.id) == std::map<std::string, std::string>{{"__sys::tick_count", "1"}, {"greeting", "\"hi\""}});
    const auto run = s.get_run(ok.run.id);
    REQUIRE(run);
    CHECK(run->actions_json == ok.run.actions_json);
    CHECK(run->log_json == ok.run.log_json);
    CHECK(run->result == run_result::ok);

    auto failed = commit_for(v.id, run_result::failed);
    failed.kv_upserts = {{"__sys::tick_count", "2"}};
    failed.kv_deletes = {"greeting"};
    REQUIRE(s.writer().submit(failed).get().ok);
    CHECK(s.kv(v.id).at("__sys::tick_count") == "1");
    CHECK(s.kv(v.id).count("greeting") == 1);
    CHECK(s.get_run(failed.run.id)->error == "boom");
}

TEST_CASE("a commit failing mid-way inside a batch leaves nothing partial and spares the others", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    store s(o);
    const auto v = s.register_or_update(spec("atomic")).vigy;
    const auto first = commit_for(v.id);
    REQUIRE(s.commit_now(first).ok);

    // Same run id again: its kv upserts run first, then the run insert hits the UNIQUE
    // constraint — the savepoint must take the kv writes back.
    auto dup = commit_for(v.id);
    dup.run.id = first.run.id;
    dup.kv_upserts = {{"poison", "1"}};
    dup.conditions = {{"Ready", "true", "", ""}};
    dup.events = {{"Normal", "Poison", ""}};
    auto before = commit_for(v.id);
    before.kv_upserts = {{"a", "1"}};
    auto after = commit_for(v.id);
    after.kv_upserts = {{"b", "2"}};

    std::vector<commit_result> results(3);
    std::atomic<int> calls{0};
    // Hold the writer's transaction back so all three land in one batch.
    raw_db blocker(dir.db());
    REQUIRE(blocker.exec("BEGIN IMMEDIATE") == SQLITE_OK);
    s.writer().submit(before, [&](const commit_result& r) { results[0] = r; ++calls; });
    s.writer().submit(dup, [&](const commit_result& r) { results[1] = r; ++calls; });
    s.writer().submit(after, [&](const commit_result& r) { results[2] = r; ++calls; });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(blocker.exec("COMMIT") == SQLITE_OK);
    s.writer().flush();
    CHECK(calls == 3);
    CHECK(results[0].ok);
    CHECK_FALSE(results[1].ok);
    CHECK(results[1].code == error_code::io);
    CHECK_THAT(results[1].error, Catch::Contains("UNIQUE"));
    CHECK(results[2].ok);
    const auto kv = s.kv(v.id);
    CHECK(kv.count("poison") == 0);
    CHECK(kv.at("a") == "1");
    CHECK(kv.at("b") == "2");
    CHECK(s.conditions(v.id).empty());
    CHECK(s.events(v.id).empty());
    CHECK(s.count_runs(v.id) == 3);
    CHECK(s.writer().stats().failed == 1);
    CHECK(s.integrity_check() == "ok");
}

TEST_CASE("many queued commits are group-committed in few transactions", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.background_prune = false;  // 2000 runs > the default keep_runs of 1000
    store s(o);
    const auto v = s.register_or_update(spec("group")).vigy;
    raw_db blocker(dir.db());
    // While the file is locked, queue 2000 commits; the writer then drains them in batches.
    REQUIRE(blocker.exec("BEGIN IMMEDIATE") == SQLITE_OK);
    std::atomic<int> ok{0};
    for (int i = 0; i < 2000; ++i) {
        auto c = commit_for(v.id);
        c.kv_upserts = {{"__sys::tick_count", std::to_string(i + 1)}};
        s.writer().submit(std::move(c), [&](const commit_result& r) { ok += r.ok ? 1 : 0; });
    }
    REQUIRE(blocker.exec("COMMIT") == SQLITE_OK);
    s.writer().flush();
    const auto st = s.writer().stats();
    CHECK(ok == 2000);
    CHECK(st.committed == 2000);
    CHECK(st.submitted == 2000);
    CHECK(st.queued == 0);
    CHECK(st.transactions <= 5);  // 1024 per batch at most: 2 or 3 transactions
    CHECK(s.count_runs(v.id) == 2000);
    CHECK(s.kv(v.id).at("__sys::tick_count") == "2000");  // applied in submit order
}

TEST_CASE("stop drains the queue and submitting afterwards is an error", "[store]") {
    temp_dir dir;
    std::string id;
    std::atomic<int> done{0};
    {
        store s(opts(dir.db()));
        id = s.register_or_update(spec("drain")).vigy.id;
        for (int i = 0; i < 500; ++i) s.writer().submit(commit_for(id), [&](const commit_result&) { ++done; });
        s.writer().stop();
        CHECK(done == 500);
        CHECK_THROWS_WITH(s.writer().submit(commit_for(id), nullptr), "writer stopped");
        s.writer().stop();  // idempotent
        s.writer().flush();  // returns at once
    }
    store again(opts(dir.db()));
    CHECK(again.count_runs(id) == 500);
}

TEST_CASE("commits are validated before queueing", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("valid")).vigy;
    auto bad_json = commit_for(v.id);
    bad_json.run.actions_json = "[{]";
    CHECK_THROWS_WITH(s.writer().submit(bad_json, nullptr), Catch::StartsWith("actions is not valid json"));
    auto bad_kv = commit_for(v.id);
    bad_kv.kv_upserts = {{"k", "not json"}};
    CHECK_THROWS_WITH(s.writer().submit(bad_kv, nullptr), Catch::StartsWith("kv value is not valid json"));
    auto bad_time = commit_for(v.id);
    bad_time.run.started_at = "yesterday";
    CHECK_THROWS_AS(s.writer().submit(bad_time, nullptr), error);
    auto no_vigy = commit_for("");
    CHECK_THROWS_WITH(s.writer().submit(no_vigy, nullptr), "run has no vigy id");
    auto no_id = commit_for(v.id);
    no_id.run.id.clear();
    const auto r = s.writer().submit(no_id).get();  // the store assigns a UUIDv7
    CHECK(r.ok);
    CHECK(r.run_id.size() == 36);
    CHECK(s.writer().stats().submitted == 1);
}

TEST_CASE("concurrent submitters from several threads all become durable", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.max_queued = 64;  // exercise backpressure
    store s(o);
    const auto v = s.register_or_update(spec("mt")).vigy;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 250; ++i) s.writer().submit(commit_for(v.id), [&](const commit_result& r) { ok += r.ok; });
        });
    for (auto& t : threads) t.join();
    s.writer().flush();
    CHECK(ok == 1000);
    CHECK(s.count_runs(v.id) == 1000);
}

TEST_CASE("a store opened without a writer refuses writer() but commits synchronously", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.start_writer = false;
    store s(o);
    CHECK_THROWS_WITH(s.writer(), "writer not started");
    const auto v = s.register_or_update(spec("cli")).vigy;
    const auto r = s.commit_now(commit_for(v.id));
    CHECK(r.ok);
    CHECK(s.last_seq() == r.seq);
}

TEST_CASE("the writer keeps committing while other connections write between its batches", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    store cli(opts(dir.db()));
    const auto v = s.register_or_update(spec("interleaved")).vigy;
    for (int i = 0; i < 20; ++i) {
        REQUIRE(s.writer().submit(commit_for(v.id)).get().ok);
        cli.register_or_update(spec("other-" + std::to_string(i)));  // moves the snapshot on
        REQUIRE(s.commit_now(commit_for(v.id)).ok);
    }
    CHECK(s.count_runs(v.id) == 40);
}

TEST_CASE("commit_now reports a commit failing part-way and leaves nothing of it", "[store]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("sync")).vigy;
    const auto first = commit_for(v.id);
    REQUIRE(s.commit_now(first).ok);
    auto dup = commit_for(v.id);
    dup.run.id = first.run.id;
    dup.kv_upserts = {{"poison", "1"}};
    const auto r = s.commit_now(dup);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Contains("UNIQUE") && Catch::Contains(first.run.id));
    CHECK(s.kv(v.id).empty());
    CHECK(s.count_runs(v.id) == 1);
    // a deleted vigy is reported as not_found
    s.delete_vigy("sync");
    const auto gone = s.commit_now(commit_for(v.id));
    CHECK(gone.code == error_code::not_found);
    CHECK_THAT(gone.error, Catch::Contains("not found"));
}

TEST_CASE("a completion callback may resubmit even when the queue is full", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.max_queued = 1;
    store s(o);
    const auto v = s.register_or_update(spec("chain")).vigy;
    std::atomic<int> done{0};
    std::function<void(const commit_result&)> again = [&](const commit_result&) {
        if (++done < 50) s.writer().submit(commit_for(v.id), again);
    };
    for (int i = 0; i < 5; ++i) s.writer().submit(commit_for(v.id), again);
    for (int i = 0; i < 200 && done < 54; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    s.writer().flush();
    CHECK(done >= 54);
    CHECK(s.count_runs(v.id) == done.load());
}

TEST_CASE("the writer gives commits back as busy when the database stays locked", "[store]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.busy_timeout_ms = 50;
    store s(o);
    const auto v = s.register_or_update(spec("locked")).vigy;
    raw_db other(dir.db());
    REQUIRE(other.exec("BEGIN IMMEDIATE") == SQLITE_OK);
    auto c = commit_for(v.id);
    c.kv_upserts = {{"n", "1"}};
    const auto r = s.writer().submit(c).get();  // 3 attempts x 50 ms, then busy
    REQUIRE(other.exec("COMMIT") == SQLITE_OK);
    CHECK_FALSE(r.ok);
    CHECK(r.code == error_code::busy);
    CHECK_THAT(r.error, Catch::Contains(dir.db()) && Catch::Contains("locked"));
    CHECK(s.count_runs(v.id) == 0);
    CHECK(s.kv(v.id).empty());
    // nothing stuck: the next commit goes through
    CHECK(s.writer().submit(commit_for(v.id)).get().ok);
}
