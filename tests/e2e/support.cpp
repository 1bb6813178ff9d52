// tests/e2e/support.cpp — fixture, JSON and SQLite helpers for the e2e tests.
#include "support.hpp"

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace e2e {

json_doc parse_json(const std::string& text) {
    auto d = std::make_unique<rapidjson::Document>();
    d->Parse(text.c_str(), text.size());
    if (d->HasParseError()) {
        UNSCOPED_INFO("not JSON (offset " << d->GetErrorOffset() << "): " << text.substr(0, 400));
        return nullptr;
    }
    return d;
}

std::vector<json_doc> parse_json_lines(const std::string& text) {
    std::vector<json_doc> out;
    for (const auto& line : lines(text)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto d = std::make_unique<rapidjson::Document>();
        d->Parse(line.c_str(), line.size());
        if (d->HasParseError() || !d->IsObject()) throw std::runtime_error("line is not a JSON object: " + line);
        out.push_back(std::move(d));
    }
    return out;
}

const json& field(const json& obj, const char* key) {
    if (!obj.IsObject()) throw std::runtime_error(std::string("not an object looking for ") + key);
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd()) throw std::runtime_error(std::string("missing field ") + key);
    return it->value;
}

std::string str(const json& obj, const char* key) {
    const json& v = field(obj, key);
    if (!v.IsString()) throw std::runtime_error(std::string("field is not a string: ") + key);
    return std::string(v.GetString(), v.GetStringLength());
}

int64_t num(const json& obj, const char* key) {
    const json& v = field(obj, key);
    if (v.IsInt64()) return v.GetInt64();
    if (v.IsNumber()) return static_cast<int64_t>(v.GetDouble());
    throw std::runtime_error(std::string("field is not a number: ") + key);
}

bool has(const json& obj, const char* key) { return obj.IsObject() && obj.HasMember(key); }

int64_t rfc3339_ms(const std::string& s) {
    std::tm tm{};
    int ms = 0;
    if (s.size() < 20) return -1;
    // YYYY-MM-DDTHH:MM:SS at fixed offsets (an independent reader of what the binary prints)
    const auto field = [&](std::size_t at, std::size_t n, int& out) {
        const char* b = s.data() + at;
        const auto r = std::from_chars(b, b + n, out);
        return r.ec == std::errc() && r.ptr == b + n;
    };
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || !field(0, 4, tm.tm_year) ||
        !field(5, 2, tm.tm_mon) || !field(8, 2, tm.tm_mday) || !field(11, 2, tm.tm_hour) || !field(14, 2, tm.tm_min) ||
        !field(17, 2, tm.tm_sec))
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        int scale = 100;
        for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
            ms += (s[i] - '0') * scale;
            scale /= 10;
        }
    }
    if (i >= s.size() || s[i] != 'Z') return -1;
    return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

fixture::fixture() {
    db = dir.file("vigy.db");
    opts.env = {"VIGY_DB=" + db, "NO_COLOR", "CLICOLOR_FORCE"};
}

result fixture::run(const std::vector<std::string>& args, int timeout_ms) const { return vigy(args, opts, timeout_ms); }

json_doc fixture::run_json(const std::vector<std::string>& args, int timeout_ms) const {
    const result r = run(args, timeout_ms);
    INFO("vigy " <<
         [&] {
             std::string s;
             for (const auto& a : args) s += a + " ";
             return s;
         }() << "\nexit "
                 << r.code << "\nstderr: " << r.err << "\nstdout: " << r.out);
    REQUIRE(r.code == 0);
    auto d = parse_json(r.out);
    REQUIRE(d != nullptr);
    return d;
}

std::unique_ptr<process> fixture::start(const std::vector<std::string>& args) const { return start_vigy(args, opts); }

std::string fixture::program(const std::string& name, const std::string& text) const { return dir.write(name, text); }

void fixture::register_program(const std::string& name, const std::string& text, int64_t every_ms,
                               const std::vector<std::string>& extra) const {
    std::vector<std::string> args{"register", program(name + ".tatara", text), "--name", name,
                                  "--every",  std::to_string(every_ms)};
    args.insert(args.end(), extra.begin(), extra.end());
    const result r = run(args);
    // stderr first: a report cut to its first lines still says why
    INFO("register " << name << " exited " << r.code << "\nstderr: " << r.err << "\nstdout: " << r.out);
    REQUIRE(r.code == 0);
}

json_doc fixture::inspect(const std::string& name, int runs) const {
    return run_json({"inspect", name, "-o", "json", "--runs", std::to_string(runs)});
}

std::vector<json_doc> runs_oldest_first(const json& inspect_doc) {
    const json& runs = field(inspect_doc, "runs");
    std::vector<json_doc> out;
    for (auto it = runs.End(); it != runs.Begin();) {
        --it;
        auto d = std::make_unique<rapidjson::Document>();
        d->CopyFrom(*it, d->GetAllocator());
        out.push_back(std::move(d));
    }
    return out;
}

void require_counter_consistent(const counter_history& h) {
    INFO("runs " << h.runs << ", ok " << h.ok << ", kv n " << h.kv_n);
    std::vector<int64_t> sorted = h.n;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) {
        INFO("position " << i);
        REQUIRE(sorted[i] == static_cast<int64_t>(i + 1));
    }
    REQUIRE(h.kv_n == static_cast<int64_t>(h.ok));
    REQUIRE(h.tick_count == h.n);  // tick_count = successful ticks so far + 1
}

counter_history read_counter(const fixture& fx, const std::string& name, int max_runs) {
    auto doc = fx.inspect(name, max_runs);
    counter_history h;
    for (const auto& r : runs_oldest_first(*doc)) {
        ++h.runs;
        h.ids.insert(str(*r, "id"));
        if (str(*r, "result") != "ok") continue;
        ++h.ok;
        const json& actions = field(*r, "actions");
        REQUIRE(actions.Size() == 2);
        h.n.push_back(num(actions[0], "payload"));
        h.tick_count.push_back(num(actions[1], "payload"));
    }
    const json& kv = field(*doc, "kv");
    if (has(kv, "n")) h.kv_n = num(kv, "n");
    return h;
}

std::string on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    const std::string dirs = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
    for (std::size_t at = 0; at <= dirs.size();) {
        const std::size_t end = std::min(dirs.find(':', at), dirs.size());
        const std::string f = dirs.substr(at, end - at) + "/" + name;
        if (::access(f.c_str(), X_OK) == 0) return f;
        at = end + 1;
    }
    INFO(name << " is not on PATH (" << dirs << ")");
    REQUIRE(false);
    return {};
}

void create_empty_database(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    INFO("creating " << path << ": " << std::strerror(errno));
    REQUIRE(fd >= 0);
    ::close(fd);
}

std::string integrity_check(const std::string& db_path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "open failed";
        sqlite3_close(db);
        return "cannot open: " + msg;
    }
    sqlite3_busy_timeout(db, 5000);
    std::string out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (!out.empty()) out += "\n";
            out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        }
    } else {
        out = std::string("prepare failed: ") + sqlite3_errmsg(db);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

std::unique_ptr<process> start_serve(const fixture& fx, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"serve", "--listen", "none"};  // no HTTP API: tests run in parallel
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = fx.start(args);
    const bool up = p->wait_for_text("serving ", 10'000);
    INFO("serve stdout: " << p->out() << "\nserve stderr: " << p->err());
    REQUIRE(up);
    return p;
}

void stop_serve(process& p) {
    p.signal(SIGINT);
    const auto code = p.wait(10'000);
    INFO("serve stdout (tail): " << p.out().substr(p.out().size() > 2000 ? p.out().size() - 2000 : 0)
                                 << "\nserve stderr: " << p.err());
    REQUIRE(code.has_value());
    REQUIRE(*code == 0);
}

}  // namespace e2e
