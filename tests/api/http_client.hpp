// tests/api/http_client.hpp — a tiny blocking HTTP/1.1 client over raw POSIX
// sockets for the server tests: it can send exactly the bytes a test wants
// (garbage, a dripping header, a body that never ends) and read back what the
// server answers, with every wait bounded by a timeout (poll), never a sleep.
#ifndef VIGY_TESTS_API_HTTP_CLIENT_HPP
#define VIGY_TESTS_API_HTTP_CLIENT_HPP

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::test {

using namespace std::chrono_literals;

/// An owned socket.
class socket_fd {
public:
    socket_fd() = default;
    explicit socket_fd(int fd) : fd_(fd) {}
    socket_fd(socket_fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    socket_fd& operator=(socket_fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    ~socket_fd() { reset(); }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

/// Port of an "http://127.0.0.1:PORT" url.
inline unsigned port_of(const std::string& url) {
    const auto colon = url.rfind(':');
    return static_cast<unsigned>(std::stoul(url.substr(colon + 1)));
}

inline socket_fd connect_tcp(unsigned port) {
    socket_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return s;
}

inline socket_fd connect_unix(const std::string& path) {
    socket_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
    return s;
}

/// Sends all of `data`; false when the peer is gone.
inline bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// Reads what is available within `timeout`: "" on timeout, nullopt when the peer closed
/// (EOF or reset) with nothing to read.
inline std::optional<std::string> read_some(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) return std::string();
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
}

/// True when the peer closes the connection within `timeout` (data before the close is discarded).
inline bool wait_closed(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        auto got = read_some(fd, left > 0ms ? left : 1ms);
        if (!got) return true;
    }
    return false;
}

struct http_response {
    int status = 0;
    std::string reason;
    std::multimap<std::string, std::string> headers;  ///< names lowercased
    std::string body;
    bool closed = false;  ///< the server closed the connection after it

    std::string header(const std::string& lower_name) const {
        const auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
    bool has_header(const std::string& lower_name) const { return headers.count(lower_name) > 0; }
};

/// Reads one response from `fd` (Content-Length, chunked, or until close), using and
/// updating `pending` (bytes already read past the previous response). `head` = the
/// request was HEAD (no body). Throws on timeout.
inline http_response read_response(int fd, std::string& pending, std::chrono::milliseconds timeout = 5000ms,
                                   bool head = false) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool eof = false;
    auto fill = [&]() {
        if (eof) return false;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms)
            throw std::runtime_error("timed out reading a response; got so far: " + pending.substr(0, 300));
        auto got = read_some(fd, left);
        if (!got) {
            eof = true;
            return false;
        }
        pending += *got;
        return true;
    };
    std::size_t end;
    while ((end = pending.find("\r\n\r\n")) == std::string::npos)
        if (!fill())
            throw std::runtime_error("connection closed before a response header; got: " + pending.substr(0, 300));
    http_response r;
    const std::string head_text = pending.substr(0, end);
    pending.erase(0, end + 4);
    std::size_t line_end = head_text.find("\r\n");
    const std::string status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0)
        throw std::runtime_error("bad status line: " + status_line);
    r.status = std::stoi(status_line.substr(9, 3));
    r.reason = status_line.size() > 13 ? status_line.substr(13) : "";
    while (line_end != std::string::npos) {
        const std::size_t start = line_end + 2;
        line_end = head_text.find("\r\n", start);
        const std::string line =
            head_text.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers.emplace(name, value);
    }
    const bool no_body = head || r.status == 204 || r.status == 304 || r.status / 100 == 1;
    if (!no_body) {
        if (r.header("transfer-encoding") == "chunked") {
            while (true) {
                std::size_t le;
                while ((le = pending.find("\r\n")) == std::string::npos)
                    if (!fill()) throw std::runtime_error("connection closed inside a chunked body");
                const std::size_t size = std::stoul(pending.substr(0, le), nullptr, 16);
                while (pending.size() < le + 2 + size + 2)
                    if (!fill()) throw std::runtime_error("connection closed inside a chunk");
                r.body += pending.substr(le + 2, size);
                pending.erase(0, le + 2 + size + 2);
                if (size == 0) break;
            }
        } else if (r.has_header("content-length")) {
            const std::size_t n = std::stoul(r.header("content-length"));
            while (pending.size() < n)
                if (!fill()) throw std::runtime_error("connection closed inside a body");
            r.body = pending.substr(0, n);
            pending.erase(0, n);
        } else {
            while (fill()) {
            }
            r.body = std::move(pending);
            pending.clear();
        }
    }
    r.closed = r.header("connection") == "close";
    return r;
}

/// One request on a fresh connection: `extra` header lines end in "\r\n" each.
inline http_response http_call(unsigned port, const std::string& method, const std::string& target,
                               const std::string& extra = "", const std::string& body = "",
                               std::chrono::milliseconds timeout = 5000ms) {
    auto s = connect_tcp(port);
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra;
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "Connection: close\r\n\r\n" + body;
    if (!send_all(s.get(), req)) throw std::runtime_error("send failed");
    std::string pending;
    return read_response(s.get(), pending, timeout, method == "HEAD");
}

}  // namespace vigy::test

#endif  // VIGY_TESTS_API_HTTP_CLIENT_HPP
