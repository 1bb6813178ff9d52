// store/src/codec.cpp — run body, run id and revision codecs.
#include "codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>

namespace vigy::store::codec {

namespace {

/// A rapidjson output stream appending to a std::string (reuses its capacity).
struct string_out {
    using Ch = char;
    std::string& s;
    void Put(char c) { s.push_back(c); }
    void Flush() {}
};

bool is_default(std::string_view text, std::string_view def) { return text.empty() || text == def; }

struct buffer_slot {
    const char* key;
    std::string run_record::*field;
    const char* def;
    bool kv;
};

constexpr buffer_slot slots[] = {
    {"actions", &run_record::actions_json, "[]", false},
    {"desired", &run_record::desired_json, "{}", false},
    {"observed", &run_record::observed_json, "{}", false},
    {"conditions", &run_record::conditions_json, "[]", false},
    {"log", &run_record::log_json, "[]", false},
    {"trace", &run_record::trace_json, "{}", false},
    {"metrics", &run_record::metrics_json, "{}", false},
    {"events", &run_record::events_json, "[]", false},
    {"kv_writes", &run_record::kv_writes_json, "{}", true},
    {"kv_deletes", &run_record::kv_deletes_json, "[]", true},
};

/// Hex digit values (-1 for anything else): one load per digit on the writer's hot path.
constexpr std::array<signed char, 256> hex_table = [] {
    std::array<signed char, 256> t{};
    for (auto& v : t) v = -1;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<signed char>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<signed char>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<signed char>(c - 'A' + 10);
    return t;
}();

int hexval(char c) noexcept { return hex_table[static_cast<unsigned char>(c)]; }

constexpr char hexdigits[] = "0123456789abcdef";

}  // namespace

void append_body(const run_record& r, bool kv, std::string& out) {
    bool open = false;
    auto key = [&](const char* k) {
        out += open ? ",\"" : "{\"";
        open = true;
        out += k;
        out += "\":";
    };
    for (const buffer_slot& s : slots) {
        if (s.kv && !kv) continue;
        const std::string& text = r.*(s.field);
        // trace/metrics read back from schema 1 could be "[]": empty too.
        if (is_default(text, s.def) || text == "[]" || text == "{}") continue;
        key(s.key);
        out += text;
    }
    if (!r.output.empty()) {
        key("output");
        string_out os{out};
        rapidjson::Writer<string_out> w(os);
        w.String(r.output.data(), static_cast<rapidjson::SizeType>(r.output.size()));
    }
    if (open) out += '}';
}

void read_body(std::string_view body, run_record& r) {
    if (body.empty()) return;
    rapidjson::Document d;
    d.Parse(body.data(), body.size());
    if (d.HasParseError() || !d.IsObject()) {
        if (r.error.empty()) r.error = "the stored run body is not valid json";
        return;
    }
    for (auto& m : d.GetObject()) {
        const std::string_view k(m.name.GetString(), m.name.GetStringLength());
        if (k == "output") {
            if (m.value.IsString()) r.output.assign(m.value.GetString(), m.value.GetStringLength());
            continue;
        }
        for (const buffer_slot& s : slots) {
            if (k != s.key) continue;
            rapidjson::StringBuffer buf;
            rapidjson::Writer<rapidjson::StringBuffer> w(buf);
            m.value.Accept(w);
            (r.*(s.field)).assign(buf.GetString(), buf.GetSize());
            break;
        }
    }
}

bool parse_uuid(std::string_view t, uuid& out) noexcept {
    if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return false;
    static constexpr unsigned char at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    int bad = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        const int hi = hexval(t[at[i]]), lo = hexval(t[at[i] + 1]);
        bad |= hi | lo;  // negative when any digit is not hex
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return bad >= 0;
}

void format_uuid(const unsigned char* b, std::string& out) {
    out.resize(36);
    std::size_t o = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hexdigits[b[i] >> 4];
        out[o++] = hexdigits[b[i] & 0xf];
    }
}

bool parse_hex64(std::string_view t, std::int64_t& out) noexcept {
    if (t.size() != 16) return false;
    std::uint64_t v = 0;
    int bad = 0;
    for (char c : t) {
        const int h = hexval(c);
        bad |= h;
        v = v << 4 | static_cast<std::uint64_t>(h & 0xf);
    }
    if (bad < 0) return false;
    std::memcpy(&out, &v, sizeof v);
    return true;
}

void format_hex64(std::int64_t v, std::string& out) {
    std::uint64_t u = 0;
    std::memcpy(&u, &v, sizeof u);
    out.resize(16);
    for (int i = 15; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = hexdigits[u & 0xf];
        u >>= 4;
    }
}

const char* condition_status(std::string_view s) noexcept {
    auto eq = [&](const char* w) {
        const std::size_t n = std::strlen(w);
        if (s.size() != n) return false;
        for (std::size_t i = 0; i < n; ++i)
            if ((s[i] | 0x20) != w[i]) return false;
        return true;
    };
    if (eq("true")) return "True";
    if (eq("false")) return "False";
    return "Unknown";
}

std::string upgrade_conditions_json(std::string_view text) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    if (d.HasParseError() || !d.IsArray()) return std::string(text);
    auto& a = d.GetAllocator();
    for (auto& c : d.GetArray()) {
        if (!c.IsObject()) continue;
        // {"type", then the other members in their order}, "name" renamed to "type"
        rapidjson::Value out(rapidjson::kObjectType);
        if (c.HasMember("type"))
            out.AddMember("type", rapidjson::Value(c["type"], a), a);
        else if (c.HasMember("name"))
            out.AddMember("type", rapidjson::Value(c["name"], a), a);
        for (auto& m : c.GetObject()) {
            const std::string_view k(m.name.GetString(), m.name.GetStringLength());
            if (k == "type" || k == "name") continue;
            rapidjson::Value v(m.value, a);
            if (k == "status" && v.IsString())
                v.SetString(rapidjson::StringRef(condition_status({v.GetString(), v.GetStringLength()})));
            out.AddMember(rapidjson::Value(m.name, a), v, a);
        }
        c = out;
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    d.Accept(w);
    return {buf.GetString(), buf.GetSize()};
}

}  // namespace vigy::store::codec
