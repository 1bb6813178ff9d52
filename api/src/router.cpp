// api/src/router.cpp — route patterns, matching, percent-decoding, query parsing.
#include "vigy/api/router.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace vigy::api {

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool valid_method(std::string_view m) noexcept {
    if (m.empty()) return false;
    for (char c : m)
        if (c < 'A' || c > 'Z') return false;
    return true;
}

bool valid_param_name(std::string_view n) noexcept {
    if (n.empty()) return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

/// Splits "/a/b/c" into {"a","b","c"}; "/" gives {}. The caller checked the leading '/'.
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.size() <= 1) return out;
    std::size_t start = 1;
    while (true) {
        const std::size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) {
            out.push_back(path.substr(start));
            break;
        }
        out.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

std::string show(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            if (in.size() - i < 3) return false;
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            const char decoded = static_cast<char>(hi * 16 + lo);
            if (decoded == '\0') return false;
            out += decoded;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else if (c == '\0') {
            return false;
        } else {
            out += c;
        }
    }
    return true;
}

query_params parse_query(std::string_view raw) {
    query_params q;
    std::size_t start = 0;
    while (start <= raw.size()) {
        std::size_t amp = raw.find('&', start);
        if (amp == std::string_view::npos) amp = raw.size();
        const std::string_view piece = raw.substr(start, amp - start);
        if (!piece.empty()) {
            const std::size_t eq = piece.find('=');
            const std::string_view k = piece.substr(0, eq);
            const std::string_view v = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
            std::string key, value;
            if (!percent_decode(k, key, true) || !percent_decode(v, value, true))
                throw http_error(VIGY_INVALID_ARGUMENT, "invalid query parameter " + show(piece) +
                                                            ": bad percent-encoding or an encoded NUL byte");
            q.add(std::move(key), std::move(value));
        }
        if (amp == raw.size()) break;
        start = amp + 1;
    }
    return q;
}

router& router::add(std::string method, std::string pattern, handler h, route_options options) {
    if (!valid_method(method)) throw std::invalid_argument("route " + pattern + ": invalid method " + show(method));
    if (method == "HEAD" || method == "OPTIONS")
        throw std::invalid_argument("route " + pattern + ": " + method + " is derived by the server, not routed");
    if (pattern.empty() || pattern.front() != '/')
        throw std::invalid_argument("route pattern " + show(pattern) + " must start with '/'");
    if (!h) throw std::invalid_argument("route " + method + " " + pattern + ": empty handler");
    entry e;
    e.method = std::move(method);
    e.pattern = pattern;
    e.h = std::move(h);
    e.options = options;
    std::set<std::string, std::less<>> names;
    for (const std::string_view seg : split_path(pattern)) {
        if (seg.empty()) throw std::invalid_argument("route pattern " + show(pattern) + " has an empty segment");
        if (seg.front() == '{') {
            if (seg.back() != '}' || !valid_param_name(seg.substr(1, seg.size() - 2)))
                throw std::invalid_argument("route pattern " + show(pattern) + ": malformed parameter segment " +
                                            show(seg));
            const std::string name(seg.substr(1, seg.size() - 2));
            if (!names.insert(name).second)
                throw std::invalid_argument("route pattern " + show(pattern) + " repeats parameter {" + name + "}");
            e.segments.push_back({name, true});
        } else {
            if (seg.find_first_of("{}%?#") != std::string_view::npos)
                throw std::invalid_argument("route pattern " + show(pattern) + ": invalid literal segment " +
                                            show(seg));
            e.segments.push_back({std::string(seg), false});
        }
    }
    for (const auto& other : entries_)
        if (other.method == e.method && other.pattern == e.pattern)
            throw std::invalid_argument("route " + e.method + " " + e.pattern + " is already registered");
    entries_.push_back(std::move(e));
    return *this;
}

router& router::get(std::string p, handler h, route_options o) { return add("GET", std::move(p), std::move(h), o); }
router& router::post(std::string p, handler h, route_options o) { return add("POST", std::move(p), std::move(h), o); }
router& router::put(std::string p, handler h, route_options o) { return add("PUT", std::move(p), std::move(h), o); }
router& router::patch(std::string p, handler h, route_options o) { return add("PATCH", std::move(p), std::move(h), o); }
router& router::del(std::string p, handler h, route_options o) { return add("DELETE", std::move(p), std::move(h), o); }

router::match router::find(std::string_view method, std::string_view raw_path) const {
    match m;
    if (raw_path.empty() || raw_path.front() != '/') {
        m.result = match::outcome::not_found;
        return m;
    }
    const auto raw_segments = split_path(raw_path);
    std::vector<std::string> decoded(raw_segments.size());
    for (std::size_t i = 0; i < raw_segments.size(); ++i) {
        if (!percent_decode(raw_segments[i], decoded[i], false)) {
            m.result = match::outcome::bad_path;
            m.detail =
                "invalid path segment " + show(raw_segments[i]) + ": bad percent-encoding or an encoded NUL byte";
            return m;
        }
    }

    // Best pattern per shape: among matching entries, the one whose first literal
    // comes earliest where they differ wins; compare by a literal mask.
    auto mask_of = [](const entry& e) {
        std::vector<bool> mask;
        mask.reserve(e.segments.size());
        for (const auto& s : e.segments) mask.push_back(!s.param);
        return mask;
    };
    const entry* best_any = nullptr;
    std::vector<bool> best_any_mask;
    std::vector<const entry*> matching;
    for (const auto& e : entries_) {
        if (e.segments.size() != decoded.size()) continue;
        bool ok = true;
        for (std::size_t i = 0; i < decoded.size() && ok; ++i) {
            const auto& s = e.segments[i];
            if (s.param)
                ok = !decoded[i].empty();
            else
                ok = s.text == decoded[i];
        }
        if (!ok) continue;
        matching.push_back(&e);
        const auto mask = mask_of(e);
        // lexicographic: true (literal) > false (param)
        if (!best_any ||
            std::lexicographical_compare(best_any_mask.begin(), best_any_mask.end(), mask.begin(), mask.end())) {
            best_any = &e;
            best_any_mask = mask;
        }
    }
    if (!best_any) {
        m.result = match::outcome::not_found;
        return m;
    }
    // Only entries with the best shape count: "/v1/vigies/watch" (literal) hides
    // "/v1/vigies/{name}" entirely for that path, methods included.
    std::set<std::string> methods;
    const entry* chosen = nullptr;
    const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
    for (const entry* e : matching) {
        if (mask_of(*e) != best_any_mask) continue;
        methods.insert(e->method);
        if (e->method == wanted) chosen = e;
    }
    if (methods.count("GET")) methods.insert("HEAD");
    methods.insert("OPTIONS");
    m.allow.assign(methods.begin(), methods.end());
    m.pattern = best_any->pattern;
    if (!chosen) {
        m.result = match::outcome::method_not_allowed;
        return m;
    }
    m.result = match::outcome::found;
    m.target = &chosen->h;
    m.options = chosen->options;
    m.pattern = chosen->pattern;
    for (std::size_t i = 0; i < decoded.size(); ++i)
        if (chosen->segments[i].param) m.params.emplace(chosen->segments[i].text, std::move(decoded[i]));
    return m;
}

std::vector<route_info> router::routes() const {
    std::vector<route_info> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.push_back({e.method, e.pattern, e.options});
    return out;
}

void router::set_error_translator(error_translator t) { translator_ = std::move(t); }

problem router::translate(const std::exception& e) const {
    if (const auto* he = dynamic_cast<const http_error*>(&e)) return he->get();
    if (translator_) {
        try {
            if (auto p = translator_(e)) return *p;
        } catch (const std::exception& inner) {
            return make_problem(VIGY_INTERNAL, std::string("error translator failed: ") + inner.what());
        }
    }
    const char* what = e.what();
    return make_problem(VIGY_INTERNAL, what && *what ? what : "internal error");
}

}  // namespace vigy::api
