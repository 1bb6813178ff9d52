// tests/e2e/test_notify.cpp — change notification with the real binary on a real
// PostgreSQL 15: with a long --poll-interval, `vigy serve` picks a CLI change up at once
// (LISTEN/NOTIFY) where --no-notify waits for its poll; a cut listener connection is
// logged as lost and back, and a change made meanwhile is still picked up; an API watch
// on one cluster host streams the runs another host commits promptly; a host whose
// listener cannot reconnect (connections refused) picks changes up by polling. The
// latencies are measured and printed (on stdout, for the report), with and without
// notification. [postgresql]: ctest e2e_postgresql.
#include "pg_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

using namespace e2e;

namespace {

constexpr const char* poll_interval = "5s";  // the fallback: what a pickup without notification waits for

std::size_t count_of(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
    return n;
}

int64_t median(std::vector<int64_t> v) {
    REQUIRE(!v.empty());
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

std::string show(const std::vector<int64_t>& v) {
    std::string s;
    for (auto x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
    return s + " ms";
}

std::unique_ptr<process> serve_pg(const pg_fixture& fx, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"-v", "serve", "--listen", "none", "-o", "json", "--poll-interval", poll_interval};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = fx.start(args);
    const bool up = p->wait_for_text("\"event\":\"ready\"", 15'000);
    INFO("serve stdout: " << p->out() << "\nserve stderr: " << p->err());
    REQUIRE(up);
    return p;
}

/// `vigy enable probe` (disabled before) until serve commits the tick an enable starts
/// at once: ms from the command's start to the run on serve's stdout.
int64_t pickup(const pg_fixture& fx, process& serve) {
    const std::string unscheduled = R"({"event":"unscheduled","vigy":"probe"})";
    const std::size_t off = count_of(serve.out(), unscheduled);
    REQUIRE(fx.run({"disable", "probe"}).code == 0);
    const bool gone = serve.wait_for([&](const std::string& out) { return count_of(out, unscheduled) > off; }, 15'000);
    INFO("serve stdout: " << serve.out() << "\nserve stderr: " << serve.err());
    REQUIRE(gone);
    const std::string run = R"("vigy_name":"probe")";
    const std::size_t runs = count_of(serve.out(), run);
    const int64_t t0 = mono_ms();
    REQUIRE(fx.run({"enable", "probe"}).code == 0);
    while (count_of(serve.out(), run) == runs && mono_ms() - t0 < 15'000) serve.pump(2);
    REQUIRE(count_of(serve.out(), run) > runs);
    const int64_t took = mono_ms() - t0;
    // serve's own 250 ms status loop must see it scheduled again before the next disable
    const std::string scheduled = R"({"event":"scheduled","vigy":"probe"})";
    REQUIRE(serve.wait_for([&](const std::string& out) { return count_of(out, scheduled) >= off + 1; }, 15'000));
    return took;
}

}  // namespace

TEST_CASE(
    "vigy serve on PostgreSQL picks a CLI change up at once, not at its poll, and polls while the listener is "
    "cut",
    "[e2e][postgresql][needs-lisp][notify]") {
    pg_fixture fx;
    fx.register_program("probe", programs::counter, 60'000);  // one tick when enabled, then a minute of quiet

    std::vector<int64_t> notified, polled;
    {
        auto serve = serve_pg(fx, {});
        CHECK(serve->wait_for_err_text("change notification on postgresql://postgres:***@", 5000));
        for (int i = 0; i < 4; ++i) notified.push_back(pickup(fx, *serve));
        INFO("pickups with notification: " << show(notified));
        // 5 s polls: four pickups under 1 s by chance alone would take a 1-in-625 draw
        CHECK(*std::max_element(notified.begin(), notified.end()) < 1000);

        // the listener's connection is cut: logged once, back after a short backoff, and a
        // change made around the gap is picked up (the poll after the reconnect covers it)
        REQUIRE(query_one(fx.url,
                          "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                          "application_name = 'vigy-listener' AND datname = current_database()") == "1");
        const int64_t t0 = mono_ms();
        CHECK(
            serve->wait_for_err_text("change notification lost: change listener on postgresql://postgres:***@", 5000));
        CHECK(serve->wait_for_err_text("change notification is back on postgresql://postgres:***@", 5000));
        const int64_t regained = mono_ms() - t0;
        const int64_t after_gap = pickup(fx, *serve);
        CHECK(after_gap < 1000);
        CHECK(count_of(serve->err(), "change notification lost") == 1);
        std::cout << "listener cut: lost and back within " << regained << " ms; the next pickup took " << after_gap
                  << " ms" << std::endl;
        stop_serve(*serve);
        CHECK(serve->err().find(fx.password) == std::string::npos);
    }
    {
        auto serve = serve_pg(fx, {"--no-notify"});
        CHECK(serve->err().find("change notification on") == std::string::npos);
        for (int i = 0; i < 2; ++i) polled.push_back(pickup(fx, *serve));
        stop_serve(*serve);
    }
    std::cout << "CLI change -> serve picked it up (from `vigy enable` start to the committed tick), --poll-interval "
              << poll_interval << ": with notification " << show(notified) << " (median " << median(notified)
              << " ms); polling only (--no-notify) " << show(polled) << " (median " << median(polled) << " ms)"
              << std::endl;
    CHECK(median(polled) > median(notified));
}

namespace {

/// One cluster host with its API on a free port.
struct api_host {
    std::unique_ptr<process> p;
    std::string url;
};

/// -v: the info lines (change notification on / back) are logged too.
api_host start_host(const pg_fixture& fx, const std::vector<std::string>& extra,
                    const std::string& poll = poll_interval, const std::string& db = {}) {
    std::vector<std::string> args{
        "-v",    "serve", "--cluster", "--lease-duration", "3s",          "--renew-deadline", "2s", "--retry-period",
        "500ms", "-o",    "json",      "--listen",         "127.0.0.1:0", "--poll-interval",  poll};
    args.insert(args.end(), extra.begin(), extra.end());
    api_host h;
    spawn_options so = fx.opts;
    if (!db.empty()) so.env.push_back("VIGY_DB=" + db);  // the later setting wins
    h.p = start_vigy(args, so);
    const bool up = h.p->wait_for_text("\"event\":\"ready\"", 15'000);
    INFO("serve stdout: " << h.p->out() << "\nserve stderr: " << h.p->err());
    REQUIRE(up);
    for (const auto& line : h.p->out_lines())
        if (line.find("\"event\":\"listening\"") != std::string::npos) h.url = str(*parse_json(line), "url");
    REQUIRE(h.url.rfind("http://", 0) == 0);
    return h;
}

/// The names of the vigies `h` ticked (its run events).
std::set<std::string> ticked_by(process& h) {
    h.pump(0);
    std::set<std::string> out;
    for (const auto& line : h.out_lines())
        if (line.rfind("{\"event\":\"run\"", 0) == 0) out.insert(str(field(*parse_json(line), "run"), "vigy_name"));
    return out;
}

/// For `ms` (longer than a poll interval), reads host a's /v1/watch/runs: for each run of a vigy host b ticks, the
/// delay from its end (ended_at) to its arrival on a's stream.
std::vector<int64_t> stream_delays(api_host& a, api_host& b, int64_t ms) {
    process curl({"/usr/bin/curl", "-sN", a.url + "/v1/watch/runs"});  // posix_spawn: no PATH search
    const int64_t until = mono_ms() + ms;
    std::size_t parsed = 0;
    std::vector<int64_t> delays;
    while (mono_ms() < until) {
        curl.pump(2);
        const std::string& out = curl.out();
        const auto end = out.rfind('\n');
        if (end == std::string::npos || end + 1 <= parsed) continue;
        const int64_t now = now_wall_ms();
        const std::set<std::string> theirs = ticked_by(*b.p);
        for (const auto& line : lines(out.substr(parsed, end + 1 - parsed))) {
            if (line.rfind("data: {", 0) != 0 || line.find("\"vigy_name\"") == std::string::npos) continue;
            const auto doc = parse_json(line.substr(6));
            REQUIRE(doc);
            if (theirs.count(str(*doc, "vigy_name")) == 0) continue;
            delays.push_back(now - rfc3339_ms(str(*doc, "ended_at")));
        }
        parsed = end + 1;
    }
    return delays;
}

}  // namespace

TEST_CASE("an API watch on one cluster host streams the runs another host commits promptly",
          "[e2e][postgresql][notify]") {
    pg_fixture fx;
    // keys 1..24, all in shards below 32: the first host (b) keeps those when the second
    // (a) joins, so a ticks nothing and its watch hub is woken by nothing of its own
    for (int i = 0; i < 24; ++i) fx.register_program("c" + std::to_string(i), programs::counter, 500);
    std::map<bool, std::vector<int64_t>> delays;
    for (const bool notify : {true, false}) {
        const std::vector<std::string> extra =
            notify ? std::vector<std::string>{} : std::vector<std::string>{"--no-notify"};
        api_host b = start_host(fx, extra);
        REQUIRE(eventually([&] { return !ticked_by(*b.p).empty(); }, 15'000));
        api_host a = start_host(fx, extra);
        REQUIRE(eventually([&] { return query_one(fx.url, "SELECT count(DISTINCT owner) FROM shard_leases") == "2"; },
                           15'000));
        sleep_ms(1000);  // a few more rounds: the split has settled
        a.p->pump(0);
        CHECK(ticked_by(*a.p).empty());
        delays[notify] = stream_delays(a, b, 6000);
        {
            // what an operator sees: the listener's gauge and the notifications it counted
            process get({"/usr/bin/curl", "-s", a.url + "/metrics"});
            REQUIRE(get.wait(10'000) == 0);
            const std::string m = get.out();
            CHECK(m.find(notify ? "\nvigy_store_listener_connected 1\n" : "\nvigy_store_listener_connected 0\n") !=
                  std::string::npos);
            const auto at = m.find("\nvigy_store_notifications_total ");
            REQUIRE(at != std::string::npos);
            const int64_t n = std::stoll(m.substr(at + 32));
            if (notify)
                CHECK(n > 10);
            else
                CHECK(n == 0);
        }
        stop_serve(*a.p);
        stop_serve(*b.p);
        INFO("delays: " << show(delays[notify]));
        REQUIRE(delays[notify].size() >= 10);
    }
    std::cout << "runs of host B on host A's /v1/watch/runs, from the run's end to its arrival, --poll-interval "
              << poll_interval << ": with notification median " << median(delays[true]) << " ms (max "
              << *std::max_element(delays[true].begin(), delays[true].end()) << " ms, " << delays[true].size()
              << " runs); polling only median " << median(delays[false]) << " ms (max "
              << *std::max_element(delays[false].begin(), delays[false].end()) << " ms)" << std::endl;
    CHECK(median(delays[true]) < 1000);  // the hub's 5 s poll alone gives ~2.5 s
    CHECK(median(delays[false]) > median(delays[true]));
}

TEST_CASE("a cluster host whose listener cannot reconnect polls, and says when it is back",
          "[e2e][postgresql][notify]") {
    pg_fixture fx;
    // keys 1..40: the first host (b) keeps shards 0-31, the second (a) ticks c32..c39
    for (int i = 1; i <= 40; ++i) fx.register_program("c" + std::to_string(i), programs::counter, 1000);
    api_host b = start_host(fx, {}, "1s");
    REQUIRE(eventually([&] { return !ticked_by(*b.p).empty(); }, 15'000));
    // a's sessions carry an application_name of their own: its listener can be told from b's
    api_host a = start_host(fx, {}, "1s", fx.db + "?application_name=host-a");
    REQUIRE(a.p->wait_for_err_text("change notification on", 5000));
    REQUIRE(eventually([&] { return ticked_by(*a.p).count("c35") == 1; }, 15'000));

    // new connections to the database are refused (the hosts' open sessions stay), and
    // a's listener is cut: it cannot come back until they are allowed again
    const std::string admin = admin_url();
    query_one(admin, "ALTER DATABASE " + fx.name + " ALLOW_CONNECTIONS false");
    REQUIRE(query_one(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
                                 fx.name + "' AND application_name = 'host-a' AND query LIKE 'LISTEN%'") == "1");
    REQUIRE(a.p->wait_for_err_text("change notification lost: change listener on postgresql://postgres:***@", 5000));

    // a change made through b's API reaches a by its 1 s poll
    const int64_t t0 = mono_ms();
    process disable({"/usr/bin/curl", "-sf", "-X", "POST", b.url + "/v1/vigies/c35/disable"});
    REQUIRE(disable.wait(10'000) == 0);
    const bool polled = a.p->wait_for_text(R"({"event":"unscheduled","vigy":"c35"})", 3000);  // not the 10 s safety net
    const int64_t took = mono_ms() - t0;
    CHECK(polled);
    CHECK(a.p->err().find("change notification is back") == std::string::npos);  // it was polling

    query_one(admin, "ALTER DATABASE " + fx.name + " ALLOW_CONNECTIONS true");
    CHECK(a.p->wait_for_err_text("change notification is back on postgresql://postgres:***@", 10'000));
    std::cout << "listener down (connections refused): a change through another host's API was picked up by "
                 "polling in "
              << took << " ms (--poll-interval 1s, plus serve's 250 ms status loop)" << std::endl;
    CHECK(count_of(a.p->err(), "change notification lost") == 1);  // once per outage, not per attempt
    stop_serve(*a.p);
    stop_serve(*b.p);
    CHECK(a.p->err().find(fx.password) == std::string::npos);
}
