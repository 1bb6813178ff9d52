// Admission of one plugin into the registry, by concern: the descriptor and
// its id, init, collecting what the plugin offers (reconciler kinds, extension
// packs, intrinsics; each struct checked against the ABI 1.0 size), duplicate
// checks against what is loaded, and the commit.
#include "vigy/host/registry.hpp"

#include "registry_internal.hpp"

#include "vigy/host/capabilities.hpp"
#include "vigy/host/log.hpp"
#include "vigy/host/plugin_loader.hpp"

#include "vigy/sdk.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <exception>

namespace vigy::host {

namespace {

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

/// The i-th element of a plugin array whose elements all have the first one's struct_size.
template <class T>
const T* element(const T* first, uint32_t stride, size_t i) {
    return reinterpret_cast<const T*>(reinterpret_cast<const unsigned char*>(first) + i * stride);
}

std::string str_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

void shutdown_quietly(const vigy_plugin_descriptor& d) noexcept {
    if (!d.shutdown) return;
    try {
        d.shutdown();
    } catch (...) {
    }
}

}  // namespace

/// Everything a plugin offers, collected and checked on its own, before it is
/// compared with what is loaded (find_duplicate) and committed.
struct registry::offer {
    loaded_plugin info;
    std::vector<std::string> kinds;
    std::vector<std::string> packs;
    std::vector<std::string> intrinsic_names;
    std::vector<const vigy_intrinsic*> intrinsics;  // the plugin's structs, parallel to intrinsic_names
    std::vector<vigy_intrinsic> intrinsic_copies;   // what they hold (this host's layout), likewise
};

bool registry::admit(std::shared_ptr<void> library, const vigy_plugin_descriptor* descriptor, const std::string& file,
                     bool in_process) {
    auto entry = std::make_unique<plugin_entry>();
    entry->library = std::move(library);

    // 1. the descriptor and its id
    if (auto why = check_descriptor(descriptor, &entry->desc)) return refuse(*entry, file, *why);
    const vigy_plugin_descriptor& d = entry->desc;
    if (const loaded_plugin* other = find_plugin(d.id))
        return refuse(*entry, file,
                      "duplicate plugin id \"" + std::string(d.id) + "\" (already loaded from " + other->file + ")");

    // 2. init: the plugin may call the host API from here on
    entry->slot.owner = this;
    entry->slot.id = d.id;
    install_slots(entry->api, &entry->slot);
    if (auto why = init_plugin(*entry)) return refuse(*entry, file, *why);

    // 3. what it offers, 4. against what is loaded; a refusal now shuts it down again
    loaded_plugin info;
    info.id = d.id;
    info.version = str_or_empty(d.version);
    info.description = str_or_empty(d.description);
    info.abi_version = d.abi_version;
    info.file = file;
    info.in_process = in_process;
    std::optional<offer> o;
    try {
        o.emplace(collect_capabilities(*entry, std::move(info)));
    } catch (const reject& r) {
        shutdown_quietly(d);
        return refuse(*entry, file, r.reason);
    }
    if (auto why = find_duplicate(*o)) {
        shutdown_quietly(d);
        return refuse(*entry, file, *why);
    }

    // 5. commit
    logger()->info("loaded plugin {} {} (abi {}) from {}", o->info.id, o->info.version, abi_string(o->info.abi_version),
                   file);
    commit(std::move(entry), std::move(*o));
    return true;
}

bool registry::refuse(plugin_entry& entry, const std::string& file, const std::string& reason) {
    pin_library(std::move(entry.library));
    skip(file, reason);
    return false;
}

std::optional<std::string> registry::init_plugin(plugin_entry& entry) {
    const vigy_plugin_descriptor& d = entry.desc;
    if (!d.init) return std::nullopt;
    vigy::sdk::error_buffer eb;  // captures the plugin's message
    vigy_status s;
    try {
        s = d.init(&entry.api, eb.get());
    } catch (const std::exception& e) {
        return std::string("init threw an exception: ") + e.what();
    } catch (...) {
        return std::string("init threw an exception");
    }
    if (s == VIGY_OK) return std::nullopt;
    return "init failed (" + std::string(vigy_status_name(s)) + ")" +
           (eb.message().empty() ? std::string() : ": " + eb.message());
}

registry::offer registry::collect_capabilities(plugin_entry& entry, loaded_plugin info) const {
    const vigy_plugin_descriptor& d = entry.desc;
    offer o;
    o.info = std::move(info);
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
    auto listed_twice = [](const std::vector<std::string>& seen, const std::string& name) {
        return std::find(seen.begin(), seen.end(), name) != seen.end();
    };

    if (const void* p = get_ext(VIGY_RECONCILER_FACTORY_ID)) {
        auto* raw = static_cast<const vigy_reconciler_factory*>(p);
        entry.factory = read_struct<vigy_reconciler_factory>(raw, raw->struct_size, VIGY_RECONCILER_FACTORY_SIZE_1_0,
                                                             "reconciler factory");
        const vigy_reconciler_factory& f = entry.factory;
        if (!f.create || !f.tick || !f.destroy) throw reject{"reconciler factory lacks create, tick or destroy"};
        if (f.kind_count && !f.kinds) throw reject{"reconciler factory has kind_count but no kinds"};
        entry.has_factory = true;
        const uint32_t stride = f.kind_count ? f.kinds[0].struct_size : 0;
        for (uint32_t i = 0; i < f.kind_count; ++i) {
            auto k = read_struct<vigy_reconciler_kind>(element(f.kinds, stride, i), stride,
                                                       VIGY_RECONCILER_KIND_SIZE_1_0, "reconciler kind");
            if (!k.kind || !*k.kind) throw reject{"reconciler kind " + std::to_string(i + 1) + " has no name"};
            std::string name = k.kind;
            if (listed_twice(o.kinds, name)) throw reject{"reconciler kind \"" + name + "\" listed twice"};
            o.kinds.push_back(name);
            o.info.kinds.push_back({name, str_or_empty(k.doc)});
        }
    }

    if (const void* p = get_ext(VIGY_HOST_EXTENSION_ID)) {
        auto* raw = static_cast<const vigy_host_extension_list*>(p);
        // the SDK's size macros measure pointer fields: sizeof(T*) is meant
        constexpr uint32_t list_size_1_0 = VIGY_HOST_EXTENSION_LIST_SIZE_1_0;  // NOLINT(bugprone-sizeof-expression)
        constexpr uint32_t ext_size_1_0 = VIGY_HOST_EXTENSION_SIZE_1_0;        // NOLINT(bugprone-sizeof-expression)
        auto list = read_struct<vigy_host_extension_list>(raw, raw->struct_size, list_size_1_0, "host extension list");
        if (list.count && !list.extensions) throw reject{"host extension list has a count but no extensions"};
        const uint32_t estride = list.count ? list.extensions[0].struct_size : 0;
        for (size_t i = 0; i < list.count; ++i) {
            auto x = read_struct<vigy_host_extension>(element(list.extensions, estride, i), estride, ext_size_1_0,
                                                      "host extension");
            if (!x.name || !*x.name) throw reject{"host extension " + std::to_string(i + 1) + " has no name"};
            std::string pack = x.name;
            if (listed_twice(o.packs, pack)) throw reject{"extension pack \"" + pack + "\" listed twice"};
            o.packs.push_back(pack);
            extension_info xi{pack, str_or_empty(x.doc), {}};
            if (x.intrinsic_count && !x.intrinsics)
                throw reject{"extension pack \"" + pack + "\" has an intrinsic_count but no intrinsics"};
            const uint32_t istride = x.intrinsic_count ? x.intrinsics[0].struct_size : 0;
            for (size_t j = 0; j < x.intrinsic_count; ++j) {
                const vigy_intrinsic* ip = element(x.intrinsics, istride, j);
                auto in = read_struct<vigy_intrinsic>(ip, istride, VIGY_INTRINSIC_SIZE_1_0, "intrinsic");
                if (!in.name || !*in.name)
                    throw reject{"intrinsic " + std::to_string(j + 1) + " of pack \"" + pack + "\" has no name"};
                std::string iname = in.name;
                if (!in.fn) throw reject{"intrinsic \"" + iname + "\" has no function"};
                if (in.min_arity < 0 || (in.max_arity != VIGY_ARITY_VARIADIC && in.max_arity < in.min_arity))
                    throw reject{"intrinsic \"" + iname + "\" has an invalid arity " + std::to_string(in.min_arity) +
                                 ".." + std::to_string(in.max_arity)};
                if (listed_twice(o.intrinsic_names, iname)) throw reject{"intrinsic \"" + iname + "\" listed twice"};
                o.intrinsic_names.push_back(iname);
                o.intrinsics.push_back(ip);
                o.intrinsic_copies.push_back(in);
                xi.intrinsics.push_back({iname, str_or_empty(in.doc), in.min_arity, in.max_arity});
            }
            o.info.extensions.push_back(std::move(xi));
        }
    }
    return o;
}

std::optional<std::string> registry::find_duplicate(const offer& o) const {
    using index = std::map<std::string, size_t, std::less<>>;
    auto taken = [&](const index& by_name, const std::vector<std::string>& names,
                     const char* what) -> std::optional<std::string> {
        for (const std::string& name : names) {
            auto it = by_name.find(name);
            if (it == by_name.end()) continue;
            const loaded_plugin& owner = infos_[it->second];
            return std::string("duplicate ") + what + " \"" + name + "\" (already provided by " + owner.id + " from " +
                   owner.file + ")";
        }
        return std::nullopt;
    };
    if (auto why = taken(kinds_, o.kinds, "reconciler kind")) return why;
    if (auto why = taken(packs_, o.packs, "extension pack")) return why;
    return taken(intrinsics_, o.intrinsic_names, "intrinsic");
}

void registry::commit(std::unique_ptr<plugin_entry> entry, offer o) {
    const size_t index = entries_.size();
    const bool always_granted = is_default_capability(o.info.id);
    for (size_t i = 0; i < o.intrinsics.size(); ++i) {
        const vigy_intrinsic* plugin_struct = o.intrinsics[i];
        if (always_granted) {
            entry->installed.push_back(plugin_struct);
            continue;
        }
        auto g = std::make_unique<guarded_intrinsic>();
        const vigy_intrinsic& in = o.intrinsic_copies[i];
        g->fn = in.fn;
        g->data = in.data;
        g->owner = this;
        g->capability = index;
        g->name = o.intrinsic_names[i];
        g->capability_id = o.info.id;
        g->installed = in;
        g->installed.struct_size = sizeof(vigy_intrinsic);
        g->installed.fn = &registry::guarded_call;
        g->installed.data = g.get();
        entry->installed.push_back(&g->installed);
        guarded_.push_back(std::move(g));
    }
    for (const auto& k : o.kinds) kinds_.emplace(k, index);
    for (const auto& p : o.packs) packs_.emplace(p, index);
    for (const auto& n : o.intrinsic_names) intrinsics_.emplace(n, index);
    entries_.push_back(std::move(entry));
    infos_.push_back(std::move(o.info));
}

}  // namespace vigy::host
