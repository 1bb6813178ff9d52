// api/src/json.cpp — strict JSON reading, writing, and JSON merge patch (RFC 7396).
#include "vigy/api/json.hpp"

#include "vigy/api/problem.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>
#include <utility>
#include <vector>

namespace vigy::api {

namespace {

/// Offset of the first place nesting exceeds `limit`, or npos. Skips strings.
std::size_t too_deep_at(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return i;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return std::string_view::npos;
}

std::string parse_message(rapidjson::ParseErrorCode code) {
    std::string m = rapidjson::GetParseError_En(code);
    if (!m.empty() && m.back() == '.') m.pop_back();
    if (!m.empty() && m[0] >= 'A' && m[0] <= 'Z') m[0] = static_cast<char>(m[0] - 'A' + 'a');
    return m;
}

/// Refuses objects with a repeated member name (I-JSON, RFC 7493 §2.3): which
/// of two values a reader takes is not defined, so neither is taken.
void check_unique_members(const rapidjson::Value& root) {
    struct item {
        const rapidjson::Value* v;
        std::string pointer;
    };
    std::vector<item> stack{{&root, ""}};
    while (!stack.empty()) {
        item it = std::move(stack.back());
        stack.pop_back();
        if (it.v->IsObject()) {
            std::set<std::string_view> seen;
            for (const auto& m : it.v->GetObject()) {
                const std::string_view name(m.name.GetString(), m.name.GetStringLength());
                if (!seen.insert(name).second)
                    throw http_error(VIGY_INVALID_ARGUMENT, "malformed JSON: member \"" + std::string(name) +
                                                                "\" appears twice in the object at \"" + it.pointer +
                                                                "\"");
                if (m.value.IsObject() || m.value.IsArray())
                    stack.push_back({&m.value, it.pointer + "/" + json_pointer_token(name)});
            }
        } else if (it.v->IsArray()) {
            rapidjson::SizeType i = 0;
            for (const auto& e : it.v->GetArray()) {
                if (e.IsObject() || e.IsArray()) stack.push_back({&e, it.pointer + "/" + std::to_string(i)});
                ++i;
            }
        }
    }
}

void apply_patch(rapidjson::Value& target, const rapidjson::Value& patch, rapidjson::Document::AllocatorType& a) {
    if (!patch.IsObject()) {
        target.CopyFrom(patch, a);
        return;
    }
    if (!target.IsObject()) target.SetObject();
    for (const auto& m : patch.GetObject()) {
        auto it = target.FindMember(m.name);
        if (m.value.IsNull()) {
            if (it != target.MemberEnd()) target.EraseMember(it);
            continue;
        }
        if (it == target.MemberEnd()) {
            rapidjson::Value name(m.name, a);
            rapidjson::Value fresh;  // null: an object patch turns it into {} first
            apply_patch(fresh, m.value, a);
            target.AddMember(name, fresh, a);
        } else {
            apply_patch(it->value, m.value, a);
        }
    }
}

}  // namespace

rapidjson::Document parse_json(std::string_view text) {
    std::size_t first = 0;
    while (first < text.size() &&
           (text[first] == ' ' || text[first] == '\t' || text[first] == '\n' || text[first] == '\r'))
        ++first;
    if (first == text.size()) throw http_error(VIGY_INVALID_ARGUMENT, "empty JSON body: expected a JSON value");
    if (const std::size_t at = too_deep_at(text, max_json_depth); at != std::string_view::npos)
        throw http_error(VIGY_INVALID_ARGUMENT, "JSON nested deeper than " + std::to_string(max_json_depth) +
                                                    " levels at offset " + std::to_string(at));
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
    if (d.HasParseError()) {
        const auto code = d.GetParseError();
        const std::string where = " at offset " + std::to_string(d.GetErrorOffset());
        if (code == rapidjson::kParseErrorStringInvalidEncoding)
            throw http_error(VIGY_INVALID_ARGUMENT, "invalid UTF-8 in JSON" + where);
        throw http_error(VIGY_INVALID_ARGUMENT, "malformed JSON" + where + ": " + parse_message(code));
    }
    check_unique_members(d);
    return d;
}

rapidjson::Document parse_json_body(const request& r) {
    if (const auto ct = r.header("Content-Type")) {
        std::string_view type = *ct;
        if (const auto semi = type.find(';'); semi != std::string_view::npos) type = type.substr(0, semi);
        while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
        while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
        const bool json =
            iequals(type, "application/json") || (type.size() > 5 && iequals(type.substr(type.size() - 5), "+json") &&
                                                  iequals(type.substr(0, 12), "application/"));
        if (!json)
            throw http_error(VIGY_INVALID_ARGUMENT,
                             "Content-Type " + std::string(type) + " is not JSON: send application/json",
                             status_hint::unsupported_media_type);
    }
    return parse_json(r.body);
}

std::string to_json(const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
}

std::string json_pointer_token(std::string_view key) {
    std::string out;
    out.reserve(key.size());
    for (char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

rapidjson::Document merge_patch(const rapidjson::Value& target, const rapidjson::Value& patch) {
    rapidjson::Document out;
    out.CopyFrom(target, out.GetAllocator());
    apply_patch(out, patch, out.GetAllocator());
    return out;
}

std::string merge_patch(std::string_view target_json, std::string_view patch_json) {
    const rapidjson::Document target = parse_json(target_json);
    const rapidjson::Document patch = parse_json(patch_json);
    return to_json(merge_patch(target, patch));
}

}  // namespace vigy::api
