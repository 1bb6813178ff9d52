// The plugin registry: admission checks, capability collection, and the
// vigy_host_api slots plugins call back into.
#include "vigy/host/registry.hpp"

#include "vigy/host/log.hpp"
#include "vigy/host/plugin_loader.hpp"
#include "vigy/host/reconciler.hpp"

#include "vigy/sdk.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>

namespace fs = std::filesystem;

namespace vigy::host {

namespace {

// ABI 1.0 sizes: each struct's last 1.0 field's end. Later minors only append.
constexpr size_t factory_size_1_0 = offsetof(vigy_reconciler_factory, destroy) + sizeof(void*);
constexpr size_t kind_size_1_0 = offsetof(vigy_reconciler_kind, doc) + sizeof(void*);
constexpr size_t ext_list_size_1_0 = offsetof(vigy_host_extension_list, extensions) + sizeof(void*);
constexpr size_t extension_size_1_0 = offsetof(vigy_host_extension, intrinsics) + sizeof(void*);
constexpr size_t intrinsic_size_1_0 = offsetof(vigy_intrinsic, data) + sizeof(void*);

/// A plugin-side failure found while collecting capabilities.
struct reject {
    std::string reason;
};

/// Copies min(struct_size, sizeof(T)) bytes of a plugin struct into a
/// zero-filled T, refusing sizes below the ABI 1.0 size.
template <class T>
T read_struct(const void* p, uint32_t struct_size, size_t size_1_0, const char* what) {
    if (struct_size < size_1_0)
        throw reject{std::string(what) + " struct_size " + std::to_string(struct_size) +
                     " is smaller than the abi 1.0 size (" + std::to_string(size_1_0) + " bytes)"};
    T out;
    std::memset(&out, 0, sizeof out);
    std::memcpy(&out, p, std::min<size_t>(struct_size, sizeof out));
    return out;
}

std::string str_or_empty(const char* s) { return s ? std::string(s) : std::string(); }


/// Libraries pinned for the process lifetime with VIGY_NO_UNLOAD=1 (reachable,
/// so leak checkers stay quiet).
std::vector<std::shared_ptr<void>>& pinned_libraries() {
    static auto* pinned = new std::vector<std::shared_ptr<void>>();
    return *pinned;
}
std::mutex pinned_mutex;

bool no_unload() {
    const char* v = std::getenv("VIGY_NO_UNLOAD");
    return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace

/// What host_data points at: the registry and the plugin it was given to.
struct registry::host_slot {
    const registry* owner;
    std::string id;
};

struct registry::plugin_entry {
    std::shared_ptr<void> library;
    vigy_plugin_descriptor desc{};
    bool has_factory = false;
    vigy_reconciler_factory factory{};
    std::vector<const vigy_intrinsic*> intrinsics;  // the plugin's own structs, in order
    host_slot slot{};
    vigy_host_api api{};
};

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
    if (no_unload()) {
        std::lock_guard<std::mutex> lock(pinned_mutex);
        for (auto& e : entries_)
            if (e->library) pinned_libraries().push_back(std::move(e->library));
        for (auto& lib : retired_)
            if (lib) pinned_libraries().push_back(std::move(lib));
    }
    // Unload in reverse load order (entries_ then retired_ destroy their libraries).
    while (!entries_.empty()) entries_.pop_back();
    while (!retired_.empty()) retired_.pop_back();
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

const vigy_host_api* registry::host_api() const noexcept { return own_api_.get(); }

vigy_status registry::install_intrinsics(const vigy_registrar& registrar, vigy_error* err) const noexcept {
    if (!registrar.add_intrinsic) {
        vigy::sdk::set_error(err, "install_intrinsics: the registrar has no add_intrinsic");
        return VIGY_INVALID_ARGUMENT;
    }
    for (const auto& e : entries_) {
        for (const vigy_intrinsic* in : e->intrinsics) {
            vigy_status s;
            try {
                s = registrar.add_intrinsic(registrar.ctx, in, err);
            } catch (...) {
                vigy::sdk::set_error(err, std::string("install_intrinsics: the registrar threw while adding ") + in->name);
                return VIGY_INTERNAL;
            }
            if (s != VIGY_OK) return s;
        }
    }
    return VIGY_OK;
}

// ---- loading ---------------------------------------------------------------

void registry::load_search_path(const std::vector<fs::path>& extra) {
    std::error_code ec;
    fs::path builtin = builtin_plugin_dir();
    if (!builtin.empty() && fs::is_directory(builtin, ec)) load_directory(builtin);
    else logger()->debug("no built-in plugin directory ({})", builtin.string());
    for (const fs::path& p : extra) {
        if (fs::is_regular_file(p, ec)) load_file(p);
        else load_directory(p);
    }
    for (const fs::path& p : env_plugin_path()) load_directory(p);
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
    if (auto why = unsafe_permissions(file)) {
        skip(name, *why, "refusing");
        return false;
    }
    opened_plugin opened = open_plugin(file, VIGY_ABI_VERSION);
    if (!opened.error.empty()) {
        if (opened.library) retired_.push_back(std::move(opened.library));
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

bool registry::admit(std::shared_ptr<void> library, const vigy_plugin_descriptor* descriptor,
                     const std::string& file, bool in_process) {
    auto entry = std::make_unique<plugin_entry>();
    entry->library = std::move(library);
    auto retire = [&] {
        if (entry->library) retired_.push_back(std::move(entry->library));
    };

    if (auto why = check_descriptor(descriptor, &entry->desc)) {
        retire();
        skip(file, *why);
        return false;
    }
    const vigy_plugin_descriptor& d = entry->desc;
    if (const loaded_plugin* other = find_plugin(d.id)) {
        retire();
        skip(file, "duplicate plugin id \"" + std::string(d.id) + "\" (already loaded from " + other->file + ")");
        return false;
    }

    loaded_plugin info;
    info.id = d.id;
    info.version = str_or_empty(d.version);
    info.description = str_or_empty(d.description);
    info.abi_version = d.abi_version;
    info.file = file;
    info.in_process = in_process;

    entry->slot.owner = this;
    entry->slot.id = info.id;
    install_slots(entry->api, &entry->slot);

    // init: the plugin may now call the host API.
    if (d.init) {
        vigy::sdk::error_buffer ec;  // captures the plugin's message
        vigy_status s;
        try {
            s = d.init(&entry->api, ec.get());
        } catch (const std::exception& e) {
            retire();
            skip(file, std::string("init threw an exception: ") + e.what());
            return false;
        } catch (...) {
            retire();
            skip(file, "init threw an exception");
            return false;
        }
        if (s != VIGY_OK) {
            retire();
            skip(file, "init failed (" + std::string(vigy_status_name(s)) + ")" +
                           (ec.message().empty() ? std::string() : ": " + ec.message()));
            return false;
        }
    }

    // Capabilities. From here on a refusal must shut the plugin down again.
    try {
        std::vector<std::string> new_kinds, new_packs, new_intrinsics;
        auto owner_of = [&](const std::map<std::string, size_t, std::less<>>& index, const std::string& name)
            -> const loaded_plugin* {
            auto it = index.find(name);
            return it == index.end() ? nullptr : &infos_[it->second];
        };
        auto get_ext = [&](const char* id) -> const void* {
            if (!d.get_extension) return nullptr;
            try {
                return d.get_extension(id);
            } catch (const std::exception& e) {
                throw reject{std::string("get_extension(\"") + id + "\") threw an exception: " + e.what()};
            } catch (...) {
                throw reject{std::string("get_extension(\"") + id + "\") threw an exception"};
            }
        };

        if (const void* p = get_ext(VIGY_RECONCILER_FACTORY_ID)) {
            auto* raw = static_cast<const vigy_reconciler_factory*>(p);
            entry->factory = read_struct<vigy_reconciler_factory>(raw, raw->struct_size, factory_size_1_0,
                                                                  "reconciler factory");
            const vigy_reconciler_factory& f = entry->factory;
            if (!f.create || !f.tick || !f.destroy)
                throw reject{"reconciler factory lacks create, tick or destroy"};
            if (f.kind_count && !f.kinds) throw reject{"reconciler factory has kind_count but no kinds"};
            entry->has_factory = true;
            const auto* bytes = reinterpret_cast<const unsigned char*>(f.kinds);
            const uint32_t stride = f.kind_count ? f.kinds[0].struct_size : 0;
            for (uint32_t i = 0; i < f.kind_count; ++i) {
                auto k = read_struct<vigy_reconciler_kind>(bytes + size_t(i) * stride, stride, kind_size_1_0,
                                                           "reconciler kind");
                if (!k.kind || !*k.kind) throw reject{"reconciler kind " + std::to_string(i + 1) + " has no name"};
                std::string name = k.kind;
                if (const loaded_plugin* o = owner_of(kinds_, name))
                    throw reject{"duplicate reconciler kind \"" + name + "\" (already provided by " + o->id +
                                 " from " + o->file + ")"};
                if (std::find(new_kinds.begin(), new_kinds.end(), name) != new_kinds.end())
                    throw reject{"reconciler kind \"" + name + "\" listed twice"};
                new_kinds.push_back(name);
                info.kinds.push_back({name, str_or_empty(k.doc)});
            }
        }

        if (const void* p = get_ext(VIGY_HOST_EXTENSION_ID)) {
            auto* raw = static_cast<const vigy_host_extension_list*>(p);
            auto list = read_struct<vigy_host_extension_list>(raw, raw->struct_size, ext_list_size_1_0,
                                                              "host extension list");
            if (list.count && !list.extensions) throw reject{"host extension list has a count but no extensions"};
            const auto* ebytes = reinterpret_cast<const unsigned char*>(list.extensions);
            const uint32_t estride = list.count ? list.extensions[0].struct_size : 0;
            for (size_t i = 0; i < list.count; ++i) {
                auto x = read_struct<vigy_host_extension>(ebytes + i * estride, estride, extension_size_1_0,
                                                          "host extension");
                if (!x.name || !*x.name) throw reject{"host extension " + std::to_string(i + 1) + " has no name"};
                std::string pack = x.name;
                if (const loaded_plugin* o = owner_of(packs_, pack))
                    throw reject{"duplicate extension pack \"" + pack + "\" (already provided by " + o->id +
                                 " from " + o->file + ")"};
                if (std::find(new_packs.begin(), new_packs.end(), pack) != new_packs.end())
                    throw reject{"extension pack \"" + pack + "\" listed twice"};
                new_packs.push_back(pack);
                extension_info xi{pack, str_or_empty(x.doc), {}};
                if (x.intrinsic_count && !x.intrinsics)
                    throw reject{"extension pack \"" + pack + "\" has an intrinsic_count but no intrinsics"};
                const auto* ibytes = reinterpret_cast<const unsigned char*>(x.intrinsics);
                const uint32_t istride = x.intrinsic_count ? x.intrinsics[0].struct_size : 0;
                for (size_t j = 0; j < x.intrinsic_count; ++j) {
                    const auto* ip = reinterpret_cast<const vigy_intrinsic*>(ibytes + j * istride);
                    auto in = read_struct<vigy_intrinsic>(ip, istride, intrinsic_size_1_0, "intrinsic");
                    if (!in.name || !*in.name)
                        throw reject{"intrinsic " + std::to_string(j + 1) + " of pack \"" + pack + "\" has no name"};
                    std::string iname = in.name;
                    if (!in.fn) throw reject{"intrinsic \"" + iname + "\" has no function"};
                    if (in.min_arity < 0 || (in.max_arity != VIGY_ARITY_VARIADIC && in.max_arity < in.min_arity))
                        throw reject{"intrinsic \"" + iname + "\" has an invalid arity " +
                                     std::to_string(in.min_arity) + ".." + std::to_string(in.max_arity)};
                    if (const loaded_plugin* o = owner_of(intrinsics_, iname))
                        throw reject{"duplicate intrinsic \"" + iname + "\" (already provided by " + o->id +
                                     " from " + o->file + ")"};
                    if (std::find(new_intrinsics.begin(), new_intrinsics.end(), iname) != new_intrinsics.end())
                        throw reject{"intrinsic \"" + iname + "\" listed twice"};
                    new_intrinsics.push_back(iname);
                    entry->intrinsics.push_back(ip);
                    xi.intrinsics.push_back({iname, str_or_empty(in.doc), in.min_arity, in.max_arity});
                }
                info.extensions.push_back(std::move(xi));
            }
        }

        const size_t index = entries_.size();
        for (const auto& k : new_kinds) kinds_.emplace(k, index);
        for (const auto& p : new_packs) packs_.emplace(p, index);
        for (const auto& n : new_intrinsics) intrinsics_.emplace(n, index);
    } catch (const reject& r) {
        if (d.shutdown) {
            try {
                d.shutdown();
            } catch (...) {
            }
        }
        retire();
        skip(file, r.reason);
        return false;
    }

    logger()->info("loaded plugin {} {} (abi {}) from {}", info.id, info.version, abi_string(info.abi_version), file);
    entries_.push_back(std::move(entry));
    infos_.push_back(std::move(info));
    return true;
}

// ---- the vigy_host_api slots -------------------------------------------------

void registry::install_slots(vigy_host_api& api, host_slot* slot) {
    std::memset(&api, 0, sizeof api);
    api.struct_size = sizeof(vigy_host_api);
    api.abi_version = VIGY_ABI_VERSION;
    api.host_data = slot;
    api.log = [](void* host_data, int32_t level, vigy_str message) {
        auto* s = static_cast<host_slot*>(host_data);
        log_from(s->id, level, message.len ? std::string_view(message.ptr, message.len) : std::string_view());
    };
    api.get_extension = [](void*, const char*) -> const void* { return nullptr; };
    api.install_intrinsics = [](void* host_data, const vigy_registrar* registrar, vigy_error* err) -> vigy_status {
        if (!registrar) {
            vigy::sdk::set_error(err, "install_intrinsics: registrar is NULL");
            return VIGY_INVALID_ARGUMENT;
        }
        return static_cast<host_slot*>(host_data)->owner->install_intrinsics(*registrar, err);
    };
    api.child_create = [](void* host_data, const vigy_reconciler_spec* spec, vigy_child** out,
                          vigy_error* err) -> vigy_status {
        if (!spec || !out) {
            vigy::sdk::set_error(err, "child_create: spec and out must not be NULL");
            return VIGY_INVALID_ARGUMENT;
        }
        *out = nullptr;
        return vigy::sdk::fence(err, [&] {
            const registry& reg = *static_cast<host_slot*>(host_data)->owner;
            std::string_view kind = spec->kind.len ? std::string_view(spec->kind.ptr, spec->kind.len) : "";
            std::string_view name = spec->name.len ? std::string_view(spec->name.ptr, spec->name.len) : "";
            std::unique_ptr<reconciler> r;
            if (spec->config_json.len)
                r = std::make_unique<reconciler>(reg, kind, std::string_view(spec->config_json.ptr, spec->config_json.len),
                                                 spec->limits, name);
            else
                r = std::make_unique<reconciler>(reconciler::from_value(reg, kind, spec->config, spec->limits, name));
            *out = reinterpret_cast<vigy_child*>(r.release());
        });
    };
    api.child_tick = [](void*, vigy_child* child, vigy_tick* tick, vigy_error* err) -> vigy_status {
        if (!child || !tick) {
            vigy::sdk::set_error(err, "child_tick: child and tick must not be NULL");
            return VIGY_INVALID_ARGUMENT;
        }
        tick_result r = reinterpret_cast<reconciler*>(child)->tick(tick);
        if (!r.ok()) vigy::sdk::set_error(err, r.message);
        return r.status;
    };
    api.child_destroy = [](void*, vigy_child* child) { delete reinterpret_cast<reconciler*>(child); };
}

}  // namespace vigy::host
