// store/src/util.cpp — pure helpers: ids, revisions, UUIDv7, timestamps, labels, selectors.
#include "vigy/store/store.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <array>
#include <random>

namespace vigy::store {

const char* to_string(error_code code) noexcept {
    switch (code) {
    case error_code::not_found: return "not_found";
    case error_code::invalid_argument: return "invalid_argument";
    case error_code::busy: return "busy";
    case error_code::newer_schema: return "newer_schema";
    case error_code::io: return "io";
    }
    return "io";
}

const char* to_string(register_outcome outcome) noexcept {
    switch (outcome) {
    case register_outcome::created: return "created";
    case register_outcome::updated: return "updated";
    case register_outcome::unchanged: return "unchanged";
    }
    return "unchanged";
}

const char* to_string(run_result r) noexcept {
    switch (r) {
    case run_result::ok: return "ok";
    case run_result::failed: return "failed";
    case run_result::skipped: return "skipped";
    }
    return "skipped";
}

run_result parse_run_result(std::string_view text) {
    if (text == "ok") return run_result::ok;
    if (text == "failed") return run_result::failed;
    if (text == "skipped") return run_result::skipped;
    throw error(error_code::invalid_argument, fmt::format("invalid run result \"{}\": expected ok, failed or skipped", text));
}

namespace {

std::string sha256_hex16(std::string_view a, const std::string_view* b) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) throw error(error_code::io, "sha-256: out of memory");
    bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 && EVP_DigestUpdate(ctx, a.data(), a.size()) == 1;
    if (ok && b != nullptr) {
        const unsigned char zero = 0;
        ok = EVP_DigestUpdate(ctx, &zero, 1) == 1 && EVP_DigestUpdate(ctx, b->data(), b->size()) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, digest.data(), &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || len < 8) throw error(error_code::io, "sha-256 failed");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (std::size_t i = 0; i < 8; ++i) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    return out;
}

}  // namespace

std::string vigy_id_for(std::string_view name) { return sha256_hex16(name, nullptr); }

std::string revision_for(std::string_view kind, std::string_view config_json) {
    return sha256_hex16(kind, &config_json);
}

std::int64_t now_unix_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string new_run_id() {
    // UUIDv7 (RFC 9562 §5.7): unix_ts_ms(48) | ver=7(4) | rand_a(12) | var=10(2) | rand_b(62).
    // Debian 12 has no v7 generator (libuuid 2.38 and Boost 1.74 stop at v4/v5), so: our own.
    thread_local std::mt19937_64 rng{[] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }()};
    const auto ms = static_cast<std::uint64_t>(now_unix_ms());
    const std::uint64_t r1 = rng();
    const std::uint64_t r2 = rng();
    const std::uint64_t hi = (ms << 16) | 0x7000u | (r1 & 0x0fffu);
    const std::uint64_t lo = (r2 & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff,
                       lo >> 48, lo & 0xffffffffffffULL);
}

std::string format_timestamp(std::chrono::system_clock::time_point tp) {
    using namespace std::chrono;
    const auto ms_tp = floor<milliseconds>(tp);
    const auto secs = floor<seconds>(ms_tp);
    const auto ms = (ms_tp - secs).count();
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", secs, ms);
}

std::string now_timestamp() { return format_timestamp(std::chrono::system_clock::now()); }

std::chrono::system_clock::time_point parse_timestamp(std::string_view t) {
    using namespace std::chrono;
    auto bad = [&]() -> error {
        return error(error_code::invalid_argument,
                     fmt::format("invalid timestamp \"{}\": expected YYYY-MM-DDTHH:MM:SS.mmmZ", t));
    };
    if (t.size() != 24 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
        t[19] != '.' || t[23] != 'Z')
        throw bad();
    auto num = [&](std::size_t pos, std::size_t len) {
        int v = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (t[i] < '0' || t[i] > '9') throw bad();
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    const year_month_day ymd{year{num(0, 4)}, month{static_cast<unsigned>(num(5, 2))},
                             day{static_cast<unsigned>(num(8, 2))}};
    const int hh = num(11, 2), mi = num(14, 2), ss = num(17, 2), ms = num(20, 3);
    if (!ymd.ok() || hh > 23 || mi > 59 || ss > 60) throw bad();
    return sys_days{ymd} + hours{hh} + minutes{mi} + seconds{ss} + milliseconds{ms};
}

void validate_label_key(std::string_view key) {
    if (key.empty() || key.size() > 253)
        throw error(error_code::invalid_argument, fmt::format("invalid label key \"{}\": must be 1..=253 chars", key));
    for (char c : key) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_' || c == '.' || c == '/';
        if (!ok)
            throw error(error_code::invalid_argument,
                        fmt::format("invalid label key \"{}\": only [A-Za-z0-9-_./] allowed", key));
    }
}

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> parse_selector(std::string_view selector) {
    std::vector<std::pair<std::string, std::string>> clauses;
    std::size_t start = 0;
    while (start <= selector.size()) {
        std::size_t comma = selector.find(',', start);
        if (comma == std::string_view::npos) comma = selector.size();
        const std::string_view piece = trim(selector.substr(start, comma - start));
        start = comma + 1;
        if (piece.empty()) continue;
        const std::size_t eq = piece.find('=');
        if (eq == std::string_view::npos || eq == 0)
            throw error(error_code::invalid_argument,
                        fmt::format("invalid label selector \"{}\": expected key=value", selector));
        clauses.emplace_back(std::string(piece.substr(0, eq)), std::string(piece.substr(eq + 1)));
    }
    return clauses;
}

bool matches_selector(const label_map& labels, std::string_view selector) {
    for (const auto& [k, v] : parse_selector(selector)) {
        auto it = labels.find(k);
        if (it == labels.end() || it->second != v) return false;
    }
    return true;
}

}  // namespace vigy::store
