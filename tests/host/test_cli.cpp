// `vigy plugins list/inspect`, --version, --help and usage errors, run as the
// real binary in a child process.
#include "paths.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

struct run_result {
    int code = -1;
    std::string out;
    std::string err;
};

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// Runs `vigy <args>` with a clean plugin environment (no VIGY_PLUGIN_PATH,
/// NO_COLOR=1). `args` is passed through the shell as is.
run_result run_vigy(const std::string& args, const fs::path& exe = vigy::test::vigy_exe()) {
    vigy::test::temp_dir dir;
    const fs::path out = dir.path() / "out", err = dir.path() / "err";
    std::string cmd = "env -u VIGY_PLUGIN_PATH NO_COLOR=1 '" + exe.string() + "' " + args + " >'" + out.string() +
                      "' 2>'" + err.string() + "'";
    int status = std::system(cmd.c_str());
    run_result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

std::string fixtures() { return "'" + vigy::test::fixture_dir().string() + "'"; }

}  // namespace

TEST_CASE("vigy plugins list shows vigy.native with noop and chain at abi 1.1", "[host][cli]") {
    auto r = run_vigy("plugins list");
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("ID"));
    CHECK_THAT(r.out, Catch::Contains("VERSION") && Catch::Contains("ABI") && Catch::Contains("PROVIDES") &&
                          Catch::Contains("FILE"));
    std::istringstream lines(r.out);
    std::string line, native;
    while (std::getline(lines, line))
        if (line.rfind("vigy.native ", 0) == 0) native = line;
    CHECK_THAT(native, Catch::Contains(" 1.1 ") && Catch::Contains("reconcilers: noop, chain") &&
                           Catch::Contains("vigy_native.so"));
}

TEST_CASE("vigy plugins list -o json is valid JSON with kinds and abi", "[host][cli]") {
    auto r = run_vigy("plugins list -o json");
    REQUIRE(r.code == 0);
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    REQUIRE_FALSE(d.HasParseError());
    REQUIRE(d["plugins"].IsArray());
    const rapidjson::Value* native = nullptr;
    for (const auto& p : d["plugins"].GetArray())
        if (std::string(p["id"].GetString()) == "vigy.native") native = &p;
    REQUIRE(native);
    CHECK(std::string((*native)["abi"].GetString()) == "1.1");
    REQUIRE((*native)["kinds"].Size() == 2);
    CHECK(std::string((*native)["kinds"][0].GetString()) == "noop");
    CHECK(std::string((*native)["kinds"][1].GetString()) == "chain");
    CHECK(d["skipped"].IsArray());
}

TEST_CASE("vigy plugins list shows skipped files with their reasons", "[host][cli]") {
    auto r = run_vigy("plugins list --plugin-dir " + fixtures());
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("test.good"));
    CHECK_THAT(r.out, Catch::Contains("\nskipped "));
    CHECK_THAT(r.out, Catch::Contains("e_abi_major.so: plugin abi 2.0 is not compatible with host abi 1.1"));
    CHECK_THAT(r.err, Catch::Contains("warning: skipping "));

    auto j = run_vigy("-o json plugins list --plugin-dir " + fixtures());
    rapidjson::Document d;
    d.Parse(j.out.c_str());
    REQUIRE_FALSE(d.HasParseError());
    size_t from_fixtures = 0;  // other plugins in the built-in dir are not this test's business
    for (const auto& s : d["skipped"].GetArray())
        if (std::string(s["file"].GetString()).rfind(vigy::test::fixture_dir().string(), 0) == 0) ++from_fixtures;
    CHECK(from_fixtures == 14);
}

TEST_CASE("vigy plugins inspect shows kinds with docs and intrinsics with arity", "[host][cli]") {
    auto r = run_vigy("plugins inspect vigy.native");
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("vigy.native 0.1.0 (abi 1.1)"));
    CHECK_THAT(r.out, Catch::Contains("noop    does nothing"));
    CHECK_THAT(r.out, Catch::Contains("chain   runs child reconcilers in order"));

    auto t = run_vigy("plugins inspect test.good --plugin-dir " + fixtures());
    REQUIRE(t.code == 0);
    CHECK_THAT(t.out, Catch::Contains("extension testpack: test intrinsics"));
    CHECK_THAT(t.out, Catch::Contains("test-add     2       (test-add a b) -> a + b"));
    CHECK_THAT(t.out, Catch::Contains("test-count   0+      (test-count args...)"));
}

TEST_CASE("vigy plugins inspect -o json lists intrinsics with arities", "[host][cli]") {
    auto r = run_vigy("plugins inspect test.good -o json --plugin-dir " + fixtures());
    REQUIRE(r.code == 0);
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["id"].GetString()) == "test.good");
    CHECK(std::string(d["kinds"][0]["kind"].GetString()) == "emit");
    const auto& ins = d["extensions"][0]["intrinsics"];
    CHECK(std::string(ins[0]["name"].GetString()) == "test-add");
    CHECK(ins[0]["max_arity"].GetInt() == 2);
    CHECK(ins[1]["max_arity"].IsNull());
}

TEST_CASE("vigy plugins inspect of an unknown id exits 3 listing the loaded ids", "[host][cli]") {
    auto r = run_vigy("plugins inspect com.example.missing");
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::StartsWith("error: no plugin \"com.example.missing\" is loaded (loaded: ") &&
                          Catch::Contains("vigy.native"));
    CHECK(r.out.empty());
}

TEST_CASE("usage errors exit 2 with a lowercase error line", "[host][cli]") {
    auto bad_flag = run_vigy("plugins list --bogus");
    CHECK(bad_flag.code == 2);
    CHECK_THAT(bad_flag.err, Catch::StartsWith("error: the following argument was not expected: --bogus"));

    auto bad_output = run_vigy("-o xml plugins list");
    CHECK(bad_output.code == 2);
    CHECK_THAT(bad_output.err, Catch::StartsWith("error: "));

    auto missing_sub = run_vigy("plugins");
    CHECK(missing_sub.code == 2);
    CHECK_THAT(missing_sub.err, Catch::StartsWith("error: a subcommand is required"));

    auto missing_id = run_vigy("plugins inspect");
    CHECK(missing_id.code == 2);
    CHECK_THAT(missing_id.err, Catch::StartsWith("error: id is required"));
}

TEST_CASE("vigy --version and --help exit 0", "[host][cli]") {
    auto v = run_vigy("--version");
    CHECK(v.code == 0);
    CHECK(v.out == "vigy 0.1.0 (abi 1.1)\n");
    auto h = run_vigy("--help");
    CHECK(h.code == 0);
    CHECK_THAT(h.out, Catch::Contains("plugins") && Catch::Contains("--plugin-dir") && Catch::Contains("--db"));
}

TEST_CASE("an installed vigy finds its built-in plugins in <exe_dir>/../lib/vigy/plugins", "[host][cli]") {
    vigy::test::temp_dir prefix;
    fs::create_directories(prefix.path() / "bin");
    fs::create_directories(prefix.path() / "lib" / "vigy" / "plugins");
    fs::copy_file(vigy::test::vigy_exe(), prefix.path() / "bin" / "vigy");
    fs::copy_file(vigy::test::fixture("a_good"), prefix.path() / "lib" / "vigy" / "plugins" / "a_good.so");
    auto r = run_vigy("plugins list -o json", prefix.path() / "bin" / "vigy");
    INFO(r.err);
    REQUIRE(r.code == 0);
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    REQUIRE_FALSE(d.HasParseError());
    REQUIRE(d["plugins"].Size() == 1);  // the build tree's plugins are not consulted
    CHECK(std::string(d["plugins"][0]["id"].GetString()) == "test.good");
    CHECK_THAT(d["plugins"][0]["file"].GetString(),
               Catch::StartsWith(prefix.path().string() + "/bin/../lib/vigy/plugins/") ||
                   Catch::StartsWith(prefix.path().string() + "/lib/vigy/plugins/"));
}
