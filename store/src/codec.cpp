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

int hexval(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

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
    std::size_t o = 0;
    for (std::size_t i = 0; i < 36;) {
        if (t[i] == '-') {
            ++i;
            continue;
        }
        const int hi = hexval(t[i]), lo = hexval(t[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[o++] = static_cast<unsigned char>(hi << 4 | lo);
        i += 2;
    }
    return o == 16;
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
    for (char c : t) {
        const int h = hexval(c);
        if (h < 0) return false;
        v = v << 4 | static_cast<std::uint64_t>(h);
    }
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
        if (c.HasMember("type")) out.AddMember("type", rapidjson::Value(c["type"], a), a);
        else if (c.HasMember("name")) out.AddMember("type", rapidjson::Value(c["name"], a), a);
        for (auto& m : c.GetObject()) {
            const std::string_view k(m.name.GetString(), m.name.GetStringLength());
            if (k == "type" || k == "name") continue;
            rapidjson::Value v(m.value, a);
            if (k == "status" && v.IsString()) v.SetString(rapidjson::StringRef(condition_status({v.GetString(), v.GetStringLength()})));
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
