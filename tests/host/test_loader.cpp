// The plugin loader: every bad file is skipped with one clear diagnostic naming
// it and the reason, while good plugins beside it still load.
#include "vigy/host/plugin_loader.hpp"
#include "vigy/host/registry.hpp"

#include "paths.hpp"

#include <catch2/catch.hpp>

#include <fstream>

namespace fs = std::filesystem;
using vigy::host::registry;
using vigy::test::fixture;
using vigy::test::fixture_dir;

namespace {

/// The reason recorded for `file`, or "" when it was not skipped.
std::string reason_for(const registry& reg, const fs::path& file) {
    for (const auto& d : reg.skipped())
        if (d.file == file.string()) return d.reason;
    return "";
}

std::string message_for(const registry& reg, const fs::path& file) {
    for (const auto& d : reg.skipped())
        if (d.file == file.string()) return d.message;
    return "";
}

bool loaded(const registry& reg, const std::string& id) { return reg.find_plugin(id) != nullptr; }

}  // namespace

TEST_CASE("a directory of good and bad plugins loads the good ones and names every bad file", "[host]") {
    registry reg;
    reg.load_directory(fixture_dir());

    CHECK(loaded(reg, "test.good"));
    CHECK(loaded(reg, "test.last"));  // sorted after every bad file: loading carried on
    CHECK(reg.plugins().size() == 2);
    CHECK(reg.skipped().size() == 14);

    CHECK_THAT(reason_for(reg, fixture("c_null_entry")),
               Catch::Equals("vigy_plugin_entry returned NULL (the plugin does not support host abi 1.0)"));
    CHECK_THAT(reason_for(reg, fixture("d_bad_magic")),
               Catch::Equals("bad descriptor magic 0x12345678 (expected 0x59474956 \"VIGY\")"));
    CHECK_THAT(reason_for(reg, fixture("e_abi_major")),
               Catch::Equals("plugin abi 2.0 is not compatible with host abi 1.0"));
    CHECK_THAT(reason_for(reg, fixture("f_small_struct")),
               Catch::StartsWith("descriptor struct_size 16 is smaller than the abi 1.0 descriptor"));
    CHECK_THAT(reason_for(reg, fixture("g_dup_id")),
               Catch::Equals("duplicate plugin id \"test.good\" (already loaded from " + fixture("a_good").string() + ")"));
    CHECK_THAT(reason_for(reg, fixture("h_dup_kind")),
               Catch::Equals("duplicate reconciler kind \"emit\" (already provided by test.good from " +
                             fixture("a_good").string() + ")"));
    CHECK_THAT(reason_for(reg, fixture("i_dup_intrinsic")),
               Catch::Equals("duplicate intrinsic \"test-add\" (already provided by test.good from " +
                             fixture("a_good").string() + ")"));
    CHECK_THAT(reason_for(reg, fixture("j_init_fails")),
               Catch::Equals("init failed (failed-precondition): no license for this host"));
    CHECK_THAT(reason_for(reg, fixture("k_init_throws")), Catch::Equals("init threw an exception: init exploded"));
    CHECK_THAT(reason_for(reg, fixture("l_entry_throws")),
               Catch::Equals("vigy_plugin_entry threw an exception: entry exploded"));
    CHECK_THAT(reason_for(reg, fixture("m_no_entry")),
               Catch::Equals("no vigy_plugin_entry symbol (not a vigy plugin)"));
    CHECK_THAT(reason_for(reg, fixture("n_not_a_library")), Catch::StartsWith("not a loadable shared object: "));
    CHECK_THAT(reason_for(reg, fixture("o_get_extension_throws")),
               Catch::Equals("get_extension(\"vigy.reconciler-factory/1\") threw an exception: get_extension exploded"));
    CHECK_THAT(reason_for(reg, fixture("p_small_factory")),
               Catch::StartsWith("reconciler factory struct_size 8 is smaller than the abi 1.0 size"));
    CHECK_THAT(message_for(reg, fixture("e_abi_major")),
               Catch::Equals("skipping " + fixture("e_abi_major").string() +
                             ": plugin abi 2.0 is not compatible with host abi 1.0"));
}

TEST_CASE("a plugin skipped after a duplicate kind or intrinsic contributes nothing", "[host]") {
    registry reg;
    reg.load_file(fixture("a_good"));
    reg.load_file(fixture("h_dup_kind"));
    reg.load_file(fixture("i_dup_intrinsic"));
    REQUIRE(reg.plugins().size() == 1);
    CHECK(reg.find_plugin("test.dupkind") == nullptr);
    CHECK(reg.find_plugin("test.dupintrinsic") == nullptr);
    CHECK(reg.kinds() == std::vector<std::string>{"echo", "emit", "fail", "reject", "throw"});
}

TEST_CASE("first wins on a duplicate id whichever directory the second copy comes from", "[host]") {
    vigy::test::temp_dir dir;
    fs::copy_file(fixture("a_good"), dir.path() / "copy.so");
    registry reg;
    CHECK(reg.load_file(fixture("a_good")));
    CHECK_FALSE(reg.load_file(dir.path() / "copy.so"));
    CHECK_THAT(reason_for(reg, dir.path() / "copy.so"), Catch::Contains(fixture("a_good").string()));
    CHECK(reg.find_plugin("test.good")->file == fixture("a_good").string());
}

TEST_CASE("loading the same file twice is silently ignored", "[host]") {
    registry reg;
    CHECK(reg.load_file(fixture("a_good")));
    CHECK_FALSE(reg.load_file(fixture("a_good")));
    CHECK(reg.skipped().empty());
    CHECK(reg.plugins().size() == 1);
}

TEST_CASE("a plugin file writable by others is refused like ssh refuses a world-writable key", "[host]") {
    vigy::test::temp_dir dir;
    fs::path copy = dir.path() / "good.so";
    fs::copy_file(fixture("a_good"), copy);
    fs::permissions(copy, fs::perms(0666));
    registry reg;
    CHECK_FALSE(reg.load_file(copy));
    CHECK(reg.plugins().empty());
    CHECK_THAT(message_for(reg, copy), Catch::Equals("refusing " + copy.string() + ": writable by others (mode 0666)"));
}

TEST_CASE("a group-writable plugin file is refused", "[host]") {
    vigy::test::temp_dir dir;
    fs::path copy = dir.path() / "good.so";
    fs::copy_file(fixture("a_good"), copy);
    fs::permissions(copy, fs::perms(0664));
    registry reg;
    CHECK_FALSE(reg.load_file(copy));
    CHECK_THAT(reason_for(reg, copy), Catch::Equals("writable by group (mode 0664)"));
}

TEST_CASE("a plugin in a directory writable by others is refused", "[host]") {
    vigy::test::temp_dir dir;
    fs::path copy = dir.path() / "good.so";
    fs::copy_file(fixture("a_good"), copy);
    fs::permissions(copy, fs::perms(0755));
    fs::permissions(dir.path(), fs::perms(0777));
    registry reg;
    reg.load_directory(dir.path());
    CHECK(reg.plugins().empty());
    CHECK_THAT(message_for(reg, copy), Catch::Equals("refusing " + copy.string() + ": directory " +
                                                     dir.path().string() + " is writable by others (mode 0777)"));
    fs::permissions(dir.path(), fs::perms(0755));
}

TEST_CASE("the same plugin with safe permissions loads from a private directory", "[host]") {
    vigy::test::temp_dir dir;
    fs::path copy = dir.path() / "good.so";
    fs::copy_file(fixture("a_good"), copy);
    fs::permissions(copy, fs::perms(0644));
    registry reg;
    CHECK(reg.load_file(copy));
    CHECK(reg.skipped().empty());
}

TEST_CASE("a missing plugin directory is a diagnostic not an error", "[host]") {
    registry reg;
    CHECK(reg.load_directory("/nonexistent/vigy-plugins") == 0);
    REQUIRE(reg.skipped().size() == 1);
    CHECK(reg.skipped()[0].message == "skipping /nonexistent/vigy-plugins: no such directory");
}

TEST_CASE("the search path is built-in dir then --plugin-dir then VIGY_PLUGIN_PATH", "[host]") {
    vigy::test::temp_dir a, b;
    vigy::test::scoped_env env("VIGY_PLUGIN_PATH", (a.path().string() + "::" + b.path().string()).c_str());
    auto dirs = vigy::host::plugin_search_path({"/extra/one", "/extra/two"});
    REQUIRE(dirs.size() == 5);
    CHECK(dirs[0] == vigy::host::builtin_plugin_dir());
    CHECK(dirs[1] == "/extra/one");
    CHECK(dirs[2] == "/extra/two");
    CHECK(dirs[3] == a.path());
    CHECK(dirs[4] == b.path());
}

TEST_CASE("VIGY_PLUGIN_PATH directories load after --plugin-dir ones so the earlier copy wins", "[host]") {
    vigy::test::temp_dir env_dir, extra_dir;
    fs::copy_file(fixture("a_good"), env_dir.path() / "good.so");
    fs::copy_file(fixture("a_good"), extra_dir.path() / "good.so");
    vigy::test::scoped_env env("VIGY_PLUGIN_PATH", env_dir.path().c_str());
    registry reg;
    reg.load_search_path({extra_dir.path()});
    REQUIRE(reg.find_plugin("test.good"));
    CHECK(reg.find_plugin("test.good")->file == (extra_dir.path() / "good.so").string());
    CHECK_THAT(reason_for(reg, env_dir.path() / "good.so"), Catch::StartsWith("duplicate plugin id \"test.good\""));
}

TEST_CASE("the built-in plugin directory of a test binary is the build tree's and holds vigy.native", "[host]") {
    fs::path dir = vigy::host::builtin_plugin_dir();
    CHECK(fs::exists(dir / "vigy_native.so"));
    vigy::test::scoped_env env("VIGY_PLUGIN_PATH", nullptr);
    registry reg;
    reg.load_search_path();
    CHECK(reg.find_plugin("vigy.native") != nullptr);
}

TEST_CASE("an extra plugin directory may be a single plugin file", "[host]") {
    vigy::test::scoped_env env("VIGY_PLUGIN_PATH", nullptr);
    registry reg;
    reg.load_search_path({fixture("a_good")});
    CHECK(reg.find_plugin("test.good") != nullptr);
}

TEST_CASE("check_descriptor accepts a larger struct_size from a newer minor version", "[host]") {
    struct bigger {
        vigy_plugin_descriptor d;
        void* added_in_1_1;
    } b{};
    b.d.magic = VIGY_PLUGIN_MAGIC;
    b.d.struct_size = sizeof b;
    b.d.abi_version = (1u << 16) | 7u;
    b.d.id = "test.newer";
    vigy_plugin_descriptor out;
    CHECK_FALSE(vigy::host::check_descriptor(&b.d, &out).has_value());
    CHECK(std::string(out.id) == "test.newer");
}

TEST_CASE("check_descriptor refuses a descriptor without an id", "[host]") {
    vigy_plugin_descriptor d{};
    d.magic = VIGY_PLUGIN_MAGIC;
    d.struct_size = sizeof d;
    d.abi_version = VIGY_ABI_VERSION;
    vigy_plugin_descriptor out;
    CHECK(vigy::host::check_descriptor(&d, &out) == std::optional<std::string>("descriptor has no id"));
}
