// tatara-lisp values: region allocator, type names, equality, map keys and lookup.
#include "tatara/value.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "internal.hpp"
#include "tatara/context.hpp"
#include "tatara/error.hpp"

namespace tatara {

// ---- heap --------------------------------------------------------------------------

namespace {
constexpr size_t k_first_block = 16 * 1024;
constexpr size_t k_max_block = 1024 * 1024;
}  // namespace

struct heap::block {
    size_t size;
};

heap::heap(bool permanent) : permanent_(permanent) {}

heap::~heap() {
    reset();
    for (block* b : blocks_) std::free(b);
}

void heap::add_finalizer(void (*fn)(void*), void* arg) { finalizers_.emplace_back(fn, arg); }

void heap::account(size_t bytes) {
    external_ += bytes;
    if (limit_ != 0 && bytes_used() > limit_)
        throw limit_error(limit_kind::memory, "memory limit exceeded: more than " + std::to_string(limit_) + " bytes");
}

void heap::reset() {
    for (auto it = finalizers_.rbegin(); it != finalizers_.rend(); ++it) it->first(it->second);
    finalizers_.clear();
    external_ = 0;
    if (blocks_.empty()) return;
    for (size_t i = 1; i < blocks_.size(); ++i) std::free(blocks_[i]);
    blocks_.resize(1);
    block* b = blocks_[0];
    cur_ = reinterpret_cast<char*>(b) + 16;
    end_ = reinterpret_cast<char*>(b) + b->size;
    used_ = b->size - 16;
}

void* heap::alloc_slow(size_t bytes) {
    // Evaluation regions double their blocks (they are reused run after run). A permanent
    // region (a compiled program) grows by a quarter of what it holds, so the unused tail
    // of its last block stays under ~25% of the program.
    size_t size = blocks_.empty() ? k_first_block
                  : permanent_    ? std::clamp(used_ / 4, k_first_block, k_max_block)
                                  : std::min(k_max_block, blocks_.back()->size * 2);
    if (bytes + 16 > size) size = bytes + 16;
    if (limit_ != 0 && used_ + external_ + size > limit_) {
        // The block would overshoot; still allow exactly what is asked if it fits.
        size_t exact = bytes + 16;
        if (used_ - static_cast<size_t>(end_ - cur_) + external_ + bytes > limit_)
            throw limit_error(limit_kind::memory,
                              "memory limit exceeded: more than " + std::to_string(limit_) + " bytes");
        size = exact;
    }
    auto* b = static_cast<block*>(std::malloc(size));
    if (!b) throw limit_error(limit_kind::memory, "memory limit exceeded: out of memory");
    b->size = size;
    used_ = used_ - static_cast<size_t>(end_ - cur_) + size;
    blocks_.push_back(b);
    cur_ = reinterpret_cast<char*>(b) + 16;
    end_ = reinterpret_cast<char*>(b) + size;
    char* p = cur_;
    cur_ += bytes;
    return p;
}

// ---- type names --------------------------------------------------------------------

std::string_view type_of_name(type t) {
    switch (t) {
    case type::nil: return "nil";
    case type::boolean: return "bool";
    case type::integer: return "int";
    case type::real: return "float";
    case type::string: return "string";
    case type::symbol: return "symbol";
    case type::keyword: return "keyword";
    case type::list: return "list";
    case type::map: return "map";
    case type::closure:
    case type::native: return "procedure";
    case type::promise: return "promise";
    case type::error: return "error";
    case type::sexp: return "sexp";
    case type::foreign: return "foreign";
    default: return "nil";
    }
}

std::string_view type_error_name(type t) {
    switch (t) {
    case type::closure: return "closure";
    case type::native: return "native-fn";
    default: return type_of_name(t);
    }
}

// ---- equality ----------------------------------------------------------------------

bool eq(value a, value b) {
    if (a.tag != b.tag) return false;
    switch (a.tag) {
    case type::nil: return true;
    case type::boolean: return a.u.b == b.u.b;
    case type::integer: return a.u.i == b.u.i;
    case type::real: return a.u.d == b.u.d;
    case type::string:
    case type::symbol:
    case type::keyword: return a.text() == b.text();
    case type::list:
    case type::closure: return a.u.p == b.u.p;
    case type::native: return a.as_native() == b.as_native();
    default: return false;
    }
}

bool equal(value a, value b) {
    if (a.tag == type::list && b.tag == type::list) {
        auto x = a.items();
        auto y = b.items();
        if (x.size() != y.size()) return false;
        check_native_stack();
        for (size_t i = 0; i < x.size(); ++i)
            if (!equal(x[i], y[i])) return false;
        return true;
    }
    return eq(a, b);
}

// ---- map keys ------------------------------------------------------------------------

bool is_hashable(value v) {
    switch (v.tag) {
    case type::nil:
    case type::boolean:
    case type::integer:
    case type::real:
    case type::string:
    case type::symbol:
    case type::keyword: return true;
    default: return false;
    }
}

namespace {
uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
}  // namespace

uint64_t hash_key(value v) {
    uint64_t h = static_cast<uint64_t>(v.tag) * 0x9e3779b97f4a7c15ULL;
    switch (v.tag) {
    case type::boolean: return mix(h ^ (v.u.b ? 1 : 2));
    case type::integer: return mix(h ^ static_cast<uint64_t>(v.u.i));
    case type::real: {
        uint64_t bits;
        std::memcpy(&bits, &v.u.d, 8);
        return mix(h ^ bits);
    }
    case type::string:
    case type::symbol:
    case type::keyword: {
        uint64_t x = 1469598103934665603ULL ^ h;
        for (unsigned char c : v.text()) x = (x ^ c) * 1099511628211ULL;
        return mix(x);
    }
    default: return mix(h);
    }
}

bool key_equal(value a, value b) {
    if (a.tag != b.tag) return false;
    // map keys compare reals bitwise: NaN finds itself, -0.0 and 0.0 are distinct keys
    if (a.tag == type::real) return std::bit_cast<uint64_t>(a.u.d) == std::bit_cast<uint64_t>(b.u.d);
    return eq(a, b);
}

const value* map_find(const map_obj* m, value key) {
    if (m->index_cap == 0) {
        for (uint32_t i = 0; i < m->size; ++i)
            if (key_equal(m->entries[2 * i], key)) return &m->entries[2 * i + 1];
        return nullptr;
    }
    uint32_t mask = m->index_cap - 1;
    for (uint32_t pos = static_cast<uint32_t>(hash_key(key)) & mask;; pos = (pos + 1) & mask) {
        uint32_t e = m->index[pos];
        if (e == 0) return nullptr;
        if (key_equal(m->entries[2 * (e - 1)], key)) return &m->entries[2 * (e - 1) + 1];
    }
}

}  // namespace tatara
