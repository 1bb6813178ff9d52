// tests/api/test_server.cpp — the API server in-process, driven over real sockets:
// routing, limits, timeouts, the security defaults, Unix sockets, the worker pool,
// metrics, and SSE streams (queue bounds, client gone, server stop).
#include "http_client.hpp"
#include "vigy/api/builtin.hpp"
#include "vigy/api/json.hpp"
#include "vigy/api/problem.hpp"
#include "vigy/api/server.hpp"
#include "vigy/api/sse.hpp"

#include <utility>  // before Asio (Boost 1.74)

#include <rapidjson/document.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace vigy::api;
using namespace vigy::test;
namespace fs = std::filesystem;

namespace {

const std::string token = "test-token-0123456789abcdef";

/// What SSE test routes share with the test body.
struct stream_probe {
    std::mutex mu;
    std::condition_variable cv;
    std::shared_ptr<event_stream> last;
    std::optional<close_reason> closed;
    event_stream::options options;
    std::function<void(const std::shared_ptr<event_stream>&)> on_create;

    std::shared_ptr<event_stream> wait_stream(std::chrono::milliseconds t = 5000ms) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, t, [&] { return last != nullptr; });
        return last;
    }
    std::optional<close_reason> wait_closed(std::chrono::milliseconds t = 5000ms) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, t, [&] { return closed.has_value(); });
        return closed;
    }
};

router test_router(stream_probe& probe) {
    router r;
    add_builtin_routes(r, {std::make_shared<metrics_registry>(), std::make_shared<health_checks>(), {}});
    r.get("/ok", [](request&) { return response::text(200, "ok"); });
    r.post("/echo", [](request& req) { return response::json(200, to_json(parse_json_body(req))); });
    r.get("/items/{id}", [](request& req) { return response::text(200, req.param("id")); });
    r.get("/query", [](request& req) {
        std::string out;
        for (const auto& [k, v] : req.query) out += k + "=" + v + ";";
        return response::text(200, out);
    });
    r.get("/slow", [](request& req) {
        std::this_thread::sleep_for(std::chrono::milliseconds(parse_cursor(req.query.get("ms").value(), "ms")));
        return response::text(200, "slept");
    });
    r.get("/fail", [](request&) -> response { throw http_error(VIGY_ALREADY_EXISTS, "vigy \"x\" already exists"); });
    r.get("/throw", [](request&) -> response { throw std::runtime_error("the store is on fire"); });
    r.get("/stream", [&probe](request&) {
        auto s = event_stream::create(probe.options);
        s->on_close([&probe](close_reason why) {
            std::lock_guard lock(probe.mu);
            probe.closed = why;
            probe.cv.notify_all();
        });
        if (probe.on_create) probe.on_create(s);
        {
            std::lock_guard lock(probe.mu);
            probe.last = s;
            probe.cv.notify_all();
        }
        return response::events(s);
    });
    return r;
}

server_options loopback_options() {
    server_options o;
    o.listen = {parse_listen_address("127.0.0.1:0")};
    return o;
}

/// A server on its own io_context run by two threads.
struct running_server {
    stream_probe probe;
    boost::asio::io_context io;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
    std::unique_ptr<server> srv;
    std::vector<std::thread> threads;
    std::vector<listener_info> listeners;
    unsigned port = 0;

    explicit running_server(server_options o = loopback_options()) : running_server(nullptr, std::move(o)) {}
    running_server(std::function<void(router&)> extra, server_options o) {
        router r = test_router(probe);
        if (extra) extra(r);
        srv = std::make_unique<server>(io, std::move(r), std::move(o));
        listeners = srv->start();
        for (const auto& l : listeners)
            if (l.url.rfind("http://", 0) == 0) {
                port = port_of(l.url);
                break;
            }
        work.emplace(io.get_executor());
        for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
    }
    ~running_server() {
        srv->stop();
        srv.reset();
        work.reset();
        io.stop();
        for (auto& t : threads) t.join();
    }

    /// Waits until `pred()` holds (polling the server's counters), up to `t`.
    template <class P>
    bool eventually(P pred, std::chrono::milliseconds t = 5000ms) {
        const auto deadline = std::chrono::steady_clock::now() + t;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::unique_lock lock(probe.mu);
            probe.cv.wait_for(lock, 5ms);
        }
        return true;
    }
};

rapidjson::Document parse(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.c_str());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

void check_problem(const http_response& r, int status, const std::string& code) {
    INFO(r.status << " " << r.body);
    CHECK(r.status == status);
    CHECK(r.header("content-type") == "application/problem+json");
    const auto d = parse(r.body);
    CHECK(d["status"].GetInt() == status);
    CHECK(std::string(d["code"].GetString()) == code);
    CHECK(d["detail"].GetStringLength() > 0);
}

/// Reads from `fd` until `needle` appears in what was read (returned), or throws after `t`.
std::string read_until(int fd, std::string& pending, const std::string& needle, std::chrono::milliseconds t = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    while (pending.find(needle) == std::string::npos) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms)
            throw std::runtime_error("timed out waiting for " + needle + "; got: " + pending.substr(0, 400));
        auto got = read_some(fd, left);
        if (!got) throw std::runtime_error("closed while waiting for " + needle + "; got: " + pending.substr(0, 400));
        pending += *got;
    }
    return pending;
}

socket_fd open_stream(unsigned port, std::string& pending, const std::string& extra = "") {
    auto s = connect_tcp(port);
    REQUIRE(send_all(s.get(), "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n"));
    read_until(s.get(), pending, "\r\n\r\n");
    return s;
}

}  // namespace

TEST_CASE("the server answers on an ephemeral port and reports its URL", "[api][server]") {
    running_server s;
    REQUIRE(s.listeners.size() == 1);
    CHECK(s.listeners[0].address == "127.0.0.1:0");
    CHECK(s.listeners[0].url.rfind("http://127.0.0.1:", 0) == 0);
    CHECK(s.listeners[0].loopback);
    CHECK(s.port != 0);
    const auto r = http_call(s.port, "GET", "/livez");
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.body == R"({"status":"ok"})");
    CHECK(r.has_header("date"));
    CHECK_FALSE(r.has_header("access-control-allow-origin"));
}

TEST_CASE("keep-alive serves several requests on one connection including pipelined ones", "[api][server]") {
    running_server s;
    auto c = connect_tcp(s.port);
    std::string pending;
    REQUIRE(send_all(c.get(), "GET /items/1 HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    CHECK(read_response(c.get(), pending).body == "1");
    REQUIRE(send_all(c.get(),
                     "GET /items/2 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /items/3 HTTP/1.1\r\nHost: localhost\r\n\r\n"
                     "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     "Content-Length: 7\r\n\r\n{\"a\":1}"));
    CHECK(read_response(c.get(), pending).body == "2");
    CHECK(read_response(c.get(), pending).body == "3");
    const auto echo = read_response(c.get(), pending);
    CHECK(echo.status == 200);
    CHECK(echo.body == R"({"a":1})");
    CHECK_FALSE(echo.closed);
}

TEST_CASE("HEAD has the GET headers without a body and OPTIONS lists the methods", "[api][server]") {
    running_server s;
    auto c = connect_tcp(s.port);
    std::string pending;
    REQUIRE(
        send_all(c.get(), "HEAD /ok HTTP/1.1\r\nHost: localhost\r\n\r\nGET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    const auto head = read_response(c.get(), pending, 5000ms, true);
    CHECK(head.status == 200);
    CHECK(head.header("content-length") == "2");
    const auto get = read_response(c.get(), pending);  // proves HEAD sent no body bytes
    CHECK(get.body == "ok");

    auto opt = http_call(s.port, "OPTIONS", "/items/7");
    CHECK(opt.status == 204);
    CHECK(opt.header("allow") == "GET, HEAD, OPTIONS");
    opt = http_call(s.port, "OPTIONS", "/echo");
    CHECK(opt.status == 204);
    CHECK(opt.header("allow") == "OPTIONS, POST");
    opt = http_call(s.port, "OPTIONS", "*");
    CHECK(opt.status == 204);
    CHECK(opt.header("allow") == "GET, HEAD, OPTIONS, POST");
    check_problem(http_call(s.port, "OPTIONS", "/nope"), 404, "not-found");
}

TEST_CASE("an unknown route is 404 and a wrong method 405 with Allow as problems", "[api][server]") {
    running_server s;
    auto r = http_call(s.port, "GET", "/v9/nothing");
    check_problem(r, 404, "not-found");
    CHECK(parse(r.body)["instance"].GetString() == std::string("/v9/nothing"));
    r = http_call(s.port, "DELETE", "/items/1");
    check_problem(r, 405, "unimplemented");
    CHECK(r.header("allow") == "GET, HEAD, OPTIONS");
    r = http_call(s.port, "BREW", "/ok");
    CHECK(r.status == 405);
}

TEST_CASE("handler errors become problems with the request path as instance", "[api][server]") {
    running_server s;
    auto r = http_call(s.port, "GET", "/fail");
    check_problem(r, 409, "already-exists");
    CHECK(parse(r.body)["instance"].GetString() == std::string("/fail"));
    r = http_call(s.port, "GET", "/throw");
    check_problem(r, 500, "internal");
    CHECK(parse(r.body)["detail"].GetString() == std::string("the store is on fire"));
    r = http_call(s.port, "POST", "/echo", "Content-Type: application/json\r\n", "{\"a\":");
    check_problem(r, 400, "invalid-argument");
    CHECK(std::string(parse(r.body)["detail"].GetString()).rfind("malformed JSON at offset 5", 0) == 0);
    r = http_call(s.port, "POST", "/echo", "Content-Type: text/plain\r\n", "{}");
    check_problem(r, 415, "invalid-argument");
}

TEST_CASE("a route's probe answers on the event loop and declines to the worker pool", "[api][server]") {
    std::atomic<int> probed{0}, handled{0};
    std::mutex mu;
    std::set<std::thread::id> probe_threads, handler_threads;
    running_server s(
        [&](router& r) {
            route_options o;
            o.probe = [&](request& req) -> std::optional<response> {
                ++probed;
                {
                    std::lock_guard lock(mu);
                    probe_threads.insert(std::this_thread::get_id());
                }
                const auto mode = req.query.get("mode").value_or("");
                if (mode == "throw") throw std::runtime_error("probe failed");
                if (mode != "fast") return std::nullopt;
                return response::text(200, "loop " + req.param("id"));
            };
            r.get(
                "/cached/{id}",
                [&](request& req) {
                    ++handled;
                    std::lock_guard lock(mu);
                    handler_threads.insert(std::this_thread::get_id());
                    return response::text(200, "pool " + req.param("id"));
                },
                std::move(o));
        },
        loopback_options());
    auto r = http_call(s.port, "GET", "/cached/a?mode=fast");
    CHECK(r.status == 200);
    CHECK(r.body == "loop a");
    CHECK(probed == 1);
    CHECK(handled == 0);  // answered by the probe: the handler never ran

    r = http_call(s.port, "GET", "/cached/b");
    CHECK(r.body == "pool b");  // declined: the handler answered
    CHECK(probed == 2);
    CHECK(handled == 1);

    r = http_call(s.port, "GET", "/cached/c?mode=throw");
    CHECK(r.status == 200);
    CHECK(r.body == "pool c");  // a probe's exception is not the answer
    CHECK(handled == 2);

    // HEAD goes through the probe too, without the body
    auto c = connect_tcp(s.port);
    std::string pending;
    REQUIRE(send_all(c.get(),
                     "HEAD /cached/d?mode=fast HTTP/1.1\r\nHost: localhost\r\n\r\n"
                     "GET /cached/e?mode=fast HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    const auto head = read_response(c.get(), pending, 5000ms, true);
    CHECK(head.status == 200);
    CHECK(head.header("content-length") == "6");
    CHECK(read_response(c.get(), pending).body == "loop e");
    CHECK(handled == 2);

    // the probe ran on the io threads, the handler on the pool: never the same thread
    {
        std::lock_guard lock(mu);
        for (const auto& t : handler_threads) CHECK(probe_threads.count(t) == 0);
    }

    // probe answers are counted like any other (once their last byte is written)
    REQUIRE(s.eventually([&] { return s.srv->stats().requests >= 5; }));
    const auto text = s.srv->metrics()->expose();
    CHECK(text.find("vigy_http_requests_total{method=\"GET\",route=\"/cached/{id}\",code=\"200\"} 4\n") !=
          std::string::npos);
    CHECK(text.find("vigy_http_requests_total{method=\"HEAD\",route=\"/cached/{id}\",code=\"200\"} 1\n") !=
          std::string::npos);
}

TEST_CASE("path parameters and queries are percent-decoded and bad encodings are 400", "[api][server]") {
    running_server s;
    CHECK(http_call(s.port, "GET", "/items/a%2Fb%20c").body == "a/b c");
    CHECK(http_call(s.port, "GET", "/query?label_selector=app%3Dweb&limit=5&x=a+b").body ==
          "label_selector=app=web;limit=5;x=a b;");
    auto r = http_call(s.port, "GET", "/items/a%zz");
    check_problem(r, 400, "invalid-argument");
    CHECK(std::string(parse(r.body)["detail"].GetString()).find("bad percent-encoding") != std::string::npos);
    check_problem(http_call(s.port, "GET", "/items/a%00b"), 400, "invalid-argument");
    check_problem(http_call(s.port, "GET", "/query?a=%0"), 400, "invalid-argument");
    check_problem(http_call(s.port, "GET", "http://example.com/ok"), 400, "invalid-argument");
}

TEST_CASE("a body over the limit is 413 whether announced or chunked", "[api][server]") {
    running_server s;
    {
        auto c = connect_tcp(s.port);
        REQUIRE(send_all(c.get(),
                         "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         "Content-Length: 2097152\r\n\r\n"));
        std::string pending;
        const auto r = read_response(c.get(), pending);
        check_problem(r, 413, "resource-exhausted");
        CHECK(std::string(parse(r.body)["detail"].GetString()) == "request body exceeds 1048576 bytes");
        CHECK(r.closed);
    }
    {
        auto c = connect_tcp(s.port);
        REQUIRE(send_all(c.get(),
                         "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n"));
        const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
        std::string pending;
        for (int i = 0; i < 20 && pending.find("\r\n\r\n") == std::string::npos; ++i) {
            if (!send_all(c.get(), chunk)) break;
            if (auto got = read_some(c.get(), 1ms); got) pending += *got;
        }
        const auto r = read_response(c.get(), pending);
        check_problem(r, 413, "resource-exhausted");
    }
    // exactly at the limit is fine
    const std::string big = "\"" + std::string((1u << 20) - 2, 'x') + "\"";
    CHECK(http_call(s.port, "POST", "/echo", "Content-Type: application/json\r\n", big).status == 200);
}

TEST_CASE("Expect 100-continue is answered when the request is acceptable and refused early when not",
          "[api][server]") {
    running_server s;
    auto c = connect_tcp(s.port);
    std::string pending;
    REQUIRE(send_all(c.get(),
                     "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
    read_until(c.get(), pending, "HTTP/1.1 100 Continue\r\n\r\n");
    pending.clear();
    REQUIRE(send_all(c.get(), "{}"));
    CHECK(read_response(c.get(), pending).status == 200);

    auto d = connect_tcp(s.port);
    pending.clear();
    REQUIRE(send_all(d.get(),
                     "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000000\r\n"
                     "Expect: 100-continue\r\n\r\n"));
    const auto r = read_response(d.get(), pending);
    CHECK(r.status == 413);
    check_problem(http_call(s.port, "POST", "/echo", "Expect: teapot\r\n", "{}"), 417, "invalid-argument");
}

TEST_CASE("headers over 16 KiB are 431", "[api][server]") {
    running_server s;
    const auto r = http_call(s.port, "GET", "/ok", "X-Big: " + std::string(17 * 1024, 'a') + "\r\n");
    check_problem(r, 431, "resource-exhausted");
    CHECK(std::string(parse(r.body)["detail"].GetString()) == "request header exceeds 16384 bytes");
    CHECK(http_call(s.port, "GET", "/ok", "X-Fine: " + std::string(8 * 1024, 'a') + "\r\n").status == 200);
    check_problem(http_call(s.port, "GET", "/items/" + std::string(20000, 'x')), 431, "resource-exhausted");
}

TEST_CASE("malformed HTTP is 400 and closes only that connection", "[api][server]") {
    running_server s;
    for (const char* bad :
         {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /ok HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
          "GET /ok HTTP/1.1\r\nHost: x\r\nContent-Length: -4\r\n\r\n",
          "GET /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
          "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
        INFO(bad);
        auto c = connect_tcp(s.port);
        REQUIRE(send_all(c.get(), bad));
        std::string pending;
        const auto r = read_response(c.get(), pending);
        CHECK(r.status == 400);
        CHECK(r.closed);
        CHECK(wait_closed(c.get(), 3000ms));
    }
    check_problem(http_call(s.port, "GET", "/ok", "Host: second\r\n"), 400, "invalid-argument");  // two Host headers
    {
        auto c = connect_tcp(s.port);
        REQUIRE(send_all(c.get(), "GET /ok HTTP/1.1\r\n\r\n"));
        std::string pending;
        const auto r = read_response(c.get(), pending);
        check_problem(r, 400, "invalid-argument");
        CHECK(std::string(parse(r.body)["detail"].GetString()) == "missing Host header (required by HTTP/1.1)");
    }
    CHECK(http_call(s.port, "GET", "/ok").status == 200);
}

TEST_CASE("random garbage over raw sockets never crashes the server", "[api][server][fuzz]") {
    server_options o = loopback_options();
    o.header_timeout_ms = 300;
    o.idle_timeout_ms = 300;
    running_server s(o);
    std::mt19937 rng(20261201);
    const std::string seeds[] = {
        "GET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n",
        std::string("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n") +
            "Content-Length: 9\r\n\r\n{\"a\":[1]}",
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{}\n\r\n0\r\n\r\n",
        "GET /stream HTTP/1.1\r\nHost: localhost\r\nLast-Event-ID: 5\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n",
    };
    for (int i = 0; i < 300; ++i) {
        std::string payload;
        const int mode = i % 3;
        if (mode == 0) {  // pure noise
            payload.resize(rng() % 2048);
            for (char& ch : payload) ch = static_cast<char>(rng());
        } else {  // a valid request with bytes flipped, inserted or cut
            payload = seeds[rng() % std::size(seeds)];
            const int edits = 1 + static_cast<int>(rng() % 8);
            for (int e = 0; e < edits && !payload.empty(); ++e) {
                const std::size_t at = rng() % payload.size();
                switch (rng() % 3) {
                case 0: payload[at] = static_cast<char>(rng()); break;
                case 1: payload.insert(at, 1 + rng() % 64, static_cast<char>(rng())); break;
                default: payload.resize(at); break;
                }
            }
            if (mode == 2) payload += payload;  // pipelined twice
        }
        auto c = connect_tcp(s.port);
        (void)send_all(c.get(), payload);
        (void)read_some(c.get(), 20ms);
    }
    s.probe.last.reset();
    CHECK(http_call(s.port, "GET", "/livez").status == 200);
    CHECK(http_call(s.port, "POST", "/echo", "Content-Type: application/json\r\n", "[true]").body == "[true]");
    CHECK(s.eventually([&] { return s.srv->stats().connections == 0; }, 10000ms));
}

TEST_CASE("a slowloris client is closed by the header timeout while others are answered", "[api][server][timeouts]") {
    server_options o = loopback_options();
    o.header_timeout_ms = 600;
    running_server s(o);
    auto slow = connect_tcp(s.port);
    const std::string header = "GET /ok HTTP/1.1\r\nHost: localhost\r\nX-Drip: " + std::string(200, 'a');
    const auto start = std::chrono::steady_clock::now();
    std::size_t sent = 0;
    bool closed = false;
    std::string got;
    int answered = 0;
    while (sent < header.size()) {
        if (!send_all(slow.get(), header.substr(sent, 1))) {
            closed = true;
            break;
        }
        ++sent;
        // other clients are served while the slow one drips
        if (sent % 5 == 0 && http_call(s.port, "GET", "/ok").status == 200) ++answered;
        auto r = read_some(slow.get(), 50ms);  // the pacing: wait for the server to give up
        if (!r) {
            closed = true;
            break;
        }
        got += *r;
        if (!got.empty()) break;
    }
    if (!closed) closed = wait_closed(slow.get(), 3000ms) || !got.empty();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(closed);
    CHECK(elapsed >= 550ms);
    CHECK(elapsed < 3000ms);
    CHECK(sent < header.size());
    CHECK(answered > 0);
    if (!got.empty()) CHECK(got.rfind("HTTP/1.1 408 Request Timeout", 0) == 0);
}

TEST_CASE("an idle keep-alive connection closes after the idle timeout", "[api][server][timeouts]") {
    server_options o = loopback_options();
    o.idle_timeout_ms = 300;
    running_server s(o);
    auto c = connect_tcp(s.port);
    std::string pending;
    REQUIRE(send_all(c.get(), "GET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    CHECK(read_response(c.get(), pending).status == 200);
    const auto start = std::chrono::steady_clock::now();
    CHECK(wait_closed(c.get(), 3000ms));
    CHECK(std::chrono::steady_clock::now() - start >= 250ms);
}

TEST_CASE("a body that does not arrive in time is 408", "[api][server][timeouts]") {
    server_options o = loopback_options();
    o.request_timeout_ms = 400;
    running_server s(o);
    auto c = connect_tcp(s.port);
    REQUIRE(send_all(c.get(), "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n{\"a\""));
    std::string pending;
    const auto r = read_response(c.get(), pending, 3000ms);
    check_problem(r, 408, "deadline-exceeded");
    CHECK(std::string(parse(r.body)["detail"].GetString()) == "request not received within 400 ms");
    CHECK(wait_closed(c.get(), 3000ms));
}

TEST_CASE("connections over the cap are answered 503 and the cap frees up", "[api][server][limits]") {
    server_options o = loopback_options();
    o.max_connections = 2;
    running_server s(o);
    auto a = connect_tcp(s.port);
    auto b = connect_tcp(s.port);
    REQUIRE(s.eventually([&] { return s.srv->stats().connections == 2; }));
    auto c = connect_tcp(s.port);
    std::string pending;
    const auto r = read_response(c.get(), pending);
    check_problem(r, 503, "unavailable");
    CHECK(r.header("retry-after") == "1");
    CHECK(std::string(parse(r.body)["detail"].GetString()) ==
          "too many connections: 2 open, the limit is 2 (retry later)");
    a.reset();
    REQUIRE(s.eventually([&] { return s.srv->stats().connections == 1; }));
    CHECK(http_call(s.port, "GET", "/ok").status == 200);
    CHECK(s.srv->stats().rejected_connections == 1);
}

TEST_CASE("event streams over the cap are 429", "[api][server][limits]") {
    server_options o = loopback_options();
    o.max_event_streams = 1;
    running_server s(o);
    std::string pending;
    auto first = open_stream(s.port, pending);
    CHECK(pending.rfind("HTTP/1.1 200 OK", 0) == 0);
    REQUIRE(s.eventually([&] { return s.srv->stats().event_streams == 1; }));
    {
        std::lock_guard lock(s.probe.mu);
        s.probe.closed.reset();
    }
    const auto r = http_call(s.port, "GET", "/stream");
    check_problem(r, 429, "resource-exhausted");
    CHECK(r.header("retry-after") == "5");
    CHECK(s.probe.wait_closed() == close_reason::rejected);
}

TEST_CASE("with a token every route but livez needs it", "[api][server][security]") {
    server_options o = loopback_options();
    o.token = token;
    running_server s(o);
    auto r = http_call(s.port, "GET", "/ok");
    check_problem(r, 401, "unauthenticated");
    CHECK(r.header("www-authenticate") == "Bearer realm=\"vigy\"");
    r = http_call(s.port, "GET", "/ok", "Authorization: Bearer wrong-token-value\r\n");
    check_problem(r, 401, "unauthenticated");
    CHECK(r.header("www-authenticate") == "Bearer realm=\"vigy\", error=\"invalid_token\"");
    r = http_call(s.port, "GET", "/ok", "Authorization: Basic dTpw\r\n");
    CHECK(r.header("www-authenticate") == "Bearer realm=\"vigy\", error=\"invalid_request\"");
    CHECK(http_call(s.port, "GET", "/ok", "Authorization: Bearer " + token + "\r\n").body == "ok");
    CHECK(http_call(s.port, "GET", "/livez").status == 200);
    CHECK(http_call(s.port, "HEAD", "/livez").status == 200);
    check_problem(http_call(s.port, "GET", "/metrics"), 401, "unauthenticated");
    check_problem(http_call(s.port, "GET", "/readyz"), 401, "unauthenticated");
    check_problem(http_call(s.port, "GET", "/openapi.json"), 401, "unauthenticated");
    check_problem(http_call(s.port, "GET", "/no/such/route"), 401, "unauthenticated");  // no probing without the token
    check_problem(http_call(s.port, "POST", "/echo", "", "{}"), 401, "unauthenticated");
    check_problem(http_call(s.port, "OPTIONS", "/ok"), 401, "unauthenticated");
}

TEST_CASE("a non-loopback address without a token refuses to start", "[api][server][security]") {
    boost::asio::io_context io;
    {
        server_options o;
        o.listen = {parse_listen_address("0.0.0.0:0")};
        server srv(io, router{}, o);
        CHECK_THROWS_WITH(srv.start(),
                          "refusing to listen on 0.0.0.0:0 without a bearer token: a non-loopback address "
                          "needs a token file (vigy serve --token-file FILE, a file readable only by its owner)");
    }
    {
        server_options o;
        o.listen = {parse_listen_address("127.0.0.1:0"), parse_listen_address("[::]:0")};
        server srv(io, router{}, o);
        CHECK_THROWS_WITH(srv.start(), Catch::Contains("refusing to listen on [::]:0 without a bearer token"));
    }
    {
        server_options o;
        o.listen = {parse_listen_address("0.0.0.0:0")};
        o.token = token;
        server srv(io, router{}, o);
        const auto l = srv.start();
        REQUIRE(l.size() == 1);
        CHECK_FALSE(l[0].loopback);
        CHECK(l[0].url.rfind("http://0.0.0.0:", 0) == 0);
    }
    {
        server_options o;
        o.listen = {parse_listen_address("127.0.0.1:0")};
        o.token_file = "/nonexistent/token";
        server srv(io, router{}, o);
        CHECK_THROWS_WITH(srv.start(), "cannot read token file /nonexistent/token: No such file or directory");
    }
}

TEST_CASE("a bind failure names the address and binds nothing", "[api][server]") {
    running_server first;
    boost::asio::io_context io;
    server_options o;
    const std::string taken = "127.0.0.1:" + std::to_string(first.port);
    o.listen = {parse_listen_address("127.0.0.1:0"), parse_listen_address(taken)};
    server srv(io, router{}, o);
    CHECK_THROWS_WITH(srv.start(), "cannot listen on " + taken + ": Address already in use");
    CHECK(srv.listeners().empty());
    server_options h;
    h.listen = {parse_listen_address("no-such-host.invalid:0")};
    server srv2(io, router{}, h);
    CHECK_THROWS_WITH(srv2.start(), Catch::StartsWith("cannot listen on no-such-host.invalid:0: cannot resolve host"));
}

TEST_CASE("Host and Origin are checked against DNS rebinding and cross-site calls", "[api][server][security]") {
    server_options o = loopback_options();
    o.allowed_hosts = {"vigy.internal"};
    running_server s(o);
    auto r = http_call(s.port, "GET", "/ok", "Host: evil.example\r\n");
    // the helper sends Host: 127.0.0.1 first; a second Host header is itself an error
    CHECK(r.status == 400);
    auto raw = [&](const std::string& headers) {
        auto c = connect_tcp(s.port);
        REQUIRE(send_all(c.get(), "GET /ok HTTP/1.1\r\n" + headers + "Connection: close\r\n\r\n"));
        std::string pending;
        return read_response(c.get(), pending);
    };
    r = raw("Host: evil.example\r\n");
    check_problem(r, 403, "permission-denied");
    CHECK(std::string(parse(r.body)["detail"].GetString()).find("Host \"evil.example\" is not allowed") == 0);
    CHECK(raw("Host: localhost:1234\r\n").status == 200);
    CHECK(raw("Host: vigy.internal\r\n").status == 200);
    CHECK(raw("Host: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n").status == 200);  // same origin
    r = raw("Host: 127.0.0.1:" + std::to_string(s.port) + "\r\nOrigin: http://evil.example\r\n");
    check_problem(r, 403, "permission-denied");
    CHECK(std::string(parse(r.body)["detail"].GetString()).find("Origin \"http://evil.example\" is not allowed") == 0);
    CHECK_FALSE(r.has_header("access-control-allow-origin"));
    check_problem(raw("Host: 127.0.0.1\r\nOrigin: null\r\n"), 403, "permission-denied");
    CHECK(raw("Host: 127.0.0.1:" + std::to_string(s.port) + "\r\nOrigin: http://127.0.0.1:" + std::to_string(s.port) +
              "\r\n")
              .status == 200);
}

TEST_CASE("CORS headers and preflights only for configured origins", "[api][server][security]") {
    server_options o = loopback_options();
    o.cors_origins = {"http://localhost:3000"};
    o.token = token;
    running_server s(o);
    auto raw = [&](const std::string& head) {
        auto c = connect_tcp(s.port);
        REQUIRE(send_all(c.get(), head + "Connection: close\r\n\r\n"));
        std::string pending;
        return read_response(c.get(), pending);
    };
    auto r =
        raw("OPTIONS /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:3000\r\n"
            "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\n");
    CHECK(r.status == 204);  // no token needed for a preflight
    CHECK(r.header("access-control-allow-origin") == "http://localhost:3000");
    CHECK(r.header("access-control-allow-methods") == "OPTIONS, POST");
    CHECK(r.header("access-control-allow-headers").find("Authorization") != std::string::npos);
    CHECK(r.header("vary") == "Origin");
    r = raw("GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:3000\r\nAuthorization: Bearer " + token +
            "\r\n");
    CHECK(r.status == 200);
    CHECK(r.header("access-control-allow-origin") == "http://localhost:3000");
    CHECK(r.header("access-control-expose-headers").find("ETag") != std::string::npos);
    r = raw("GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:3000\r\n");
    CHECK(r.status == 401);
    CHECK(r.header("access-control-allow-origin") == "http://localhost:3000");  // the page can read the 401
    r = raw("GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:4000\r\n");
    CHECK(r.status == 403);
}

TEST_CASE("a unix socket listener is 0600 replaces a stale socket and is removed on stop", "[api][server][unix]") {
    const fs::path dir = fs::temp_directory_path() / ("vigy-api-unix-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path sock = dir / "api.sock";
    {  // a stale socket file: bound, then its owner went away
        socket_fd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, sock.c_str(), sizeof a.sun_path - 1);
        REQUIRE(::bind(stale.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    REQUIRE(fs::is_socket(sock));
    {
        server_options o;
        o.listen = {parse_listen_address("unix:" + sock.string())};
        o.token = token;
        running_server s(o);
        REQUIRE(s.listeners.size() == 1);
        CHECK(s.listeners[0].url == "unix:" + sock.string());
        struct stat st {};
        REQUIRE(::stat(sock.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        auto c = connect_unix(sock.string());
        // no Host check on a Unix socket (browsers cannot reach it); the token still applies
        REQUIRE(send_all(c.get(),
                         "GET /ok HTTP/1.1\r\nHost: whatever.example\r\nAuthorization: Bearer " + token + "\r\n\r\n"));
        std::string pending;
        CHECK(read_response(c.get(), pending).body == "ok");
        REQUIRE(send_all(c.get(), "GET /ok HTTP/1.1\r\nHost: whatever.example\r\n\r\n"));
        CHECK(read_response(c.get(), pending).status == 401);

        server_options again;
        again.listen = o.listen;
        boost::asio::io_context io2;
        server second(io2, router{}, again);
        CHECK_THROWS_WITH(second.start(),
                          "cannot listen on unix:" + sock.string() + ": another server is listening on it");
        CHECK(fs::is_socket(sock));
    }
    CHECK_FALSE(fs::exists(sock));
    std::ofstream(dir / "file") << "x";
    boost::asio::io_context io;
    server_options o;
    o.listen = {parse_listen_address("unix:" + (dir / "file").string())};
    server srv(io, router{}, o);
    CHECK_THROWS_WITH(srv.start(),
                      "cannot listen on unix:" + (dir / "file").string() + ": the path exists and is not a socket");
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no temporary left behind
    fs::remove_all(dir);
}

TEST_CASE("handlers run on the worker pool so a slow one never stalls the loop", "[api][server]") {
    server_options o = loopback_options();
    o.worker_threads = 4;
    running_server s(o);
    std::vector<std::future<int>> slow;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 4; ++i)
        slow.push_back(
            std::async(std::launch::async, [&] { return http_call(s.port, "GET", "/slow?ms=1500").status; }));
    REQUIRE(s.eventually([&] { return s.srv->stats().connections >= 4; }));
    // every worker is busy: /livez (on the loop) still answers at once
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(http_call(s.port, "GET", "/livez").status == 200);
    CHECK(std::chrono::steady_clock::now() - t0 < 1000ms);
    for (auto& f : slow) CHECK(f.get() == 200);
    // the four ran in parallel, not one after another (that would take 6 s)
    CHECK(std::chrono::steady_clock::now() - start < 4500ms);
}

TEST_CASE("requests on one keep-alive connection are counted under each one's route and code",
          "[api][server][metrics]") {
    running_server s;
    auto c = connect_tcp(s.port);
    std::string pending;
    const std::string h = " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    REQUIRE(send_all(c.get(), "GET /items/a" + h + "GET /items/b" + h + "GET /missing" + h + "GET /items/c" + h +
                                  "GET /fail" + h + "GET /ok" + h));
    for (const int want : {200, 200, 404, 200, 409, 200}) CHECK(read_response(c.get(), pending).status == want);
    REQUIRE(s.eventually([&] { return s.srv->stats().requests >= 6; }));
    const auto text = s.srv->metrics()->expose();
    for (const char* line : {"vigy_http_requests_total{method=\"GET\",route=\"/items/{id}\",code=\"200\"} 3\n",
                             "vigy_http_requests_total{method=\"GET\",route=\"unmatched\",code=\"404\"} 1\n",
                             "vigy_http_requests_total{method=\"GET\",route=\"/fail\",code=\"409\"} 1\n",
                             "vigy_http_requests_total{method=\"GET\",route=\"/ok\",code=\"200\"} 1\n",
                             "vigy_http_request_duration_seconds_count{method=\"GET\",route=\"/items/{id}\"} 3\n"}) {
        INFO(line);
        CHECK(text.find(line) != std::string::npos);
    }
}

TEST_CASE("requests are counted per route pattern in the server metrics", "[api][server][metrics]") {
    running_server s;
    CHECK(http_call(s.port, "GET", "/items/a").status == 200);
    CHECK(http_call(s.port, "GET", "/items/b").status == 200);
    CHECK(http_call(s.port, "GET", "/missing").status == 404);
    CHECK(http_call(s.port, "POST", "/echo", "", "{").status == 400);
    // a response is counted once its last byte is written, a moment after the client has it
    REQUIRE(s.eventually([&] { return s.srv->stats().requests >= 4; }));
    const auto text = s.srv->metrics()->expose();
    CHECK(text.find("vigy_http_requests_total{method=\"GET\",route=\"/items/{id}\",code=\"200\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("vigy_http_requests_total{method=\"GET\",route=\"unmatched\",code=\"404\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("vigy_http_requests_total{method=\"POST\",route=\"/echo\",code=\"400\"} 1\n") != std::string::npos);
    CHECK(text.find("vigy_http_request_duration_seconds_count{method=\"GET\",route=\"/items/{id}\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("# TYPE vigy_http_connections gauge\n") != std::string::npos);
}

TEST_CASE("an event stream sends retry then events with ids then keep-alive comments", "[api][server][sse]") {
    running_server s;
    s.probe.options.retry_ms = 1500;
    s.probe.options.keepalive_ms = 100;
    std::string pending;
    auto c = open_stream(s.port, pending, "Last-Event-ID: 41\r\n");
    CHECK(pending.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(pending.find("Content-Type: text/event-stream\r\n") != std::string::npos);
    CHECK(pending.find("Cache-Control: no-cache\r\n") != std::string::npos);
    CHECK(pending.find("X-Accel-Buffering: no\r\n") != std::string::npos);
    CHECK(pending.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
    read_until(c.get(), pending, "retry: 1500\n\n");
    auto stream = s.probe.wait_stream();
    REQUIRE(stream);
    CHECK(stream->send({"42", "run", "{\"seq\":42}"}));
    read_until(c.get(), pending, "id: 42\nevent: run\ndata: {\"seq\":42}\n\n");
    read_until(c.get(), pending, ": keep-alive\n\n", 3000ms);
    CHECK(s.srv->stats().event_streams == 1);
}

TEST_CASE("the bookmark hook's events are sent periodically", "[api][server][sse]") {
    running_server s;
    std::atomic<int> calls{0};
    s.probe.options.bookmark_ms = 50;
    s.probe.options.bookmark = [&]() -> std::optional<sse_event> {
        const int n = ++calls;
        if (n % 2 == 0) return std::nullopt;  // a hook may skip a bookmark
        return sse_event{"", "bookmark", "{\"seq\":" + std::to_string(n) + "}"};
    };
    std::string pending;
    auto c = open_stream(s.port, pending);
    read_until(c.get(), pending, "event: bookmark\ndata: {\"seq\":3}\n\n", 3000ms);
    CHECK(pending.find("{\"seq\":2}") == std::string::npos);
}

TEST_CASE("a slow consumer is dropped and the producer never blocks", "[api][server][sse]") {
    running_server s;
    s.probe.options.max_queued_bytes = 256 * 1024;
    s.probe.options.keepalive_ms = 0;
    std::string pending;
    auto c = open_stream(s.port, pending);  // and never read again
    auto stream = s.probe.wait_stream();
    REQUIRE(stream);
    const std::string payload(1024, 'x');
    bool dropped = false;
    std::size_t max_queued = 0;
    auto slowest = std::chrono::steady_clock::duration::zero();
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (int i = 0; i < 1000000 && std::chrono::steady_clock::now() < deadline; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const bool ok = stream->send({std::to_string(i), "run", payload});
        slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
        max_queued = std::max(max_queued, stream->queued_bytes());
        if (!ok) {
            dropped = true;
            break;
        }
    }
    CHECK(dropped);
    CHECK(max_queued <= 256 * 1024);
    CHECK(slowest < 100ms);
    CHECK(s.probe.wait_closed() == close_reason::slow_consumer);
    CHECK(wait_closed(c.get(), 5000ms));
    CHECK(s.eventually([&] { return s.srv->stats().event_streams == 0; }));
    const auto text = s.srv->metrics()->expose();
    CHECK(text.find("vigy_http_event_streams_closed_total{reason=\"slow-consumer\"} 1\n") != std::string::npos);
}

TEST_CASE("a client that disconnects ends its stream with reason client", "[api][server][sse]") {
    running_server s;
    std::string pending;
    auto c = open_stream(s.port, pending);
    REQUIRE(s.probe.wait_stream());
    c.reset();
    CHECK(s.probe.wait_closed() == close_reason::client);
    CHECK(s.probe.last->closed());
    CHECK_FALSE(s.probe.last->send({"1", "", "x"}));
}

TEST_CASE("a producer that closes ends the response cleanly after its events", "[api][server][sse]") {
    running_server s;
    s.probe.on_create = [](const std::shared_ptr<event_stream>& st) {
        for (int i = 1; i <= 3; ++i) st->send({std::to_string(i), "tick", std::to_string(i)});
        st->close();
    };
    const auto r = http_call(s.port, "GET", "/stream");
    CHECK(r.status == 200);
    CHECK(
        r.body ==
        "retry: 2000\n\nid: 1\nevent: tick\ndata: 1\n\nid: 2\nevent: tick\ndata: 2\n\nid: 3\nevent: tick\ndata: 3\n\n");
    CHECK(s.probe.wait_closed() == close_reason::producer);
}

TEST_CASE("the producer body runs on a worker after the head and may pace a backfill", "[api][server][sse]") {
    running_server s;
    s.probe.options.max_queued_events = 8;
    s.probe.options.retry_ms = 0;
    s.probe.options.producer = [](const std::shared_ptr<event_stream>& st) {
        for (int i = 1; i <= 200; ++i) {
            if (!st->wait_for_space(5s)) return;
            st->send({std::to_string(i), "", std::to_string(i)});
        }
        st->close();
    };
    const auto r = http_call(s.port, "GET", "/stream");
    CHECK(r.status == 200);
    std::string expected;
    for (int i = 1; i <= 200; ++i) expected += "id: " + std::to_string(i) + "\ndata: " + std::to_string(i) + "\n\n";
    CHECK(r.body == expected);
}

TEST_CASE("a stream reaching its max duration ends cleanly", "[api][server][sse]") {
    running_server s;
    s.probe.options.max_duration_ms = 200;
    const auto start = std::chrono::steady_clock::now();
    const auto r = http_call(s.port, "GET", "/stream");
    CHECK(r.status == 200);
    CHECK(std::chrono::steady_clock::now() - start >= 150ms);
    CHECK(s.probe.wait_closed() == close_reason::max_duration);
}

TEST_CASE("HEAD on a stream route answers the head and closes the stream", "[api][server][sse]") {
    running_server s;
    const auto r = http_call(s.port, "HEAD", "/stream");
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "text/event-stream");
    CHECK(s.probe.wait_closed() == close_reason::producer);
}

TEST_CASE("stopping the server ends streams and closes connections", "[api][server][sse]") {
    auto s = std::make_unique<running_server>();
    std::string pending;
    auto c = open_stream(s->port, pending);
    REQUIRE(s->probe.wait_stream());
    auto idle = connect_tcp(s->port);
    REQUIRE(s->eventually([&] { return s->srv->stats().connections == 2; }));
    s->srv->stop();
    CHECK(s->probe.wait_closed() == close_reason::server_stopped);
    read_until(c.get(), pending, "0\r\n\r\n");  // the last chunk: a clean end
    CHECK(wait_closed(c.get(), 3000ms));
    CHECK(wait_closed(idle.get(), 3000ms));
    s.reset();
}
