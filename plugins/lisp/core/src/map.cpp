// tatara-lisp hash maps: insertion-ordered, immutable; updates copy (reference §5.12).
#include <cstring>
#include <string>

#include "internal.hpp"

namespace tatara {

namespace {

constexpr uint32_t k_index_threshold = 8;

uint32_t index_cap_for(uint32_t n) {
    uint32_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    return cap;
}

void index_insert(uint32_t* index, uint32_t cap, value key, uint32_t entry) {
    uint32_t mask = cap - 1;
    for (uint32_t pos = static_cast<uint32_t>(hash_key(key)) & mask;; pos = (pos + 1) & mask) {
        if (index[pos] == 0) {
            index[pos] = entry + 1;
            return;
        }
    }
}

map_obj* finish_map(heap& h, value* entries, uint32_t n) {
    auto* m = h.make<map_obj>();
    m->entries = entries;
    m->size = n;
    if (n > k_index_threshold) {
        uint32_t cap = index_cap_for(n);
        auto* index = h.make_array<uint32_t>(cap);
        std::memset(index, 0, cap * sizeof(uint32_t));
        for (uint32_t i = 0; i < n; ++i) index_insert(index, cap, entries[2 * i], i);
        m->index = index;
        m->index_cap = cap;
    }
    return m;
}

void check_key(value k) {
    if (!is_hashable(k)) raise_native("hash-map", "non-hashable key kind: " + std::string(type_error_name(k.tag)));
}

}  // namespace

value eval_ctx::make_map(std::span<const value> kvs) {
    if (kvs.size() % 2) raise_native("hash-map", "expected even number of args (k v k v ...)");
    uint32_t pairs = static_cast<uint32_t>(kvs.size() / 2);
    value* entries = heap_->make_array<value>(2 * pairs);
    uint32_t n = 0;
    uint32_t cap = pairs > k_index_threshold ? index_cap_for(pairs) : 0;
    uint32_t* index = nullptr;
    if (cap) {
        index = heap_->make_array<uint32_t>(cap);
        std::memset(index, 0, cap * sizeof(uint32_t));
    }
    for (uint32_t i = 0; i < pairs; ++i) {
        value k = kvs[2 * i];
        check_key(k);
        value* existing = nullptr;
        if (cap) {
            uint32_t mask = cap - 1;
            for (uint32_t pos = static_cast<uint32_t>(hash_key(k)) & mask;; pos = (pos + 1) & mask) {
                uint32_t e = index[pos];
                if (e == 0) {
                    index[pos] = n + 1;
                    break;
                }
                if (key_equal(entries[2 * (e - 1)], k)) {
                    existing = &entries[2 * (e - 1) + 1];
                    break;
                }
            }
        } else {
            for (uint32_t j = 0; j < n; ++j)
                if (key_equal(entries[2 * j], k)) existing = &entries[2 * j + 1];
        }
        if (existing) {
            *existing = kvs[2 * i + 1];
        } else {
            entries[2 * n] = k;
            entries[2 * n + 1] = kvs[2 * i + 1];
            ++n;
        }
    }
    auto* m = heap_->make<map_obj>();
    m->entries = entries;
    m->size = n;
    if (n > k_index_threshold) {
        m->index = index;
        m->index_cap = cap;
    }
    return value::object(type::map, m);
}

value eval_ctx::map_set(value mv, value k, value v) {
    check_key(k);
    const map_obj* m = mv.as_map();
    const value* found = map_find(m, k);
    uint32_t n = m->size;
    if (found) {
        value* entries = heap_->make_array<value>(2 * n);
        std::memcpy(static_cast<void*>(entries), m->entries, 2 * n * sizeof(value));
        entries[found - m->entries] = v;
        auto* r = heap_->make<map_obj>();
        *r = *m;
        r->entries = entries;
        return value::object(type::map, r);
    }
    value* entries = heap_->make_array<value>(2 * (n + 1));
    if (n) std::memcpy(static_cast<void*>(entries), m->entries, 2 * n * sizeof(value));
    entries[2 * n] = k;
    entries[2 * n + 1] = v;
    if (n + 1 > k_index_threshold && m->index_cap && m->index_cap >= 2 * (n + 1)) {
        auto* index = heap_->make_array<uint32_t>(m->index_cap);
        std::memcpy(index, m->index, m->index_cap * sizeof(uint32_t));
        index_insert(index, m->index_cap, k, n);
        auto* r = heap_->make<map_obj>();
        r->entries = entries;
        r->size = n + 1;
        r->index = index;
        r->index_cap = m->index_cap;
        return value::object(type::map, r);
    }
    return value::object(type::map, finish_map(*heap_, entries, n + 1));
}

value eval_ctx::map_remove(value mv, value k) {
    const map_obj* m = mv.as_map();
    if (!is_hashable(k)) return mv;
    const value* found = map_find(m, k);
    if (!found) return mv;
    uint32_t skip = static_cast<uint32_t>((found - m->entries) / 2);
    uint32_t n = m->size - 1;
    value* entries = heap_->make_array<value>(2 * (n ? n : 1));
    uint32_t j = 0;
    for (uint32_t i = 0; i < m->size; ++i) {
        if (i == skip) continue;
        entries[2 * j] = m->entries[2 * i];
        entries[2 * j + 1] = m->entries[2 * i + 1];
        ++j;
    }
    return value::object(type::map, finish_map(*heap_, entries, n));
}

}  // namespace tatara
