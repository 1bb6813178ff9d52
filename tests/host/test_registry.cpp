// The registry: in-process plugins, intrinsic installation, the host API slots
// plugins call, shutdown at destruction and plugins pinned for the process
// lifetime.
#include "vigy/host/log.hpp"
#include "vigy/host/registry.hpp"

#include "paths.hpp"

#include "vigy/sdk.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using vigy::host::registry;
using vigy::test::fixture;

namespace {

// ---- an in-process plugin, as an app embedding the runtime would link it ----

struct inproc {
    static std::unique_ptr<inproc> create(const vigy_reconciler_spec&) { return std::make_unique<inproc>(); }
    void tick(vigy::sdk::tick_ref t) { t.emit_action("apply"); }
};

const vigy_reconciler_kind inproc_kinds[] = {{sizeof(vigy_reconciler_kind), 0, "inproc", "in-process test kind"}};
const vigy_reconciler_factory inproc_factory = {
    sizeof(vigy_reconciler_factory),
    1,
    inproc_kinds,
    &vigy::sdk::reconciler_adapter<inproc>::create,
    &vigy::sdk::reconciler_adapter<inproc>::tick,
    &vigy::sdk::reconciler_adapter<inproc>::destroy,
};
const void* inproc_get_extension(const char* id) {
    return std::string_view(id) == VIGY_RECONCILER_FACTORY_ID ? &inproc_factory : nullptr;
}
const vigy_plugin_descriptor inproc_descriptor = {
    VIGY_PLUGIN_MAGIC, sizeof(vigy_plugin_descriptor),
    VIGY_ABI_VERSION,  0,
    "test.inproc",     "1.2.3",
    "in-process",      nullptr,
    nullptr,           &inproc_get_extension,
};
const vigy_plugin_descriptor* inproc_entry(uint32_t) { return &inproc_descriptor; }
const vigy_plugin_descriptor* null_entry(uint32_t) { return nullptr; }

/// A registrar that records names and refuses the name in `refuse`.
struct recording_registrar {
    std::vector<std::string> names;
    std::string refuse;
    vigy_registrar c{sizeof(vigy_registrar), 0, this, &add};
    static vigy_status add(void* ctx, const vigy_intrinsic* in, vigy_error* err) {
        auto* self = static_cast<recording_registrar*>(ctx);
        if (self->refuse == in->name) {
            vigy::sdk::set_error(err, std::string("duplicate intrinsic ") + in->name);
            return VIGY_ALREADY_EXISTS;
        }
        self->names.emplace_back(in->name);
        return VIGY_OK;
    }
};

std::string read_file(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

bool mapped(const fs::path& p) {
    void* h = ::dlopen(p.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (h) ::dlclose(h);
    return h != nullptr;
}

}  // namespace

TEST_CASE("add_static admits an in-process plugin with the same checks as a file", "[host]") {
    registry reg;
    CHECK(reg.add_static(&inproc_descriptor, "builtin:test"));
    REQUIRE(reg.find_plugin("test.inproc"));
    CHECK(reg.find_plugin("test.inproc")->in_process);
    CHECK(reg.find_plugin("test.inproc")->file == "builtin:test");
    CHECK(reg.find_factory("inproc") != nullptr);

    // the same id again is a duplicate, naming the first origin
    CHECK_FALSE(reg.add_static(&inproc_descriptor, "builtin:again"));
    REQUIRE(reg.skipped().size() == 1);
    CHECK(reg.skipped()[0].message ==
          "skipping builtin:again: duplicate plugin id \"test.inproc\" (already loaded from builtin:test)");
}

TEST_CASE("add_static from an entry function and its failures", "[host]") {
    registry reg;
    CHECK(reg.add_static(&inproc_entry, "builtin:entry"));
    CHECK_FALSE(reg.add_static(&null_entry, "builtin:null"));
    CHECK_FALSE(reg.add_static(static_cast<const vigy_plugin_descriptor*>(nullptr), "builtin:none"));
    REQUIRE(reg.skipped().size() == 2);
    CHECK(reg.skipped()[0].reason == "the plugin entry returned NULL (the plugin does not support host abi 1.1)");
    CHECK(reg.skipped()[1].reason == "no descriptor (NULL)");
}

TEST_CASE("add_static refuses a descriptor of another ABI major", "[host]") {
    vigy_plugin_descriptor d = inproc_descriptor;
    d.abi_version = 3u << 16;
    registry reg;
    CHECK_FALSE(reg.add_static(&d, "builtin:old"));
    CHECK(reg.skipped().at(0).reason == "plugin abi 3.0 is not compatible with host abi 1.1");
}

TEST_CASE("install_intrinsics offers every intrinsic in load order", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    recording_registrar r;
    CHECK(reg.install_intrinsics(r.c, nullptr) == VIGY_OK);
    CHECK(r.names == std::vector<std::string>{"test-add", "test-count"});

    const auto& packs = reg.find_plugin("test.good")->extensions;
    REQUIRE(packs.size() == 1);
    CHECK(packs[0].name == "testpack");
    CHECK(packs[0].intrinsics[1].max_arity == VIGY_ARITY_VARIADIC);
}

TEST_CASE("install_intrinsics stops at the registrar's first refusal and passes its message on", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    recording_registrar r;
    r.refuse = "test-count";
    vigy::sdk::error_buffer eb;
    CHECK(reg.install_intrinsics(r.c, eb.get()) == VIGY_ALREADY_EXISTS);
    CHECK(eb.message() == "duplicate intrinsic test-count");
    CHECK(r.names == std::vector<std::string>{"test-add"});
}

TEST_CASE("the host api's install_intrinsics slot reaches every loaded extension", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    const vigy_host_api* api = reg.host_api();
    recording_registrar r;
    vigy::sdk::error_buffer eb;
    CHECK(api->install_intrinsics(api->host_data, &r.c, eb.get()) == VIGY_OK);
    CHECK(r.names.size() == 2);
    CHECK(api->install_intrinsics(api->host_data, nullptr, eb.get()) == VIGY_INVALID_ARGUMENT);
}

TEST_CASE("child_create of an unknown kind is INVALID_ARGUMENT listing the known kinds", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    const vigy_host_api* api = reg.host_api();
    vigy_limits limits{};
    limits.struct_size = sizeof limits;
    vigy_reconciler_spec spec{};
    spec.struct_size = sizeof spec;
    spec.kind = vigy::sdk::str("lisp");
    spec.limits = &limits;
    vigy_child* child = nullptr;
    vigy::sdk::error_buffer eb;
    CHECK(api->child_create(api->host_data, &spec, &child, eb.get()) == VIGY_INVALID_ARGUMENT);
    CHECK(child == nullptr);
    CHECK(eb.message() == "unknown reconciler kind \"lisp\" (known: echo, emit, fail, reject, throw)");
}

TEST_CASE("plugin log lines go to the host logger named by plugin id", "[host]") {
    std::ostringstream captured;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
    auto logger = vigy::host::logger();
    logger->sinks().push_back(sink);
    vigy::host::set_verbosity(1);
    {
        registry reg;
        reg.load_file(fixture("a_good"));
        reg.load_file(fixture("e_abi_major"));
    }
    logger->sinks().pop_back();
    vigy::host::set_verbosity(0);
    CHECK_THAT(captured.str(), Catch::Contains("[test.good] fixture initialised"));
    CHECK_THAT(captured.str(), Catch::Contains("skipping " + fixture("e_abi_major").string() +
                                               ": plugin abi 2.0 is not compatible with host abi 1.1"));
}

TEST_CASE("destroying the registry shuts plugins down in reverse load order", "[host]") {
    vigy::test::temp_dir dir;
    fs::path log = dir.path() / "shutdown.log";
    vigy::test::scoped_env env("VIGY_TEST_SHUTDOWN_FILE", log.c_str());
    {
        registry reg;
        reg.load_file(fixture("a_good"));
        reg.load_file(fixture("z_last"));
        CHECK(read_file(log).empty());
    }
    CHECK(read_file(log) == "test.last\ntest.good\n");
}

TEST_CASE("a plugin refused after init is shut down at once", "[host]") {
    vigy::test::temp_dir dir;
    fs::path log = dir.path() / "shutdown.log";
    vigy::test::scoped_env env("VIGY_TEST_SHUTDOWN_FILE", log.c_str());
    registry reg;
    reg.load_file(fixture("a_good"));
    reg.load_file(fixture("h_dup_kind"));
    CHECK(read_file(log) == "test.dupkind\n");
}

TEST_CASE("plugins stay mapped for the process lifetime after the registry is destroyed", "[host]") {
    vigy::test::temp_dir dir;
    fs::path copy = dir.path() / "pinned.so";
    fs::copy_file(fixture("z_last"), copy);
    fs::path log = dir.path() / "shutdown.log";
    vigy::test::scoped_env env("VIGY_TEST_SHUTDOWN_FILE", log.c_str());
    {
        registry reg;
        REQUIRE(reg.load_file(copy));
        CHECK(mapped(copy));
    }
    CHECK(read_file(log) == "test.last\n");  // shut down...
    CHECK(mapped(copy));                     // ...but never unloaded
    {
        registry again;  // a later registry gets the same mapped library: init runs again
        REQUIRE(again.load_file(copy));
        CHECK(again.find_plugin("test.last") != nullptr);
    }
    CHECK(read_file(log) == "test.last\ntest.last\n");
    CHECK(mapped(copy));
}

TEST_CASE("a plugin refused after dlopen stays mapped too", "[host]") {
    vigy::test::temp_dir dir;
    fs::path copy = dir.path() / "abi2.so";
    fs::copy_file(fixture("e_abi_major"), copy);
    registry reg;
    CHECK_FALSE(reg.load_file(copy));
    CHECK(mapped(copy));  // its static constructors ran: their pointers must not dangle
}
