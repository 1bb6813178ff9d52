// api/src/security.cpp — token files, constant-time bearer checks, Host and Origin rules.
#include "vigy/api/security.hpp"

#include "vigy/api/http.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace vigy::api {

namespace {

std::array<unsigned char, 32> sha256(std::string_view data) {
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size())
        throw std::runtime_error("sha-256 failed (OpenSSL EVP_Digest)");
    return out;
}

bool token68_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
}

/// Empty when `token` is a valid token68 of at least min_token_bytes, else what is wrong.
std::string token_problem(std::string_view token) {
    if (token.empty()) return "is empty";
    std::size_t end = token.size();
    while (end > 0 && token[end - 1] == '=') --end;
    for (std::size_t i = 0; i < end; ++i)
        if (!token68_char(token[i]))
            return "has a character not allowed in a bearer token (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =)";
    if (end == 0) return "has a character not allowed in a bearer token";
    if (token.size() < min_token_bytes)
        return "is " + std::to_string(token.size()) + " bytes: use at least " + std::to_string(min_token_bytes) +
               " (e.g. openssl rand -hex 32)";
    return {};
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool host_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

std::optional<unsigned> parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 65535) return std::nullopt;
    return v;
}

}  // namespace

void validate_token(std::string_view token) {
    if (const std::string p = token_problem(token); !p.empty()) throw std::invalid_argument("bearer token " + p);
}

std::string load_token_file(const std::filesystem::path& file) {
    const std::string name = file.string();
    const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot read token file " + name + ": " + std::strerror(errno));
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } guard{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw std::runtime_error("cannot stat token file " + name + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw std::runtime_error("token file " + name + " is not a regular file");
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw std::runtime_error("token file " + name + " has mode " + mode +
                                 ": it must be readable only by its owner (chmod 600 " + name + ")");
    }
    if (st.st_uid != ::geteuid())
        throw std::runtime_error("token file " + name + " is owned by uid " + std::to_string(st.st_uid) +
                                 ", not by this user (uid " + std::to_string(::geteuid()) + ")");
    if (st.st_size > 4096)
        throw std::runtime_error("token file " + name + " is larger than 4096 bytes: is it a token?");
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("cannot read token file " + name + ": " + std::strerror(errno));
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (const std::string p = token_problem(text); !p.empty()) {
        if (text.empty()) throw std::runtime_error("token file " + name + " is empty");
        throw std::runtime_error("the token in " + name + " " + p);
    }
    return text;
}

token_verifier::token_verifier(std::string_view token) : digest_(sha256(token)) { validate_token(token); }

token_verifier::verdict token_verifier::check(std::optional<std::string_view> authorization) const {
    if (!authorization) return verdict::missing;
    const std::string_view v = *authorization;
    if (v.size() < 7 || !iequals(v.substr(0, 6), "bearer") || v[6] != ' ') return verdict::malformed;
    std::string_view token = v.substr(7);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (token.empty()) return verdict::malformed;
    const auto d = sha256(token);
    return CRYPTO_memcmp(d.data(), digest_.data(), d.size()) == 0 ? verdict::ok : verdict::wrong;
}

std::optional<host_port> parse_host_header(std::string_view value) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    host_port hp;
    std::string_view rest;
    if (value.front() == '[') {
        const std::size_t close = value.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const std::string_view inner = value.substr(1, close - 1);
        for (char c : inner)
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
                return std::nullopt;
        in6_addr a6{};
        if (inet_pton(AF_INET6, std::string(inner).c_str(), &a6) != 1) return std::nullopt;
        hp.host = lower(inner);
        rest = value.substr(close + 1);
    } else {
        const std::size_t colon = value.find(':');
        const std::string_view host = value.substr(0, colon);
        if (host.empty()) return std::nullopt;
        for (char c : host)
            if (!host_char(c)) return std::nullopt;
        hp.host = lower(host);
        rest = colon == std::string_view::npos ? std::string_view{} : value.substr(colon);
    }
    if (!rest.empty()) {
        if (rest.front() != ':') return std::nullopt;
        const auto port = parse_port(rest.substr(1));
        if (!port) return std::nullopt;
        hp.port = port;
    }
    while (!hp.host.empty() && hp.host.back() == '.') hp.host.pop_back();
    if (hp.host.empty()) return std::nullopt;
    return hp;
}

bool is_ip_literal(std::string_view host) noexcept {
    if (host.empty() || host.size() > 64) return false;
    char buf[65];
    std::memcpy(buf, host.data(), host.size());
    buf[host.size()] = '\0';
    in_addr a4{};
    in6_addr a6{};
    return inet_pton(AF_INET, buf, &a4) == 1 || inet_pton(AF_INET6, buf, &a6) == 1;
}

bool host_allowed(const access_policy& policy, std::string_view host_header) {
    const auto hp = parse_host_header(host_header);
    if (!hp) return false;
    if (is_ip_literal(hp->host)) return true;
    if (hp->host == "localhost") return true;
    if (hp->host.size() > 10 && hp->host.compare(hp->host.size() - 10, 10, ".localhost") == 0) return true;
    for (const auto& h : policy.allowed_hosts)
        if (lower(h) == hp->host) return true;
    return false;
}

std::optional<std::string> normalize_origin(std::string_view origin) {
    const std::size_t sep = origin.find("://");
    if (sep == std::string_view::npos) return std::nullopt;
    const std::string scheme = lower(origin.substr(0, sep));
    if (scheme != "http" && scheme != "https") return std::nullopt;
    const std::string_view authority = origin.substr(sep + 3);
    if (authority.empty() || authority.find_first_of("/?#@ ") != std::string_view::npos) return std::nullopt;
    const auto hp = parse_host_header(authority);
    if (!hp) return std::nullopt;
    const unsigned default_port = scheme == "http" ? 80 : 443;
    std::string out = scheme + "://";
    out += hp->host.find(':') != std::string::npos ? "[" + hp->host + "]" : hp->host;
    if (hp->port && *hp->port != default_port) out += ":" + std::to_string(*hp->port);
    return out;
}

origin_verdict check_origin(const access_policy& policy, std::optional<std::string_view> origin,
                            std::string_view host_header) {
    if (!origin) return origin_verdict::absent;
    const auto norm = normalize_origin(*origin);
    if (!norm) return origin_verdict::refused;  // includes "null" (sandboxed frames, file: pages)
    for (const auto& allowed : policy.cors_origins)
        if (const auto a = normalize_origin(allowed); a && *a == *norm) return origin_verdict::cors;
    const auto host = parse_host_header(host_header);
    if (!host) return origin_verdict::refused;
    const std::size_t sep = norm->find("://");
    const std::string scheme = norm->substr(0, sep);
    const auto ohp = parse_host_header(std::string_view(*norm).substr(sep + 3));
    if (!ohp || ohp->host != host->host) return origin_verdict::refused;
    const unsigned origin_port = ohp->port ? *ohp->port : (scheme == "http" ? 80u : 443u);
    if (host->port) return origin_port == *host->port ? origin_verdict::same_origin : origin_verdict::refused;
    // No port in Host: port 80, or a TLS-terminating proxy in front (443).
    return (origin_port == 80 || origin_port == 443) ? origin_verdict::same_origin : origin_verdict::refused;
}

}  // namespace vigy::api
