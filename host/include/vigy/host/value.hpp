/// vigy/host/value.hpp — the host's owning value tree and its bump arena.
///
/// `vigy::host::value` is the C++ owner of what the C ABI passes around as a
/// borrowed `vigy_value` (sdk/include/vigy/value.h): nil, bool, int64, double,
/// string, symbol, keyword, list and an insertion-ordered map whose keys are
/// values (usually strings or keywords). The host keeps kv, desired/observed,
/// traces and action payloads in this form and converts:
///
///   - to/from `vigy_value`: `to_vigy(arena)` deep-copies into a `vigy_arena`
///     (the result lives as long as the arena); `from_vigy(v)` deep-copies out
///     (unknown tags read as nil, like the ABI says);
///   - to/from JSON text with the mapping of value.h: keyword -> ":name",
///     symbol -> its name, NaN/inf -> null, ints stay ints (a JSON integer that
///     does not fit int64 reads as a double), map keys are stringified.
///
/// `vigy::host::arena` implements `vigy_arena`: a bump allocator with an
/// optional byte limit (alloc returns NULL past it, so a callee reports
/// RESOURCE_EXHAUSTED); `reset()` and the destructor free everything at once.
///
/// Threading: values are plain data (no sharing, no locks). An arena is used by
/// one thread at a time.
#ifndef VIGY_HOST_VALUE_HPP
#define VIGY_HOST_VALUE_HPP

#include "vigy/value.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigy::host {

/// Thrown by `value::to_vigy` when the arena refuses an allocation (limit).
class arena_exhausted : public std::runtime_error {
public:
    arena_exhausted() : std::runtime_error("memory limit reached while building a value") {}
};

/// Thrown by `value::from_json` on malformed JSON; what() says where.
class json_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct map_entry;

/// An owning, deep-copying value. Copy = deep copy; move is cheap.
class value {
public:
    enum class kind : uint32_t {
        nil = VIGY_NIL,
        boolean = VIGY_BOOL,
        integer = VIGY_INT,
        real = VIGY_DOUBLE,
        string = VIGY_STRING,
        symbol = VIGY_SYMBOL,
        keyword = VIGY_KEYWORD,
        list = VIGY_LIST,
        map = VIGY_MAP,
    };
    using list_type = std::vector<value>;
    using map_type = std::vector<map_entry>;  ///< insertion order; keys unique by `set`

    /// nil.
    value() noexcept;
    // The special members are defined out of line (value.cpp), where map_entry is
    // complete: C++20's constexpr std::vector members need the element type complete
    // wherever they are instantiated, and an implicit inline destructor would
    // instantiate ~vector<map_entry> inside this class (clang rejects that; GCC
    // happens to defer it).
    ~value();
    value(const value& other);
    value(value&& other) noexcept;
    value& operator=(const value& other);
    value& operator=(value&& other) noexcept;

    static value nil() { return value(); }
    static value boolean(bool b);
    static value integer(int64_t i);
    static value real(double d);
    static value string(std::string s);
    /// A symbol: its name.
    static value symbol(std::string name);
    /// A keyword: its name WITHOUT the leading colon.
    static value keyword(std::string name);
    static value list(list_type items = {});
    /// An empty map (fill with `set`).
    static value map();

    kind type() const noexcept { return kind_; }
    bool is_nil() const noexcept { return kind_ == kind::nil; }
    bool is_bool() const noexcept { return kind_ == kind::boolean; }
    bool is_int() const noexcept { return kind_ == kind::integer; }
    bool is_double() const noexcept { return kind_ == kind::real; }
    bool is_number() const noexcept { return is_int() || is_double(); }
    /// string, symbol or keyword.
    bool is_stringish() const noexcept {
        return kind_ == kind::string || kind_ == kind::symbol || kind_ == kind::keyword;
    }
    bool is_list() const noexcept { return kind_ == kind::list; }
    bool is_map() const noexcept { return kind_ == kind::map; }

    /// Accessors; each throws std::logic_error when the type does not match.
    bool as_bool() const;
    int64_t as_int() const;
    /// A double, or an int converted to double.
    double as_double() const;
    /// The text of a string, symbol or keyword (keyword without its colon).
    const std::string& text() const;
    const list_type& items() const;
    list_type& items();
    const map_type& entries() const;
    map_type& entries();

    /// Appends to a list.
    void push_back(value v);
    /// Map lookup by a string-like key's text (string/symbol/keyword keys all
    /// match); NULL when absent or when this is not a map.
    const value* find(std::string_view key) const noexcept;
    value* find(std::string_view key) noexcept;
    /// Sets map[key] = v, replacing an equal key in place (keeps its position)
    /// or appending. Throws std::logic_error when this is not a map.
    void set(value key, value v);
    /// set(value::string(key), v).
    void set(std::string_view key, value v);

    /// Deep structural equality (same type, same content; doubles by ==).
    friend bool operator==(const value& a, const value& b) noexcept;
    friend bool operator!=(const value& a, const value& b) noexcept { return !(a == b); }

    /// A deep copy into `arena` (strings NUL-terminated). Lives until the arena
    /// is reset/destroyed. Throws arena_exhausted when the arena refuses.
    vigy_value to_vigy(const vigy_arena& arena) const;
    /// A deep copy of a borrowed C value. Unknown tags become nil.
    static value from_vigy(const vigy_value& v);

    /// Compact JSON text (mapping in the file comment).
    std::string to_json() const;
    /// Appends compact JSON text to `out`.
    void append_json(std::string& out) const;
    /// Parses one JSON document (the whole text). Throws json_error naming the
    /// offset and RapidJSON's reason.
    static value from_json(std::string_view text);
    /// The JSON object-key form of a value: strings as-is, keywords ":name",
    /// symbols their name, nil "null", other scalars their JSON text,
    /// lists/maps their JSON text.
    std::string key_string() const;

private:
    kind kind_ = kind::nil;
    union {
        bool b;
        int64_t i;
        double d;
    } scalar_{};
    std::string text_;
    list_type list_;
    map_type map_;
};

/// One map entry of a value map.
struct map_entry {
    value key;
    value val;
};

/// A bump allocator implementing `vigy_arena`. Blocks are allocated on demand
/// (16-byte aligned); `limit_bytes` (0 = unlimited) caps the total bytes handed
/// out (rounded up to 16 per allocation) — past it `alloc` returns NULL.
/// Not copyable or movable (the vigy_arena points at it). One thread at a time.
class arena {
public:
    explicit arena(size_t limit_bytes = 0, size_t block_bytes = 4096);
    ~arena();
    arena(const arena&) = delete;
    arena& operator=(const arena&) = delete;

    /// The C view to hand to plugins; valid for this arena's lifetime.
    const vigy_arena* get() const noexcept { return &c_; }
    const vigy_arena& c() const noexcept { return c_; }

    /// `bytes` (0 counts as 1) aligned to 16, or NULL past the limit / when the
    /// system is out of memory.
    void* allocate(size_t bytes) noexcept;
    /// Frees every allocation (keeps one block for reuse).
    void reset() noexcept;
    /// Bytes handed out since construction/reset (after 16-byte rounding).
    size_t used_bytes() const noexcept { return used_; }
    size_t limit_bytes() const noexcept { return limit_; }

private:
    struct block {
        std::byte* data;
        size_t size;
    };
    static void* c_alloc(void* ctx, size_t bytes);

    vigy_arena c_;
    size_t limit_;
    size_t block_bytes_;
    size_t used_ = 0;
    std::vector<block> blocks_;
    size_t offset_ = 0;  ///< bump offset into blocks_.back()
};

}  // namespace vigy::host

#endif  // VIGY_HOST_VALUE_HPP
