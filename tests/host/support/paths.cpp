// Build-tree paths (compile definitions on this file only) and temp helpers.
#include "paths.hpp"

#include <cstdlib>
#include <stdexcept>

namespace vigy::test {

std::filesystem::path fixture_dir() { return VIGY_TEST_FIXTURE_DIR; }
std::filesystem::path fixture(const std::string& stem) { return fixture_dir() / (stem + ".so"); }
std::filesystem::path native_plugin() { return VIGY_TEST_NATIVE_PLUGIN; }
std::filesystem::path vigy_exe() { return VIGY_TEST_VIGY_EXE; }

temp_dir::temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vigy-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    std::filesystem::permissions(path_, std::filesystem::perms(0755));
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms(0755), ec);
    std::filesystem::remove_all(path_, ec);
}

scoped_env::scoped_env(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_old_ = old != nullptr;
    if (old) old_ = old;
    if (value)
        ::setenv(name, value, 1);
    else
        ::unsetenv(name);
}

scoped_env::~scoped_env() {
    if (had_old_)
        ::setenv(name_.c_str(), old_.c_str(), 1);
    else
        ::unsetenv(name_.c_str());
}

}  // namespace vigy::test
