/// vigy/api/server.hpp — the HTTP/1.1 server of the vigy API (Boost.Beast),
/// mountable on an application's own Asio io_context.
///
///     boost::asio::io_context io;
///     vigy::api::router routes;                 // + add_builtin_routes(...)
///     vigy::api::server_options o;
///     o.listen = vigy::api::parse_listen_addresses({"127.0.0.1:38821", "unix:/run/vigy.sock"});
///     vigy::api::server srv(io, std::move(routes), o);
///     for (const auto& l : srv.start()) std::cout << "listening on " << l.url << "\n";
///     io.run();                                 // any number of threads
///
/// Listeners: TCP `host:port` (IPv4, [IPv6] or a host name; port 0 picks a free
/// port, reported in listener_info::url) and `unix:/path` (the socket file is
/// created 0600 and removed on stop; a stale socket file left by a dead process
/// is replaced; a live one or a non-socket file is refused).
///
/// Security by default: loopback only. A non-loopback listen address refuses to
/// start unless a bearer token is configured (token_file or token); with a token,
/// every route except /livez answers 401 + WWW-Authenticate: Bearer without it.
/// Host and Origin are checked on TCP listeners (DNS rebinding; see security.hpp);
/// Unix sockets are not reachable from browsers and skip those two checks. No
/// CORS headers unless cors_origins is set.
///
/// Limits (each a clear problem+json): body > max_body_bytes 413, header block >
/// max_header_bytes 431, more than max_connections open 503, more than
/// max_event_streams streams 429; a request whose header does not arrive within
/// header_timeout_ms (counted from its first byte, so dripping bytes do not
/// extend it) gets 408 and is closed, likewise a body not complete within
/// request_timeout_ms; an idle keep-alive connection closes after
/// idle_timeout_ms; a response write that stalls for write_timeout_ms drops the
/// connection. Malformed HTTP is 400 and closes that connection only.
///
/// Handlers run on the server's worker pool (worker_threads), never on the
/// event loop (except on_event_loop routes), so blocking runtime calls do not
/// stall other connections; the response is posted back to the connection. A
/// route with a probe (route_options::probe) first tries it on the loop, and only a
/// request it declines goes to the pool: a cache hit costs no thread hand-off.
///
/// Metrics (into options.metrics): vigy_http_requests_total{method,route,code},
/// vigy_http_request_duration_seconds{method,route} (to the response's last byte;
/// for an event stream, to its head), vigy_http_connections,
/// vigy_http_event_streams, vigy_http_rejected_total{reason}, and
/// vigy_http_event_streams_closed_total{reason}. `route` is the matched pattern,
/// "unmatched" for 404s and requests refused before routing.
///
/// Threading: start() and stop() may be called from any thread (stop also from a
/// handler). The io_context must be run by the application; it must outlive
/// the server object. The destructor stops the server and waits for running
/// handlers (it must not run on a worker thread of this server).
#ifndef VIGY_API_SERVER_HPP
#define VIGY_API_SERVER_HPP

#include "vigy/api/metrics.hpp"
#include "vigy/api/router.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace vigy::api {

/// vigy's API port (the original's).
inline constexpr unsigned default_port = 38821;
/// The default listen address.
inline constexpr std::string_view default_listen = "127.0.0.1:38821";

/// One parsed listen address.
struct listen_address {
    enum class kind { tcp, unix_socket };
    kind type = kind::tcp;
    std::string host;            ///< tcp: "127.0.0.1", "::1" (no brackets), "localhost", "0.0.0.0", a name
    unsigned port = 0;           ///< tcp: 0..65535 (0 = any free port)
    std::filesystem::path path;  ///< unix_socket: the socket file
    std::string text;            ///< as given ("127.0.0.1:38821", "unix:/run/vigy.sock")
};

/// Parses "host:port", "[v6]:port" or "unix:/path". Throws std::invalid_argument
/// with a message naming the value ("invalid listen address \":80\": give a
/// host, e.g. 127.0.0.1:80 (loopback) or 0.0.0.0:80 (every interface)").
listen_address parse_listen_address(std::string_view text);

/// Parses repeated --listen values: "none" alone means no listener (an empty
/// result); "none" beside another address is an error; an empty list means
/// default_listen.
std::vector<listen_address> parse_listen_addresses(const std::vector<std::string>& values);

/// Server configuration. Sizes in bytes, times in milliseconds.
struct server_options {
    std::vector<listen_address> listen;  ///< empty: no listener (start() binds nothing)
    /// Bearer token file (see security.hpp load_token_file) or the token itself;
    /// at most one of them. Required for a non-loopback listen address.
    std::optional<std::filesystem::path> token_file;
    std::optional<std::string> token;
    /// Extra names accepted in Host (e.g. "vigy.internal"); listen host names are added automatically.
    std::vector<std::string> allowed_hosts;
    /// Origins that may call the API cross-origin (exact "https://dash.example:8443");
    /// they get CORS headers and preflight answers. Empty: no CORS at all.
    std::vector<std::string> cors_origins;

    std::size_t max_body_bytes = 1u << 20;     ///< 1 MiB -> 413 above
    std::size_t max_header_bytes = 16u << 10;  ///< 16 KiB -> 431 above
    std::size_t max_connections = 256;         ///< open connections; 503 above
    std::size_t max_event_streams = 128;       ///< open SSE streams; 429 above
    int64_t header_timeout_ms = 10000;         ///< first byte of a request -> end of its header
    int64_t request_timeout_ms = 30000;        ///< first byte of a request -> end of its body
    int64_t idle_timeout_ms = 60000;           ///< keep-alive wait for the next request
    int64_t write_timeout_ms = 30000;          ///< one response (or event chunk) write
    unsigned worker_threads = 8;               ///< handler pool size (>= 1)
    int listen_backlog = 512;

    /// Where the server's own metrics go; null: a private registry (server::metrics()).
    std::shared_ptr<metrics_registry> metrics;
};

/// A bound listener.
struct listener_info {
    std::string address;   ///< as configured ("127.0.0.1:0", "unix:/tmp/v.sock")
    std::string url;       ///< "http://127.0.0.1:41234" (the real port), "http://[::1]:38821", "unix:/tmp/v.sock"
    bool loopback = true;  ///< TCP on a loopback address, or a Unix socket
};

/// Why start() failed: a bind failure (naming the address), a non-loopback
/// address without a token, a bad token file. The message is a diagnostic fit
/// to print after "error: ".
class server_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Counters for tests and status lines.
struct server_stats {
    std::size_t connections = 0;    ///< open now
    std::size_t event_streams = 0;  ///< open now
    uint64_t requests = 0;          ///< responses written since start
    uint64_t rejected_connections = 0;
};

/// The API server.
class server {
public:
    /// `io` must outlive the server. Validates nothing yet (start() does).
    server(boost::asio::io_context& io, router routes, server_options options);
    /// stop(), then waits for running handlers.
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Loads the token, checks the security rules, binds every listener (all or
    /// none: on a failure the ones already bound are closed) and starts
    /// accepting on the io_context. Returns what was bound, in order. Throws
    /// server_error. Call once.
    std::vector<listener_info> start();

    /// Stops accepting, closes idle connections and event streams, lets
    /// in-flight requests finish (their connections close after the response),
    /// removes Unix socket files. Idempotent; never blocks on the event loop.
    void stop();

    /// What start() bound.
    const std::vector<listener_info>& listeners() const noexcept;
    /// The routes being served.
    const router& routes() const noexcept;
    /// The registry holding the server's metrics (options.metrics or a private one).
    const std::shared_ptr<metrics_registry>& metrics() const noexcept;
    server_stats stats() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace vigy::api

#endif  // VIGY_API_SERVER_HPP
