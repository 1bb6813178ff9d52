/// vigy/host/registry.hpp — the loaded plugins, their reconciler kinds and
/// host extensions, and the vigy_host_api each plugin is given.
///
/// Loading: load_search_path() scans the built-in plugin directory, then the
/// extra directories (--plugin-dir), then VIGY_PLUGIN_PATH, loading every *.so
/// in file-name order. Every bad file is SKIPPED with one diagnostic naming the
/// file and the reason (see skipped()), logged as a warning; nothing a plugin
/// file can contain stops the host. A file that fails the ownership and mode
/// checks of plugin_loader.hpp (trust_plugin_file) is refused before any of
/// its code runs. First wins on a duplicate plugin id, reconciler kind,
/// extension pack or intrinsic name; the later plugin is skipped whole, with a
/// diagnostic naming both files.
///
/// Capabilities: an intrinsic's capability is the id of the plugin providing
/// it (capabilities.hpp). install_intrinsics() hands the intrinsics of the six
/// default capabilities to a language runtime as the plugins provide them, and
/// every other intrinsic through a trampoline that checks the calling tick's
/// grants (tick_context::grants()) before the plugin's function runs: a vigy
/// without the grant gets VIGY_PERMISSION_DENIED and not_granted_message().
/// The check costs a few ns per call (bench/host: vigy_host_bench).
///
/// Lifetime: a loaded plugin is never unloaded. The destructor calls every
/// plugin's shutdown() (reverse load order) and keeps the shared objects
/// mapped until the process exits (pinned for the process lifetime, as
/// vigy/plugin.h promises plugins), so a pointer that escaped a plugin (a thread_local destructor,
/// an intrinsic a language runtime still holds) never dangles, and sanitizers
/// can symbolize plugin frames at exit. Destroy every reconciler
/// (reconciler.hpp) before the registry.
///
/// One registry per process: dlopen hands a second registry loading the same
/// file the SAME library, so the plugin's globals are shared — its init runs
/// again and it keeps the last host API it was given, and the first registry
/// destroyed calls its shutdown while the other still uses it. Sequential
/// registries (tests) are fine: init runs again after the previous shutdown.
///
/// Threading: load_*() and add_static() must run on one control thread, not
/// concurrently with any other use of the registry. Once loading is done the
/// registry is immutable: every const member and every vigy_host_api slot may
/// be called from any thread concurrently.
///
/// Exceptions: only std::bad_alloc escapes; plugin failures become diagnostics.
/// A C++ exception escaping a plugin's C functions (entry, init,
/// get_extension, shutdown, create, tick) is caught at the call site. That
/// works only when the plugin's frames have unwind tables (the default for C++
/// with g++/clang); an exception crossing a frame built without them (C without
/// -fexceptions, a noexcept function) calls std::terminate. Plugins run in the
/// host process: a crash in one is a crash of the host.
#ifndef VIGY_HOST_REGISTRY_HPP
#define VIGY_HOST_REGISTRY_HPP

#include "vigy/plugin.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::host {

/// One reconciler kind a plugin provides.
struct reconciler_kind_info {
    std::string kind;
    std::string doc;
};

/// One intrinsic of a host extension pack.
struct intrinsic_info {
    std::string name;
    std::string doc;
    int32_t min_arity = 0;
    int32_t max_arity = 0;  ///< VIGY_ARITY_VARIADIC (-1) for variadic
};

/// One host extension pack ("kv", "actions", ...).
struct extension_info {
    std::string name;
    std::string doc;
    std::vector<intrinsic_info> intrinsics;
};

/// A loaded plugin, as `vigy plugins list/inspect` shows it.
struct loaded_plugin {
    std::string id;
    std::string version;
    std::string description;
    uint32_t abi_version = 0;  ///< what the plugin was built against, (major << 16) | minor
    std::string file;          ///< the file it was loaded from, or the add_static() origin
    bool in_process = false;   ///< added with add_static()
    std::vector<reconciler_kind_info> kinds;
    std::vector<extension_info> extensions;
};

/// A file (or in-process descriptor) that was not loaded, and why.
struct plugin_diagnostic {
    std::string file;     ///< the file, directory or origin concerned
    std::string reason;   ///< e.g. "plugin abi 2.0 is not compatible with host abi 1.1"
    std::string message;  ///< the full line: "skipping <file>: <reason>" ("refusing ..." for the trust checks)
};

/// The plugin registry. Not copyable or movable (plugins hold pointers into it).
class registry {
public:
    registry();
    /// Calls shutdown() on every plugin (reverse load order); the libraries
    /// stay mapped until the process exits.
    ~registry();
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    /// Loads plugin_search_path(extra): the built-in directory (silently
    /// ignored when missing), each of `extra` (a directory, or a single .so
    /// file), then each VIGY_PLUGIN_PATH directory. A missing extra or
    /// VIGY_PLUGIN_PATH directory is a diagnostic, and so is a relative
    /// VIGY_PLUGIN_PATH entry ("." included), which is refused unread. A file
    /// already loaded (same canonical path) is ignored.
    void load_search_path(const std::vector<std::filesystem::path>& extra = {});

    /// Loads every *.so of `dir` in file-name order. A missing or unreadable
    /// directory is a diagnostic. Returns the number of plugins loaded.
    size_t load_directory(const std::filesystem::path& dir);

    /// Loads one plugin file, after trusted_plugin_file() accepted it and its
    /// path (the resolved path is what gets opened). Returns true when it was
    /// loaded; false when it was refused or skipped (see skipped()) or was
    /// already loaded.
    bool load_file(const std::filesystem::path& file);

    /// Adds a plugin linked into the executable (an app embedding the runtime
    /// with its own extension): the same checks as a file minus dlopen and
    /// permissions. `descriptor` is what the plugin's entry returned (NULL is a
    /// diagnostic) and must stay valid for the registry's lifetime; `origin`
    /// names it in listings and diagnostics (e.g. "builtin:myapp").
    bool add_static(const vigy_plugin_descriptor* descriptor, std::string origin);
    /// add_static() from an in-process entry function (same contract as an
    /// exported vigy_plugin_entry): calls it with VIGY_ABI_VERSION first; a
    /// NULL result or an exception is a diagnostic.
    bool add_static(vigy_plugin_entry_fn entry, std::string origin);

    /// Loaded plugins, in load order.
    const std::vector<loaded_plugin>& plugins() const noexcept { return infos_; }
    /// Everything skipped, in the order it was met.
    const std::vector<plugin_diagnostic>& skipped() const noexcept { return skipped_; }
    /// A loaded plugin by id, or nullptr.
    const loaded_plugin* find_plugin(std::string_view id) const noexcept;

    /// The factory providing `kind`, or nullptr. The pointer is the registry's
    /// copy and lives as long as the registry.
    const vigy_reconciler_factory* find_factory(std::string_view kind) const noexcept;
    /// Every reconciler kind, sorted.
    std::vector<std::string> kinds() const;

    /// Offers every intrinsic of every loaded host extension, in load order, to
    /// `registrar`: those of a default capability as their plugin provides
    /// them, the others behind the grant-checking trampoline (see the file
    /// comment; the registrar then sees the host's fn/data, and the plugin's
    /// function receives its own data). Returns the first non-OK status a
    /// registrar call returned (its message goes to `err`, which may be NULL).
    /// Thread-safe. The installed fn/data live as long as the registry.
    vigy_status install_intrinsics(const vigy_registrar& registrar, vigy_error* err) const noexcept;

    /// The capability (providing plugin id) of intrinsic `name`, or nullptr
    /// when no loaded plugin provides it.
    const std::string* capability_of(std::string_view intrinsic) const noexcept;

    /// A vigy_host_api not tied to a plugin (log lines say "host"), for the
    /// runtime and tests. Lives as long as the registry.
    const vigy_host_api* host_api() const noexcept;

private:
    struct plugin_entry;
    struct host_slot;
    struct offer;
    struct guarded_intrinsic;

    // admission (registry_admit.cpp), in the order admit() runs them
    bool admit(std::shared_ptr<void> library, const vigy_plugin_descriptor* descriptor, const std::string& file,
               bool in_process);
    std::optional<std::string> init_plugin(plugin_entry& entry);
    offer collect_capabilities(plugin_entry& entry, loaded_plugin info) const;
    std::optional<std::string> find_duplicate(const offer& o) const;
    void commit(std::unique_ptr<plugin_entry> entry, offer o);
    bool refuse(plugin_entry& entry, const std::string& file, const std::string& reason);

    void skip(const std::string& file, const std::string& reason, const char* verb = "skipping");
    static void install_slots(vigy_host_api& api, host_slot* slot);

    // grants (registry_intrinsics.cpp)
    static vigy_status guarded_call(const vigy_call* call, vigy_value* result);
    bool granted(vigy_tick* tick, size_t capability) const noexcept;

    std::vector<std::unique_ptr<plugin_entry>> entries_;
    std::vector<loaded_plugin> infos_;  // parallel to entries_
    std::vector<plugin_diagnostic> skipped_;
    std::map<std::string, size_t, std::less<>> kinds_;         // kind -> entries_ index
    std::map<std::string, size_t, std::less<>> packs_;         // extension pack -> index
    std::map<std::string, size_t, std::less<>> intrinsics_;    // intrinsic name -> index
    std::vector<std::string> loaded_files_;                    // canonical paths
    std::vector<std::unique_ptr<guarded_intrinsic>> guarded_;  // trampolines of non-default intrinsics
    std::unique_ptr<host_slot> own_slot_;
    std::unique_ptr<vigy_host_api> own_api_;
};

}  // namespace vigy::host

#endif  // VIGY_HOST_REGISTRY_HPP
