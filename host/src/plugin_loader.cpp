// Plugin discovery, the trust checks (ownership and modes along the path),
// dlopen through Boost.DLL and the descriptor header checks.
#include "vigy/host/plugin_loader.hpp"

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace vigy::host {

std::string abi_string(uint32_t abi_version) {
    return std::to_string(VIGY_ABI_VERSION_MAJOR(abi_version)) + "." +
           std::to_string(VIGY_ABI_VERSION_MINOR(abi_version));
}

std::vector<fs::path> env_plugin_path() {
    std::vector<fs::path> dirs;
    const char* env = std::getenv("VIGY_PLUGIN_PATH");
    if (!env) return dirs;
    std::string_view rest(env);
    while (!rest.empty()) {
        size_t colon = rest.find(':');
        std::string_view item = rest.substr(0, colon);
        if (!item.empty()) dirs.emplace_back(std::string(item));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    return dirs;
}

std::vector<fs::path> plugin_search_path(const std::vector<fs::path>& extra_dirs) {
    std::vector<fs::path> dirs;
    dirs.push_back(builtin_plugin_dir());
    dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
    std::vector<fs::path> env = env_plugin_path();
    dirs.insert(dirs.end(), env.begin(), env.end());
    return dirs;
}

std::vector<fs::path> list_plugin_files(const fs::path& dir, std::error_code& ec) {
    std::vector<fs::path> files;
    ec.clear();
    fs::directory_iterator it(dir, ec);
    if (ec) return files;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) return files;
        const fs::path& p = it->path();
        if (p.extension() != ".so") continue;
        std::error_code sec;
        if (!fs::is_regular_file(p, sec)) continue;
        files.push_back(p);
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename().native() < b.filename().native(); });
    return files;
}

namespace {

std::string mode_string(mode_t mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

/// "others" when o+w, "group" when only g+w, nullptr when neither.
const char* writable_by(mode_t mode) {
    if (mode & S_IWOTH) return "others";
    if (mode & S_IWGRP) return "group";
    return nullptr;
}

/// Why an inode with `st` must not be trusted ("owned by uid ..., not root or
/// uid ...", "writable by group (mode ...)"), or "" when it may. A root-owned
/// sticky directory may be writable: nobody can replace another's entry in it.
std::string untrusted(const struct stat& st, uid_t euid) {
    if (st.st_uid != 0 && st.st_uid != euid)
        return "owned by uid " + std::to_string(st.st_uid) + ", not root or uid " + std::to_string(euid);
    const bool root_sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) && st.st_uid == 0;
    if (!root_sticky_dir) {
        if (const char* who = writable_by(st.st_mode))
            return std::string("writable by ") + who + " (mode " + mode_string(st.st_mode) + ")";
    }
    return "";
}

/// The first untrusted directory of `dir` and its ancestors up to /, as
/// "directory <d> is <why>", or "" when all are trusted. stat() follows
/// symlinks: a symlinked directory is judged by its target, and the directory
/// holding the symlink is checked as the next ancestor.
std::string untrusted_directories(fs::path dir, uid_t euid) {
    for (;;) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0) return "cannot stat directory " + dir.string() + ": " + std::strerror(errno);
        std::string why = untrusted(st, euid);
        if (!why.empty()) return "directory " + dir.string() + " is " + why;
        if (!dir.has_relative_path()) return "";  // reached the root
        dir = dir.parent_path();
    }
}

}  // namespace

plugin_trust trust_plugin_file(const fs::path& file) {
    plugin_trust out;
    const uid_t euid = ::geteuid();
    std::error_code ec;
    fs::path given = fs::absolute(file, ec).lexically_normal();
    if (ec) {
        out.refusal = "cannot resolve: " + ec.message();
        return out;
    }
    char* real = ::realpath(given.c_str(), nullptr);
    if (!real) {
        out.refusal = "cannot resolve: " + std::string(std::strerror(errno));
        return out;
    }
    out.resolved = real;
    std::free(real);
    const bool via_symlink = out.resolved != given;
    const std::string resolved_prefix = via_symlink ? "resolves to " + out.resolved.string() + ", " : "";

    // The file itself (the resolved path has no symlinks left).
    struct stat st {};
    if (::lstat(out.resolved.c_str(), &st) != 0) {
        out.refusal = resolved_prefix + "cannot stat: " + std::strerror(errno);
        return out;
    }
    std::string why = S_ISREG(st.st_mode) ? untrusted(st, euid) : "not a regular file";
    if (!why.empty()) {
        out.refusal = via_symlink ? resolved_prefix + "which is " + why : why;
        return out;
    }
    // Every directory of the resolved path, then of the path as given.
    why = untrusted_directories(out.resolved.parent_path(), euid);
    if (!why.empty()) {
        out.refusal = via_symlink ? resolved_prefix + "whose " + why : why;
        return out;
    }
    if (via_symlink) out.refusal = untrusted_directories(given.parent_path(), euid);
    return out;
}

opened_plugin open_plugin(const fs::path& file, uint32_t host_abi_version) {
    opened_plugin out;
    std::shared_ptr<boost::dll::shared_library> lib;
    try {
        lib = std::make_shared<boost::dll::shared_library>(
            file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        // Boost.DLL 1.74: "boost::dll::shared_library::load() failed (dlerror system message: <why>)"
        std::string what = e.what();
        const std::string marker = "dlerror system message: ";
        size_t at = what.find(marker);
        if (at != std::string::npos) {
            what = what.substr(at + marker.size());
            if (!what.empty() && what.back() == ')') what.pop_back();
        }
        out.error = "not a loadable shared object: " + what;
        return out;
    }
    out.library = lib;
    if (!lib->has(VIGY_PLUGIN_ENTRY_SYMBOL)) {
        out.error = "no " VIGY_PLUGIN_ENTRY_SYMBOL " symbol (not a vigy plugin)";
        return out;
    }
    auto& entry = lib->get<const vigy_plugin_descriptor*(uint32_t)>(VIGY_PLUGIN_ENTRY_SYMBOL);
    // A C++ exception escaping the C entry point is caught here. This only works
    // when the plugin was built with unwind tables (the default for C++); a
    // plugin built from C without -fexceptions terminates the process instead.
    try {
        out.descriptor = entry(host_abi_version);
    } catch (const std::exception& e) {
        out.error = std::string(VIGY_PLUGIN_ENTRY_SYMBOL " threw an exception: ") + e.what();
        return out;
    } catch (...) {
        out.error = VIGY_PLUGIN_ENTRY_SYMBOL " threw an exception";
        return out;
    }
    if (!out.descriptor)
        out.error = VIGY_PLUGIN_ENTRY_SYMBOL " returned NULL (the plugin does not support host abi " +
                    abi_string(host_abi_version) + ")";
    return out;
}

std::optional<std::string> check_descriptor(const vigy_plugin_descriptor* d, vigy_plugin_descriptor* out) {
    if (!d) return "no descriptor";
    if (d->magic != VIGY_PLUGIN_MAGIC) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "bad descriptor magic 0x%08x (expected 0x%08x \"VIGY\")", d->magic,
                      VIGY_PLUGIN_MAGIC);
        return std::string(buf);
    }
    if (VIGY_ABI_VERSION_MAJOR(d->abi_version) != VIGY_ABI_MAJOR)
        return "plugin abi " + abi_string(d->abi_version) + " is not compatible with host abi " +
               abi_string(VIGY_ABI_VERSION);
    constexpr size_t size_1_0 = VIGY_PLUGIN_DESCRIPTOR_SIZE_1_0;  // later minors only append
    if (d->struct_size < size_1_0)
        return "descriptor struct_size " + std::to_string(d->struct_size) +
               " is smaller than the abi 1.0 descriptor (" + std::to_string(size_1_0) + " bytes)";
    std::memset(out, 0, sizeof *out);
    std::memcpy(out, d, std::min<size_t>(d->struct_size, sizeof *out));
    if (!out->id || !*out->id) return "descriptor has no id";
    return std::nullopt;
}

}  // namespace vigy::host
