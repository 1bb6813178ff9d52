// api/src/server.cpp — the HTTP/1.1 server on Boost.Beast: listeners, connections,
// limits and timeouts, the security checks, dispatch to the worker pool, and SSE
// streaming. This is the only translation unit of the API that includes Asio or
// Beast (they dominate compile time); everything else speaks api::request/response.
//
// Concurrency model: one strand per connection (socket, timers and every handler
// of that connection run on it), handlers on a thread pool, responses posted back
// to the connection's strand. Callback style (no coroutines: GCC 12 + Boost 1.74
// coroutines trip false -Wmismatched-new-delete warnings).
#include <utility>  // before Asio: Boost 1.74 headers use std::exchange without including it

#include "vigy/api/server.hpp"

#include "log_internal.hpp"
#include "sse_internal.hpp"
#include "vigy/api/problem.hpp"
#include "vigy/api/security.hpp"
#include "vigy/api/sse.hpp"

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

namespace vigy::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using unix_proto = net::local::stream_protocol;
using gsocket = net::generic::stream_protocol::socket;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;

class connection;

namespace {

/// "Tue, 15 Nov 1994 08:12:31 GMT", cached per thread per second.
const std::string& http_date() {
    thread_local std::time_t last = 0;
    thread_local std::string text;
    const std::time_t now = std::time(nullptr);
    if (now != last || text.empty()) {
        last = now;
        std::tm tm{};
        gmtime_r(&now, &tm);
        char buf[64];
        const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        text.assign(buf, n);
    }
    return text;
}

std::string method_label(std::string_view m) {
    static const char* const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (const char* k : known)
        if (m == k) return k;
    return "OTHER";
}

bool is_loopback(const net::ip::address& a) {
    if (a.is_v4()) return a.to_v4().is_loopback();
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, v6).is_loopback();
    return v6.is_loopback();
}

std::string endpoint_text(const tcp::endpoint& ep) {
    const auto a = ep.address();
    if (a.is_v6()) return "[" + a.to_string() + "]:" + std::to_string(ep.port());
    return a.to_string() + ":" + std::to_string(ep.port());
}

std::string show(std::string_view s) {
    std::string out = "\"";
    for (char c : s.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    out += '"';
    return out;
}

constexpr std::size_t stream_chunk_bytes = 64 * 1024;
constexpr std::size_t max_rejecting = 64;  // connections being told 503 at once; beyond: closed at once
constexpr int64_t linger_ms = 2000;

}  // namespace

// ---- shared server state ----------------------------------------------------------

struct server::impl : std::enable_shared_from_this<server::impl> {
    impl(net::io_context& io_, router r, server_options o)
        : io(io_), routes(std::move(r)), opts(std::move(o)), pool(opts.worker_threads ? opts.worker_threads : 1) {
        metrics = opts.metrics ? opts.metrics : std::make_shared<metrics_registry>();
        m_requests = &metrics->counter("vigy_http_requests_total", "HTTP requests answered, by route pattern",
                                       {"method", "route", "code"});
        m_duration = &metrics->histogram("vigy_http_request_duration_seconds",
                                         "Time from a request's first byte to its response's last byte (an event "
                                         "stream: to its head)",
                                         {"method", "route"});
        m_connections = &metrics->gauge("vigy_http_connections", "Open HTTP connections").get();
        m_streams = &metrics->gauge("vigy_http_event_streams", "Open Server-Sent Events streams").get();
        m_rejected = &metrics->counter("vigy_http_rejected_total",
                                       "Connections or requests refused by a limit or a security rule", {"reason"});
        m_streams_closed =
            &metrics->counter("vigy_http_event_streams_closed_total", "Event streams ended, by reason", {"reason"});
    }

    net::io_context& io;
    router routes;
    server_options opts;
    std::shared_ptr<metrics_registry> metrics;
    counter_family* m_requests;
    histogram_family* m_duration;
    gauge* m_connections;
    gauge* m_streams;
    counter_family* m_rejected;
    counter_family* m_streams_closed;

    std::optional<token_verifier> token;
    access_policy policy;
    std::vector<listener_info> bound;

    struct unix_listener {
        std::shared_ptr<unix_proto::acceptor> acceptor;
        std::string path;
        dev_t dev = 0;
        ino_t ino = 0;
    };
    /// Guards the acceptors: accept initiations (loop threads) and their closing
    /// (stop(), the destructor: any thread).
    std::mutex listen_mu;
    bool listeners_closed = false;
    std::vector<std::shared_ptr<tcp::acceptor>> tcp_acceptors;
    std::vector<unix_listener> unix_acceptors;

    std::atomic<std::size_t> n_connections{0};
    std::atomic<std::size_t> n_streams{0};
    std::atomic<std::size_t> n_rejecting{0};
    std::atomic<uint64_t> n_requests{0};
    std::atomic<uint64_t> n_rejected{0};
    std::atomic<bool> stopping{false};
    bool started = false;

    std::mutex work_mu;
    bool accepting_work = true;
    net::thread_pool pool;

    std::mutex conns_mu;
    std::unordered_map<connection*, std::weak_ptr<connection>> conns;

    /// Runs `f` on the worker pool; false when the server no longer takes work.
    template <class F>
    bool submit(F&& f) {
        std::lock_guard lock(work_mu);
        if (!accepting_work) return false;
        net::post(pool, std::forward<F>(f));
        return true;
    }

    void rejected(const char* reason) {
        m_rejected->with({reason}).inc();
        n_rejected.fetch_add(1, std::memory_order_relaxed);
    }

    void bind_all();
    void bind_tcp(const listen_address& a);
    void bind_unix(const listen_address& a);
    void accept_tcp(const std::shared_ptr<tcp::acceptor>& a);
    void accept_unix(const std::shared_ptr<unix_proto::acceptor>& a);
    void admit(gsocket sock, bool is_unix, std::string peer);
    void retry_accept_later(std::function<void()> again);
    void stop();
    void close_listeners();
};

// ---- one connection -----------------------------------------------------------------

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(std::shared_ptr<server::impl> st, gsocket sock, bool is_unix, std::string peer)
        : st_(std::move(st)),
          sock_(std::move(sock)),
          timer_(sock_.get_executor()),
          hb_timer_(sock_.get_executor()),
          bm_timer_(sock_.get_executor()),
          life_timer_(sock_.get_executor()),
          is_unix_(is_unix),
          peer_(std::move(peer)) {}

    ~connection() {
        if (counted_) {
            st_->n_connections.fetch_sub(1, std::memory_order_relaxed);
            st_->m_connections->dec();
        }
        if (rejecting_) st_->n_rejecting.fetch_sub(1, std::memory_order_relaxed);
        std::lock_guard lock(st_->conns_mu);
        st_->conns.erase(this);
    }

    /// A normal connection: serve requests until closed.
    void start(bool counted) {
        counted_ = counted;
        net::post(sock_.get_executor(), [self = shared_from_this()] { self->read_request(); });
    }

    /// Over the connection cap: write `canned` (a complete 503 response), then close.
    void start_rejected(std::shared_ptr<const std::string> canned) {
        rejecting_ = true;
        canned_ = std::move(canned);
        net::post(sock_.get_executor(), [self = shared_from_this()] {
            self->arm(self->st_->opts.write_timeout_ms < 2000 ? self->st_->opts.write_timeout_ms : 2000,
                      phase::writing);
            net::async_write(self->sock_, net::buffer(*self->canned_), [self](error_code ec, std::size_t) {
                if (ec) return self->hard_close();
                self->linger_close();
            });
        });
    }

    /// The server is stopping (called on any thread).
    void server_stop() {
        net::post(sock_.get_executor(), [self = shared_from_this()] { self->on_server_stop(); });
    }

private:
    enum class phase { idle, header, body, handling, writing, streaming, lingering, closed };

    // -- deadlines ----------------------------------------------------------------
    void arm(int64_t ms, phase p) {
        phase_ = p;
        const uint64_t gen = ++deadline_gen_;
        timer_.expires_after(std::chrono::milliseconds(ms > 0 ? ms : 1));
        timer_.async_wait([self = shared_from_this(), gen](error_code ec) {
            if (ec || gen != self->deadline_gen_) return;
            self->on_deadline();
        });
    }
    void disarm(phase p) {
        phase_ = p;
        ++deadline_gen_;
        timer_.cancel();
    }

    void on_deadline() {
        switch (phase_) {
        case phase::idle: return hard_close();
        case phase::header:
        case phase::body: {
            st_->rejected("timeout");
            error_code ignored;
            sock_.cancel(ignored);  // the pending read completes with operation_aborted
            const bool header = phase_ == phase::header;
            const int64_t limit = header ? st_->opts.header_timeout_ms : st_->opts.request_timeout_ms;
            problem p = make_problem(VIGY_DEADLINE_EXCEEDED,
                                     std::string(header ? "request header" : "request") + " not received within " +
                                         std::to_string(limit) + " ms",
                                     status_hint::request_timeout);
            close_after_ = true;
            return send_problem(std::move(p));
        }
        case phase::writing:
        case phase::lingering:
        case phase::handling: return hard_close();
        case phase::streaming: return end_stream(close_reason::slow_consumer, false);
        case phase::closed: return;
        }
    }

    // -- reading ------------------------------------------------------------------
    void read_request() {
        if (phase_ == phase::closed) return;
        if (st_->stopping.load()) return hard_close();
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(st_->opts.max_header_bytes));
        parser_->body_limit(st_->opts.max_body_bytes);
        reset_request_state();
        if (buf_.size() > 0) return on_readable({});
        arm(first_request_ ? st_->opts.header_timeout_ms : st_->opts.idle_timeout_ms, phase::idle);
        sock_.async_wait(net::socket_base::wait_read,
                         [self = shared_from_this()](error_code ec) { self->on_readable(ec); });
    }

    void reset_request_state() {
        pattern_.clear();
        method_.clear();
        path_.clear();
        head_ = false;
        cors_origin_.clear();
        close_after_ = false;
        close_after_on_refusal_ = false;
        status_ = 0;
    }

    void on_readable(error_code ec) {
        if (phase_ == phase::closed) return;
        if (ec) return hard_close();
        first_request_ = false;
        request_start_ = clock_type::now();
        arm(st_->opts.header_timeout_ms, phase::header);
        http::async_read_header(sock_, buf_, *parser_,
                                [self = shared_from_this()](error_code e, std::size_t) { self->on_header(e); });
    }

    void on_header(error_code ec) {
        if (phase_ == phase::closed) return;
        if (ec) return on_read_error(ec, true);
        auto& req = parser_->get();
        version_ = req.version() == 10 ? 10u : 11u;
        keep_alive_ = req.keep_alive();
        method_ = std::string(req.method_string());
        const std::string target(req.target());

        // Request line and framing.
        if (req.version() != 10 && req.version() != 11) {
            close_after_ = true;
            return send_problem(make_problem(VIGY_INVALID_ARGUMENT, "HTTP version not supported: use HTTP/1.1"));
        }
        const auto hosts = req.count(http::field::host);
        if (hosts > 1) {
            close_after_ = true;
            return send_problem(make_problem(VIGY_INVALID_ARGUMENT, "more than one Host header"));
        }
        const std::string host = hosts ? std::string(req[http::field::host]) : std::string();
        if (version_ == 11 && hosts == 0) {
            close_after_ = true;
            return send_problem(make_problem(VIGY_INVALID_ARGUMENT, "missing Host header (required by HTTP/1.1)"));
        }
        std::string path = target, query;
        if (const auto q = target.find('?'); q != std::string::npos) {
            path = target.substr(0, q);
            query = target.substr(q + 1);
        }
        if (const auto frag = query.find('#'); frag != std::string::npos) query.resize(frag);
        path_ = path;
        const bool asterisk = target == "*";
        if (!asterisk && (path.empty() || path.front() != '/')) {
            close_after_ = true;
            return send_problem(make_problem(
                VIGY_INVALID_ARGUMENT, "request target " + show(target) + " must be an absolute path (origin-form)"));
        }
        if (asterisk && method_ != "OPTIONS") {
            close_after_ = true;
            return send_problem(make_problem(VIGY_INVALID_ARGUMENT, "request target * is only for OPTIONS"));
        }
        const bool has_body = !parser_->is_done();
        if (has_body) close_after_on_refusal_ = true;

        // Host (DNS rebinding) and Origin (browsers), on TCP only.
        std::optional<std::string_view> origin;
        std::string origin_value;
        if (auto it = req.find(http::field::origin); it != req.end()) {
            origin_value = std::string(it->value());
            origin = origin_value;
        }
        if (!is_unix_) {
            if (hosts && !host_allowed(st_->policy, host)) {
                st_->rejected("host");
                return refuse(make_problem(VIGY_PERMISSION_DENIED,
                                           "Host " + show(host) +
                                               " is not allowed: the API answers loopback names, IP addresses and "
                                               "configured host names only (DNS rebinding protection)"));
            }
            switch (check_origin(st_->policy, origin, host)) {
            case origin_verdict::absent:
            case origin_verdict::same_origin: break;
            case origin_verdict::cors: cors_origin_ = origin_value; break;
            case origin_verdict::refused:
                st_->rejected("origin");
                return refuse(make_problem(VIGY_PERMISSION_DENIED,
                                           "Origin " + show(origin_value) +
                                               " is not allowed: only this server's own pages and configured CORS "
                                               "origins may call the API from a browser"));
            }
        }

        // Routing (before auth, but a 404 is only revealed to an authenticated client).
        if (asterisk) {
            if (!authorized(false)) return;
            std::set<std::string> all{"OPTIONS"};
            for (const auto& r : st_->routes.routes()) all.insert(r.method);
            if (all.count("GET")) all.insert("HEAD");
            response res = response::empty(204);
            res.headers.set("Allow", join(all));
            return send_response(std::move(res));
        }
        auto m = st_->routes.find(method_ == "OPTIONS" ? "GET" : method_, path);
        if (m.result == router::match::outcome::found || m.result == router::match::outcome::method_not_allowed)
            pattern_ = m.pattern;

        // CORS preflight: answered without the token (browsers send none).
        if (method_ == "OPTIONS" && !cors_origin_.empty() && req.find("Access-Control-Request-Method") != req.end()) {
            if (m.result == router::match::outcome::not_found || m.result == router::match::outcome::bad_path)
                return refuse(make_problem(VIGY_NOT_FOUND, "no route for " + show(path)));
            response res = response::empty(204);
            res.headers.set("Access-Control-Allow-Methods", join(m.allow));
            res.headers.set(
                "Access-Control-Allow-Headers",
                "Authorization, Content-Type, If-Match, If-None-Match, Last-Event-ID, MCP-Protocol-Version");
            res.headers.set("Access-Control-Max-Age", "600");
            return send_response(std::move(res));
        }

        const bool is_public = m.result == router::match::outcome::found && m.options.public_route &&
                               (method_ == "GET" || method_ == "HEAD");
        if (!authorized(is_public)) return;

        switch (m.result) {
        case router::match::outcome::bad_path: return refuse(make_problem(VIGY_INVALID_ARGUMENT, m.detail));
        case router::match::outcome::not_found:
            return refuse(make_problem(VIGY_NOT_FOUND, "no route for " + show(path)));
        case router::match::outcome::method_not_allowed:
            if (method_ != "OPTIONS") {
                problem p = make_problem(VIGY_UNIMPLEMENTED, "method " + method_ + " is not allowed on " + m.pattern);
                p.status = 405;
                p.headers.set("Allow", join(m.allow));
                return refuse(std::move(p));
            }
            [[fallthrough]];
        case router::match::outcome::found:
            if (method_ == "OPTIONS") {
                response res = response::empty(204);
                res.headers.set("Allow", join(m.allow));
                return send_response(std::move(res));
            }
            break;
        }
        head_ = method_ == "HEAD";

        // Expect: 100-continue (curl sends it for large bodies): say go ahead now
        // that the request is acceptable, or refuse an expectation we do not know.
        if (auto it = req.find(http::field::expect); it != req.end()) {
            if (!iequals(std::string_view(it->value().data(), it->value().size()), "100-continue"))
                return refuse(problem_with_status(VIGY_INVALID_ARGUMENT, 417,
                                                  "unsupported Expect " + show(std::string(it->value()))));
            if (has_body && version_ == 11) {
                continue_ = std::make_shared<const std::string>("HTTP/1.1 100 Continue\r\n\r\n");
                net::async_write(sock_, net::buffer(*continue_),
                                 [self = shared_from_this(), m = std::move(m), query = std::move(query)](
                                     error_code e, std::size_t) mutable {
                                     if (e) return self->hard_close();
                                     self->read_body(std::move(m), std::move(query));
                                 });
                return;
            }
        }
        read_body(std::move(m), std::move(query));
    }

    void read_body(router::match m, std::string query) {
        if (phase_ == phase::closed) return;
        if (parser_->is_done()) return dispatch(std::move(m), std::move(query));
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - request_start_).count();
        arm(st_->opts.request_timeout_ms - elapsed, phase::body);
        http::async_read(sock_, buf_, *parser_,
                         [self = shared_from_this(), m = std::move(m), query = std::move(query)](error_code ec,
                                                                                                 std::size_t) mutable {
                             if (self->phase_ == phase::closed) return;
                             if (ec) return self->on_read_error(ec, false);
                             self->dispatch(std::move(m), std::move(query));
                         });
    }

    void on_read_error(error_code ec, bool in_header) {
        if (ec == net::error::operation_aborted) return;  // the deadline closed the socket: already handled
        if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
            ec == net::error::bad_descriptor)
            return hard_close();
        close_after_ = true;
        if (ec == http::error::header_limit) {
            st_->rejected("header-too-large");
            return send_problem(
                make_problem(VIGY_RESOURCE_EXHAUSTED,
                             "request header exceeds " + std::to_string(st_->opts.max_header_bytes) + " bytes",
                             status_hint::headers_too_large));
        }
        if (ec == http::error::body_limit) {
            st_->rejected("body-too-large");
            return send_problem(make_problem(
                VIGY_RESOURCE_EXHAUSTED, "request body exceeds " + std::to_string(st_->opts.max_body_bytes) + " bytes",
                status_hint::body_too_large));
        }
        if (ec == http::error::partial_message) return hard_close();  // the client went away mid-request
        st_->rejected("malformed");
        (void)in_header;
        send_problem(make_problem(VIGY_INVALID_ARGUMENT, "malformed HTTP request: " + ec.message()));
    }

    static problem problem_with_status(vigy_status code, int status, std::string detail) {
        problem p = make_problem(code, std::move(detail));
        p.status = status;
        return p;
    }

    static std::string join(const std::set<std::string>& items) {
        std::string out;
        for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
        return out;
    }
    static std::string join(const std::vector<std::string>& items) {
        std::string out;
        for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
        return out;
    }

    /// Checks the bearer token; answers 401 and returns false when it is required and wrong.
    bool authorized(bool is_public) {
        if (!st_->token || is_public) return true;
        const auto& req = parser_->get();
        std::optional<std::string_view> auth;
        std::string value;
        if (auto it = req.find(http::field::authorization); it != req.end()) {
            value = std::string(it->value());
            auth = value;
        }
        const auto v = st_->token->check(auth);
        if (v == token_verifier::verdict::ok) return true;
        st_->rejected("unauthenticated");
        problem p;
        if (v == token_verifier::verdict::missing) {
            p = make_problem(VIGY_UNAUTHENTICATED,
                             "missing bearer token: send Authorization: Bearer <token> with the token of the "
                             "server's token file");
            p.headers.set("WWW-Authenticate", "Bearer realm=\"vigy\"");
        } else {
            p = make_problem(VIGY_UNAUTHENTICATED, v == token_verifier::verdict::malformed
                                                       ? "malformed Authorization header: expected Bearer <token>"
                                                       : "invalid bearer token");
            p.headers.set("WWW-Authenticate",
                          std::string("Bearer realm=\"vigy\", error=\"") +
                              (v == token_verifier::verdict::malformed ? "invalid_request" : "invalid_token") + "\"");
        }
        refuse(std::move(p));
        return false;
    }

    /// A problem answered before the body was read: the connection cannot be
    /// reused when a body is still in flight.
    void refuse(problem p) {
        if (close_after_on_refusal_) close_after_ = true;
        send_problem(std::move(p));
    }

    // -- dispatch -------------------------------------------------------------------
    void dispatch(router::match m, std::string query) {
        disarm(phase::handling);
        request r;
        auto msg = parser_->release();
        r.method = method_;
        r.target = std::string(msg.target());
        r.path = path_;
        r.raw_query = query;
        r.params = std::move(m.params);
        r.route = m.pattern;
        r.peer = peer_;
        r.version = version_;
        for (const auto& f : msg) r.headers.add(std::string(f.name_string()), std::string(f.value()));
        r.body = std::move(msg.body());
        try {
            r.query = parse_query(query);
        } catch (const http_error& e) {
            return send_problem(e.get());
        }
        const handler* h = m.target;
        if (m.options.on_event_loop) return send_response(run_handler(st_->routes, *h, r));
        if (m.options.probe) {
            std::optional<response> fast;
            try {
                fast = m.options.probe(r);
            } catch (...) {
                fast.reset();  // the handler answers, with its own error if there is one
            }
            if (fast) return send_response(std::move(*fast));
        }
        auto self = shared_from_this();
        const bool queued = st_->submit([self, h, r = std::move(r)]() mutable {
            response res = run_handler(self->st_->routes, *h, r);
            net::post(self->sock_.get_executor(),
                      [self, res = std::move(res)]() mutable { self->send_response(std::move(res)); });
        });
        if (!queued) {
            close_after_ = true;
            send_problem(make_problem(VIGY_UNAVAILABLE, "the server is stopping"));
        }
    }

    static response run_handler(const router& routes, const handler& h, request& r) {
        try {
            return h(r);
        } catch (const std::exception& e) {
            problem p = routes.translate(e);
            if (p.instance.empty()) p.instance = r.path;
            return problem_response(p);
        } catch (...) {
            problem p = make_problem(VIGY_INTERNAL, "handler threw a non-standard exception");
            p.instance = r.path;
            return problem_response(p);
        }
    }

    // -- writing --------------------------------------------------------------------
    void send_problem(problem p) {
        if (p.instance.empty() && !path_.empty()) p.instance = path_;
        send_response(problem_response(p));
    }

    void add_common_headers(http::fields& h) {
        h.set(http::field::date, http_date());
        if (!cors_origin_.empty()) {
            h.set(http::field::access_control_allow_origin, cors_origin_);
            h.set(http::field::vary, "Origin");
            h.set(http::field::access_control_expose_headers, "ETag, Location, Retry-After, WWW-Authenticate");
        }
    }

    void send_response(response res) {
        if (phase_ == phase::closed) return;
        if (res.stream) return start_stream(std::move(res));
        status_ = res.status;
        auto& out = res_.emplace();
        out.version(version_);
        out.result(static_cast<unsigned>(res.status));
        const std::string_view phrase = reason_phrase(res.status);
        out.reason(beast::string_view(phrase.data(), phrase.size()));
        for (const auto& [name, value] : res.headers) out.insert(name, value);
        add_common_headers(out);
        const bool no_body = res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
        if (!no_body) out.set(http::field::content_length, std::to_string(res.body.size()));
        if (!head_ && !no_body) out.body() = std::move(res.body);
        if (st_->stopping.load()) close_after_ = true;
        out.keep_alive(keep_alive_ && !close_after_);
        arm(st_->opts.write_timeout_ms, phase::writing);
        http::async_write(sock_, out, [self = shared_from_this()](error_code ec, std::size_t) {
            if (self->phase_ == phase::closed) return;
            self->record();
            if (ec) return self->hard_close();
            const bool again = self->res_->keep_alive();
            self->res_.reset();
            if (again)
                self->read_request();
            else
                self->linger_close();
        });
    }

    void record() {
        if (method_.empty()) method_ = "OTHER";
        // a keep-alive connection mostly repeats one request: remember its series
        // (children are never removed from a family, so the pointers stay valid)
        if (!rec_.requests || rec_.status != status_ || rec_.method != method_ || rec_.pattern != pattern_) {
            const std::string m = method_label(method_);
            const std::string route = pattern_.empty() ? "unmatched" : pattern_;
            rec_.requests = &st_->m_requests->with({m, route, std::to_string(status_)});
            rec_.duration = &st_->m_duration->with({m, route});
            rec_.method = method_;
            rec_.pattern = pattern_;
            rec_.status = status_;
        }
        rec_.requests->inc();
        rec_.duration->observe(std::chrono::duration<double>(clock_type::now() - request_start_).count());
        st_->n_requests.fetch_add(1, std::memory_order_relaxed);
    }

    // -- event streams -----------------------------------------------------------------
    void start_stream(response res) {
        auto stream = std::move(res.stream);
        auto refuse_stream = [&](close_reason why, problem p) {
            detail::event_stream_access::end(*stream, why);
            st_->m_streams_closed->with({close_reason_name(why)}).inc();
            detail::event_stream_access::fire_on_close(*stream);
            close_after_ = true;
            send_problem(std::move(p));
        };
        if (st_->stopping.load())
            return refuse_stream(close_reason::server_stopped,
                                 make_problem(VIGY_UNAVAILABLE, "the server is stopping"));
        const std::size_t open = st_->n_streams.fetch_add(1);
        if (open >= st_->opts.max_event_streams) {
            st_->n_streams.fetch_sub(1);
            st_->rejected("event-streams");
            problem p = make_problem(VIGY_RESOURCE_EXHAUSTED,
                                     "too many event streams: " + std::to_string(open) + " open, the limit is " +
                                         std::to_string(st_->opts.max_event_streams) + " (retry later)");
            p.headers.set("Retry-After", "5");
            return refuse_stream(close_reason::rejected, std::move(p));
        }
        // The wake callback lives in the stream, which may outlive this connection and
        // the io_context (a producer holds it): it keeps only a weak reference, no executor.
        std::weak_ptr<connection> weak = shared_from_this();
        if (!detail::event_stream_access::attach(*stream, [weak] {
                if (auto self = weak.lock()) net::post(self->sock_.get_executor(), [self] { self->drain(); });
            })) {
            st_->n_streams.fetch_sub(1);
            close_after_ = true;
            return send_problem(make_problem(VIGY_INTERNAL, "an event stream was returned twice"));
        }
        stream_ = std::move(stream);
        stream_counted_ = true;
        st_->m_streams->inc();
        status_ = 200;

        auto& hdr = stream_head_.emplace();
        hdr.version(version_);
        hdr.result(http::status::ok);
        for (const auto& [name, value] : res.headers) hdr.insert(name, value);
        hdr.set(http::field::content_type, "text/event-stream");
        hdr.set(http::field::cache_control, "no-cache");
        hdr.set("X-Accel-Buffering", "no");
        add_common_headers(hdr);
        hdr.keep_alive(false);
        chunked_ = version_ == 11;
        if (chunked_) hdr.chunked(true);
        const auto& o = stream_->settings();
        if (o.retry_ms > 0) pending_ = "retry: " + std::to_string(o.retry_ms) + "\n\n";
        serializer_.emplace(hdr);
        arm(st_->opts.write_timeout_ms, phase::writing);
        writing_ = true;
        http::async_write_header(sock_, *serializer_, [self = shared_from_this()](error_code ec, std::size_t) {
            self->writing_ = false;
            if (self->phase_ == phase::closed) return;
            self->record();
            if (ec) return self->end_stream(close_reason::client, false);
            self->on_stream_started();
        });
    }

    void on_stream_started() {
        disarm(phase::streaming);
        last_write_ = clock_type::now();
        if (st_->stopping.load()) return end_stream(close_reason::server_stopped, true);  // stop() raced the head
        if (head_) {
            stream_->close();
            return end_stream(close_reason::producer, true);
        }
        read_peer();
        const auto& o = stream_->settings();
        if (o.keepalive_ms > 0) schedule_heartbeat();
        if (o.bookmark_ms > 0 && o.bookmark) schedule_bookmark();
        if (o.max_duration_ms > 0) {
            life_timer_.expires_after(std::chrono::milliseconds(o.max_duration_ms));
            life_timer_.async_wait([self = shared_from_this()](error_code ec) {
                if (ec || self->phase_ != phase::streaming) return;
                self->end_stream(close_reason::max_duration, true);
            });
        }
        if (o.producer) {
            auto s = stream_;
            if (!st_->submit([s] {
                    try {
                        s->settings().producer(s);
                    } catch (const std::exception& e) {
                        log_warning(std::string("event stream producer failed: ") + e.what());
                        s->close();
                    } catch (...) {
                        s->close();
                    }
                }))
                return end_stream(close_reason::server_stopped, true);
        }
        drain();
    }

    /// Reads and discards what the peer sends while streaming (an error or EOF
    /// means the client left) and while lingering (EOF: close). One read at a time.
    void read_peer() {
        if (peer_reading_) return;
        peer_reading_ = true;
        sock_.async_read_some(net::buffer(scratch_), [self = shared_from_this()](error_code ec, std::size_t) {
            self->peer_reading_ = false;
            if (self->phase_ == phase::lingering) {
                if (ec) return self->hard_close();
                return self->read_peer();
            }
            if (self->phase_ == phase::closed) return;
            if (self->stream_ && !self->stream_ended_) {
                if (ec) return self->end_stream(close_reason::client, false);
                return self->read_peer();
            }
            // between the last chunk and lingering: keep watching
            if (!ec) self->read_peer();
        });
    }

    void schedule_heartbeat() {
        const auto ms = stream_->settings().keepalive_ms;
        hb_timer_.expires_after(std::chrono::milliseconds(ms));
        hb_timer_.async_wait([self = shared_from_this(), ms](error_code ec) {
            if (ec || self->phase_ != phase::streaming) return;
            if (clock_type::now() - self->last_write_ >= std::chrono::milliseconds(ms) && !self->writing_)
                self->stream_->comment("keep-alive");
            self->schedule_heartbeat();
        });
    }

    void schedule_bookmark() {
        bm_timer_.expires_after(std::chrono::milliseconds(stream_->settings().bookmark_ms));
        bm_timer_.async_wait([self = shared_from_this()](error_code ec) {
            if (ec || self->phase_ != phase::streaming) return;
            try {
                if (auto e = self->stream_->settings().bookmark()) self->stream_->send(*e);
            } catch (const std::exception& ex) {
                log_warning(std::string("event stream bookmark hook failed: ") + ex.what());
            }
            self->schedule_bookmark();
        });
    }

    void drain() {
        if (phase_ != phase::streaming) return;
        if (writing_) {
            // dropped while a write is stuck (the client stopped reading): do not
            // wait for the write timeout, close now (cancels the write)
            if (const auto why = detail::event_stream_access::dropped(*stream_);
                why && *why != close_reason::max_duration && *why != close_reason::server_stopped)
                end_stream(*why, false);
            return;
        }
        auto b = detail::event_stream_access::take(*stream_, stream_chunk_bytes);
        if (b.finished && b.reason != close_reason::producer) {
            // dropped (slow consumer) or ended by the server: nothing more is written
            const bool graceful = b.reason == close_reason::max_duration || b.reason == close_reason::server_stopped;
            return end_stream(b.reason, graceful);
        }
        out_ = std::move(pending_);
        pending_.clear();
        out_ += b.data;
        if (out_.empty()) {
            if (b.finished) end_stream(close_reason::producer, true);
            return;
        }
        writing_ = true;
        const bool finished = b.finished;
        arm(st_->opts.write_timeout_ms, phase::streaming);
        auto done = [self = shared_from_this(), finished](error_code ec, std::size_t) {
            self->writing_ = false;
            if (self->phase_ != phase::streaming) return;
            self->disarm(phase::streaming);
            if (self->last_chunk_after_write_) {  // ended gracefully while this write was out
                if (ec) return self->hard_close();
                return self->write_last_chunk();
            }
            if (ec) return self->end_stream(close_reason::client, false);
            self->last_write_ = clock_type::now();
            if (finished) return self->end_stream(close_reason::producer, true);
            self->drain();
        };
        if (chunked_)
            net::async_write(sock_, http::make_chunk(net::buffer(out_)), std::move(done));
        else
            net::async_write(sock_, net::buffer(out_), std::move(done));
    }

    /// Ends the stream once: bookkeeping, on_close, then the last chunk
    /// (graceful) or an immediate close.
    void end_stream(close_reason why, bool graceful) {
        if (!stream_ || stream_ended_) return;
        stream_ended_ = true;
        detail::event_stream_access::end(*stream_, why);
        const close_reason reason = stream_->reason();
        st_->m_streams_closed->with({close_reason_name(reason)}).inc();
        if (stream_counted_) {
            st_->n_streams.fetch_sub(1);
            st_->m_streams->dec();
            stream_counted_ = false;
        }
        hb_timer_.cancel();
        bm_timer_.cancel();
        life_timer_.cancel();
        detail::event_stream_access::fire_on_close(*stream_);
        if (graceful && writing_ && !head_) {
            // a chunk is being written: end with the last chunk once it is out (a stop
            // or a max_duration then still looks like a clean end to the client)
            last_chunk_after_write_ = true;
            return;
        }
        if (!graceful || writing_ || head_) {
            if (head_ && graceful) return linger_close();
            return hard_close();
        }
        write_last_chunk();
    }

    /// The graceful end of a stream: the last chunk (chunked) and a lingering close.
    void write_last_chunk() {
        phase_ = phase::writing;
        arm(st_->opts.write_timeout_ms < 2000 ? st_->opts.write_timeout_ms : 2000, phase::writing);
        auto done = [self = shared_from_this()](error_code ec, std::size_t) {
            if (self->phase_ == phase::closed) return;
            if (ec) return self->hard_close();
            self->linger_close();
        };
        if (chunked_)
            net::async_write(sock_, http::make_chunk_last(), std::move(done));
        else
            linger_close();
    }

    // -- closing -----------------------------------------------------------------------
    void on_server_stop() {
        switch (phase_) {
        case phase::idle:
        case phase::header:
        case phase::body: return hard_close();
        case phase::handling:
        case phase::writing: close_after_ = true; return;
        case phase::streaming: return end_stream(close_reason::server_stopped, true);
        case phase::lingering:
        case phase::closed: return;
        }
    }

    /// Half-close and read what the peer still sends (so our response is not
    /// destroyed by a reset), for at most linger_ms, then close.
    void linger_close() {
        if (phase_ == phase::closed) return;
        error_code ec;
        sock_.shutdown(net::socket_base::shutdown_send, ec);
        if (ec) return hard_close();
        arm(linger_ms, phase::lingering);
        read_peer();
    }

    void hard_close() {
        if (phase_ == phase::closed) return;
        if (stream_ && !stream_ended_) {
            end_stream(close_reason::client, false);  // calls hard_close again
            return;
        }
        phase_ = phase::closed;
        ++deadline_gen_;
        error_code ec;
        timer_.cancel();
        hb_timer_.cancel();
        bm_timer_.cancel();
        life_timer_.cancel();
        sock_.shutdown(net::socket_base::shutdown_both, ec);
        sock_.close(ec);
    }

    std::shared_ptr<server::impl> st_;
    gsocket sock_;
    net::steady_timer timer_;
    net::steady_timer hb_timer_;
    net::steady_timer bm_timer_;
    net::steady_timer life_timer_;
    bool is_unix_;
    std::string peer_;
    bool counted_ = false;
    bool rejecting_ = false;
    std::shared_ptr<const std::string> canned_;
    std::shared_ptr<const std::string> continue_;

    phase phase_ = phase::idle;
    uint64_t deadline_gen_ = 0;
    bool first_request_ = true;
    clock_type::time_point request_start_ = clock_type::now();

    beast::flat_buffer buf_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::optional<http::response<http::string_body>> res_;
    unsigned version_ = 11;
    bool keep_alive_ = true;
    bool close_after_ = false;
    bool close_after_on_refusal_ = false;
    bool head_ = false;
    std::string method_;
    std::string path_;
    std::string pattern_;
    std::string cors_origin_;
    int status_ = 0;
    struct recorded_series {
        std::string method, pattern;
        int status = 0;
        counter* requests = nullptr;
        histogram* duration = nullptr;
    } rec_;  ///< the metric series of this connection's last request (record())

    // streaming
    std::shared_ptr<event_stream> stream_;
    bool stream_counted_ = false;
    bool stream_ended_ = false;
    bool chunked_ = true;
    bool writing_ = false;
    bool last_chunk_after_write_ = false;  // end_stream() ran while a chunk was being written
    std::optional<http::response<http::empty_body>> stream_head_;
    std::optional<http::response_serializer<http::empty_body>> serializer_;
    std::string pending_;
    std::string out_;
    clock_type::time_point last_write_;
    std::array<char, 512> scratch_{};
    bool peer_reading_ = false;
};

// ---- listeners ----------------------------------------------------------------------

void server::impl::admit(gsocket sock, bool is_unix, std::string peer) {
    if (stopping.load()) {
        error_code ec;
        sock.close(ec);
        return;
    }
    const std::size_t open = n_connections.fetch_add(1);
    if (open >= opts.max_connections) {
        n_connections.fetch_sub(1);
        rejected("connections");
        if (n_rejecting.fetch_add(1) >= max_rejecting) {
            n_rejecting.fetch_sub(1);
            error_code ec;
            sock.close(ec);
            return;
        }
        problem p =
            make_problem(VIGY_UNAVAILABLE, "too many connections: " + std::to_string(open) + " open, the limit is " +
                                               std::to_string(opts.max_connections) + " (retry later)");
        const std::string body = problem_json(p);
        auto canned = std::make_shared<const std::string>(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\n"
            "Connection: close\r\nDate: " +
            http_date() + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        auto c = std::make_shared<connection>(shared_from_this(), std::move(sock), is_unix, std::move(peer));
        c->start_rejected(std::move(canned));
        return;
    }
    m_connections->inc();
    auto c = std::make_shared<connection>(shared_from_this(), std::move(sock), is_unix, std::move(peer));
    {
        std::lock_guard lock(conns_mu);
        conns.emplace(c.get(), c);
    }
    c->start(true);
}

void server::impl::retry_accept_later(std::function<void()> again) {
    auto t = std::make_shared<net::steady_timer>(io, std::chrono::milliseconds(100));
    t->async_wait([t, again = std::move(again)](error_code ec) {
        if (!ec) again();
    });
}

void server::impl::accept_tcp(const std::shared_ptr<tcp::acceptor>& a) {
    std::lock_guard lock(listen_mu);
    if (listeners_closed) return;
    a->async_accept(net::make_strand(io), [self = shared_from_this(), a](error_code ec, tcp::socket s) {
        if (ec == net::error::operation_aborted || self->stopping.load()) return;
        if (ec) {
            log_warning("accept failed: " + ec.message());
            return self->retry_accept_later([self, a] { self->accept_tcp(a); });
        }
        error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        const auto ep = s.remote_endpoint(ignored);
        std::string peer = ignored ? std::string("unknown") : endpoint_text(ep);
        self->admit(gsocket(std::move(s)), false, std::move(peer));
        self->accept_tcp(a);
    });
}

void server::impl::accept_unix(const std::shared_ptr<unix_proto::acceptor>& a) {
    std::lock_guard lock(listen_mu);
    if (listeners_closed) return;
    a->async_accept(net::make_strand(io), [self = shared_from_this(), a](error_code ec, unix_proto::socket s) {
        if (ec == net::error::operation_aborted || self->stopping.load()) return;
        if (ec) {
            log_warning("accept failed: " + ec.message());
            return self->retry_accept_later([self, a] { self->accept_unix(a); });
        }
        self->admit(gsocket(std::move(s)), true, "unix");
        self->accept_unix(a);
    });
}

void server::impl::bind_tcp(const listen_address& a) {
    const std::string what = "cannot listen on " + a.text + ": ";
    error_code ec;
    net::ip::address addr =
        a.host == "localhost" ? net::ip::make_address("127.0.0.1") : net::ip::make_address(a.host, ec);
    if (ec) {
        tcp::resolver resolver(io);
        const auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
        if (ec || results.empty())
            throw server_error(what + "cannot resolve host " + show(a.host) + (ec ? ": " + ec.message() : ""));
        addr = results.begin()->endpoint().address();
    }
    const bool loopback = is_loopback(addr);
    if (!loopback && !token)
        throw server_error("refusing to listen on " + a.text +
                           " without a bearer token: a non-loopback address needs a token file (vigy serve "
                           "--token-file FILE, a file readable only by its owner)");
    auto acc = std::make_shared<tcp::acceptor>(io);
    const tcp::endpoint ep(addr, static_cast<unsigned short>(a.port));
    acc->open(ep.protocol(), ec);
    if (ec) throw server_error(what + ec.message());
    acc->set_option(net::socket_base::reuse_address(true), ec);
    if (addr.is_v6()) acc->set_option(net::ip::v6_only(true), ec);
    acc->bind(ep, ec);
    if (ec) throw server_error(what + ec.message());
    acc->listen(opts.listen_backlog, ec);
    if (ec) throw server_error(what + ec.message());
    const auto local = acc->local_endpoint(ec);
    if (ec) throw server_error(what + ec.message());
    tcp_acceptors.push_back(acc);
    bound.push_back({a.text, "http://" + endpoint_text(local), loopback});
    if (!is_ip_literal(a.host)) {
        std::string h = a.host;
        for (char& c : h)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        policy.allowed_hosts.push_back(h);
    }
}

void server::impl::bind_unix(const listen_address& a) {
    const std::string path = a.path.string();
    const std::string what = "cannot listen on " + a.text + ": ";
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) throw server_error(what + "the path exists and is not a socket");
        // A socket file: live (someone accepts) or stale (its server died).
        unix_proto::socket probe(io);
        error_code ec;
        probe.connect(unix_proto::endpoint(path), ec);
        if (!ec) throw server_error(what + "another server is listening on it");
        if (ec != net::error::connection_refused)
            throw server_error(what + "cannot check the existing socket: " + ec.message());
        if (::unlink(path.c_str()) != 0)
            throw server_error(what + "cannot remove the stale socket: " + std::strerror(errno));
    }
    // Bind inside a fresh 0700 directory next to the target, make the socket 0600,
    // then rename it into place: nobody else can connect in between.
    const std::filesystem::path parent = a.path.has_parent_path() ? a.path.parent_path() : ".";
    std::string tmpl = (parent / ".vigy-XXXXXX").string();
    if (tmpl.size() + 2 > 107) throw server_error(what + "the socket's directory path is too long (at most 92 bytes)");
    if (!::mkdtemp(tmpl.data())) throw server_error(what + std::strerror(errno));
    const std::string tmp_sock = tmpl + "/s";
    auto cleanup_tmp = [&] {
        ::unlink(tmp_sock.c_str());
        ::rmdir(tmpl.c_str());
    };
    auto acc = std::make_shared<unix_proto::acceptor>(io);
    error_code ec;
    acc->open(unix_proto(), ec);
    if (!ec) acc->bind(unix_proto::endpoint(tmp_sock), ec);
    if (ec) {
        cleanup_tmp();
        throw server_error(what + ec.message());
    }
    if (::chmod(tmp_sock.c_str(), 0600) != 0 || ::rename(tmp_sock.c_str(), path.c_str()) != 0) {
        const std::string err = std::strerror(errno);
        cleanup_tmp();
        throw server_error(what + err);
    }
    ::rmdir(tmpl.c_str());
    acc->listen(opts.listen_backlog, ec);
    if (ec) {
        ::unlink(path.c_str());
        throw server_error(what + ec.message());
    }
    unix_listener l;
    l.acceptor = acc;
    l.path = path;
    if (::stat(path.c_str(), &st) == 0) {
        l.dev = st.st_dev;
        l.ino = st.st_ino;
    }
    unix_acceptors.push_back(std::move(l));
    bound.push_back({a.text, "unix:" + path, true});
}

void server::impl::bind_all() {
    try {
        for (const auto& a : opts.listen) {
            if (a.type == listen_address::kind::tcp)
                bind_tcp(a);
            else
                bind_unix(a);
        }
    } catch (...) {
        close_listeners();
        bound.clear();
        throw;
    }
}

void server::impl::close_listeners() {
    std::lock_guard lock(listen_mu);
    listeners_closed = true;
    error_code ec;
    for (auto& a : tcp_acceptors) a->close(ec);
    for (auto& u : unix_acceptors) {
        u.acceptor->close(ec);
        struct stat st {};
        if (::lstat(u.path.c_str(), &st) == 0 && st.st_dev == u.dev && st.st_ino == u.ino) ::unlink(u.path.c_str());
    }
    tcp_acceptors.clear();
    unix_acceptors.clear();
}

void server::impl::stop() {
    if (stopping.exchange(true)) return;
    close_listeners();
    std::vector<std::shared_ptr<connection>> live;
    {
        std::lock_guard lock(conns_mu);
        for (auto& [ptr, weak] : conns)
            if (auto c = weak.lock()) live.push_back(std::move(c));
    }
    for (auto& c : live) c->server_stop();
}

// ---- server ---------------------------------------------------------------------------

server::server(net::io_context& io, router routes, server_options options)
    : impl_(std::make_shared<impl>(io, std::move(routes), std::move(options))) {}

server::~server() {
    impl_->stop();
    {
        std::lock_guard lock(impl_->work_mu);
        impl_->accepting_work = false;
    }
    impl_->pool.join();
}

std::vector<listener_info> server::start() {
    auto& s = *impl_;
    if (s.started) throw server_error("the API server is already started");
    s.started = true;
    const auto& o = s.opts;
    if (o.token_file && o.token) throw server_error("give either a token file or a token, not both");
    try {
        if (o.token_file) s.token.emplace(load_token_file(*o.token_file));
        if (o.token) s.token.emplace(*o.token);
    } catch (const std::exception& e) {
        throw server_error(e.what());
    }
    if (o.max_body_bytes == 0 || o.max_header_bytes < 1024 || o.max_connections == 0)
        throw server_error("invalid server limits: body and connections must be > 0, headers >= 1024 bytes");
    if (o.header_timeout_ms <= 0 || o.request_timeout_ms <= 0 || o.idle_timeout_ms <= 0 || o.write_timeout_ms <= 0)
        throw server_error("invalid server timeouts: every timeout must be > 0 ms");
    for (const auto& h : o.allowed_hosts) {
        const auto hp = parse_host_header(h);
        if (!hp || hp->port) throw server_error("invalid allowed host " + show(h) + ": give a host name without port");
        s.policy.allowed_hosts.push_back(hp->host);
    }
    for (const auto& c : o.cors_origins) {
        const auto n = normalize_origin(c);
        if (!n) throw server_error("invalid CORS origin " + show(c) + ": expected scheme://host[:port]");
        s.policy.cors_origins.push_back(*n);
    }
    s.bind_all();
    for (auto& a : s.tcp_acceptors) s.accept_tcp(a);
    for (auto& u : s.unix_acceptors) s.accept_unix(u.acceptor);
    return s.bound;
}

void server::stop() { impl_->stop(); }

const std::vector<listener_info>& server::listeners() const noexcept { return impl_->bound; }

const router& server::routes() const noexcept { return impl_->routes; }

const std::shared_ptr<metrics_registry>& server::metrics() const noexcept { return impl_->metrics; }

server_stats server::stats() const {
    server_stats st;
    st.connections = impl_->n_connections.load();
    st.event_streams = impl_->n_streams.load();
    st.requests = impl_->n_requests.load();
    st.rejected_connections = static_cast<uint64_t>(impl_->m_rejected->with({"connections"}).value());
    return st;
}

}  // namespace vigy::api
