// tests/store/test_notify.cpp — change notification (vigy/store/notify.hpp): on a real
// PostgreSQL, a listener of one store hears another store's committed vigy changes, run
// batches and tick requests, nothing of a rolled-back transaction, and survives the
// termination of its backend; SQLite offers no listener.
#include "common.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace vigy::store;
using namespace vigy_store_test;

namespace {

using steady = std::chrono::steady_clock;
using ev = change_listener::event;

void require_server() {
    INFO("VIGY_TEST_PG_URL is not set: run through tests/support/with-postgres.sh (ctest -R store_postgresql)");
    REQUIRE(on_postgres());
}

/// Waits up to `timeout_ms` for `want`; returns the topics notified meanwhile (for
/// `notified`: until one of `topics` fired) or throws when it did not come.
unsigned wait_for(change_listener& l, ev want, std::int64_t timeout_ms, unsigned topics = all_topics) {
    const auto until = steady::now() + std::chrono::milliseconds(timeout_ms);
    unsigned seen = 0;
    while (steady::now() < until) {
        const auto r = l.wait(50);
        seen |= r.topics;
        if (r.what == want && (want != ev::notified || (seen & topics) != 0)) return seen;
    }
    FAIL("no such listener event within " << timeout_ms << " ms (topics seen: " << seen << ")");
    return seen;
}

/// Everything that arrives within `ms`: the topics, and whether anything but a timeout came.
unsigned drain(change_listener& l, std::int64_t ms) {
    const auto until = steady::now() + std::chrono::milliseconds(ms);
    unsigned seen = 0;
    while (steady::now() < until) seen |= l.wait(20).topics;
    return seen;
}

std::int64_t seq_of(const std::string& url) {
    store reader(opts(url));
    return reader.change_seq();
}

}  // namespace

TEST_CASE("SQLite offers no change listener: its callers poll", "[store][sqlite]") {
    temp_dir dir;
    store s(opts(dir.db()));
    CHECK(s.listen() == nullptr);
}

TEST_CASE("a listener hears another store's committed vigy change, run batch and tick request", "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    store a(opts(url));
    store b(opts(url));
    const auto v = b.register_or_update(spec("heard")).vigy;
    const auto l = a.listen();
    REQUIRE(l != nullptr);
    CHECK(l->connected());
    CHECK(drain(*l, 100) == 0);  // nothing before the changes (the registration came before listen)

    // a vigy change: when it is heard, it is already visible to any other session (sent at commit)
    const std::int64_t before = seq_of(url);
    b.set_enabled("heard", false);
    CHECK((wait_for(*l, ev::notified, 5000, topic_vigies) & topic_vigies) != 0);
    CHECK(seq_of(url) > before);

    // a writer batch of several runs: one notification per transaction, on the runs topic
    const auto n0 = l->notifications();
    const auto tx0 = b.writer().stats().transactions;
    std::vector<tick_commit> batch;
    for (int i = 0; i < 5; ++i) batch.push_back(commit_for(b.get_vigy("heard")));
    std::vector<std::future<commit_result>> done;
    b.writer().flush();
    for (auto& c : batch) done.push_back(b.writer().submit(std::move(c)));
    for (auto& f : done) REQUIRE(f.get().ok);
    CHECK((wait_for(*l, ev::notified, 5000, topic_runs) & topic_runs) != 0);
    CHECK(drain(*l, 100) == 0);
    // one per transaction (group commit: fewer than the runs), never one per run
    CHECK(l->notifications() - n0 == b.writer().stats().transactions - tx0);
    CHECK(a.runs_after(0).size() == 5);

    // a tick request
    b.enqueue_tick_request(v.id, "test");
    CHECK((wait_for(*l, ev::notified, 5000, topic_tick_requests) & topic_tick_requests) != 0);
    CHECK(a.claim_tick_requests(0).size() == 1);
}

TEST_CASE("a transaction rolled back at commit notifies nothing", "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    store a(opts(url));
    store b(opts(url));
    const auto doomed = b.register_or_update(spec("doomed")).vigy;
    b.register_or_update(spec("fine"));
    // Deferred constraint triggers fail the COMMIT of any transaction touching "doomed":
    // the store's pg_notify calls have run by then, so only the rollback can drop them.
    const std::string vid = std::to_string(doomed.key);
    REQUIRE(raw_exec(url, "CREATE FUNCTION doom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.vid = " + vid +
                              " THEN RAISE EXCEPTION 'doomed at commit'; END IF; RETURN NULL; END $$"));
    for (const char* table : {"vigy_changes", "runs", "tick_requests"})
        REQUIRE(raw_exec(url, std::string("CREATE CONSTRAINT TRIGGER doom_") + table + " AFTER INSERT ON " + table +
                                  " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION doom()"));
    const auto l = a.listen();
    REQUIRE(l != nullptr);
    REQUIRE(l->connected());

    CHECK(code_of([&] { b.set_enabled("doomed", false); }) != VIGY_OK);
    CHECK(code_of([&] { b.enqueue_tick_request(doomed.id, "test"); }) != VIGY_OK);
    CHECK_FALSE(b.writer().submit(commit_for(doomed)).get().ok);
    CHECK(drain(*l, 300) == 0);
    CHECK(l->notifications() == 0);
    CHECK(b.get_vigy("doomed").enabled);  // nothing was written either

    b.set_enabled("fine", false);  // the listener was listening all along
    CHECK((wait_for(*l, ev::notified, 5000, topic_vigies) & topic_vigies) != 0);
}

TEST_CASE("a listener whose backend is terminated reports the loss, reconnects and hears again", "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    const auto at = url.find('@');
    const std::string secret_url = url.substr(0, at) + ":hunter2" + url.substr(at);  // trust auth accepts any
    store a(opts(secret_url));
    store b(opts(url));
    const auto v = b.register_or_update(spec("again")).vigy;
    listen_options o;
    o.min_backoff_ms = 20;
    o.max_backoff_ms = 200;
    const auto l = a.listen(o);
    REQUIRE(l != nullptr);
    REQUIRE(l->connected());

    REQUIRE(raw_exec(url,
                     "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                     "'vigy-listener' AND datname = current_database()"));
    const auto until = steady::now() + std::chrono::seconds(5);
    change_listener::result lost;
    while (steady::now() < until && lost.what != ev::lost) lost = l->wait(50);
    REQUIRE(lost.what == ev::lost);
    CHECK_THAT(lost.error,
               Catch::Contains("change listener on") && Catch::Contains(":***@") && Catch::Contains("connection lost"));
    CHECK_THAT(lost.error, !Catch::Contains("hunter2"));
    // a change made while it is down is not heard (it is lost; the caller polls after `restored`)
    wait_for(*l, ev::restored, 5000);
    CHECK(l->connected());
    CHECK(l->reconnects() == 1);

    b.enqueue_tick_request(v.id, "test");
    CHECK((wait_for(*l, ev::notified, 5000, topic_tick_requests) & topic_tick_requests) != 0);
    b.set_enabled("again", false);
    CHECK((wait_for(*l, ev::notified, 5000, topic_vigies) & topic_vigies) != 0);
}

TEST_CASE("interrupt ends a listener's wait at once, also one that comes later", "[postgresql]") {
    require_server();
    temp_dir dir;
    store a(opts(dir.db()));
    const auto l = a.listen();
    REQUIRE(l != nullptr);
    l->interrupt();
    const auto t0 = steady::now();
    CHECK(l->wait(5000).what == ev::interrupted);
    std::thread t([&] { l->interrupt(); });  // during the wait or just before it: either ends it
    CHECK(l->wait(5000).what == ev::interrupted);
    t.join();
    CHECK(steady::now() - t0 < std::chrono::seconds(2));
}

TEST_CASE("a listener that cannot connect reports it without the password and connects once it can", "[postgresql]") {
    require_server();
    temp_dir dir;
    const std::string url = dir.db();
    const std::string name = url.substr(url.rfind('/') + 1);
    const auto at = url.find('@');
    store a(opts(url.substr(0, at) + ":hunter2" + url.substr(at)));
    store b(opts(url));
    // the stores' sessions stay; new connections to the database are refused
    pg_admin("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false");
    listen_options o;
    o.min_backoff_ms = 20;
    o.max_backoff_ms = 100;
    const auto l = a.listen(o);
    REQUIRE(l != nullptr);
    CHECK_FALSE(l->connected());
    const auto first = l->wait(1000);
    pg_admin("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true");
    REQUIRE(first.what == ev::lost);
    CHECK_THAT(first.error, Catch::Contains("cannot connect") && Catch::Contains(":***@") &&
                                Catch::Contains("is not currently accepting connections"));
    CHECK_THAT(first.error, !Catch::Contains("hunter2"));
    wait_for(*l, ev::restored, 5000);  // retried with backoff; reported once, not per attempt
    CHECK(l->connected());
    b.register_or_update(spec("late"));
    CHECK((wait_for(*l, ev::notified, 5000, topic_vigies) & topic_vigies) != 0);
}
