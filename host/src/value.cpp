// value.cpp — the owning value tree: ABI conversion, JSON text, bump arena.
#include "vigy/host/value.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstring>
#include <new>
#include <unordered_map>

namespace vigy::host {

// ---- construction / access -------------------------------------------------------

value value::boolean(bool b) {
    value v;
    v.kind_ = kind::boolean;
    v.scalar_.b = b;
    return v;
}
value value::integer(int64_t i) {
    value v;
    v.kind_ = kind::integer;
    v.scalar_.i = i;
    return v;
}
value value::real(double d) {
    value v;
    v.kind_ = kind::real;
    v.scalar_.d = d;
    return v;
}
value value::string(std::string s) {
    value v;
    v.kind_ = kind::string;
    v.text_ = std::move(s);
    return v;
}
value value::symbol(std::string name) {
    value v;
    v.kind_ = kind::symbol;
    v.text_ = std::move(name);
    return v;
}
value value::keyword(std::string name) {
    value v;
    v.kind_ = kind::keyword;
    v.text_ = std::move(name);
    return v;
}
value value::list(list_type items) {
    value v;
    v.kind_ = kind::list;
    v.list_ = std::move(items);
    return v;
}
value value::map() {
    value v;
    v.kind_ = kind::map;
    return v;
}

namespace {
[[noreturn]] void wrong_type(const char* want, value::kind got) {
    throw std::logic_error(std::string("value is not ") + want + ", it is " +
                           vigy_type_name(static_cast<uint32_t>(got)));
}
}  // namespace

bool value::as_bool() const {
    if (kind_ != kind::boolean) wrong_type("a bool", kind_);
    return scalar_.b;
}
int64_t value::as_int() const {
    if (kind_ != kind::integer) wrong_type("an int", kind_);
    return scalar_.i;
}
double value::as_double() const {
    if (kind_ == kind::integer) return static_cast<double>(scalar_.i);
    if (kind_ != kind::real) wrong_type("a number", kind_);
    return scalar_.d;
}
const std::string& value::text() const {
    if (!is_stringish()) wrong_type("a string", kind_);
    return text_;
}
const value::list_type& value::items() const {
    if (kind_ != kind::list) wrong_type("a list", kind_);
    return list_;
}
value::list_type& value::items() {
    if (kind_ != kind::list) wrong_type("a list", kind_);
    return list_;
}
const value::map_type& value::entries() const {
    if (kind_ != kind::map) wrong_type("a map", kind_);
    return map_;
}
value::map_type& value::entries() {
    if (kind_ != kind::map) wrong_type("a map", kind_);
    return map_;
}
void value::push_back(value v) { items().push_back(std::move(v)); }

const value* value::find(std::string_view key) const noexcept {
    if (kind_ != kind::map) return nullptr;
    for (const map_entry& e : map_)
        if (e.key.is_stringish() && e.key.text_ == key) return &e.val;
    return nullptr;
}
value* value::find(std::string_view key) noexcept {
    return const_cast<value*>(static_cast<const value*>(this)->find(key));
}
void value::set(value key, value v) {
    for (map_entry& e : entries()) {
        if (e.key == key) {
            e.val = std::move(v);
            return;
        }
    }
    map_.push_back(map_entry{std::move(key), std::move(v)});
}
void value::set(std::string_view key, value v) { set(value::string(std::string(key)), std::move(v)); }

value::value() noexcept = default;
value::~value() = default;
value::value(const value& other) = default;
value::value(value&& other) noexcept = default;
value& value::operator=(const value& other) = default;
value& value::operator=(value&& other) noexcept = default;

bool operator==(const value& a, const value& b) noexcept {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
    case value::kind::nil: return true;
    case value::kind::boolean: return a.scalar_.b == b.scalar_.b;
    case value::kind::integer: return a.scalar_.i == b.scalar_.i;
    case value::kind::real: return a.scalar_.d == b.scalar_.d;
    case value::kind::string:
    case value::kind::symbol:
    case value::kind::keyword: return a.text_ == b.text_;
    case value::kind::list: return a.list_ == b.list_;
    case value::kind::map:
        if (a.map_.size() != b.map_.size()) return false;
        for (size_t i = 0; i < a.map_.size(); ++i)
            if (a.map_[i].key != b.map_[i].key || a.map_[i].val != b.map_[i].val) return false;
        return true;
    }
    return false;
}

// ---- ABI conversion -------------------------------------------------------------

namespace {
void* arena_alloc(const vigy_arena& arena, size_t bytes) {
    void* p = arena.alloc(arena.ctx, bytes ? bytes : 1);
    if (!p) throw arena_exhausted();
    return p;
}
}  // namespace

vigy_value value::to_vigy(const vigy_arena& arena) const {
    vigy_value out = vigy_nil();
    switch (kind_) {
    case kind::nil: return out;
    case kind::boolean: return vigy_bool(scalar_.b ? 1 : 0);
    case kind::integer: return vigy_int(scalar_.i);
    case kind::real: return vigy_double(scalar_.d);
    case kind::string:
    case kind::symbol:
    case kind::keyword: {
        char* p = static_cast<char*>(arena_alloc(arena, text_.size() + 1));
        if (!text_.empty()) std::memcpy(p, text_.data(), text_.size());
        p[text_.size()] = '\0';
        return vigy_str_value(static_cast<uint32_t>(kind_), p, text_.size());
    }
    case kind::list: {
        auto* items = static_cast<vigy_value*>(arena_alloc(arena, sizeof(vigy_value) * list_.size()));
        for (size_t i = 0; i < list_.size(); ++i) items[i] = list_[i].to_vigy(arena);
        out.type = VIGY_LIST;
        out.as.list.items = items;
        out.as.list.len = list_.size();
        return out;
    }
    case kind::map: {
        auto* es = static_cast<vigy_map_entry*>(arena_alloc(arena, sizeof(vigy_map_entry) * map_.size()));
        for (size_t i = 0; i < map_.size(); ++i) {
            es[i].key = map_[i].key.to_vigy(arena);
            es[i].value = map_[i].val.to_vigy(arena);
        }
        out.type = VIGY_MAP;
        out.as.map.entries = es;
        out.as.map.len = map_.size();
        return out;
    }
    }
    return out;
}

value value::from_vigy(const vigy_value& v) {
    switch (v.type) {
    case VIGY_BOOL: return boolean(v.as.b != 0);
    case VIGY_INT: return integer(v.as.i);
    case VIGY_DOUBLE: return real(v.as.d);
    case VIGY_STRING:
    case VIGY_SYMBOL:
    case VIGY_KEYWORD: {
        value out;
        out.kind_ = static_cast<kind>(v.type);
        if (v.as.str.len) out.text_.assign(v.as.str.ptr, v.as.str.len);
        return out;
    }
    case VIGY_LIST: {
        value out = list();
        out.list_.reserve(v.as.list.len);
        for (size_t i = 0; i < v.as.list.len; ++i) out.list_.push_back(from_vigy(v.as.list.items[i]));
        return out;
    }
    case VIGY_MAP: {
        // Keys are unique in well-formed input; a hash index keeps this linear
        // while still letting a repeated string-like key replace the earlier one.
        value out = map();
        out.map_.reserve(v.as.map.len);
        std::unordered_map<std::string, size_t> index;
        for (size_t i = 0; i < v.as.map.len; ++i) {
            value key = from_vigy(v.as.map.entries[i].key);
            value val = from_vigy(v.as.map.entries[i].value);
            if (!key.is_stringish()) {
                out.set(std::move(key), std::move(val));
                continue;
            }
            std::string tagged = std::to_string(static_cast<uint32_t>(key.kind_)) + ":" + key.text_;
            auto [it, fresh] = index.emplace(std::move(tagged), out.map_.size());
            if (fresh)
                out.map_.push_back(map_entry{std::move(key), std::move(val)});
            else
                out.map_[it->second].val = std::move(val);
        }
        return out;
    }
    default: return value();
    }
}

// ---- JSON -------------------------------------------------------------------------

namespace {
/// A RapidJSON output stream appending to a std::string (no intermediate buffer).
struct string_out {
    using Ch = char;
    std::string* s;
    void Put(char c) { s->push_back(c); }
    void Flush() {}
};
using json_writer = rapidjson::Writer<string_out>;

void write(json_writer& w, const value& v) {
    switch (v.type()) {
    case value::kind::nil: w.Null(); break;
    case value::kind::boolean: w.Bool(v.as_bool()); break;
    case value::kind::integer: w.Int64(v.as_int()); break;
    case value::kind::real:
        if (std::isfinite(v.as_double()))
            w.Double(v.as_double());
        else
            w.Null();
        break;
    case value::kind::string:
    case value::kind::symbol: w.String(v.text().data(), static_cast<rapidjson::SizeType>(v.text().size())); break;
    case value::kind::keyword: {
        std::string k = ":" + v.text();
        w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        break;
    }
    case value::kind::list:
        w.StartArray();
        for (const value& item : v.items()) write(w, item);
        w.EndArray();
        break;
    case value::kind::map:
        w.StartObject();
        for (const map_entry& e : v.entries()) {
            std::string k = e.key.key_string();
            w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
            write(w, e.val);
        }
        w.EndObject();
        break;
    }
}

value read(const rapidjson::Value& j) {
    if (j.IsNull()) return value();
    if (j.IsBool()) return value::boolean(j.GetBool());
    if (j.IsInt64()) return value::integer(j.GetInt64());
    if (j.IsNumber()) return value::real(j.GetDouble());
    if (j.IsString()) return value::string(std::string(j.GetString(), j.GetStringLength()));
    if (j.IsArray()) {
        value::list_type items;
        items.reserve(j.Size());
        for (const auto& item : j.GetArray()) items.push_back(read(item));
        return value::list(std::move(items));
    }
    value m = value::map();
    value::map_type& es = m.entries();
    es.reserve(j.MemberCount());
    std::unordered_map<std::string_view, size_t> index;  // duplicate names: the last one wins
    for (const auto& member : j.GetObject()) {
        std::string_view name(member.name.GetString(), member.name.GetStringLength());
        auto [it, fresh] = index.emplace(name, es.size());
        if (fresh)
            es.push_back(map_entry{value::string(std::string(name)), read(member.value)});
        else
            es[it->second].val = read(member.value);
    }
    return m;
}
}  // namespace

void value::append_json(std::string& out) const {
    // the common empty buffers (desired, observed, trace of most ticks) cost nothing
    if (kind_ == kind::map && map_.empty()) {
        out += "{}";
        return;
    }
    if (kind_ == kind::list && list_.empty()) {
        out += "[]";
        return;
    }
    string_out os{&out};
    json_writer w(os);
    write(w, *this);
}

std::string value::to_json() const {
    std::string out;
    append_json(out);
    return out;
}

std::string value::key_string() const {
    switch (kind_) {
    case kind::string:
    case kind::symbol: return text_;
    case kind::keyword: return ":" + text_;
    default: return to_json();
    }
}

value value::from_json(std::string_view text) {
    if (text.empty()) throw json_error("invalid json at offset 0: The document is empty.");
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
    if (doc.HasParseError())
        throw json_error("invalid json at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                         rapidjson::GetParseError_En(doc.GetParseError()));
    return read(doc);
}

// ---- arena ------------------------------------------------------------------------

namespace {
constexpr size_t align16(size_t n) { return (n + 15) & ~size_t(15); }
}  // namespace

arena::arena(size_t limit_bytes, size_t block_bytes)
    : limit_(limit_bytes), block_bytes_(block_bytes < 64 ? 64 : align16(block_bytes)) {
    c_.struct_size = sizeof(vigy_arena);
    c_.reserved = 0;
    c_.ctx = this;
    c_.alloc = &arena::c_alloc;
}

arena::~arena() {
    for (block& b : blocks_) ::operator delete(b.data, std::align_val_t(16));
}

void* arena::c_alloc(void* ctx, size_t bytes) { return static_cast<arena*>(ctx)->allocate(bytes); }

void* arena::allocate(size_t bytes) noexcept {
    size_t n = align16(bytes ? bytes : 1);
    if (n < bytes) return nullptr;  // overflow
    if (limit_ && (n > limit_ || used_ > limit_ - n)) return nullptr;
    if (blocks_.empty() || blocks_.back().size - offset_ < n) {
        size_t size = n > block_bytes_ ? n : block_bytes_;
        void* p = ::operator new(size, std::align_val_t(16), std::nothrow);
        if (!p) return nullptr;
        try {
            blocks_.push_back(block{static_cast<std::byte*>(p), size});
        } catch (...) {
            ::operator delete(p, std::align_val_t(16));
            return nullptr;
        }
        offset_ = 0;
    }
    std::byte* p = blocks_.back().data + offset_;
    offset_ += n;
    used_ += n;
    return p;
}

void arena::reset() noexcept {
    // Keep the first standard-size block for reuse; free the rest.
    size_t keep = 0;
    for (size_t i = 0; i < blocks_.size(); ++i) {
        if (keep == 0 && blocks_[i].size == block_bytes_) {
            std::swap(blocks_[0], blocks_[i]);
            keep = 1;
        }
    }
    for (size_t i = keep; i < blocks_.size(); ++i) ::operator delete(blocks_[i].data, std::align_val_t(16));
    blocks_.resize(keep);
    offset_ = 0;
    used_ = 0;
}

}  // namespace vigy::host
