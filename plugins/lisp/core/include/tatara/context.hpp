// tatara-lisp evaluation context: the region allocator and the per-evaluation context
// that natives receive (allocation, calling procedures, output, host pointer).
//
// Threading: one eval_ctx belongs to one evaluation running on one thread; never share
// it. Values it allocates die when the evaluation is reset or destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string_view>
#include <vector>

#include "tatara/value.hpp"

namespace tatara {

/// Region (arena) allocator. Objects are never freed one by one; reset() releases all.
/// Not thread-safe.
class heap {
public:
    /// permanent = the region holds constants shared between threads (lists get frozen).
    explicit heap(bool permanent = false);
    ~heap();
    heap(const heap&) = delete;
    heap& operator=(const heap&) = delete;

    /// bytes of 16-byte aligned uninitialised memory. Throws limit_error (memory) when the
    /// limit set by set_limit would be exceeded.
    void* alloc(size_t bytes) {
        bytes = (bytes + 15) & ~size_t(15);
        if (bytes <= static_cast<size_t>(end_ - cur_)) {
            char* p = cur_;
            cur_ += bytes;
            return p;
        }
        return alloc_slow(bytes);
    }
    /// Allocate and value-initialise one T (T must be trivially destructible).
    template <class T>
    T* make() {
        return new (alloc(sizeof(T))) T{};
    }
    /// Allocate n uninitialised T.
    template <class T>
    T* make_array(size_t n) {
        return static_cast<T*>(alloc(sizeof(T) * (n ? n : 1)));
    }

    /// Bytes handed out since construction/reset, plus bytes accounted with account().
    size_t bytes_used() const { return used_ - static_cast<size_t>(end_ - cur_) + external_; }
    /// Count `bytes` that the region's owner holds elsewhere (its own tables) against the
    /// limit, as if allocated here. Throws limit_error (memory) when the limit is exceeded.
    void account(size_t bytes);
    /// Memory limit in bytes for this region; 0 = unlimited.
    void set_limit(size_t bytes) { limit_ = bytes; }
    size_t limit() const { return limit_; }
    bool permanent() const { return permanent_; }
    /// Run fn(arg) when the region is reset or destroyed (in reverse order).
    void add_finalizer(void (*fn)(void*), void* arg);
    /// Run finalizers and release everything except the first block (kept for reuse).
    void reset();

private:
    void* alloc_slow(size_t bytes);
    struct block;
    char* cur_ = nullptr;
    char* end_ = nullptr;
    size_t used_ = 0;      ///< sum of block sizes
    size_t external_ = 0;  ///< bytes accounted with account()
    size_t limit_ = 0;
    bool permanent_;
    std::vector<block*> blocks_;
    std::vector<std::pair<void (*)(void*), void*>> finalizers_;
};

struct eval_state;  // evaluator internals

/// Per-evaluation context handed to every native and intrinsic.
class eval_ctx {
public:
    heap& mem() { return *heap_; }
    void* alloc(size_t bytes) { return heap_->alloc(bytes); }
    template <class T>
    T* make() {
        return heap_->make<T>();
    }

    // ---- constructing values (all allocate in this evaluation's region) --------------
    value make_string(std::string_view s);
    value make_symbol(std::string_view s);
    value make_keyword(std::string_view s);  ///< name without ':'
    /// New list holding a copy of items; an EMPTY LIST (not nil) when items is empty.
    value make_list(std::span<const value> items);
    /// New list of n elements; returns the writable element array and sets out.
    value* new_list(size_t n, value& out);
    /// Error object; tag is the name without ':' (stored as a keyword), data a plist or nil.
    value make_error(std::string_view tag, std::string_view message, value data = value::nil());
    /// Map from k0 v0 k1 v1 ... (later duplicates win, first position kept). Raises
    /// native-fn "hash-map" for odd counts or non-hashable keys.
    value make_map(std::span<const value> kvs);
    /// New map with k set to v (m must be a map; k hashable or native-fn error).
    value map_set(value m, value k, value v);
    /// New map without k.
    value map_remove(value m, value k);
    value make_foreign(const foreign_kind* kind, void* payload);

    // ---- calling back into Lisp -------------------------------------------------------
    /// Apply any procedure (closure or native) to args; raises not-callable / arity errors.
    /// Counts fuel and depth like a Lisp call. Errors propagate as exceptions.
    value call(value proc, std::span<const value> args);
    /// Force a promise (runs the thunk once, caches); non-promises are returned as is.
    value force(value v);

    // ---- environment --------------------------------------------------------------------
    /// Write text to this evaluation's output sink (discarded when the embedder gave none).
    void write(std::string_view text);
    /// Opaque pointer the embedder passed for this evaluation (e.g. the current tick).
    void* host_ctx() const;
    /// Run fn(arg) when this evaluation's memory is released.
    void add_finalizer(void (*fn)(void*), void* arg) { heap_->add_finalizer(fn, arg); }
    /// Raise :stack-overflow if the native stack is nearly exhausted (call in recursive
    /// natives such as printers or deep equality).
    void check_stack();
    /// Next gensym number (per evaluation, starting at 0).
    uint64_t next_gensym();

    eval_state& state() { return *st_; }

private:
    friend struct eval_state;
    heap* heap_ = nullptr;
    eval_state* st_ = nullptr;
};

/// Growable list under construction in a context's region (for results of unknown size).
class list_builder {
public:
    explicit list_builder(eval_ctx& ctx, size_t reserve = 8);
    void push(value v) {
        if (size_ == cap_) grow();
        data_[size_++] = v;
    }
    size_t size() const { return size_; }
    /// The finished list (an empty list when nothing was pushed). Builder is spent after.
    value finish();
    /// nil instead of an empty list when nothing was pushed.
    value finish_or_nil() { return size_ ? finish() : value::nil(); }

private:
    void grow();
    eval_ctx& ctx_;
    value* data_;
    size_t size_ = 0;
    size_t cap_;
};

}  // namespace tatara
