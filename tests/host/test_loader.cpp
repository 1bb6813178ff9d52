// The plugin loader: every bad file is skipped with one clear diagnostic naming
// it and the reason, while good plugins beside it still load; and the trust
// checks (OpenSSH StrictModes): ownership and modes of the file and of every
// directory up to /, symlinks resolved, relative VIGY_PLUGIN_PATH entries.
// Tests run as root, so "another user" is uid 4242 (no such account needed).
#include "vigy/host/plugin_loader.hpp"
#include "vigy/host/registry.hpp"

#include "paths.hpp"

#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <unistd.h>

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

constexpr uid_t other_uid = 4242;

/// Gives `p` (not following a symlink) to uid 4242. Root only: the suite runs as root.
void give_away(const fs::path& p) {
    INFO("chown " << p << " to uid " << other_uid << " needs root (these tests run as root)");
    REQUIRE(::geteuid() == 0);
    REQUIRE(::lchown(p.c_str(), other_uid, static_cast<gid_t>(-1)) == 0);
}

/// A fresh private copy of the good fixture: <dir>/good.so, mode 0644.
fs::path good_copy(const fs::path& dir) {
    fs::path copy = dir / "good.so";
    fs::copy_file(fixture("a_good"), copy);
    fs::permissions(copy, fs::perms(0644));
    return copy;
}

/// A directory under `parent` with `mode`.
fs::path make_dir(const fs::path& parent, const std::string& name, unsigned mode) {
    fs::path d = parent / name;
    fs::create_directory(d);
    fs::permissions(d, static_cast<fs::perms>(mode));
    return d;
}

std::string refusal(const fs::path& file) {
    registry reg;
    if (reg.load_file(file)) return "loaded";
    for (const auto& d : reg.skipped())
        if (d.file == file.string()) return d.message;
    return "not loaded, no diagnostic";
}

bool mapped(const fs::path& p) {
    void* h = ::dlopen(p.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (h) ::dlclose(h);
    return h != nullptr;
}

}  // namespace

TEST_CASE("a directory of good and bad plugins loads the good ones and names every bad file", "[host]") {
    registry reg;
    reg.load_directory(fixture_dir());

    CHECK(loaded(reg, "test.good"));
    CHECK(loaded(reg, "test.last"));  // sorted after every bad file: loading carried on
    CHECK(reg.plugins().size() == 2);
    CHECK(reg.skipped().size() == 14);

    CHECK_THAT(reason_for(reg, fixture("c_null_entry")),
               Catch::Equals("vigy_plugin_entry returned NULL (the plugin does not support host abi 1.1)"));
    CHECK_THAT(reason_for(reg, fixture("d_bad_magic")),
               Catch::Equals("bad descriptor magic 0x12345678 (expected 0x59474956 \"VIGY\")"));
    CHECK_THAT(reason_for(reg, fixture("e_abi_major")),
               Catch::Equals("plugin abi 2.0 is not compatible with host abi 1.1"));
    CHECK_THAT(reason_for(reg, fixture("f_small_struct")),
               Catch::StartsWith("descriptor struct_size 16 is smaller than the abi 1.0 descriptor"));
    CHECK_THAT(
        reason_for(reg, fixture("g_dup_id")),
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
    CHECK_THAT(
        reason_for(reg, fixture("o_get_extension_throws")),
        Catch::Equals("get_extension(\"vigy.reconciler-factory/1\") threw an exception: get_extension exploded"));
    CHECK_THAT(reason_for(reg, fixture("p_small_factory")),
               Catch::StartsWith("reconciler factory struct_size 8 is smaller than the abi 1.0 size"));
    CHECK_THAT(message_for(reg, fixture("e_abi_major")),
               Catch::Equals("skipping " + fixture("e_abi_major").string() +
                             ": plugin abi 2.0 is not compatible with host abi 1.1"));
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

// ---- trust: ownership and modes along the path --------------------------------

TEST_CASE("a plugin file owned by another user is refused naming the uid", "[host][trust]") {
    vigy::test::temp_dir dir;
    fs::path so = good_copy(dir.path());
    give_away(so);
    CHECK(refusal(so) == "refusing " + so.string() + ": owned by uid 4242, not root or uid 0");
}

TEST_CASE("a plugin in a directory owned by another user is refused naming the directory", "[host][trust]") {
    vigy::test::temp_dir dir;
    fs::path theirs = make_dir(dir.path(), "theirs", 0755);
    fs::path so = good_copy(theirs);
    give_away(theirs);
    CHECK(refusal(so) ==
          "refusing " + so.string() + ": directory " + theirs.string() + " is owned by uid 4242, not root or uid 0");
}

TEST_CASE("a private directory inside a world-writable non-sticky directory is refused", "[host][trust]") {
    vigy::test::temp_dir dir;
    fs::path open = make_dir(dir.path(), "open", 0777);
    fs::path inner = make_dir(open, "inner", 0755);
    fs::path so = good_copy(inner);
    CHECK(refusal(so) ==
          "refusing " + so.string() + ": directory " + open.string() + " is writable by others (mode 0777)");
    fs::permissions(open, fs::perms(0775));
    CHECK(refusal(so) ==
          "refusing " + so.string() + ": directory " + open.string() + " is writable by group (mode 0775)");
    fs::permissions(open, fs::perms(0755));
    CHECK(refusal(so) == "loaded");
}

TEST_CASE("a root-owned sticky directory on the path is allowed like /tmp and a user-owned one is not",
          "[host][trust]") {
    vigy::test::temp_dir dir;
    fs::path shared = make_dir(dir.path(), "shared", 01777);  // like /tmp: root-owned, sticky, world-writable
    fs::path mine = make_dir(shared, "mine", 0755);
    fs::path so = good_copy(mine);
    CHECK(refusal(so) == "loaded");
    give_away(shared);  // sticky, but owned by someone else: its owner could replace our entry
    CHECK(refusal(so) ==
          "refusing " + so.string() + ": directory " + shared.string() + " is owned by uid 4242, not root or uid 0");
}

TEST_CASE("a symlink to another user's plugin is refused naming the file it resolves to", "[host][trust]") {
    vigy::test::temp_dir dir;
    fs::path theirs = make_dir(dir.path(), "theirs", 0755);
    fs::path target = good_copy(theirs);
    give_away(target);
    fs::path mine = make_dir(dir.path(), "mine", 0755);
    fs::path link = mine / "link.so";
    fs::create_symlink(target, link);
    CHECK(refusal(link) == "refusing " + link.string() + ": resolves to " + target.string() +
                               ", which is owned by uid 4242, not root or uid 0");
    // the target's directory is checked too
    fs::path other = make_dir(dir.path(), "other", 0755);
    fs::path target2 = good_copy(other);
    give_away(other);
    fs::path link2 = mine / "link2.so";
    fs::create_symlink(target2, link2);
    CHECK(refusal(link2) == "refusing " + link2.string() + ": resolves to " + target2.string() + ", whose directory " +
                                other.string() + " is owned by uid 4242, not root or uid 0");
}

TEST_CASE("a symlink in a world-writable directory is refused even when its target is trusted", "[host][trust]") {
    vigy::test::temp_dir dir;
    fs::path safe = make_dir(dir.path(), "safe", 0755);
    fs::path target = good_copy(safe);
    fs::path open = make_dir(dir.path(), "open", 0777);
    fs::path link = open / "link.so";
    fs::create_symlink(target, link);
    CHECK(refusal(link) ==
          "refusing " + link.string() + ": directory " + open.string() + " is writable by others (mode 0777)");
}

TEST_CASE("a trusted symlink loads and the resolved file is what gets opened", "[host][trust]") {
    vigy::test::temp_dir dir;
    fs::path safe = make_dir(dir.path(), "safe", 0755);
    fs::path target = safe / "real.so";
    fs::copy_file(fixture("z_last"), target);
    fs::path link = dir.path() / "link.so";
    fs::create_symlink(target, link);
    vigy::host::plugin_trust t = vigy::host::trust_plugin_file(link);
    CHECK(t.trusted());
    CHECK(t.resolved == target);
    registry reg;
    REQUIRE(reg.load_file(link));
    CHECK(reg.find_plugin("test.last")->file == link.string());  // listed under the name it was given
    CHECK(mapped(target));
}

TEST_CASE("a plugin path that is not a regular file or does not resolve is refused", "[host][trust]") {
    vigy::test::temp_dir dir;
    fs::path d = make_dir(dir.path(), "dir.so", 0755);
    CHECK(refusal(d) == "refusing " + d.string() + ": not a regular file");
    fs::path dangling = dir.path() / "dangling.so";
    fs::create_symlink(dir.path() / "missing.so", dangling);
    CHECK(refusal(dangling) == "refusing " + dangling.string() + ": cannot resolve: No such file or directory");
}

TEST_CASE("VIGY_PLUGIN_PATH refuses relative entries including . and still loads the absolute ones", "[host][trust]") {
    vigy::test::temp_dir cwd, abs;
    good_copy(cwd.path());
    fs::copy_file(fixture("z_last"), abs.path() / "last.so");
    fs::path old = fs::current_path();
    fs::current_path(cwd.path());  // a plugin in the current directory must never load
    {
        vigy::test::scoped_env env("VIGY_PLUGIN_PATH", (".:plugins:" + abs.path().string()).c_str());
        registry reg;
        reg.load_search_path();
        fs::current_path(old);
        CHECK_FALSE(loaded(reg, "test.good"));
        CHECK(loaded(reg, "test.last"));
        CHECK(message_for(reg, ".") ==
              "refusing .: relative VIGY_PLUGIN_PATH entry (only absolute directories are searched, so the current "
              "directory never supplies plugins)");
        CHECK_THAT(message_for(reg, "plugins"), Catch::StartsWith("refusing plugins: relative VIGY_PLUGIN_PATH entry"));
    }
    fs::current_path(old);
}
