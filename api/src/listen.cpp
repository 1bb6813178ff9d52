// api/src/listen.cpp — parsing --listen values.
#include "vigy/api/server.hpp"

#include <stdexcept>

namespace vigy::api {

namespace {

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

listen_address parse_listen_address(std::string_view text) {
    listen_address a;
    a.text = std::string(text);
    if (text.substr(0, 5) == "unix:") {
        a.type = listen_address::kind::unix_socket;
        const std::string_view path = text.substr(5);
        if (path.empty())
            throw std::invalid_argument("invalid listen address " + quote(text) +
                                        ": give a socket path, e.g. unix:/run/vigy/api.sock");
        if (path.find('\0') != std::string_view::npos)
            throw std::invalid_argument("invalid listen address " + quote(text) + ": NUL in the socket path");
        if (path.size() > 107)
            throw std::invalid_argument("invalid listen address " + quote(text) + ": the socket path is " +
                                        std::to_string(path.size()) + " bytes, at most 107 fit in sun_path");
        a.path = std::string(path);
        return a;
    }
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            throw std::invalid_argument("invalid listen address " + quote(text) +
                                        ": expected [IPv6]:PORT, e.g. [::1]:38821");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos)
            throw std::invalid_argument("invalid listen address " + quote(text) +
                                        ": expected HOST:PORT (e.g. 127.0.0.1:38821), unix:/path or none");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            throw std::invalid_argument("invalid listen address " + quote(text) +
                                        ": put an IPv6 address in brackets, e.g. [::1]:38821");
    }
    if (host.empty())
        throw std::invalid_argument("invalid listen address " + quote(text) +
                                    ": give a host, e.g. 127.0.0.1:" + std::string(port) +
                                    " (loopback) or 0.0.0.0:" + std::string(port) + " (every interface)");
    unsigned p = 0;
    if (port.empty() || port.size() > 5)
        throw std::invalid_argument("invalid listen address " + quote(text) + ": port must be 0..65535");
    for (char c : port) {
        if (c < '0' || c > '9')
            throw std::invalid_argument("invalid listen address " + quote(text) + ": port must be 0..65535");
        p = p * 10 + static_cast<unsigned>(c - '0');
    }
    if (p > 65535)
        throw std::invalid_argument("invalid listen address " + quote(text) + ": port " + std::to_string(p) +
                                    " is above 65535");
    for (char c : host)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == ':' || c == '_' || c == '%'))
            throw std::invalid_argument("invalid listen address " + quote(text) + ": invalid character in host " +
                                        quote(host));
    a.type = listen_address::kind::tcp;
    a.host = std::string(host);
    a.port = p;
    return a;
}

std::vector<listen_address> parse_listen_addresses(const std::vector<std::string>& values) {
    if (values.empty()) return {parse_listen_address(default_listen)};
    std::vector<listen_address> out;
    bool none = false;
    for (const auto& v : values) {
        if (v == "none") {
            none = true;
            continue;
        }
        out.push_back(parse_listen_address(v));
    }
    if (none && !out.empty())
        throw std::invalid_argument("--listen none means no API listener: it cannot be combined with " +
                                    out.front().text);
    for (std::size_t i = 0; i < out.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (out[i].text == out[j].text)
                throw std::invalid_argument("listen address " + quote(out[i].text) + " given twice");
    return out;
}

}  // namespace vigy::api
