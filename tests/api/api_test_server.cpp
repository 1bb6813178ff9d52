// tests/api/api_test_server.cpp — a test fixture, not product code: the vigy_api
// server mounted with the built-in routes plus a few test routes, for the curl,
// Node (EventSource, ajv, redocly) and wrk tests and benchmarks.
//
//   api_test_server [--listen ADDR]... [--token-file FILE] [--allow-host H]... [--cors-origin O]...
//                   [--max-connections N] [--max-streams N] [--max-body BYTES] [--max-header BYTES]
//                   [--header-timeout-ms N] [--request-timeout-ms N] [--idle-timeout-ms N]
//                   [--write-timeout-ms N] [--workers N] [--io-threads N] [--tick-ms N] [--history N]
//                   [--print-routes]
//
// Prints one JSON line per listener ({"event":"listening","address":...,"url":...}),
// then {"event":"ready"}; runs until SIGINT/SIGTERM, then {"event":"stopped"}.
// Errors go to stderr as "error: ..." with exit status 1 (2 for a usage error).
//
// Test routes:
//   POST  /test/echo             the JSON body back: {"echo": <body>, "query": [[k, v], ...]}
//   GET   /test/echo/{word}      {"word": <decoded segment>, "route": <pattern>, "query": [[k, v], ...]}
//   GET   /test/slow?ms=N        sleeps N ms on a worker (at most 10000), then {"slept_ms": N}
//   GET   /test/events           SSE of a global counter ticking every --tick-ms: id = seq,
//                                event "tick", data {"seq": N}; resumes after Last-Event-ID or
//                                ?after=N (no gap, no duplicate; 410 when older than the kept
//                                history); ?close_after=K closes the stream after K events;
//                                ?keepalive_ms, ?bookmark_ms, ?queue=N (max queued events)
//   GET   /test/error/{code}     answers the problem for a canonical code name (?hint=...)
//   GET   /test/throw            a handler throwing std::runtime_error (-> 500 internal)
//   POST  /test/validate         422 with field errors unless {"name": string, "n": integer >= 0}
//   GET   /test/doc, PATCH /test/doc   an in-memory JSON document, PATCH = merge patch
//   POST  /test/readiness        {"ready": bool, "reason": string}: sets the "test" readiness check
#include "vigy/api/builtin.hpp"
#include "vigy/api/json.hpp"
#include "vigy/api/metrics.hpp"
#include "vigy/api/openapi.hpp"
#include "vigy/api/problem.hpp"
#include "vigy/api/server.hpp"
#include "vigy/api/sse.hpp"

#include <utility>  // before Asio (Boost 1.74)

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using namespace vigy::api;

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

int64_t to_int(std::string_view flag, std::string_view v) {
    int64_t n = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < 0)
        throw usage_error(std::string(flag) + ": expected a non-negative integer, got \"" + std::string(v) + "\"");
    return n;
}

std::string json_string(std::string_view s) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return b.GetString();
}

std::string query_json(const query_params& q) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartArray();
    for (const auto& [k, v] : q) {
        w.StartArray();
        w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
        w.EndArray();
    }
    w.EndArray();
    return b.GetString();
}

/// A global counter that ticks on its own thread and fans out to event streams,
/// with a bounded history for resumption: the shape of the runs watch.
class counter_hub {
public:
    counter_hub(int64_t tick_ms, std::size_t history_limit)
        : tick_ms_(tick_ms), history_limit_(history_limit), thread_([this] { run(); }) {}
    ~counter_hub() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    int64_t seq() const {
        std::lock_guard lock(mu_);
        return seq_;
    }

    /// Backfills `s` after `cursor` and subscribes it, atomically (no gap, no
    /// duplicate). Throws http_error 410 when `cursor` is older than the history.
    void attach(const std::shared_ptr<event_stream>& s, int64_t cursor, int64_t close_after) {
        std::lock_guard lock(mu_);
        const int64_t oldest = history_.empty() ? seq_ + 1 : history_.front();
        if (cursor + 1 < oldest && cursor < seq_)
            throw http_error(VIGY_FAILED_PRECONDITION,
                             "cursor " + std::to_string(cursor) + " is older than the oldest kept event " +
                                 std::to_string(oldest) + ": re-list",
                             status_hint::cursor_expired);
        subscriber sub{s, close_after, 0, cursor};
        for (int64_t seq : history_)
            if (seq > cursor && !deliver(sub, seq)) return;
        subs_.push_back(std::move(sub));
    }

private:
    struct subscriber {
        std::weak_ptr<event_stream> stream;
        int64_t close_after = 0;
        int64_t sent = 0;
        int64_t cursor = 0;  ///< deliver only seq > cursor (a cursor ahead of the counter waits)
    };

    /// False when the subscriber is done (closed, dropped or at close_after).
    static bool deliver(subscriber& sub, int64_t seq) {
        auto s = sub.stream.lock();
        if (!s || s->closed()) return false;
        if (seq <= sub.cursor) return true;
        if (!s->send({std::to_string(seq), "tick", "{\"seq\":" + std::to_string(seq) + "}"})) return false;
        if (sub.close_after > 0 && ++sub.sent >= sub.close_after) {
            s->close();
            return false;
        }
        return true;
    }

    void run() {
        std::unique_lock lock(mu_);
        auto next = std::chrono::steady_clock::now();
        while (!stop_) {
            next += std::chrono::milliseconds(tick_ms_);
            if (cv_.wait_until(lock, next, [&] { return stop_; })) break;
            ++seq_;
            history_.push_back(seq_);
            if (history_.size() > history_limit_) history_.pop_front();
            std::vector<subscriber> keep;
            keep.reserve(subs_.size());
            for (auto& sub : subs_)
                if (deliver(sub, seq_)) keep.push_back(std::move(sub));
            subs_.swap(keep);
        }
    }

    int64_t tick_ms_;
    std::size_t history_limit_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    int64_t seq_ = 0;
    std::deque<int64_t> history_;
    std::vector<subscriber> subs_;
    std::thread thread_;
};

vigy_status code_from_name(std::string_view name) {
    for (vigy_status c = 0; c <= 16; ++c)
        if (name == code_name(c)) return c;
    throw http_error(VIGY_NOT_FOUND, "unknown code \"" + std::string(name) + "\"");
}

status_hint hint_from_name(std::string_view name) {
    static const std::pair<const char*, status_hint> hints[] = {
        {"", status_hint::none},
        {"body_validation", status_hint::body_validation},
        {"unsupported_media_type", status_hint::unsupported_media_type},
        {"if_match_failed", status_hint::if_match_failed},
        {"body_too_large", status_hint::body_too_large},
        {"headers_too_large", status_hint::headers_too_large},
        {"request_timeout", status_hint::request_timeout},
        {"cursor_expired", status_hint::cursor_expired},
    };
    for (const auto& [n, h] : hints)
        if (name == n) return h;
    throw http_error(VIGY_INVALID_ARGUMENT, "unknown hint \"" + std::string(name) + "\"");
}

struct test_state {
    std::mutex doc_mu;
    std::string doc = R"({"name":"demo","labels":{"app":"web","tier":"front"},"limits":{"fuel":1000}})";
    std::atomic<bool> ready{true};
    std::mutex reason_mu;
    std::string reason;
};

void add_test_routes(router& r, test_state& st, counter_hub& hub, metrics_registry& metrics) {
    auto& slow_total = metrics.counter("vigy_test_slow_requests_total", "Requests to /test/slow");
    r.post("/test/echo", [](request& req) {
        const auto body = parse_json_body(req);
        return response::json(200, "{\"echo\":" + to_json(body) + ",\"query\":" + query_json(req.query) + "}");
    });
    r.get("/test/echo/{word}", [](request& req) {
        return response::json(200, "{\"word\":" + json_string(req.param("word")) + ",\"route\":" +
                                       json_string(req.route) + ",\"query\":" + query_json(req.query) + "}");
    });
    r.get("/test/slow", [&slow_total](request& req) {
        const auto ms = req.query.get("ms");
        const int64_t n = ms ? parse_cursor(*ms, "ms") : 100;
        if (n > 10000) throw http_error(VIGY_INVALID_ARGUMENT, "ms " + std::to_string(n) + " is above 10000");
        slow_total.get().inc();
        std::this_thread::sleep_for(std::chrono::milliseconds(n));
        return response::json(200, "{\"slept_ms\":" + std::to_string(n) + "}");
    });
    r.get("/test/events", [&hub](request& req) {
        int64_t cursor = hub.seq();
        if (auto id = last_event_id(req))
            cursor = parse_cursor(*id, "Last-Event-ID");
        else if (auto after = req.query.get("after"))
            cursor = parse_cursor(*after, "after");
        event_stream::options o;
        if (auto v = req.query.get("keepalive_ms")) o.keepalive_ms = parse_cursor(*v, "keepalive_ms");
        if (auto v = req.query.get("queue")) o.max_queued_events = static_cast<std::size_t>(parse_cursor(*v, "queue"));
        if (auto v = req.query.get("bookmark_ms")) {
            o.bookmark_ms = parse_cursor(*v, "bookmark_ms");
            o.bookmark = [&hub]() -> std::optional<sse_event> {
                return sse_event{"", "bookmark", "{\"seq\":" + std::to_string(hub.seq()) + "}"};
            };
        }
        o.retry_ms = 200;
        if (auto v = req.query.get("retry_ms")) o.retry_ms = parse_cursor(*v, "retry_ms");
        const int64_t close_after =
            req.query.get("close_after") ? parse_cursor(*req.query.get("close_after"), "close_after") : 0;
        auto stream = event_stream::create(o);
        hub.attach(stream, cursor, close_after);
        return response::events(stream);
    });
    r.get("/test/error/{code}", [](request& req) -> response {
        const auto hint = req.query.get("hint");
        problem p = make_problem(code_from_name(req.param("code")), "test error " + req.param("code"),
                                 hint_from_name(hint ? *hint : ""));
        throw http_error(std::move(p));
    });
    r.get("/test/throw", [](request&) -> response { throw std::runtime_error("test handler failed on purpose"); });
    r.post("/test/validate", [](request& req) {
        const auto body = parse_json_body(req);
        std::vector<field_error> errors;
        if (!body.IsObject()) {
            errors.push_back({"", "expected a JSON object"});
        } else {
            const auto name = body.FindMember("name");
            if (name == body.MemberEnd())
                errors.push_back({"/name", "required"});
            else if (!name->value.IsString())
                errors.push_back({"/name", "must be a string"});
            const auto n = body.FindMember("n");
            if (n == body.MemberEnd())
                errors.push_back({"/n", "required"});
            else if (!n->value.IsInt64() || n->value.GetInt64() < 0)
                errors.push_back({"/n", "must be an integer >= 0"});
        }
        if (!errors.empty())
            throw http_error::validation(
                std::to_string(errors.size()) + " invalid field" + (errors.size() == 1 ? "" : "s"), std::move(errors));
        return response::json(200, R"({"valid":true})");
    });
    r.get("/test/doc", [&st](request&) {
        std::lock_guard lock(st.doc_mu);
        return response::json(200, st.doc);
    });
    r.patch("/test/doc", [&st](request& req) {
        const auto patch = parse_json_body(req);
        std::lock_guard lock(st.doc_mu);
        st.doc = to_json(merge_patch(parse_json(st.doc), patch));
        return response::json(200, st.doc);
    });
    r.post("/test/readiness", [&st](request& req) {
        const auto body = parse_json_body(req);
        if (!body.IsObject() || !body.HasMember("ready") || !body["ready"].IsBool())
            throw http_error::validation("invalid readiness", {{"/ready", "required boolean"}});
        {
            std::lock_guard lock(st.reason_mu);
            st.reason = body.HasMember("reason") && body["reason"].IsString() ? body["reason"].GetString() : "";
        }
        st.ready = body["ready"].GetBool();
        return response::empty(204);
    });
}

struct options {
    std::vector<std::string> listen;
    server_options server;
    unsigned io_threads = 2;
    int64_t tick_ms = 10;
    std::size_t history = 100000;
    bool print_routes = false;
};

options parse_args(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) throw usage_error(std::string(a) + " needs a value");
            return argv[++i];
        };
        if (a == "--listen")
            o.listen.emplace_back(value());
        else if (a == "--token-file")
            o.server.token_file = std::string(value());
        else if (a == "--allow-host")
            o.server.allowed_hosts.emplace_back(value());
        else if (a == "--cors-origin")
            o.server.cors_origins.emplace_back(value());
        else if (a == "--max-connections")
            o.server.max_connections = static_cast<std::size_t>(to_int(a, value()));
        else if (a == "--max-streams")
            o.server.max_event_streams = static_cast<std::size_t>(to_int(a, value()));
        else if (a == "--max-body")
            o.server.max_body_bytes = static_cast<std::size_t>(to_int(a, value()));
        else if (a == "--max-header")
            o.server.max_header_bytes = static_cast<std::size_t>(to_int(a, value()));
        else if (a == "--header-timeout-ms")
            o.server.header_timeout_ms = to_int(a, value());
        else if (a == "--request-timeout-ms")
            o.server.request_timeout_ms = to_int(a, value());
        else if (a == "--idle-timeout-ms")
            o.server.idle_timeout_ms = to_int(a, value());
        else if (a == "--write-timeout-ms")
            o.server.write_timeout_ms = to_int(a, value());
        else if (a == "--workers")
            o.server.worker_threads = static_cast<unsigned>(to_int(a, value()));
        else if (a == "--io-threads")
            o.io_threads = static_cast<unsigned>(std::max<int64_t>(1, to_int(a, value())));
        else if (a == "--tick-ms")
            o.tick_ms = std::max<int64_t>(1, to_int(a, value()));
        else if (a == "--history")
            o.history = static_cast<std::size_t>(std::max<int64_t>(1, to_int(a, value())));
        else if (a == "--print-routes")
            o.print_routes = true;
        else
            throw usage_error("unknown option " + std::string(a));
    }
    try {
        o.server.listen = parse_listen_addresses(o.listen);
    } catch (const std::invalid_argument& e) {
        throw usage_error(e.what());
    }
    return o;
}

}  // namespace

namespace {

int run(int argc, char** argv) {
    options o;
    try {
        o = parse_args(argc, argv);
    } catch (const usage_error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
    auto metrics = std::make_shared<metrics_registry>();
    auto health = std::make_shared<health_checks>();
    test_state st;
    health->add("test", [&st]() -> std::optional<std::string> {
        if (st.ready) return std::nullopt;
        std::lock_guard lock(st.reason_mu);
        return st.reason.empty() ? std::string("marked unready") : st.reason;
    });
    metrics->add_collector([](exposition_writer& w) {
        w.family("vigy_test_escaping_info", "Label values with \"quotes\", a backslash \\ and a\nnewline", "gauge");
        w.sample("vigy_test_escaping_info", {{"text", "quote \" backslash \\ newline \n end"}}, 1);
    });
    auto& h = metrics->histogram("vigy_test_observed_seconds", "Fixed observations for the exposition tests", {"kind"});
    for (double v : {0.0001, 0.003, 0.2, 7.0, 42.0}) h.with({"fixed"}).observe(v);

    counter_hub hub(o.tick_ms, o.history);
    router r;
    add_builtin_routes(r, {metrics, health, openapi_document()});
    add_test_routes(r, st, hub, *metrics);
    if (o.print_routes) {
        std::cout << routes_json(r.routes()) << std::endl;
        return 0;
    }

    boost::asio::io_context io;
    o.server.metrics = metrics;
    server srv(io, std::move(r), o.server);
    try {
        for (const auto& l : srv.start())
            std::cout << "{\"event\":\"listening\",\"address\":" << json_string(l.address)
                      << ",\"url\":" << json_string(l.url) << "}" << std::endl;
    } catch (const server_error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        srv.stop();
        // let in-flight responses and stream ends go out, then leave
        auto t = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(300));
        t->async_wait([&io, t](const boost::system::error_code&) { io.stop(); });
    });
    std::cout << "{\"event\":\"ready\"}" << std::endl;
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < o.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
    std::cout << "{\"event\":\"stopped\"}" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "api_test_server: " << e.what() << "\n";
        return 1;
    }
}
