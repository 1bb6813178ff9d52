// The `chain` reconciler kind: child reconcilers of any kind (created through
// the host API, so chains nest), ticked in order on the same tick, stopping at
// the first error, whose message names the child.
#include "native.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace vigy::native {
namespace {

constexpr size_t host_api_child_slots_end = offsetof(vigy_host_api, child_destroy) + sizeof(void*);

class chain final : public instance {
public:
    explicit chain(const vigy_host_api* host) noexcept : host_(host) {}
    chain(const chain&) = delete;
    chain& operator=(const chain&) = delete;
    ~chain() override {
        for (auto it = children_.rbegin(); it != children_.rend(); ++it)
            host_->child_destroy(host_->host_data, it->handle);
    }

    /// Room for `n` children, so taking ownership of a created child cannot fail.
    void reserve(size_t n) { children_.reserve(n); }

    /// Creates child `index` (0-based) and takes ownership of it.
    void add(size_t index, std::string kind, const vigy_value* config, const vigy_reconciler_spec& parent) {
        vigy_reconciler_spec spec{};
        spec.struct_size = sizeof spec;
        spec.kind = sdk::str(kind);
        spec.config_json = sdk::str({});  // empty: the host serialises `config`
        spec.config = config;
        spec.limits = parent.limits;
        spec.name = parent.name;
        sdk::error_buffer eb;
        vigy_child* handle = nullptr;
        vigy_status s = host_->child_create(host_->host_data, &spec, &handle, eb.get());
        if (s != VIGY_OK) sdk::fail(s, label(index, kind) + ": " + message(s, eb));
        children_.push_back({std::move(kind), handle});
    }

    void tick(sdk::tick_ref tick) override {
        for (size_t i = 0; i < children_.size(); ++i) {
            sdk::error_buffer eb;
            vigy_status s = host_->child_tick(host_->host_data, children_[i].handle, tick.get(), eb.get());
            if (s != VIGY_OK) sdk::fail(s, label(i, children_[i].kind) + ": " + message(s, eb));
        }
    }

private:
    struct child {
        std::string kind;
        vigy_child* handle;
    };

    static std::string label(size_t index, const std::string& kind) {
        return "chain child " + std::to_string(index + 1) + " (" + kind + ")";
    }
    static std::string message(vigy_status s, const sdk::error_buffer& eb) {
        return eb.message().empty() ? std::string(vigy_status_name(s)) : eb.message();
    }

    const vigy_host_api* host_;
    std::vector<child> children_;
};

}  // namespace

std::unique_ptr<instance> make_chain(const vigy_reconciler_spec& spec) {
    const vigy_host_api* host = sdk::host_api();
    if (!host || host->struct_size < host_api_child_slots_end || !host->child_create || !host->child_tick ||
        !host->child_destroy)
        sdk::fail(VIGY_FAILED_PRECONDITION, "chain: this host cannot create child reconcilers");

    const vigy_value& config = *spec.config;
    if (config.type != VIGY_MAP)
        sdk::fail(VIGY_INVALID_ARGUMENT, std::string("chain: config must be a map like {\"children\": [...]}, got ") +
                                             vigy_type_name(config.type));
    const vigy_value* children = sdk::map_get(config, "children");
    if (!children) sdk::fail(VIGY_INVALID_ARGUMENT, "chain: config has no \"children\" list");
    if (children->type != VIGY_LIST)
        sdk::fail(VIGY_INVALID_ARGUMENT,
                  std::string("chain: \"children\" must be a list, got ") + vigy_type_name(children->type));

    auto out = std::make_unique<chain>(host);  // destroys the children made so far if a later one fails
    out->reserve(children->as.list.len);
    for (size_t i = 0; i < children->as.list.len; ++i) {
        const vigy_value& item = children->as.list.items[i];
        const std::string where = "chain child " + std::to_string(i + 1);
        if (item.type != VIGY_MAP)
            sdk::fail(VIGY_INVALID_ARGUMENT, where + ": must be a map like {\"kind\": \"noop\", \"config\": {}}, got " +
                                                 vigy_type_name(item.type));
        const vigy_value* kind = sdk::map_get(item, "kind");
        if (!kind) sdk::fail(VIGY_INVALID_ARGUMENT, where + ": missing \"kind\"");
        if (!sdk::is_stringish(*kind))
            sdk::fail(VIGY_INVALID_ARGUMENT, where + ": \"kind\" must be a string, got " + vigy_type_name(kind->type));
        out->add(i, std::string(sdk::view(kind->as.str)), sdk::map_get(item, "config"), spec);
    }
    return out;
}

}  // namespace vigy::native
