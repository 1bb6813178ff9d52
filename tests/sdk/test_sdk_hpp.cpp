// sdk.hpp: the exception fence, the value builder, checked intrinsic arguments.
#include "vigy/sdk.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <vector>

namespace {

// A trivial arena for tests: mallocs, frees everything at destruction, can
// refuse after `limit` bytes.
struct test_arena {
    std::vector<void*> blocks;
    size_t used = 0, limit = SIZE_MAX;
    vigy_arena arena{sizeof(vigy_arena), 0, this, [](void* ctx, size_t n) -> void* {
                         auto* self = static_cast<test_arena*>(ctx);
                         if (self->used + n > self->limit) return nullptr;
                         self->used += n;
                         void* p = std::aligned_alloc(16, (n + 15) / 16 * 16);
                         self->blocks.push_back(p);
                         return p;
                     }};
    ~test_arena() {
        for (void* p : blocks) std::free(p);
    }
};

}  // namespace

TEST_CASE("fence turns exceptions into status codes and messages", "[sdk]") {
    vigy::sdk::error_buffer eb;
    CHECK(vigy::sdk::fence(eb.get(), [] {}) == VIGY_OK);
    CHECK(vigy::sdk::fence(eb.get(), [] { vigy::sdk::fail(VIGY_NOT_FOUND, "no such kind: x"); }) == VIGY_NOT_FOUND);
    CHECK(eb.message() == "no such kind: x");
    CHECK(vigy::sdk::fence(eb.get(), []() -> vigy_status { throw std::runtime_error("boom"); }) == VIGY_INTERNAL);
    CHECK(eb.message() == "boom");
    CHECK(vigy::sdk::fence(eb.get(), [] { throw 42; }) == VIGY_INTERNAL);
    CHECK(eb.message() == "unknown exception");
    CHECK(vigy::sdk::fence(eb.get(), [] { throw std::bad_alloc(); }) == VIGY_RESOURCE_EXHAUSTED);
    CHECK(vigy::sdk::fence(nullptr, [] { throw 1; }) == VIGY_INTERNAL);  // NULL sink is tolerated
}

TEST_CASE("builder deep-copies values into the arena", "[sdk]") {
    test_arena a;
    vigy::sdk::builder b(&a.arena);
    std::string s = "hello";
    vigy_value* items;
    vigy_value list = b.list(2, &items);
    items[0] = vigy_str_value(VIGY_STRING, s.data(), s.size());
    vigy_map_entry* es;
    items[1] = b.map(1, &es);
    es[0].key = b.keyword("count");
    es[0].value = vigy_int(7);
    vigy_value copy = b.copy(list);
    s = "HELLO";  // the copy must not alias the source
    REQUIRE(copy.type == VIGY_LIST);
    REQUIRE(copy.as.list.len == 2);
    CHECK(vigy::sdk::view(copy.as.list.items[0].as.str) == "hello");
    const vigy_value* count = vigy::sdk::map_get(copy.as.list.items[1], "count");
    REQUIRE(count);
    CHECK(count->as.i == 7);
    CHECK(vigy::sdk::map_get(copy.as.list.items[1], "missing") == nullptr);
}

TEST_CASE("builder reports an exhausted arena as RESOURCE_EXHAUSTED", "[sdk]") {
    test_arena a;
    a.limit = 8;
    vigy::sdk::error_buffer eb;
    vigy_status s = vigy::sdk::fence(eb.get(), [&] { vigy::sdk::builder(&a.arena).string("a long string here"); });
    CHECK(s == VIGY_RESOURCE_EXHAUSTED);
    CHECK(eb.message().find("memory limit") != std::string::npos);
    vigy_value v = vigy_int(1);
    CHECK(vigy_str_copy(&a.arena, VIGY_STRING, "0123456789", 10, &v) == VIGY_RESOURCE_EXHAUSTED);
    CHECK(v.type == VIGY_NIL);
    CHECK(v.flags == 0);  // reserved stays 0: failure is the status, never a flag
}

TEST_CASE("vigy_str_copy copies into the arena with a terminator and returns OK", "[sdk]") {
    test_arena a;
    char source[] = "ready";
    vigy_value v = vigy_nil();
    REQUIRE(vigy_str_copy(&a.arena, VIGY_KEYWORD, source, 5, &v) == VIGY_OK);
    source[0] = 'X';  // the copy does not alias the source
    CHECK(v.type == VIGY_KEYWORD);
    CHECK(v.flags == 0);
    CHECK(vigy::sdk::view(v.as.str) == "ready");
    CHECK(v.as.str.ptr[5] == '\0');
}

namespace {
vigy_value add_impl(const vigy::sdk::call_args& args, vigy::sdk::tick_ref) {
    return vigy_int(args.integer(0, "a") + (args.has(1) ? args.integer(1, "b") : 1));
}
constexpr vigy_intrinsic kAdd = vigy::sdk::intrinsic<add_impl>("test-add", 1, 2, "(test-add a [b])");
}  // namespace

TEST_CASE("intrinsic trampolines check argument types and name the intrinsic", "[sdk]") {
    test_arena a;
    vigy::sdk::error_buffer eb;
    vigy_value args[2] = {vigy_int(40), vigy_int(2)};
    vigy_call call{sizeof(vigy_call), 2, args, nullptr, &a.arena, eb.get(), kAdd.data};
    vigy_value out = vigy_nil();
    REQUIRE(kAdd.fn(&call, &out) == VIGY_OK);
    CHECK(out.as.i == 42);
    call.argc = 1;
    REQUIRE(kAdd.fn(&call, &out) == VIGY_OK);
    CHECK(out.as.i == 41);
    args[1] = vigy_str_value(VIGY_STRING, "x", 1);
    call.argc = 2;
    CHECK(kAdd.fn(&call, &out) == VIGY_INVALID_ARGUMENT);
    CHECK(eb.message() == "test-add: argument 2 (b) must be an int, got string");
}

TEST_CASE("optional string arguments accept nil as absent and keywords as names", "[sdk]") {
    vigy::sdk::error_buffer eb;
    vigy_value args[2] = {vigy_nil(), vigy_str_value(VIGY_KEYWORD, "ready", 5)};
    vigy_call call{sizeof(vigy_call), 2, args, nullptr, nullptr, eb.get(), nullptr};
    vigy::sdk::call_args a(&call, "vigy-condition");
    CHECK(vigy::sdk::is_absent(a.optional_string(0, "reason")));
    CHECK(vigy::sdk::view(a.optional_string(1, "message")) == "ready");
    CHECK(vigy::sdk::is_absent(a.optional_string(5, "missing")));
    CHECK_FALSE(vigy::sdk::truthy(vigy_nil()));
    CHECK_FALSE(vigy::sdk::truthy(vigy_bool(0)));
    CHECK(vigy::sdk::truthy(vigy_int(0)));
}
