// vigy::host::reconciler: create/tick/destroy of a plugin's reconciler
// instance, with the config given to the plugin both as JSON and parsed.
#include "vigy/host/reconciler.hpp"

#include "vigy/host/value.hpp"

#include "vigy/sdk.hpp"

#include <algorithm>
#include <cstring>
#include <exception>

namespace vigy::host {

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += ", ";
        out += s;
    }
    return out.empty() ? "none" : out;
}

}  // namespace

reconciler::reconciler(const registry& reg, std::string_view kind, std::string_view config_json,
                       const vigy_limits* limits, std::string_view name) {
    create(reg, kind, config_json, nullptr, limits, name);
}

reconciler reconciler::from_value(const registry& reg, std::string_view kind, const vigy_value* config,
                                  const vigy_limits* limits, std::string_view name) {
    reconciler r;
    r.create(reg, kind, {}, config ? config : nullptr, limits, name);
    return r;
}

void reconciler::create(const registry& reg, std::string_view kind, std::string_view config_json,
                        const vigy_value* config, const vigy_limits* limits, std::string_view name) {
    const vigy_reconciler_factory* f = reg.find_factory(kind);
    if (!f)
        throw status_error(VIGY_INVALID_ARGUMENT,
                           "unknown reconciler kind \"" + std::string(kind) + "\" (known: " + join(reg.kinds()) + ")");

    // The plugin gets the config twice: as JSON text and as a parsed value.
    std::string json;
    value parsed;
    if (config) {
        parsed = value::from_vigy(*config);
        if (!parsed.is_nil()) json = parsed.to_json();
    } else if (!config_json.empty()) {
        json.assign(config_json);
        try {
            parsed = value::from_json(json);
        } catch (const json_error& e) {
            throw status_error(VIGY_INVALID_ARGUMENT, std::string("config: ") + e.what());
        }
    }
    arena a;
    vigy_value cfg = parsed.to_vigy(a.c());

    vigy_limits lim{};
    if (limits)
        std::memcpy(&lim, limits, std::min<size_t>(sizeof lim, limits->struct_size ? limits->struct_size : sizeof lim));
    lim.struct_size = sizeof lim;

    vigy_reconciler_spec spec{};
    spec.struct_size = sizeof spec;
    spec.kind = vigy_str{kind.data(), kind.size()};
    spec.config_json = vigy_str{json.data(), json.size()};
    spec.config = &cfg;
    spec.limits = &lim;
    spec.name = vigy_str{name.data(), name.size()};

    vigy::sdk::error_buffer ec;  // captures the plugin's message
    vigy_reconciler* inst = nullptr;
    vigy_status s;
    try {
        s = f->create(&spec, &inst, ec.get());
    } catch (const std::exception& e) {
        throw status_error(VIGY_INTERNAL, std::string(kind) + ": create threw an exception: " + e.what());
    } catch (...) {
        throw status_error(VIGY_INTERNAL, std::string(kind) + ": create threw an exception");
    }
    if (s != VIGY_OK) {
        if (inst) f->destroy(inst);
        throw status_error(s, ec.message().empty() ? std::string(kind) + ": create failed (" + vigy_status_name(s) + ")"
                                                   : ec.message());
    }
    if (!inst) throw status_error(VIGY_INTERNAL, std::string(kind) + ": create returned ok but no instance");
    factory_ = f;
    instance_ = inst;
    kind_.assign(kind);
}

reconciler::reconciler(reconciler&& other) noexcept
    : factory_(other.factory_), instance_(other.instance_), kind_(std::move(other.kind_)) {
    other.factory_ = nullptr;
    other.instance_ = nullptr;
}

reconciler& reconciler::operator=(reconciler&& other) noexcept {
    if (this != &other) {
        if (instance_) factory_->destroy(instance_);
        factory_ = other.factory_;
        instance_ = other.instance_;
        kind_ = std::move(other.kind_);
        other.factory_ = nullptr;
        other.instance_ = nullptr;
    }
    return *this;
}

reconciler::~reconciler() {
    if (instance_) factory_->destroy(instance_);
}

tick_result reconciler::tick(vigy_tick* tick) noexcept {
    tick_result r;
    if (!instance_) {
        r.status = VIGY_FAILED_PRECONDITION;
        r.message = "tick on a moved-from reconciler";
        return r;
    }
    try {
        vigy::sdk::error_buffer ec;  // captures the plugin's message
        try {
            r.status = factory_->tick(instance_, tick, ec.get());
        } catch (const std::exception& e) {
            r.status = VIGY_INTERNAL;
            vigy::sdk::set_error(ec.get(), kind_ + ": tick threw an exception: " + e.what());
        } catch (...) {
            r.status = VIGY_INTERNAL;
            vigy::sdk::set_error(ec.get(), kind_ + ": tick threw an exception");
        }
        if (r.status != VIGY_OK) r.message = ec.message().empty() ? vigy_status_name(r.status) : ec.message();
    } catch (...) {  // bad_alloc while copying a message
        r.status = VIGY_RESOURCE_EXHAUSTED;
        r.message = "out of memory";  // fits the small-string buffer: no allocation
    }
    return r;
}

}  // namespace vigy::host
