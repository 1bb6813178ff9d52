// Internal to the vigy.native plugin: the reconciler kinds it provides, as
// C++ classes behind one factory (native.cpp).
#ifndef VIGY_NATIVE_NATIVE_HPP
#define VIGY_NATIVE_NATIVE_HPP

#include "vigy/sdk.hpp"

#include <memory>

namespace vigy::native {

/// A reconciler instance of any native kind. tick() throws sdk::status_error
/// on failure (the factory's fence turns it into a status + message).
class instance {
public:
    virtual ~instance() = default;
    virtual void tick(sdk::tick_ref tick) = 0;
};

/// `noop`: a tick that does nothing. Any config is accepted and ignored.
std::unique_ptr<instance> make_noop(const vigy_reconciler_spec& spec);

/// `chain`: children created through the host API from
/// {"children": [{"kind": K, "config": C}, ...]}, ticked in order on the same
/// tick, stopping at the first error. Throws status_error on a bad config or a
/// child that cannot be created.
std::unique_ptr<instance> make_chain(const vigy_reconciler_spec& spec);

}  // namespace vigy::native

#endif  // VIGY_NATIVE_NATIVE_HPP
