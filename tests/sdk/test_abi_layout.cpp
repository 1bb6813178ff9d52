// Static assertions on every struct that crosses the ABI: sizes and offsets
// are part of the contract (a plugin built against ABI 1.0 keeps working), and so are the published ABI
// 1.0 sizes (VIGY_*_SIZE_1_0) a reader compares struct_size against. A
// failing build here means an ABI break: bump VIGY_ABI_MAJOR or append fields
// instead (and leave every *_SIZE_1_0 where it is).
#include "vigy/vigy.h"

#include <catch2/catch.hpp>

#include <cstddef>

extern "C" int vigy_test_c_value_sum(const vigy_value* list);
extern "C" vigy_status vigy_test_c_str_copy(const char* text, size_t n, size_t* len);

static_assert(sizeof(void*) == 8, "the layout below is for LP64");

static_assert(sizeof(vigy_str) == 16);
static_assert(sizeof(vigy_value) == 24 && offsetof(vigy_value, type) == 0 && offsetof(vigy_value, flags) == 4 &&
              offsetof(vigy_value, as) == 8);
static_assert(sizeof(vigy_map_entry) == 48 && offsetof(vigy_map_entry, value) == 24);
static_assert(sizeof(vigy_arena) == 24 && offsetof(vigy_arena, alloc) == 16);
static_assert(sizeof(vigy_error) == 24 && offsetof(vigy_error, set) == 16);

static_assert(offsetof(vigy_plugin_descriptor, magic) == 0 && offsetof(vigy_plugin_descriptor, struct_size) == 4 &&
              offsetof(vigy_plugin_descriptor, abi_version) == 8 && offsetof(vigy_plugin_descriptor, id) == 16 &&
              offsetof(vigy_plugin_descriptor, version) == 24 && offsetof(vigy_plugin_descriptor, description) == 32 &&
              offsetof(vigy_plugin_descriptor, init) == 40 && offsetof(vigy_plugin_descriptor, shutdown) == 48 &&
              offsetof(vigy_plugin_descriptor, get_extension) == 56 && sizeof(vigy_plugin_descriptor) == 64);

static_assert(offsetof(vigy_host_api, host_data) == 8 && offsetof(vigy_host_api, log) == 16 &&
              offsetof(vigy_host_api, get_extension) == 24 && offsetof(vigy_host_api, install_intrinsics) == 32 &&
              offsetof(vigy_host_api, child_create) == 40 && offsetof(vigy_host_api, child_tick) == 48 &&
              offsetof(vigy_host_api, child_destroy) == 56 && sizeof(vigy_host_api) == 64);

static_assert(offsetof(vigy_tick, api) == 8 && sizeof(vigy_tick) == 16);
static_assert(offsetof(vigy_tick_info, tick_start_ms) == 8 && offsetof(vigy_tick_info, previous_tick_ms) == 16 &&
              offsetof(vigy_tick_info, tick_count) == 24 && offsetof(vigy_tick_info, vigy_name) == 32 &&
              offsetof(vigy_tick_info, vigy_id) == 48);
// ABI 1.1 appended `trigger`.
static_assert(offsetof(vigy_tick_info, trigger) == 64 && sizeof(vigy_tick_info) == 72);
static_assert(offsetof(vigy_action, kind) == 8 && offsetof(vigy_action, payload) == 24 &&
              offsetof(vigy_action, result) == 32 && offsetof(vigy_action, message) == 48 && sizeof(vigy_action) == 64);
static_assert(offsetof(vigy_tick_api, info) == 8 && offsetof(vigy_tick_api, emit_action) == 16 &&
              offsetof(vigy_tick_api, set_desired) == 24 && offsetof(vigy_tick_api, set_observed) == 32 &&
              offsetof(vigy_tick_api, set_condition) == 40 && offsetof(vigy_tick_api, log) == 48 &&
              offsetof(vigy_tick_api, trace) == 56 && offsetof(vigy_tick_api, metric) == 64 &&
              offsetof(vigy_tick_api, event) == 72 && offsetof(vigy_tick_api, kv_get) == 80 &&
              offsetof(vigy_tick_api, kv_set) == 88 && offsetof(vigy_tick_api, kv_has) == 96 &&
              offsetof(vigy_tick_api, kv_del) == 104 && offsetof(vigy_tick_api, set_output) == 112 &&
              offsetof(vigy_tick_api, cancelled) == 120 && sizeof(vigy_tick_api) == 128);

static_assert(offsetof(vigy_call, argc) == 4 && offsetof(vigy_call, args) == 8 && offsetof(vigy_call, tick) == 16 &&
              offsetof(vigy_call, arena) == 24 && offsetof(vigy_call, error) == 32 && offsetof(vigy_call, data) == 40 &&
              sizeof(vigy_call) == 48);
static_assert(offsetof(vigy_intrinsic, min_arity) == 4 && offsetof(vigy_intrinsic, max_arity) == 8 &&
              offsetof(vigy_intrinsic, name) == 16 && offsetof(vigy_intrinsic, doc) == 24 &&
              offsetof(vigy_intrinsic, fn) == 32 && offsetof(vigy_intrinsic, data) == 40 &&
              sizeof(vigy_intrinsic) == 48);
static_assert(offsetof(vigy_registrar, ctx) == 8 && offsetof(vigy_registrar, add_intrinsic) == 16 &&
              sizeof(vigy_registrar) == 24);
static_assert(offsetof(vigy_host_extension, name) == 8 && offsetof(vigy_host_extension, doc) == 16 &&
              offsetof(vigy_host_extension, intrinsic_count) == 24 && offsetof(vigy_host_extension, intrinsics) == 32 &&
              sizeof(vigy_host_extension) == 40);
static_assert(offsetof(vigy_host_extension_list, count) == 8 && offsetof(vigy_host_extension_list, extensions) == 16 &&
              sizeof(vigy_host_extension_list) == 24);

static_assert(offsetof(vigy_limits, fuel) == 8 && offsetof(vigy_limits, wall_ms) == 16 &&
              offsetof(vigy_limits, memory_bytes) == 24 && offsetof(vigy_limits, max_depth) == 32 &&
              sizeof(vigy_limits) == 40);
static_assert(offsetof(vigy_reconciler_spec, kind) == 8 && offsetof(vigy_reconciler_spec, config_json) == 24 &&
              offsetof(vigy_reconciler_spec, config) == 40 && offsetof(vigy_reconciler_spec, limits) == 48 &&
              offsetof(vigy_reconciler_spec, name) == 56 && sizeof(vigy_reconciler_spec) == 72);
static_assert(offsetof(vigy_reconciler_kind, kind) == 8 && offsetof(vigy_reconciler_kind, doc) == 16 &&
              sizeof(vigy_reconciler_kind) == 24);
static_assert(offsetof(vigy_reconciler_factory, kind_count) == 4 && offsetof(vigy_reconciler_factory, kinds) == 8 &&
              offsetof(vigy_reconciler_factory, create) == 16 && offsetof(vigy_reconciler_factory, tick) == 24 &&
              offsetof(vigy_reconciler_factory, destroy) == 32 && sizeof(vigy_reconciler_factory) == 40);

// The ABI 1.0 sizes: the end of each struct's last 1.0 field (LP64). The size macros
// measure pointer fields (sizeof of a pointer to a struct), which is what is meant.
// NOLINTBEGIN(bugprone-sizeof-expression)
static_assert(VIGY_ERROR_SIZE_1_0 == 24 && VIGY_ARENA_SIZE_1_0 == 24);
static_assert(VIGY_PLUGIN_DESCRIPTOR_SIZE_1_0 == 64 && VIGY_HOST_API_SIZE_1_0 == 64);
static_assert(VIGY_TICK_SIZE_1_0 == 16 && VIGY_TICK_INFO_SIZE_1_0 == 64 && VIGY_ACTION_SIZE_1_0 == 64 &&
              VIGY_TICK_API_SIZE_1_0 == 128);
static_assert(VIGY_CALL_SIZE_1_0 == 48 && VIGY_INTRINSIC_SIZE_1_0 == 48 && VIGY_REGISTRAR_SIZE_1_0 == 24 &&
              VIGY_HOST_EXTENSION_SIZE_1_0 == 40 && VIGY_HOST_EXTENSION_LIST_SIZE_1_0 == 24);
static_assert(VIGY_LIMITS_SIZE_1_0 == 40 && VIGY_RECONCILER_SPEC_SIZE_1_0 == 72 &&
              VIGY_RECONCILER_KIND_SIZE_1_0 == 24 && VIGY_RECONCILER_FACTORY_SIZE_1_0 == 40);
// ABI 1.1 sizes.
static_assert(VIGY_TICK_INFO_SIZE_1_1 == 72 && VIGY_TICK_INFO_SIZE_1_1 == sizeof(vigy_tick_info));
// Every struct that did not grow in 1.1 is still exactly its 1.0 size.
static_assert(sizeof(vigy_error) == VIGY_ERROR_SIZE_1_0 && sizeof(vigy_arena) == VIGY_ARENA_SIZE_1_0 &&
              sizeof(vigy_plugin_descriptor) == VIGY_PLUGIN_DESCRIPTOR_SIZE_1_0 &&
              sizeof(vigy_host_api) == VIGY_HOST_API_SIZE_1_0 && sizeof(vigy_tick) == VIGY_TICK_SIZE_1_0 &&
              sizeof(vigy_action) == VIGY_ACTION_SIZE_1_0 && sizeof(vigy_tick_api) == VIGY_TICK_API_SIZE_1_0 &&
              sizeof(vigy_call) == VIGY_CALL_SIZE_1_0 && sizeof(vigy_intrinsic) == VIGY_INTRINSIC_SIZE_1_0 &&
              sizeof(vigy_registrar) == VIGY_REGISTRAR_SIZE_1_0 &&
              sizeof(vigy_host_extension) == VIGY_HOST_EXTENSION_SIZE_1_0 &&
              sizeof(vigy_host_extension_list) == VIGY_HOST_EXTENSION_LIST_SIZE_1_0 &&
              sizeof(vigy_limits) == VIGY_LIMITS_SIZE_1_0 &&
              sizeof(vigy_reconciler_spec) == VIGY_RECONCILER_SPEC_SIZE_1_0 &&
              sizeof(vigy_reconciler_kind) == VIGY_RECONCILER_KIND_SIZE_1_0 &&
              sizeof(vigy_reconciler_factory) == VIGY_RECONCILER_FACTORY_SIZE_1_0);
// NOLINTEND(bugprone-sizeof-expression)
static_assert(VIGY_ABI_MAJOR == 1 && VIGY_ABI_MINOR == 1 && VIGY_ABI_VERSION == 0x00010001u);

TEST_CASE("abi version packs major and minor", "[sdk]") {
    CHECK(VIGY_ABI_VERSION_MAJOR(VIGY_ABI_VERSION) == VIGY_ABI_MAJOR);
    CHECK(VIGY_ABI_VERSION_MINOR(VIGY_ABI_VERSION) == VIGY_ABI_MINOR);
    CHECK(VIGY_ABI_VERSION_MAJOR(0x00020003u) == 2u);
    CHECK(VIGY_ABI_VERSION_MINOR(0x00020003u) == 3u);
    // "VIGY" in memory order on a little-endian machine
    const uint32_t magic = VIGY_PLUGIN_MAGIC;
    CHECK(std::string(reinterpret_cast<const char*>(&magic), 4) == "VIGY");
}

TEST_CASE("a value built in C++ reads the same from C", "[sdk]") {
    vigy_value items[3] = {vigy_int(1), vigy_int(20), vigy_int(300)};
    vigy_value list = vigy_nil();
    list.type = VIGY_LIST;
    list.as.list.items = items;
    list.as.list.len = 3;
    CHECK(vigy_test_c_value_sum(&list) == 321);
    vigy_value notlist = vigy_int(5);
    CHECK(vigy_test_c_value_sum(&notlist) == -1);
}

TEST_CASE("vigy_str_copy reports a refusing arena through its status from C too", "[sdk]") {
    size_t len = 99;
    CHECK(vigy_test_c_str_copy("hello", 5, &len) == VIGY_OK);
    CHECK(len == 5);
    const std::string big(100, 'x');
    CHECK(vigy_test_c_str_copy(big.data(), big.size(), &len) == VIGY_RESOURCE_EXHAUSTED);
    CHECK(len == 0);
}

TEST_CASE("status names are the canonical lowercase names", "[sdk]") {
    CHECK(std::string(vigy_status_name(VIGY_OK)) == "ok");
    CHECK(std::string(vigy_status_name(VIGY_INVALID_ARGUMENT)) == "invalid-argument");
    CHECK(std::string(vigy_status_name(VIGY_RESOURCE_EXHAUSTED)) == "resource-exhausted");
    CHECK(std::string(vigy_status_name(VIGY_PERMISSION_DENIED)) == "permission-denied");
    CHECK(std::string(vigy_status_name(12345)) == "unknown");
    CHECK(std::string(vigy_type_name(VIGY_KEYWORD)) == "keyword");
    CHECK(std::string(vigy_type_name(99)) == "unknown");
}
