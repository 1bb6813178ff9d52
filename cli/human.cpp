// cli/human.cpp — text for people (see human.hpp).
#include "human.hpp"

#include "vigy/host/time.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>

namespace vigy::cli {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string rfc3339_ms(int64_t epoch_ms) { return host::format_rfc3339_ms(epoch_ms); }

std::optional<int64_t> parse_rfc3339(std::string_view s) { return host::parse_rfc3339_ms(s); }

std::optional<int64_t> parse_duration_ms(std::string_view s) {
    if (s.empty()) return std::nullopt;
    int64_t total = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        if (i == start) return std::nullopt;
        int64_t n = 0;
        auto [p, ec] = std::from_chars(s.data() + start, s.data() + i, n);
        if (ec != std::errc() || p != s.data() + i) return std::nullopt;
        const std::size_t ustart = i;
        while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
        const std::string_view unit = s.substr(ustart, i - ustart);
        int64_t mul;
        if (unit == "ms")
            mul = 1;
        else if (unit == "s")
            mul = 1000;
        else if (unit == "m")
            mul = 60'000;
        else if (unit == "h")
            mul = 3'600'000;
        else if (unit == "d")
            mul = 86'400'000;
        else
            return std::nullopt;
        if (n > (INT64_MAX / 2) / mul) return std::nullopt;
        total += n * mul;
    }
    return total;
}

std::string human_age(int64_t ms) {
    if (ms < 0) ms = 0;
    if (ms < 1000) return std::to_string(ms) + "ms";
    const int64_t s = ms / 1000;
    if (s < 120) return std::to_string(s) + "s";
    if (s < 7200) return std::to_string(s / 60) + "m";
    if (s < 172800) return std::to_string(s / 3600) + "h";
    return std::to_string(s / 86400) + "d";
}

std::string human_interval(int64_t ms) {
    if (ms < 1000 || ms % 100 != 0) return std::to_string(ms) + "ms";
    if (ms % 60'000 == 0 && ms >= 60'000) {
        if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
        return std::to_string(ms / 60'000) + "m";
    }
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + "s";
}

std::string human_duration_us(int64_t duration_us) {
    char buf[32];
    if (duration_us < 0) duration_us = 0;
    if (duration_us < 1000)
        std::snprintf(buf, sizeof buf, "%lldus", static_cast<long long>(duration_us));
    else if (duration_us < 10'000)
        std::snprintf(buf, sizeof buf, "%.1fms", static_cast<double>(duration_us) / 1000.0);
    else if (duration_us < 1'000'000)
        std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(duration_us / 1000));
    else
        std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(duration_us) / 1e6);
    return buf;
}

std::string human_bytes(uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    uint64_t whole = bytes;
    while (u < 4 && whole >= 1024 && whole % 1024 == 0) {
        whole /= 1024;
        ++u;
    }
    return std::to_string(whole) + units[u];
}

std::string labels_text(const host::label_map& labels) {
    std::string out;
    for (const auto& [k, v] : labels) {
        if (!out.empty()) out += ", ";
        out += k + "=" + v;
    }
    return out;
}

std::string actions_summary(std::string_view actions_json) {
    rapidjson::Document d;
    d.Parse(actions_json.data(), actions_json.size());
    if (d.HasParseError() || !d.IsArray()) return "?";
    const auto n = d.Size();
    if (n == 0) return "no actions";
    std::vector<std::string> order;
    std::map<std::string, int> counts;
    for (const auto& a : d.GetArray()) {
        std::string k = a.IsObject() && a.HasMember("kind") && a["kind"].IsString() ? a["kind"].GetString() : "?";
        if (counts[k]++ == 0) order.push_back(k);
    }
    std::string out = std::to_string(n) + (n == 1 ? " action: " : " actions: ");
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (i) out += ", ";
        out += order[i];
        if (counts[order[i]] > 1) out += " x" + std::to_string(counts[order[i]]);
    }
    return out;
}

std::string object_summary(std::string_view json_text) {
    rapidjson::Document d;
    d.Parse(json_text.data(), json_text.size());
    if (d.HasParseError() || !d.IsObject() || d.MemberCount() == 0) return {};
    std::string out;
    for (const auto& m : d.GetObject()) {
        if (!out.empty()) out += ", ";
        rapidjson::StringBuffer b;
        rapidjson::Writer<rapidjson::StringBuffer> w(b);
        m.value.Accept(w);
        out +=
            std::string(m.name.GetString(), m.name.GetStringLength()) + "=" + std::string(b.GetString(), b.GetSize());
    }
    return out;
}

std::string run_error_text(const host::run& r) {
    if (r.error.empty()) return {};
    switch (r.status) {
    case VIGY_RESOURCE_EXHAUSTED:  // a limit
    case VIGY_DEADLINE_EXCEEDED:
    case VIGY_PERMISSION_DENIED:                                                             // a capability not granted
    case VIGY_UNAVAILABLE: return std::string(vigy_status_name(r.status)) + ": " + r.error;  // try again
    default: return r.error;
    }
}

namespace {
std::string pad(std::string s, std::size_t width) {
    const std::size_t w = display_width(s);
    if (w < width) s.append(width - w, ' ');
    return s;
}
}  // namespace

std::string run_line(const host::run& r, const style& st, std::size_t name_width) {
    std::string line = st.dim(rfc3339_ms(r.started_ms));
    line += "  ";
    line += pad(r.vigy_name.empty() ? r.vigy_id : r.vigy_name, name_width);
    line += "  ";
    const std::string res = host::run_result_name(r.result);
    line += st.result(res);
    line.append(res.size() < 6 ? 6 - res.size() : 0, ' ');
    line += "  ";
    line += pad(human_duration_us(r.duration_us), 7);
    line += "  ";
    line += actions_summary(r.actions_json);
    if (!r.error.empty()) {
        line += "  ";
        line += st.red("error: " + one_line(run_error_text(r), 240));
    }
    return line;
}

}  // namespace vigy::cli
