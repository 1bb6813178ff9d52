/// vigy/api/security.hpp — the API's access rules, as pure functions the
/// server applies to every request (and tests exercise directly).
///
///  * Bearer token: read from a token file that only its owner may read
///    (mode without any group/other bit, owned by the effective user, a
///    regular file); compared in constant time (SHA-256 of both sides, then
///    OpenSSL CRYPTO_memcmp, so neither content nor length leaks).
///  * Host allowlist (DNS rebinding): a request's Host must be an IP literal
///    (an attacker cannot rebind an IP), `localhost` or `*.localhost`, the host
///    name of a listen address, or a configured name.
///  * Origin (browsers): a request carrying Origin must come from the server's
///    own origin (same host and port as its Host header) or from a configured
///    CORS origin; anything else, including "null", is refused.
#ifndef VIGY_API_SECURITY_HPP
#define VIGY_API_SECURITY_HPP

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::api {

/// Shortest token accepted from a token file, bytes.
inline constexpr std::size_t min_token_bytes = 16;

/// Reads and checks a token file: it must exist, be a regular file owned by the
/// effective user with no permission bit for group or others (chmod 600), and
/// hold one token of >= 16 visible ASCII characters (token68 syntax of
/// RFC 6750; one trailing newline allowed). Throws std::runtime_error with a
/// message naming the file and, for a mode problem, its mode:
/// "token file /etc/vigy/token has mode 0644: it must be readable only by its owner (chmod 600 /etc/vigy/token)".
std::string load_token_file(const std::filesystem::path& file);

/// Checks a token given in memory (same syntax rules as a token file's).
/// Throws std::invalid_argument naming the rule broken.
void validate_token(std::string_view token);

/// Holds a token's SHA-256 and verifies Authorization headers in constant time.
class token_verifier {
public:
    explicit token_verifier(std::string_view token);
    /// What an Authorization header amounts to.
    enum class verdict { ok, missing, malformed, wrong };
    /// `authorization`: the header's value (nullopt when absent). Scheme
    /// "Bearer" case-insensitively, one space, the token.
    verdict check(std::optional<std::string_view> authorization) const;

private:
    std::array<unsigned char, 32> digest_{};
};

/// Host and Origin rules.
struct access_policy {
    /// Extra host names accepted in Host (lowercase, no port): listen host
    /// names and --allow-host values.
    std::vector<std::string> allowed_hosts;
    /// Origins allowed cross-origin, exactly "scheme://host[:port]"
    /// (lowercase); also the origins that get CORS headers.
    std::vector<std::string> cors_origins;
};

/// Splits a Host header value into host (lowercase, brackets and a trailing dot
/// removed) and port (nullopt when absent). nullopt for a malformed value.
struct host_port {
    std::string host;
    std::optional<unsigned> port;
};
std::optional<host_port> parse_host_header(std::string_view value);

/// True for an IPv4 or IPv6 literal (no brackets).
bool is_ip_literal(std::string_view host) noexcept;

/// True when the Host header value passes the allowlist.
bool host_allowed(const access_policy& policy, std::string_view host_header);

/// What an Origin header amounts to.
enum class origin_verdict {
    absent,       ///< no Origin: not a browser's cross-site request
    same_origin,  ///< the page was served by this server
    cors,         ///< a configured CORS origin (the response gets CORS headers)
    refused,      ///< anything else: 403
};
/// `origin`: the header (nullopt when absent); `host_header`: the request's Host.
origin_verdict check_origin(const access_policy& policy, std::optional<std::string_view> origin,
                            std::string_view host_header);

/// Normalises an origin for comparison ("HTTP://Example.com:80" -> "http://example.com");
/// nullopt when it is not scheme://host[:port] with scheme http or https.
std::optional<std::string> normalize_origin(std::string_view origin);

}  // namespace vigy::api

#endif  // VIGY_API_SECURITY_HPP
