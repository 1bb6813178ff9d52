// store/src/util.cpp — pure helpers: ids, revisions, UUIDv7, names of enums, lease liveness.
#include "vigy/store/store.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <array>
#include <random>

namespace vigy {

vigy_status status_from_name(std::string_view name) noexcept {
    for (vigy_status s = VIGY_OK; s <= VIGY_UNAVAILABLE; ++s)
        if (name == vigy_status_name(s)) return s;
    return VIGY_UNKNOWN;
}

}  // namespace vigy

namespace vigy::store {

const char* to_string(register_outcome outcome) noexcept {
    switch (outcome) {
    case register_outcome::created: return "created";
    case register_outcome::updated: return "updated";
    case register_outcome::unchanged: return "unchanged";
    }
    return "unchanged";
}

const char* to_string(change_type type) noexcept {
    switch (type) {
    case change_type::added: return "ADDED";
    case change_type::modified: return "MODIFIED";
    case change_type::deleted: return "DELETED";
    }
    return "MODIFIED";
}

const char* to_string(run_result r) noexcept {
    switch (r) {
    case run_result::ok: return "ok";
    case run_result::failed: return "failed";
    case run_result::skipped: return "skipped";
    }
    return "failed";
}

const char* to_string(run_trigger t) noexcept { return t == run_trigger::forced ? "forced" : "schedule"; }

namespace {

std::string sha256_hex16(std::string_view a, const std::string_view* b) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) vigy::fail(VIGY_RESOURCE_EXHAUSTED, "sha-256: out of memory");
    bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 && EVP_DigestUpdate(ctx, a.data(), a.size()) == 1;
    if (ok && b != nullptr) {
        const unsigned char zero = 0;
        ok = EVP_DigestUpdate(ctx, &zero, 1) == 1 && EVP_DigestUpdate(ctx, b->data(), b->size()) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, digest.data(), &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || len < 8) vigy::fail(VIGY_INTERNAL, "sha-256 failed");
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

void new_run_id(std::int64_t unix_ms, std::string& out) {
    // UUIDv7 (RFC 9562 §5.7): unix_ts_ms(48) | ver=7(4) | rand_a(12) | var=10(2) | rand_b(62).
    // Debian 12 has no v7 generator (libuuid 2.38 and Boost 1.74 stop at v4/v5), so: our own.
    thread_local std::mt19937_64 rng{[] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }()};
    const auto ms = static_cast<std::uint64_t>(unix_ms < 0 ? 0 : unix_ms) & 0xffffffffffffULL;
    const std::uint64_t r1 = rng();
    const std::uint64_t r2 = rng();
    const std::uint64_t hi = (ms << 16) | 0x7000u | (r1 & 0x0fffu);
    const std::uint64_t lo = (r2 & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    static constexpr char hex[] = "0123456789abcdef";
    out.resize(36);
    std::size_t o = 0;
    for (int i = 15; i >= 0; --i) {
        if (i == 7 || i == 3) out[o++] = '-';
        out[o++] = hex[(hi >> (4 * i)) & 0xf];
    }
    out[o++] = '-';
    for (int i = 15; i >= 0; --i) {
        if (i == 11) out[o++] = '-';
        out[o++] = hex[(lo >> (4 * i)) & 0xf];
    }
}

std::string new_run_id(std::int64_t unix_ms) {
    std::string out;
    new_run_id(unix_ms, out);
    return out;
}

bool lease_live(const lease_info& l, std::string_view host, const lease_clock& now) noexcept {
    if (!l.boot_id.empty() && l.boot_id == now.boot_id) return l.expires_boot_ms > now.boot_ms;
    // Recorded on this host by another boot: its holder died with that boot.
    if (!l.boot_id.empty() && !now.boot_id.empty() && l.host == host) return false;
    return l.expires_ms > now.wall_ms;
}

}  // namespace vigy::store
