// The plugin registry: loading (search path, directories, files, in-process
// descriptors), lookups, and the registry's lifetime (plugins pinned for the
// process lifetime). Admission is registry_admit.cpp; intrinsic installation
// and the grant check are registry_intrinsics.cpp; the vigy_host_api slots are
// registry_host_api.cpp.
#include "vigy/host/registry.hpp"

#include "registry_internal.hpp"

#include "vigy/host/log.hpp"
#include "vigy/host/plugin_loader.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <mutex>

namespace fs = std::filesystem;

namespace vigy::host {

void pin_library(std::shared_ptr<void> library) {
    if (!library) return;
    static std::mutex mutex;
    static auto* pinned = new std::vector<std::shared_ptr<void>>();  // never destroyed: never dlclosed
    std::lock_guard<std::mutex> lock(mutex);
    pinned->push_back(std::move(library));
}

registry::registry() : own_slot_(std::make_unique<host_slot>()), own_api_(std::make_unique<vigy_host_api>()) {
    own_slot_->owner = this;
    own_slot_->id = "host";
    install_slots(*own_api_, own_slot_.get());
}

registry::~registry() {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        plugin_entry& e = **it;
        if (!e.desc.shutdown) continue;
        try {
            e.desc.shutdown();
        } catch (...) {
            logger()->warn("plugin {}: shutdown threw an exception", e.slot.id);
        }
    }
    for (auto& e : entries_) pin_library(std::move(e->library));
}

void registry::skip(const std::string& file, const std::string& reason, const char* verb) {
    plugin_diagnostic d;
    d.file = file;
    d.reason = reason;
    d.message = std::string(verb) + " " + file + ": " + reason;
    logger()->warn("{}", d.message);
    skipped_.push_back(std::move(d));
}

const loaded_plugin* registry::find_plugin(std::string_view id) const noexcept {
    for (const loaded_plugin& p : infos_)
        if (p.id == id) return &p;
    return nullptr;
}

const vigy_reconciler_factory* registry::find_factory(std::string_view kind) const noexcept {
    auto it = kinds_.find(kind);
    if (it == kinds_.end()) return nullptr;
    return &entries_[it->second]->factory;
}

std::vector<std::string> registry::kinds() const {
    std::vector<std::string> out;
    for (const auto& [k, i] : kinds_) out.push_back(k);
    return out;
}

const std::string* registry::capability_of(std::string_view intrinsic) const noexcept {
    auto it = intrinsics_.find(intrinsic);
    return it == intrinsics_.end() ? nullptr : &infos_[it->second].id;
}

const vigy_host_api* registry::host_api() const noexcept { return own_api_.get(); }

// ---- loading ---------------------------------------------------------------

void registry::load_search_path(const std::vector<fs::path>& extra) {
    std::error_code ec;
    fs::path builtin = builtin_plugin_dir();
    if (!builtin.empty() && fs::is_directory(builtin, ec))
        load_directory(builtin);
    else
        logger()->debug("no built-in plugin directory ({})", builtin.string());
    for (const fs::path& p : extra) {
        if (fs::is_regular_file(p, ec))
            load_file(p);
        else
            load_directory(p);
    }
    for (const fs::path& p : env_plugin_path()) {
        if (p.is_relative()) {
            skip(p.string(),
                 "relative VIGY_PLUGIN_PATH entry (only absolute directories are searched, so the current directory "
                 "never supplies plugins)",
                 "refusing");
            continue;
        }
        load_directory(p);
    }
}

size_t registry::load_directory(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        skip(dir.string(), fs::exists(dir, ec) ? "not a directory" : "no such directory");
        return 0;
    }
    std::vector<fs::path> files = list_plugin_files(dir, ec);
    if (ec) {
        skip(dir.string(), "cannot read directory: " + ec.message());
        return 0;
    }
    size_t n = 0;
    for (const fs::path& f : files)
        if (load_file(f)) ++n;
    return n;
}

bool registry::load_file(const fs::path& file) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(file, ec);
    std::string key = ec ? file.string() : canonical.string();
    if (std::find(loaded_files_.begin(), loaded_files_.end(), key) != loaded_files_.end()) {
        logger()->debug("plugin {} already loaded", file.string());
        return false;
    }
    loaded_files_.push_back(key);
    const std::string name = file.string();
    plugin_trust trust = trust_plugin_file(file);
    if (!trust.trusted()) {
        skip(name, trust.refusal, "refusing");
        return false;
    }
    // Open the resolved path: every directory on it was just checked, so no
    // one else can swap the file (or a symlink on the way) before dlopen.
    opened_plugin opened = open_plugin(trust.resolved, VIGY_ABI_VERSION);
    if (!opened.error.empty()) {
        pin_library(std::move(opened.library));
        skip(name, opened.error);
        return false;
    }
    return admit(std::move(opened.library), opened.descriptor, name, false);
}

bool registry::add_static(const vigy_plugin_descriptor* descriptor, std::string origin) {
    if (!descriptor) {
        skip(origin, "no descriptor (NULL)");
        return false;
    }
    return admit(nullptr, descriptor, origin, true);
}

bool registry::add_static(vigy_plugin_entry_fn entry, std::string origin) {
    if (!entry) {
        skip(origin, "no entry function (NULL)");
        return false;
    }
    const vigy_plugin_descriptor* d = nullptr;
    try {
        d = entry(VIGY_ABI_VERSION);
    } catch (const std::exception& e) {
        skip(origin, std::string("the plugin entry threw an exception: ") + e.what());
        return false;
    } catch (...) {
        skip(origin, "the plugin entry threw an exception");
        return false;
    }
    if (!d) {
        skip(origin, "the plugin entry returned NULL (the plugin does not support host abi " +
                         abi_string(VIGY_ABI_VERSION) + ")");
        return false;
    }
    return admit(nullptr, d, std::move(origin), true);
}

}  // namespace vigy::host
