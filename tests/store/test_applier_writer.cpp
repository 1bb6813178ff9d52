// tests/store/test_writer.cpp — store/src/writer.cpp and applier.cpp: atomic run + kv,
// isolation of a commit failing part-way inside a batch, group commit, fencing (stale
// commits rejected and counted), sinks, flush/stop, checks before queueing.
#include "common.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace vigy::store;
using namespace vigy_store_test;

namespace {

/// Collects completions; optionally holds the writer thread inside the first call
/// until release() (so later submissions pile up into one batch).
class test_sink final : public commit_sink {
public:
    explicit test_sink(bool hold_first = false) : holding_(hold_first) {}
    void on_committed(std::span<tick_commit* const> commits, std::span<const commit_result> results) override {
        std::unique_lock lk(m_);
        for (std::size_t i = 0; i < commits.size(); ++i) done_.emplace_back(commits[i], results[i]);
        ++calls_;
        cv_.notify_all();
        cv_.wait(lk, [&] { return !holding_; });
    }
    void wait_calls(int n) {
        std::unique_lock lk(m_);
        cv_.wait(lk, [&] { return calls_ >= n; });
    }
    void release() {
        std::lock_guard lk(m_);
        holding_ = false;
        cv_.notify_all();
    }
    commit_result result_of(const tick_commit* c) {
        std::lock_guard lk(m_);
        for (auto& [p, r] : done_)
            if (p == c) return r;
        return {};
    }
    std::size_t count() {
        std::lock_guard lk(m_);
        return done_.size();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool holding_;
    int calls_ = 0;
    std::vector<std::pair<const tick_commit*, commit_result>> done_;
};

}  // namespace

TEST_CASE("a run and its kv writes commit together and a failed run carries no kv", "[store][writer]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("kv")).vigy;
    auto ok = commit_for(v);
    ok.kv_upserts = {{"greeting", "\"hi\""}, {"gone", "true"}};
    ok.kv_deletes = {"gone"};
    ok.run.kv_writes_json = R"({"greeting":"hi"})";
    const auto r = s.writer().submit(ok).get();
    REQUIRE(r.ok);
    CHECK(r.seq > 0);
    CHECK(s.kv_map_of(v.key) == std::map<std::string, std::string>{{"greeting", "\"hi\""}});
    const auto run = s.get_run(ok.run.id);
    REQUIRE(run);
    CHECK(run->actions_json == ok.run.actions_json);
    CHECK(run->log_json == ok.run.log_json);
    CHECK(run->kv_writes_json == R"({"greeting":"hi"})");
    CHECK(run->result == run_result::ok);
    CHECK(run->seq == r.seq);

    auto failed = commit_for(v, run_result::failed);
    failed.kv_upserts = {{"greeting", "\"bye\""}};
    failed.kv_deletes = {"greeting"};
    failed.run.kv_writes_json = R"({"greeting":"bye"})";
    failed.run.output = "printed before failing";
    failed.run.status = VIGY_RESOURCE_EXHAUSTED;
    REQUIRE(s.writer().submit(failed).get().ok);
    CHECK(s.kv_map_of(v.key).at("greeting") == "\"hi\"");
    const auto f = s.get_run(failed.run.id);
    CHECK(f->error == "boom");
    CHECK(f->kv_writes_json == "{}");
    CHECK(f->output == "printed before failing");  // a failed run keeps what it printed
    CHECK(f->status == VIGY_RESOURCE_EXHAUSTED);
}

TEST_CASE("a commit failing part-way inside a batch leaves nothing of it and spares the others", "[store][writer]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("atomic")).vigy;
    // a kv write of "poison" fails after the run row of that commit was inserted (as a
    // constraint: SQLite's RAISE(ABORT) is SQLITE_CONSTRAINT, PostgreSQL's check_violation 23514)
    if (on_postgres())
        REQUIRE(raw_exec(dir.db(),
                         "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN IF NEW.key = 'poison' "
                         "THEN RAISE EXCEPTION 'poisoned kv' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; "
                         "END$$; CREATE TRIGGER poison BEFORE "
                         "INSERT ON kv FOR EACH ROW EXECUTE FUNCTION poison()"));
    else
        REQUIRE(raw_exec(dir.db(),
                         "CREATE TRIGGER poison BEFORE INSERT ON kv WHEN NEW.key = 'poison' "
                         "BEGIN SELECT RAISE(ABORT, 'poisoned kv'); END"));
    test_sink sink(/*hold_first=*/true);
    auto head = commit_for(v);
    s.writer().submit(&head, &sink);
    sink.wait_calls(1);  // the writer thread is held inside the sink: the next three form one batch
    auto before = commit_for(v);
    before.kv_upserts = {{"a", "1"}};
    auto bad = commit_for(v);
    bad.kv_upserts = {{"poison", "1"}};
    bad.conditions = {{"Ready", "True", "", ""}};
    bad.events = {{"Normal", "Poison", ""}};
    auto after = commit_for(v);
    after.kv_upserts = {{"b", "2"}};
    s.writer().submit(&before, &sink);
    s.writer().submit(&bad, &sink);
    s.writer().submit(&after, &sink);
    sink.release();
    s.writer().flush();
    REQUIRE(sink.count() == 4);
    CHECK(sink.result_of(&before).ok);
    const auto r = sink.result_of(&bad);
    CHECK_FALSE(r.ok);
    CHECK(r.code == VIGY_INVALID_ARGUMENT);  // a constraint
    CHECK_THAT(r.error, Catch::Contains("poisoned kv") && Catch::Contains(bad.run.id));
    CHECK(sink.result_of(&after).ok);
    const auto kv = s.kv_map_of(v.key);
    CHECK(kv.count("poison") == 0);
    CHECK(kv.at("a") == "1");
    CHECK(kv.at("b") == "2");
    CHECK_FALSE(s.get_run(bad.run.id));
    CHECK(s.conditions(v.id).empty());
    CHECK(s.events(v.id).empty());
    CHECK(s.count_runs(v.id) == 3);
    CHECK(s.writer().stats().failed == 1);
    CHECK(s.integrity_check() == "ok");
}

TEST_CASE("many queued commits are group-committed in few transactions in submit order", "[store][writer]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.background_prune = false;  // 2000 runs > the default keep_runs of 1000
    store s(o);
    const auto v = s.register_or_update(spec("group")).vigy;
    test_sink sink(/*hold_first=*/true);
    auto head = commit_for(v);
    s.writer().submit(&head, &sink);
    sink.wait_calls(1);
    std::vector<tick_commit> commits;
    commits.reserve(2000);
    for (int i = 0; i < 2000; ++i) {
        commits.push_back(commit_for(v));
        commits.back().kv_upserts = {{"n", std::to_string(i + 1)}};
    }
    for (auto& c : commits) s.writer().submit(&c, &sink);
    sink.release();
    s.writer().flush();
    const auto st = s.writer().stats();
    CHECK(sink.count() == 2001);
    CHECK(st.committed == 2001);
    CHECK(st.submitted == 2001);
    CHECK(st.queued == 0);
    CHECK(st.transactions <= 4);  // the head, then 1024 per batch at most
    CHECK(s.count_runs(v.id) == 2001);
    CHECK(s.kv_map_of(v.key).at("n") == "2000");  // applied in submit order
}

TEST_CASE("a foreground write goes before the writer's next batch while it commits back to back", "[store][writer]") {
    // SQLite's busy handler is not fair: without the write gate a lease renewal waited
    // seconds behind a busy writer (store/src/write_gate.hpp).
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.background_prune = false;
    o.writer.max_batch = 8;  // many short transactions, back to back
    store s(o);
    const auto v = s.register_or_update(spec("flood")).vigy;
    s.register_or_update(spec("other"));
    test_sink sink(/*hold_first=*/true);
    auto head = commit_for(v);
    s.writer().submit(&head, &sink);
    sink.wait_calls(1);
    std::vector<tick_commit> commits;
    commits.reserve(40000);
    for (int i = 0; i < 40000; ++i) commits.push_back(commit_for(v));
    for (auto& c : commits) s.writer().submit(&c, &sink);
    sink.release();
    REQUIRE(eventually([&] { return s.writer().stats().committed >= 200; }));
    const auto before = s.writer().stats();
    const auto rec = s.set_enabled("other", false);
    const auto after = s.writer().stats();
    INFO("transactions before " << before.transactions << ", after " << after.transactions << ", queued after "
                                << after.queued);
    CHECK_FALSE(rec.enabled);
    REQUIRE(after.queued > 0);                              // the writer still had work: it yielded
    CHECK(after.transactions - before.transactions <= 10);  // the batch in progress (without the gate: thousands)
    s.writer().flush();
    CHECK(s.count_runs(v.id) == 40001);
}

TEST_CASE("a commit fenced by a token that no longer holds the lease is rejected counted and applies nothing",
          "[store][writer][lease]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("fenced")).vigy;
    const lease_clock now{"boot", 0, 0};
    const auto a = s.acquire_lease({"A", 1, "h", now, 1000});
    REQUIRE(a);
    auto good = commit_for(v);
    good.fence = a;
    good.kv_upserts = {{"n", "1"}};
    CHECK(s.writer().submit(good).get().ok);
    // B takes over (A paused past its lease); A's next commit is stale
    const auto b = s.acquire_lease({"B", 2, "h", lease_clock{"boot", 5000, 0}, 1000});
    REQUIRE(b);
    auto stale = commit_for(v);
    stale.fence = a;
    stale.kv_upserts = {{"n", "2"}};
    stale.tick_request_id = s.enqueue_tick_request(v.id, "cli");
    const auto r = s.writer().submit(stale).get();
    CHECK_FALSE(r.ok);
    CHECK(r.stale);
    CHECK(r.code == VIGY_ABORTED);
    CHECK_THAT(r.error, Catch::Contains("no longer holds the lease"));
    CHECK(s.writer().stats().stale == 1);
    CHECK(s.kv_map_of(v.key).at("n") == "1");
    CHECK_FALSE(s.get_run(stale.run.id));
    CHECK(s.get_tick_request(*stale.tick_request_id)->state == "pending");
    CHECK(s.commit_now(stale).stale);  // the synchronous path is fenced too
    auto fresh = commit_for(v);
    fresh.fence = b;
    CHECK(s.commit_now(fresh).ok);
    auto unfenced = commit_for(v);
    CHECK(s.commit_now(unfenced).ok);  // tools outside a scheduler
    s.release_lease("B", *b);
    auto after_release = commit_for(v);
    after_release.fence = b;
    CHECK(s.commit_now(after_release).stale);
}

TEST_CASE("stop drains the queue and submitting afterwards is unavailable", "[store][writer]") {
    temp_dir dir;
    std::string id;
    std::vector<tick_commit> commits;
    {
        store s(opts(dir.db()));
        const auto v = s.register_or_update(spec("drain")).vigy;
        id = v.id;
        test_sink sink;
        for (int i = 0; i < 500; ++i) commits.push_back(commit_for(v));
        for (auto& c : commits) s.writer().submit(&c, &sink);
        s.writer().stop();
        CHECK(sink.count() == 500);
        auto late = commit_for(v);
        CHECK_THROWS_WITH(s.writer().submit(&late, &sink), "writer stopped");
        CHECK(code_of([&] { s.writer().submit(&late, &sink); }) == VIGY_UNAVAILABLE);
        s.writer().stop();   // idempotent
        s.writer().flush();  // returns at once
    }
    store again(opts(dir.db()));
    CHECK(again.count_runs(id) == 500);
}

TEST_CASE("commits are checked before queueing without parsing their JSON", "[store][writer]") {
    temp_dir dir;
    store s(opts(dir.db()));
    const auto v = s.register_or_update(spec("valid")).vigy;
    auto no_key = commit_for(v);
    no_key.vigy_key = 0;
    CHECK_THROWS_WITH(s.writer().submit(no_key), "commit without a vigy key");
    auto neg = commit_for(v);
    neg.run.tick_count = -1;
    CHECK_THROWS_WITH(s.writer().submit(neg), "run tick_count must be >= 0");
    auto backwards = commit_for(v);
    backwards.run.ended_ms = backwards.run.started_ms - 1;
    CHECK_THROWS_WITH(s.writer().submit(backwards), "run ended before it started");
    auto no_id = commit_for(v);
    no_id.run.id.clear();
    auto fut = s.writer().submit(no_id);  // the store assigns a UUIDv7
    CHECK(fut.get().ok);
    CHECK(s.runs_after(0).at(0).id.size() == 36);
    auto bad_id = commit_for(v);
    bad_id.run.id = "nope";
    const auto r = s.commit_now(bad_id);
    CHECK_FALSE(r.ok);
    CHECK(r.code == VIGY_INVALID_ARGUMENT);
    CHECK(s.writer().stats().submitted == 1);
}

TEST_CASE("concurrent submitters from several threads all become durable", "[store][writer]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.max_queued = 64;  // exercise backpressure
    store s(o);
    const auto v = s.register_or_update(spec("mt")).vigy;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 250; ++i) ok += s.writer().submit(commit_for(v)).get().ok ? 1 : 0;
        });
    for (auto& t : threads) t.join();
    s.writer().flush();
    CHECK(ok == 1000);
    CHECK(s.count_runs(v.id) == 1000);
}

TEST_CASE("a store opened without a writer refuses writer() but commits synchronously", "[store][writer]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.start_writer = false;
    store s(o);
    CHECK_THROWS_WITH(s.writer(), "writer not started");
    const auto v = s.register_or_update(spec("cli")).vigy;
    auto c = commit_for(v);
    const auto r = s.commit_now(c);
    CHECK(r.ok);
    CHECK(s.last_seq() == r.seq);
}

TEST_CASE("the writer keeps committing while other connections write between its batches", "[store][writer]") {
    temp_dir dir;
    store s(opts(dir.db()));
    store cli(opts(dir.db()));
    const auto v = s.register_or_update(spec("interleaved")).vigy;
    for (int i = 0; i < 20; ++i) {
        REQUIRE(s.writer().submit(commit_for(v)).get().ok);
        cli.register_or_update(spec("other-" + std::to_string(i)));  // moves the snapshot on
        auto c = commit_for(v);
        REQUIRE(s.commit_now(c).ok);
    }
    CHECK(s.count_runs(v.id) == 40);
}

TEST_CASE("a sink may resubmit from the writer thread even when the queue is full", "[store][writer]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.writer.max_queued = 1;
    store s(o);
    const auto v = s.register_or_update(spec("chain")).vigy;
    struct chain_sink final : commit_sink {
        store* s = nullptr;
        std::atomic<int> done{0};
        void on_committed(std::span<tick_commit* const> commits, std::span<const commit_result>) override {
            for (tick_commit* c : commits) {
                if (++done < 50) {
                    c->run.id = new_run_id(c->run.started_ms);
                    s->writer().submit(c, this);
                }
            }
        }
    } sink;
    sink.s = &s;
    std::vector<tick_commit> commits;
    for (int i = 0; i < 5; ++i) commits.push_back(commit_for(v));
    for (auto& c : commits) s.writer().submit(&c, &sink);
    REQUIRE(eventually([&] { return sink.done.load() >= 54; }));
    s.writer().flush();
    CHECK(s.count_runs(v.id) == sink.done.load());
}

TEST_CASE("the writer gives commits back as unavailable when the database stays locked", "[sqlite][store][writer]") {
    temp_dir dir;
    auto o = opts(dir.db());
    o.busy_timeout_ms = 50;
    store s(o);
    const auto v = s.register_or_update(spec("locked")).vigy;
    raw_db other(dir.db());
    REQUIRE(other.exec("BEGIN IMMEDIATE") == SQLITE_OK);
    auto c = commit_for(v);
    c.kv_upserts = {{"n", "1"}};
    const auto r = s.writer().submit(c).get();  // 3 attempts x 50 ms, then unavailable
    REQUIRE(other.exec("COMMIT") == SQLITE_OK);
    CHECK_FALSE(r.ok);
    CHECK(r.code == VIGY_UNAVAILABLE);
    CHECK_THAT(r.error, Catch::Contains(dir.db()) && Catch::Contains("locked"));
    CHECK(s.writer().stats().busy_retries == 2);
    CHECK(s.count_runs(v.id) == 0);
    CHECK(s.kv(v.id).empty());
    CHECK(s.writer().submit(commit_for(v)).get().ok);
}
