/// vigy/host/capabilities.hpp — what a vigy's program may call: capability ids
/// and the grant set of a vigy.
///
/// A capability id is the id of the plugin that provides a pack of intrinsics
/// (vigy_plugin_descriptor.id): "vigy.kv", "io.pleme.mado". A program may call
/// an intrinsic only when its vigy is granted the intrinsic's capability.
///
/// The default set: every vigy is granted the six standard extension plugins
/// (default_capabilities below: vigy.actions, vigy.state, vigy.kv,
/// vigy.convergence, vigy.scheduling, vigy.diagnostics). They only touch the
/// vigy's own tick and kv, so they are safe for any program. Nothing can take
/// them away; a grant set only ever adds to them.
///
/// Extending it: any other plugin — an application's own intrinsics such as
/// io.pleme.mado, which runs tmux commands — is granted per vigy, in its spec
/// (`vigy register --allow io.pleme.mado`, repeatable; `vigy eval --allow`):
/// build `capability_set({"io.pleme.mado"})` from that list and point the
/// vigy's tick contexts at it (tick_context::set_grants). Adding a seventh
/// standard extension means adding its plugin id to default_capabilities (and
/// the list in sdk/include/vigy/extension.h); nothing else changes.
///
/// Enforcement (registry.hpp, install_intrinsics): the intrinsics of a
/// capability outside the defaults reach a language runtime through a host
/// trampoline that checks the calling tick's grants before the plugin's
/// function runs; a tick without the grant (or with no grant set at all, which
/// means "the defaults only") fails the call with VIGY_PERMISSION_DENIED and
/// not_granted_message(), e.g.
///   mado-tear-create: capability io.pleme.mado is not granted to this vigy (grant it with --allow io.pleme.mado)
/// Intrinsics of the default capabilities are installed as the plugins
/// provide them: every vigy holds those grants, so no check could fail.
///
/// Threading: a capability_set is an immutable value once built; any number
/// of threads may read one concurrently.
#ifndef VIGY_HOST_CAPABILITIES_HPP
#define VIGY_HOST_CAPABILITIES_HPP

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::host {

/// The capabilities every vigy holds: the six standard extension plugins.
inline constexpr std::array<std::string_view, 6> default_capabilities = {
    "vigy.actions", "vigy.state", "vigy.kv", "vigy.convergence", "vigy.scheduling", "vigy.diagnostics"};

/// True when `id` is one of default_capabilities.
bool is_default_capability(std::string_view id) noexcept;

/// Why `id` cannot be a capability id, or nullopt when it can. A capability id
/// is a plugin id: 1..253 bytes of [A-Za-z0-9._-], not starting or ending with
/// '.' or '-', e.g. "io.pleme.mado". The reason names the id:
/// "invalid capability id \"a b\": only letters, digits, '.', '_' and '-' are allowed".
std::optional<std::string> invalid_capability_id(std::string_view id);

/// The PERMISSION_DENIED message of a call to `intrinsic` without `capability`:
/// "<intrinsic>: capability <capability> is not granted to this vigy (grant it with --allow <capability>)".
std::string not_granted_message(std::string_view intrinsic, std::string_view capability);

/// The capabilities granted to one vigy: the defaults plus its extra grants.
class capability_set {
public:
    /// The defaults only.
    capability_set() = default;
    /// The defaults plus `extra` (in any order; duplicates and default ids are
    /// folded away). Throws status_error INVALID_ARGUMENT naming the first
    /// invalid id (see invalid_capability_id).
    explicit capability_set(std::vector<std::string> extra);

    /// True when `id` is a default capability or one of the extra grants.
    bool allows(std::string_view id) const noexcept;
    /// The extra grants, sorted and unique (never a default id).
    const std::vector<std::string>& extra() const noexcept { return extra_; }

    friend bool operator==(const capability_set& a, const capability_set& b) noexcept { return a.extra_ == b.extra_; }
    friend bool operator!=(const capability_set& a, const capability_set& b) noexcept { return !(a == b); }

private:
    std::vector<std::string> extra_;
};

}  // namespace vigy::host

#endif  // VIGY_HOST_CAPABILITIES_HPP
