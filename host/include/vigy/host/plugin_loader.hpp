/// vigy/host/plugin_loader.hpp — finding plugin files and opening them.
///
/// The low-level half of plugin loading: where plugins are searched, which
/// files are refused before any of their code runs (ownership and modes, like
/// OpenSSH's StrictModes), dlopen via Boost.DLL (RTLD_NOW | RTLD_LOCAL),
/// calling `vigy_plugin_entry` and checking the descriptor header (magic, ABI
/// major, struct_size). The registry (registry.hpp) builds on this; most code
/// wants the registry instead.
///
/// Trust: a plugin runs with the host's privileges, so a file is loaded only
/// when nobody but root and the invoking user could have written it or put it
/// there — see trust_plugin_file(). Consequence for umask 002 (Debian's user
/// private groups, where new directories are 0775 and files 0664): a build
/// tree or plugin directory made under that umask is group-writable and is
/// REFUSED, with a message naming the directory and its mode. Build and
/// install plugins under umask 022, or `chmod g-w` the directories on the path
/// (OpenSSH refuses group-writable key directories the same way).
///
/// Errors are returned as lowercase reasons without trailing period, never
/// thrown, so a bad file never stops the host. Threading: all functions are
/// reentrant, but opening libraries should happen on one control thread
/// (glibc's dlopen serialises internally, but a plugin's static constructors
/// and its entry call run on the calling thread, and plugins may assume one).
#ifndef VIGY_HOST_PLUGIN_LOADER_HPP
#define VIGY_HOST_PLUGIN_LOADER_HPP

#include "vigy/plugin.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigy::host {

/// The built-in plugin directory: `<exe_dir>/../lib/vigy/plugins` when that
/// directory exists (installed binaries and the build tree's bin/vigy), else
/// the build tree's plugin directory compiled in (test executables).
std::filesystem::path builtin_plugin_dir();

/// The directories listed in VIGY_PLUGIN_PATH (colon-separated, empty entries
/// ignored), in order, exactly as written (relative entries included: the
/// registry refuses those). Empty when the variable is unset.
std::vector<std::filesystem::path> env_plugin_path();

/// The full search order: builtin_plugin_dir(), then `extra_dirs` (e.g. each
/// --plugin-dir), then env_plugin_path().
std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::filesystem::path>& extra_dirs);

/// The plugin candidates in `dir`: entries whose name ends in ".so" and that
/// are regular files (after following symlinks), sorted by file name. Sets
/// `ec` when the directory cannot be read.
std::vector<std::filesystem::path> list_plugin_files(const std::filesystem::path& dir, std::error_code& ec);

/// The outcome of trust_plugin_file().
struct plugin_trust {
    /// The file with every symlink resolved: what to dlopen (empty when the
    /// path could not be resolved).
    std::filesystem::path resolved;
    /// Empty when the file may be loaded, else why not (see trust_plugin_file).
    std::string refusal;
    bool trusted() const noexcept { return refusal.empty(); }
};

/// Whether `file` may be loaded, like OpenSSH's StrictModes trusts a key: the
/// file and every directory up to / — both on the path as given and on the
/// path with every symlink resolved — must be owned by root or the effective
/// user, and not writable by group or others. The one exception is a
/// root-owned directory with the sticky bit (such as /tmp, mode 1777): others
/// may create entries there but not replace ours, so its write bits are
/// allowed (a build tree under /tmp loads its own plugins). The file itself
/// must be a regular file. Open `resolved`, not `file`: every directory on it
/// is trusted, so nobody else can swap the file between this check and dlopen.
///
/// Refusal reasons name the offending file or directory and the value:
///   "owned by uid 4242, not root or uid 0"
///   "writable by group (mode 0664)"
///   "directory /tmp/x is writable by others (mode 0777)"
///   "directory /srv/p is owned by uid 4242, not root or uid 0"
///   "resolves to /tmp/y/evil.so, which is owned by uid 4242, not root or uid 0"
///   "resolves to /tmp/y/evil.so, whose directory /tmp/y is writable by others (mode 0777)"
///   "cannot resolve: No such file or directory"
plugin_trust trust_plugin_file(const std::filesystem::path& file);

/// A plugin library opened and its entry called.
struct opened_plugin {
    /// Keeps the shared object mapped while any copy lives (type-erased
    /// boost::dll::shared_library). Null for in-process descriptors.
    std::shared_ptr<void> library;
    /// What vigy_plugin_entry returned; points into `library`. Null on error.
    const vigy_plugin_descriptor* descriptor = nullptr;
    /// Empty on success, else why the file was skipped.
    std::string error;
};

/// dlopens `file` with RTLD_NOW | RTLD_LOCAL, finds `vigy_plugin_entry` and
/// calls it with `host_abi_version`. Failures (not a shared object, missing
/// symbol, NULL descriptor, a C++ exception escaping the entry) are reported in
/// `error`; the library stays open in `library` when it was opened at all.
/// Does NOT check ownership, modes or the descriptor: see trust_plugin_file()
/// and check_descriptor().
opened_plugin open_plugin(const std::filesystem::path& file, uint32_t host_abi_version);

/// Checks a descriptor's header against this host: magic, ABI major
/// (refused naming both versions: "plugin abi 2.0 is not compatible with host
/// abi 1.0"), struct_size (at least the ABI 1.0 size; larger is accepted) and a
/// non-empty id. On success copies the known fields into `*out` (zero-filled
/// past the plugin's struct_size) and returns nullopt; else returns the reason.
std::optional<std::string> check_descriptor(const vigy_plugin_descriptor* d, vigy_plugin_descriptor* out);

/// "1.0" for an abi_version value.
std::string abi_string(uint32_t abi_version);

}  // namespace vigy::host

#endif  // VIGY_HOST_PLUGIN_LOADER_HPP
