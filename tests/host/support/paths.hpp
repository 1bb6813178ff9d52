// Build-tree paths the host and native tests need (set in one small TU,
// support/paths.cpp, so absolute paths stay out of the other TUs' flags).
#ifndef VIGY_TESTS_PATHS_HPP
#define VIGY_TESTS_PATHS_HPP

#include <filesystem>
#include <string>

namespace vigy::test {

/// The directory holding the fixture plugins (tests/host/fixtures/*.so).
std::filesystem::path fixture_dir();
/// One fixture plugin file, e.g. fixture("a_good") -> <fixture_dir>/a_good.so.
std::filesystem::path fixture(const std::string& stem);
/// The built vigy.native plugin.
std::filesystem::path native_plugin();
/// The built `vigy` executable.
std::filesystem::path vigy_exe();

/// A fresh private directory (mode 0755) under the system temp dir, removed by
/// the destructor.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// Sets (or with value == nullptr unsets) an environment variable for the
/// scope; restores the previous value on destruction.
class scoped_env {
public:
    scoped_env(const char* name, const char* value);
    ~scoped_env();
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    std::string name_;
    std::string old_;
    bool had_old_;
};

}  // namespace vigy::test

#endif  // VIGY_TESTS_PATHS_HPP
