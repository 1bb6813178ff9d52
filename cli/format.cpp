// cli/format.cpp — styling, tables, time and JSON text helpers for the CLI.
#include "format.hpp"

#include "cli.hpp"

#include "vigy/host/tick_context.hpp"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <csignal>
#include <ctime>
#include <map>
#include <ostream>

#include <pthread.h>

namespace vigy::cli {

std::string style::wrap(const char* code, std::string_view s) const {
    if (!colour || s.empty()) return std::string(s);
    std::string out;
    out.reserve(s.size() + 10);
    out += "\x1b[";
    out += code;
    out += 'm';
    out += s;
    out += "\x1b[0m";
    return out;
}

std::string style::result(std::string_view r) const {
    if (r == "ok") return green(r);
    if (r == "failed") return red(r);
    return yellow(r);
}

std::size_t display_width(std::string_view s) {
    std::size_t w = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') {
            i += 2;
            while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
            continue;
        }
        if ((c & 0xC0) != 0x80) ++w;  // count lead bytes only
    }
    return w;
}

void table::print(std::ostream& out, const style& st) const {
    const std::size_t n = headers_.size();
    std::vector<std::size_t> width(n, 0);
    for (std::size_t c = 0; c < n; ++c) width[c] = display_width(headers_[c]);
    for (const auto& row : rows_)
        for (std::size_t c = 0; c < n && c < row.size(); ++c)
            width[c] = std::max(width[c], display_width(row[c]));

    auto emit = [&](const std::vector<std::string>& row, bool header) {
        std::string line;
        for (std::size_t c = 0; c < n; ++c) {
            const std::string cell = c < row.size() ? row[c] : std::string();
            line += header ? st.bold(cell) : cell;
            if (c + 1 < n) line.append(width[c] - display_width(cell) + 3, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out << line << '\n';
    };
    emit(headers_, true);
    for (const auto& row : rows_) emit(row, false);
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Timestamps use the host's one RFC 3339 implementation (the tick context's).
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
        if (unit == "ms") mul = 1;
        else if (unit == "s") mul = 1000;
        else if (unit == "m") mul = 60'000;
        else if (unit == "h") mul = 3'600'000;
        else if (unit == "d") mul = 86'400'000;
        else return std::nullopt;
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

std::string pretty_json(std::string_view compact) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(compact.data(), compact.size());
    if (doc.HasParseError()) return std::string(compact);
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    doc.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
}

std::string json_quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    char esc[8];
                    std::snprintf(esc, sizeof esc, "\\u%04x", c);
                    out += esc;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
    return out;
}

std::string one_line(std::string_view s, std::size_t max) {
    std::string out;
    std::size_t w = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        const bool lead = (c & 0xC0) != 0x80;
        if (lead) {
            if (w + 1 > max) {
                // drop the last code point to make room for the ellipsis
                while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
                    out.pop_back();
                if (!out.empty()) out.pop_back();
                out += "\u2026";
                return out;
            }
            ++w;
        }
        out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : s[i];
    }
    return out;
}

// ---- runtime objects as text -------------------------------------------------

void rethrow_as_command_error(const std::exception& e, const std::string& db_path) {
    if (const auto* ce = dynamic_cast<const command_error*>(&e)) throw *ce;
    std::string msg = e.what();
    const auto* re = dynamic_cast<const host::runtime_error*>(&e);
    const bool about_db = !re || re->code() == host::errc::unavailable || re->code() == host::errc::internal ||
                          re->code() == host::errc::failed_precondition;
    if (about_db && !db_path.empty() && msg.find(db_path) == std::string::npos)
        msg += " (database " + db_path + ")";
    throw command_error(exit_error, msg);
}

std::unique_ptr<host::runtime> open_runtime(context& ctx, runtime_use use, host::runtime_options options) {
    const std::string db = ctx.db_path();
    if (use == runtime_use::read) {
        options.default_plugin_dirs = false;
        options.plugin_dirs.clear();
    } else {
        const auto extra = ctx.plugin_dir_paths();
        options.plugin_dirs.insert(options.plugin_dirs.end(), extra.begin(), extra.end());
    }
    try {
        return host::runtime::open(db, std::move(options));
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (msg.find(db) == std::string::npos) msg = "cannot open database " + db + ": " + msg;
        throw command_error(exit_error, msg);
    }
}

host::vigy_info find_vigy_or_fail(const host::runtime& rt, std::string_view name_or_id) {
    auto v = rt.find(name_or_id);
    if (!v) throw command_error(exit_error, "vigy \"" + std::string(name_or_id) + "\" not found");
    return *v;
}

void write_raw_json(json_writer& w, std::string_view text, std::string_view fallback) {
    std::string_view t = text;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
    if (t.empty()) t = fallback;
    rapidjson::Type type = rapidjson::kObjectType;
    switch (t.front()) {
        case '[': type = rapidjson::kArrayType; break;
        case '"': type = rapidjson::kStringType; break;
        case 'n': type = rapidjson::kNullType; break;
        case 't': type = rapidjson::kTrueType; break;
        case 'f': type = rapidjson::kFalseType; break;
        case '{': type = rapidjson::kObjectType; break;
        default: type = rapidjson::kNumberType; break;
    }
    w.RawValue(t.data(), t.size(), type);
}

namespace {

void key(json_writer& w, const char* k) { w.Key(k); }
void kv_str(json_writer& w, const char* k, std::string_view v) {
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void kv_int(json_writer& w, const char* k, int64_t v) {
    w.Key(k);
    w.Int64(v);
}

}  // namespace

void write_vigy(json_writer& w, const host::vigy_info& v) {
    w.StartObject();
    kv_str(w, "id", v.id);
    kv_str(w, "name", v.name);
    kv_str(w, "kind", v.kind);
    kv_str(w, "revision", v.revision);
    kv_int(w, "tick_interval_ms", v.interval_ms);
    key(w, "enabled");
    w.Bool(v.enabled);
    key(w, "labels");
    w.StartObject();
    for (const auto& [k, val] : v.labels) kv_str(w, k.c_str(), val);
    w.EndObject();
    key(w, "limits");
    w.StartObject();
    kv_int(w, "fuel", static_cast<int64_t>(v.limits.fuel));
    kv_int(w, "wall_ms", static_cast<int64_t>(v.limits.wall_ms));
    kv_int(w, "memory_bytes", static_cast<int64_t>(v.limits.memory_bytes));
    kv_int(w, "max_depth", static_cast<int64_t>(v.limits.max_depth));
    w.EndObject();
    kv_str(w, "created_at", rfc3339_ms(v.created_ms));
    kv_str(w, "updated_at", rfc3339_ms(v.updated_ms));
    key(w, "config");
    write_raw_json(w, v.config_json, "null");
    w.EndObject();
}

void write_run(json_writer& w, const host::run& r) {
    const bool live = r.tick_count > 0;
    w.StartObject();
    kv_str(w, "id", r.id);
    kv_int(w, "seq", r.seq);
    kv_str(w, "vigy_id", r.vigy_id);
    kv_str(w, "vigy_name", r.vigy_name);
    kv_str(w, "revision", r.revision);
    if (live) kv_str(w, "trigger", host::run_trigger_name(r.trigger));
    kv_str(w, "started_at", rfc3339_ms(r.started_ms));
    kv_str(w, "ended_at", rfc3339_ms(r.ended_ms));
    key(w, "duration_ms");
    w.Double(r.duration_us > 0 ? static_cast<double>(r.duration_us) / 1000.0
                               : static_cast<double>(r.ended_ms - r.started_ms));
    kv_str(w, "result", host::run_result_name(r.result));
    if (!r.error.empty()) kv_str(w, "error", r.error);
    if (live) kv_int(w, "tick_count", r.tick_count);
    kv_str(w, "output", r.output);
    key(w, "actions");
    write_raw_json(w, r.actions_json, "[]");
    key(w, "desired");
    write_raw_json(w, r.desired_json, "{}");
    key(w, "observed");
    write_raw_json(w, r.observed_json, "{}");
    key(w, "conditions");
    write_raw_json(w, r.conditions_json, "[]");
    key(w, "log");
    write_raw_json(w, r.log_json, "[]");
    key(w, "trace");
    write_raw_json(w, r.trace_json, "{}");
    key(w, "metrics");
    write_raw_json(w, r.metrics_json, "{}");
    key(w, "events");
    write_raw_json(w, r.events_json, "[]");
    if (live) {
        key(w, "kv_writes");
        write_raw_json(w, r.kv_writes_json, "{}");
        key(w, "kv_deletes");
        write_raw_json(w, r.kv_deletes_json, "[]");
    }
    w.EndObject();
}

std::string vigy_json(const host::vigy_info& v) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    write_vigy(w, v);
    return std::string(buf.GetString(), buf.GetSize());
}

std::string run_json(const host::run& r) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    write_run(w, r);
    return std::string(buf.GetString(), buf.GetSize());
}

void print_json(std::ostream& out, const std::string& compact, bool one_line_only) {
    out << (one_line_only ? compact : pretty_json(compact)) << '\n';
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

std::string human_duration_ms(int64_t started_ms, int64_t ended_ms, int64_t duration_us) {
    char buf[32];
    if (duration_us <= 0) duration_us = std::max<int64_t>(0, ended_ms - started_ms) * 1000;
    if (duration_us <= 0) return "<1ms";  // read back from the store: ms precision
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
    line += pad(human_duration_ms(r.started_ms, r.ended_ms, r.duration_us), 7);
    line += "  ";
    line += actions_summary(r.actions_json);
    if (!r.error.empty()) {
        line += "  ";
        line += st.red("error: " + one_line(r.error, 240));
    }
    return line;
}

std::string labels_text(const host::label_map& labels) {
    std::string out;
    for (const auto& [k, v] : labels) {
        if (!out.empty()) out += ", ";
        out += k + "=" + v;
    }
    return out;
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

std::string yes_no(bool b, const style& st) { return b ? st.green("yes") : st.dim("no"); }

void block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal(int timeout_ms) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1'000'000L};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    return sig > 0 ? sig : 0;
}

}  // namespace vigy::cli
